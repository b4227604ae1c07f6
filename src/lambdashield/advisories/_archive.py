"""Reading the JSON files of a zip, a tarball or a folder, without trusting the archive.

Nothing is extracted to disk. Every entry is read into memory under a size cap, whatever
its header claims; the total is capped too, and a zip entry that expands more than
`max_ratio` times is refused (a zip bomb). Names that are absolute or climb with `..`, links
and special files are refused per entry, and the rest of the archive is still read.
"""

from __future__ import annotations

import os
import stat
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from lambdashield.errors import AdvisoryError

__all__ = ["Entry", "Limits", "read_entries"]


@dataclass(frozen=True, slots=True)
class Limits:
    max_entry_bytes: int = 16 * 1024 * 1024
    """No OSV document comes near this; a bigger one is refused unread."""
    max_total_bytes: int = 4 * 1024 * 1024 * 1024
    max_entries: int = 2_000_000
    max_ratio: int = 200
    """Highest expansion allowed for a compressed entry above 1 MiB."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One file of the source: its bytes, or why it was not read."""

    name: str
    data: bytes | None
    problem: str | None = None


_RATIO_FLOOR = 1024 * 1024


def _unsafe_name(name: str) -> str | None:
    text = name.replace("\\", "/")
    if text.startswith("/") or (len(text) > 1 and text[1] == ":"):
        return "absolute path refused"
    if ".." in PurePosixPath(text).parts:
        return "path with `..` refused"
    return None


def read_entries(source: Path, limits: Limits | None = None) -> Iterator[Entry]:
    """The `.json` entries of a zip, tarball, folder or single JSON file, in name order.

    Raises `AdvisoryError` when the source itself cannot be read; a bad entry is yielded
    with its `problem` and reading goes on.
    """
    limits = limits or Limits()
    try:
        if source.is_dir():
            yield from _folder(source, limits)
        elif zipfile.is_zipfile(source):
            yield from _zip(source, limits)
        elif source.is_file() and tarfile.is_tarfile(source):
            yield from _tar(source, limits)
        elif source.is_file() and source.suffix == ".json":
            yield from _single(source, limits)
        elif not source.exists():
            raise AdvisoryError(f"{source}: no such file or directory")
        else:
            raise AdvisoryError(f"{source}: not a zip, a tarball, a folder or a JSON file")
    except (OSError, zipfile.BadZipFile, tarfile.TarError, EOFError) as exc:
        detail = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise AdvisoryError(f"{source}: cannot read: {detail}") from None


class _Budget:
    def __init__(self, limits: Limits, source: Path) -> None:
        self.limits = limits
        self.source = source
        self.bytes = 0
        self.entries = 0

    def take(self, size: int) -> None:
        self.entries += 1
        self.bytes += size
        if self.entries > self.limits.max_entries:
            raise AdvisoryError(
                f"{self.source}: more than {self.limits.max_entries:,} entries; not imported"
            )
        if self.bytes > self.limits.max_total_bytes:
            raise AdvisoryError(
                f"{self.source}: expands to more than {self.limits.max_total_bytes:,} bytes; "
                "not imported (an archive bomb?)"
            )


def _too_big(size: int, limits: Limits) -> str:
    return f"{size:,} bytes, over the {limits.max_entry_bytes:,}-byte limit for one advisory"


def _zip(source: Path, limits: Limits) -> Iterator[Entry]:
    budget = _Budget(limits, source)
    with zipfile.ZipFile(source) as archive:
        for info in sorted(archive.infolist(), key=lambda i: i.filename):
            name = info.filename
            if info.is_dir() or not name.lower().endswith(".json"):
                continue
            problem = _unsafe_name(name)
            if problem is None and info.flag_bits & 0x1:
                problem = "encrypted entry refused"
            mode = info.external_attr >> 16
            if problem is None and mode and stat.S_ISLNK(mode):
                problem = "symbolic link refused"
            if problem is None and info.file_size > limits.max_entry_bytes:
                problem = _too_big(info.file_size, limits)
            if (
                problem is None
                and info.file_size > _RATIO_FLOOR
                and info.file_size > limits.max_ratio * max(info.compress_size, 1)
            ):
                problem = (
                    f"expands {info.file_size // max(info.compress_size, 1):,} times "
                    "(a zip bomb?); refused"
                )
            if problem is not None:
                yield Entry(name, None, problem)
                continue
            budget.take(info.file_size)
            try:
                with archive.open(info) as handle:
                    data = handle.read(limits.max_entry_bytes + 1)
            except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
                yield Entry(name, None, f"cannot read entry: {exc}")
                continue
            if len(data) > limits.max_entry_bytes:
                yield Entry(name, None, _too_big(len(data), limits))
                continue
            yield Entry(name, data)


def _tar(source: Path, limits: Limits) -> Iterator[Entry]:
    """Members in archive order. Every member's declared size counts against the total
    before the stream moves past it, since skipping a member decompresses it too."""
    budget = _Budget(limits, source)
    with tarfile.open(source, mode="r:*") as archive:
        for member in archive:
            budget.take(member.size)
            name = member.name
            if member.isdir() or not name.lower().endswith(".json"):
                continue
            problem = _unsafe_name(name)
            if problem is None and not member.isfile():
                problem = "links and special files refused"
            if problem is None and member.size > limits.max_entry_bytes:
                problem = _too_big(member.size, limits)
            if problem is not None:
                yield Entry(name, None, problem)
                continue
            handle = archive.extractfile(member)
            if handle is None:
                yield Entry(name, None, "cannot read entry")
                continue
            with handle:
                data = handle.read(limits.max_entry_bytes + 1)
            if len(data) != member.size:
                yield Entry(name, None, "entry is truncated")
                continue
            yield Entry(name, data)


def _folder(source: Path, limits: Limits) -> Iterator[Entry]:
    budget = _Budget(limits, source)
    found: list[tuple[str, Path]] = []
    for directory, subdirs, files in os.walk(source, followlinks=False):
        subdirs.sort()
        base = Path(directory)
        for file_name in files:
            if file_name.lower().endswith(".json"):
                path = base / file_name
                found.append((path.relative_to(source).as_posix(), path))
    for name, path in sorted(found):
        if path.is_symlink():
            yield Entry(name, None, "symbolic link not followed")
            continue
        size = path.stat().st_size
        if size > limits.max_entry_bytes:
            yield Entry(name, None, _too_big(size, limits))
            continue
        budget.take(size)
        yield Entry(name, path.read_bytes())


def _single(source: Path, limits: Limits) -> Iterator[Entry]:
    size = source.stat().st_size
    if size > limits.max_entry_bytes:
        yield Entry(source.name, None, _too_big(size, limits))
    else:
        yield Entry(source.name, source.read_bytes())
