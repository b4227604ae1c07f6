"""Installed packages inside a deployment `.zip` (a function's package or a layer's), read
in place: nothing is extracted to disk, imported or run.

    Python   every `*.dist-info/METADATA` and `*.egg-info/PKG-INFO` (at the top, under a
             layer's `python/` or `python/lib/python3.X/site-packages/`, or vendored deeper)
    npm      every `node_modules/<name>/package.json`, scoped and nested ones too

The archive is not trusted. Only the central directory and the small metadata members are
read, each under a size cap whatever its header claims; a member that would expand more
than `max_ratio` times is refused (a zip bomb), as are names that are absolute or climb out
with `..`, links and encrypted members. A refused member is an error naming it, and the
others are still read. A zip with no installed packages gives no dependency set.
"""

from __future__ import annotations

import json
import re
import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from lambdashield.errors import LoaderError
from lambdashield.loaders._deps import RESOURCE_TYPE, DependencyFile
from lambdashield.loaders._json import escape_pointer
from lambdashield.loaders.python_deps import metadata_name_version
from lambdashield.model import Dependency, DependencySet, Origin, ScanError

__all__ = ["ZipLimits", "load_deployment_zip", "safe_member_name", "zip_members"]

KIND = "deployment-zip"
MAX_REPORTED = 20
"""Refused members named one by one; the rest are counted."""


@dataclass(frozen=True, slots=True)
class ZipLimits:
    max_archive_bytes: int = 1024 * 1024 * 1024
    """Lambda takes 250 MB unzipped; a bigger archive is not a deployment package."""
    max_members: int = 500_000
    max_member_bytes: int = 1024 * 1024
    """No METADATA or package.json comes near this."""
    max_total_bytes: int = 256 * 1024 * 1024
    """All metadata read from one archive."""
    max_ratio: int = 100
    """Highest expansion allowed for a member above `ratio_floor` bytes."""
    ratio_floor: int = 64 * 1024


_PYTHON_METADATA = re.compile(
    r"(?:.*/)?([^/]+\.dist-info)/METADATA|(?:.*/)?([^/]+\.egg-info)/PKG-INFO"
)
_NPM_MANIFEST = re.compile(r"(?:.*/)?node_modules/((?:@[^/]+/)?[^/@.][^/]*)/package\.json")


def safe_member_name(name: str) -> str | None:
    """Why a member name is refused (absolute, a drive, `..`), or `None` when it is safe."""
    text = name.replace("\\", "/")
    if text.startswith("/") or (len(text) > 1 and text[1] == ":"):
        return "absolute path refused"
    if ".." in text.split("/"):
        return "path with `..` refused"
    return None


def _problem(info: zipfile.ZipInfo, limits: ZipLimits) -> str | None:
    problem = safe_member_name(info.filename)
    if problem is not None:
        return problem
    if info.flag_bits & 0x1:
        return "encrypted member refused"
    mode = info.external_attr >> 16
    if mode and stat.S_ISLNK(mode):
        return "symbolic link refused"
    if info.file_size > limits.max_member_bytes:
        return f"{info.file_size:,} bytes, over the {limits.max_member_bytes:,}-byte limit"
    if info.file_size > limits.ratio_floor and info.file_size > limits.max_ratio * max(
        info.compress_size, 1
    ):
        return (
            f"expands {info.file_size // max(info.compress_size, 1):,} times (a zip bomb?); refused"
        )
    return None


def zip_members(path: Path, display: PurePosixPath, limits: ZipLimits) -> zipfile.ZipFile:
    """The open archive, after the checks that need no member to be read."""
    try:
        size = path.stat().st_size
        if size > limits.max_archive_bytes:
            raise LoaderError(
                display,
                f"archive is {size:,} bytes, over the {limits.max_archive_bytes:,}-byte "
                "limit; not read",
            )
        if not zipfile.is_zipfile(path):
            raise LoaderError(display, "not a zip archive")
        archive = zipfile.ZipFile(path)
    except OSError as exc:
        raise LoaderError(display, f"cannot read archive: {exc.strerror or exc}") from None
    except (zipfile.BadZipFile, EOFError, ValueError) as exc:
        raise LoaderError(display, f"corrupt zip archive: {exc}") from None
    if len(archive.infolist()) > limits.max_members:
        archive.close()
        raise LoaderError(
            display, f"more than {limits.max_members:,} members; not read (a zip bomb?)"
        )
    return archive


