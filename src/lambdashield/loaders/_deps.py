"""What the dependency loaders share: their result type, anchors and line lookups.

A finding on a dependency points at it with a JSON pointer. Structured files (JSON, TOML,
YAML) have real pointers; a line-based file (`requirements.txt`, `yarn.lock`) gets the
anchor `/<package name>` instead, which survives reordering the file, and its origin maps
that anchor to the line.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from lambdashield.errors import LoaderError
from lambdashield.loaders._json import escape_pointer
from lambdashield.model import Dependency, DependencySet, ScanError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = [
    "RESOURCE_TYPE",
    "DependencyFile",
    "LineMap",
    "anchor",
    "header_lines",
    "is_local_reference",
    "key_line",
    "parse_toml",
    "sibling",
    "string_line",
]

RESOURCE_TYPE = "dependencies"


@dataclass(frozen=True, slots=True)
class DependencyFile:
    """What loading one dependency file gave: its sets, and the problems that did not stop
    it (a rejected requirements line, an include outside the root)."""

    sets: tuple[DependencySet, ...]
    errors: tuple[ScanError, ...] = ()


def anchor(dependency: Dependency) -> str:
    """The pointer findings on `dependency` use: its own, else `/<name>`."""
    return dependency.pointer or "/" + escape_pointer(dependency.name)


class LineMap:
    """Pointer -> (first line, last line) for files whose lines the loader found itself."""

    __slots__ = ("_lines",)

    def __init__(self, lines: dict[str, int] | None = None) -> None:
        self._lines = lines or {}

    def add(self, pointer: str, line: int | None) -> None:
        if line is not None:
            self._lines.setdefault(pointer, line)

    def __call__(self, pointer: str) -> tuple[int | None, int | None]:
        line = self._lines.get(pointer)
        return (line, line)

    @classmethod
    def of(cls, dependencies: Iterable[Dependency]) -> LineMap:
        lines = cls()
        for dependency in dependencies:
            lines.add(anchor(dependency), dependency.line)
        return lines


_TOML_LINE = re.compile(r"at line (\d+)")


def parse_toml(text: str, display: PurePosixPath) -> dict[str, Any]:
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = _TOML_LINE.search(str(exc))
        detail = str(exc).split(" (at line")[0]
        raise LoaderError(
            display, f"invalid TOML: {detail}", int(found.group(1)) if found else None
        ) from None
    return data


def header_lines(text: str, header: str) -> list[int]:
    """Line numbers of every `[[header]]` array-of-tables header, in order."""
    pattern = re.compile(rf"^[ \t]*\[\[[ \t]*{re.escape(header)}[ \t]*\]\]", re.MULTILINE)
    return [text.count("\n", 0, m.start()) + 1 for m in pattern.finditer(text)]


def key_line(text: str, table: str, key: str) -> int | None:
    """The line of `key = ...` inside the `[table]` section, if it can be found."""
    header = re.search(rf"^[ \t]*\[[ \t]*{re.escape(table)}[ \t]*\][ \t]*$", text, re.MULTILINE)
    if header is None:
        return None
    body_end = re.compile(r"^[ \t]*\[", re.MULTILINE).search(text, header.end())
    end = body_end.start() if body_end else len(text)
    quoted = rf"(?:{re.escape(key)}|\"{re.escape(key)}\"|'{re.escape(key)}')"
    found = re.compile(rf"^[ \t]*{quoted}[ \t]*=", re.MULTILINE).search(text, header.end(), end)
    return text.count("\n", 0, found.start()) + 1 if found else None


def string_line(text: str, value: str) -> int | None:
    """The line of the first string literal equal to `value` (either quote)."""
    for quote in ('"', "'"):
        at = text.find(f"{quote}{value}{quote}")
        if at >= 0:
            return text.count("\n", 0, at) + 1
    return None


_REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|git\+|hg\+|svn\+|bzr\+|github:|gitlab:|bitbucket:)")


def is_local_reference(reference: str) -> bool:
    """A path on disk (`./libs/common`, `file:../shared`, `link:`): the project's own code."""
    lowered = reference.lower()
    if lowered.startswith(("file:", "link:", "portal:", "workspace:")):
        return True
    return not _REMOTE.match(lowered)


def sibling(path: Path, display: PurePosixPath, names: Iterable[str]) -> PurePosixPath | None:
    """The display path of the first of `names` that exists next to `path`."""
    for name in names:
        if (path.parent / name).is_file():
            return display.parent / name
    return None
