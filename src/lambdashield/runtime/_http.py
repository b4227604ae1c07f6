"""Validation of HTTP-shaped events: API Gateway, ALB, function URLs, VPC Lattice, authorizers.

Each source spells the same request differently; `_parts` maps them onto one shape and the
checks run once over that shape. Sizes are measured with joins and `len` so that a typical
request costs a few microseconds.
"""

from __future__ import annotations

from . import _json, _paths
from ._fields import base64_size, decode_base64, opt_dict, opt_list, opt_str, req_dict, req_str
from .exceptions import EventValidationError
from .views import HttpRequest

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .options import HttpOptions

__all__ = ["HTTP_SOURCES", "validate_http"]

HTTP_SOURCES = frozenset(
    {
        "apigw_rest_v1",
        "apigw_http_v2",
        "apigw_websocket",
        "apigw_authorizer_token",
        "apigw_authorizer_request",
        "apigw_authorizer_v2",
        "alb",
        "lambda_function_url",
        "vpc_lattice_v1",
        "vpc_lattice_v2",
    }
)

_V1_SHAPE = frozenset({"apigw_rest_v1", "alb", "apigw_authorizer_request"})
_V2_SHAPE = frozenset({"apigw_http_v2", "lambda_function_url", "apigw_authorizer_v2"})


class _Parts:
    """One request, whatever the source called its fields; `*_at` are the real pointers."""

    __slots__ = (
        "body",
        "cookies",
        "headers",
        "headers_at",
        "is_base64",
        "method",
        "method_at",
        "path",
        "path_at",
        "query",
        "query_at",
        "raw_query",
    )

    def __init__(self) -> None:
        self.method: str | None = None
        self.method_at = ""
        self.path: str | None = None
        self.path_at = ""
        self.headers: dict[str, object] | None = None
        self.headers_at = "/headers"
        self.query: dict[str, object] | None = None
        self.query_at = "/queryStringParameters"
        self.raw_query: str | None = None
        self.cookies: list[object] | None = None
        self.body: object = None
        self.is_base64: object = False


def validate_http(source: str, event: dict[str, object], options: HttpOptions) -> HttpRequest:
    parts = _parts(source, event)
    _check_method(parts, options)
    _check_path(parts, options)
    _check_headers(parts, options)
    _check_query(parts, options)
    body = _body_text(parts)
    json_value = _check_body(body, parts, options)
    return HttpRequest(
        source,
        event,
        method=parts.method,
        path=parts.path,
        headers=parts.headers,
        query=parts.query,
        body=body,
        is_base64=parts.is_base64 is True,
        json=json_value,
    )


def _parts(source: str, event: dict[str, object]) -> _Parts:
    parts = _Parts()
    if source in _V1_SHAPE:
        _parts_v1(event, parts)
    elif source in _V2_SHAPE:
        _parts_v2(event, parts, source)
    elif source in ("vpc_lattice_v1", "vpc_lattice_v2"):
        _parts_lattice(event, parts, source)
    elif source == "apigw_websocket":
        _parts_websocket(event, parts)
    elif source == "apigw_authorizer_token":
        req_str(event, "methodArn", "/methodArn")
        # The token is a header value in disguise; it is checked as the only header.
        token = req_str(event, "authorizationToken", "/authorizationToken")
        parts.headers, parts.headers_at = {"authorization": token}, "/authorizationToken"
    return parts


def _parts_v1(event: dict[str, object], parts: _Parts) -> None:
    parts.method, parts.method_at = req_str(event, "httpMethod", "/httpMethod"), "/httpMethod"
    parts.path, parts.path_at = req_str(event, "path", "/path"), "/path"
    req_dict(event, "requestContext", "/requestContext")
    _headers_and_query(event, parts)
    parts.body = event.get("body")
    parts.is_base64 = event.get("isBase64Encoded", False)


