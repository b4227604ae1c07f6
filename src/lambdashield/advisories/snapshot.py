"""`lambdashield deps snapshot`: the advisories of a deployment package, decided in advance,
for the function to check itself at cold start (`lambdashield.runtime.selfscan`).

The packages are what the runtime will see: the `<name>-<version>.dist-info` (and
`.egg-info`) names at the top of the package, under a layer's `python/` or under
`python/lib/python3.X/site-packages/`. In a deployment `.zip` only the names in its central
directory are read; no member is decompressed or extracted, names that are absolute or
climb with `..` are skipped, and an archive with too many members is refused.

Each installed version is evaluated against the store once, here, so the runtime needs no
version parsing: it looks its installed version up in the snapshot's exact version keys.
A version the snapshot does not list (the package changed after the snapshot was made) is
reported by the runtime as not checked, never as safe.

The file, compact JSON with sorted keys (byte-stable for the same package and store):

    {"format": "lambdashield-snapshot", "version": 1,
     "source": "orders.zip", "advisories_as_of": "2026-11-01T00:00:00Z",
     "packages": {"requests": {"2.19.0": [["CVE-2018-18074", "medium", "2.20.0", ""]]},
                  "urllib3": {"1.26.18": []}}}

`packages` is keyed by PEP 503 name, then by the version exactly as the `.dist-info` name
writes it; an empty list means no known vulnerability. Each vulnerability is
`[id, severity, fixed, flag]`: its CVE (else its own advisory ID), critical/high/medium/low,
the lowest version that fixes it, and `malicious`, or `unchecked` for an advisory that could
not be decided for the version; `""` where there is none. Summaries and aliases are left
out: the runtime reports IDs, severity and fix, and parsing the rest would cost the cold
start more than the whole check (`lambdashield scan` gives the full picture).
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from lambdashield.advisories.osv import Vulnerability, evaluate, normalize_name
from lambdashield.advisories.store import AdvisoryStore
from lambdashield.errors import AdvisoryError

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "InstalledName",
    "build_snapshot",
    "installed_names",
    "parse_entry",
    "write_snapshot",
]

FORMAT = "lambdashield-snapshot"
FORMAT_VERSION = 1
MAX_MEMBERS = 500_000
MAX_ARCHIVE_BYTES = 1024 * 1024 * 1024
_LAYER_SITE = re.compile(r"python/lib/python\d+\.\d+/site-packages")


@dataclass(frozen=True, slots=True)
class InstalledName:
    """One installed distribution as its metadata folder names it."""

    name: str
    """PEP 503 normalised."""
    version: str
    """As written in the folder name."""
    entry: str
    """The folder's path inside the package (`python/PyYAML-6.0.1.dist-info`)."""


def parse_entry(entry: str) -> tuple[str, str] | None:
    """`PyYAML-6.0.1.dist-info` -> (`pyyaml`, `6.0.1`); egg-info's `-py3.9` tag dropped."""
    if entry.endswith(".dist-info"):
        stem = entry[: -len(".dist-info")]
    elif entry.endswith(".egg-info"):
        stem = entry[: -len(".egg-info")]
    else:
        return None
    name, sep, rest = stem.partition("-")
    version = rest.split("-", 1)[0]
    if not sep or not name or not version:
        return None
    return normalize_name("PyPI", name), version


def _site_folders(root: Path) -> Iterator[tuple[Path, str]]:
    yield root, ""
    python = root / "python"
    if python.is_dir() and not python.is_symlink():
        yield python, "python/"
        lib = python / "lib"
        if lib.is_dir() and not lib.is_symlink():
            for version in sorted(p.name for p in lib.iterdir()):
                site = lib / version / "site-packages"
                if version.startswith("python") and site.is_dir() and not site.is_symlink():
                    yield site, f"python/lib/{version}/site-packages/"


def _from_folder(root: Path) -> Iterator[InstalledName]:
    for folder, prefix in _site_folders(root):
        with os.scandir(folder) as entries:
            for entry in entries:
                parsed = parse_entry(entry.name)
                if parsed is not None:
                    yield InstalledName(parsed[0], parsed[1], prefix + entry.name)


