"""Python dependency files and installed trees, into `DependencySet`s. Nothing is run.

    requirements*.txt   pip's format: `-r`/`-c` includes (inside the scanned root only),
                        hashes, extras, markers, URLs and VCS references, continuations
    pyproject.toml      PEP 621 (and PEP 735 groups), Poetry, PDM
    Pipfile             pipenv's manifest
    poetry.lock, Pipfile.lock, uv.lock, pylock.toml, pdm.lock
    site-packages       `*.dist-info/METADATA` and `*.egg-info` names and versions

A requirements line pip would reject becomes an error naming the file and line, and the
other lines are still read. Versions and specifiers are read with `packaging` (PEP 440
and 508); Poetry's `^` and `~` are translated to the PEP 440 range they mean.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)

from lambdashield.errors import LoaderError
from lambdashield.loaders import _names
from lambdashield.loaders._deps import (
    RESOURCE_TYPE,
    DependencyFile,
    LineMap,
    header_lines,
    key_line,
    parse_toml,
    sibling,
    string_line,
)
from lambdashield.loaders._json import JsonLines, escape_pointer, parse_json, read_text
from lambdashield.model import Dependency, DependencySet, Origin, ScanError

__all__ = [
    "PYTHON_FILE",
    "applies",
    "load_python_file",
    "load_site_packages",
    "metadata_name_version",
    "pinned_version",
]

ECOSYSTEM = "PyPI"
PYTHON_FILE = _names.PYTHON_FILE
_LOCKFILES = ("poetry.lock", "uv.lock", "pdm.lock", "pylock.toml", "Pipfile.lock")
MAX_INCLUDE_DEPTH = 16
MAX_METADATA_BYTES = 1024 * 1024


def load_python_file(
    path: Path, display: PurePosixPath, *, max_bytes: int, root: Path | None = None
) -> DependencyFile:
    """Read one Python dependency file. `root` bounds `-r`/`-c` includes (default: the
    file's own directory). Raises `LoaderError` when the file as a whole is unreadable."""
    name = path.name
    text = read_text(path, display, max_bytes)
    if name == "pyproject.toml":
        return _pyproject(text, path, display)
    if name == "Pipfile":
        return DependencyFile(_pipfile(text, path, display))
    if name == "Pipfile.lock":
        return DependencyFile(_pipfile_lock(text, display))
    if name == "poetry.lock":
        return DependencyFile(_poetry_lock(text, display))
    if name == "uv.lock":
        return DependencyFile(_uv_lock(text, display))
    if name == "pdm.lock":
        return DependencyFile(_pdm_lock(text, display))
    if name.startswith("pylock.") and name.endswith(".toml"):
        return DependencyFile(_pylock(text, display))
    return _requirements(path, display, text, max_bytes, root or path.parent)


def _origin(display: PurePosixPath, lines: Any) -> Origin:
    return Origin(display, display.name, RESOURCE_TYPE, "", lines)


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned_version(specifier: str) -> str | None:
    """The version a PEP 440 specifier pins (`==2.19.0`, `===1.0`), else `None`."""
    try:
        clauses = list(SpecifierSet(specifier))
    except ValueError:
        return None
    exact = [c for c in clauses if c.operator in ("==", "===") and not c.version.endswith("*")]
    return exact[0].version if len(exact) == 1 else None


# --- Markers ----------------------------------------------------------------------------

_MACHINES = ("x86_64", "aarch64")


def applies(dependency: Dependency, python_version: str | None) -> bool:
    """Whether the dependency is installed on Lambda's Linux for that Python version.

    The scanning machine's own environment never counts. Without a version, or with a
    marker that cannot be evaluated, the dependency counts (it may be installed).
    """
    if not dependency.markers or python_version is None:
        return True
    try:
        marker = Marker(dependency.markers)
    except InvalidMarker:
        return True
    for machine in _MACHINES:
        environment = {
            "python_version": python_version,
            "python_full_version": f"{python_version}.0",
            "implementation_name": "cpython",
            "implementation_version": f"{python_version}.0",
            "platform_python_implementation": "CPython",
            "os_name": "posix",
            "sys_platform": "linux",
            "platform_system": "Linux",
            "platform_machine": machine,
            "platform_release": "",
            "platform_version": "",
            "extra": "",
        }
        try:
            if marker.evaluate(environment):
                return True
        except (UndefinedComparison, UndefinedEnvironmentName, ValueError):
            return True
    return False


# --- requirements.txt -------------------------------------------------------------------

_COMMENT = re.compile(r"(^|\s+)#.*$")
_GLOBAL_OPTIONS = {
    "-i": True,
    "--index-url": True,
    "--extra-index-url": True,
    "--no-index": False,
    "-f": True,
    "--find-links": True,
    "--no-binary": True,
    "--only-binary": True,
    "--prefer-binary": False,
    "--require-hashes": False,
    "--pre": False,
    "--trusted-host": True,
    "--use-feature": True,
}
"""Options pip accepts on a line of their own: name -> takes a value."""
_INCLUDES = {"-r": "r", "--requirement": "r", "-c": "c", "--constraint": "c"}
_EDITABLE = ("-e", "--editable")
_PER_REQUIREMENT = ("--hash", "--config-settings", "--global-option")
_KNOWN_OPTIONS = {
    **_GLOBAL_OPTIONS,
    **dict.fromkeys((*_INCLUDES, *_EDITABLE, *_PER_REQUIREMENT), True),
}
_ARCHIVE = re.compile(r".*\.(whl|zip|tar\.gz|tgz|tar\.bz2|tar\.xz|tar)$", re.IGNORECASE)
_URL = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|git\+|hg\+|svn\+|bzr\+)", re.IGNORECASE)
_NAMED_URL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*@")
"""`name @ url`, PEP 508's direct reference."""
_EGG = re.compile(r"#(?:.*&)?egg=([A-Za-z0-9][A-Za-z0-9._-]*)")
_FULL_COMMIT = re.compile(r"@[0-9a-f]{40}(?:[#&]|$)")


