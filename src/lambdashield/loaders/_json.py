"""Reading JSON inputs safely, and finding the lines of a JSON pointer only when asked.

Parsing is done by the standard library's C decoder. Lines are found afterwards, and only
for the pointers a finding needs: the walk to a pointer decodes the siblings it passes with
the same C decoder, so a clean file costs nothing extra and a dirty one costs little.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

from lambdashield.errors import LoaderError

__all__ = ["JsonLines", "escape_pointer", "parse_json", "read_text"]

_WHITESPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()
# The C string scanner json.loads uses; typeshed does not declare it.
_scanstring: Callable[[str, int], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]
_STRING_AND_COMMA = re.compile(
    r'"[^"\\\x00-\x1f]*(?:\\.[^"\\\x00-\x1f]*)*"[ \t\n\r]*(?:,[ \t\n\r]*)?'
)
"""A string value of a list, and the comma after it: the text has passed the decoder
already, so this only needs to find where the string ends."""


def read_text(path: Path, display: PurePosixPath, max_bytes: int) -> str:
    """The file's text, refusing files over the size cap and bytes that are not UTF-8."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise LoaderError(
                display, f"file is {size:,} bytes, over the {max_bytes:,}-byte limit; not read"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise LoaderError(display, f"cannot read file: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise LoaderError(
            display, f"not UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start}", line
        ) from None


def parse_json(text: str, display: PurePosixPath) -> Any:
    if not text.strip():
        raise LoaderError(display, "file is empty")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise LoaderError(
            display, f"invalid JSON: {exc.msg} (column {exc.colno})", exc.lineno
        ) from None
    except RecursionError:
        raise LoaderError(display, "JSON is nested too deeply to analyse") from None


def escape_pointer(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


class JsonLines:
    """Maps JSON pointers of one document to `(first line, last line)`, on demand.

    A container on the way to a pointer is read only as far as the pointer needs, and
    where it stopped is kept for the next pointer: the values read past are decoded by
    the C decoder (lists of strings by one regex), so many findings in one file cost
    about one extra decode of the part of the file before them.
    """

    __slots__ = ("_cache", "_containers", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._cache: dict[str, tuple[int | None, int | None]] = {}
        self._containers: dict[int, _Container] = {}

    def __call__(self, pointer: str) -> tuple[int | None, int | None]:
        found = self._cache.get(pointer)
        if found is None:
            span = self._span(pointer)
            if span is None:
                found = (None, None)
            else:
                start, end = span
                first = self._text.count("\n", 0, start) + 1
                found = (first, first + self._text.count("\n", start, max(end - 1, start)))
            self._cache[pointer] = found
        return found

    def _span(self, pointer: str) -> tuple[int, int] | None:
        text = self._text
        try:
            i = _skip(text, 1 if text.startswith("\ufeff") else 0)
            end: int | None = len(text)
            for token in pointer.split("/")[1:] if pointer else []:
                container = self._containers.get(i)
                if container is None:
                    container = self._containers[i] = _Container(text, i, end)
                found = container.child(_unescape(token))
                if found is None:
                    return None
                i, end = found
            if end is None:
                end = _DECODER.raw_decode(text, i)[1]
        except (ValueError, IndexError, RecursionError):
            return None
        return i, end


def _skip(text: str, i: int) -> int:
    return _WHITESPACE.match(text, i).end()  # type: ignore[union-attr]  # `*` always matches


class _Container:
    """Where the children of one object or list start, read only as far as asked: the
    last child read is decoded (to find where the next one starts) only when reading
    goes on past it."""

    __slots__ = (
        "_at",
        "_closer",
        "_end",
        "_index",
        "_object",
        "_pending",
        "_settled",
        "_start",
        "_text",
        "children",
    )

    def __init__(self, text: str, i: int, end: int | None) -> None:
        self._text = text
        self._start = i
        self._end = end
        """Where the container ends, its closing bracket included; found when needed."""
        self._settled: set[str] = set()
        self.children: dict[str, tuple[int, int | None]] = {}
        """Where each child starts and, when known, ends."""
        opener = text[i]
        self._object = opener == "{"
        self._closer = "}" if self._object else "]"
        self._at: int | None = _skip(text, i + 1) if opener in "{[" else None
        """Where reading stopped; None once the container has been read to its end."""
        self._pending: str | None = None
        """The child at `_at` whose value is not decoded yet."""
        self._index = 0

    def child(self, key: str) -> tuple[int, int | None] | None:
        found = self.children.get(key)
        if found is not None and self._final(key):
            return found
        while self._at is not None:
            if self._read_one() == key and self._final(key):
                break
        return self.children.get(key)

    def _final(self, key: str) -> bool:
        """Whether no later child can have this key. json.loads keeps the last of
        duplicate keys, so an object is read on while the rest of it may hold the key
        again (written as is, or with escapes)."""
        if not self._object or self._at is None or key in self._settled:
            return True
        if self._end is None:
            self._end = _DECODER.raw_decode(self._text, self._start)[1]
        # From the start of the last child's value: a key inside it only makes us read on.
        rest, end, text = self._at, self._end, self._text
        if text.find("\\", rest, end) < 0 and text.find(f'"{key}"', rest, end) < 0:
            # Reading on only moves `rest` later: the answer stays true.
            self._settled.add(key)
            return True
        return False

    def _read_one(self) -> str | None:
        """Read the next child (or a run of strings in a list); the key read, if any."""
        text, i = self._text, self._at
        if i is None:
            return None
        if self._pending is not None:
            start, _ = self.children[self._pending]
            end = _DECODER.raw_decode(text, start)[1]
            self.children[self._pending] = (start, end)
            self._pending = None
            i = _skip(text, end)
            if text[i] == ",":
                i = _skip(text, i + 1)
            self._at = i
        if text[i] == self._closer:
            self._at = None
            return None
        if not self._object and text[i] == '"':
            # A list of strings (`Action`, `Resource`): one regex pass, nothing decoded.
            scanner = _STRING_AND_COMMA.scanner(text, i)  # type: ignore[attr-defined]
            ends = [m.end() for m in iter(scanner.match, None)]
            first = self._index
            for number, start in enumerate((i, *ends[:-1]), start=first):
                self.children[str(number)] = (start, None)
            self._index += len(ends)
            self._at = ends[-1]
            return str(self._index - 1)
        if self._object:
            key, i = _scanstring(text, i + 1)
            i = _skip(text, _skip(text, i) + 1)  # past ':'
        else:
            key, self._index = str(self._index), self._index + 1
        self.children[key] = (i, None)
        self._pending, self._at = key, i
        return key
