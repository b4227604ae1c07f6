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

    Each container on the way to a pointer is read once, recording where its children
    start, so many findings in one file cost about one extra decode of the file.
    """

    __slots__ = ("_cache", "_children", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._cache: dict[str, tuple[int | None, int | None]] = {}
        self._children: dict[int, dict[str, int]] = {}

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
        try:
            i = self._skip(1 if self._text.startswith("\ufeff") else 0)
            for token in pointer.split("/")[1:] if pointer else []:
                children = self._children.get(i)
                if children is None:
                    children = self._children[i] = self._read_children(i)
                found = children.get(_unescape(token))
                if found is None:
                    return None
                i = found
            _, end = _DECODER.raw_decode(self._text, i)
        except (ValueError, IndexError, RecursionError):
            return None
        return i, end

    def _read_children(self, i: int) -> dict[str, int]:
        """Where each child value of the container at `i` starts, by key or index."""
        text = self._text
        children: dict[str, int] = {}
        opener = text[i]
        if opener not in "{[":
            return children
        closer = "}" if opener == "{" else "]"
        i = self._skip(i + 1)
        index = 0
        while text[i] != closer:
            if opener == "{":
                key, i = _scanstring(text, i + 1)
                i = self._skip(self._skip(i) + 1)  # past ':'
            else:
                key, index = str(index), index + 1
            # Later duplicates win, as they do for json.loads.
            children[key] = i
            i = self._skip(_DECODER.raw_decode(text, i)[1])
            if text[i] == ",":
                i = self._skip(i + 1)
        return children

    def _skip(self, i: int) -> int:
        match = _WHITESPACE.match(self._text, i)
        return match.end() if match else i
