"""The guard: safe answers per source, security headers, partial batches, one audit record."""

from __future__ import annotations

import base64
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
    HandlerAnswerError,
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


# Firehose transformations ----------------------------------------------------------------

FIREHOSE_CWL = "sam-cli/kinesis__KinesisFirehoseCloudwatchLogsProcessor.json"
UNREADABLE = "lambdashield.runtime.guard.UnreadableAnswerError"


def firehose_three(shared_dir: Path) -> dict[str, Any]:
    """A genuine transformation event cut to its first three records (distinct recordIds)."""
    event: dict[str, Any] = load(shared_dir, FIREHOSE_CWL)
    event["records"] = event["records"][:3]
    return event


def record_ids(event: dict[str, Any]) -> list[str]:
    return [item["recordId"] for item in event["records"]]


def failed_entry(event: dict[str, Any], index: int, data: str | None = None) -> dict[str, object]:
    item = event["records"][index]
    return {
        "recordId": item["recordId"],
        "result": "ProcessingFailed",
        "data": item["data"] if data is None else data,
    }


def ok_entries(view: BatchEvent, context: object) -> dict[str, object]:
    """Answers every record it got `Ok`, its payload unchanged."""
    return {
        "records": [
            {"recordId": item.item_id, "result": "Ok", "data": item.raw["data"]}
            for item in view.records
        ]
    }


