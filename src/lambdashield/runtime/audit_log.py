"""Audit lines without secrets: one JSON line per invocation, and redacted ``logging`` output.

`AuditLogger.record` writes one line per call to standard output (or a stream you give),
which Lambda sends to CloudWatch Logs::

    {"timestamp": "2026-11-29T09:39:58.123Z", "level": "INFO", "type": "audit",
     "function": "orders", "request_id": "c6af9ac6-...", "source": "apigw_rest_v1",
     "outcome": "ok", "duration_ms": 3.21, "remaining_time_ms": 2995,
     "cold_start": false, "log_group": "/aws/lambda/orders", ...extra fields}

The core fields (`AUDIT_FIELDS`) come first, in that order, ``null`` when not given. Every other
field is redacted with `lambdashield.runtime.redact` *before* it is formatted. The raw event is
never written unless the logger was built with ``log_event=True``, and then it is redacted too.

`RedactingFilter` and `JsonFormatter` are a `logging.Filter` and a `logging.Formatter` that
apply the same redaction to the ``logging`` calls a handler already makes;
`redact_logging()` attaches the filter to every handler of the root logger (the Lambda runtime
installs one there).

The timestamp is UTC with millisecond precision, built from the epoch seconds, so it does not
depend on the machine's time zone or locale. ``logging`` and ``json`` are imported on first use
only, so importing this module costs next to nothing.
"""

from __future__ import annotations

import sys
import time

from .redact import Redactor, default_redactor

TYPE_CHECKING = False
if TYPE_CHECKING:
    import logging
    from collections.abc import Callable, Mapping
    from typing import IO, TypeVar

    _E = TypeVar("_E")
    _C = TypeVar("_C")
    _R = TypeVar("_R")

__all__ = [
    "AUDIT_FIELDS",
    "AuditLogger",
    "JsonFormatter",
    "RedactingFilter",
    "redact_logging",
    "utc_timestamp",
]

AUDIT_FIELDS = (
    "function",
    "request_id",
    "source",
    "outcome",
    "duration_ms",
    "remaining_time_ms",
    "cold_start",
    "log_group",
)
"""The fields every audit line carries after ``timestamp``, ``level`` and ``type``, in this
order; the names are those of the records ``@guard`` builds."""

_CORE = frozenset(AUDIT_FIELDS) | {"timestamp", "level", "type", "event"}

_second_cache: list[object] = [-1, ""]


def utc_timestamp(epoch: float | None = None) -> str:
    """``epoch`` (default: now) as ``YYYY-MM-DDTHH:MM:SS.mmmZ`` in UTC."""
    if epoch is None:
        epoch = time.time()
    second = int(epoch)
    millis = int((epoch - second) * 1000)
    if _second_cache[0] != second:
        # gmtime and strftime with a fixed numeric format never consult the local zone.
        _second_cache[1] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        _second_cache[0] = second
    return f"{_second_cache[1]}.{millis:03d}Z"


class _Json:
    """``json`` and a shared encoder, loaded on first use."""

    __slots__ = ("dumps", "encode")

    def __init__(self) -> None:
        import json

        self.dumps = json.dumps
        self.encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


_json: _Json | None = None


def _codec() -> _Json:
    global _json
    if _json is None:
        _json = _Json()
    return _json


class _ColdStart:
    """Whether this process has run an invocation yet (Lambda reuses warm processes)."""

    cold = True


