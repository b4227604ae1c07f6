"""Validation of S3 object references: notifications, EventBridge, Batch Operations, nesting.

Keys in S3 notifications and Batch Operations tasks are URL-encoded with `+` for a space;
`S3Object.key` is the decoded key, and every check runs on every decoding of it (see
`_paths`). EventBridge carries keys as stored, but they are inspected the same way, since a
handler may decode them.
"""

from __future__ import annotations

from . import _paths
from ._fields import opt_int, opt_str, req_dict, req_list, req_str
from .exceptions import EventValidationError
from .views import EventView, S3Event, S3Object

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .options import S3Options

__all__ = [
    "nested_in_text",
    "validate_eventbridge_s3",
    "validate_s3",
    "validate_s3_batch_operation",
    "validate_s3_object_lambda",
]

_MAX_KEY_BYTES = 1024
"""S3's own limit on a key, in UTF-8 bytes."""

_MAX_NESTED_DEPTH = 16
"""Depth limit for the JSON of a notification carried in an SQS body or SNS message."""


def validate_s3(source: str, event: dict[str, object], options: S3Options) -> S3Event:
    records = req_list(event, "Records", "/Records")
    objects = tuple(
        _notification_record(record, f"/Records/{index}", options)
        for index, record in enumerate(records)
    )
    return S3Event(source, event, objects)


def _notification_record(record: object, at: str, options: S3Options) -> S3Object:
    if not isinstance(record, dict):
        raise EventValidationError("wrong_type", at)
    if record.get("eventSource") != "aws:s3":
        raise EventValidationError("mixed_sources", f"{at}/eventSource")
    s3 = req_dict(record, "s3", f"{at}/s3")
    bucket = req_dict(s3, "bucket", f"{at}/s3/bucket")
    found = req_dict(s3, "object", f"{at}/s3/object")
    return check_object(
        req_str(bucket, "name", f"{at}/s3/bucket/name"),
        req_str(found, "key", f"{at}/s3/object/key"),
        opt_int(found, "size", f"{at}/s3/object/size"),
        options,
        at=f"{at}/s3",
        encoded=True,
        event_name=opt_str(record, "eventName", f"{at}/eventName"),
        version_id=opt_str(found, "versionId", f"{at}/s3/object/versionId"),
    )


def check_object(
    bucket: str,
    raw_key: str,
    size: int | None,
    options: S3Options,
    *,
    at: str,
    encoded: bool,
    event_name: str | None = None,
    version_id: str | None = None,
    bucket_at: str = "/bucket/name",
    key_at: str = "/object/key",
) -> S3Object:
    """Every check of `S3Options` on one object; `at` prefixes the bucket and key pointers."""
    if options.buckets is not None and bucket not in options.buckets:
        raise EventValidationError("bucket_not_allowed", at + bucket_at)
    key = _checked_key(raw_key, options, at + key_at, encoded=encoded)
    if options.extensions is not None and not _extension_allowed(key, options.extensions):
        raise EventValidationError("extension_not_allowed", at + key_at)
    limit = options.max_object_bytes
    if limit is not None and size is not None and size > limit:
        raise EventValidationError("object_too_large", at + "/object/size")
    return S3Object(bucket, key, raw_key, size, event_name, version_id)


def _checked_key(raw_key: str, options: S3Options, at: str, *, encoded: bool) -> str:
    if len(raw_key) > 3 * _MAX_KEY_BYTES:  # each byte is at most "%XX"
        raise EventValidationError("key_too_long", at)
    try:
        decoded, layers = _paths.decode_layers(raw_key, plus_is_space=encoded)
    except _paths.BadEncoding:
        raise EventValidationError("key_encoding", at) from None
    key = decoded if encoded else raw_key
    if len(key) * 4 > _MAX_KEY_BYTES and len(key.encode("utf-8")) > _MAX_KEY_BYTES:
        raise EventValidationError("key_too_long", at)
    if options.check_keys:
        for layer in layers:
            _check_key_layer(layer, at)
    return key


def _check_key_layer(layer: str, at: str) -> None:
    if _paths.has_control(layer):
        raise EventValidationError("key_control_characters", at)
    if _paths.has_traversal(layer):
        raise EventValidationError("key_traversal", at)
    if _paths.is_absolute(layer):
        raise EventValidationError("key_absolute", at)