@dataclass
class _Reading:
    """State of one requirements file and everything it includes."""

    root: Path
    max_bytes: int
    top: PurePosixPath
    dependencies: list[Dependency] = field(default_factory=list)
    constraints: dict[str, tuple[str, PurePosixPath]] = field(default_factory=dict)
    errors: list[ScanError] = field(default_factory=list)
    includes: list[PurePosixPath] = field(default_factory=list)
    include_lines: dict[str, int] = field(default_factory=dict)
    stack: list[Path] = field(default_factory=list)


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Lines with `\\` continuations joined (numbered by their first line), comments cut."""
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        if not pending:
            start = number
        if raw.endswith("\\") and not raw.lstrip().startswith("#"):
            pending.append(raw[:-1])
            continue
        pending.append(raw)
        line = _COMMENT.sub("", "".join(pending)).strip()
        pending = []
        if line:
            yield start, line
    if pending:
        line = _COMMENT.sub("", "".join(pending)).strip()
        if line:
            yield start, line


def _requirements(
    path: Path, display: PurePosixPath, text: str, max_bytes: int, root: Path
) -> DependencyFile:
    reading = _Reading(root=root.resolve(), max_bytes=max_bytes, top=display)
    reading.stack.append(path.resolve())
    _read_requirements(reading, text, display, constraint=False)
    dependencies = [_constrained(d, reading) for d in reading.dependencies]
    lines = LineMap.of(d for d in dependencies if d.source is None)
    for dependency in dependencies:
        if dependency.source is not None:
            lines.add(
                "/" + escape_pointer(dependency.name),
                reading.include_lines.get(dependency.source.as_posix()),
            )
    dependency_set = DependencySet(
        origin=_origin(display, lines),
        kind="requirements",
        dependencies=tuple(dependencies),
        locked=False,
        application=True,
        includes=tuple(reading.includes),
    )
    return DependencyFile((dependency_set,), tuple(reading.errors))


def _constrained(dependency: Dependency, reading: _Reading) -> Dependency:
    if dependency.version is not None or dependency.reference is not None:
        return dependency
    found = reading.constraints.get(_normalise(dependency.name))
    if found is None:
        return dependency
    return replace(dependency, version=found[0], pinned=True)


def _read_requirements(
    reading: _Reading,
    text: str,
    display: PurePosixPath,
    *,
    constraint: bool,
) -> None:
    source = None if display == reading.top else display
    for number, line in _logical_lines(text):
        try:
            if line.startswith("-"):
                _option_line(reading, line, display, number, constraint=constraint)
            else:
                found = _requirement_line(line, display, number)
                if constraint:
                    if found.version is not None:
                        reading.constraints.setdefault(
                            _normalise(found.name), (found.version, display)
                        )
                else:
                    reading.dependencies.append(replace(found, source=source))
        except LoaderError as exc:  # noqa: PERF203 - one bad line must not stop the file
            reading.errors.append(ScanError(exc.path, exc.detail, exc.line))


def _split_options(line: str) -> tuple[str, list[str]]:
    """The requirement part and the option tokens after it (`--hash=...`)."""
    tokens = line.split()
    for i, token in enumerate(tokens):
        if token.startswith("-"):
            return " ".join(tokens[:i]), tokens[i:]
    return line, []


def _option_values(tokens: list[str], display: PurePosixPath, line: int) -> list[tuple[str, str]]:
    """`--name=value`, `--name value`, `-x value`, `-xvalue` pairs; `""` for flags."""
    pairs: list[tuple[str, str]] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        name, eq, value = token.partition("=")
        if not token.startswith("--") and len(token) > 2 and token[:2] in _KNOWN_OPTIONS:
            name, value, eq = token[:2], token[2:], "="
        takes_value = _KNOWN_OPTIONS.get(name)
        if takes_value is None:
            raise LoaderError(display, f"unknown option `{name}`; pip rejects this line", line)
        if takes_value and not eq:
            if i + 1 >= len(tokens):
                raise LoaderError(display, f"option `{name}` needs a value", line)
            value = tokens[i + 1]
            i += 1
        pairs.append((name, value))
        i += 1
    return pairs


def _option_line(
    reading: _Reading, line: str, display: PurePosixPath, number: int, *, constraint: bool
) -> None:
    pairs = _option_values(line.split(), display, number)
    hashes = [value for name, value in pairs if name == "--hash"]
    for name, value in pairs:
        if name in _EDITABLE:
            dependency = _reference(value, display, number, hashes)
            if not constraint:
                source = None if display == reading.top else display
                reading.dependencies.append(replace(dependency, source=source))
        elif name in _INCLUDES:
            _include(
                reading, value, display, number, constraint=_INCLUDES[name] == "c" or constraint
            )
        elif name in _PER_REQUIREMENT and not any(n in _EDITABLE for n, _ in pairs):
            raise LoaderError(display, f"option `{name}` must follow a requirement", number)


def _include(
    reading: _Reading, target: str, display: PurePosixPath, number: int, *, constraint: bool
) -> None:
    if _URL.match(target):
        raise LoaderError(display, f"remote include `{target}` is not fetched", number)
    including = reading.stack[-1]
    resolved = (including.parent / target).resolve()
    shown = PurePosixPath(posixpath.normpath((display.parent / target).as_posix()))
    if resolved != reading.root and reading.root not in resolved.parents:
        raise LoaderError(
            display, f"include `{target}` is outside the scanned folder; not read", number
        )
    if resolved in reading.stack:
        raise LoaderError(display, f"include `{target}` is a cycle; not read again", number)
    if len(reading.stack) > MAX_INCLUDE_DEPTH:
        raise LoaderError(display, f"includes nested deeper than {MAX_INCLUDE_DEPTH}", number)
    if not resolved.is_file():
        raise LoaderError(display, f"include `{target}` does not exist", number)
    text = read_text(resolved, shown, reading.max_bytes)
    if shown not in reading.includes:
        reading.includes.append(shown)
    if display == reading.top:
        reading.include_lines.setdefault(shown.as_posix(), number)
    else:
        parent_line = reading.include_lines.get(display.as_posix())
        if parent_line is not None:
            reading.include_lines.setdefault(shown.as_posix(), parent_line)
    reading.stack.append(resolved)
    try:
        _read_requirements(reading, text, shown, constraint=constraint)
    finally:
        reading.stack.pop()


def _requirement_line(line: str, display: PurePosixPath, number: int) -> Dependency:
    spec, tokens = _split_options(line)
    options = _option_values(tokens, display, number)
    for name, _ in options:
        if name not in _PER_REQUIREMENT:
            raise LoaderError(
                display, f"option `{name}` cannot follow a requirement on its line", number
            )
    hashes = tuple(value for name, value in options if name == "--hash")
    if _URL.match(spec) or (not _NAMED_URL.match(spec) and _looks_like_path(spec)):
        return _reference(spec, display, number, list(hashes))
    try:
        requirement = Requirement(spec)
    except InvalidRequirement as exc:
        detail = str(exc).splitlines()[0]
        raise LoaderError(
            display, f"not a valid requirement ({detail}); pip rejects this line", number
        ) from None
    if requirement.url:
        return _reference(requirement.url, display, number, list(hashes), requirement)
    specifier = str(requirement.specifier)
    version = pinned_version(specifier) if specifier else None
    return Dependency(
        ecosystem=ECOSYSTEM,
        name=requirement.name,
        version=version,
        specifier=specifier,
        pinned=version is not None,
        hashes=hashes,
        markers=str(requirement.marker) if requirement.marker else None,
        line=number,
    )


def _looks_like_path(spec: str) -> bool:
    head = spec.split(";", 1)[0].strip()
    return (
        head.startswith((".", "/", "~"))
        or "/" in head
        or "\\" in head
        or bool(_ARCHIVE.fullmatch(head))
    )


def _reference(
    target: str,
    display: PurePosixPath,
    number: int,
    hashes: list[str],
    requirement: Requirement | None = None,
) -> Dependency:
    """A URL, VCS or path requirement: no index version, so nothing to pin by version."""
    target = target.split(";", 1)[0].strip()
    name = requirement.name if requirement else None
    version = None
    filename = target.rsplit("/", 1)[-1].split("#", 1)[0]
    try:
        if filename.endswith(".whl"):
            parsed_name, parsed_version, _, _ = parse_wheel_filename(filename)
            name, version = name or str(parsed_name), str(parsed_version)
        elif _ARCHIVE.fullmatch(filename):
            parsed_name, parsed_version = parse_sdist_filename(filename)
            name, version = name or str(parsed_name), str(parsed_version)
    except (InvalidWheelFilename, InvalidSdistFilename):
        pass
    egg = _EGG.search(target)
    if name is None and egg is not None:
        name = egg.group(1)
    if name is None:
        name = target.rstrip("/").rsplit("/", 1)[-1].split("@", 1)[0] or target
    remote = bool(_URL.match(target))
    fixed = bool(hashes) or bool(_FULL_COMMIT.search(target)) or "sha256=" in target
    return Dependency(
        ecosystem=ECOSYSTEM,
        name=name,
        version=version,
        specifier=target,
        pinned=not remote or fixed,
        hashes=tuple(hashes),
        markers=str(requirement.marker) if requirement and requirement.marker else None,
        line=number,
        reference=target,
    )


# --- pyproject.toml and Pipfile ---------------------------------------------------------


def _pep508(
    text: str,
    value: Any,
    pointer: str,
    display: PurePosixPath,
    problems: list[ScanError],
    *,
    dev: bool = False,
) -> Dependency | None:
    if not isinstance(value, str):
        problems.append(ScanError(display, f"{pointer} must be a string"))
        return None
    line = string_line(text, value)
    try:
        requirement = Requirement(value)
    except InvalidRequirement as exc:
        detail = str(exc).splitlines()[0]
        problems.append(ScanError(display, f"{pointer}: not a valid requirement ({detail})", line))
        return None
    if requirement.url:
        found = _reference(requirement.url, display, line or 0, [], requirement)
        return replace(found, pointer=pointer, line=line, dev=dev)
    specifier = str(requirement.specifier)
    version = pinned_version(specifier) if specifier else None
    return Dependency(
        ecosystem=ECOSYSTEM,
        name=requirement.name,
        version=version,
        specifier=specifier,
        pinned=version is not None,
        markers=str(requirement.marker) if requirement.marker else None,
        pointer=pointer,
        line=line,
        dev=dev,
    )


def _table(data: Any, *keys: str) -> dict[str, Any]:
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, dict) else {}


def _pyproject(text: str, path: Path, display: PurePosixPath) -> DependencyFile:
    data = parse_toml(text, display)
    problems: list[ScanError] = []
    found: list[Dependency] = []
    project = _table(data, "project")
    listed = project.get("dependencies", [])
    for i, value in enumerate(listed if isinstance(listed, list) else []):
        dep = _pep508(text, value, f"/project/dependencies/{i}", display, problems)
        found.extend([dep] if dep else [])
    for extra, values in _table(project, "optional-dependencies").items():
        for i, value in enumerate(values if isinstance(values, list) else []):
            pointer = f"/project/optional-dependencies/{escape_pointer(extra)}/{i}"
            dep = _pep508(text, value, pointer, display, problems)
            found.extend([dep] if dep else [])
    for group, values in _table(data, "dependency-groups").items():
        for i, value in enumerate(values if isinstance(values, list) else []):
            if isinstance(value, str):
                pointer = f"/dependency-groups/{escape_pointer(group)}/{i}"
                dep = _pep508(text, value, pointer, display, problems, dev=True)
                found.extend([dep] if dep else [])
    for group, values in _table(data, "tool", "pdm", "dev-dependencies").items():
        for i, value in enumerate(values if isinstance(values, list) else []):
            pointer = f"/tool/pdm/dev-dependencies/{escape_pointer(group)}/{i}"
            if isinstance(value, str) and not value.startswith("-e"):
                dep = _pep508(text, value, pointer, display, problems, dev=True)
                found.extend([dep] if dep else [])
    poetry = _table(data, "tool", "poetry")
    found.extend(_poetry_table(text, poetry, "dependencies", "/tool/poetry/dependencies", False))
    found.extend(
        _poetry_table(text, poetry, "dev-dependencies", "/tool/poetry/dev-dependencies", True)
    )
    for group, table in _table(poetry, "group").items():
        if isinstance(table, dict):
            base = f"/tool/poetry/group/{escape_pointer(group)}/dependencies"
            found.extend(_poetry_table(text, table, "dependencies", base, group != "main"))
    application = (
        poetry.get("package-mode") is False
        or _table(data, "tool", "pdm").get("distribution") is False
        or _table(data, "tool", "uv").get("package") is False
        or ("build-system" not in data and not poetry)
    )
    lockfile = sibling(path, display, ("poetry.lock", "uv.lock", "pdm.lock", "pylock.toml"))
    dependency_set = DependencySet(
        origin=_origin(display, LineMap.of(found)),
        kind="pyproject.toml",
        dependencies=tuple(found),
        locked=False,
        application=application,
        lockfile=lockfile,
    )
    return DependencyFile((dependency_set,), tuple(problems))


_POETRY_CLAUSE = re.compile(r"^\s*(\^|~(?!=)|[<>=!~]=?|===?)?\s*v?([0-9][^\s,]*|\*)\s*$")


def poetry_to_pep440(constraint: str) -> str | None:
    """Poetry's constraint syntax as a PEP 440 specifier; `None` for `||` and the unreadable."""
    text = constraint.strip()
    if text in ("", "*"):
        return ""
    if "||" in text or "|" in text:
        return None
    clauses = []
    for part in re.split(r"\s*,\s*|\s+(?=[<>=!~^])", text):
        match = _POETRY_CLAUSE.match(part)
        if match is None:
            return None
        op, version = match.group(1) or "", match.group(2)
        if version == "*":
            continue
        numbers = version.split(".")
        if op == "^":
            clauses += [f">={version}", f"<{_caret_upper(numbers)}"]
        elif op == "~":
            clauses += [f">={version}", f"<{_tilde_upper(numbers)}"]
        elif op == "":
            clauses.append(f"=={version}")
        else:
            clauses.append(f"{op}{version}")
    return ",".join(clauses)


