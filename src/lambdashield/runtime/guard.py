"""The guard: detect, validate, run the handler, answer safely, audit every invocation.

```python
from lambdashield.runtime import HttpOptions, guard

@guard(sources={"apigw_http_v2"}, http=HttpOptions(methods={"POST"}, json_schema=ORDER))
def handler(request, context):
    return {"statusCode": 201, "body": request.json["id"]}
```

The handler receives the typed view (`HttpRequest`, `S3Event`, `BatchEvent`, `EventView`),
never an event that failed validation. What the caller gets back:

| situation | HTTP | authorizers | SQS, Kinesis, DynamoDB | Firehose | others |
|---|---|---|---|---|---|
| event rejected | 400 + request id | Deny | `batchItemFailures` | raised | raised |
| record rejected | | | reported failed | `ProcessingFailed` | event rejected |
| handler raised | 500 + correlation id | Deny | its records failed | `HandlerError` | likewise |
| handler returned | + security headers | as is | merged failures | merged `records` | as is |

"raised": the `EventValidationError` itself, where no answer can carry it.

For batches, records that fail validation are reported as failed and withheld from the
handler, which sees only the others and may return its own `batchItemFailures` (SQS, Kinesis,
DynamoDB) or its own `records` (Firehose). A Firehose answer the guard cannot merge (not
exactly one entry per record the handler got) fails the invocation with `HandlerError`, so
Firehose retries the batch and never takes a result the handler did not give. So does an
entry Firehose would not accept (`result` not exactly `Ok`, `Dropped` or `ProcessingFailed`,
`data` missing or not base64, `metadata.partitionKeys` not strings), with a message naming
the entry by position and `recordId`, never by its data.

## The audit record

One dict per invocation is passed to `audit` (default: one compact JSON line on stdout;
None turns it off). Keys, all values built by the guard and never taken from the event:

- always: `timestamp` (UTC, ISO 8601), `function`, `request_id`, `source`, `outcome`
  (`ok`, `rejected`, `partial`, `error`), `duration_ms`, `cold_start`
- HTTP: `status`
- rejected: `rule`, `path`
- batches (SQS, Kinesis, DynamoDB, Firehose): `records`, `rejected_records`,
  `failed_records`
- error: `error` (exception type), `correlation_id`, `traceback` (file, line and function
  of each frame; no source text, no exception message, no local values)
"""

from __future__ import annotations

import os
import sys
import time

from . import _json, _responses
from ._batch import FIREHOSE, PARTIAL_SOURCES
from ._fields import decode_base64
from ._http import HTTP_SOURCES
from .events import detect, validate_detected
from .exceptions import EventValidationError, RuntimeConfigError
from .views import BatchEvent

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Mapping
    from typing import Any

    from .audit_log import AuditLogger
    from .options import BatchOptions, HttpOptions, S3Options

    Handler = Callable[[Any, Any], Any]
    AuditSink = Callable[[dict[str, object]], None]

__all__ = ["DEFAULT_SECURITY_HEADERS", "guard", "run_guarded", "write_audit_line"]

DEFAULT_SECURITY_HEADERS = _responses.DEFAULT_SECURITY_HEADERS

_MAX_FRAMES = 64

_FIREHOSE_RESULTS = frozenset({"Ok", "Dropped", "ProcessingFailed"})

_cold_start = True


_default_logger: AuditLogger | None = None


def write_audit_line(record: dict[str, object]) -> None:
    """The default audit sink: one JSON line on stdout (CloudWatch Logs), written by an
    `AuditLogger`, so every field beyond the invocation's own metadata is redacted."""
    global _default_logger
    if _default_logger is None:
        from .audit_log import AuditLogger

        _default_logger = AuditLogger()
    _default_logger.record(record)


class _Config:
    __slots__ = ("audit", "batch", "expose_details", "headers", "http", "s3", "sources")

    def __init__(
        self,
        sources: Collection[str] | None,
        http: HttpOptions | None,
        s3: S3Options | None,
        batch: BatchOptions | None,
        audit: AuditSink | None,
        expose_details: bool,
        security_headers: Mapping[str, str] | None,
    ) -> None:
        if isinstance(sources, str):
            raise RuntimeConfigError("sources must be a collection of labels, not one string")
        self.sources = frozenset(sources) if sources is not None else None
        self.http = http
        self.s3 = s3
        self.batch = batch
        self.audit = audit
        self.expose_details = expose_details
        self.headers = dict(
            DEFAULT_SECURITY_HEADERS if security_headers is None else security_headers
        )