def encoded(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def ok_entry(event: dict[str, Any], index: int) -> dict[str, object]:
    item = event["records"][index]
    return {"recordId": item["recordId"], "result": "Ok", "data": item["data"]}


# One bad record in the middle: (how it is spoiled, the data the answer hands back, options).
BAD_FIREHOSE_RECORDS: dict[str, tuple[object, str | None, dict[str, Any]]] = {
    "not-base64": ("bm90IGJhc2U2NA=!", None, {}),
    "too-large": (base64.b64encode(b"x" * 2048).decode(), None, {"max_record_bytes": 1024}),
    "not-json": (base64.b64encode(b"{not json").decode(), None, {"json_body": True}),
    "schema": (
        base64.b64encode(b'{"id": "seven"}').decode(),
        None,
        {"body_schema": {"type": "object", "properties": {"id": {"type": "integer"}}}},
    ),
    "data-not-a-string": (["SGVsbG8="], "", {}),
}


@pytest.mark.parametrize("case", sorted(BAD_FIREHOSE_RECORDS))
def test_firehose_bad_record_is_processing_failed_and_withheld(shared_dir: Path, case: str) -> None:
    spoiled, returned, options = BAD_FIREHOSE_RECORDS[case]
    event = firehose_three(shared_dir)
    if case in ("not-json", "schema"):
        # The genuine payloads are gzip, so the others get JSON that passes.
        for item in event["records"]:
            item["data"] = base64.b64encode(b'{"id": 7}').decode()
    event["records"][1]["data"] = spoiled
    ids = record_ids(event)
    seen: list[BatchEvent] = []

    def handler(view: BatchEvent, context: object) -> dict[str, object]:
        seen.append(view)
        return ok_entries(view, context)

    answer, audit = audited(handler, event, batch=BatchOptions(**options))
    assert [item.item_id for item in seen[0].records] == [ids[0], ids[2]]
    assert answer == {
        "records": [
            ok_entry(event, 0),
            failed_entry(event, 1, returned),
            ok_entry(event, 2),
        ]
    }
    assert audit["outcome"] == "partial"
    assert (audit["records"], audit["rejected_records"], audit["failed_records"]) == (3, 1, 1)


def test_firehose_handler_gets_decoded_payloads(shared_dir: Path) -> None:
    event = load(shared_dir, "powertools-python/kinesisFirehosePutEvent.json")
    bodies: list[object] = []

    def handler(view: BatchEvent, context: object) -> dict[str, object]:
        bodies.extend(item.body for item in view.records)
        return ok_entries(view, context)

    answer, audit = audited(handler, event)
    assert bodies == [b"Hello World", b'{"Hello": "World"}']
    assert answer == {"records": [ok_entry(event, 0), ok_entry(event, 1)]}
    assert audit["outcome"] == "ok"
    assert (audit["records"], audit["rejected_records"], audit["failed_records"]) == (2, 0, 0)


def test_firehose_all_records_bad_skips_the_handler(shared_dir: Path) -> None:
    event = firehose_three(shared_dir)
    for item in event["records"]:
        item["data"] = f"{SECRET}!"
    calls: list[object] = []

    answer, audit = audited(lambda view, context: calls.append(view), event)
    assert calls == []
    assert answer == {"records": [failed_entry(event, index) for index in range(3)]}
    assert audit["outcome"] == "partial"
    assert (audit["records"], audit["rejected_records"], audit["failed_records"]) == (3, 3, 3)


def test_firehose_handler_results_are_merged_in_input_order(shared_dir: Path) -> None:
    event = firehose_three(shared_dir)
    event["records"].append(copy.deepcopy(event["records"][0]))
    event["records"][3]["recordId"] = "49578734086442259037497492980623860617859017621603614722"
    event["records"][0]["data"] = "%%%"
    ids = record_ids(event)
    transformed = base64.b64encode(b"transformed\n").decode()

    def handler(view: BatchEvent, context: object) -> dict[str, object]:
        # Answered out of order, with every result Firehose knows.
        return {
            "records": [
                {"recordId": ids[3], "result": "ProcessingFailed", "data": ""},
                {"recordId": ids[1], "result": "Dropped", "data": ""},
                {"recordId": ids[2], "result": "Ok", "data": transformed},
            ]
        }

    answer, audit = audited(handler, event)
    assert answer == {
        "records": [
            {"recordId": ids[0], "result": "ProcessingFailed", "data": "%%%"},
            {"recordId": ids[1], "result": "Dropped", "data": ""},
            {"recordId": ids[2], "result": "Ok", "data": transformed},
            {"recordId": ids[3], "result": "ProcessingFailed", "data": ""},
        ]
    }
    assert audit["outcome"] == "partial"
    assert (audit["records"], audit["rejected_records"], audit["failed_records"]) == (4, 1, 2)


def test_firehose_handler_answer_is_not_changed(shared_dir: Path) -> None:
    event = firehose_three(shared_dir)
    event["records"][1]["data"] = "%%%"
    returned: list[tuple[dict[str, object], dict[str, object]]] = []

    def handler(view: BatchEvent, context: object) -> dict[str, object]:
        answer = ok_entries(view, context)
        answer["note"] = "not for Firehose"
        returned.append((answer, copy.deepcopy(answer)))
        return answer

    merged, _ = audited(handler, event)
    answer, before = returned[0]
    assert answer == before
    assert merged is not answer
    # Firehose reads `records` only; the guard's answer carries nothing else.
    assert merged == {"records": [ok_entry(event, 0), failed_entry(event, 1), ok_entry(event, 2)]}


def test_firehose_repeated_record_ids_are_matched_in_order(shared_dir: Path) -> None:
    # SAM's sample carries one recordId twice; Firehose itself never does.
    event = load(shared_dir, "sam-cli/kinesis__KinesisFirehoseSyslog.json")
    event["records"][1]["data"] = base64.b64encode(b"second").decode()
    both_ids = record_ids(event)
    assert both_ids[0] == both_ids[1]

    def handler(view: BatchEvent, context: object) -> dict[str, object]:
        return {
            "records": [
                {"recordId": item.item_id, "result": "Ok", "data": encoded(f"{index}")}
                for index, item in enumerate(view.records)
            ]
        }

    answer, _ = audited(handler, event)
    assert answer == {
        "records": [
            {"recordId": both_ids[0], "result": "Ok", "data": "MA=="},
            {"recordId": both_ids[1], "result": "Ok", "data": "MQ=="},
        ]
    }


# What the handler of `firehose_three` with record 1 spoiled might return (it got 0 and 2).
MALFORMED_FIREHOSE_ANSWERS: dict[str, Any] = {
    "none": lambda ids: None,
    "a-list": lambda ids: [{"recordId": ids[0], "result": "Ok", "data": ""}],
    "batch-item-failures": lambda ids: {"batchItemFailures": []},
    "records-not-a-list": lambda ids: {"records": {"recordId": ids[0]}},
    "entry-not-an-object": lambda ids: {"records": [ids[0], ids[2]]},
    "record-id-not-a-string": lambda ids: {
        "records": [{"recordId": 0, "result": "Ok"}, {"recordId": ids[2], "result": "Ok"}]
    },
    "misses-a-record": lambda ids: {"records": [{"recordId": ids[0], "result": "Ok"}]},
    "names-the-withheld-record": lambda ids: {
        "records": [
            {"recordId": ids[0], "result": "Ok"},
            {"recordId": ids[1], "result": "Ok"},
            {"recordId": ids[2], "result": "Ok"},
        ]
    },
    "names-an-unknown-record": lambda ids: {
        "records": [{"recordId": ids[0], "result": "Ok"}, {"recordId": "other", "result": "Ok"}]
    },
    "repeats-a-record": lambda ids: {
        "records": [{"recordId": ids[0], "result": "Ok"}, {"recordId": ids[0], "result": "Ok"}]
    },
}


@pytest.mark.parametrize("case", sorted(MALFORMED_FIREHOSE_ANSWERS))
def test_firehose_unreadable_answer_fails_the_invocation(shared_dir: Path, case: str) -> None:
    event = firehose_three(shared_dir)
    event["records"][1]["data"] = "%%%"
    ids = record_ids(event)
    audit: list[dict[str, object]] = []

    def handler(view: BatchEvent, context: object) -> object:
        return MALFORMED_FIREHOSE_ANSWERS[case](ids)

    with pytest.raises(HandlerError) as caught:
        run_guarded(handler, event, Context(), audit=audit.append)
    assert caught.value.correlation_id == Context.aws_request_id
    assert caught.value.__suppress_context__
    assert len(audit) == 1
    assert audit[0]["outcome"] == "error"
    assert audit[0]["error"] == UNREADABLE
    assert audit[0]["traceback"] == []
    assert audit[0]["correlation_id"] == Context.aws_request_id
    assert (audit[0]["records"], audit[0]["rejected_records"], audit[0]["failed_records"]) == (
        3,
        1,
        3,
    )


DROP = object()
SECRET_DATA = encoded(SECRET)
UNKNOWN_RESULT = 'result is not exactly "Ok", "Dropped" or "ProcessingFailed"'

# Entries Firehose would not accept: (what replaces the keys of a valid entry, DROP removing
# one, and the fault the message names). Every value a message could quote holds SECRET.
UNUSABLE_FIREHOSE_ENTRIES: dict[str, tuple[dict[str, object], str]] = {
    "result-wrong-case": ({"result": "OK"}, UNKNOWN_RESULT),
    "result-missing": ({"result": DROP}, UNKNOWN_RESULT),
    "result-unknown": ({"result": SECRET}, UNKNOWN_RESULT),
    "result-not-a-string": ({"result": ["Ok"]}, UNKNOWN_RESULT),
    "data-missing": ({"data": DROP}, "data is missing"),
    "data-null": ({"data": None}, "data is not a string"),
    "data-bytes": ({"data": SECRET.encode()}, "data is not a string"),
    "data-not-base64": ({"data": f"{SECRET}!"}, "data is not valid base64"),
    "data-unpadded": ({"data": SECRET_DATA.rstrip("=")}, "data is not valid base64"),
    "data-with-newline": ({"data": f"{SECRET_DATA}\n"}, "data is not valid base64"),
    "metadata-not-an-object": ({"metadata": SECRET}, "metadata is not an object"),
    "partition-keys-not-an-object": (
        {"metadata": {"partitionKeys": [SECRET]}},
        "metadata.partitionKeys is not an object",
    ),
    "partition-key-value-not-a-string": (
        {"metadata": {"partitionKeys": {"year": "2024", "customer": 7}}},
        "metadata.partitionKeys.customer is not a string",
    ),
    "partition-key-not-a-string": (
        {"metadata": {"partitionKeys": {7: SECRET}}},
        "metadata.partitionKeys has a key that is not a string",
    ),
}


def spoiled_entry(record_id: str | None, case: str) -> dict[str, object]:
    entry: dict[str, object] = {"recordId": record_id, "result": "Ok", "data": SECRET_DATA}
    for key, value in UNUSABLE_FIREHOSE_ENTRIES[case][0].items():
        if value is DROP:
            del entry[key]
        else:
            entry[key] = value
    return entry


@pytest.mark.parametrize("rejected", [True, False], ids=["a-record-rejected", "none-rejected"])
@pytest.mark.parametrize("case", sorted(UNUSABLE_FIREHOSE_ENTRIES))
def test_firehose_unusable_entry_fails_the_invocation_and_names_it(
    shared_dir: Path, case: str, rejected: bool
) -> None:
    event = firehose_three(shared_dir)
    if rejected:
        event["records"][1]["data"] = "%%%"
    ids = record_ids(event)
    audit: list[dict[str, object]] = []

    def handler(view: BatchEvent, context: object) -> dict[str, object]:
        *good, last = view.records
        entries = [{"recordId": item.item_id, "result": "Ok", "data": ""} for item in good]
        return {"records": [*entries, spoiled_entry(last.item_id, case)]}

    with pytest.raises(HandlerAnswerError) as caught:
        run_guarded(handler, event, Context(), audit=audit.append)
    assert isinstance(caught.value, HandlerError)
    position = 1 if rejected else 2
    assert str(caught.value) == (
        f"handler failed (correlation id {Context.aws_request_id}): "
        f"Firehose answer records[{position}] (recordId {ids[2]}): "
        f"{UNUSABLE_FIREHOSE_ENTRIES[case][1]}"
    )
    assert caught.value.correlation_id == Context.aws_request_id
    assert caught.value.__suppress_context__
    assert str(copy.copy(caught.value)) == str(caught.value)
    for leaked in (SECRET, SECRET_DATA, SECRET_DATA.rstrip("=")):
        assert leaked not in str(caught.value)
        assert leaked not in json.dumps(audit)
    assert len(audit) == 1
    assert (audit[0]["outcome"], audit[0]["error"], audit[0]["traceback"]) == (
        "error",
        UNREADABLE,
        [],
    )
    assert (audit[0]["records"], audit[0]["rejected_records"], audit[0]["failed_records"]) == (
        3,
        int(rejected),
        3,
    )


def test_firehose_unusable_entry_with_an_unloggable_record_id_is_named_by_position(
    shared_dir: Path,
) -> None:
    event = firehose_three(shared_dir)
    event["records"][0]["recordId"] = f"{SECRET}\nINFO forged log line"

    def handler(view: BatchEvent, context: object) -> dict[str, object]:
        answer = ok_entries(view, context)
        answer["records"][0]["result"] = "OK"
        return answer

    with pytest.raises(HandlerError) as caught:
        run_guarded(handler, event, Context(), audit=None)
    assert str(caught.value) == (
        f"handler failed (correlation id {Context.aws_request_id}): "
        f"Firehose answer records[0]: {UNKNOWN_RESULT}"
    )


def test_firehose_entries_firehose_accepts_pass_unchanged(shared_dir: Path) -> None:
    event = firehose_three(shared_dir)
    for number in range(3, 6):
        extra = copy.deepcopy(event["records"][0])
        extra["recordId"] = f"{extra['recordId'][:-1]}{number}"
        event["records"].append(extra)
    ids = record_ids(event)
    entries: list[dict[str, object]] = [
        # Firehose wants `data` on every entry; an empty payload is valid base64.
        {"recordId": ids[0], "result": "Dropped", "data": ""},
        {
            "recordId": ids[1],
            "result": "Ok",
            "data": encoded("transformed\n"),
            "metadata": {"partitionKeys": {"customer": "7", "year": "2024"}},
        },
        {"recordId": ids[2], "result": "ProcessingFailed", "data": event["records"][2]["data"]},
        {"recordId": ids[3], "result": "Ok", "data": "", "metadata": None},
        {"recordId": ids[4], "result": "Ok", "data": "", "metadata": {"partitionKeys": None}},
        {"recordId": ids[5], "result": "Ok", "data": "", "metadata": {"partitionKeys": {}}},
    ]
    expected = json.dumps({"records": entries})

    answer, audit = audited(lambda view, context: {"records": entries}, event)
    assert json.dumps(answer) == expected
    assert (audit["outcome"], audit["failed_records"]) == ("partial", 1)


def test_other_record_answers_are_not_checked(shared_dir: Path) -> None:
    # Kinesis Analytics answers the same shape, but the guard passes it on untouched.
    event = load(shared_dir, "sam-cli/kinesis__KinesisAnalytics.json")
    event["records"][0]["data"] = SECRET_DATA
    answer = {"records": [{"recordId": "other", "result": "OK", "data": f"{SECRET}!"}]}

    returned, audit = audited(lambda view, context: answer, event)
    assert returned is answer
    assert audit["outcome"] == "ok"


def test_firehose_raising_handler_fails_the_invocation(shared_dir: Path) -> None:
    event = firehose_three(shared_dir)
    audit: list[dict[str, object]] = []
    with pytest.raises(HandlerError) as caught:
        run_guarded(failing_handler, event, Context(), audit=audit.append)
    assert caught.value.correlation_id == Context.aws_request_id
    assert SECRET not in str(caught.value)
    assert audit[0]["outcome"] == "error"
    assert audit[0]["error"] == "builtins.RuntimeError"
    assert (audit[0]["records"], audit[0]["rejected_records"], audit[0]["failed_records"]) == (
        3,
        0,
        3,
    )
    assert SECRET not in json.dumps(audit)


def test_firehose_validation_error_from_the_handler_rejects_the_event(
    shared_dir: Path,
) -> None:
    event = firehose_three(shared_dir)

    def handler(view: BatchEvent, context: object) -> object:
        raise EventValidationError("schema_mismatch", "/records/0/data")

    audit: list[dict[str, object]] = []
    with pytest.raises(EventValidationError) as caught:
        run_guarded(handler, event, Context(), audit=audit.append)
    assert (caught.value.rule, caught.value.path) == ("schema_mismatch", "/records/0/data")
    assert (audit[0]["outcome"], audit[0]["rule"]) == ("rejected", "schema_mismatch")


def drop_key(key: str) -> Any:
    return lambda event: event.pop(key)


def put_value(key: str, value: object) -> Any:
    return lambda event: event.__setitem__(key, value)


def put_record(index: int, value: object) -> Any:
    return lambda event: event["records"].__setitem__(index, value)


def put_record_id(index: int, value: object) -> Any:
    return lambda event: event["records"][index].__setitem__("recordId", value)


def drop_record_id(index: int) -> Any:
    return lambda event: event["records"][index].pop("recordId")


# How the envelope is broken, the rule, the pointer, and the guard's options. Without
# `invocationId` the event is not recognised as Firehose at all, so `sources` refuses it.
FIREHOSE_ENVELOPE_ERRORS: dict[str, tuple[Any, str, str, dict[str, Any]]] = {
    "no-invocation-id": (
        drop_key("invocationId"),
        "source_not_allowed",
        "",
        {"sources": {"kinesis_firehose"}},
    ),
    "invocation-id-not-a-string": (
        put_value("invocationId", 42),
        "wrong_type",
        "/invocationId",
        {},
    ),
    "records-not-a-list": (
        put_value("records", {"recordId": "x"}),
        "wrong_type",
        "/records",
        {},
    ),
    "record-not-an-object": (put_record(2, "record"), "wrong_type", "/records/2", {}),
    "record-id-missing": (drop_record_id(2), "missing_field", "/records/2/recordId", {}),
    "record-id-not-a-string": (put_record_id(1, 42), "wrong_type", "/records/1/recordId", {}),
    "too-many-records": (
        lambda event: None,
        "too_many_records",
        "/records",
        {"batch": BatchOptions(max_records=2)},
    ),
    "stream-not-allowed": (
        lambda event: None,
        "source_arn_not_allowed",
        "/deliveryStreamArn",
        {
            "batch": BatchOptions(
                source_arns={"arn:aws:firehose:us-east-1:123456789012:deliverystream/other"}
            )
        },
    ),
}


@pytest.mark.parametrize("case", sorted(FIREHOSE_ENVELOPE_ERRORS))
def test_firehose_envelope_errors_reject_the_whole_event(shared_dir: Path, case: str) -> None:
    spoil, rule, path, options = FIREHOSE_ENVELOPE_ERRORS[case]
    event = firehose_three(shared_dir)
    event["records"][0]["data"] = "%%%"  # a bad record as well: the envelope still wins
    spoil(event)
    calls: list[object] = []
    audit: list[dict[str, object]] = []
    with pytest.raises(EventValidationError) as caught:
        run_guarded(
            lambda view, context: calls.append(view),
            event,
            Context(),
            audit=audit.append,
            **options,
        )
    source = "unknown" if case == "no-invocation-id" else "kinesis_firehose"
    assert (caught.value.rule, caught.value.path, caught.value.source) == (rule, path, source)
    assert calls == []
    assert (audit[0]["outcome"], audit[0]["rule"], audit[0]["path"]) == ("rejected", rule, path)


def test_firehose_audit_line_carries_counts_and_no_record_data(
    shared_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    event = firehose_three(shared_dir)
    event["records"][1]["data"] = base64.b64encode(SECRET.encode()).decode() + "!"
    handler = guard()(ok_entries)
    handler(event, Context())
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    line = json.loads(lines[0])
    assert set(line) == {
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
        "records",
        "rejected_records",
        "failed_records",
    }
    assert (line["source"], line["outcome"]) == ("kinesis_firehose", "partial")
    assert (line["records"], line["rejected_records"], line["failed_records"]) == (3, 1, 1)
    for item in event["records"]:
        assert item["recordId"] not in lines[0]
        assert item["data"] not in lines[0]


def test_firehose_without_records_answers_none(shared_dir: Path) -> None:
    event = firehose_three(shared_dir)
    event["records"] = []
    calls: list[object] = []
    answer, audit = audited(lambda view, context: calls.append(view), event)
    assert calls == []
    assert answer == {"records": []}
    assert (audit["outcome"], audit["records"], audit["failed_records"]) == ("ok", 0, 0)


@pytest.mark.parametrize(
    ("name", "pointer"),
    [
        ("sam-cli/kinesis__KinesisAnalytics.json", "/records/0/data"),
        ("powertools-python/kafkaEventMsk.json", "/records/mytopic-0/0/value"),
        ("powertools-python/activeMQEvent.json", "/messages/0/data"),
    ],
)
def test_other_envelopes_still_reject_the_event_for_one_record(
    shared_dir: Path, name: str, pointer: str
) -> None:
    event = load(shared_dir, name)
    node = event
    *parents, last = pointer.strip("/").split("/")
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[last] = "%%%"
    calls: list[object] = []
    with pytest.raises(EventValidationError) as caught:
        run_guarded(
            lambda view, context: calls.append(view),
            event,
            Context(),
            audit=None,
            batch=BatchOptions(json_body=True),
        )
    assert (caught.value.rule, caught.value.path) == ("body_encoding", pointer)
    assert calls == []