def _release(numbers: list[str]) -> list[int]:
    """The leading numbers of each component: `["1", "2rc1", "x"]` -> `[1, 2]`."""
    found = [re.match(r"\d+", n) for n in numbers]
    return [int(m.group()) for m in found if m is not None]


def _caret_upper(numbers: list[str]) -> str:
    release = _release(numbers) or [0]
    for i, part in enumerate(release):
        if part != 0 or i == len(release) - 1:
            return ".".join([*map(str, release[:i]), str(part + 1)])
    return str(release[0] + 1)


def _tilde_upper(numbers: list[str]) -> str:
    release = _release(numbers) or [0]
    if len(release) == 1:
        return str(release[0] + 1)
    return f"{release[0]}.{release[1] + 1}"


def _poetry_table(
    text: str, table: dict[str, Any], key: str, base: str, dev: bool
) -> Iterator[Dependency]:
    section = table.get(key)
    if not isinstance(section, dict):
        return
    header = base.strip("/").replace("/", ".").replace("~1", "/").replace("~0", "~")
    for name, value in section.items():
        if name.lower() == "python":
            continue
        pointer = f"{base}/{escape_pointer(name)}"
        line = key_line(text, header, name)
        entries = value if isinstance(value, list) else [value]
        for entry in entries:
            yield _poetry_dependency(name, entry, pointer, line, dev)


