"""AuditLogger lines, the logging Filter and Formatter, and the handler decorator."""

from __future__ import annotations

import io
import json
import logging
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from lambdashield.runtime import audit_log
from lambdashield.runtime.audit_log import (
    AUDIT_FIELDS,
    AuditLogger,
    JsonFormatter,
    RedactingFilter,
    redact_logging,
    utc_timestamp,
)
from lambdashield.runtime.redact import MASK, Redactor

SECRET = "hunter2-correct-horse-battery"  # noqa: S105 - a fake secret the tests hunt for
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


class FakeContext:
    function_name = "orders"
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e812345678"
    log_group_name = "/aws/lambda/orders"

    def get_remaining_time_in_millis(self) -> int:
        return 2995


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_one_line_per_record_with_core_fields_first_in_order() -> None:
    stream = io.StringIO()
    AuditLogger(stream=stream).record(
        {"status": 200, "outcome": "ok", "function": "orders", "request_id": "r-1"}
    )
    AuditLogger(stream=stream).record({"function": "orders"})
    first, second = _lines(stream)
    assert list(first) == ["timestamp", "level", "type", *AUDIT_FIELDS, "status"]
    assert first["outcome"] == "ok"
    assert first["status"] == 200
    assert first["type"] == "audit"
    assert TIMESTAMP.match(first["timestamp"])
    assert second["request_id"] is None
    assert stream.getvalue().count("\n") == 2


def test_guard_timestamp_is_kept() -> None:
    stream = io.StringIO()
    AuditLogger(stream=stream).record({"timestamp": "2026-01-02T03:04:05.678Z"})
    assert _lines(stream)[0]["timestamp"] == "2026-01-02T03:04:05.678Z"


def test_extra_fields_are_redacted_before_formatting() -> None:
    stream = io.StringIO()
    AuditLogger(stream=stream).record(
        {
            "function": "orders",
            "password": SECRET,
            "detail": {"headers": {"Authorization": f"Bearer {SECRET}"}},
            "note": f"password={SECRET}",
        }
    )
    text = stream.getvalue()
    assert SECRET not in text
    line = _lines(stream)[0]
    assert line["password"] == MASK
    assert line["detail"] == {"headers": {"Authorization": MASK}}
    assert line["note"] == f"password={MASK}"


def test_the_event_is_left_out_unless_asked_and_then_redacted() -> None:
    event = {"headers": {"Cookie": SECRET}, "body": json.dumps({"password": SECRET})}
    quiet, loud = io.StringIO(), io.StringIO()
    AuditLogger(stream=quiet).record({"function": "f", "event": event})
    AuditLogger(stream=loud, log_event=True).record({"function": "f", "event": event})
    assert "event" not in _lines(quiet)[0]
    logged = _lines(loud)[0]["event"]
    assert logged["headers"] == {"Cookie": MASK}
    assert json.loads(logged["body"]) == {"password": MASK}
    assert SECRET not in loud.getvalue()
    assert event["headers"] == {"Cookie": SECRET}, "the event was changed"


def test_static_fields_and_custom_redactor() -> None:
    stream = io.StringIO()
    auditor = AuditLogger(
        stream=stream,
        redactor=Redactor(mask="partial"),
        static_fields={"service": "orders", "api_key": SECRET},
    )
    auditor.record({"token": SECRET})
    line = _lines(stream)[0]
    assert line["service"] == "orders"
    assert line["api_key"] == MASK + SECRET[-4:]
    assert line["token"] == MASK + SECRET[-4:]


def test_values_json_cannot_encode_are_written_as_text() -> None:
    stream = io.StringIO()
    AuditLogger(stream=stream).record({"duration_ms": object(), "when": time.gmtime(0)})
    line = _lines(stream)[0]
    assert line["duration_ms"].startswith("<object object")
    assert isinstance(line["when"], list)


def test_stdout_is_looked_up_at_write_time(capsys: pytest.CaptureFixture[str]) -> None:
    AuditLogger().record({"function": "orders"})
    out = capsys.readouterr().out
    assert json.loads(out)["function"] == "orders"


