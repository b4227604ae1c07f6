"""lambdashield's runtime guard, imported inside Lambda handlers.

Standard library only at import time: `pip install --no-deps lambdashield` gives a working
guard. Optional pieces load on first use (`fastjsonschema` for JSON Schema validation).

- `detect(event)`: the source label (`apigw_rest_v1`, `s3`, `sqs`, ..., or `unknown`).
- `validate(event, sources=..., http=..., s3=..., batch=...)`: the typed read-only view, or
  `EventValidationError` with `.rule`, `.path` and `.source`.
- `@guard(...)` / `run_guarded(handler, event, context, ...)`: validation, safe responses,
  security headers, partial batch failures and one audit record per invocation.
"""

from .events import HTTP_SOURCES, PARTIAL_BATCH_SOURCES, SOURCES, UNKNOWN, detect, validate
from .exceptions import (
    RULES,
    EventValidationError,
    HandlerError,
    LambdashieldRuntimeError,
    RuntimeConfigError,
)
from .guard import DEFAULT_SECURITY_HEADERS, guard, run_guarded, write_audit_line
from .options import DEFAULT_METHODS, BatchOptions, HttpOptions, S3Options
from .views import (
    BatchEvent,
    BatchRecord,
    EventView,
    HttpRequest,
    RejectedRecord,
    S3Event,
    S3Object,
)

__all__ = [
    "DEFAULT_METHODS",
    "DEFAULT_SECURITY_HEADERS",
    "HTTP_SOURCES",
    "PARTIAL_BATCH_SOURCES",
    "RULES",
    "SOURCES",
    "UNKNOWN",
    "BatchEvent",
    "BatchOptions",
    "BatchRecord",
    "EventValidationError",
    "EventView",
    "HandlerError",
    "HttpOptions",
    "HttpRequest",
    "LambdashieldRuntimeError",
    "RejectedRecord",
    "RuntimeConfigError",
    "S3Event",
    "S3Object",
    "S3Options",
    "detect",
    "guard",
    "run_guarded",
    "validate",
    "write_audit_line",
]