class AuditLogger:
    """Writes one redacted JSON audit line per call.

    Parameters
    ----------
    stream:
        Where lines go; standard output (looked up at each write) when None.
    redactor:
        The rules for extra fields and the event; the shared default when None.
    log_event:
        Include the event in the line (redacted) when the caller passes ``event``.
    event_source:
        A function naming the event source (such as ``lambdashield.runtime.detect``), used
        by `audits` when the caller does not say.
    static_fields:
        Fields added to every line (``{"service": "orders"}``), redacted once.
    """

    __slots__ = ("_event_source", "_redactor", "_static", "_stream", "log_event")

    def __init__(
        self,
        *,
        stream: IO[str] | None = None,
        redactor: Redactor | None = None,
        log_event: bool = False,
        event_source: Callable[[object], str] | None = None,
        static_fields: Mapping[str, object] | None = None,
    ) -> None:
        self._stream = stream
        self._redactor = redactor or default_redactor()
        self.log_event = log_event
        self._event_source = event_source
        self._static = self._redactor.redact_dict(static_fields) if static_fields else None

    @property
    def redactor(self) -> Redactor:
        return self._redactor

    def record(self, fields: Mapping[str, object]) -> None:
        """Write one audit line for ``fields``; never raises.

        ``timestamp`` (made here when absent) and the keys of `AUDIT_FIELDS` are written as
        given: they are the invocation's own metadata. Any other key is redacted first.
        ``event`` is dropped unless ``log_event`` is set. A line that cannot be formatted or
        written is replaced by a minimal line on standard error.
        """
        try:
            line = self.format(fields)
        except Exception as exc:  # a log call must not break the handler
            line = self._fallback(f"audit line not formatted: {type(exc).__name__}")
        stream = self._stream if self._stream is not None else sys.stdout
        try:
            stream.write(line + "\n")
        except Exception as exc:  # e.g. a closed stream; report where we still can
            try:
                sys.stderr.write(self._fallback(f"audit line not written: {type(exc).__name__}"))
                sys.stderr.write("\n")
            except Exception:  # noqa: S110 - nowhere left to report to
                pass

    def format(self, fields: Mapping[str, object]) -> str:
        """The audit line for ``fields`` (no trailing newline)."""
        get = fields.get
        line: dict[str, object] = {
            "timestamp": get("timestamp") or utc_timestamp(),
            "level": "INFO",
            "type": "audit",
            "function": get("function"),
            "request_id": get("request_id"),
            "source": get("source"),
            "outcome": get("outcome"),
            "duration_ms": get("duration_ms"),
            "remaining_time_ms": get("remaining_time_ms"),
            "cold_start": get("cold_start"),
            "log_group": get("log_group"),
        }
        if self._static:
            line.update(self._static)
        for name in fields:
            if name not in _CORE:
                extra = {key: value for key, value in fields.items() if key not in _CORE}
                line.update(self._redactor.redact_dict(extra))
                break
        if self.log_event and "event" in fields:
            line["event"] = self._redactor.redact(fields["event"])
        codec = _json if _json is not None else _codec()
        try:
            encoded: str = codec.encode(line)
        except (TypeError, ValueError):
            encoded = codec.dumps(
                line, default=_stringify, ensure_ascii=False, separators=(",", ":")
            )
        return encoded

    @staticmethod
    def context_fields(context: object) -> dict[str, object]:
        """``function``, ``request_id``, ``log_group`` and ``remaining_time_ms`` read from a
        Lambda context object (missing attributes are left out)."""
        fields: dict[str, object] = {}
        for field, attribute in (
            ("function", "function_name"),
            ("request_id", "aws_request_id"),
            ("log_group", "log_group_name"),
        ):
            value = getattr(context, attribute, None)
            if value is not None:
                fields[field] = value
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        if callable(remaining):
            try:
                fields["remaining_time_ms"] = remaining()
            except Exception:  # an odd context must not break the handler
                fields["remaining_time_ms"] = None
        return fields

    def audits(self, handler: Callable[[_E, _C], _R]) -> Callable[[_E, _C], _R]:
        """Decorator for a handler ``(event, context)``: one audit line per invocation.

        The outcome is ``ok`` or ``error`` (with ``error_type``, the exception's class
        name; the exception itself propagates unchanged). Use this when the handler is not
        wrapped by ``@guard``, which writes its own line through `record`.
        """
        import functools

        @functools.wraps(handler)
        def audited(event: _E, context: _C) -> _R:
            started = time.perf_counter()
            error_type: str | None = None
            try:
                return handler(event, context)
            except BaseException as exc:
                error_type = type(exc).__name__
                raise
            finally:
                self._record_invocation(event, context, started, error_type)

        return audited

    def _record_invocation(
        self, event: object, context: object, started: float, error_type: str | None
    ) -> None:
        fields = self.context_fields(context)
        fields["duration_ms"] = round((time.perf_counter() - started) * 1000.0, 3)
        fields["outcome"] = "ok" if error_type is None else "error"
        fields["cold_start"] = _ColdStart.cold
        _ColdStart.cold = False
        if self._event_source is not None:
            try:
                fields["source"] = self._event_source(event)
            except Exception:
                fields["source"] = "unknown"
        if error_type is not None:
            fields["error_type"] = error_type
        if self.log_event:
            fields["event"] = event
        self.record(fields)

    def _fallback(self, problem: str) -> str:
        return (
            f'{{"timestamp":"{utc_timestamp()}","level":"ERROR","type":"audit",'
            f'"problem":"{problem}"}}'
        )


def _stringify(value: object) -> str:
    return str(value)


# The logging integration ---------------------------------------------------------------
#
# `logging` costs more to import than the rest of the runtime together, so the two classes
# below are created on first access (PEP 562). The declarations under TYPE_CHECKING mirror
# them for type checkers; both delegate every decision to the functions that follow.

if TYPE_CHECKING:

    class RedactingFilter(logging.Filter):
        """Redacts each record's message, arguments, extra fields and traceback in place.

        Attach it to a handler (``handler.addFilter(RedactingFilter())``) so it sees every
        record the handler emits, or use `redact_logging`. It never drops a record.
        """

        redactor: Redactor

        def __init__(self, redactor: Redactor | None = None, name: str = "") -> None:
            super().__init__(name)
            self.redactor = redactor or default_redactor()

        def filter(self, record: logging.LogRecord) -> bool:
            _redact_record(self.redactor, record)
            return True

    class JsonFormatter(logging.Formatter):
        """Formats a record as one JSON line (timestamp, level, logger, message, request
        id, extra fields, exception), redacted first."""

        redactor: Redactor

        def __init__(self, redactor: Redactor | None = None) -> None:
            super().__init__()
            self.redactor = redactor or default_redactor()

        def format(self, record: logging.LogRecord) -> str:
            return _format_record(self.redactor, record)