def guard(
    *,
    sources: Collection[str] | None = None,
    http: HttpOptions | None = None,
    s3: S3Options | None = None,
    batch: BatchOptions | None = None,
    audit: AuditSink | None = write_audit_line,
    expose_details: bool = False,
    security_headers: Mapping[str, str] | None = None,
    selfscan: bool | str = False,
) -> Callable[[Handler], Handler]:
    """Decorator: validate each event before `handler` sees it and answer safely.

    `sources`, `http` (`HttpOptions`), `s3` (`S3Options`) and `batch` (`BatchOptions`) are
    passed to `validate`. `audit` receives the audit record. `expose_details` adds the rule
    id and pointer to 400 bodies. `security_headers` replaces `DEFAULT_SECURITY_HEADERS`
    (`{}` adds none). `selfscan` checks the deployment's installed packages against an
    advisory snapshot once per execution environment, when the handler is decorated (at
    init, the cold start): `True` for the default snapshot path, or the snapshot's path.
    """
    config = _Config(sources, http, s3, batch, audit, expose_details, security_headers)
    if selfscan:
        from .selfscan import selfscan_once

        selfscan_once(None if selfscan is True else selfscan)

    def decorate(handler: Handler) -> Handler:
        def guarded(event: Any, context: Any) -> Any:
            return _run(handler, event, context, config)

        # What functools.wraps does, without importing functools into every cold start.
        guarded.__name__ = getattr(handler, "__name__", "guarded")
        guarded.__qualname__ = getattr(handler, "__qualname__", guarded.__name__)
        guarded.__doc__ = handler.__doc__
        guarded.__module__ = getattr(handler, "__module__", __name__)
        guarded.__wrapped__ = handler  # type: ignore[attr-defined]
        return guarded

    return decorate


def run_guarded(
    handler: Handler,
    event: object,
    context: object,
    *,
    sources: Collection[str] | None = None,
    http: HttpOptions | None = None,
    s3: S3Options | None = None,
    batch: BatchOptions | None = None,
    audit: AuditSink | None = write_audit_line,
    expose_details: bool = False,
    security_headers: Mapping[str, str] | None = None,
) -> object:
    """The function form of `guard`: one guarded call of `handler(view, context)`."""
    config = _Config(sources, http, s3, batch, audit, expose_details, security_headers)
    return _run(handler, event, context, config)


def _run(handler: Handler, event: object, context: object, config: _Config) -> object:
    global _cold_start
    started = time.perf_counter()
    record: dict[str, object] = {
        "timestamp": _utc_now(),
        "function": _function_name(handler, context),
        "request_id": _request_id(context),
        "source": "unknown",
        "outcome": "ok",
        "cold_start": _cold_start,
    }
    _cold_start = False
    try:
        return _invoke(handler, event, context, config, record)
    finally:
        record["duration_ms"] = round((time.perf_counter() - started) * 1000, 3)
        _emit(config.audit, record)


def _invoke(
    handler: Handler,
    event: object,
    context: object,
    config: _Config,
    record: dict[str, object],
) -> object:
    source = detect(event)
    record["source"] = source
    try:
        view = validate_detected(
            source,
            event,
            sources=config.sources,
            http=config.http,
            s3=config.s3,
            batch=config.batch,
        )
    except EventValidationError as error:
        return _reject(source, event, error, config, record)
    except Exception as error:  # a broken option (schema, regex) must not leak a trace
        return _fail(source, event, error, config, record)
    if isinstance(view, BatchEvent):
        if source in PARTIAL_SOURCES:
            return _run_batch(handler, view, context, config, record)
        if source == FIREHOSE:
            return _run_firehose(handler, view, context, config, record)
    try:
        result = handler(view, context)
        if source in HTTP_SOURCES:
            # Inside the try: a response that cannot be serialised is a handler failure.
            result = _responses.secured(source, event, result, config.headers)
    except EventValidationError as error:
        return _reject(source, event, error, config, record)
    except Exception as error:  # the point of the guard: no handler failure leaks
        return _fail(source, event, error, config, record)
    if isinstance(result, dict) and "statusCode" in result and source in HTTP_SOURCES:
        record["status"] = result["statusCode"]
    return result


