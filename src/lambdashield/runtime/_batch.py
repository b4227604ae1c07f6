"""Validation of queues and streams, record by record.

SQS, Kinesis and DynamoDB streams support partial batch responses, and a Firehose
transformation answers every `recordId` with its own result, so in those a record that fails
is set aside (`BatchEvent.rejected`) and the others go on. SNS and the other poller envelopes
(Kinesis Analytics, Kafka, Amazon MQ) have no such response, so the first failing record
rejects the event. So does a Firehose envelope whose records cannot each be named (a record
that is not an object, a `recordId` missing or not a string): no answer could name them, and
one that misses a `recordId` fails the whole batch at Firehose anyway.
"""

from __future__ import annotations

from . import _json, _s3
from ._fields import (
    base64_size,
    decode_base64,
    opt_dict,
    opt_int,
    opt_str,
    req_dict,
    req_list,
    req_str,
)
from .exceptions import EventValidationError
from .views import BatchEvent, BatchRecord, RejectedRecord, S3Object

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from .options import BatchOptions, S3Options

    _Checked = tuple["BatchRecord", tuple["S3Object", ...]]
    _RecordCheck = Callable[[object, int, str, BatchOptions, S3Options], _Checked]
    # A record, the key of its base64 payload, its pointer, and the key of its id.
    _Entry = tuple[object, str, str, str | None]
    _Envelope = tuple[str, str, list[_Entry]]

__all__ = [
    "ENVELOPE_SOURCES",
    "FIREHOSE",
    "PARTIAL_SOURCES",
    "RECORD_SOURCES",
    "item_id",
    "validate_envelope",
    "validate_records",
]

PARTIAL_SOURCES = frozenset({"sqs", "kinesis_stream", "dynamodb_stream"})
"""Sources whose response can name failed records (`batchItemFailures`)."""

FIREHOSE = "kinesis_firehose"
"""Firehose transformations answer `{"records": [...]}` with a result per `recordId`."""


def validate_records(
    source: str, event: dict[str, object], batch: BatchOptions, s3: S3Options
) -> BatchEvent:
    """A `Records` batch; partial sources keep going past a failing record."""
    records = req_list(event, "Records", "/Records")
    if len(records) > batch.max_records:
        raise EventValidationError("too_many_records", "/Records")
    check = _RECORD_CHECKS[source]
    partial = source in PARTIAL_SOURCES
    good: list[BatchRecord] = []
    rejected: list[RejectedRecord] = []
    objects: list[S3Object] = []
    for index, record in enumerate(records):
        try:
            checked, found = check(record, index, f"/Records/{index}", batch, s3)
        except EventValidationError as error:
            if not partial:
                raise
            rejected.append(RejectedRecord(index, item_id(source, record), error))
            continue
        good.append(checked)
        objects.extend(found)
    return BatchEvent(source, event, tuple(good), tuple(rejected), tuple(objects))


def item_id(source: str, record: object) -> str | None:
    """The id a partial batch response needs, found without trusting the record's shape."""
    if not isinstance(record, dict):
        return None
    if source == "sqs":
        found = record.get("messageId")
    else:
        inner = record.get("kinesis" if source == "kinesis_stream" else "dynamodb")
        key = "sequenceNumber" if source == "kinesis_stream" else "SequenceNumber"
        found = inner.get(key) if isinstance(inner, dict) else None
    return found if isinstance(found, str) and found else None


def _record(record: object, at: str, key: str, expected: str) -> dict[str, object]:
    if not isinstance(record, dict):
        raise EventValidationError("wrong_type", at)
    if record.get(key) != expected:
        raise EventValidationError("mixed_sources", f"{at}/{key}")
    return record


def _check_arn(arn: str | None, batch: BatchOptions, at: str) -> None:
    allowed = batch.source_arns
    if allowed is not None and arn not in allowed:
        raise EventValidationError("source_arn_not_allowed", at)


def _text_too_large(text: str, limit: int) -> bool:
    if len(text) > limit:
        return True
    if len(text) * 4 <= limit:
        return False
    return len(text.encode("utf-8", "surrogatepass")) > limit


def _payload_json(payload: str | bytes, batch: BatchOptions, at: str) -> object:
    if not batch.json_body:
        return None
    value = _json.parse_json(payload, batch.max_json_depth, at)
    validator = batch.schema_validator()
    if validator is not None:
        _json.check_schema(validator, value, at)
    return value


def _base64_json(data: str, batch: BatchOptions, at: str) -> object:
    """Parsed JSON of a base64 payload when asked for; otherwise decoding waits for the
    handler (`BatchRecord.body`), so a payload nobody reads cannot fail validation."""
    if not batch.json_body:
        return None
    return _payload_json(decode_base64(data, at), batch, at)