def _poetry_dependency(
    name: str, value: Any, pointer: str, line: int | None, dev: bool
) -> Dependency:
    if isinstance(value, dict):
        for source in ("git", "url", "path"):
            target = value.get(source)
            if isinstance(target, str):
                reference = target
                for ref in ("rev", "tag", "branch"):
                    if isinstance(value.get(ref), str):
                        reference = f"{target}@{value[ref]}"
                        break
                if source == "git" and not reference.startswith("git+"):
                    reference = f"git+{reference}"
                remote = source != "path"
                return Dependency(
                    ecosystem=ECOSYSTEM,
                    name=name,
                    version=None,
                    specifier=reference,
                    pinned=not remote or bool(_FULL_COMMIT.search(reference)),
                    pointer=pointer,
                    line=line,
                    dev=dev,
                    reference=reference,
                )
        constraint = value.get("version", "*")
        markers = value.get("markers") if isinstance(value.get("markers"), str) else None
    else:
        constraint, markers = value, None
    raw = constraint if isinstance(constraint, str) else "*"
    specifier = poetry_to_pep440(raw)
    version = pinned_version(specifier) if specifier else None
    return Dependency(
        ecosystem=ECOSYSTEM,
        name=name,
        version=version,
        specifier=raw if specifier is None else specifier,
        pinned=version is not None,
        markers=markers,
        pointer=pointer,
        line=line,
        dev=dev,
    )


