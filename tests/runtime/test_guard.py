"""The guard: safe answers per source, security headers, partial batches, one audit record."""

from __future__ import annotations

import contextlib
import copy
import importlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lambdashield.runtime import (
    DEFAULT_SECURITY_HEADERS,
    BatchEvent,
    BatchOptions,
    EventValidationError,
    EventView,
    HandlerError,
    HttpOptions,
    HttpRequest,
    RuntimeConfigError,
    guard,
    run_guarded,
    validate,
)

# The package exports the `guard` function under the module's name; reach the module itself.
guard_module = importlib.import_module("lambdashield.runtime.guard")

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"  # noqa: S105 - planted on purpose


class Context:
    function_name = "orders"
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"


def load(shared_dir: Path, name: str) -> Any:
    return json.loads((shared_dir / "corpora" / "events" / name).read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def warm_process(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts as a warm invocation unless it says otherwise."""
    monkeypatch.setattr(guard_module, "_cold_start", False)
    yield


def audited(handler: Any, event: object, **options: Any) -> tuple[object, dict[str, object]]:
    records: list[dict[str, object]] = []
    answer = run_guarded(handler, event, Context(), audit=records.append, **options)
    assert len(records) == 1, "exactly one audit record per invocation"
    return answer, records[0]


def ok_handler(view: object, context: object) -> dict[str, object]:
    return {"statusCode": 200, "body": "fine"}


def failing_handler(view: object, context: object) -> object:
    raise RuntimeError(f"database password is {SECRET}")


def assert_clean(value: object) -> None:
    text = json.dumps(value, default=repr)
    for leaked in (SECRET, "Traceback", "RuntimeError", 'File "'):
        assert leaked not in text


# HTTP ------------------------------------------------------------------------------------


def test_http_handler_sees_the_view_and_gets_security_headers(shared_dir: Path) -> None:
    seen: list[object] = []

    def handler(view: object, context: object) -> dict[str, object]:
        seen.append(view)
        return {"statusCode": 200, "headers": {"x-frame-options": "SAMEORIGIN"}, "body": "ok"}

    answer, record = audited(
        handler, load(shared_dir, "powertools-python/apiGatewayProxyEvent.json")
    )
    assert isinstance(seen[0], HttpRequest)
    assert isinstance(answer, dict)
    headers = answer["headers"]
    assert headers["x-frame-options"] == "SAMEORIGIN"  # the handler's choice wins
    assert "X-Frame-Options" not in headers
    for name in set(DEFAULT_SECURITY_HEADERS) - {"X-Frame-Options"}:
        assert headers[name] == DEFAULT_SECURITY_HEADERS[name]
    assert record["outcome"] == "ok"
    assert record["status"] == 200
    assert record["source"] == "apigw_rest_v1"


def test_the_handlers_response_is_not_mutated(shared_dir: Path) -> None:
    response = {"statusCode": 200, "headers": {"a": "b"}, "body": "x"}
    kept = copy.deepcopy(response)
    answer, _ = audited(
        lambda view, context: response,
        load(shared_dir, "powertools-python/apiGatewayProxyV2Event.json"),
    )
    assert response == kept
    assert answer is not response


def test_http_api_bare_object_becomes_a_full_response(shared_dir: Path) -> None:
    answer, _ = audited(
        lambda view, context: {"id": 7},
        load(shared_dir, "powertools-python/apiGatewayProxyV2Event.json"),
    )
    assert isinstance(answer, dict)
    assert answer["statusCode"] == 200
    assert json.loads(answer["body"]) == {"id": 7}
    assert answer["headers"]["X-Content-Type-Options"] == "nosniff"


def test_http_rejection_is_a_fixed_400(shared_dir: Path) -> None:
    event = load(shared_dir, "powertools-python/apiGatewayProxyV2Event.json")
    event["rawPath"] = f"/%2e%2e/{SECRET}"
    answer, record = audited(failing_handler, event)
    assert isinstance(answer, dict)
    assert answer["statusCode"] == 400
    assert json.loads(answer["body"]) == {
        "message": "Bad request",
        "request_id": Context.aws_request_id,
    }
    assert answer["headers"]["Content-Type"] == "application/json"
    assert answer["headers"]["Cache-Control"] == "no-store"
    assert record["outcome"] == "rejected"
    assert (record["rule"], record["path"]) == ("path_traversal", "/rawPath")
    assert_clean([answer, record])


def test_expose_details_names_rule_and_pointer_only(shared_dir: Path) -> None:
    event = load(shared_dir, "powertools-python/apiGatewayProxyEvent.json")
    event["httpMethod"] = "TRACE"
    answer, _ = audited(failing_handler, event, expose_details=True)
    assert isinstance(answer, dict)
    assert json.loads(answer["body"]) == {
        "message": "Bad request",
        "request_id": Context.aws_request_id,
        "rule": "method_not_allowed",
        "path": "/httpMethod",
    }


def test_handler_exception_is_a_500_with_a_correlation_id(shared_dir: Path) -> None:
    answer, record = audited(
        failing_handler, load(shared_dir, "powertools-python/lambdaFunctionUrlEvent.json")
    )
    assert isinstance(answer, dict)
    assert answer["statusCode"] == 500
    body = json.loads(answer["body"])
    assert body == {"message": "Internal server error", "correlation_id": Context.aws_request_id}
    assert record["outcome"] == "error"
    assert record["error"] == "builtins.RuntimeError"
    assert record["correlation_id"] == Context.aws_request_id
    frames = record["traceback"]
    assert isinstance(frames, list)
    assert any("failing_handler" in frame for frame in frames)
    assert SECRET not in json.dumps(record)
    assert_clean(answer)


def test_an_unserialisable_response_is_a_500(shared_dir: Path) -> None:
    answer, record = audited(
        lambda view, context: {"when": object()},
        load(shared_dir, "powertools-python/apiGatewayProxyV2Event.json"),
    )
    assert isinstance(answer, dict)
    assert answer["statusCode"] == 500
    assert record["error"] == "builtins.TypeError"


def test_correlation_id_without_a_context(shared_dir: Path) -> None:
    records: list[dict[str, object]] = []
    answer = run_guarded(
        failing_handler,
        load(shared_dir, "powertools-python/apiGatewayProxyV2Event.json"),
        None,
        audit=records.append,
    )
    assert isinstance(answer, dict)
    correlation = json.loads(answer["body"])["correlation_id"]
    assert len(correlation) == 16
    assert records[0]["correlation_id"] == correlation


def test_alb_with_multi_value_headers_answers_in_kind(shared_dir: Path) -> None:
    event = load(shared_dir, "powertools-python/albMultiValueHeadersEvent.json")
    answer, _ = audited(ok_handler, event)
    assert isinstance(answer, dict)
    assert answer["multiValueHeaders"]["X-Content-Type-Options"] == ["nosniff"]
    event["httpMethod"] = "TRACE"
    rejected, _ = audited(ok_handler, event)
    assert isinstance(rejected, dict)
    assert "headers" not in rejected
    assert rejected["statusDescription"] == "400 Bad Request"
    assert rejected["multiValueHeaders"]["Content-Type"] == ["application/json"]


def test_security_headers_can_be_replaced_or_dropped(shared_dir: Path) -> None:
    event = load(shared_dir, "powertools-python/apiGatewayProxyV2Event.json")
    answer, _ = audited(ok_handler, event, security_headers={"X-Custom": "1"})
    assert isinstance(answer, dict)
    assert answer["headers"] == {"X-Custom": "1"}
    bare, _ = audited(ok_handler, event, security_headers={})
    assert bare == {"statusCode": 200, "body": "fine"}


def test_schema_failure_is_a_400(shared_dir: Path) -> None:
    pytest.importorskip("fastjsonschema")
    schema = {"type": "object", "required": ["message", "username"]}
    options = HttpOptions(json_schema=schema)
    good = load(shared_dir, "powertools-python/apiGatewayProxyV2SchemaMiddlwareValidEvent.json")
    bad = load(shared_dir, "powertools-python/apiGatewayProxyV2SchemaMiddlwareInvalidEvent.json")
    answer, _ = audited(
        lambda view, context: {"statusCode": 200, "body": view.json["message"]}, good, http=options
    )
    assert isinstance(answer, dict)
    assert answer["body"] == "hello world"
    answer, record = audited(ok_handler, bad, http=options)
    assert isinstance(answer, dict)
    assert answer["statusCode"] == 400
    assert record["rule"] == "schema_mismatch"


def test_a_broken_option_is_a_500_not_a_crash(shared_dir: Path) -> None:
    options = HttpOptions(path_pattern="([")
    answer, record = audited(
        ok_handler, load(shared_dir, "powertools-python/apiGatewayProxyV2Event.json"), http=options
    )
    assert isinstance(answer, dict)
    assert answer["statusCode"] == 500
    assert record["error"] == "lambdashield.runtime.exceptions.RuntimeConfigError"


def test_validation_error_raised_by_the_handler_is_a_400(shared_dir: Path) -> None:
    event = load(shared_dir, "powertools-python/apiGatewayProxyEventAnotherPath.json")

    def handler(view: HttpRequest, context: object) -> object:
        return view.body_bytes  # flagged base64, but it is not

    answer, record = audited(handler, event)
    assert isinstance(answer, dict)
    assert answer["statusCode"] == 400
    assert record["rule"] == "body_encoding"


# Authorizers -----------------------------------------------------------------------------


def test_authorizer_rejection_is_a_deny(shared_dir: Path) -> None:
    event = load(shared_dir, "powertools-python/apiGatewayAuthorizerTokenEvent.json")
    event["authorizationToken"] = f"{SECRET}\r\nx"
    answer, record = audited(failing_handler, event)
    assert isinstance(answer, dict)
    statement = answer["policyDocument"]["Statement"][0]
    assert statement["Effect"] == "Deny"
    assert statement["Resource"] == event["methodArn"]
    assert record["outcome"] == "rejected"
    assert "status" not in record
    assert_clean(answer)


def test_authorizer_failure_is_a_deny(shared_dir: Path) -> None:
    answer, record = audited(
        failing_handler, load(shared_dir, "powertools-python/apiGatewayAuthorizerV2Event.json")
    )
    assert isinstance(answer, dict)
    assert answer["isAuthorized"] is False
    assert answer["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert record["outcome"] == "error"
    appsync, _ = audited(
        failing_handler, load(shared_dir, "powertools-python/appSyncAuthorizerEvent.json")
    )
    assert appsync == {"isAuthorized": False}


def test_authorizer_answer_is_passed_through(shared_dir: Path) -> None:
    allow = {"principalId": "me", "policyDocument": {}}
    answer, _ = audited(
        lambda view, context: allow,
        load(shared_dir, "powertools-python/apiGatewayAuthorizerRequestEvent.json"),
    )
    assert answer is allow


# Batches ---------------------------------------------------------------------------------


def sqs_with_bad_record(shared_dir: Path) -> dict[str, Any]:
    event: dict[str, Any] = load(shared_dir, "powertools-python/sqsEvent.json")
    event["Records"][1]["body"] = {"not": "a string"}
    return event


def test_bad_records_are_reported_and_withheld(shared_dir: Path) -> None:
    event = sqs_with_bad_record(shared_dir)
    bad_id = event["Records"][1]["messageId"]
    seen: list[BatchEvent] = []

    def handler(view: BatchEvent, context: object) -> None:
        seen.append(view)

    answer, record = audited(handler, event)
    assert answer == {"batchItemFailures": [{"itemIdentifier": bad_id}]}
    assert [item.item_id for item in seen[0].records] == [event["Records"][0]["messageId"]]
    assert record["outcome"] == "partial"
    assert (record["records"], record["rejected_records"], record["failed_records"]) == (2, 1, 1)


def test_handler_failures_are_merged(shared_dir: Path) -> None:
    event = sqs_with_bad_record(shared_dir)
    good_id = event["Records"][0]["messageId"]

    def handler(view: BatchEvent, context: object) -> dict[str, object]:
        return {"batchItemFailures": [{"itemIdentifier": good_id}]}

    answer, _ = audited(handler, event)
    assert answer == {
        "batchItemFailures": [
            {"itemIdentifier": event["Records"][1]["messageId"]},
            {"itemIdentifier": good_id},
        ]
    }


def test_a_raising_batch_handler_fails_every_record_it_got(shared_dir: Path) -> None:
    event = load(shared_dir, "powertools-python/kinesisStreamEvent.json")
    answer, record = audited(failing_handler, event)
    ids = [item["kinesis"]["sequenceNumber"] for item in event["Records"]]
    assert answer == {"batchItemFailures": [{"itemIdentifier": item} for item in ids]}
    assert record["outcome"] == "error"
    assert_clean(answer)


def test_a_clean_batch_reports_nothing(shared_dir: Path) -> None:
    answer, record = audited(
        lambda view, context: None, load(shared_dir, "powertools-python/dynamoStreamEvent.json")
    )
    assert answer == {"batchItemFailures": []}
    assert record["outcome"] == "ok"


def test_a_record_without_an_id_fails_the_whole_batch(shared_dir: Path) -> None:
    event = load(shared_dir, "powertools-python/sqsEvent.json")
    del event["Records"][0]["messageId"]
    answer, _ = audited(lambda view, context: None, event)
    assert {"itemIdentifier": ""} in answer["batchItemFailures"]  # type: ignore[index]


def test_a_malformed_batch_fails_every_record(shared_dir: Path) -> None:
    event = load(shared_dir, "powertools-python/sqsEvent.json")
    answer, record = audited(failing_handler, event, batch=BatchOptions(max_records=1))
    ids = [item["messageId"] for item in event["Records"]]
    assert answer == {"batchItemFailures": [{"itemIdentifier": item} for item in ids]}
    assert record["rule"] == "too_many_records"


# Other and unknown sources ---------------------------------------------------------------


def test_unknown_events_reach_the_handler(shared_dir: Path) -> None:
    seen: list[EventView] = []

    def handler(view: EventView, context: object) -> str:
        seen.append(view)
        return "done"

    answer, record = audited(handler, {"orderId": 7})
    assert answer == "done"
    assert seen[0].source == "unknown"
    assert seen[0].raw == {"orderId": 7}
    assert record["source"] == "unknown"


def test_unknown_events_are_refused_when_sources_are_listed() -> None:
    records: list[dict[str, object]] = []
    with pytest.raises(EventValidationError) as caught:
        run_guarded(ok_handler, {"orderId": 7}, Context(), sources={"sqs"}, audit=records.append)
    assert caught.value.rule == "source_not_allowed"
    assert caught.value.__context__ is None or caught.value.__suppress_context__
    assert records[0]["outcome"] == "rejected"


def test_sources_must_be_a_collection() -> None:
    with pytest.raises(RuntimeConfigError):
        guard(sources="sqs")
    with pytest.raises(RuntimeConfigError):
        validate({"x": 1}, sources="unknown")


def test_other_sources_raise_the_validation_error(shared_dir: Path) -> None:
    event = load(shared_dir, "powertools-python/s3Event.json")
    event["Records"][0]["s3"]["object"]["key"] = f"../{SECRET}"
    with pytest.raises(EventValidationError) as caught:
        run_guarded(ok_handler, event, Context(), audit=None)
    assert caught.value.rule == "key_traversal"
    assert SECRET not in str(caught.value)


def test_other_sources_hide_handler_errors(shared_dir: Path) -> None:
    records: list[dict[str, object]] = []
    with pytest.raises(HandlerError) as caught:
        run_guarded(
            failing_handler,
            load(shared_dir, "powertools-python/eventBridgeEvent.json"),
            Context(),
            audit=records.append,
        )
    assert caught.value.correlation_id == Context.aws_request_id
    assert caught.value.__suppress_context__
    assert SECRET not in str(caught.value)
    assert records[0]["outcome"] == "error"


# The decorator and the audit line --------------------------------------------------------


def test_decorator_keeps_the_handlers_identity(shared_dir: Path) -> None:
    @guard(audit=None)
    def handler(view: object, context: object) -> dict[str, object]:
        """Orders."""
        return {"statusCode": 204}

    assert handler.__name__ == "handler"
    assert handler.__doc__ == "Orders."
    assert handler.__wrapped__ is not handler  # type: ignore[attr-defined]
    answer = handler(load(shared_dir, "powertools-python/apiGatewayProxyV2Event.json"), None)
    assert answer["statusCode"] == 204


def test_default_audit_is_one_redacted_json_line_on_stdout(
    shared_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(guard_module, "_cold_start", True)
    handler = guard()(ok_handler)
    event = load(shared_dir, "powertools-python/apiGatewayProxyV2Event.json")
    handler(event, Context())
    handler(event, Context())
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    # Written by the redacting AuditLogger, which adds its own level/type and context keys.
    assert set(first) == {
        "timestamp",
        "level",
        "type",
        "function",
        "request_id",
        "source",
        "outcome",
        "duration_ms",
        "remaining_time_ms",
        "cold_start",
        "log_group",
        "status",
    }
    assert first["function"] == "orders"
    assert first["cold_start"] is True
    assert second["cold_start"] is False
    assert first["timestamp"].endswith("Z")
    assert " " not in lines[0]


def test_function_name_falls_back_to_the_environment(
    shared_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "from-env")
    records: list[dict[str, object]] = []
    run_guarded(ok_handler, {"x": 1}, None, audit=records.append)
    assert records[0]["function"] == "from-env"
    assert records[0]["request_id"] is None


def test_a_broken_audit_sink_does_not_break_the_answer(
    shared_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def sink(record: dict[str, object]) -> None:
        raise OSError("disk full")

    answer = run_guarded(
        ok_handler,
        load(shared_dir, "powertools-python/apiGatewayProxyV2Event.json"),
        None,
        audit=sink,
    )
    assert isinstance(answer, dict)
    assert answer["statusCode"] == 200
    assert "audit sink failed (OSError)" in capsys.readouterr().err


def test_the_guard_never_changes_the_event(shared_dir: Path) -> None:
    for name in (
        "powertools-python/apiGatewayProxyEvent.json",
        "powertools-python/s3SqsEvent.json",
        "powertools-python/kinesisStreamEvent.json",
        "powertools-python/cognitoPreSignUpEvent.json",
    ):
        event = load(shared_dir, name)
        before = copy.deepcopy(event)
        with contextlib.suppress(HandlerError):
            run_guarded(failing_handler, event, Context(), audit=None)
        assert event == before, name
