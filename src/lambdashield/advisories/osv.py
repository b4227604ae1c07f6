"""OSV advisories: reading them strictly, and deciding which package versions they affect.

Matching follows the OSV schema's evaluation rules exactly. A version is affected when the
`versions` list names it or when it lies in one of the `ECOSYSTEM`/`SEMVER` ranges: events
are sorted by version (`introduced: "0"` first), `introduced` opens the range, `fixed`
closes it before the fix, `last_affected` closes it after the last affected version, and a
range with `limit` events only counts below the highest of them (`"*"` means no limit).
`ECOSYSTEM` orders PyPI versions by PEP 440 and npm versions by SemVer; `SEMVER` always by
SemVer. `GIT` ranges need a repository and are not evaluated. Withdrawn advisories are
never matched.

What cannot be decided is said so rather than passed as safe: a version the ecosystem
cannot order (`0.3m1` on PyPI) or a range bound that cannot be read makes the advisory
"could not be checked" for that version, unless its `versions` list settles it. A
specifier that is not a single version (`>=1.0`, `^4.17.1`) is checked against the range
of versions it admits.

Advisories that name one another (`aliases`, transitively) describe one vulnerability and
are grouped into one `Vulnerability`.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_version
from packaging.version import InvalidVersion, Version

from lambdashield.advisories import semver

__all__ = [
    "SUPPORTED_ECOSYSTEMS",
    "Advisory",
    "Affected",
    "OsvError",
    "Range",
    "Verdict",
    "Vulnerability",
    "canonical_version",
    "cvss_score",
    "evaluate",
    "normalize_name",
    "parse_advisory",
    "rating",
]

SUPPORTED_ECOSYSTEMS = ("PyPI", "npm")


class OsvError(ValueError):
    """An OSV document that breaks the schema; the message names the offending field."""


_PEP503 = re.compile(r"[-_.]+")


def normalize_name(ecosystem: str, name: str) -> str:
    """The key a package is matched by: PEP 503 for PyPI, the name itself for npm."""
    if ecosystem == "PyPI":
        return _PEP503.sub("-", name).lower()
    return name


_SIMPLE_RELEASE = re.compile(r"(?:0|[1-9]\d*)(?:\.(?:0|[1-9]\d*))*")


@functools.lru_cache(maxsize=65536)
def canonical_version(ecosystem: str, version: str) -> str:
    """A form in which equal versions are equal strings (`2.20.0` and `2.20` on PyPI)."""
    if ecosystem != "PyPI":
        return version.split("+", 1)[0] if ecosystem == "npm" else version
    if _SIMPLE_RELEASE.fullmatch(version):
        while version.endswith(".0"):
            version = version[:-2]
        return version
    return canonicalize_version(version)


# --- Reading ----------------------------------------------------------------------------

_TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:?\d{2})?"
)
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+-]*")
_RANGE_TYPES = frozenset({"GIT", "SEMVER", "ECOSYSTEM"})
_EVENT_KINDS = ("introduced", "fixed", "last_affected", "limit")
_SEVERITY_TYPES = frozenset({"CVSS_V2", "CVSS_V3", "CVSS_V4", "Ubuntu"})
_REFERENCE_TYPES = frozenset(
    {"ADVISORY", "ARTICLE", "DETECTION", "DISCUSSION", "REPORT", "FIX", "INTRODUCED", "GIT"}
    | {"PACKAGE", "EVIDENCE", "WEB"}
)


@dataclass(frozen=True, slots=True)
class Range:
    type: str
    """`ECOSYSTEM` or `SEMVER` (GIT ranges are dropped when read)."""
    events: tuple[tuple[str, str], ...]
    """`(kind, version)` in the order written: kind is introduced/fixed/last_affected/limit."""


@dataclass(frozen=True, slots=True)
class Affected:
    ecosystem: str
    name: str
    """Normalised with `normalize_name`."""
    ranges: tuple[Range, ...]
    versions: frozenset[str]
    """The `versions` list in `canonical_version` form."""
    severity: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Advisory:
    id: str
    aliases: tuple[str, ...]
    summary: str
    modified: str
    affected: tuple[Affected, ...]
    """Entries for the supported ecosystems only."""
    severity: tuple[tuple[str, str], ...] = ()
    """`(type, score)`, e.g. `("CVSS_V3", "CVSS:3.1/AV:N/...")`."""
    database_severity: str | None = None
    """`database_specific.severity` (GHSA's LOW/MODERATE/HIGH/CRITICAL), when present."""
    published: str | None = None
    withdrawn: bool = False

    @property
    def malicious(self) -> bool:
        return self.id.startswith("MAL-") or any(a.startswith("MAL-") for a in self.aliases)

    def to_record(self) -> dict[str, Any]:
        """The compact JSON form the store keeps; `from_record` reads it back.

        `versions` keeps only the listed versions that the entry's ranges do not already
        cover: a version is affected when listed *or* in a range, so the answer is the same
        and the store holds (and a scan decodes) a fraction of the lists.
        """
        record: dict[str, Any] = {
            "id": self.id,
            "aliases": list(self.aliases),
            "summary": self.summary,
            "modified": self.modified,
            "affected": [
                {
                    "ecosystem": a.ecosystem,
                    "name": a.name,
                    "ranges": [[r.type, [list(e) for e in r.events]] for r in a.ranges],
                    "versions": _uncovered(a),
                    **({"severity": [list(s) for s in a.severity]} if a.severity else {}),
                }
                for a in self.affected
            ],
        }
        if self.severity:
            record["severity"] = [list(s) for s in self.severity]
        if self.database_severity:
            record["database_severity"] = self.database_severity
        if self.published:
            record["published"] = self.published
        return record

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Advisory:
        """Trusted input (what `to_record` wrote): no checks, built with C-level calls."""
        return cls(
            id=record["id"],
            aliases=tuple(record["aliases"]),
            summary=record["summary"],
            modified=record["modified"],
            affected=tuple(
                Affected(
                    a["ecosystem"],
                    a["name"],
                    tuple(Range(kind, _pairs(events)) for kind, events in a["ranges"]),
                    frozenset(a["versions"]),
                    _pairs(a.get("severity", ())),
                )
                for a in record["affected"]
            ),
            severity=_pairs(record.get("severity", ())),
            database_severity=record.get("database_severity"),
            published=record.get("published"),
        )


def _uncovered(entry: Affected) -> list[str]:
    prepared = []
    for rng in entry.ranges:
        key_of = _ordering(entry.ecosystem, rng.type)
        try:
            events, limits = _sorted_events(rng, key_of)
        except _Unorderable:
            continue
        prepared.append((key_of, events, limits))
    kept = []
    for version in entry.versions:
        for key_of, events, limits in prepared:
            try:
                if _in_range(key_of(version), events, limits):
                    break
            except _ORDER_ERRORS:
                continue
        else:
            kept.append(version)
    return sorted(kept)


def _pairs(items: Iterable[list[str]]) -> tuple[tuple[str, str], ...]:
    return cast("tuple[tuple[str, str], ...]", tuple(map(tuple, items)))


def _fail(where: str, message: str) -> OsvError:
    return OsvError(f"{where}: {message}" if where else message)


def _string(data: dict[str, Any], key: str, where: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise _fail(where, f"`{key}` must be a string")
    return value


def _required(data: dict[str, Any], key: str, where: str) -> str:
    value = _string(data, key, where)
    if value is None:
        raise _fail(where, f"`{key}` is required")
    return value


def _timestamp(data: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    value = _required(data, key, "") if required else _string(data, key, "")
    if value is not None and not _TIMESTAMP.fullmatch(value):
        raise _fail(key, f"{value!r} is not an RFC 3339 timestamp")
    return value


def _strings(value: Any, where: str, *, nullable: bool = False) -> tuple[str, ...]:
    if value is None and nullable:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(where, "must be a list of strings")
    return tuple(value)


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(where, "must be an object")
    return value


def _severity(value: Any, where: str) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _fail(where, "must be a list")
    found = []
    for i, item in enumerate(value):
        entry = _object(item, f"{where}/{i}")
        kind = _required(entry, "type", f"{where}/{i}")
        score = _required(entry, "score", f"{where}/{i}")
        if kind not in _SEVERITY_TYPES:
            raise _fail(f"{where}/{i}/type", f"unknown severity type {kind!r}")
        found.append((kind, score))
    return tuple(found)


def _range(value: Any, where: str) -> Range | None:
    entry = _object(value, where)
    kind = _required(entry, "type", where)
    if kind not in _RANGE_TYPES:
        raise _fail(f"{where}/type", f"must be one of GIT, SEMVER, ECOSYSTEM, not {kind!r}")
    raw_events = entry.get("events")
    if not isinstance(raw_events, list) or not raw_events:
        raise _fail(f"{where}/events", "must be a non-empty list")
    events = []
    for i, raw in enumerate(raw_events):
        if not isinstance(raw, dict) or len(raw) != 1:
            raise _fail(f"{where}/events/{i}", "each event must have exactly one key")
        ((event, version),) = raw.items()
        if event not in _EVENT_KINDS:
            raise _fail(f"{where}/events/{i}", f"unknown event {event!r}")
        if not isinstance(version, str):
            raise _fail(f"{where}/events/{i}/{event}", "must be a string")
        events.append((event, version))
    kinds = {e for e, _ in events}
    if "introduced" not in kinds:
        raise _fail(f"{where}/events", "must contain an `introduced` event")
    if {"fixed", "last_affected"} <= kinds:
        raise _fail(f"{where}/events", "`fixed` and `last_affected` are mutually exclusive")
    if kind == "GIT":
        if not isinstance(entry.get("repo"), str):
            raise _fail(f"{where}/repo", "GIT ranges require a repo")
        return None
    return Range(kind, tuple(events))


def _base_ecosystem(ecosystem: str) -> str:
    return ecosystem.split(":", 1)[0]


def parse_advisory(data: Any) -> Advisory:
    """Read one OSV document, checking the schema's rules for every field used.

    Raises `OsvError` naming the field. `affected` entries of other ecosystems are dropped.
    """
    doc = _object(data, "")
    ident = _required(doc, "id", "")
    if not _ID.fullmatch(ident):
        raise _fail("id", f"{ident!r} is not an advisory ID")
    modified = _timestamp(doc, "modified", required=True) or ""
    published = _timestamp(doc, "published")
    withdrawn = _timestamp(doc, "withdrawn")
    aliases = _strings(doc.get("aliases"), "aliases", nullable=True)
    if "related" in doc:
        _strings(doc["related"], "related")
    summary = _string(doc, "summary", "") or ""
    details = _string(doc, "details", "") or ""
    severity = _severity(doc.get("severity"), "severity")
    references = doc.get("references")
    if references is not None:
        if not isinstance(references, list):
            raise _fail("references", "must be a list")
        for i, ref in enumerate(references):
            entry = _object(ref, f"references/{i}")
            _required(entry, "url", f"references/{i}")
            if entry.get("type") not in _REFERENCE_TYPES:
                raise _fail(f"references/{i}/type", f"unknown reference type {entry.get('type')!r}")
    raw_affected = doc.get("affected")
    if raw_affected is not None and not isinstance(raw_affected, list):
        raise _fail("affected", "must be a list")
    affected = []
    for i, raw in enumerate(raw_affected or ()):
        where = f"affected/{i}"
        entry = _object(raw, where)
        package = _object(entry.get("package"), f"{where}/package")
        ecosystem = _required(package, "ecosystem", f"{where}/package")
        name = _required(package, "name", f"{where}/package")
        raw_ranges = entry.get("ranges", [])
        if not isinstance(raw_ranges, list):
            raise _fail(f"{where}/ranges", "must be a list")
        ranges = [_range(r, f"{where}/ranges/{j}") for j, r in enumerate(raw_ranges)]
        versions = _strings(entry.get("versions", []), f"{where}/versions")
        entry_severity = _severity(entry.get("severity"), f"{where}/severity")
        for key in ("ecosystem_specific", "database_specific"):
            if key in entry:
                _object(entry[key], f"{where}/{key}")
        base = _base_ecosystem(ecosystem)
        if base not in SUPPORTED_ECOSYSTEMS:
            continue
        affected.append(
            Affected(
                ecosystem=base,
                name=normalize_name(base, name),
                ranges=tuple(r for r in ranges if r is not None),
                versions=frozenset(canonical_version(base, v) for v in versions),
                severity=entry_severity,
            )
        )
    if severity and any(a.severity for a in affected):
        raise _fail("severity", "set both for the advisory and for an affected package")
    database = doc.get("database_specific")
    database_severity = None
    if isinstance(database, dict) and isinstance(database.get("severity"), str):
        database_severity = database["severity"].upper()
    if not summary and details:
        summary = details.strip().splitlines()[0] if details.strip() else ""
    if len(summary) > 200:
        summary = summary[:197].rstrip() + "..."
    return Advisory(
        id=ident,
        aliases=tuple(a for a in dict.fromkeys(aliases) if a != ident),
        summary=summary,
        modified=modified,
        affected=tuple(affected),
        severity=severity,
        database_severity=database_severity,
        published=published,
        withdrawn=withdrawn is not None,
    )


# --- Ordering ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=131072)
def _pep440(text: str) -> Version:
    return Version(text)


def _semver(text: str) -> semver.SemVer:
    return semver.parse_loose(text)


KeyOf = Callable[[str], Any]


def _ordering(ecosystem: str, range_type: str) -> KeyOf:
    if range_type == "ECOSYSTEM" and ecosystem == "PyPI":
        return _pep440
    return _semver


_ORDER_ERRORS = (InvalidVersion, semver.InvalidVersion)


class _Unorderable(Exception):
    """A range bound the ordering cannot read."""


Event = tuple[str, Any, str]
"""`(kind, ordering key, version as written)`; the key of `introduced: "0"` is `None`."""


@functools.lru_cache(maxsize=65536)
def _sorted_events(rng: Range, key_of: KeyOf) -> tuple[list[Event], list[Any]]:
    """Events sorted by version (`introduced: "0"` first, as -infinity), and the limits
    (`None` standing for `"*"`). Raises `_Unorderable`. Cached: the lists are shared and
    must not be changed by callers."""
    lowest: list[Event] = []
    others: list[Event] = []
    limits: list[Any] = []
    try:
        for kind, version in rng.events:
            if kind == "limit":
                limits.append(None if "*" in version else key_of(version))
            elif kind == "introduced" and version == "0":
                lowest.append((kind, None, version))
            else:
                others.append((kind, key_of(version), version))
    except _ORDER_ERRORS:
        raise _Unorderable from None
    others.sort(key=lambda e: e[1])
    return lowest + others, limits


def _below_limits(key: Any, limits: list[Any]) -> bool:
    return not limits or any(limit is None or key < limit for limit in limits)


def _in_range(key: Any, events: list[Event], limits: list[Any]) -> bool:
    if not _below_limits(key, limits):
        return False
    vulnerable = False
    for kind, bound, _ in events:
        if kind == "introduced":
            if bound is None or key >= bound:
                vulnerable = True
        elif kind == "fixed":
            if key >= bound:
                vulnerable = False
        elif kind == "last_affected" and key > bound:
            vulnerable = False
    return vulnerable


# Intervals: ((key, inclusive) | None, (key, inclusive) | None); None is unbounded.
Bound = tuple[Any, bool] | None
Interval = tuple[Bound, Bound]


def _range_intervals(events: list[Event], limits: list[Any]) -> list[Interval]:
    intervals: list[Interval] = []
    start: Bound = None
    open_ = False
    for kind, bound, _ in events:
        if kind == "introduced" and not open_:
            start, open_ = (None if bound is None else (bound, True)), True
        elif kind == "fixed" and open_:
            intervals.append((start, (bound, False)))
            open_ = False
        elif kind == "last_affected" and open_:
            intervals.append((start, (bound, True)))
            open_ = False
    if open_:
        intervals.append((start, None))
    if limits and None not in limits:
        cap: Bound = (max(limits), False)
        intervals = [(lo, _min_upper(hi, cap)) for lo, hi in intervals]
    return [i for i in intervals if not _empty(i)]


def _max_lower(a: Bound, b: Bound) -> Bound:
    if a is None:
        return b
    if b is None:
        return a
    if a[0] == b[0]:
        return (a[0], a[1] and b[1])
    return a if a[0] > b[0] else b


def _min_upper(a: Bound, b: Bound) -> Bound:
    if a is None:
        return b
    if b is None:
        return a
    if a[0] == b[0]:
        return (a[0], a[1] and b[1])
    return a if a[0] < b[0] else b


def _empty(interval: Interval) -> bool:
    lo, hi = interval
    if lo is None or hi is None:
        return False
    return lo[0] > hi[0] or (lo[0] == hi[0] and not (lo[1] and hi[1]))


def _intersect(a: Interval, b: Interval) -> Interval:
    return (_max_lower(a[0], b[0]), _min_upper(a[1], b[1]))


def _contains(interval: Interval, key: Any) -> bool:
    return not _empty(_intersect(interval, ((key, True), (key, True))))


def _merge(intervals: Iterable[Interval]) -> list[Interval]:
    """The union as disjoint intervals, touching ones joined (`[a, b)` + `[b, c)`)."""

    def lower_key(i: Interval) -> tuple[int, Any, int]:
        lo = i[0]
        return (0, 0, 0) if lo is None else (1, lo[0], 0 if lo[1] else 1)

    merged: list[Interval] = []
    for interval in sorted(intervals, key=lower_key):
        if merged:
            last_lo, last_hi = merged[-1]
            lo = interval[0]
            touches = (
                last_hi is None
                or lo is None
                or lo[0] < last_hi[0]
                or (lo[0] == last_hi[0] and (lo[1] or last_hi[1]))
            )
            if touches:
                hi = None if last_hi is None or interval[1] is None else interval[1]
                if hi is not None and last_hi is not None:
                    hi = last_hi if _min_upper(last_hi, hi) == hi else hi
                merged[-1] = (last_lo, hi)
                continue
        merged.append(interval)
    return merged


def _covered(interval: Interval, union: list[Interval]) -> bool:
    """Whether `interval` lies inside one of the disjoint, merged intervals of `union`."""
    return any(_intersect(interval, u) == interval for u in union)


# --- Specifiers -------------------------------------------------------------------------


def _pep440_admitted(specifier: str) -> list[Interval] | None:
    """The versions a PEP 440 specifier admits, as intervals; `None` when it cannot be read."""
    try:
        spec = SpecifierSet(specifier)
    except InvalidSpecifier:
        return None
    interval: Interval = (None, None)
    excluded: list[Version] = []
    try:
        for clause in spec:
            op, text = clause.operator, clause.version
            if op == "!=":
                if not text.endswith(".*"):
                    excluded.append(_pep440(text))
                continue
            interval = _intersect(interval, _clause_interval(op, text))
    except _ORDER_ERRORS:
        return None
    if _empty(interval):
        return []
    lo, hi = interval
    if lo is not None and hi is not None and lo[0] == hi[0] and lo[0] in excluded:
        return []
    return [interval]


def _clause_interval(op: str, text: str) -> Interval:
    if op in ("==", "===") and text.endswith(".*"):
        prefix = _pep440(text[:-2])
        return ((_pep440(f"{text[:-2]}.dev0"), True), (_next_release(prefix, 0), False))
    if op in ("==", "==="):
        version = _pep440(text)
        return ((version, True), (version, True))
    if op == "~=":
        version = _pep440(text)
        return ((version, True), (_next_release(version, 1), False))
    version = _pep440(text)
    if op == ">=":
        return ((version, True), None)
    if op == ">":
        return ((version, False), None)
    if op == "<=":
        return (None, (version, True))
    return (None, (version, False))


def _next_release(version: Version, drop: int) -> Version:
    """The first dev release after every version sharing `version`'s release prefix,
    less `drop` trailing components: `1.2` -> `1.3.dev0`; `~=1.4.5` -> `1.5.dev0`."""
    release = list(version.release[: len(version.release) - drop] or version.release[:1])
    release[-1] += 1
    epoch = f"{version.epoch}!" if version.epoch else ""
    return _pep440(f"{epoch}{'.'.join(str(p) for p in release)}.dev0")


def _npm_admitted(specifier: str) -> list[Interval] | None:
    try:
        rng = semver.parse_range(specifier)
    except semver.InvalidRange:
        return None
    return [i for i in rng.bounds() if not _empty(i)]


def admitted(ecosystem: str, specifier: str) -> list[Interval] | None:
    """What a specifier admits, in the ordering of the ecosystem's `ECOSYSTEM` ranges."""
    if ecosystem == "PyPI":
        return _pep440_admitted(specifier)
    return _npm_admitted(specifier or "*")


# --- Severity ---------------------------------------------------------------------------

_CVSS3 = {
    "AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
    "AC": {"L": 0.77, "H": 0.44},
    "UI": {"N": 0.85, "R": 0.62},
    "C": {"H": 0.56, "L": 0.22, "N": 0.0},
    "I": {"H": 0.56, "L": 0.22, "N": 0.0},
    "A": {"H": 0.56, "L": 0.22, "N": 0.0},
}
_CVSS3_PR = {"U": {"N": 0.85, "L": 0.62, "H": 0.27}, "C": {"N": 0.85, "L": 0.68, "H": 0.5}}
_CVSS2 = {
    "AV": {"L": 0.395, "A": 0.646, "N": 1.0},
    "AC": {"H": 0.35, "M": 0.61, "L": 0.71},
    "Au": {"M": 0.45, "S": 0.56, "N": 0.704},
    "C": {"N": 0.0, "P": 0.275, "C": 0.660},
    "I": {"N": 0.0, "P": 0.275, "C": 0.660},
    "A": {"N": 0.0, "P": 0.275, "C": 0.660},
}


def _roundup(value: float) -> float:
    """CVSS 3.1's round-up to one decimal, free of floating-point surprises."""
    scaled = round(value * 100_000)
    if scaled % 10_000 == 0:
        return scaled / 100_000
    return (math.floor(scaled / 10_000) + 1) / 10.0


def _metrics(vector: str) -> dict[str, str]:
    return dict(p.split(":", 1) for p in vector.split("/") if ":" in p)


def cvss_score(kind: str, vector: str) -> float | None:
    """The base score of a CVSS v2 or v3.x vector; `None` for v4 and unreadable vectors."""
    metrics = _metrics(vector)
    try:
        if kind == "CVSS_V3" or vector.startswith("CVSS:3"):
            scope = metrics["S"]
            iss = 1 - (
                (1 - _CVSS3["C"][metrics["C"]])
                * (1 - _CVSS3["I"][metrics["I"]])
                * (1 - _CVSS3["A"][metrics["A"]])
            )
            if scope == "U":
                impact = 6.42 * iss
            elif scope == "C":
                impact = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15
            else:
                return None
            exploitability = (
                8.22
                * _CVSS3["AV"][metrics["AV"]]
                * _CVSS3["AC"][metrics["AC"]]
                * _CVSS3_PR[scope][metrics["PR"]]
                * _CVSS3["UI"][metrics["UI"]]
            )
            if impact <= 0:
                return 0.0
            total = impact + exploitability
            return _roundup(min(total if scope == "U" else 1.08 * total, 10.0))
        if kind == "CVSS_V2":
            impact = 10.41 * (
                1
                - (1 - _CVSS2["C"][metrics["C"]])
                * (1 - _CVSS2["I"][metrics["I"]])
                * (1 - _CVSS2["A"][metrics["A"]])
            )
            exploitability = (
                20
                * _CVSS2["AV"][metrics["AV"]]
                * _CVSS2["AC"][metrics["AC"]]
                * _CVSS2["Au"][metrics["Au"]]
            )
            factor = 0.0 if impact == 0 else 1.176
            return round((0.6 * impact + 0.4 * exploitability - 1.5) * factor, 1)
    except KeyError:
        return None
    return None


def rating(score: float) -> str:
    """CVSS qualitative rating, with "none" (0.0) counted as low."""
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    if score >= 4.0:
        return "medium"
    return "low"


_DATABASE_RATINGS = {"CRITICAL": "critical", "HIGH": "high", "MODERATE": "medium"} | {
    "MEDIUM": "medium",
    "LOW": "low",
}


# --- Matching ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Vulnerability:
    """One vulnerability of one package: the advisories that describe it, as one."""

    ids: tuple[str, ...]
    """The matched advisories' own IDs, sorted."""
    aliases: tuple[str, ...]
    """Other names they give it (CVE, GHSA, PYSEC), not among `ids`, sorted."""
    summary: str
    fixed: tuple[str, ...]
    """Versions that fix it for the version (or range) checked, lowest first."""
    score: float | None = None
    """The highest CVSS base score among the advisories, when any carries a vector."""
    rating: str | None = None
    """critical/high/medium/low: from `score`, else from the database's own severity."""
    malicious: bool = False
    certain: bool = True
    """For a range: every version it admits is affected (else only some are)."""

    @property
    def names(self) -> tuple[str, ...]:
        return (*self.ids, *self.aliases)

    @property
    def key(self) -> str:
        """A stable name: the lowest CVE when there is one, else the lowest own ID."""
        cves = sorted(n for n in self.names if n.startswith("CVE-"))
        return cves[0] if cves else self.ids[0]


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the advisories of one package say about one version or specifier."""

    vulnerabilities: tuple[Vulnerability, ...] = ()
    unchecked: tuple[Vulnerability, ...] = ()
    """Advisories that could not be decided; `reason` says why."""
    reason: str | None = None
    fix: str | None = None
    """The lowest version above the one checked that no advisory of the package affects."""
    ranged: bool = False
    """Checked against the versions a specifier admits rather than one version."""


@dataclass(frozen=True, slots=True)
class _State:
    affected: bool | None
    fixed: tuple[str, ...] = ()
    certain: bool = True


def _entries(advisory: Advisory, ecosystem: str, name: str) -> list[Affected]:
    return [a for a in advisory.affected if a.ecosystem == ecosystem and a.name == name]


def _version_state(entries: Sequence[Affected], ecosystem: str, version: str) -> _State:
    canonical = canonical_version(ecosystem, version)
    listed = any(canonical in e.versions or version in e.versions for e in entries)
    unknown = False
    affected = listed
    fixes: list[tuple[Any, str]] = []
    for entry in entries:
        for rng in entry.ranges:
            key_of = _ordering(ecosystem, rng.type)
            try:
                key = key_of(version)
                events, limits = _sorted_events(rng, key_of)
            except (_Unorderable, *_ORDER_ERRORS):
                unknown = True
                continue
            if _in_range(key, events, limits):
                affected = True
                fixes.extend((b, text) for k, b, text in events if k == "fixed" and b > key)
    if affected:
        return _State(True, _lowest_first(fixes))
    return _State(None if unknown else False)


def _lowest_first(fixes: list[tuple[Any, str]]) -> tuple[str, ...]:
    seen: dict[str, Any] = {}
    for key, text in fixes:
        seen.setdefault(text, key)
    return tuple(sorted(seen, key=lambda t: seen[t]))


def _spec_state(entries: Sequence[Affected], ecosystem: str, wanted: list[Interval]) -> _State:
    unknown = False
    hit = False
    affected_union: list[Interval] = []
    fixes: list[tuple[Any, str]] = []
    points = False
    for entry in entries:
        for text in entry.versions:
            try:
                key = _ordering(ecosystem, "ECOSYSTEM")(text)
            except _ORDER_ERRORS:
                continue
            if any(_contains(w, key) for w in wanted):
                points = True
        for rng in entry.ranges:
            if rng.type != "ECOSYSTEM" and ecosystem == "PyPI":
                unknown = True
                continue
            key_of = _ordering(ecosystem, rng.type)
            try:
                events, limits = _sorted_events(rng, key_of)
            except _Unorderable:
                unknown = True
                continue
            intervals = _range_intervals(events, limits)
            affected_union.extend(intervals)
            fixed_texts = {b: text for k, b, text in events if k == "fixed"}
            for w in wanted:
                for interval in intervals:
                    if _empty(_intersect(w, interval)):
                        continue
                    hit = True
                    upper = interval[1]
                    if upper is not None and not upper[1] and upper[0] in fixed_texts:
                        fixes.append((upper[0], fixed_texts[upper[0]]))
    if hit or points:
        union = _merge(affected_union)
        certain = bool(wanted) and all(_covered(w, union) for w in wanted)
        return _State(True, _lowest_first(fixes), certain)
    return _State(None if unknown else False)


def _group(advisories: Sequence[Advisory]) -> list[list[int]]:
    """Indices of advisories joined by shared IDs or aliases, transitively."""
    parent = list(range(len(advisories)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for i, advisory in enumerate(advisories):
        for name in (advisory.id, *advisory.aliases):
            j = owner.setdefault(name, i)
            if j != i:
                parent[find(i)] = find(j)
    groups: dict[int, list[int]] = {}
    for i in range(len(advisories)):
        groups.setdefault(find(i), []).append(i)
    return list(groups.values())


def _severity_of(
    advisory: Advisory, entries: Sequence[Affected]
) -> tuple[float | None, str | None]:
    vectors = list(advisory.severity) + [s for e in entries for s in e.severity]
    scores = [s for s in (cvss_score(kind, vector) for kind, vector in vectors) if s is not None]
    if scores:
        best = max(scores)
        return best, rating(best)
    if advisory.database_severity:
        return None, _DATABASE_RATINGS.get(advisory.database_severity)
    return None, None


_RATING_ORDER = ("low", "medium", "high", "critical")


def _vulnerability(
    members: Sequence[tuple[Advisory, Sequence[Affected], _State]],
) -> Vulnerability:
    ids = sorted({a.id for a, _, _ in members})
    aliases = sorted({n for a, _, _ in members for n in a.aliases} - set(ids))
    scores: list[float] = []
    ratings: list[str] = []
    for advisory, entries, _ in members:
        score, label = _severity_of(advisory, entries)
        if score is not None:
            scores.append(score)
        if label is not None:
            ratings.append(label)
    fixed: dict[str, None] = {}
    for _, _, state in members:
        fixed.update(dict.fromkeys(state.fixed))
    summary = next(
        (a.summary for a, _, _ in sorted(members, key=lambda m: m[0].id) if a.summary), ""
    )
    return Vulnerability(
        ids=tuple(ids),
        aliases=tuple(aliases),
        summary=summary,
        fixed=tuple(fixed),
        score=max(scores) if scores else None,
        rating=max(ratings, key=_RATING_ORDER.index) if ratings else None,
        malicious=any(a.malicious for a, _, _ in members),
        certain=any(state.certain for _, _, state in members),
    )


def evaluate(
    ecosystem: str,
    name: str,
    version: str | None,
    specifier: str,
    advisories: Sequence[Advisory],
) -> Verdict:
    """What `advisories` (those of the package, any order) say about a dependency.

    `version` is the exact version when known; otherwise `specifier` is checked for the
    versions it admits (empty: every version).
    """
    key = normalize_name(ecosystem, name)
    live = [a for a in advisories if not a.withdrawn]
    relevant = [(a, _entries(a, ecosystem, key)) for a in live]
    relevant = [(a, e) for a, e in relevant if e]
    if not relevant:
        return Verdict(ranged=version is None)
    wanted: list[Interval] | None = None
    reason = None
    if version is None:
        wanted = admitted(ecosystem, specifier)
        if wanted is None:
            reason = f"`{specifier}` is not a version range lambdashield can read"
    states: list[_State] = []
    for _advisory, entries in relevant:
        if version is not None:
            states.append(_version_state(entries, ecosystem, version))
        elif wanted is not None:
            states.append(_spec_state(entries, ecosystem, wanted))
        else:
            states.append(_State(None))
    if version is not None and any(s.affected is None for s in states):
        reason = f"{version!r} is not a version {ecosystem} can order"
    groups = _group([a for a, _ in relevant])
    affected: list[Vulnerability] = []
    unchecked: list[Vulnerability] = []
    for indices in groups:
        members = [(relevant[i][0], relevant[i][1], states[i]) for i in indices]
        hits = [m for m in members if m[2].affected]
        if hits:
            affected.append(_vulnerability(hits))
        elif any(m[2].affected is None for m in members):
            unchecked.append(_vulnerability([m for m in members if m[2].affected is None]))
    affected.sort(key=lambda v: v.ids)
    unchecked.sort(key=lambda v: v.ids)
    fix = _clearing_fix(ecosystem, version, wanted, relevant) if affected else None
    return Verdict(
        vulnerabilities=tuple(affected),
        unchecked=tuple(unchecked),
        reason=reason if unchecked else None,
        fix=fix,
        ranged=version is None,
    )


def _clearing_fix(
    ecosystem: str,
    version: str | None,
    wanted: list[Interval] | None,
    relevant: Sequence[tuple[Advisory, Sequence[Affected]]],
) -> str | None:
    """The lowest `fixed` version, above the checked one, that no advisory affects.

    The package's affected versions are merged into one set of intervals (plus the listed
    versions) once, so each candidate costs a few comparisons, not one per advisory.
    """
    key_of = _ordering(ecosystem, "ECOSYSTEM")
    floor: Any = None
    try:
        if version is not None:
            floor = key_of(version)
        elif wanted:
            lowers = [w[0][0] for w in wanted if w[0] is not None]
            floor = min(lowers) if len(lowers) == len(wanted) else None
    except _ORDER_ERRORS:
        return None
    intervals: list[Interval] = []
    listed: set[str] = set()
    candidates: dict[str, Any] = {}
    for _, entries in relevant:
        for entry in entries:
            listed.update(entry.versions)
            for rng in entry.ranges:
                if _ordering(ecosystem, rng.type) is not key_of:
                    continue
                try:
                    events, _ = _sorted_events(rng, key_of)
                except _Unorderable:
                    continue
                intervals.extend(_cached_intervals(rng, key_of))
                for kind, bound, text in events:
                    if kind == "fixed" and (floor is None or bound > floor):
                        candidates.setdefault(text, bound)
    union = _merge(intervals)
    for text in sorted(candidates, key=lambda t: candidates[t]):
        if canonical_version(ecosystem, text) in listed or text in listed:
            continue
        if not any(_contains(u, candidates[text]) for u in union):
            return text
    return None


@functools.lru_cache(maxsize=65536)
def _cached_intervals(rng: Range, key_of: KeyOf) -> tuple[Interval, ...]:
    events, limits = _sorted_events(rng, key_of)
    return tuple(_range_intervals(events, limits))