def _pipfile(text: str, path: Path, display: PurePosixPath) -> tuple[DependencySet, ...]:
    data = parse_toml(text, display)
    found = []
    for section, dev in (("packages", False), ("dev-packages", True)):
        for name, value in _table(data, section).items():
            pointer = f"/{section}/{escape_pointer(name)}"
            line = key_line(text, section, name)
            if isinstance(value, dict):
                reference = next(
                    (value[k] for k in ("git", "path", "file") if isinstance(value.get(k), str)),
                    None,
                )
                if reference is not None:
                    ref = value.get("ref")
                    full = f"{reference}@{ref}" if isinstance(ref, str) else reference
                    remote = "path" not in value
                    found.append(
                        Dependency(
                            ECOSYSTEM,
                            name,
                            None,
                            full,
                            pinned=not remote or bool(_FULL_COMMIT.search(full)),
                            pointer=pointer,
                            line=line,
                            dev=dev,
                            reference=full,
                        )
                    )
                    continue
                value = value.get("version", "*")
            spec = "" if not isinstance(value, str) or value.strip() == "*" else value.strip()
            version = pinned_version(spec) if spec else None
            found.append(
                Dependency(
                    ECOSYSTEM,
                    name,
                    version,
                    spec,
                    pinned=version is not None,
                    pointer=pointer,
                    line=line,
                    dev=dev,
                )
            )
    return (
        DependencySet(
            origin=_origin(display, LineMap.of(found)),
            kind="Pipfile",
            dependencies=tuple(found),
            locked=False,
            application=True,
            lockfile=sibling(path, display, ("Pipfile.lock",)),
        ),
    )


