"""Safe answers shaped for each source, and security headers on HTTP responses.

Bodies are fixed JSON documents: a message and an id to quote to support, never what failed
or why (unless `expose_details`, and then only the rule id and pointer). Authorizers answer
with a Deny, which is how API Gateway and AppSync expect a refusal.
"""

from __future__ import annotations

from ._batch import PARTIAL_SOURCES, item_id
from ._http import HTTP_SOURCES
from .exceptions import EventValidationError, HandlerAnswerError, HandlerError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from .views import BatchEvent

__all__ = [
    "AUTHORIZER_SOURCES",
    "DEFAULT_SECURITY_HEADERS",
    "failed",
    "firehose_records",
    "rejected",
    "secured",
]

DEFAULT_SECURITY_HEADERS: Mapping[str, str] = {
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
"""Added to every HTTP response unless the handler set a header of the same name."""

AUTHORIZER_SOURCES = frozenset(
    {
        "apigw_authorizer_token",
        "apigw_authorizer_request",
        "apigw_authorizer_v2",
        "appsync_authorizer",
    }
)

_REASONS = {200: "OK", 400: "Bad Request", 500: "Internal Server Error"}
_STATUS_DESCRIBED = frozenset({"alb", "vpc_lattice_v1", "vpc_lattice_v2"})


def rejected(
    source: str,
    event: object,
    error: EventValidationError,
    request_id: str,
    *,
    expose_details: bool,
    headers: Mapping[str, str],
) -> object:
    """The answer to an event that failed validation; raises where no answer can carry it."""
    if source in AUTHORIZER_SOURCES:
        return _deny(source, event)
    if source in HTTP_SOURCES:
        body: dict[str, object] = {"message": "Bad request", "request_id": request_id}
        if expose_details:
            body["rule"] = error.rule
            body["path"] = error.path
        return _http(source, event, 400, body, headers)
    if source in PARTIAL_SOURCES:
        failures = _every_record(source, event)
        if failures is not None:
            return failures
    raise error.with_traceback(None) from None


def failed(
    source: str,
    event: object,
    correlation_id: str,
    *,
    headers: Mapping[str, str],
    detail: str = "",
) -> object:
    """The answer when the handler raised: a 500, a Deny, or a HandlerError (a
    `HandlerAnswerError` when the guard gives a `detail`)."""
    if source in AUTHORIZER_SOURCES:
        return _deny(source, event)
    if source in HTTP_SOURCES:
        body = {"message": "Internal server error", "correlation_id": correlation_id}
        return _http(source, event, 500, body, headers)
    if detail:
        raise HandlerAnswerError(correlation_id, detail) from None
    raise HandlerError(correlation_id) from None


def firehose_records(view: BatchEvent, handled: Sequence[object]) -> dict[str, object]:
    """The Firehose answer: one entry per input record, in input order. `handled` holds the
    handler's entries for `view.records`, in that order; each record the guard withheld is
    `ProcessingFailed` with its data handed back as it came, since Firehose requires `data`
    on every entry and writes failed records to its `processing-failed` S3 prefix (data that
    is not a string is not handed back: an empty payload takes its place)."""
    entries: list[object] = [None] * (len(view.records) + len(view.rejected))
    for item, entry in zip(view.records, handled, strict=True):
        entries[item.index] = entry
    records = view.raw.get("records")
    for rejected_record in view.rejected:
        index = rejected_record.index
        found = records[index] if isinstance(records, list) else None
        data = found.get("data") if isinstance(found, dict) else None
        entries[index] = {
            "recordId": rejected_record.item_id,
            "result": "ProcessingFailed",
            "data": data if isinstance(data, str) else "",
        }
    return {"records": entries}


def _every_record(source: str, event: object) -> dict[str, object] | None:
    """Every record of a malformed batch as failed, when the batch has records at all."""
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list) or not records:
        return None
    ids = [item_id(source, record) or "" for record in records]
    return {"batchItemFailures": [{"itemIdentifier": item} for item in ids]}


def _deny(source: str, event: object) -> dict[str, object]:
    if source == "appsync_authorizer":
        return {"isAuthorized": False}
    found = event if isinstance(event, dict) else {}
    resource = found.get("methodArn", found.get("routeArn"))
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Action": "execute-api:Invoke",
                "Effect": "Deny",
                "Resource": resource if isinstance(resource, str) else "*",
            }
        ],
    }
    answer: dict[str, object] = {"principalId": "unauthorized", "policyDocument": policy}
    if source == "apigw_authorizer_v2":
        # Simple responses read only this; IAM-policy responses read only the policy.
        answer["isAuthorized"] = False
    return answer


def _http(
    source: str,
    event: object,
    status: int,
    body: Mapping[str, object],
    headers: Mapping[str, str],
) -> dict[str, object]:
    import json

    all_headers = {"Content-Type": "application/json", **headers}
    response: dict[str, object] = {
        "statusCode": status,
        "body": json.dumps(body, separators=(",", ":")),
        "isBase64Encoded": False,
    }
    if source in _STATUS_DESCRIBED:
        response["statusDescription"] = f"{status} {_REASONS.get(status, '')}".strip()
    if _multi_value(source, event):
        response["multiValueHeaders"] = {name: [value] for name, value in all_headers.items()}
    else:
        response["headers"] = all_headers
    return response


def _multi_value(source: str, event: object) -> bool:
    """ALB with multi-value headers on reads only `multiValueHeaders` in the response."""
    return source == "alb" and isinstance(event, dict) and "multiValueHeaders" in event


def secured(source: str, event: object, result: object, headers: Mapping[str, str]) -> object:
    """The handler's HTTP response with the security headers it did not set itself."""
    if source in AUTHORIZER_SOURCES or not headers:
        return result
    if not isinstance(result, dict):
        return result
    if "statusCode" not in result:
        if source in ("apigw_http_v2", "lambda_function_url"):
            return _inferred_response(result, headers)
        return result
    response = dict(result)
    if _multi_value(source, event) or isinstance(result.get("multiValueHeaders"), dict):
        multi = response.get("multiValueHeaders")
        merged_multi = dict(multi) if isinstance(multi, dict) else {}
        present = _lower_names(merged_multi, response.get("headers"))
        for name, value in headers.items():
            if name.lower() not in present:
                merged_multi[name] = [value]
        response["multiValueHeaders"] = merged_multi
        return response
    single = response.get("headers")
    merged = dict(single) if isinstance(single, dict) else {}
    present = _lower_names(merged, None)
    for name, value in headers.items():
        if name.lower() not in present:
            merged[name] = value
    response["headers"] = merged
    return response


def _inferred_response(result: dict[str, object], headers: Mapping[str, str]) -> dict[str, object]:
    """HTTP APIs and function URLs turn a bare object into a 200 JSON response; spelling it
    out is the only way to attach headers to it."""
    import json

    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json", **headers},
        "body": json.dumps(result),
        "isBase64Encoded": False,
    }


def _lower_names(*mappings: object) -> set[str]:
    names: set[str] = set()
    for mapping in mappings:
        if isinstance(mapping, dict):
            names.update(str(name).lower() for name in mapping)
    return names
