"""Hostile variants of real events: each is rejected, and nothing it carried leaks back.

Every mutation starts from a genuine corpus event, changes one thing, and plants `CANARY`
(a secret-shaped string) in what it changes. The test asserts the rule that fires, and that
neither the error, the guard's response nor its audit record carries the canary, a stack
trace, or the handler's secret.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from lambdashield.runtime import (
    BatchEvent,
    BatchOptions,
    EventValidationError,
    HttpOptions,
    LambdashieldRuntimeError,
    S3Options,
    run_guarded,
    validate,
)

CANARY = "CANARY-AKIAIOSFODNN7EXAMPLE"
HANDLER_SECRET = "handler-secret-wJalrXUtnFEMI"  # noqa: S105 - planted on purpose

Mutate = Callable[[Any], None]


@dataclass(frozen=True)
class Mutation:
    id: str
    base: str
    mutate: Mutate
    rule: str
    options: dict[str, Any] = field(default_factory=dict)


def put(pointer: str, value: object) -> Mutate:
    def mutate(event: Any) -> None:
        *parents, last = pointer.strip("/").split("/")
        node = event
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return mutate


def drop(pointer: str) -> Mutate:
    def mutate(event: Any) -> None:
        *parents, last = pointer.strip("/").split("/")
        node = event
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        del node[last]

    return mutate


def both(*steps: Mutate) -> Mutate:
    def mutate(event: Any) -> None:
        for step in steps:
            step(event)

    return mutate


def v1_headers(headers: dict[str, object]) -> Mutate:
    """REST v1 carries headers twice; the hostile set goes in both forms."""
    multi = {name: value if isinstance(value, list) else [value] for name, value in headers.items()}
    return both(put("/headers", headers), put("/multiValueHeaders", multi))


def appended(pointer: str, value: object) -> Mutate:
    def mutate(event: Any) -> None:
        node = event
        for part in pointer.strip("/").split("/"):
            node = node[part]
        node.append(value)

    return mutate


S3 = "powertools-python/s3Event.json"
KEY = "/Records/0/s3/object/key"
REST = "powertools-python/apiGatewayProxyEvent.json"
HTTP = "powertools-python/apiGatewayProxyV2Event.json"
SQS = "powertools-python/sqsEvent.json"
KINESIS = "powertools-python/kinesisStreamEvent.json"
DYNAMO = "powertools-python/dynamoStreamEvent.json"
JSON_HEADERS = {"Content-Type": "application/json"}
MIB = 1024 * 1024


def s3_key(id: str, key: object, rule: str) -> Mutation:
    return Mutation(f"s3-key-{id}", S3, put(KEY, key), rule)


def rest_path(id: str, path: str, rule: str) -> Mutation:
    return Mutation(f"rest-path-{id}", REST, put("/path", path), rule)


S3_MUTATIONS = [
    s3_key("dotdot", f"../../{CANARY}", "key_traversal"),
    s3_key("dotdot-inside", f"a/../../{CANARY}", "key_traversal"),
    s3_key("encoded-dots", f"%2e%2e/{CANARY}", "key_traversal"),
    s3_key("encoded-dots-and-slash", f"%2E%2E%2F{CANARY}", "key_traversal"),
    s3_key("double-encoded", f"%252e%252e%252f{CANARY}", "key_traversal"),
    s3_key("triple-encoded", f"%25252e%25252e%25252f{CANARY}", "key_traversal"),
    s3_key("encoded-backslash", f"..%5c{CANARY}", "key_traversal"),
    s3_key("backslashes", f"a\\..\\{CANARY}", "key_traversal"),
    s3_key("iis-unicode-escape", f"%u002e%u002e/{CANARY}", "key_traversal"),
    s3_key("full-width", f"\uff0e\uff0e\uff0f{CANARY}", "key_traversal"),
    s3_key("full-width-encoded", f"%EF%BC%8E%EF%BC%8E%EF%BC%8F{CANARY}", "key_traversal"),
    s3_key("two-dot-leader", f"\u2025/{CANARY}", "key_traversal"),
    s3_key("division-slash", f"..\u2215{CANARY}", "key_traversal"),
    s3_key("plus-as-space", f"+..+/{CANARY}", "key_traversal"),
    s3_key("overlong-utf8", f"%c0%ae%c0%ae/{CANARY}", "key_encoding"),
    s3_key("overlong-utf8-3-bytes", f"%e0%80%ae%e0%80%ae/{CANARY}", "key_encoding"),
    s3_key("invalid-utf8", f"{CANARY}%ff", "key_encoding"),
    s3_key("lone-surrogate", f"{CANARY}\ud800", "key_encoding"),
    s3_key("absolute", f"/{CANARY}", "key_absolute"),
    s3_key("absolute-encoded", f"%2F{CANARY}", "key_absolute"),
    s3_key("windows-drive", f"C:%5C{CANARY}", "key_absolute"),
    s3_key("unc", f"\\\\host\\{CANARY}", "key_absolute"),
    s3_key("nul", f"{CANARY}\x00.jpg", "key_control_characters"),
    s3_key("nul-encoded", f"{CANARY}%00.jpg", "key_control_characters"),
    s3_key("crlf-encoded", f"{CANARY}%0d%0aX-Injected", "key_control_characters"),
    s3_key("bidi-override", f"invoice\u202e{CANARY}fdp.exe", "key_control_characters"),
    s3_key("too-long", CANARY + "a" * 1100, "key_too_long"),
    s3_key("wrong-type", 12345, "wrong_type"),
    Mutation("size-wrong-type", S3, put("/Records/0/s3/object/size", CANARY), "wrong_type"),
    Mutation("missing-s3", S3, drop("/Records/0/s3"), "missing_field"),
    Mutation("missing-key", S3, drop("/Records/0/s3/object/key"), "missing_field"),
    Mutation("mixed-records", S3, appended("/Records", {"eventSource": CANARY}), "mixed_sources"),
    Mutation(
        "bucket-not-allowed",
        S3,
        put("/Records/0/s3/bucket/name", CANARY),
        "bucket_not_allowed",
        {"s3": S3Options(buckets={"uploads"})},
    ),
    Mutation(
        "extension-not-allowed",
        S3,
        put(KEY, f"{CANARY}.php"),
        "extension_not_allowed",
        {"s3": S3Options(extensions={".jpg"})},
    ),
    Mutation(
        "double-extension",
        S3,
        put(KEY, f"{CANARY}.jpg.php"),
        "extension_not_allowed",
        {"s3": S3Options(extensions={".jpg"})},
    ),
    Mutation(
        "object-too-large",
        S3,
        put("/Records/0/s3/object/size", 10**12),
        "object_too_large",
        {"s3": S3Options(max_object_bytes=MIB)},
    ),
    Mutation(
        "eventbridge-key",
        "powertools-python/s3EventBridgeNotificationObjectCreatedEvent.json",
        put("/detail/object/key", f"../{CANARY}"),
        "key_traversal",
    ),
    Mutation(
        "batch-operation-key",
        "powertools-python/s3BatchOperationEventSchemaV1.json",
        put("/tasks/0/s3Key", f"..%2F{CANARY}"),
        "key_traversal",
    ),
    Mutation(
        "batch-operation-bucket",
        "powertools-python/s3BatchOperationEventSchemaV2.json",
        put("/tasks/0/s3Bucket", CANARY),
        "bucket_not_allowed",
        {"s3": S3Options(buckets={"uploads"})},
    ),
]

HTTP_MUTATIONS = [
    Mutation("trace-method", REST, put("/httpMethod", "TRACE"), "method_not_allowed"),
    Mutation("made-up-method", REST, put("/httpMethod", CANARY), "method_not_allowed"),
    Mutation(
        "method-not-listed",
        REST,
        put("/httpMethod", "DELETE"),
        "method_not_allowed",
        {"http": HttpOptions(methods={"GET"})},
    ),
    rest_path("dotdot", f"/a/../../{CANARY}", "path_traversal"),
    rest_path("encoded-dots", f"/%2e%2e/{CANARY}", "path_traversal"),
    rest_path("double-encoded", f"/%252e%252e%252f{CANARY}", "path_traversal"),
    rest_path("encoded-backslash", f"/..%5c{CANARY}", "path_traversal"),
    rest_path("full-width", f"/\uff0e\uff0e/{CANARY}", "path_traversal"),
    rest_path("overlong-utf8", f"/%c0%ae%c0%ae/{CANARY}", "path_invalid"),
    rest_path("relative", f"{CANARY}/x", "path_invalid"),
    rest_path("nul", f"/{CANARY}\x00", "path_invalid"),
    rest_path("encoded-newline", f"/{CANARY}%0a", "path_invalid"),
    rest_path("bidi-override", f"/{CANARY}\u202e", "path_invalid"),
    Mutation(
        "path-pattern",
        REST,
        put("/path", f"/admin/{CANARY}"),
        "path_not_allowed",
        {"http": HttpOptions(path_pattern=r"/my/[a-z]+")},
    ),
    Mutation(
        "too-many-headers",
        REST,
        v1_headers({f"x-{index}": CANARY for index in range(150)}),
        "too_many_headers",
    ),
    Mutation("huge-header", REST, v1_headers({"x-big": CANARY * 1000}), "headers_too_large"),
    Mutation(
        "header-injection",
        REST,
        v1_headers({"x-forwarded-for": f"1.2.3.4\r\nSet-Cookie: {CANARY}"}),
        "header_injection",
    ),
    Mutation("header-nul", HTTP, put("/headers", {"x": f"{CANARY}\x00"}), "header_injection"),
    Mutation("header-wrong-type", HTTP, put("/headers", {"x": 5}), "wrong_type"),
    Mutation("headers-not-a-map", HTTP, put("/headers", [CANARY]), "wrong_type"),
    Mutation(
        "too-many-query-params",
        HTTP,
        put("/queryStringParameters", {f"q{index}": CANARY for index in range(150)}),
        "too_many_query_params",
    ),
    Mutation(
        "huge-query",
        HTTP,
        both(put("/queryStringParameters", {"q": CANARY * 500}), put("/rawQueryString", "")),
        "query_too_large",
    ),
    Mutation("huge-raw-query", HTTP, put("/rawQueryString", CANARY * 500), "query_too_large"),
    Mutation("huge-body", HTTP, put("/body", CANARY * (MIB // len(CANARY) + 1)), "body_too_large"),
    Mutation(
        "huge-base64-body",
        HTTP,
        both(
            put("/body", base64.b64encode(CANARY.encode() * (MIB // 10)).decode()),
            put("/isBase64Encoded", True),
        ),
        "body_too_large",
    ),
    Mutation(
        "huge-multibyte-body",
        HTTP,
        put("/body", "\u20ac" * (MIB // 3 + 1)),
        "body_too_large",
    ),
    Mutation("body-wrong-type", HTTP, put("/body", {"a": CANARY}), "wrong_type"),
    Mutation("base64-flag-wrong-type", HTTP, put("/isBase64Encoded", CANARY), "wrong_type"),
    Mutation(
        "invalid-json",
        HTTP,
        both(put("/headers", {"content-type": "application/json"}), put("/body", f'{{"{CANARY}"')),
        "json_invalid",
    ),
    Mutation(
        "nan-json",
        HTTP,
        both(put("/headers", {"content-type": "application/json"}), put("/body", '{"a": NaN}')),
        "json_invalid",
    ),
    Mutation(
        "deep-json",
        HTTP,
        both(
            put("/headers", {"content-type": "application/vnd.api+json"}),
            put("/body", "[" * 100 + json.dumps(CANARY) + "]" * 100),
        ),
        "json_too_deep",
    ),
    Mutation(
        "very-deep-json",
        REST,
        both(v1_headers(JSON_HEADERS), put("/body", "[" * 100_000 + "]" * 100_000)),
        "json_too_deep",
    ),
    Mutation(
        "base64-json-not-base64",
        REST,
        both(v1_headers(JSON_HEADERS), put("/isBase64Encoded", True), put("/body", "@@@")),
        "body_encoding",
    ),
    Mutation(
        "content-type-not-allowed",
        HTTP,
        put("/headers", {"content-type": "text/xml"}),
        "content_type_not_allowed",
        {"http": HttpOptions(content_types={"application/json"})},
    ),
    Mutation(
        "content-type-missing",
        HTTP,
        put("/headers", {}),
        "content_type_not_allowed",
        {"http": HttpOptions(content_types={"application/json"})},
    ),
    Mutation("missing-http-context", HTTP, drop("/requestContext/http"), "missing_field"),
    Mutation("method-wrong-type", HTTP, put("/requestContext/http/method", 5), "wrong_type"),
    Mutation("cookies-wrong-type", HTTP, put("/cookies", CANARY), "wrong_type"),
    Mutation("cookie-items-wrong-type", HTTP, put("/cookies", [1, 2]), "wrong_type"),
    Mutation(
        "function-url-path",
        "powertools-python/lambdaFunctionUrlEvent.json",
        put("/rawPath", f"/%2e%2e/{CANARY}"),
        "path_traversal",
    ),
    Mutation(
        "alb-path",
        "powertools-python/albEvent.json",
        put("/path", f"/..\\{CANARY}"),
        "path_traversal",
    ),
    Mutation(
        "alb-multi-value-header",
        "powertools-python/albMultiValueHeadersEvent.json",
        put("/multiValueHeaders/accept", ["*/*", f"\n{CANARY}"]),
        "header_injection",
    ),
    Mutation(
        "lattice-method",
        "powertools-python/vpcLatticeV2Event.json",
        put("/method", "CONNECT"),
        "method_not_allowed",
    ),
    Mutation(
        "lattice-v1-path",
        "powertools-python/vpcLatticeEvent.json",
        put("/raw_path", f"/x/%2E%2E/{CANARY}"),
        "path_traversal",
    ),
    Mutation(
        "token-authorizer-injection",
        "powertools-python/apiGatewayAuthorizerTokenEvent.json",
        put("/authorizationToken", f"Bearer {CANARY}\r\nX: y"),
        "header_injection",
    ),
    Mutation(
        "request-authorizer-path",
        "powertools-python/apiGatewayAuthorizerRequestEvent.json",
        put("/path", f"/../{CANARY}"),
        "path_traversal",
    ),
]

BATCH_MUTATIONS = [
    Mutation("sqs-body-wrong-type", SQS, put("/Records/0/body", {"a": CANARY}), "wrong_type"),
    Mutation("sqs-missing-message-id", SQS, drop("/Records/0/messageId"), "missing_field"),
    Mutation(
        "sqs-arn-not-allowed",
        SQS,
        put("/Records/0/eventSourceARN", f"arn:aws:sqs:us-east-1:000000000000:{CANARY}"),
        "source_arn_not_allowed",
        {"batch": BatchOptions(source_arns={"arn:aws:sqs:us-east-2:123456789012:my-queue"})},
    ),
    Mutation(
        "sqs-record-too-large",
        SQS,
        put("/Records/0/body", CANARY * 100),
        "record_too_large",
        {"batch": BatchOptions(max_record_bytes=1024)},
    ),
    Mutation(
        "sqs-deep-json",
        SQS,
        both(
            put("/Records/0/body", '{"valid": "json"}'),
            put("/Records/1/body", "[" * 64 + json.dumps(CANARY) + "]" * 64),
        ),
        "json_too_deep",
        {"batch": BatchOptions(json_body=True)},
    ),
    Mutation(
        "sqs-mixed-records",
        SQS,
        put("/Records/1/eventSource", "aws:kinesis"),
        "mixed_sources",
    ),
    Mutation(
        "sqs-too-many-records",
        SQS,
        put("/Records/0/body", CANARY),
        "too_many_records",
        {"batch": BatchOptions(max_records=1)},
    ),
    Mutation(
        "sqs-nested-s3-traversal",
        "powertools-python/s3SqsEvent.json",
        lambda event: event["Records"][0].update(
            body=event["Records"][0]["body"].replace('"key":"', f'"key":"..%2F{CANARY}')
        ),
        "key_traversal",
    ),
    Mutation(
        "sqs-sns-nested-s3",
        "powertools-python/snsSqsEvent.json",
        put(
            "/Records/0/body",
            json.dumps(
                {
                    "Type": "Notification",
                    "Message": json.dumps(
                        {
                            "Records": [
                                {
                                    "eventSource": "aws:s3",
                                    "s3": {
                                        "bucket": {"name": "b"},
                                        "object": {"key": f"%2e%2e/{CANARY}"},
                                    },
                                }
                            ]
                        }
                    ),
                }
            ),
        ),
        "key_traversal",
    ),
    Mutation(
        "kinesis-not-base64",
        KINESIS,
        both(
            put("/Records/1/kinesis/data", base64.b64encode(b'{"ok": true}').decode()),
            put("/Records/0/kinesis/data", f"{CANARY}!"),
        ),
        "body_encoding",
        {"batch": BatchOptions(json_body=True)},
    ),
    Mutation(
        "kinesis-sequence-wrong-type",
        KINESIS,
        put("/Records/1/kinesis/sequenceNumber", 42),
        "wrong_type",
    ),
    Mutation(
        "kinesis-record-too-large",
        KINESIS,
        put("/Records/0/kinesis/data", base64.b64encode(CANARY.encode() * 100).decode()),
        "record_too_large",
        {"batch": BatchOptions(max_record_bytes=1024)},
    ),
    Mutation(
        "dynamodb-record-too-large",
        DYNAMO,
        put("/Records/0/dynamodb/SizeBytes", 10**9),
        "record_too_large",
    ),
    Mutation(
        "dynamodb-sequence-wrong-type",
        DYNAMO,
        put("/Records/1/dynamodb/SequenceNumber", 7),
        "wrong_type",
    ),
    Mutation(
        "sns-topic-not-allowed",
        "powertools-python/snsEvent.json",
        put("/Records/0/Sns/TopicArn", f"arn:aws:sns:us-east-1:000000000000:{CANARY}"),
        "source_arn_not_allowed",
        {"batch": BatchOptions(source_arns={"arn:aws:sns:us-east-2:123456789012:sns-lambda"})},
    ),
    Mutation(
        "sns-message-wrong-type",
        "powertools-python/snsEvent.json",
        put("/Records/0/Sns/Message", [CANARY]),
        "wrong_type",
    ),
    Mutation(
        "firehose-record-too-large",
        "powertools-python/kinesisFirehosePutEvent.json",
        put("/records/0/data", base64.b64encode(CANARY.encode() * 100).decode()),
        "record_too_large",
        {"batch": BatchOptions(max_record_bytes=1024)},
    ),
    Mutation(
        "firehose-not-base64",
        "powertools-python/kinesisFirehosePutEvent.json",
        put("/records/1/data", f"{CANARY}!"),
        "body_encoding",
    ),
    Mutation(
        "firehose-data-wrong-type",
        "powertools-python/kinesisFirehosePutEvent.json",
        put("/records/0/data", {"a": CANARY}),
        "wrong_type",
    ),
    Mutation(
        "firehose-missing-record-id",
        "powertools-python/kinesisFirehosePutEvent.json",
        drop("/records/1/recordId"),
        "missing_field",
    ),
    Mutation(
        "kafka-value-not-base64",
        "powertools-python/kafkaEventMsk.json",
        put("/records/mytopic-0/0/value", "abc"),
        "body_encoding",
        {"batch": BatchOptions(json_body=True)},
    ),
    Mutation(
        "kafka-cluster-not-allowed",
        "powertools-python/kafkaEventMsk.json",
        put("/eventSourceArn", f"arn:aws:kafka:us-east-1:000000000000:cluster/{CANARY}"),
        "source_arn_not_allowed",
        {"batch": BatchOptions(source_arns={"arn:aws:kafka:us-east-1:0123456789019:cluster/x"})},
    ),
    Mutation(
        "activemq-messages-wrong-type",
        "powertools-python/activeMQEvent.json",
        put("/messages", {"a": CANARY}),
        "wrong_type",
    ),
]

OTHER_MUTATIONS = [
    Mutation(
        "cognito-request-wrong-type",
        "powertools-python/cognitoPreSignUpEvent.json",
        put("/request", CANARY),
        "wrong_type",
    ),
    Mutation(
        "cognito-missing-region",
        "powertools-python/cognitoPreSignUpEvent.json",
        drop("/region"),
        "missing_field",
    ),
    Mutation(
        "cloudformation-missing-request-id",
        "powertools-python/cloudformationCustomResourceCreate.json",
        drop("/RequestId"),
        "missing_field",
    ),
    Mutation(
        "eventbridge-detail-wrong-type",
        "powertools-python/eventBridgeEvent.json",
        put("/detail", CANARY),
        "wrong_type",
    ),
    Mutation(
        "eventbridge-id-wrong-type",
        "powertools-python/eventBridgeEvent.json",
        put("/id", 5),
        "wrong_type",
    ),
    Mutation(
        "cloudwatch-logs-data-wrong-type",
        "powertools-python/cloudWatchLogEvent.json",
        put("/awslogs/data", {"a": CANARY}),
        "wrong_type",
    ),
    Mutation(
        "appsync-batch-arguments",
        "powertools-python/appSyncBatchEvent.json",
        put("/1/arguments", CANARY),
        "wrong_type",
    ),
    Mutation(
        "ses-mixed-records",
        "powertools-python/sesEvent.json",
        appended("/Records", {"eventSource": CANARY}),
        "mixed_sources",
    ),
]

ALL = S3_MUTATIONS + HTTP_MUTATIONS + BATCH_MUTATIONS + OTHER_MUTATIONS


def load(shared_dir: Path, name: str) -> Any:
    path = shared_dir / "corpora" / "events" / name
    return json.loads(path.read_text(encoding="utf-8"))


def mutated(shared_dir: Path, mutation: Mutation) -> tuple[Any, Any]:
    """The original event and its mutated copy."""
    original = load(shared_dir, mutation.base)
    event = copy.deepcopy(original)
    mutation.mutate(event)
    return original, event


def test_mutation_ids_are_unique() -> None:
    ids = [mutation.id for mutation in ALL]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("mutation", ALL, ids=lambda mutation: mutation.id)
def test_the_base_event_passes(shared_dir: Path, mutation: Mutation) -> None:
    view = validate(load(shared_dir, mutation.base))
    if isinstance(view, BatchEvent):
        assert view.rejected == ()


@pytest.mark.parametrize("mutation", ALL, ids=lambda mutation: mutation.id)
def test_mutation_is_rejected(shared_dir: Path, mutation: Mutation) -> None:
    _, event = mutated(shared_dir, mutation)
    try:
        view = validate(event, **mutation.options)
    except EventValidationError as error:
        assert error.rule == mutation.rule
        for text in (str(error), repr(error), error.path):
            assert CANARY not in text
        return
    # Partial-batch sources set a bad record aside instead of failing the event.
    assert isinstance(view, BatchEvent), f"{mutation.id} was accepted"
    assert [record.rule for record in view.rejected] == [mutation.rule]
    assert CANARY not in repr(view.rejected)


@pytest.mark.parametrize("mutation", ALL, ids=lambda mutation: mutation.id)
def test_guard_answers_without_leaking(shared_dir: Path, mutation: Mutation) -> None:
    original, event = mutated(shared_dir, mutation)
    before = copy.deepcopy(event)
    audit: list[dict[str, object]] = []
    calls: list[object] = []

    def handler(view: object, context: object) -> object:
        calls.append(view)
        raise RuntimeError(HANDLER_SECRET)

    try:
        answer: object = run_guarded(handler, event, None, audit=audit.append, **mutation.options)
    except LambdashieldRuntimeError as error:
        answer = f"{type(error).__name__}: {error}"
    text = json.dumps(answer, default=repr) + json.dumps(audit, default=repr)
    for leaked in (CANARY, HANDLER_SECRET, "Traceback", 'File "'):
        assert leaked not in text, mutation.id
    assert event == before, "the guard changed the event"
    assert len(audit) == 1
    assert audit[0]["outcome"] in {"rejected", "partial", "error"}
    if isinstance(answer, dict) and "statusCode" in answer:
        assert answer["statusCode"] == 400
        assert calls == []
    if isinstance(answer, dict) and "batchItemFailures" in answer:
        assert answer["batchItemFailures"], "a rejected record must be reported"
    del original