def _extension_allowed(key: str, extensions: frozenset[str]) -> bool:
    name = key.rsplit("/", 1)[-1].lower()
    return any(name.endswith(extension) for extension in extensions)


def validate_eventbridge_s3(event: dict[str, object], options: S3Options) -> tuple[S3Object, ...]:
    """The object of an S3 event delivered by EventBridge (`source` is `aws.s3`)."""
    detail = req_dict(event, "detail", "/detail")
    bucket = req_dict(detail, "bucket", "/detail/bucket")
    found = req_dict(detail, "object", "/detail/object")
    detail_type = event.get("detail-type")
    checked = check_object(
        req_str(bucket, "name", "/detail/bucket/name"),
        req_str(found, "key", "/detail/object/key"),
        opt_int(found, "size", "/detail/object/size"),
        options,
        at="/detail",
        encoded=False,
        event_name=detail_type if isinstance(detail_type, str) else None,
        version_id=opt_str(found, "version-id", "/detail/object/version-id"),
    )
    return (checked,)


def validate_s3_batch_operation(
    source: str, event: dict[str, object], options: S3Options
) -> EventView:
    req_str(event, "invocationId", "/invocationId")
    req_str(event, "invocationSchemaVersion", "/invocationSchemaVersion")
    req_dict(event, "job", "/job")
    tasks = req_list(event, "tasks", "/tasks")
    objects = tuple(
        _batch_task(task, f"/tasks/{index}", options) for index, task in enumerate(tasks)
    )
    return EventView(source, event, objects)


def _batch_task(task: object, at: str, options: S3Options) -> S3Object:
    if not isinstance(task, dict):
        raise EventValidationError("wrong_type", at)
    req_str(task, "taskId", f"{at}/taskId")
    bucket = opt_str(task, "s3Bucket", f"{at}/s3Bucket")
    bucket_at = "/s3Bucket"
    if bucket is None:
        # Schema 1.0 names the bucket by ARN: arn:aws:s3:::name
        bucket = req_str(task, "s3BucketArn", f"{at}/s3BucketArn").rpartition(":")[2]
        bucket_at = "/s3BucketArn"
    return check_object(
        bucket,
        req_str(task, "s3Key", f"{at}/s3Key"),
        None,
        options,
        at=at,
        encoded=True,
        version_id=opt_str(task, "s3VersionId", f"{at}/s3VersionId"),
        bucket_at=bucket_at,
        key_at="/s3Key",
    )


def validate_s3_object_lambda(
    source: str, event: dict[str, object], options: S3Options
) -> EventView:
    context = req_dict(event, "getObjectContext", "/getObjectContext")
    req_str(context, "outputRoute", "/getObjectContext/outputRoute")
    req_str(context, "outputToken", "/getObjectContext/outputToken")
    req_str(context, "inputS3Url", "/getObjectContext/inputS3Url")
    request = req_dict(event, "userRequest", "/userRequest")
    req_str(request, "url", "/userRequest/url")
    req_dict(event, "configuration", "/configuration")
    return EventView(source, event)


def nested_in_text(text: str, at: str, options: S3Options) -> tuple[S3Object, ...]:
    """S3 objects of a notification carried as JSON text (an SQS body, an SNS message).

    Text that is not such a notification yields nothing: it is the handler's business.
    """
    if "aws:s3" not in text:
        return ()
    from ._json import parse_json

    try:
        document = parse_json(text, _MAX_NESTED_DEPTH, at)
    except EventValidationError:
        return ()
    if not isinstance(document, dict):
        return ()
    message = document.get("Message")
    if document.get("Type") == "Notification" and isinstance(message, str):
        # An SNS envelope delivered through SQS: the notification is one level further in.
        return nested_in_text(message, f"{at}/Message", options)
    records = document.get("Records")
    if not isinstance(records, list):
        return ()
    return tuple(
        _notification_record(record, f"{at}/Records/{index}", options)
        for index, record in enumerate(records)
        if isinstance(record, dict) and record.get("eventSource") == "aws:s3"
    )
