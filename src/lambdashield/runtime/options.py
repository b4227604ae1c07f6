"""What the validators check, one small frozen options type per source family.

`HttpOptions` covers API Gateway (REST, HTTP, WebSocket, authorizers), ALB, function URLs and
VPC Lattice; `S3Options` every S3 object reference (direct notifications, those wrapped in
SQS, SNS or EventBridge, and S3 Batch Operations tasks); `BatchOptions` queues and streams
(SQS, SNS, Kinesis, DynamoDB streams, and the envelope of Firehose, Kafka and MQ events).
Every default is on and permissive enough that genuine AWS events pass.

These are hand-written frozen, slotted classes rather than `dataclasses`: importing
`dataclasses` pulls in `inspect` and costs several milliseconds, which every cold start of
a guarded function would pay (see bench/README.md). They behave like frozen dataclasses:
keyword construction, equality, `repr`, no attribute assignment.
"""

from __future__ import annotations

from .exceptions import RuntimeConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

__all__ = ["DEFAULT_METHODS", "BatchOptions", "HttpOptions", "S3Options"]

DEFAULT_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""TRACE and CONNECT are left out: neither has a use behind API Gateway, and TRACE echoes
request headers (cross-site tracing)."""

_MIB = 1024 * 1024


class _Frozen:
    """Immutable record base: public slots are the fields, `_`-slots are private caches."""

    __slots__ = ()

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def _fields(self) -> tuple[str, ...]:
        slots: tuple[str, ...] = type(self).__slots__
        return tuple(name for name in slots if not name.startswith("_"))

    def _values(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self._fields())

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields())
        return f"{type(self).__name__}({shown})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self) or not isinstance(other, _Frozen):
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash((type(self).__name__, *map(_hashable, self._values())))


def _hashable(value: object) -> object:
    # A JSON schema is a dict; identity is the right notion of sameness for a cache key.
    return id(value) if isinstance(value, dict) else value


def _set(target: _Frozen, name: str, value: object) -> None:
    object.__setattr__(target, name, value)


def _limit(name: str, value: int | None, *, optional: bool = False) -> int | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RuntimeConfigError(f"{name} must be a non-negative int, got {type(value).__name__}")
    return value


def _names(
    name: str, values: Iterable[str] | None, fold: Callable[[str], str]
) -> frozenset[str] | None:
    if values is None:
        return None
    if isinstance(values, str):
        raise RuntimeConfigError(f"{name} must be a collection of strings, not one string")
    items = tuple(values)
    if not all(isinstance(value, str) and value for value in items):
        raise RuntimeConfigError(f"{name} must hold non-empty strings")
    return frozenset(fold(value) for value in items)


def _media_type(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


def _extension(value: str) -> str:
    value = value.strip().lower()
    return value if value.startswith(".") else f".{value}"


def _identity(value: str) -> str:
    return value


class HttpOptions(_Frozen):
    """Checks for HTTP-shaped events.

    - `methods`: allowed methods (upper case); None allows any.
    - `path_pattern`: a regular expression the whole path must match; None skips.
    - `check_path`: reject paths that are not absolute, hold control characters, or climb
      with `..` in any spelling (percent-encoded, double-encoded, backslash, full-width).
    - `max_headers`, `max_header_bytes`: header count, and characters of names plus values.
    - `max_query_params`, `max_query_bytes`: the same for query parameters.
    - `max_body_bytes`: body size in bytes, after base64 decoding.
    - `content_types`: allowed media types (`application/json`); None allows any. A request
      with a body and no `Content-Type` is rejected when an allow-list is set.
    - `json_body`: parse the body as JSON: True always, False never, None (default) when the
      content type is JSON (`application/json`, `*+json`) or a schema is set.
    - `max_json_depth`: nesting limit of a parsed JSON body.
    - `json_schema`: a JSON Schema for the body, compiled once with `fastjsonschema` (the
      `validation` extra) on first use. With a schema, a missing body is validated as `null`.
      Remote `$ref`s are refused, so validation never touches the network.
    """

    __slots__ = (
        "_path_regex",
        "_schema_validator",
        "check_path",
        "content_types",
        "json_body",
        "json_schema",
        "max_body_bytes",
        "max_header_bytes",
        "max_headers",
        "max_json_depth",
        "max_query_bytes",
        "max_query_params",
        "methods",
        "path_pattern",
    )

    check_path: bool
    content_types: frozenset[str] | None
    json_body: bool | None
    json_schema: Mapping[str, object] | None
    max_body_bytes: int
    max_header_bytes: int
    max_headers: int
    max_json_depth: int
    max_query_bytes: int
    max_query_params: int
    methods: frozenset[str] | None
    path_pattern: str | None
    _path_regex: Callable[[str], object] | None
    _schema_validator: Callable[[object], object] | None

    def __init__(
        self,
        *,
        methods: Iterable[str] | None = DEFAULT_METHODS,
        path_pattern: str | None = None,
        check_path: bool = True,
        max_headers: int = 100,
        max_header_bytes: int = 16_384,
        max_query_params: int = 100,
        max_query_bytes: int = 8_192,
        max_body_bytes: int = _MIB,
        content_types: Iterable[str] | None = None,
        json_body: bool | None = None,
        max_json_depth: int = 32,
        json_schema: Mapping[str, object] | None = None,
    ) -> None:
        _set(self, "methods", _names("methods", methods, str.upper))
        _set(self, "path_pattern", path_pattern)
        _set(self, "check_path", bool(check_path))
        _set(self, "max_headers", _limit("max_headers", max_headers))
        _set(self, "max_header_bytes", _limit("max_header_bytes", max_header_bytes))
        _set(self, "max_query_params", _limit("max_query_params", max_query_params))
        _set(self, "max_query_bytes", _limit("max_query_bytes", max_query_bytes))
        _set(self, "max_body_bytes", _limit("max_body_bytes", max_body_bytes))
        _set(self, "content_types", _names("content_types", content_types, _media_type))
        _set(self, "json_body", json_body)
        _set(self, "max_json_depth", _limit("max_json_depth", max_json_depth))
        _set(self, "json_schema", _schema("json_schema", json_schema))
        _set(self, "_path_regex", None)
        _set(self, "_schema_validator", None)

    def path_matcher(self) -> Callable[[str], object] | None:
        """`re.fullmatch` of `path_pattern`, compiled on first use (keeps `re` out of import)."""
        if self.path_pattern is None:
            return None
        if self._path_regex is None:
            _set(self, "_path_regex", _compile_regex(self.path_pattern))
        return self._path_regex

    def schema_validator(self) -> Callable[[object], object] | None:
        """The compiled `json_schema`, built on first use and kept for the process."""
        if self.json_schema is None:
            return None
        if self._schema_validator is None:
            from ._json import compile_schema

            _set(self, "_schema_validator", compile_schema(self.json_schema))
        return self._schema_validator


class S3Options(_Frozen):
    """Checks for every S3 object reference an event carries.

    - `buckets`: allowed bucket names; None allows any.
    - `extensions`: allowed key suffixes (`.jpg`, `.tar.gz`), case-insensitive; None allows any.
    - `max_object_bytes`: largest object size reported by the event; None skips.
    - `check_keys`: decode the key (`+` is a space) and reject traversal in every spelling,
      absolute keys, control and bidirectional-override characters, and bad encodings.
    - `nested`: also check S3 notifications carried inside SQS bodies, SNS messages and
      EventBridge events.
    """

    __slots__ = ("buckets", "check_keys", "extensions", "max_object_bytes", "nested")

    buckets: frozenset[str] | None
    check_keys: bool
    extensions: frozenset[str] | None
    max_object_bytes: int | None
    nested: bool

    def __init__(
        self,
        *,
        buckets: Iterable[str] | None = None,
        extensions: Iterable[str] | None = None,
        max_object_bytes: int | None = None,
        check_keys: bool = True,
        nested: bool = True,
    ) -> None:
        _set(self, "buckets", _names("buckets", buckets, _identity))
        _set(self, "extensions", _names("extensions", extensions, _extension))
        _set(
            self,
            "max_object_bytes",
            _limit("max_object_bytes", max_object_bytes, optional=True),
        )
        _set(self, "check_keys", bool(check_keys))
        _set(self, "nested", bool(nested))


class BatchOptions(_Frozen):
    """Checks for queues and streams, applied record by record.

    - `source_arns`: allowed source ARNs (the queue, stream, table stream, topic, broker,
      cluster or delivery stream); None allows any.
    - `max_records`: records per invocation.
    - `max_record_bytes`: payload size of one record in bytes (SQS body, SNS message, Kinesis
      data after base64 decoding, DynamoDB `SizeBytes`).
    - `json_body`: parse each payload as JSON, with `max_json_depth`.
    - `body_schema`: a JSON Schema for each parsed payload (implies `json_body`).

    For SQS, Kinesis and DynamoDB streams a rejected record does not fail the batch: the guard
    reports it in `batchItemFailures` and hands the handler the records that passed. Firehose
    transformations likewise, the rejected record answered `ProcessingFailed`.
    """

    __slots__ = (
        "_schema_validator",
        "body_schema",
        "json_body",
        "max_json_depth",
        "max_record_bytes",
        "max_records",
        "source_arns",
    )

    body_schema: Mapping[str, object] | None
    json_body: bool
    max_json_depth: int
    max_record_bytes: int
    max_records: int
    source_arns: frozenset[str] | None
    _schema_validator: Callable[[object], object] | None

    def __init__(
        self,
        *,
        source_arns: Iterable[str] | None = None,
        max_records: int = 10_000,
        max_record_bytes: int = _MIB,
        json_body: bool = False,
        max_json_depth: int = 32,
        body_schema: Mapping[str, object] | None = None,
    ) -> None:
        _set(self, "source_arns", _names("source_arns", source_arns, _identity))
        _set(self, "max_records", _limit("max_records", max_records))
        _set(self, "max_record_bytes", _limit("max_record_bytes", max_record_bytes))
        _set(self, "json_body", bool(json_body) or body_schema is not None)
        _set(self, "max_json_depth", _limit("max_json_depth", max_json_depth))
        _set(self, "body_schema", _schema("body_schema", body_schema))
        _set(self, "_schema_validator", None)

    def schema_validator(self) -> Callable[[object], object] | None:
        """The compiled `body_schema`, built on first use and kept for the process."""
        if self.body_schema is None:
            return None
        if self._schema_validator is None:
            from ._json import compile_schema

            _set(self, "_schema_validator", compile_schema(self.body_schema))
        return self._schema_validator


def _schema(name: str, schema: Mapping[str, object] | None) -> Mapping[str, object] | None:
    if schema is not None and not isinstance(schema, dict):
        raise RuntimeConfigError(f"{name} must be a dict (a JSON Schema document)")
    return schema


def _compile_regex(pattern: str) -> Callable[[str], object]:
    import re

    try:
        return re.compile(pattern).fullmatch
    except re.error as error:
        raise RuntimeConfigError(f"path_pattern does not compile: {error}") from None