def _headers_and_query(event: dict[str, object], parts: _Parts) -> None:
    # The multi-value forms hold every repeated value, so they are the ones to measure.
    multi = opt_dict(event, "multiValueHeaders", "/multiValueHeaders")
    if multi:
        parts.headers, parts.headers_at = multi, "/multiValueHeaders"
    else:
        parts.headers = opt_dict(event, "headers", "/headers")
    at = "/multiValueQueryStringParameters"
    multi = opt_dict(event, "multiValueQueryStringParameters", at)
    if multi:
        parts.query, parts.query_at = multi, at
    else:
        parts.query = opt_dict(event, "queryStringParameters", "/queryStringParameters")


def _parts_v2(event: dict[str, object], parts: _Parts, source: str) -> None:
    context = req_dict(event, "requestContext", "/requestContext")
    http = req_dict(context, "http", "/requestContext/http")
    parts.method_at = "/requestContext/http/method"
    parts.method = req_str(http, "method", parts.method_at)
    parts.path, parts.path_at = req_str(event, "rawPath", "/rawPath"), "/rawPath"
    if source == "apigw_authorizer_v2":
        req_str(event, "routeArn", "/routeArn")
    parts.headers = opt_dict(event, "headers", "/headers")
    parts.query = opt_dict(event, "queryStringParameters", "/queryStringParameters")
    parts.raw_query = opt_str(event, "rawQueryString", "/rawQueryString")
    parts.cookies = opt_list(event, "cookies", "/cookies")
    parts.body = event.get("body")
    parts.is_base64 = event.get("isBase64Encoded", False)


def _parts_lattice(event: dict[str, object], parts: _Parts, source: str) -> None:
    parts.method, parts.method_at = req_str(event, "method", "/method"), "/method"
    path_key = "raw_path" if source == "vpc_lattice_v1" else "path"
    parts.path_at = f"/{path_key}"
    parts.path = req_str(event, path_key, parts.path_at)
    if source == "vpc_lattice_v2":
        req_dict(event, "requestContext", "/requestContext")
    parts.headers = opt_dict(event, "headers", "/headers")
    query_key = "queryStringParameters"
    if query_key not in event:
        query_key = "query_string_parameters"
    parts.query_at = f"/{query_key}"
    parts.query = opt_dict(event, query_key, parts.query_at)
    parts.body = event.get("body")
    base64_key = "is_base64_encoded" if "is_base64_encoded" in event else "isBase64Encoded"
    parts.is_base64 = event.get(base64_key, False)


def _parts_websocket(event: dict[str, object], parts: _Parts) -> None:
    context = req_dict(event, "requestContext", "/requestContext")
    req_str(context, "connectionId", "/requestContext/connectionId")
    req_str(context, "routeKey", "/requestContext/routeKey")
    _headers_and_query(event, parts)
    parts.body = event.get("body")
    parts.is_base64 = event.get("isBase64Encoded", False)


def _check_method(parts: _Parts, options: HttpOptions) -> None:
    allowed = options.methods
    if parts.method is not None and allowed is not None and parts.method not in allowed:
        raise EventValidationError("method_not_allowed", parts.method_at)


def _check_path(parts: _Parts, options: HttpOptions) -> None:
    path = parts.path
    if path is None:
        return
    if options.check_path:
        _check_path_text(path, parts.path_at)
    matcher = options.path_matcher()
    if matcher is not None and matcher(path) is None:
        raise EventValidationError("path_not_allowed", parts.path_at)


def _check_path_text(path: str, at: str) -> None:
    if not path.startswith("/") or _paths.has_control(path):
        raise EventValidationError("path_invalid", at)
    layers = [path]
    if "%" in path:
        try:
            _, layers = _paths.decode_layers(path, plus_is_space=False)
        except _paths.BadEncoding:
            raise EventValidationError("path_invalid", at) from None
    for layer in layers:
        if _paths.has_traversal(layer):
            raise EventValidationError("path_traversal", at)
        if _paths.has_control(layer):
            raise EventValidationError("path_invalid", at)