# --- Lockfiles --------------------------------------------------------------------------


def _locked_set(
    display: PurePosixPath, kind: str, found: Sequence[Dependency], lines: Any
) -> tuple[DependencySet, ...]:
    return (
        DependencySet(
            origin=_origin(display, lines),
            kind=kind,
            dependencies=tuple(found),
            locked=True,
            application=True,
        ),
    )


def _packages(data: dict[str, Any], key: str, display: PurePosixPath) -> list[dict[str, Any]]:
    packages = data.get(key, [])
    if not isinstance(packages, list) or not all(isinstance(p, dict) for p in packages):
        raise LoaderError(display, f"`{key}` must be an array of tables")
    return packages


def _name_version(
    package: dict[str, Any],
    display: PurePosixPath,
    line: int | None,
    *,
    version_required: bool = True,
) -> tuple[str, str | None]:
    name, version = package.get("name"), package.get("version")
    if not isinstance(name, str) or not name:
        raise LoaderError(display, "locked package without a name", line)
    if version is not None and not isinstance(version, str):
        raise LoaderError(display, f"locked package {name!r} has a non-string version", line)
    if version is None and version_required:
        raise LoaderError(display, f"locked package {name!r} has no version", line)
    return name, version


def _poetry_lock(text: str, display: PurePosixPath) -> tuple[DependencySet, ...]:
    data = parse_toml(text, display)
    packages = _packages(data, "package", display)
    lines = header_lines(text, "package")
    legacy_files = _table(data, "metadata", "files")
    found = []
    for i, package in enumerate(packages):
        line = lines[i] if i < len(lines) else None
        name, version = _name_version(package, display, line)
        files = package.get("files")
        if not isinstance(files, list):
            files = legacy_files.get(name, [])
        hashes = tuple(
            f["hash"] for f in files if isinstance(f, dict) and isinstance(f.get("hash"), str)
        )
        groups = package.get("groups")
        dev = package.get("category") == "dev" or (
            isinstance(groups, list) and "main" not in groups
        )
        source = _table(package, "source")
        reference = None
        if source.get("type") in ("git", "url", "directory", "file"):
            url = source.get("url")
            commit = source.get("resolved_reference") or source.get("reference")
            reference = f"{url}@{commit}" if commit else str(url)
            if source.get("type") == "git" and not reference.startswith("git+"):
                reference = f"git+{reference}"
        found.append(
            Dependency(
                ECOSYSTEM,
                name,
                version,
                f"=={version}",
                pinned=True,
                direct=False,
                hashes=hashes,
                pointer=f"/package/{i}",
                line=line,
                dev=dev,
                reference=reference,
            )
        )
    return _locked_set(display, "poetry.lock", found, LineMap.of(found))


