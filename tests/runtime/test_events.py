"""detect() and validate() over every real event of the corpus, plus shapes it lacks."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from lambdashield.runtime import (
    SOURCES,
    BatchEvent,
    EventValidationError,
    EventView,
    HttpRequest,
    S3Event,
    detect,
    validate,
)

FOLDERS = ("powertools-python", "sam-cli")
NOT_INVOCATIONS = ("response:", "custom:", "fragment:", "malformed:")
"""Label prefixes of files that are not plain invocation events (see the corpus README)."""

Entry = tuple[str, str, object]
"""`folder/file`, its label, the parsed event."""


@pytest.fixture(scope="module")
def corpus(shared_dir: Path) -> list[Entry]:
    root = shared_dir / "corpora" / "events"
    entries: list[Entry] = []
    for folder in FOLDERS:
        index = json.loads((root / folder / "index.json").read_text(encoding="utf-8"))
        for name, label in sorted(index.items()):
            event = json.loads((root / folder / name).read_text(encoding="utf-8"))
            entries.append((f"{folder}/{name}", label, event))
    return entries


def expected_label(label: str) -> str:
    return "unknown" if label.startswith(NOT_INVOCATIONS) else label


def test_corpus_is_there(corpus: list[Entry]) -> None:
    assert len(corpus) == 170


def test_every_event_is_detected_as_labelled(corpus: list[Entry]) -> None:
    wrong = [
        (name, label, detect(event))
        for name, label, event in corpus
        if detect(event) != expected_label(label)
    ]
    assert wrong == []


def test_every_invocation_label_is_a_known_source(corpus: list[Entry]) -> None:
    labels = {expected_label(label) for _, label, _ in corpus} - {"unknown"}
    assert labels <= SOURCES


def test_every_event_passes_default_validation(corpus: list[Entry]) -> None:
    rejected = []
    for name, label, event in corpus:
        if label.startswith("malformed:"):
            continue
        try:
            view = validate(event)
        except EventValidationError as error:
            rejected.append((name, error.rule, error.path))
            continue
        assert view.source == expected_label(label), name
    assert rejected == []


def test_validation_never_changes_the_event(corpus: list[Entry]) -> None:
    for name, _, event in corpus:
        before = copy.deepcopy(event)
        view = validate(event)
        if isinstance(view, HttpRequest):
            _ = (view.headers, view.query, view.json)
        assert event == before, name


def test_body_bytes_refuses_a_body_flagged_base64_that_is_not(shared_dir: Path) -> None:
    # A quirk of this corpus file: isBase64Encoded is true for a plain-text body. Validation
    # lets it through (nothing asked for the decoded body), decoding it is refused.
    view = validate(event(shared_dir, "powertools-python/apiGatewayProxyEventAnotherPath.json"))
    assert isinstance(view, HttpRequest)
    with pytest.raises(EventValidationError) as caught:
        _ = view.body_bytes
    assert caught.value.rule == "body_encoding"


def test_views_have_the_expected_types(corpus: list[Entry]) -> None:
    kinds = {"apigw_rest_v1": HttpRequest, "s3": S3Event, "sqs": BatchEvent}
    for name, label, event in corpus:
        view = validate(event)
        assert isinstance(view, kinds.get(label, EventView)), name


def event(shared_dir: Path, name: str) -> dict[str, object]:
    path = shared_dir / "corpora" / "events" / name
    loaded: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def test_http_view(shared_dir: Path) -> None:
    view = validate(event(shared_dir, "powertools-python/apiGatewayProxyEvent.json"))
    assert isinstance(view, HttpRequest)
    assert (view.method, view.path) == ("GET", "/my/path")
    assert view.headers["header2"] == "value1,value2"
    assert view.query["parameter1"] == "value1,value2"
    assert view.body == "Hello from Lambda!"
    assert view.body_bytes == b"Hello from Lambda!"
    assert view.json is None
    assert view.request_id is not None
    with pytest.raises(AttributeError):
        view.method = "POST"  # type: ignore[misc]
    with pytest.raises(TypeError):
        view.headers["x"] = "y"  # type: ignore[index]
    with pytest.raises(TypeError):
        view.raw["body"] = "changed"  # type: ignore[index]


def test_json_content_type_parses_the_body(shared_dir: Path) -> None:
    raw = event(shared_dir, "powertools-python/apiGatewayProxyV2Event.json")
    raw["headers"] = {"content-type": "application/json; charset=utf-8"}
    view = validate(raw)
    assert isinstance(view, HttpRequest)
    assert view.json == {"message": "hello world", "username": "tom"}


def test_base64_json_body_is_decoded(shared_dir: Path) -> None:
    raw = event(shared_dir, "sam-cli/apigateway__AwsProxy.json")
    raw["multiValueHeaders"] = {"Content-Type": ["application/json"]}
    view = validate(raw)
    assert isinstance(view, HttpRequest)
    assert view.json == {"test": "body"}
    assert view.body_bytes == b'{"test":"body"}'


def test_s3_view_decodes_keys(shared_dir: Path) -> None:
    raw = event(shared_dir, "powertools-python/s3EventDecodedKey.json")
    view = validate(raw)
    assert view.s3 is not None
    assert view.s3.records[0].key == "Happy Face.jpg"
    assert view.s3.records[0].raw_key == "Happy%20Face.jpg"
    assert view.s3.records[0].size == 1024


def test_plus_is_a_space_in_s3_keys(shared_dir: Path) -> None:
    raw = event(shared_dir, "powertools-python/s3Event.json")
    raw["Records"][0]["s3"]["object"]["key"] = "my+photo%2B1.jpg"  # type: ignore[index]
    view = validate(raw)
    assert view.s3 is not None
    assert view.s3.records[0].key == "my photo+1.jpg"


def test_s3_inside_sqs_is_found(shared_dir: Path) -> None:
    view = validate(event(shared_dir, "powertools-python/s3SqsEvent.json"))
    assert isinstance(view, BatchEvent)
    assert view.s3 is not None
    assert view.s3.records[0].bucket


def test_s3_inside_eventbridge_is_found(shared_dir: Path) -> None:
    view = validate(
        event(shared_dir, "powertools-python/s3EventBridgeNotificationObjectCreatedEvent.json")
    )
    assert view.s3 is not None
    assert view.s3.records[0].key == "IMG_m7fzo3.jpg"


def test_batch_view(shared_dir: Path) -> None:
    view = validate(event(shared_dir, "powertools-python/kinesisStreamEvent.json"))
    assert isinstance(view, BatchEvent)
    assert view.rejected == ()
    assert view.records[0].body == b"Hello, this is a test."
    assert view.records[0].item_id
    assert view.batch_item_failures() == {"batchItemFailures": []}


def test_firehose_sets_a_failing_record_aside(shared_dir: Path) -> None:
    data = event(shared_dir, "powertools-python/kinesisFirehosePutEvent.json")
    data["records"][0]["data"] = "SGVsbG8=!"
    view = validate(data)
    assert isinstance(view, BatchEvent)
    assert [(item.index, item.item_id, item.body) for item in view.records] == [
        (1, "record2", b'{"Hello": "World"}')
    ]
    assert [(item.index, item.item_id, item.rule, item.path) for item in view.rejected] == [
        (0, "record1", "body_encoding", "/records/0/data")
    ]


def test_firehose_record_without_an_id_rejects_the_event(shared_dir: Path) -> None:
    data = event(shared_dir, "powertools-python/kinesisFirehosePutEvent.json")
    data["records"][0]["data"] = "SGVsbG8=!"
    del data["records"][1]["recordId"]
    with pytest.raises(EventValidationError) as caught:
        validate(data)
    assert (caught.value.rule, caught.value.path) == ("missing_field", "/records/1/recordId")


def test_sources_allow_list(shared_dir: Path) -> None:
    raw = event(shared_dir, "powertools-python/sqsEvent.json")
    assert validate(raw, sources={"sqs"}).source == "sqs"
    with pytest.raises(EventValidationError) as caught:
        validate(raw, sources={"apigw_http_v2"})
    assert (caught.value.rule, caught.value.source) == ("source_not_allowed", "sqs")


@pytest.mark.parametrize(
    ("shape", "label"),
    [
        (
            {
                "requestContext": {"connectionId": "abc=", "eventType": "MESSAGE", "routeKey": "x"},
                "body": "{}",
                "isBase64Encoded": False,
            },
            "apigw_websocket",
        ),
        ({"eventSource": "aws:docdb", "events": []}, "documentdb"),
        ({"directive": {"header": {"namespace": "Alexa"}, "payload": {}}}, "alexa_smart_home"),
        ({"Records": []}, "unknown"),
        ({"Records": [{"eventSource": "aws:nothing"}]}, "unknown"),
        ({"hello": "world"}, "unknown"),
        ([], "unknown"),
        ([1, 2], "unknown"),
        ("a string payload", "unknown"),
        (None, "unknown"),
        (42, "unknown"),
    ],
)
def test_detect_shapes_outside_the_corpus(shape: object, label: str) -> None:
    assert detect(shape) == label


def test_websocket_validates() -> None:
    shape = {
        "requestContext": {"connectionId": "abc=", "eventType": "MESSAGE", "routeKey": "send"},
        "body": '{"action": "send"}',
        "isBase64Encoded": False,
    }
    view = validate(shape)
    assert isinstance(view, HttpRequest)
    assert view.method is None


@pytest.mark.parametrize("payload", ["text", 3, None, [1, 2], {"any": "thing"}])
def test_unknown_events_pass_with_their_payload(payload: object) -> None:
    view = validate(payload)
    assert view.source == "unknown"
    assert view.data is payload
    with pytest.raises(EventValidationError):
        validate(payload, sources={"sqs"})


def test_view_repr_shows_no_values(shared_dir: Path) -> None:
    raw = event(shared_dir, "powertools-python/sqsEvent.json")
    view = validate(raw)
    assert isinstance(view, BatchEvent)
    text = (
        repr(view)
        + repr(view.records)
        + repr(validate(event(shared_dir, "sam-cli/s3__S3Put.json")).s3)
    )
    assert "Test message" not in text
    assert "test/key" not in text
