"""Typed, read-only views of validated events.

A view wraps the event it was built from without copying or changing it: every public
attribute is a property over private slots or over the original data, so none can be
assigned, and those that cost anything are computed on first access. Mappings come back as
read-only proxies and sequences as tuples. `raw` is a read-only proxy of the whole event for
fields a view does not name; its nested containers are the event's own, so treat them as
read-only too.

`repr()` of a view names the source and shape only, never values, so a view that ends up in a
log line or an error message leaks nothing.
"""

from __future__ import annotations

from ._fields import decode_base64
from .exceptions import EventValidationError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "BatchEvent",
    "BatchRecord",
    "EventView",
    "HttpRequest",
    "RejectedRecord",
    "S3Event",
    "S3Object",
]

_MappingProxy = type(type.__dict__)
"""`types.MappingProxyType`, without importing `types`."""

_EMPTY: Mapping[str, str] = _MappingProxy({})


def _read_only(value: object) -> Mapping[str, object]:
    return _MappingProxy(value if isinstance(value, dict) else {})


class S3Object:
    """One S3 object named by an event. `key` is decoded (`+` and `%XX`); `raw_key` is not."""

    __slots__ = ("_bucket", "_event_name", "_key", "_raw_key", "_size", "_version_id")

    def __init__(
        self,
        bucket: str,
        key: str,
        raw_key: str,
        size: int | None,
        event_name: str | None,
        version_id: str | None,
    ) -> None:
        self._bucket = bucket
        self._key = key
        self._raw_key = raw_key
        self._size = size
        self._event_name = event_name
        self._version_id = version_id

    @property
    def bucket(self) -> str:
        return self._bucket

    @property
    def key(self) -> str:
        return self._key

    @property
    def raw_key(self) -> str:
        return self._raw_key

    @property
    def size(self) -> int | None:
        return self._size

    @property
    def event_name(self) -> str | None:
        return self._event_name

    @property
    def version_id(self) -> str | None:
        return self._version_id

    def __repr__(self) -> str:
        return f"S3Object(size={self._size!r}, event_name={self._event_name!r})"


class EventView:
    """Any validated event: its source label, the raw event, and S3 objects it carries."""

    __slots__ = ("_event", "_s3", "_source")

    def __init__(self, source: str, event: object, s3: tuple[S3Object, ...] = ()) -> None:
        self._source = source
        self._event = event
        self._s3 = s3

    @property
    def source(self) -> str:
        """The detected source label (`apigw_rest_v1`, `sqs`, ..., `unknown`)."""
        return self._source

    @property
    def raw(self) -> Mapping[str, object]:
        """The original event, read-only (an empty mapping when it is not a JSON object)."""
        return _read_only(self._event)

    @property
    def data(self) -> object:
        """The original event whatever its JSON type (AppSync batches are lists, Step
        Functions may send a string). It is the event itself: do not change it."""
        return self._event

    @property
    def s3(self) -> S3Event | None:
        """S3 objects found anywhere in the event (direct, or inside SQS, SNS, EventBridge)."""
        if not self._s3:
            return None
        return S3Event(self._source, self._event, self._s3)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(source={self._source!r})"


class S3Event(EventView):
    """An S3 notification (or the S3 part of an envelope): `event.s3.records[0].key`."""

    __slots__ = ()

    @property
    def records(self) -> tuple[S3Object, ...]:
        return self._s3

    @property
    def s3(self) -> S3Event:
        return self


class HttpRequest(EventView):
    """An HTTP-shaped event: API Gateway, ALB, function URL, VPC Lattice, authorizers.

    `headers` has lower-case names and comma-joined repeated values; `query` joins repeated
    values the same way. `json` is the body parsed during validation (None if not parsed).
    """

    __slots__ = (
        "_body",
        "_headers",
        "_headers_view",
        "_is_base64",
        "_json",
        "_method",
        "_path",
        "_query",
        "_query_view",
    )

    def __init__(
        self,
        source: str,
        event: object,
        *,
        method: str | None,
        path: str | None,
        headers: object,
        query: object,
        body: str | None,
        is_base64: bool,
        json: object,
    ) -> None:
        self._source = source
        self._event = event
        self._s3 = ()
        self._method = method
        self._path = path
        self._headers = headers
        self._query = query
        self._body = body
        self._is_base64 = is_base64
        self._json = json
        self._headers_view: Mapping[str, str] | None = None
        self._query_view: Mapping[str, str] | None = None

    @property
    def method(self) -> str | None:
        """The HTTP method; None for WebSocket messages and token authorizers."""
        return self._method

    @property
    def path(self) -> str | None:
        """The request path as received (not decoded); None where the source has none."""
        return self._path

    @property
    def json(self) -> object:
        return self._json

    @property
    def headers(self) -> Mapping[str, str]:
        view = self._headers_view
        if view is None:
            view = self._headers_view = _flatten(self._headers, lower=True)
        return view

    @property
    def query(self) -> Mapping[str, str]:
        view = self._query_view
        if view is None:
            view = self._query_view = _flatten(self._query, lower=False)
        return view

    @property
    def body(self) -> str | None:
        """The body as the event carries it (base64 text when `is_base64_encoded`)."""
        return self._body

    @property
    def is_base64_encoded(self) -> bool:
        return self._is_base64

    @property
    def body_bytes(self) -> bytes:
        """The body decoded to bytes (empty when there is none)."""
        if not self._body:
            return b""
        if not self._is_base64:
            return self._body.encode("utf-8", "surrogatepass")
        try:
            return decode_base64(self._body, "/body")
        except EventValidationError as error:
            error.source = self._source
            raise

    @property
    def path_parameters(self) -> Mapping[str, object]:
        event = self._event
        found = event.get("pathParameters") if isinstance(event, dict) else None
        return _read_only(found)

    @property
    def request_id(self) -> str | None:
        """The request id given by API Gateway or Lattice (not Lambda's invocation id)."""
        event = self._event
        context = event.get("requestContext") if isinstance(event, dict) else None
        found = context.get("requestId") if isinstance(context, dict) else None
        return found if isinstance(found, str) else None


