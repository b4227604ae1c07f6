"""Typed field access that rejects with a pointer instead of raising KeyError or TypeError."""

from __future__ import annotations

from .exceptions import EventValidationError

__all__ = [
    "base64_size",
    "decode_base64",
    "opt_dict",
    "opt_int",
    "opt_list",
    "opt_str",
    "req_dict",
    "req_list",
    "req_str",
]


def _missing(at: str) -> EventValidationError:
    return EventValidationError("missing_field", at)


def _wrong(at: str) -> EventValidationError:
    return EventValidationError("wrong_type", at)


def req_str(mapping: dict[str, object], key: str, at: str) -> str:
    value = mapping.get(key)
    if isinstance(value, str):
        return value
    raise _missing(at) if value is None else _wrong(at)


def req_dict(mapping: dict[str, object], key: str, at: str) -> dict[str, object]:
    value = mapping.get(key)
    if isinstance(value, dict):
        return value
    raise _missing(at) if value is None else _wrong(at)


def req_list(mapping: dict[str, object], key: str, at: str) -> list[object]:
    value = mapping.get(key)
    if isinstance(value, list):
        return value
    raise _missing(at) if value is None else _wrong(at)


def opt_str(mapping: dict[str, object], key: str, at: str) -> str | None:
    value = mapping.get(key)
    if value is None or isinstance(value, str):
        return value
    raise _wrong(at)


def opt_dict(mapping: dict[str, object], key: str, at: str) -> dict[str, object] | None:
    value = mapping.get(key)
    if value is None or isinstance(value, dict):
        return value
    raise _wrong(at)


def opt_list(mapping: dict[str, object], key: str, at: str) -> list[object] | None:
    value = mapping.get(key)
    if value is None or isinstance(value, list):
        return value
    raise _wrong(at)


def opt_int(mapping: dict[str, object], key: str, at: str) -> int | None:
    value = mapping.get(key)
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise _wrong(at)


def base64_size(data: str) -> int:
    """Decoded size of base64 text, from its length alone."""
    padding = 2 if data.endswith("==") else 1 if data.endswith("=") else 0
    return len(data) * 3 // 4 - padding


def decode_base64(data: str, at: str) -> bytes:
    """Strict base64: `binascii` silently skips characters outside the alphabet (and its
    strict mode needs Python 3.11), so a decoded length short of the expected one means the
    text was not base64."""
    import binascii

    try:
        decoded = binascii.a2b_base64(data)
    except (binascii.Error, ValueError):
        raise EventValidationError("body_encoding", at) from None
    if len(data) % 4 or len(decoded) != base64_size(data):
        raise EventValidationError("body_encoding", at)
    return decoded
