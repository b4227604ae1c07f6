"""JSON bodies: depth limits, and JSON Schema compiled once with fastjsonschema."""

from __future__ import annotations

import pytest

from lambdashield.runtime import (
    EventValidationError,
    HttpOptions,
    HttpRequest,
    RuntimeConfigError,
    validate,
)
from lambdashield.runtime._json import parse_json

ORDER = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "items": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["id"],
}


def request(body: str | None, content_type: str = "application/json") -> dict[str, object]:
    return {
        "version": "2.0",
        "routeKey": "POST /orders",
        "rawPath": "/orders",
        "rawQueryString": "",
        "headers": {"content-type": content_type},
        "requestContext": {
            "domainName": "id.execute-api.us-east-1.amazonaws.com",
            "http": {"method": "POST", "path": "/orders"},
            "requestId": "r-1",
        },
        "body": body,
        "isBase64Encoded": False,
    }


def test_depth_limit() -> None:
    assert isinstance(parse_json("[" * 32 + "]" * 32, 32, "/body"), list)
    with pytest.raises(EventValidationError) as caught:
        parse_json("[" * 33 + "]" * 33, 32, "/body")
    assert caught.value.rule == "json_too_deep"


def test_brackets_inside_strings_do_not_count_as_depth() -> None:
    assert parse_json('{"a": "' + "[" * 100 + '"}', 4, "/body") == {"a": "[" * 100}


def test_very_deep_documents_are_refused_without_a_crash() -> None:
    with pytest.raises(EventValidationError) as caught:
        parse_json("[" * 200_000 + "]" * 200_000, 32, "/body")
    assert caught.value.rule == "json_too_deep"


@pytest.mark.parametrize("text", ["NaN", '{"a": Infinity}', "-Infinity", "{", "", "\x00"])
def test_invalid_json(text: str) -> None:
    with pytest.raises(EventValidationError) as caught:
        parse_json(text, 32, "/body")
    assert caught.value.rule == "json_invalid"


def test_huge_integers_are_invalid_not_a_crash() -> None:
    with pytest.raises(EventValidationError):
        parse_json("9" * 5000, 32, "/body")


def test_schema_accepts_a_matching_body() -> None:
    pytest.importorskip("fastjsonschema")
    view = validate(request('{"id": 7, "items": ["a"]}'), http=HttpOptions(json_schema=ORDER))
    assert isinstance(view, HttpRequest)
    assert view.json == {"id": 7, "items": ["a"]}


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ('{"items": []}', "/body"),
        ('{"id": "seven"}', "/body/id"),
        ('{"id": 1, "items": ["a", 2]}', "/body/items/1"),
        (None, "/body"),
    ],
)
def test_schema_mismatch_names_the_place_not_the_value(body: str | None, path: str) -> None:
    pytest.importorskip("fastjsonschema")
    with pytest.raises(EventValidationError) as caught:
        validate(request(body), http=HttpOptions(json_schema=ORDER))
    assert (caught.value.rule, caught.value.path) == ("schema_mismatch", path)
    assert "seven" not in str(caught.value)


def test_hostile_property_names_do_not_reach_the_pointer() -> None:
    pytest.importorskip("fastjsonschema")
    schema = {"type": "object", "additionalProperties": {"type": "integer"}}
    with pytest.raises(EventValidationError) as caught:
        validate(request('{"<script>secret": "x"}'), http=HttpOptions(json_schema=schema))
    assert "script" not in caught.value.path
    assert "secret" not in str(caught.value)


def test_schema_is_compiled_once() -> None:
    pytest.importorskip("fastjsonschema")
    options = HttpOptions(json_schema=ORDER)
    validate(request('{"id": 1}'), http=options)
    compiled = options.schema_validator()
    validate(request('{"id": 2}'), http=options)
    assert options.schema_validator() is compiled


def test_remote_refs_are_refused() -> None:
    pytest.importorskip("fastjsonschema")
    options = HttpOptions(json_schema={"$ref": "https://example.invalid/schema.json"})
    with pytest.raises(RuntimeConfigError):
        options.schema_validator()


def test_a_schema_that_does_not_compile_is_a_config_error() -> None:
    pytest.importorskip("fastjsonschema")
    options = HttpOptions(json_schema={"type": "no-such-type"})
    with pytest.raises(RuntimeConfigError):
        options.schema_validator()