def _flatten(mapping: object, *, lower: bool) -> Mapping[str, str]:
    if not isinstance(mapping, dict) or not mapping:
        return _EMPTY
    flat: dict[str, str] = {}
    for name, value in mapping.items():
        text = value if isinstance(value, str) else ",".join(value)
        key = name.lower() if lower else name
        flat[key] = f"{flat[key]},{text}" if key in flat else text
    return _MappingProxy(flat)


class BatchRecord:
    """One record of a queue or stream that passed validation.

    `item_id` is what the answer names (SQS message id, Kinesis or DynamoDB sequence number,
    Firehose `recordId`); `body` the payload, as text (SQS, SNS) or as bytes decoded from
    base64 on first access (Kinesis, Kafka, MQ) or during validation (Firehose); `json` the
    payload parsed during validation, if it was.
    """

    __slots__ = (
        "_base64_at",
        "_body",
        "_index",
        "_item_id",
        "_json",
        "_record",
        "_source_arn",
    )

    def __init__(
        self,
        index: int,
        item_id: str | None,
        source_arn: str | None,
        body: str | bytes | None,
        json: object,
        record: object,
        base64_at: str | None = None,
    ) -> None:
        self._index = index
        self._item_id = item_id
        self._source_arn = source_arn
        self._body = body
        self._json = json
        self._record = record
        self._base64_at = base64_at

    @property
    def index(self) -> int:
        """Position of the record in the event."""
        return self._index

    @property
    def item_id(self) -> str | None:
        return self._item_id

    @property
    def source_arn(self) -> str | None:
        return self._source_arn

    @property
    def body(self) -> str | bytes | None:
        """The payload; raises `EventValidationError` if base64 data does not decode."""
        body = self._body
        if self._base64_at is not None and isinstance(body, str):
            body = self._body = decode_base64(body, self._base64_at)
            self._base64_at = None
        return body

    @property
    def json(self) -> object:
        return self._json

    @property
    def raw(self) -> Mapping[str, object]:
        return _read_only(self._record)

    def __repr__(self) -> str:
        return f"BatchRecord(index={self._index})"


class RejectedRecord:
    """A record that failed validation: where it was, and which rule it broke."""

    __slots__ = ("_index", "_item_id", "_path", "_rule")

    def __init__(self, index: int, item_id: str | None, error: EventValidationError) -> None:
        self._index = index
        self._item_id = item_id
        self._rule = error.rule
        self._path = error.path

    @property
    def index(self) -> int:
        return self._index

    @property
    def item_id(self) -> str | None:
        return self._item_id

    @property
    def rule(self) -> str:
        return self._rule

    @property
    def path(self) -> str:
        return self._path

    def __repr__(self) -> str:
        return f"RejectedRecord(index={self._index}, rule={self._rule!r})"


class BatchEvent(EventView):
    """A queue or stream batch: the records that passed, and those rejected one by one."""

    __slots__ = ("_records", "_rejected")

    def __init__(
        self,
        source: str,
        event: object,
        records: tuple[BatchRecord, ...],
        rejected: tuple[RejectedRecord, ...],
        s3: tuple[S3Object, ...] = (),
    ) -> None:
        super().__init__(source, event, s3)
        self._records = records
        self._rejected = rejected

    @property
    def records(self) -> tuple[BatchRecord, ...]:
        return self._records

    @property
    def rejected(self) -> tuple[RejectedRecord, ...]:
        return self._rejected

    def batch_item_failures(self, failed: tuple[str, ...] = ()) -> dict[str, object]:
        """The partial-batch response naming every rejected record plus `failed` ids.

        A rejected record without an id is named `""`, which Lambda reads as "the whole
        batch failed": retrying everything is the safe answer when a record cannot be named.
        """
        ids = [record.item_id or "" for record in self._rejected]
        seen = set(ids)
        for item in failed:
            if item not in seen:
                seen.add(item)
                ids.append(item)
        return {"batchItemFailures": [{"itemIdentifier": item} for item in ids]}

    def __repr__(self) -> str:
        return (
            f"BatchEvent(source={self._source!r}, records={len(self._records)}, "
            f"rejected={len(self._rejected)})"
        )