def _nested(text: str, at: str, s3: S3Options) -> tuple[S3Object, ...]:
    return _s3.nested_in_text(text, at, s3) if s3.nested else ()


def _sqs(record: object, index: int, at: str, batch: BatchOptions, s3: S3Options) -> _Checked:
    found = _record(record, at, "eventSource", "aws:sqs")
    item = req_str(found, "messageId", f"{at}/messageId")
    body = req_str(found, "body", f"{at}/body")
    arn = req_str(found, "eventSourceARN", f"{at}/eventSourceARN")
    opt_dict(found, "attributes", f"{at}/attributes")
    opt_dict(found, "messageAttributes", f"{at}/messageAttributes")
    _check_arn(arn, batch, f"{at}/eventSourceARN")
    if _text_too_large(body, batch.max_record_bytes):
        raise EventValidationError("record_too_large", f"{at}/body")
    value = _payload_json(body, batch, f"{at}/body")
    objects = _nested(body, f"{at}/body", s3)
    return BatchRecord(index, item, arn, body, value, found), objects


def _kinesis(record: object, index: int, at: str, batch: BatchOptions, s3: S3Options) -> _Checked:
    found = _record(record, at, "eventSource", "aws:kinesis")
    kinesis = req_dict(found, "kinesis", f"{at}/kinesis")
    item = req_str(kinesis, "sequenceNumber", f"{at}/kinesis/sequenceNumber")
    req_str(kinesis, "partitionKey", f"{at}/kinesis/partitionKey")
    data = req_str(kinesis, "data", f"{at}/kinesis/data")
    arn = req_str(found, "eventSourceARN", f"{at}/eventSourceARN")
    _check_arn(arn, batch, f"{at}/eventSourceARN")
    if base64_size(data) > batch.max_record_bytes:
        raise EventValidationError("record_too_large", f"{at}/kinesis/data")
    value = _base64_json(data, batch, f"{at}/kinesis/data")
    return BatchRecord(index, item, arn, data, value, found, f"{at}/kinesis/data"), ()


def _dynamodb(record: object, index: int, at: str, batch: BatchOptions, s3: S3Options) -> _Checked:
    found = _record(record, at, "eventSource", "aws:dynamodb")
    stream = req_dict(found, "dynamodb", f"{at}/dynamodb")
    item = req_str(stream, "SequenceNumber", f"{at}/dynamodb/SequenceNumber")
    size = opt_int(stream, "SizeBytes", f"{at}/dynamodb/SizeBytes")
    req_str(found, "eventName", f"{at}/eventName")
    arn = req_str(found, "eventSourceARN", f"{at}/eventSourceARN")
    _check_arn(arn, batch, f"{at}/eventSourceARN")
    if size is not None and size > batch.max_record_bytes:
        raise EventValidationError("record_too_large", f"{at}/dynamodb/SizeBytes")
    return BatchRecord(index, item, arn, None, None, found), ()


def _sns(record: object, index: int, at: str, batch: BatchOptions, s3: S3Options) -> _Checked:
    found = _record(record, at, "EventSource", "aws:sns")
    sns = req_dict(found, "Sns", f"{at}/Sns")
    item = req_str(sns, "MessageId", f"{at}/Sns/MessageId")
    message = req_str(sns, "Message", f"{at}/Sns/Message")
    topic = req_str(sns, "TopicArn", f"{at}/Sns/TopicArn")
    _check_arn(topic, batch, f"{at}/Sns/TopicArn")
    if _text_too_large(message, batch.max_record_bytes):
        raise EventValidationError("record_too_large", f"{at}/Sns/Message")
    value = _payload_json(message, batch, f"{at}/Sns/Message")
    objects = _nested(message, f"{at}/Sns/Message", s3)
    return BatchRecord(index, item, topic, message, value, found), objects


_RECORD_CHECKS: dict[str, _RecordCheck] = {
    "sqs": _sqs,
    "kinesis_stream": _kinesis,
    "dynamodb_stream": _dynamodb,
    "sns": _sns,
}

RECORD_SOURCES = frozenset(_RECORD_CHECKS)


def validate_envelope(source: str, event: dict[str, object], batch: BatchOptions) -> BatchEvent:
    """Firehose, Kinesis Analytics, Kafka and MQ: the envelope, then every record (Firehose
    sets a failing record aside, the others reject the event)."""
    arn_key, records_at, entries = _ENVELOPES[source](event)
    arn = opt_str(event, arn_key, f"/{arn_key}")
    _check_arn(arn, batch, f"/{arn_key}")
    if len(entries) > batch.max_records:
        raise EventValidationError("too_many_records", records_at)
    if source == FIREHOSE:
        return _firehose_records(event, entries, arn, batch)
    checked = tuple(
        _envelope_record(index, entry, arn, batch) for index, entry in enumerate(entries)
    )
    return BatchEvent(source, event, checked, ())