def _reject(
    source: str,
    event: object,
    error: EventValidationError,
    config: _Config,
    record: dict[str, object],
) -> object:
    record.update(outcome="rejected", rule=error.rule, path=error.path)
    if source in HTTP_SOURCES and source not in _responses.AUTHORIZER_SOURCES:
        record["status"] = 400
    request_id = record["request_id"]
    return _responses.rejected(
        source,
        event,
        error,
        request_id if isinstance(request_id, str) else "",
        expose_details=config.expose_details,
        headers=config.headers,
    )


def _fail(
    source: str,
    event: object,
    error: BaseException,
    config: _Config,
    record: dict[str, object],
    detail: str = "",
) -> object:
    correlation_id = _correlation_id(record)
    _record_error(record, error, correlation_id)
    if source in HTTP_SOURCES and source not in _responses.AUTHORIZER_SOURCES:
        record["status"] = 500
    return _responses.failed(source, event, correlation_id, headers=config.headers, detail=detail)


def _run_batch(
    handler: Handler,
    view: BatchEvent,
    context: object,
    config: _Config,
    record: dict[str, object],
) -> dict[str, object]:
    failed: tuple[str, ...] = ()
    if view.records:
        try:
            failed = _reported_failures(handler(view, context))
        except Exception as error:  # every record handed over failed with the handler
            _record_error(record, error, _correlation_id(record))
            failed = tuple(item.item_id or "" for item in view.records)
    response = view.batch_item_failures(failed)
    failures = response["batchItemFailures"]
    failed_count = len(failures) if isinstance(failures, list) else 0
    record["records"] = len(view.records) + len(view.rejected)
    record["rejected_records"] = len(view.rejected)
    record["failed_records"] = failed_count
    if record.get("error") is None:
        record["outcome"] = "partial" if failed_count else "ok"
    return response


def _reported_failures(result: object) -> tuple[str, ...]:
    """Ids from the handler's own `batchItemFailures`; an unreadable entry becomes "",
    which Lambda treats as failing the whole batch (fail closed)."""
    if not isinstance(result, dict):
        return ()
    entries = result.get("batchItemFailures")
    if not isinstance(entries, list):
        return ()
    ids: list[str] = []
    for entry in entries:
        found = entry.get("itemIdentifier") if isinstance(entry, dict) else None
        ids.append(found if isinstance(found, str) else "")
    return tuple(ids)


class UnreadableAnswerError(Exception):
    """A Firehose handler's answer that cannot be merged or passed on; audited as the
    handler's error (its type only: the audit record carries no message)."""


def _run_firehose(
    handler: Handler,
    view: BatchEvent,
    context: object,
    config: _Config,
    record: dict[str, object],
) -> object:
    total = len(view.records) + len(view.rejected)
    record["records"] = total
    record["rejected_records"] = len(view.rejected)
    handled: tuple[object, ...] = ()
    if view.records:
        try:
            result = handler(view, context)
        except EventValidationError as error:
            return _reject(FIREHOSE, view.data, error, config, record)
        except Exception as error:  # Firehose retries the invocation, then fails every record
            record["failed_records"] = total
            return _fail(FIREHOSE, view.data, error, config, record)
        found = _handled_records(result, view)
        if found is None:
            record["failed_records"] = total
            return _fail(FIREHOSE, view.data, UnreadableAnswerError(), config, record)
        problem = _answer_problem(result)
        if problem is not None:
            record["failed_records"] = total
            unusable = UnreadableAnswerError(problem)
            return _fail(FIREHOSE, view.data, unusable, config, record, problem)
        handled = found
    failed_count = len(view.rejected) + sum(
        1
        for entry in handled
        if isinstance(entry, dict) and entry.get("result") == "ProcessingFailed"
    )
    record["failed_records"] = failed_count
    record["outcome"] = "partial" if failed_count else "ok"
    return _responses.firehose_records(view, handled)