def _uv_lock(text: str, display: PurePosixPath) -> tuple[DependencySet, ...]:
    data = parse_toml(text, display)
    packages = _packages(data, "package", display)
    lines = header_lines(text, "package")
    found = []
    for i, package in enumerate(packages):
        line = lines[i] if i < len(lines) else None
        source = _table(package, "source")
        if "editable" in source or "virtual" in source:
            continue  # the project itself or a workspace member
        name, version = _name_version(package, display, line, version_required=False)
        hashes = [_table(package, "sdist").get("hash")]
        wheels = package.get("wheels", [])
        hashes += (
            [w.get("hash") for w in wheels if isinstance(w, dict)]
            if isinstance(wheels, list)
            else []
        )
        reference = next(
            (str(source[k]) for k in ("git", "url", "path", "directory") if k in source), None
        )
        if reference is not None and "git" in source and not reference.startswith("git+"):
            reference = f"git+{reference}"
        found.append(
            Dependency(
                ECOSYSTEM,
                name,
                version,
                f"=={version}" if version else "",
                pinned=True,
                direct=False,
                hashes=tuple(h for h in hashes if isinstance(h, str)),
                pointer=f"/package/{i}",
                line=line,
                reference=reference,
            )
        )
    return _locked_set(display, "uv.lock", found, LineMap.of(found))


def _pdm_lock(text: str, display: PurePosixPath) -> tuple[DependencySet, ...]:
    data = parse_toml(text, display)
    packages = _packages(data, "package", display)
    lines = header_lines(text, "package")
    found = []
    for i, package in enumerate(packages):
        line = lines[i] if i < len(lines) else None
        name, version = _name_version(package, display, line)
        files = package.get("files", [])
        hashes = (
            tuple(
                f["hash"] for f in files if isinstance(f, dict) and isinstance(f.get("hash"), str)
            )
            if isinstance(files, list)
            else ()
        )
        groups = package.get("groups")
        found.append(
            Dependency(
                ECOSYSTEM,
                name,
                version,
                f"=={version}",
                pinned=True,
                direct=False,
                hashes=hashes,
                pointer=f"/package/{i}",
                line=line,
                dev=isinstance(groups, list) and "default" not in groups,
            )
        )
    return _locked_set(display, "pdm.lock", found, LineMap.of(found))


def _pylock(text: str, display: PurePosixPath) -> tuple[DependencySet, ...]:
    data = parse_toml(text, display)
    if not isinstance(data.get("lock-version"), str):
        raise LoaderError(display, "not a pylock file: `lock-version` is missing", 1)
    packages = _packages(data, "packages", display)
    lines = header_lines(text, "packages")
    found = []
    for i, package in enumerate(packages):
        line = lines[i] if i < len(lines) else None
        name, version = _name_version(package, display, line, version_required=False)
        hashes: list[str] = []
        for key in ("archive", "sdist"):
            hashes += [f"{k}:{v}" for k, v in _table(package, key, "hashes").items()]
        wheels = package.get("wheels", [])
        for wheel in wheels if isinstance(wheels, list) else []:
            hashes += [f"{k}:{v}" for k, v in _table(wheel, "hashes").items()]
        vcs = _table(package, "vcs")
        reference = None
        if vcs:
            where = vcs.get("url") or vcs.get("path")
            reference = f"{vcs.get('type', 'git')}+{where}@{vcs.get('commit-id')}"
        elif "directory" in package:
            reference = str(_table(package, "directory").get("path"))
        elif version is None and "archive" in package:
            archive = _table(package, "archive")
            reference = str(archive.get("url") or archive.get("path"))
        found.append(
            Dependency(
                ECOSYSTEM,
                name,
                version,
                f"=={version}" if version else "",
                pinned=True,
                direct=False,
                hashes=tuple(hashes),
                markers=package.get("marker") if isinstance(package.get("marker"), str) else None,
                pointer=f"/packages/{i}",
                line=line,
                reference=reference,
            )
        )
    return _locked_set(display, "pylock.toml", found, LineMap.of(found))