class _Reading:
    def __init__(self, archive: zipfile.ZipFile, display: PurePosixPath, limits: ZipLimits):
        self.archive = archive
        self.display = display
        self.limits = limits
        self.total = 0
        self.errors: list[ScanError] = []
        self.refused = 0

    def refuse(self, name: str, problem: str) -> None:
        self.refused += 1
        if self.refused <= MAX_REPORTED:
            self.errors.append(ScanError(self.display, f"member `{name}`: {problem}"))

    def finish(self) -> tuple[ScanError, ...]:
        if self.refused > MAX_REPORTED:
            more = self.refused - MAX_REPORTED
            self.errors.append(ScanError(self.display, f"... and {more:,} more members refused"))
        return tuple(self.errors)

    def read(self, info: zipfile.ZipInfo) -> bytes | None:
        problem = _problem(info, self.limits)
        if problem is None and self.total + info.file_size > self.limits.max_total_bytes:
            problem = f"over the {self.limits.max_total_bytes:,}-byte total for metadata"
        if problem is not None:
            self.refuse(info.filename, problem)
            return None
        try:
            with self.archive.open(info) as handle:
                data = handle.read(self.limits.max_member_bytes + 1)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
            self.refuse(info.filename, f"cannot read: {exc}")
            return None
        self.total += len(data)
        if len(data) > self.limits.max_member_bytes:
            self.refuse(info.filename, "larger than its header says; refused")
            return None
        return data


def _python(reading: _Reading, info: zipfile.ZipInfo, entry: str) -> Dependency | None:
    data = reading.read(info)
    if data is None:
        return None
    folder = info.filename.rsplit("/", 1)[0]
    try:
        name, version = metadata_name_version(data, reading.display / folder, entry)
    except LoaderError as exc:
        reading.errors.append(ScanError(reading.display, f"member `{folder}`: {exc.detail}"))
        return None
    return Dependency(
        "PyPI",
        name,
        version,
        f"=={version}",
        pinned=True,
        direct=False,
        pointer="/" + escape_pointer(folder),
    )


def _npm(reading: _Reading, info: zipfile.ZipInfo) -> Dependency | None:
    data = reading.read(info)
    if data is None:
        return None
    try:
        manifest = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        reading.refuse(info.filename, "not a JSON package.json")
        return None
    name = manifest.get("name") if isinstance(manifest, dict) else None
    version = manifest.get("version") if isinstance(manifest, dict) else None
    if not isinstance(name, str) or not isinstance(version, str):
        reading.refuse(info.filename, "package.json has no name or version")
        return None
    folder = info.filename.rsplit("/", 1)[0]
    return Dependency(
        "npm",
        name,
        version,
        version,
        pinned=True,
        direct=folder.count("node_modules/") == 1,
        pointer="/" + escape_pointer(folder),
    )


def _installed(reading: _Reading) -> Iterator[Dependency]:
    for info in sorted(reading.archive.infolist(), key=lambda i: i.filename):
        if info.is_dir():
            continue
        name = info.filename
        python = _PYTHON_METADATA.fullmatch(name)
        if python is not None:
            found = _python(reading, info, python.group(1) or python.group(2))
        elif _NPM_MANIFEST.fullmatch(name) is not None:
            found = _npm(reading, info)
        else:
            unsafe = safe_member_name(name)
            if unsafe is not None:
                reading.refuse(name, unsafe)
            continue
        if found is not None:
            yield found


def load_deployment_zip(
    path: Path, display: PurePosixPath, *, limits: ZipLimits | None = None
) -> DependencyFile:
    """The packages installed in the archive, as one locked set (none when it holds no
    installed package). Raises `LoaderError` when the archive itself cannot be read."""
    limits = limits or ZipLimits()
    with zip_members(path, display, limits) as archive:
        reading = _Reading(archive, display, limits)
        found: dict[tuple[str, str, str | None], Dependency] = {}
        for dependency in _installed(reading):
            found.setdefault(
                (dependency.ecosystem, dependency.name, dependency.version), dependency
            )
    errors = reading.finish()
    if not found:
        return DependencyFile((), errors)
    dependency_set = DependencySet(
        origin=Origin(display, display.name, RESOURCE_TYPE),
        kind=KIND,
        dependencies=tuple(found.values()),
        locked=True,
        application=True,
    )
    return DependencyFile((dependency_set,), errors)