def _envelope_record(
    index: int, entry: _Entry, arn: str | None, batch: BatchOptions
) -> BatchRecord:
    record, data_key, at, id_key = entry
    if not isinstance(record, dict):
        raise EventValidationError("wrong_type", at)
    item = req_str(record, id_key, f"{at}/{id_key}") if id_key else None
    data = opt_str(record, data_key, f"{at}/{data_key}")
    if data is None:
        return BatchRecord(index, item, arn, None, None, record)
    if base64_size(data) > batch.max_record_bytes:
        raise EventValidationError("record_too_large", f"{at}/{data_key}")
    value = _base64_json(data, batch, f"{at}/{data_key}")
    return BatchRecord(index, item, arn, data, value, record, f"{at}/{data_key}")


def _firehose_records(
    event: dict[str, object], entries: list[_Entry], arn: str | None, batch: BatchOptions
) -> BatchEvent:
    """Every record named first, so that a nameless one rejects the event wherever it sits;
    then each record on its own."""
    named: list[tuple[dict[str, object], str, str]] = []
    for record, _, at, _ in entries:
        if not isinstance(record, dict):
            raise EventValidationError("wrong_type", at)
        named.append((record, req_str(record, "recordId", f"{at}/recordId"), at))
    good: list[BatchRecord] = []
    rejected: list[RejectedRecord] = []
    for index, (record, item, at) in enumerate(named):
        try:
            checked = _firehose_record(index, item, record, at, arn, batch)
        except EventValidationError as error:
            rejected.append(RejectedRecord(index, item, error))
            continue
        good.append(checked)
    return BatchEvent(FIREHOSE, event, tuple(good), tuple(rejected))


def _firehose_record(
    index: int, item: str, record: dict[str, object], at: str, arn: str | None, batch: BatchOptions
) -> BatchRecord:
    """Decoded now rather than on first read: a transformation reads every payload anyway,
    and one that does not decode must be answered `ProcessingFailed` before the handler
    runs, not fail the invocation halfway through the batch."""
    data = opt_str(record, "data", f"{at}/data")
    if data is None:
        return BatchRecord(index, item, arn, None, None, record)
    if base64_size(data) > batch.max_record_bytes:
        raise EventValidationError("record_too_large", f"{at}/data")
    payload = decode_base64(data, f"{at}/data")
    value = _payload_json(payload, batch, f"{at}/data")
    return BatchRecord(index, item, arn, payload, value, record)


def _firehose(event: dict[str, object]) -> _Envelope:
    req_str(event, "invocationId", "/invocationId")
    records = req_list(event, "records", "/records")
    return (
        "deliveryStreamArn",
        "/records",
        [(record, "data", f"/records/{index}", "recordId") for index, record in enumerate(records)],
    )


def _analytics(event: dict[str, object]) -> _Envelope:
    req_str(event, "invocationId", "/invocationId")
    records = req_list(event, "records", "/records")
    return (
        "applicationArn",
        "/records",
        [(record, "data", f"/records/{index}", "recordId") for index, record in enumerate(records)],
    )


def _kafka(event: dict[str, object]) -> _Envelope:
    by_partition = req_dict(event, "records", "/records")
    entries: list[_Entry] = []
    for partition, records in by_partition.items():
        at = f"/records/{_json.safe_segment(partition)}"
        if not isinstance(records, list):
            raise EventValidationError("wrong_type", at)
        entries.extend(
            (record, "value", f"{at}/{index}", None) for index, record in enumerate(records)
        )
    return "eventSourceArn", "/records", entries


def _activemq(event: dict[str, object]) -> _Envelope:
    messages = req_list(event, "messages", "/messages")
    return (
        "eventSourceArn",
        "/messages",
        [
            (message, "data", f"/messages/{index}", "messageID")
            for index, message in enumerate(messages)
        ],
    )


def _rabbitmq(event: dict[str, object]) -> _Envelope:
    by_queue = req_dict(event, "rmqMessagesByQueue", "/rmqMessagesByQueue")
    entries: list[_Entry] = []
    for queue, messages in by_queue.items():
        at = f"/rmqMessagesByQueue/{_json.safe_segment(queue)}"
        if not isinstance(messages, list):
            raise EventValidationError("wrong_type", at)
        entries.extend(
            (message, "data", f"{at}/{index}", None) for index, message in enumerate(messages)
        )
    return "eventSourceArn", "/rmqMessagesByQueue", entries


_ENVELOPES: dict[str, Callable[[dict[str, object]], _Envelope]] = {
    "kinesis_firehose": _firehose,
    "kinesis_analytics": _analytics,
    "kafka_msk": _kafka,
    "kafka_self_managed": _kafka,
    "activemq": _activemq,
    "rabbitmq": _rabbitmq,
}

ENVELOPE_SOURCES = frozenset(_ENVELOPES)