def test_record_never_raises(capsys: pytest.CaptureFixture[str]) -> None:
    class Broken(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError("closed")

    AuditLogger(stream=Broken()).record({"function": "orders", "password": SECRET})
    err = capsys.readouterr().err
    problem = json.loads(err)
    assert problem["problem"] == "audit line not written: OSError"
    assert SECRET not in err


def test_a_field_that_cannot_be_formatted_gives_a_fallback_line() -> None:
    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("no")

        __repr__ = __str__

    stream = io.StringIO()
    AuditLogger(stream=stream).record({"function": Unprintable()})
    assert _lines(stream)[0]["problem"] == "audit line not formatted: RuntimeError"


def test_utc_timestamp_ignores_the_local_time_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    if not hasattr(time, "tzset"):
        pytest.skip("time.tzset is POSIX only")
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    try:
        assert utc_timestamp(0) == "1970-01-01T00:00:00.000Z"
        assert utc_timestamp(1_700_000_000.5) == "2023-11-14T22:13:20.500Z"
        assert utc_timestamp(1_700_000_000.999) == "2023-11-14T22:13:20.999Z"
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert TIMESTAMP.match(utc_timestamp())


def test_context_fields_read_a_lambda_context() -> None:
    assert AuditLogger.context_fields(FakeContext()) == {
        "function": "orders",
        "request_id": "c6af9ac6-7b61-11e6-9a41-93e812345678",
        "log_group": "/aws/lambda/orders",
        "remaining_time_ms": 2995,
    }
    assert AuditLogger.context_fields(object()) == {}


@pytest.fixture
def warm_process(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(audit_log._ColdStart, "cold", True)
    yield


@pytest.mark.usefixtures("warm_process")
def test_audits_decorator_writes_one_line_per_invocation() -> None:
    stream = io.StringIO()
    auditor = AuditLogger(stream=stream, event_source=lambda event: "custom")

    @auditor.audits
    def handler(event: dict[str, str], context: object) -> dict[str, int]:
        return {"statusCode": 200}

    assert handler({"password": SECRET}, FakeContext()) == {"statusCode": 200}
    assert handler({}, FakeContext()) == {"statusCode": 200}
    first, second = _lines(stream)
    assert first["function"] == "orders"
    assert first["request_id"] == FakeContext.aws_request_id
    assert first["log_group"] == "/aws/lambda/orders"
    assert first["remaining_time_ms"] == 2995
    assert first["source"] == "custom"
    assert first["outcome"] == "ok"
    assert first["cold_start"] is True
    assert second["cold_start"] is False
    assert isinstance(first["duration_ms"], float)
    assert SECRET not in stream.getvalue()
    assert handler.__name__ == "handler"


@pytest.mark.usefixtures("warm_process")
def test_audits_decorator_records_errors_and_reraises() -> None:
    stream = io.StringIO()
    auditor = AuditLogger(stream=stream, log_event=True)

    @auditor.audits
    def handler(event: dict[str, str], context: object) -> None:
        raise KeyError(SECRET)

    with pytest.raises(KeyError):
        handler({"token": SECRET}, FakeContext())
    line = _lines(stream)[0]
    assert line["outcome"] == "error"
    assert line["error_type"] == "KeyError"
    assert line["event"] == {"token": MASK}
    assert SECRET not in stream.getvalue()


# logging -----------------------------------------------------------------------------


def test_logging_classes_are_real_logging_classes() -> None:
    assert issubclass(RedactingFilter, logging.Filter)
    assert issubclass(JsonFormatter, logging.Formatter)
    assert RedactingFilter.__module__ == "lambdashield.runtime.audit_log"
    assert RedactingFilter is audit_log.RedactingFilter


def test_filter_redacts_records_captured_by_caplog(caplog: pytest.LogCaptureFixture) -> None:
    caplog.handler.addFilter(RedactingFilter())
    logger = logging.getLogger("lambdashield.test.audit.caplog")
    with caplog.at_level(logging.INFO, logger=logger.name):
        logger.info("login %s with %s", "jane", {"password": SECRET, "user": "jane"})
        logger.info("token=%s", SECRET)
        logger.info({"Authorization": f"Bearer {SECRET}"})
        logger.info("extra", extra={"api_key": SECRET, "attempt": 2})
        try:
            raise RuntimeError(f"db password={SECRET}")
        except RuntimeError:
            logger.exception("failed")
    assert SECRET not in caplog.text
    messages = [record.getMessage() for record in caplog.records]
    assert messages[0] == f"login jane with {{'password': '{MASK}', 'user': 'jane'}}"
    assert messages[1] == f"token={MASK}"
    assert caplog.records[3].api_key == MASK  # type: ignore[attr-defined]
    assert caplog.records[3].attempt == 2  # type: ignore[attr-defined]
    assert caplog.records[4].exc_text is not None
    assert f"password={MASK}" in caplog.records[4].exc_text


def test_bad_format_arguments_do_not_lose_the_record(caplog: pytest.LogCaptureFixture) -> None:
    caplog.handler.addFilter(RedactingFilter())
    logger = logging.getLogger("lambdashield.test.audit.badargs")
    with caplog.at_level(logging.INFO, logger=logger.name):
        logger.info("card %d", 4111111111111111)
    assert "4111111111111111" not in caplog.text
    assert caplog.records[0].getMessage() == f"card %d ('{MASK}',)"


def test_json_formatter_writes_one_redacted_json_line() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("lambdashield.test.audit.json")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        logger.warning("user %s", "jane", extra={"aws_request_id": "r-1", "secret": SECRET})
        try:
            raise ValueError(f"token={SECRET}")
        except ValueError:
            logger.exception("boom")
    finally:
        logger.removeHandler(handler)
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["message"] == "user jane"
    assert first["level"] == "WARNING"
    assert first["logger"] == "lambdashield.test.audit.json"
    assert first["request_id"] == "r-1"
    assert first["secret"] == MASK
    assert TIMESTAMP.match(first["timestamp"])
    assert "ValueError" in second["exception"]
    assert SECRET not in stream.getvalue()


def test_redact_logging_attaches_once_to_every_handler() -> None:
    logger = logging.getLogger("lambdashield.test.audit.install")
    handlers = [logging.StreamHandler(io.StringIO()), logging.StreamHandler(io.StringIO())]
    for handler in handlers:
        logger.addHandler(handler)
    try:
        first = redact_logging(logger)
        redact_logging(logger)
        for handler in handlers:
            assert handler.filters == [first]
    finally:
        for handler in handlers:
            logger.removeHandler(handler)


def test_redact_logging_without_handlers_filters_the_logger_itself() -> None:
    logger = logging.getLogger("lambdashield.test.audit.bare")
    try:
        installed = redact_logging(logger)
        assert logger.filters == [installed]
    finally:
        logger.filters.clear()


def test_logging_is_imported_only_when_the_logging_classes_are_used() -> None:
    code = (
        "import sys\n"
        "import lambdashield.runtime\n"
        "already = 'logging' in sys.modules\n"
        "import lambdashield.runtime.audit_log as a\n"
        "print(already, 'logging' in sys.modules)\n"
        "a.RedactingFilter\n"
        "print('logging' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    imported, used = done.stdout.splitlines()
    if imported.startswith("True"):
        pytest.skip("lambdashield.runtime itself imports logging")
    assert imported == "False False"
    assert used == "True"