def _pipfile_lock(text: str, display: PurePosixPath) -> tuple[DependencySet, ...]:
    data = parse_json(text, display)
    if not isinstance(data, dict) or not isinstance(data.get("_meta"), dict):
        raise LoaderError(display, "not a Pipfile.lock: `_meta` is missing", 1)
    found = []
    for section, dev in (("default", False), ("develop", True)):
        entries = data.get(section, {})
        if not isinstance(entries, dict):
            raise LoaderError(display, f"`{section}` must be an object", 1)
        for name, entry in entries.items():
            pointer = f"/{section}/{escape_pointer(name)}"
            if not isinstance(entry, dict):
                raise LoaderError(display, f"{pointer} must be an object", 1)
            raw_version = entry.get("version")
            version = (
                raw_version[2:]
                if isinstance(raw_version, str) and raw_version.startswith("==")
                else None
            )
            hashes = entry.get("hashes", [])
            reference = next(
                (str(entry[k]) for k in ("git", "path", "file") if isinstance(entry.get(k), str)),
                None,
            )
            if reference is not None and isinstance(entry.get("ref"), str):
                reference = f"{reference}@{entry['ref']}"
            found.append(
                Dependency(
                    ECOSYSTEM,
                    name,
                    version,
                    raw_version if isinstance(raw_version, str) else "",
                    pinned=True,
                    direct=False,
                    hashes=tuple(h for h in hashes if isinstance(h, str))
                    if isinstance(hashes, list)
                    else (),
                    markers=entry.get("markers") if isinstance(entry.get("markers"), str) else None,
                    pointer=pointer,
                    dev=dev,
                    reference=reference,
                )
            )
    return _locked_set(display, "Pipfile.lock", found, JsonLines(text))


# --- Installed trees --------------------------------------------------------------------


def load_site_packages(directory: Path, display: PurePosixPath) -> DependencyFile:
    """Names and versions from the `*.dist-info` and `*.egg-info` entries directly inside
    `directory` (a site-packages, a build folder, a layer's `python/`). Never imports."""
    found: list[Dependency] = []
    errors: list[ScanError] = []
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError as exc:
        raise LoaderError(display, f"cannot list directory: {exc.strerror or exc}") from None
    for entry in entries:
        if entry.name.endswith(".dist-info") and entry.is_dir(follow_symlinks=False):
            metadata = Path(entry.path) / "METADATA"
        elif entry.name.endswith(".egg-info"):
            metadata = (
                Path(entry.path) / "PKG-INFO"
                if entry.is_dir(follow_symlinks=False)
                else Path(entry.path)
            )
        else:
            continue
        shown = display / entry.name
        try:
            name, version = _metadata(metadata, shown, entry.name)
        except LoaderError as exc:
            errors.append(ScanError(exc.path, exc.detail, exc.line))
            continue
        found.append(
            Dependency(
                ECOSYSTEM,
                name,
                version,
                f"=={version}",
                pinned=True,
                direct=False,
                pointer="/" + escape_pointer(entry.name),
            )
        )
    dependency_set = DependencySet(
        origin=Origin(display, display.name or display.as_posix(), RESOURCE_TYPE),
        kind="site-packages",
        dependencies=tuple(found),
        locked=True,
        application=True,
    )
    return DependencyFile((dependency_set,), tuple(errors))


def _metadata(path: Path, shown: PurePosixPath, entry: str) -> tuple[str, str]:
    """`Name` and `Version` from the header block of a METADATA/PKG-INFO file."""
    if path.is_symlink():
        raise LoaderError(shown, "metadata is a symbolic link; not followed")
    try:
        with path.open("rb") as handle:
            head = handle.read(MAX_METADATA_BYTES)
    except OSError as exc:
        raise LoaderError(shown, f"cannot read metadata: {exc.strerror or exc}") from None
    return metadata_name_version(head, shown, entry)


def metadata_name_version(head: bytes, shown: PurePosixPath, entry: str) -> tuple[str, str]:
    """`Name` and `Version` from the header block of METADATA/PKG-INFO bytes, else from the
    `<name>-<version>.dist-info` (or `.egg-info`) name `entry`."""
    headers: dict[str, str] = {}
    for raw in head.decode("utf-8", "replace").splitlines():
        if not raw.strip():
            break
        key, sep, value = raw.partition(":")
        if sep and key in ("Name", "Version"):
            headers.setdefault(key, value.strip())
    stem = entry.rsplit(".", 1)[0]
    guess_name, _, guess_version = stem.partition("-")
    name = headers.get("Name") or guess_name
    version = headers.get("Version") or guess_version.split("-")[0]
    if not name or not version:
        raise LoaderError(shown, "metadata has no Name or Version")
    return name, version
