"""npm's version ordering and ranges: SemVer 2.0 precedence and node-semver range syntax.

Precedence (semver.org, section 11): major, minor and patch compare numerically; a
pre-release sorts before its release; pre-release identifiers compare one by one, numeric
ones numerically and below alphanumeric ones, which compare in ASCII order; a shorter list
sorts first when all of its identifiers are equal. Build metadata never counts.

Ranges follow npm: `||` joins comparator sets, a set holds comparators that must all hold
(`>=1.2.3 <2`), and the sugar desugars to plain comparators: `1.2.3 - 2.3` (hyphen),
`1.x`/`1.2.*`/`*` (X-ranges), `~1.2.3` (tilde), `^0.2.3` (caret). A version with a
pre-release tag satisfies a set only when some comparator of that set names the same
`major.minor.patch` with a pre-release of its own, so `^1.2.3` never admits `1.5.0-beta`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

__all__ = [
    "Comparator",
    "InvalidRange",
    "InvalidVersion",
    "Range",
    "SemVer",
    "parse",
    "parse_loose",
    "parse_range",
]


class InvalidVersion(ValueError):
    """Not a SemVer 2.0 version."""


class InvalidRange(ValueError):
    """Not an npm version range."""


_NUMERIC = r"0|[1-9]\d*"
_PRE_ID = r"(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)"
_STRICT = re.compile(
    rf"(?P<major>{_NUMERIC})\.(?P<minor>{_NUMERIC})\.(?P<patch>{_NUMERIC})"
    rf"(?:-(?P<pre>{_PRE_ID}(?:\.{_PRE_ID})*))?"
    r"(?:\+(?P<build>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
)
# A partial version inside a range: `1`, `1.2`, `1.x`, `1.2.*`, `x`, with optional tags.
_PARTIAL = re.compile(
    r"v?(?P<major>\d+|[xX*])(?:\.(?P<minor>\d+|[xX*])(?:\.(?P<patch>\d+|[xX*])"
    rf"(?:-?(?P<pre>{_PRE_ID}(?:\.{_PRE_ID})*))?"
    r"(?:\+(?P<build>[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?)?)?"
)
_COMPARATOR = re.compile(r"(?P<op><=|>=|<|>|=|~>|~|\^)?\s*(?P<version>\S+)")
_HYPHEN = re.compile(r"^\s*(\S+)\s+-\s+(\S+)\s*$")
_OP_SPACE = re.compile(r"(<=|>=|<|>|=|~>|~|\^)\s+")

PreId = tuple[int, int | str]


@dataclass(frozen=True, slots=True, eq=False)
class SemVer:
    """One SemVer 2.0 version. Equality and order ignore build metadata."""

    major: int
    minor: int
    patch: int
    prerelease: tuple[int | str, ...] = ()
    build: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[int, int, int, int, tuple[PreId, ...]]:
        """Sort key: a release sorts after every pre-release of the same triple."""
        pre = tuple((0, p) if isinstance(p, int) else (1, p) for p in self.prerelease)
        return (self.major, self.minor, self.patch, 0 if self.prerelease else 1, pre)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SemVer) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __lt__(self, other: SemVer) -> bool:
        return self.key < other.key

    def __le__(self, other: SemVer) -> bool:
        return self.key <= other.key

    def __gt__(self, other: SemVer) -> bool:
        return self.key > other.key

    def __ge__(self, other: SemVer) -> bool:
        return self.key >= other.key

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += "-" + ".".join(str(p) for p in self.prerelease)
        if self.build:
            text += "+" + ".".join(self.build)
        return text

    @property
    def triple(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)


def _pre(text: str | None) -> tuple[int | str, ...]:
    if not text:
        return ()
    return tuple(int(p) if p.isdigit() else p for p in text.split("."))


@functools.lru_cache(maxsize=65536)
def parse(text: str) -> SemVer:
    """A strict SemVer 2.0 version (no `v` prefix, no spaces), as OSV `SEMVER` ranges use."""
    match = _STRICT.fullmatch(text)
    if match is None:
        raise InvalidVersion(f"not a semantic version: {text!r}")
    build = match.group("build")
    return SemVer(
        int(match.group("major")),
        int(match.group("minor")),
        int(match.group("patch")),
        _pre(match.group("pre")),
        tuple(build.split(".")) if build else (),
    )


def parse_loose(text: str) -> SemVer:
    """A version as npm writes it in manifests: `v1.2.3` and `=1.2.3` are `1.2.3`."""
    return parse(text.strip().lstrip("=v").strip())


@dataclass(frozen=True, slots=True)
class Comparator:
    op: str
    """One of `<`, `<=`, `>`, `>=`, `=`."""
    version: SemVer

    def test(self, version: SemVer) -> bool:
        key, mine = version.key, self.version.key
        if self.op == "<":
            return key < mine
        if self.op == "<=":
            return key <= mine
        if self.op == ">":
            return key > mine
        if self.op == ">=":
            return key >= mine
        return key == mine

    def __str__(self) -> str:
        return f"{'' if self.op == '=' else self.op}{self.version}"


ComparatorSet = tuple[Comparator, ...]
"""Comparators that must all hold; the empty set admits every version."""


@dataclass(frozen=True, slots=True)
class Range:
    """An npm range: the union of its comparator sets."""

    text: str
    sets: tuple[ComparatorSet, ...]

    def satisfied_by(self, version: SemVer, *, include_prerelease: bool = False) -> bool:
        return any(_test_set(s, version, include_prerelease) for s in self.sets)

    def bounds(
        self,
    ) -> tuple[tuple[tuple[SemVer, bool] | None, tuple[SemVer, bool] | None], ...]:
        """Each comparator set as one interval: `((lower, inclusive) | None, upper ...)`.

        An interval is empty when its lower bound passes its upper bound; callers check.
        Pre-release exclusion is ignored, so an interval may admit a little more than npm.
        """
        result = []
        for comparators in self.sets:
            lower: tuple[SemVer, bool] | None = None
            upper: tuple[SemVer, bool] | None = None
            for c in comparators:
                if c.op in (">", ">=", "="):
                    candidate = (c.version, c.op != ">")
                    if lower is None or _tighter_lower(candidate, lower):
                        lower = candidate
                if c.op in ("<", "<=", "="):
                    candidate = (c.version, c.op != "<")
                    if upper is None or _tighter_upper(candidate, upper):
                        upper = candidate
            result.append((lower, upper))
        return tuple(result)

    def __str__(self) -> str:
        return " || ".join(" ".join(str(c) for c in s) or "*" for s in self.sets)


def _tighter_lower(a: tuple[SemVer, bool], b: tuple[SemVer, bool]) -> bool:
    return a[0] > b[0] or (a[0] == b[0] and not a[1] and b[1])


def _tighter_upper(a: tuple[SemVer, bool], b: tuple[SemVer, bool]) -> bool:
    return a[0] < b[0] or (a[0] == b[0] and not a[1] and b[1])


def _test_set(comparators: ComparatorSet, version: SemVer, include_prerelease: bool) -> bool:
    if not all(c.test(version) for c in comparators):
        return False
    if not version.prerelease or include_prerelease:
        return True
    return any(c.version.prerelease and c.version.triple == version.triple for c in comparators)


@functools.lru_cache(maxsize=16384)
def parse_range(text: str) -> Range:
    """Parse an npm range; raises `InvalidRange` for tags (`latest`), URLs and garbage."""
    return Range(text, tuple(_parse_set(part.strip(), text) for part in text.split("||")))


def _parse_set(text: str, whole: str) -> ComparatorSet:
    if text in ("", "*", "x", "X"):
        return ()
    hyphen = _HYPHEN.match(text)
    if hyphen:
        low = _partial(hyphen.group(1), whole)
        high = _partial(hyphen.group(2), whole)
        return (*_from_partial(">=", low), *_from_partial("<=", high))
    comparators: list[Comparator] = []
    for token in _OP_SPACE.sub(r"\1", text).split():
        match = _COMPARATOR.fullmatch(token)
        if match is None:
            raise InvalidRange(f"not an npm version range: {whole!r}")
        op = match.group("op") or "="
        partial = _partial(match.group("version"), whole)
        if op in ("~", "~>"):
            comparators.extend(_tilde(partial))
        elif op == "^":
            comparators.extend(_caret(partial))
        else:
            comparators.extend(_from_partial(op, partial))
    return tuple(comparators)


@dataclass(frozen=True, slots=True)
class _Partial:
    major: int | None
    minor: int | None
    patch: int | None
    prerelease: tuple[int | str, ...]

    def version(self) -> SemVer:
        return SemVer(self.major or 0, self.minor or 0, self.patch or 0, self.prerelease)


def _partial(text: str, whole: str) -> _Partial:
    match = _PARTIAL.fullmatch(text.lstrip("="))
    if match is None:
        raise InvalidRange(f"not an npm version range: {whole!r}")

    def number(name: str) -> int | None:
        value = match.group(name)
        return None if value is None or value in "xX*" else int(value)

    major, minor, patch = number("major"), number("minor"), number("patch")
    if major is None:
        minor = patch = None
    elif minor is None:
        patch = None
    return _Partial(major, minor, patch, _pre(match.group("pre")) if patch is not None else ())


def _lowest(major: int, minor: int = 0, patch: int = 0) -> SemVer:
    """The first pre-release of a triple: `<2.0.0-0` excludes every 2.0.0 pre-release."""
    return SemVer(major, minor, patch, (0,))


def _from_partial(op: str, p: _Partial) -> tuple[Comparator, ...]:
    if p.major is None:
        # `*`, `>=*`: anything; `<*`, `>*`: nothing.
        return () if op in (">=", "<=", "=") else (Comparator("<", _lowest(0)),)
    if p.minor is None:
        start, after = SemVer(p.major, 0, 0), _lowest(p.major + 1)
    elif p.patch is None:
        start, after = SemVer(p.major, p.minor, 0), _lowest(p.major, p.minor + 1)
    else:
        return (Comparator(op, p.version()),)
    if op == "=":
        return (Comparator(">=", start), Comparator("<", after))
    if op == ">":
        return (Comparator(">=", SemVer(*after.triple)),)
    if op == "<=":
        return (Comparator("<", after),)
    if op == "<":
        return (Comparator("<", _lowest(*start.triple)),)
    return (Comparator(">=", start),)


def _tilde(p: _Partial) -> tuple[Comparator, ...]:
    if p.major is None:
        return ()
    if p.minor is None:
        return (Comparator(">=", SemVer(p.major, 0, 0)), Comparator("<", _lowest(p.major + 1)))
    return (Comparator(">=", p.version()), Comparator("<", _lowest(p.major, p.minor + 1)))


def _caret(p: _Partial) -> tuple[Comparator, ...]:
    if p.major is None:
        return ()
    low = Comparator(">=", p.version())
    if p.major > 0 or p.minor is None:
        return (low, Comparator("<", _lowest(p.major + 1)))
    if p.minor > 0 or p.patch is None:
        return (low, Comparator("<", _lowest(0, p.minor + 1)))
    return (low, Comparator("<", _lowest(0, 0, p.patch + 1)))