def _measure(mapping: dict[str, object], at: str) -> tuple[int, str]:
    """Characters of all names, and all values joined (repeated values included)."""
    try:
        names = "".join(mapping)
        values = mapping.values()
        if next(iter(values)).__class__ is str:
            return len(names), "".join(values)  # type: ignore[arg-type]
        # Multi-value maps hold lists; iterating a stray string yields its characters,
        # which measure the same, so one flattening join serves both.
        return len(names), "".join([item for value in values for item in value])  # type: ignore[attr-defined]
    except TypeError:
        raise EventValidationError("wrong_type", at) from None


def _check_headers(parts: _Parts, options: HttpOptions) -> None:
    headers, at = parts.headers, parts.headers_at
    if not headers:
        return
    if len(headers) > options.max_headers:
        raise EventValidationError("too_many_headers", at)
    names_size, values = _measure(headers, at)
    if names_size + len(values) + _cookies_size(parts.cookies) > options.max_header_bytes:
        raise EventValidationError("headers_too_large", at)
    if "\n" in values or "\r" in values or "\x00" in values:
        raise EventValidationError("header_injection", at)


def _cookies_size(cookies: list[object] | None) -> int:
    if not cookies:
        return 0
    try:
        return len("".join(cookies))  # type: ignore[arg-type]
    except TypeError:
        raise EventValidationError("wrong_type", "/cookies") from None


def _check_query(parts: _Parts, options: HttpOptions) -> None:
    if parts.raw_query is not None and len(parts.raw_query) > options.max_query_bytes:
        raise EventValidationError("query_too_large", "/rawQueryString")
    query, at = parts.query, parts.query_at
    if not query:
        return
    if len(query) > options.max_query_params:
        raise EventValidationError("too_many_query_params", at)
    names_size, values = _measure(query, at)
    if names_size + len(values) > options.max_query_bytes:
        raise EventValidationError("query_too_large", at)


def _body_text(parts: _Parts) -> str | None:
    if not isinstance(parts.is_base64, bool):
        raise EventValidationError("wrong_type", "/isBase64Encoded")
    body = parts.body
    if body is None or isinstance(body, str):
        return body
    raise EventValidationError("wrong_type", "/body")


def _check_body(body: str | None, parts: _Parts, options: HttpOptions) -> object:
    """Size, content type and JSON checks; returns the parsed JSON body, if parsed."""
    is_base64 = parts.is_base64 is True
    if body and _body_size_exceeds(body, is_base64, options.max_body_bytes):
        raise EventValidationError("body_too_large", "/body")
    allowed = options.content_types
    media = _media_type(parts.headers) if body or allowed is not None else None
    if body and allowed is not None and media not in allowed:
        raise EventValidationError("content_type_not_allowed", parts.headers_at)
    validator = options.schema_validator()
    parse = options.json_body
    if parse is None:
        parse = validator is not None or (media is not None and _is_json(media))
    if not parse:
        return None
    value = _parse_body(body, is_base64, options) if body else None
    if validator is not None:
        _json.check_schema(validator, value, "/body")
    return value


def _body_size_exceeds(body: str, is_base64: bool, limit: int) -> bool:
    if is_base64:
        # The decoded size follows from the length; decoding waits until it is needed.
        return base64_size(body) > limit
    if len(body) > limit:
        return True
    # A character takes at most 4 bytes in UTF-8, so short bodies need no encoding to measure.
    if len(body) * 4 <= limit:
        return False
    return len(body.encode("utf-8", "surrogatepass")) > limit


def _parse_body(body: str, is_base64: bool, options: HttpOptions) -> object:
    text = decode_base64(body, "/body") if is_base64 else body
    return _json.parse_json(text, options.max_json_depth, "/body")


def _media_type(headers: dict[str, object] | None) -> str | None:
    if not headers:
        return None
    value = headers.get("content-type")
    if value is None:
        value = headers.get("Content-Type")
    if value is None:
        for name, found in headers.items():
            if len(name) == 12 and name.lower() == "content-type":
                value = found
                break
    if isinstance(value, list):
        value = value[0] if value else None
    if not isinstance(value, str):
        return None
    return value.split(";", 1)[0].strip().lower()


def _is_json(media: str) -> bool:
    return media == "application/json" or media.endswith("+json")