def _handled_records(result: object, view: BatchEvent) -> tuple[object, ...] | None:
    """The handler's Firehose entries in the order of `view.records`, or None unless its
    answer holds exactly one entry, an object, per record it got. The guard never makes up
    a result for a record the handler did not answer: as with an unreadable
    `batchItemFailures` entry it fails closed, here by failing the invocation.

    Entries are matched by `recordId`, and a repeated id (Firehose sends none, sample events
    do) by its order among the entries of that id.
    """
    if not isinstance(result, dict):
        return None
    entries = result.get("records")
    if not isinstance(entries, list) or len(entries) != len(view.records):
        return None
    by_id: dict[str, list[object]] = {}
    for entry in entries:
        found = entry.get("recordId") if isinstance(entry, dict) else None
        if not isinstance(found, str):
            return None
        by_id.setdefault(found, []).append(entry)
    handled: list[object] = []
    for item in view.records:
        waiting = by_id.get(item.item_id) if item.item_id is not None else None
        if not waiting:
            return None
        handled.append(waiting.pop(0))
    return tuple(handled)


def _answer_problem(result: object) -> str | None:
    """The fault of the first entry of a Firehose answer that Firehose would not accept,
    naming the entry by its position and `recordId`, or None. Checked whether or not the
    guard rejected records: Firehose fails such an answer with an error that names neither
    the entry nor the fault.

    Called once `_handled_records` has matched every entry, so a `recordId` named here is
    one Firehose sent (and only when it is plain enough to log). The entry's values are never
    quoted: its data may be sensitive, and a wrong `result` could hold anything.
    """
    entries = result.get("records") if isinstance(result, dict) else None
    if not isinstance(entries, list):
        return None
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            continue  # `_handled_records` refuses such an answer first
        wrong = _entry_problem(entry)
        if wrong is not None:
            record_id = _json.safe_segment(entry.get("recordId"))
            named = f" (recordId {record_id})" if record_id != "*" else ""
            return f"Firehose answer records[{index}]{named}: {wrong}"
    return None


def _entry_problem(entry: dict[str, object]) -> str | None:
    outcome = entry.get("result")
    # `in` on a frozenset would raise for an unhashable value.
    if not isinstance(outcome, str) or outcome not in _FIREHOSE_RESULTS:
        return 'result is not exactly "Ok", "Dropped" or "ProcessingFailed"'
    if "data" not in entry:
        return "data is missing"
    data = entry["data"]
    if not isinstance(data, str):
        return "data is not a string"
    try:
        # The same strict reading as the event's payloads; the bytes are not kept.
        decode_base64(data, "")
    except EventValidationError:
        return "data is not valid base64"
    # null is taken as absent: that is how serialisers write an unset optional field.
    metadata = entry.get("metadata")
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        return "metadata is not an object"
    keys = metadata.get("partitionKeys")
    if keys is None:
        return None
    if not isinstance(keys, dict):
        return "metadata.partitionKeys is not an object"
    for name, value in keys.items():
        if not isinstance(name, str):
            return "metadata.partitionKeys has a key that is not a string"
        if not isinstance(value, str):
            return f"metadata.partitionKeys.{_json.safe_segment(name)} is not a string"
    return None


def _record_error(record: dict[str, object], error: BaseException, correlation_id: str) -> None:
    kind = type(error)
    record.update(
        outcome="error",
        error=f"{kind.__module__}.{kind.__qualname__}",
        correlation_id=correlation_id,
        traceback=_frames(error),
    )


def _frames(error: BaseException) -> list[str]:
    """Where the error went through, without source lines (they can hold literals)."""
    frames: list[str] = []
    trace = error.__traceback__
    while trace is not None and len(frames) < _MAX_FRAMES:
        code = trace.tb_frame.f_code
        frames.append(f"{code.co_filename}:{trace.tb_lineno} in {code.co_name}")
        trace = trace.tb_next
    return frames


def _correlation_id(record: dict[str, object]) -> str:
    request_id = record.get("request_id")
    if isinstance(request_id, str) and request_id:
        return request_id
    return os.urandom(8).hex()


def _emit(sink: AuditSink | None, record: dict[str, object]) -> None:
    if sink is None:
        return
    try:
        sink(record)
    except Exception as error:  # a broken log sink must not break the response
        sys.stderr.write(f"lambdashield: audit sink failed ({type(error).__name__})\n")


def _function_name(handler: Handler, context: object) -> str:
    name = getattr(context, "function_name", None)
    if isinstance(name, str) and name:
        return name
    name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME") or getattr(handler, "__qualname__", None)
    return name if isinstance(name, str) and name else "handler"


def _request_id(context: object) -> str | None:
    found = getattr(context, "aws_request_id", None)
    return found if isinstance(found, str) else None


def _utc_now() -> str:
    now = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now))
    return f"{stamp}.{int(now * 1000) % 1000:03d}Z"