def __getattr__(name: str) -> object:
    if name in ("RedactingFilter", "JsonFormatter"):
        _define_logging_classes()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _define_logging_classes() -> None:
    import logging

    class RedactingFilter(logging.Filter):
        __doc__ = _FILTER_DOC

        def __init__(self, redactor: Redactor | None = None, name: str = "") -> None:
            super().__init__(name)
            self.redactor = redactor or default_redactor()

        def filter(self, record: logging.LogRecord) -> bool:
            _redact_record(self.redactor, record)
            return True

    class JsonFormatter(logging.Formatter):
        __doc__ = _FORMATTER_DOC

        def __init__(self, redactor: Redactor | None = None) -> None:
            super().__init__()
            self.redactor = redactor or default_redactor()

        def format(self, record: logging.LogRecord) -> str:
            return _format_record(self.redactor, record)

    for cls in (RedactingFilter, JsonFormatter):
        cls.__module__ = __name__
        cls.__qualname__ = cls.__name__
    globals().update(RedactingFilter=RedactingFilter, JsonFormatter=JsonFormatter)


_FILTER_DOC = """Redacts each record's message, arguments, extra fields and traceback in place.

Attach it to a handler (``handler.addFilter(RedactingFilter())``) so it sees every record the
handler emits, or use `redact_logging`. It never drops a record.
"""
_FORMATTER_DOC = """Formats a record as one JSON line (timestamp, level, logger, message,
request id, extra fields, exception), redacted first."""

_standard_attributes: frozenset[str] = frozenset()
_REDACTED_FLAG = "_lambdashield_redacted"


def _record_attributes() -> frozenset[str]:
    global _standard_attributes
    if not _standard_attributes:
        import logging

        blank = logging.LogRecord("", 0, "", 0, "", (), None)
        _standard_attributes = frozenset(vars(blank)) | {"message", "asctime", _REDACTED_FLAG}
    return _standard_attributes


def _redact_record(redactor: Redactor, record: logging.LogRecord) -> None:
    """Redact ``record`` in place, once: message with its arguments, extras, traceback."""
    if getattr(record, _REDACTED_FLAG, False):
        return
    message = record.msg if type(record.msg) is str else str(redactor.redact(record.msg))
    args = record.args
    if args:
        safe_args: object
        if isinstance(args, tuple):
            safe_args = tuple(redactor.redact(arg) for arg in args)
        else:
            safe_args = redactor.redact(dict(args))
        try:
            message = message % safe_args
        except (TypeError, ValueError, KeyError):
            message = f"{message} {safe_args}"
    record.msg = redactor.redact_text(message)
    record.args = None
    standard = _record_attributes()
    extras = {key: value for key, value in vars(record).items() if key not in standard}
    if extras:
        for key, value in redactor.redact_dict(extras).items():
            setattr(record, key, value)
    if record.exc_info:
        import logging

        text = record.exc_text or logging.Formatter().formatException(record.exc_info)
        record.exc_text = redactor.redact_text(text)
        record.exc_info = None  # formatters that render exc_info themselves would leak it
    elif record.exc_text:
        record.exc_text = redactor.redact_text(record.exc_text)
    if record.stack_info:
        record.stack_info = redactor.redact_text(record.stack_info)
    setattr(record, _REDACTED_FLAG, True)


def _format_record(redactor: Redactor, record: logging.LogRecord) -> str:
    _redact_record(redactor, record)
    standard = _record_attributes()
    line: dict[str, object] = {
        "timestamp": utc_timestamp(record.created),
        "level": record.levelname,
        "logger": record.name,
        "message": record.getMessage(),
    }
    request_id = getattr(record, "aws_request_id", None)
    if request_id is not None:
        line["request_id"] = request_id
    line.update(
        (key, value)
        for key, value in vars(record).items()
        if key not in standard and key != "aws_request_id"
    )
    if record.exc_text:
        line["exception"] = record.exc_text
    if record.stack_info:
        line["stack"] = record.stack_info
    return _codec().dumps(line, default=_stringify, ensure_ascii=False, separators=(",", ":"))


def redact_logging(
    logger: logging.Logger | None = None, redactor: Redactor | None = None
) -> RedactingFilter:
    """Attach a `RedactingFilter` to every handler of ``logger`` (default: the root logger).

    Handlers that already carry a `RedactingFilter` are left alone, so calling this twice
    is harmless. A logger without handlers gets the filter itself, which covers the records
    logged through it but not those of its children. Call it after logging is configured:
    handlers added later are not covered.
    """
    import logging

    target = logger if logger is not None else logging.getLogger()
    if "RedactingFilter" not in globals():
        _define_logging_classes()
    filter_class: type[RedactingFilter] = globals()["RedactingFilter"]
    redacting = filter_class(redactor)
    holders: list[logging.Filterer] = list(target.handlers) or [target]
    for holder in holders:
        if not any(isinstance(existing, filter_class) for existing in holder.filters):
            holder.addFilter(redacting)
    return redacting
