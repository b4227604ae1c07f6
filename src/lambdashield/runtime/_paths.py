"""Traversal, absolute-path and control-character tests for S3 keys and HTTP paths.

A key or path is judged in every form a handler might turn it into: as received, after
percent-decoding (S3 keys also turn `+` into a space), and after further decodings while
percent escapes remain (double encoding). Each form is also folded with Unicode NFKC plus a
few look-alike slashes and dots that NFKC leaves alone, so full-width dots and slashes
(U+FF0E, U+FF0F) climb like `../`. Overlong UTF-8 (`%c0%ae`) and lone surrogates fail strict
UTF-8 decoding and are rejected as bad encodings rather than decoded leniently.

`urllib.parse` is not used: importing it costs more than the whole runtime is allowed.
"""

from __future__ import annotations

__all__ = ["BadEncoding", "decode_layers", "has_control", "has_traversal", "is_absolute"]

_HEX = frozenset("0123456789abcdefABCDEF")

_MAX_EXTRA_DECODINGS = 3
"""Beyond the first decoding: enough for any double or triple encoding seen in attacks,
while bounding the work an adversarial key can cause."""

# Characters that act as separators or dots somewhere (Windows, IDNA, some normalisers) and
# that NFKC does not map to ASCII.
_LOOKALIKES = {
    0x2215: "/",  # DIVISION SLASH
    0x2044: "/",  # FRACTION SLASH
    0x29F8: "/",  # BIG SOLIDUS
    0x29F9: "\\",  # BIG REVERSE SOLIDUS
    0x2216: "\\",  # SET MINUS
    0x3002: ".",  # IDEOGRAPHIC FULL STOP
}

_INVISIBLE_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029"
)
"""Bidirectional overrides and isolates (they make a key display as something else) and
the Unicode line separators (they split log lines)."""


class BadEncoding(ValueError):
    """Percent escapes that do not decode to valid UTF-8."""


def percent_decode(text: str, *, plus_is_space: bool) -> str:
    """Decode `%XX` (and IIS-style `%uXXXX`) escapes strictly; raise BadEncoding."""
    if plus_is_space and "+" in text:
        text = text.replace("+", " ")
    if "%" not in text:
        return text
    head, *parts = text.split("%")
    try:
        out = bytearray(head.encode("utf-8"))
        for part in parts:
            if len(part) >= 2 and part[0] in _HEX and part[1] in _HEX:
                out.append(int(part[:2], 16))
                out += part[2:].encode("utf-8")
            elif len(part) >= 5 and part[0] in "uU" and all(c in _HEX for c in part[1:5]):
                out += chr(int(part[1:5], 16)).encode("utf-8")
                out += part[5:].encode("utf-8")
            else:
                out += b"%"
                out += part.encode("utf-8")
        return out.decode("utf-8")
    except UnicodeError:
        raise BadEncoding from None


def decode_layers(text: str, *, plus_is_space: bool) -> tuple[str, list[str]]:
    """The once-decoded text, and every form to inspect (received, decoded, re-decoded)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadEncoding from None
    decoded = percent_decode(text, plus_is_space=plus_is_space)
    layers = [text] if decoded == text else [text, decoded]
    current = decoded
    for _ in range(_MAX_EXTRA_DECODINGS):
        if "%" not in current:
            break
        deeper = percent_decode(current, plus_is_space=False)
        if deeper == current:
            break
        layers.append(deeper)
        current = deeper
    return decoded, layers


def _fold(text: str) -> str:
    """ASCII look-alikes of dots and slashes, so that every spelling climbs the same way."""
    if text.isascii():
        return text
    import unicodedata

    return unicodedata.normalize("NFKC", text).translate(_LOOKALIKES)


def has_traversal(text: str) -> bool:
    """A segment made only of two or more dots (and spaces, which Windows strips)."""
    folded = _fold(text)
    if ".." not in folded and ". ." not in folded:
        return False
    for segment in folded.replace("\\", "/").split("/"):
        if segment.count(".") >= 2 and not segment.strip(". "):
            return True
    return False


def is_absolute(text: str) -> bool:
    """Rooted (`/x`, `\\x`, `//host`) or a Windows drive (`C:`, `C:\\x`)."""
    folded = _fold(text)
    if folded.startswith(("/", "\\")):
        return True
    return len(folded) >= 2 and folded[1] == ":" and folded[0].isascii() and folded[0].isalpha()


def has_control(text: str) -> bool:
    """C0/C1 control characters (NUL included), bidi overrides, Unicode line separators."""
    if text.isprintable():
        return False
    return any(
        char < " " or "\x7f" <= char <= "\x9f" or char in _INVISIBLE_CONTROLS for char in text
    )
