"""Errors raised by the runtime guard.

```
LambdashieldRuntimeError
 ├── EventValidationError    an event, or one record of it, failed a check
 ├── HandlerError            the guarded handler raised; only a correlation id leaves
 │    └── HandlerAnswerError the handler's answer cannot be passed on; says which part
 └── RuntimeConfigError      options that cannot work (bad limit, schema, missing extra)
```

`EventValidationError` carries structured fields (`rule`, `path`, `source`) so a caller can
answer precisely without parsing the message, and its message is built only from those
fields: the offending value never appears in it, so it is safe to log or return.
"""

from __future__ import annotations

__all__ = [
    "RULES",
    "EventValidationError",
    "HandlerAnswerError",
    "HandlerError",
    "LambdashieldRuntimeError",
    "RuntimeConfigError",
]

RULES: dict[str, str] = {
    # any source
    "not_an_object": "the event is not a JSON object",
    "missing_field": "a required field is missing",
    "wrong_type": "a field has the wrong type",
    "source_not_allowed": "the event source is not in the allow-list",
    "mixed_sources": "records of one batch come from different sources",
    "too_many_records": "the batch holds more records than allowed",
    "record_too_large": "a record is larger than allowed",
    "source_arn_not_allowed": "the record's source ARN is not in the allow-list",
    # HTTP
    "method_not_allowed": "the HTTP method is not allowed",
    "path_not_allowed": "the request path does not match the allowed pattern",
    "path_traversal": "the request path contains a traversal sequence",
    "path_invalid": "the request path is not absolute or holds control characters",
    "too_many_headers": "the request has too many headers",
    "headers_too_large": "the request headers are too large",
    "header_injection": "a header holds a line break or NUL character",
    "too_many_query_params": "the request has too many query parameters",
    "query_too_large": "the query string is too large",
    "body_too_large": "the request body is larger than allowed",
    "body_encoding": "a body or record payload is not valid base64 or UTF-8",
    "content_type_not_allowed": "the content type is not allowed",
    "json_invalid": "a body or record payload is not valid JSON",
    "json_too_deep": "a JSON body or payload is nested too deeply",
    "schema_mismatch": "a JSON body or payload does not match the schema",
    # S3 objects
    "bucket_not_allowed": "the bucket is not in the allow-list",
    "key_encoding": "the object key is not valid percent-encoded UTF-8",
    "key_traversal": "the object key contains a path traversal sequence",
    "key_absolute": "the object key is an absolute path",
    "key_control_characters": "the object key holds control or bidirectional characters",
    "key_too_long": "the object key is longer than S3 allows",
    "extension_not_allowed": "the object key's extension is not allowed",
    "object_too_large": "the object is larger than allowed",
}
"""Every rule id the validators raise, with the sentence used in messages and docs."""


class LambdashieldRuntimeError(Exception):
    """Root of every error the runtime raises on purpose."""


class EventValidationError(LambdashieldRuntimeError):
    """An event failed validation.

    `rule` is a key of `RULES`; `path` a JSON pointer into the event (`/Records/0/s3/object/key`,
    `/body/items/3` for a place inside a parsed JSON body); `source` the detected source label.
    None of them ever holds a value taken from the event, apart from field names that the
    pointer needs, and those are reduced to a safe alphabet.
    """

    def __init__(self, rule: str, path: str = "", source: str | None = None) -> None:
        super().__init__(rule, path, source)
        self.rule = rule
        self.path = path
        self.source = source

    def __str__(self) -> str:
        detail = RULES.get(self.rule, self.rule)
        where = f" at {self.path}" if self.path else ""
        return f"{self.source or 'event'} rejected: {detail} ({self.rule}{where})"


class HandlerError(LambdashieldRuntimeError):
    """The guarded handler raised; the original exception stays in the audit log only.

    Raised for sources that have no response to carry an error (S3, SNS, EventBridge, ...),
    so that Lambda's error report shows a correlation id instead of the handler's message.
    """

    def __init__(self, correlation_id: str) -> None:
        super().__init__(correlation_id)
        self.correlation_id = correlation_id

    def __str__(self) -> str:
        return f"handler failed (correlation id {self.correlation_id})"


class HandlerAnswerError(HandlerError):
    """The handler returned an answer the guard will not pass on (a Firehose entry Firehose
    would refuse); `detail` says which entry and what is wrong. The guard writes the detail
    and quotes nothing the handler wrote, so the message stays as safe to log as the
    correlation id."""

    def __init__(self, correlation_id: str, detail: str) -> None:
        super().__init__(correlation_id)
        # Both arguments, so that copy and pickle can rebuild the error.
        self.args = (correlation_id, detail)
        self.detail = detail

    def __str__(self) -> str:
        return f"{super().__str__()}: {self.detail}"


class RuntimeConfigError(LambdashieldRuntimeError):
    """Options that cannot work: a negative limit, a schema that does not compile, a missing
    optional dependency. Raised when the options are built or first used, never per event."""
