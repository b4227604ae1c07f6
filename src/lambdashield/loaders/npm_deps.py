"""npm dependency files and installed trees, into `DependencySet`s. Nothing is run.

    package.json        dependencies, devDependencies, optionalDependencies, peerDependencies
    package-lock.json   lockfile versions 1 (nested `dependencies`), 2 and 3 (`packages`);
                        npm-shrinkwrap.json has the same format
    yarn.lock           classic (v1, its own line format) and berry (YAML)
    pnpm-lock.yaml      lockfile versions 5, 6 and 9
    node_modules        the `package.json` of every installed package, nested ones too

YAML goes through the position-keeping loader with its node and depth caps; a lockfile
that does not have the shape of its format is an error naming the file and the line.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from lambdashield.errors import LoaderError
from lambdashield.loaders import _names
from lambdashield.loaders._deps import RESOURCE_TYPE, DependencyFile, LineMap
from lambdashield.loaders._json import JsonLines, escape_pointer, parse_json, read_text
from lambdashield.loaders._yaml import load_yaml
from lambdashield.model import Dependency, DependencySet, Origin, ScanError

__all__ = ["NPM_FILE", "load_node_modules", "load_npm_file"]

ECOSYSTEM = "npm"
NPM_FILE = _names.NPM_FILE
LOCKFILES = ("package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lock")
MAX_INSTALLED = 200_000
_EXACT = re.compile(r"=?v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?")
_REMOTE_SPEC = re.compile(
    r"^(?:git\+|git://|https?://|github:|gitlab:|bitbucket:|gist:)|^[\w.-]+/[\w.-]+(?:#.*)?$"
)
_FULL_COMMIT = re.compile(r"#[0-9a-f]{40}$")
_SECTIONS = (
    ("dependencies", False),
    ("optionalDependencies", False),
    ("peerDependencies", False),
    ("devDependencies", True),
)


def load_npm_file(
    path: Path, display: PurePosixPath, *, max_bytes: int, root: Path | None = None
) -> DependencyFile:
    """Read one npm dependency file. `root` bounds the search for a workspace's lockfile
    above a `package.json` (default: only its own directory)."""
    text = read_text(path, display, max_bytes)
    name = path.name
    if name == "package.json":
        return DependencyFile((_package_json(text, path, display, root),))
    if name in ("package-lock.json", "npm-shrinkwrap.json"):
        return DependencyFile((_package_lock(text, path, display),))
    if name == "yarn.lock":
        if re.search(r"^__metadata:", text, re.MULTILINE):
            return DependencyFile((_yarn_berry(text, display),))
        return DependencyFile((_yarn_classic(text, display),))
    if name == "pnpm-lock.yaml":
        return DependencyFile((_pnpm(text, display),))
    raise LoaderError(display, "not an npm dependency file")


def _origin(display: PurePosixPath, lines: Any) -> Origin:
    return Origin(display, display.name, RESOURCE_TYPE, "", lines)


def _spec(name: str, spec: str) -> tuple[str, str | None, bool, str | None]:
    """`(real name, exact version, pinned, reference)` of a manifest specifier."""
    text = spec.strip()
    if text.startswith("npm:"):
        real, _, inner = text[4:].rpartition("@")
        if not real:
            real, inner = text[4:], ""
        return (real, *_spec(real, inner)[1:])
    if _EXACT.fullmatch(text):
        return name, text.lstrip("=v"), True, None
    lowered = text.lower()
    if lowered.startswith(("file:", "link:", "workspace:", "portal:")) or text.startswith(
        (".", "/", "~/")
    ):
        return name, None, True, text
    if _REMOTE_SPEC.match(text):
        return name, None, bool(_FULL_COMMIT.search(text)), text
    return name, None, False, None


def _root_names(data: Any) -> set[str]:
    if not isinstance(data, dict):
        return set()
    return {
        n for section, _ in _SECTIONS if isinstance(data.get(section), dict) for n in data[section]
    }


def _find_lockfile(path: Path, display: PurePosixPath, root: Path | None) -> PurePosixPath | None:
    """A lockfile beside the manifest, or above it inside `root` (a workspace's root)."""
    directory, shown = path.parent.resolve(), display.parent
    limit = (root or path.parent).resolve()
    while True:
        for name in LOCKFILES:
            if (directory / name).is_file():
                return shown / name
        if directory == limit or limit not in directory.parents:
            return None
        directory, shown = directory.parent, shown.parent


def _package_json(
    text: str, path: Path, display: PurePosixPath, root: Path | None
) -> DependencySet:
    data = parse_json(text, display)
    if not isinstance(data, dict):
        raise LoaderError(display, "package.json must be a JSON object", 1)
    found = []
    for section, dev in _SECTIONS:
        entries = data.get(section)
        if entries is None:
            continue
        if not isinstance(entries, dict):
            raise LoaderError(display, f"`{section}` must be an object", 1)
        for name, spec in entries.items():
            pointer = f"/{section}/{escape_pointer(name)}"
            if not isinstance(spec, str):
                raise LoaderError(display, f"{pointer} must be a string", 1)
            real, version, pinned, reference = _spec(name, spec)
            found.append(
                Dependency(
                    ECOSYSTEM,
                    real,
                    version,
                    spec,
                    pinned=pinned,
                    pointer=pointer,
                    dev=dev,
                    reference=reference,
                )
            )
    return DependencySet(
        origin=_origin(display, JsonLines(text)),
        kind="package.json",
        dependencies=tuple(found),
        locked=False,
        application=data.get("private") is True,
        lockfile=_find_lockfile(path, display, root),
    )


def _locked(
    name: str,
    version: str | None,
    pointer: str,
    *,
    resolved: Any = None,
    integrity: Any = None,
    dev: bool = False,
    direct: bool = False,
    nested: bool = False,
    line: int | None = None,
) -> Dependency:
    reference = None
    if isinstance(resolved, str) and not resolved.startswith(("http://", "https://")):
        reference = resolved
    if version is not None and not _EXACT.fullmatch(version):
        real, exact, _, ref = _spec(name, version)
        if exact is not None:
            name, version = real, exact
        else:
            reference, version = ref or version, None
    elif isinstance(resolved, str) and resolved.startswith(("git+", "git:")):
        reference = resolved
    return Dependency(
        ECOSYSTEM,
        name,
        version,
        version or reference or "",
        pinned=True,
        direct=direct,
        hashes=(integrity,) if isinstance(integrity, str) else (),
        pointer=pointer,
        line=line,
        dev=dev,
        reference=reference,
        nested=nested,
    )


def _package_lock(text: str, path: Path, display: PurePosixPath) -> DependencySet:
    data = parse_json(text, display)
    if not isinstance(data, dict):
        raise LoaderError(display, "a package lock must be a JSON object", 1)
    version = data.get("lockfileVersion")
    if version not in (1, 2, 3):
        raise LoaderError(display, f"unsupported lockfileVersion {version!r}", 1)
    packages = data.get("packages")
    if version >= 2 and isinstance(packages, dict):
        found = list(_lock_packages(packages, display))
    else:
        direct = _root_names(_sibling_manifest(path))
        tree = data.get("dependencies", {})
        if not isinstance(tree, dict):
            raise LoaderError(display, "`dependencies` must be an object", 1)
        found = list(_lock_tree(tree, "/dependencies", display, direct, top=True))
    return DependencySet(
        origin=_origin(display, JsonLines(text)),
        kind=path.name,
        dependencies=tuple(found),
        locked=True,
        application=True,
    )


def _sibling_manifest(path: Path) -> Any:
    try:
        return json.loads((path.parent / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _lock_packages(packages: dict[str, Any], display: PurePosixPath) -> Iterator[Dependency]:
    direct = _root_names(packages.get(""))
    for key, entry in packages.items():
        if key == "" or "node_modules/" not in f"/{key}":
            continue  # the root project and workspace folders
        pointer = f"/packages/{escape_pointer(key)}"
        if not isinstance(entry, dict):
            raise LoaderError(display, f"{pointer} must be an object", 1)
        if entry.get("link") is True:
            continue
        name = entry.get("name") or key.rsplit("node_modules/", 1)[1]
        version = entry.get("version")
        if not isinstance(name, str) or (version is not None and not isinstance(version, str)):
            raise LoaderError(display, f"{pointer}: name and version must be strings", 1)
        nested = key.count("node_modules/") > 1
        yield _locked(
            name,
            version,
            pointer,
            resolved=entry.get("resolved"),
            integrity=entry.get("integrity"),
            dev=entry.get("dev") is True,
            direct=not nested and name in direct,
            nested=nested,
        )


def _lock_tree(
    tree: dict[str, Any], base: str, display: PurePosixPath, direct: set[str], *, top: bool
) -> Iterator[Dependency]:
    for name, entry in tree.items():
        pointer = f"{base}/{escape_pointer(name)}"
        if not isinstance(entry, dict):
            raise LoaderError(display, f"{pointer} must be an object", 1)
        version = entry.get("version")
        if not isinstance(version, str):
            raise LoaderError(display, f"{pointer}/version must be a string", 1)
        yield _locked(
            name,
            version,
            pointer,
            resolved=entry.get("resolved"),
            integrity=entry.get("integrity"),
            dev=entry.get("dev") is True,
            direct=top and (not direct or name in direct),
            nested=not top,
        )
        children = entry.get("dependencies")
        if isinstance(children, dict):
            yield from _lock_tree(children, f"{pointer}/dependencies", display, direct, top=False)


def _package_of(spec: str) -> str:
    """`@scope/name@^1.0.0` -> `@scope/name`: everything before the version's `@`."""
    at = spec.find("@", 1)
    return spec if at < 0 else spec[:at]


_YARN_ENTRY = re.compile(r"^(\S.*):\s*$")
_YARN_FIELD = re.compile(r'^  ([A-Za-z]+) "?([^"]*)"?\s*$')


def _yarn_classic(text: str, display: PurePosixPath) -> DependencySet:
    if "# yarn lockfile v1" not in text[:500] and text.strip():
        raise LoaderError(display, "not a yarn lockfile (no `# yarn lockfile v1` header)", 1)
    found: list[Dependency] = []
    lines = LineMap()
    entry: dict[str, str] = {}
    header: tuple[int, list[str]] | None = None

    def flush() -> None:
        if header is None:
            return
        number, specs = header
        version = entry.get("version")
        if version is None:
            raise LoaderError(display, f"entry `{specs[0]}` has no version", number)
        pointer = "/" + escape_pointer(specs[0])
        lines.add(pointer, number)
        name = _package_of(specs[0])
        spec = specs[0][len(name) + 1 :]
        if spec.startswith("npm:"):
            name = _package_of(spec[4:])
        found.append(
            _locked(
                name,
                version,
                pointer,
                resolved=entry.get("resolved"),
                integrity=entry.get("integrity"),
                line=number,
            )
        )

    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip() or raw.startswith("#"):
            continue
        if not raw.startswith(" "):
            match = _YARN_ENTRY.match(raw)
            if match is None:
                raise LoaderError(display, "expected an entry header ending with `:`", number)
            flush()
            entry = {}
            specs = [s.strip().strip('"') for s in match.group(1).split(",")]
            header = (number, specs)
        elif header is None:
            raise LoaderError(display, "indented line outside any entry", number)
        elif not raw.startswith("    "):
            field = _YARN_FIELD.match(raw)
            if field is not None:
                entry[field.group(1)] = field.group(2)
    flush()
    return DependencySet(
        origin=_origin(display, lines),
        kind="yarn.lock",
        dependencies=tuple(found),
        locked=True,
        application=True,
    )


def _yarn_berry(text: str, display: PurePosixPath) -> DependencySet:
    document = load_yaml(text, display)
    data = document.data
    if not isinstance(data, dict):
        raise LoaderError(display, "a yarn lockfile must be a mapping", 1)
    found = []
    for key, entry in data.items():
        if key == "__metadata":
            continue
        pointer = "/" + escape_pointer(key)
        line = document.lines(pointer)[0]
        if not isinstance(entry, dict):
            raise LoaderError(display, f"entry `{key}` must be a mapping", line)
        resolution = entry.get("resolution")
        version = entry.get("version")
        if not isinstance(resolution, str) or not isinstance(version, str):
            raise LoaderError(display, f"entry `{key}` needs a resolution and a version", line)
        if entry.get("linkType") == "soft" or "@workspace:" in resolution:
            continue
        name = _package_of(resolution)
        protocol = resolution[len(name) + 1 :]
        reference = None
        if not protocol.startswith(("npm:", "patch:")):
            reference = protocol
        checksum = entry.get("checksum")
        found.append(
            Dependency(
                ECOSYSTEM,
                name,
                None if reference else version,
                version,
                pinned=True,
                direct=False,
                hashes=(str(checksum),) if checksum else (),
                pointer=pointer,
                line=line,
                reference=reference,
            )
        )
    return DependencySet(
        origin=_origin(display, document.lines),
        kind="yarn.lock",
        dependencies=tuple(found),
        locked=True,
        application=True,
    )


def _pnpm_key(key: str, lockfile_version: float) -> tuple[str, str]:
    """`(name, version)` from a `packages` key: `/name/1.0.0_peer` before version 6,
    `/name@1.0.0(peer)` in 6, `name@1.0.0` from 9 on."""
    text = key.lstrip("/").split("(", 1)[0]
    if lockfile_version < 6:
        name, _, version = text.rpartition("/")
        return name, version.split("_", 1)[0]
    at = text.find("@", 1)
    return (text[:at], text[at + 1 :]) if at > 0 else (text, "")


def _pnpm(text: str, display: PurePosixPath) -> DependencySet:
    document = load_yaml(text, display)
    data = document.data
    if not isinstance(data, dict) or "lockfileVersion" not in data:
        raise LoaderError(display, "not a pnpm lockfile: `lockfileVersion` is missing", 1)
    importers = data.get("importers")
    roots = list(importers.values()) if isinstance(importers, dict) else [data]
    direct: set[str] = set()
    dev_only: set[str] = set()
    for importer in roots:
        if isinstance(importer, dict):
            prod = _root_names({k: v for k, v in importer.items() if k != "devDependencies"})
            for_dev = set(importer.get("devDependencies") or {})
            direct |= prod | for_dev
            dev_only |= for_dev - prod
    try:
        lockfile_version = float(str(data["lockfileVersion"]).split(".", 1)[0])
    except ValueError:
        raise LoaderError(display, "`lockfileVersion` is not a number", 1) from None
    packages = data.get("packages") or {}
    if not isinstance(packages, dict):
        raise LoaderError(display, "`packages` must be a mapping", document.lines("/packages")[0])
    found = []
    for key, entry in packages.items():
        pointer = f"/packages/{escape_pointer(str(key))}"
        line = document.lines(pointer)[0]
        if not isinstance(entry, dict):
            raise LoaderError(display, f"package `{key}` must be a mapping", line)
        name, version = _pnpm_key(str(key), lockfile_version)
        if isinstance(entry.get("name"), str):
            name = entry["name"]
        if isinstance(entry.get("version"), str):
            version = entry["version"]
        resolution = entry.get("resolution") or {}
        if not isinstance(resolution, dict):
            raise LoaderError(display, f"package `{key}`: `resolution` must be a mapping", line)
        reference = None
        if "tarball" in resolution or resolution.get("type") in ("git", "directory"):
            reference = str(
                resolution.get("tarball") or resolution.get("repo") or resolution.get("directory")
            )
            if resolution.get("commit"):
                reference += f"#{resolution['commit']}"
        if not _EXACT.fullmatch(version):
            reference, version = reference or str(key), ""
        dev = entry.get("dev") is True or (entry.get("dev") is None and name in dev_only)
        found.append(
            Dependency(
                ECOSYSTEM,
                name,
                version or None,
                version,
                pinned=True,
                direct=name in direct,
                hashes=(resolution["integrity"],)
                if isinstance(resolution.get("integrity"), str)
                else (),
                pointer=pointer,
                line=line,
                dev=dev,
                reference=reference,
            )
        )
    return DependencySet(
        origin=_origin(display, document.lines),
        kind="pnpm-lock.yaml",
        dependencies=tuple(found),
        locked=True,
        application=True,
    )


# --- Installed trees --------------------------------------------------------------------


def load_node_modules(directory: Path, display: PurePosixPath) -> DependencyFile:
    """Every package installed under a `node_modules` folder, from its own package.json.

    Symbolic links (workspace links, pnpm's links into its store) are not followed; pnpm's
    store under `.pnpm` is read directly. Each name and version is reported once.
    """
    found: dict[tuple[str, str], Dependency] = {}
    errors: list[ScanError] = []
    for relative, package_dir in _installed(directory, PurePosixPath()):
        shown = display / relative / "package.json"
        try:
            data = json.loads((package_dir / "package.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            errors.append(ScanError(shown, f"cannot read installed package: {exc}"))
            continue
        name, version = (
            (data.get("name"), data.get("version")) if isinstance(data, dict) else (None, None)
        )
        if not isinstance(name, str) or not isinstance(version, str):
            errors.append(ScanError(shown, "installed package.json has no name or version"))
            continue
        # pnpm's store (`.pnpm/x@1/node_modules/x`) holds every package, hoisted or not.
        nested = "node_modules" in relative.parts and relative.parts[0] != ".pnpm"
        earlier = found.get((name, version))
        if earlier is None or (earlier.nested and not nested):
            # One entry per name and version: the copy a handler loads, when there is one.
            found[name, version] = Dependency(
                ECOSYSTEM,
                name,
                version,
                version,
                pinned=True,
                direct="node_modules" not in relative.parts,
                pointer="/" + escape_pointer(relative.as_posix()),
                nested=nested,
            )
        if len(found) > MAX_INSTALLED:
            errors.append(
                ScanError(display, f"more than {MAX_INSTALLED:,} packages; the rest skipped")
            )
            break
    dependency_set = DependencySet(
        origin=Origin(display, display.name or display.as_posix(), RESOURCE_TYPE),
        kind="node_modules",
        dependencies=tuple(found.values()),
        locked=True,
        application=True,
    )
    return DependencyFile((dependency_set,), tuple(errors))


def _children(directory: Path) -> list[os.DirEntry[str]]:
    try:
        return sorted(
            (e for e in os.scandir(directory) if e.is_dir(follow_symlinks=False)),
            key=lambda e: e.name,
        )
    except OSError:
        return []


def _installed(
    directory: Path, relative: PurePosixPath, depth: int = 0
) -> Iterator[tuple[PurePosixPath, Path]]:
    if depth > 32:
        return
    for entry in _children(directory):
        if entry.name == ".pnpm":
            for store in _children(Path(entry.path)):
                inner = Path(store.path) / "node_modules"
                if inner.is_dir():
                    yield from _installed(
                        inner, relative / ".pnpm" / store.name / "node_modules", depth + 1
                    )
            continue
        if entry.name.startswith("."):
            continue
        packages = _children(Path(entry.path)) if entry.name.startswith("@") else [entry]
        for package in packages:
            name = f"{entry.name}/{package.name}" if entry.name.startswith("@") else package.name
            package_dir = Path(package.path)
            if (package_dir / "package.json").is_file():
                yield relative / name, package_dir
            nested = package_dir / "node_modules"
            if nested.is_dir() and not nested.is_symlink():
                yield from _installed(nested, relative / name / "node_modules", depth + 1)
