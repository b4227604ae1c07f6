"""Event source detection and validation: `detect(event)` and `validate(event, ...)`.

`detect` names the service that sent an event, with the labels of the event corpus
(`apigw_rest_v1`, `s3`, `sqs`, ...), or `unknown`. `validate` runs the checks for that source
and returns a typed, read-only view (`HttpRequest`, `S3Event`, `BatchEvent`, `EventView`), or
raises `EventValidationError`. Validation never changes the event.

```python
from lambdashield.runtime import HttpOptions, validate

request = validate(event, sources={"apigw_http_v2"}, http=HttpOptions(methods={"POST"}))
```
"""

from __future__ import annotations

from . import _batch, _http, _s3, _structure
from ._detect import SOURCES, UNKNOWN, detect
from .exceptions import EventValidationError, RuntimeConfigError
from .options import BatchOptions, HttpOptions, S3Options
from .views import EventView

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Collection

__all__ = [
    "HTTP_SOURCES",
    "PARTIAL_BATCH_SOURCES",
    "SOURCES",
    "UNKNOWN",
    "detect",
    "validate",
    "validate_detected",
]

HTTP_SOURCES = _http.HTTP_SOURCES
"""Sources answered with an HTTP response (or, for authorizers, an authorization decision)."""

PARTIAL_BATCH_SOURCES = _batch.PARTIAL_SOURCES
"""Sources whose failed records are reported in `batchItemFailures`."""

_DEFAULT_HTTP = HttpOptions()
_DEFAULT_S3 = S3Options()
_DEFAULT_BATCH = BatchOptions()


def validate(
    event: object,
    *,
    sources: Collection[str] | None = None,
    http: HttpOptions | None = None,
    s3: S3Options | None = None,
    batch: BatchOptions | None = None,
) -> EventView:
    """Detect the source of `event`, check it, and return its typed view.

    `sources` restricts which sources are accepted (`unknown` included only if listed); the
    options default to `HttpOptions()`, `S3Options()` and `BatchOptions()`. Raises
    `EventValidationError` with `.rule`, `.path` and `.source` set.
    """
    return validate_detected(detect(event), event, sources=sources, http=http, s3=s3, batch=batch)


def validate_detected(
    source: str,
    event: object,
    *,
    sources: Collection[str] | None = None,
    http: HttpOptions | None = None,
    s3: S3Options | None = None,
    batch: BatchOptions | None = None,
) -> EventView:
    """`validate` for a caller that already ran `detect` (the guard needs the label first)."""
    if sources is not None and (isinstance(sources, str) or source not in sources):
        if isinstance(sources, str):
            raise RuntimeConfigError("sources must be a collection of labels, not one string")
        raise EventValidationError("source_not_allowed", "", source)
    try:
        return _validate_source(
            source,
            event,
            http or _DEFAULT_HTTP,
            s3 or _DEFAULT_S3,
            batch or _DEFAULT_BATCH,
        )
    except EventValidationError as error:
        error.source = source
        raise


def _validate_source(
    source: str, event: object, http: HttpOptions, s3: S3Options, batch: BatchOptions
) -> EventView:
    if source == UNKNOWN:
        # Nothing is known about the shape; `sources` is how a caller refuses these.
        return EventView(source, event)
    if not isinstance(event, dict):
        return _structure.validate_structure(source, event)
    if source in _http.HTTP_SOURCES:
        return _http.validate_http(source, event, http)
    if source in _batch.RECORD_SOURCES:
        return _batch.validate_records(source, event, batch, s3)
    if source == "s3":
        return _s3.validate_s3(source, event, s3)
    if source in _batch.ENVELOPE_SOURCES:
        return _batch.validate_envelope(source, event, batch)
    if source == "eventbridge":
        return _structure.validate_eventbridge(source, event, s3)
    if source == "s3_batch_operation":
        return _s3.validate_s3_batch_operation(source, event, s3)
    if source == "s3_object_lambda":
        return _s3.validate_s3_object_lambda(source, event, s3)
    if source in _structure.RECORD_SHAPE_SOURCES:
        return _structure.validate_records_shape(source, event)
    return _structure.validate_structure(source, event)
