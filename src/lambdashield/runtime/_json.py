"""JSON parsing with a depth limit, and JSON Schema validators compiled once.

`json` and `fastjsonschema` are imported on first use only, so importing the runtime stays
cheap; the Lambda runtime has usually imported `json` already by the time a handler runs.
"""

from __future__ import annotations

from .exceptions import EventValidationError, RuntimeConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = ["check_schema", "compile_schema", "parse_json", "safe_segment"]

_scan: Callable[[str, int], tuple[object, int]] | None = None

_URL_SCHEMES = ("http", "https", "ftp", "file", "data")
"""Every scheme `urlopen` understands: fastjsonschema would fetch a remote `$ref` through it."""

_MAX_POINTER_SEGMENT = 64


def _reject_constant(name: str) -> object:
    # NaN and Infinity are not JSON; Python accepts them, many consumers do not.
    raise ValueError("non-standard JSON constant")


def _scanner() -> Callable[[str, int], tuple[object, int]]:
    """json's C scanner, called directly: `json.loads` spends more time on its whitespace
    regular expressions than on parsing a small body."""
    global _scan
    if _scan is None:
        import json.scanner

        decoder = json.JSONDecoder(parse_constant=_reject_constant)
        # typeshed types make_scanner's argument as the scanner class itself.
        _scan = json.scanner.make_scanner(decoder)  # type: ignore[arg-type]
    return _scan


_JSON_WHITESPACE = " \t\n\r"


def parse_json(text: str | bytes, max_depth: int, path: str) -> object:
    """Parse `text`; reject invalid JSON and documents nested deeper than `max_depth`."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise EventValidationError("body_encoding", path) from None
    text = text.strip(_JSON_WHITESPACE)
    try:
        value, end = _scanner()(text, 0)
    except RecursionError:
        raise EventValidationError("json_too_deep", path) from None
    except (StopIteration, ValueError):
        raise EventValidationError("json_invalid", path) from None
    if end != len(text):
        raise EventValidationError("json_invalid", path)
    # Every container needs an opening bracket, so few brackets prove a shallow document
    # without walking it.
    if text.count("[") + text.count("{") > max_depth and _deeper_than(value, max_depth):
        raise EventValidationError("json_too_deep", path)
    return value


def _deeper_than(value: object, limit: int) -> bool:
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: object = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)  # type: ignore[attr-defined]
    return False


def _no_remote_ref(uri: str) -> object:
    raise RuntimeConfigError("remote $ref in a JSON Schema is not allowed at runtime")


def compile_schema(schema: Mapping[str, object]) -> Callable[[object], object]:
    """A `fastjsonschema` validator for `schema`; the caller keeps it (compiling is slow)."""
    import importlib

    try:
        # Through importlib so that type checking does not require the optional extra.
        fastjsonschema = importlib.import_module("fastjsonschema")
    except ImportError:
        raise RuntimeConfigError(
            "JSON Schema validation needs fastjsonschema: pip install 'lambdashield[validation]'"
        ) from None
    handlers = dict.fromkeys(_URL_SCHEMES, _no_remote_ref)
    try:
        validator: Callable[[object], object] = fastjsonschema.compile(
            dict(schema), handlers=handlers, use_default=False
        )
    except fastjsonschema.JsonSchemaDefinitionException as error:
        raise RuntimeConfigError(f"JSON Schema does not compile: {error}") from None
    return validator


def check_schema(validator: Callable[[object], object], value: object, path: str) -> None:
    """Run a compiled validator; a failure names the rule and where, never the value."""
    try:
        validator(value)
    except ValueError as error:
        where = _pointer(getattr(error, "path", None))
        raise EventValidationError("schema_mismatch", path + where) from None


def _pointer(segments: object) -> str:
    if not isinstance(segments, list) or not segments:
        return ""
    # fastjsonschema starts every path with the name of the validated variable ("data").
    return "".join(f"/{safe_segment(segment)}" for segment in segments[1:])


def safe_segment(segment: object) -> str:
    """A pointer segment taken from event data, or `*` when it could smuggle content."""
    text = str(segment)
    plain = text.replace("_", "").replace("-", "")
    if text and len(text) <= _MAX_POINTER_SEGMENT and plain.isascii() and plain.isalnum():
        return text
    return "*"