def _safe(name: str) -> bool:
    text = name.replace("\\", "/")
    return not (
        text.startswith("/") or (len(text) > 1 and text[1] == ":") or ".." in text.split("/")
    )


def _from_zip(path: Path) -> Iterator[InstalledName]:
    if path.stat().st_size > MAX_ARCHIVE_BYTES:
        raise AdvisoryError(f"{path}: over {MAX_ARCHIVE_BYTES:,} bytes; not a deployment package")
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        if len(names) > MAX_MEMBERS:
            raise AdvisoryError(f"{path}: more than {MAX_MEMBERS:,} members; not read")
    seen: set[str] = set()
    for member in names:
        if not _safe(member):
            continue
        parts = member.split("/")
        for depth in (1, 2, 5):
            if len(parts) < depth:
                break
            prefix = "/".join(parts[: depth - 1])
            if depth == 2 and prefix != "python":
                continue
            if depth == 5 and not _LAYER_SITE.fullmatch(prefix):
                continue
            entry = "/".join(parts[:depth])
            parsed = parse_entry(parts[depth - 1])
            if parsed is not None and entry not in seen:
                seen.add(entry)
                yield InstalledName(parsed[0], parsed[1], entry)


def installed_names(path: Path) -> list[InstalledName]:
    """The distributions a deployment package (folder, build folder or `.zip`) installs."""
    try:
        if path.is_dir():
            found = list(_from_folder(path))
        elif zipfile.is_zipfile(path):
            found = list(_from_zip(path))
        elif path.exists():
            raise AdvisoryError(f"{path}: not a folder or a zip archive")
        else:
            raise AdvisoryError(f"{path}: no such file or directory")
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        detail = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise AdvisoryError(f"{path}: cannot read: {detail}") from None
    return sorted(found, key=lambda i: (i.name, i.version, i.entry))


def _entry(vulnerability: Vulnerability, *, unchecked: bool = False) -> list[str]:
    """`[id, severity, fixed, flag]`: the CVE (else the advisory's own ID), the rating, the
    lowest fixing version, and `malicious` or `unchecked`; `""` where there is none."""
    names = sorted({*vulnerability.ids, *vulnerability.aliases})
    cves = [n for n in names if n.startswith("CVE-")]
    flag = "unchecked" if unchecked else "malicious" if vulnerability.malicious else ""
    return [
        cves[0] if cves else vulnerability.ids[0],
        vulnerability.rating or "",
        vulnerability.fixed[0] if vulnerability.fixed else "",
        flag,
    ]


def build_snapshot(
    installed: Iterable[InstalledName], store: AdvisoryStore, *, source: str
) -> dict[str, Any]:
    """The snapshot document for `installed`, decided against `store`."""
    wanted = list(installed)
    known = store.advisories("PyPI", {i.name for i in wanted})
    packages: dict[str, dict[str, list[list[str]]]] = {}
    for item in wanted:
        versions = packages.setdefault(item.name, {})
        if item.version in versions:
            continue
        advisories = known.get(item.name, ())
        verdict = evaluate("PyPI", item.name, item.version, "", advisories)
        versions[item.version] = sorted(
            [_entry(v) for v in verdict.vulnerabilities]
            + [_entry(v, unchecked=True) for v in verdict.unchecked],
            key=lambda e: e[0],
        )
    status = store.status(max_age=timedelta(days=365_000))
    pypi = next((e for e in status.ecosystems if e.name == "PyPI"), None)
    as_of = pypi.newest_modified if pypi is not None else None
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "source": source,
        "advisories_as_of": as_of.strftime("%Y-%m-%dT%H:%M:%SZ") if as_of else None,
        "packages": packages,
    }


def write_snapshot(document: dict[str, Any], out: Path) -> None:
    """Write atomically: a reader never sees half a snapshot."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    temporary = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    try:
        temporary.write_text(text + "\n", encoding="utf-8")
        temporary.replace(out)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise AdvisoryError(f"cannot write {out}: {exc.strerror or exc}") from None
