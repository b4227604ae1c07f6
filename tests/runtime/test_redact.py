"""The redaction suite: secret-shaped strings in every nesting position, none survives.

Every secret below is put in every position (top level, nested dict, list, tuple, JSON inside a
string, JSON inside JSON inside a string, headers, multi-value headers, query strings, a
dict key, an object's ``str()``, at the depth bound) and sent through every output this
package writes: `redact` itself, an audit line, a ``logging`` call through `RedactingFilter`
and through `JsonFormatter`. No output line may contain it, and the input must come back
unchanged.
"""

from __future__ import annotations

import base64
import copy
import io
import json
import logging
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambdashield.runtime import audit_log
from lambdashield.runtime.audit_log import AuditLogger
from lambdashield.runtime.redact import (
    DEPTH_MARKER,
    MASK,
    SIZE_MARKER,
    Redactor,
    normalise_key,
    redact,
    redact_text,
    redacts,
)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


# Secrets are assembled here so that no complete credential is written in the repository.
JWT = ".".join(
    (
        _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()),
        _b64url(json.dumps({"sub": "1234567890", "name": "Jane Doe", "iat": 1516239022}).encode()),
        _b64url(bytes(range(32))),
    )
)
AWS_KEY_ID = "AKIA" + "IOSFODNN7EXAMPLE"
AWS_TEMP_KEY_ID = "ASIA" + "Y34FZKBOKMUTVV7A"
AWS_SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY"
BEARER_TOKEN = "mF_9.B5f-4.1JqM" + "x7Q2zK"
BASIC_CREDENTIALS = base64.b64encode(b"admin:0pen-Sesame!").decode("ascii")
PEM_BODY = "MIIEowIBAAKCAQEA7bq9v1xQ3c" + "Zr8Tn2WfLq0k9UuJ4YxE2mN5pD8sH1gV6"
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n" + PEM_BODY + "\n" + PEM_BODY[::-1] + "\n"
    "-----END RSA PRIVATE KEY-----"
)
CARD_SPACED = "4111 1111 1111 1111"
CARD_DASHED = "5500-0000-0000-0004"
CARD_AMEX = "378282246310005"
CARD_DISCOVER = "6011111111111117"
URL_PASSWORD = "S3cr3t-Pa55word"  # noqa: S105 - a fake secret the suite hunts for
DB_URL = f"postgres://app:{URL_PASSWORD}@db.internal:5432/orders"
INLINE_PASSWORD = "Tr0ub4dor-and-3"  # noqa: S105 - a fake secret the suite hunts for
KEYED_SECRET = "hunter2-correct-horse-battery"  # noqa: S105 - a fake secret
EMAIL = "jane.doe@example.com"

# (what to embed, the strings that must not appear in any output)
VALUE_SECRETS: dict[str, tuple[str, tuple[str, ...]]] = {
    "aws_key_id": (AWS_KEY_ID, (AWS_KEY_ID,)),
    "aws_temp_key_id": (AWS_TEMP_KEY_ID, (AWS_TEMP_KEY_ID,)),
    "aws_secret_key": (AWS_SECRET_KEY, (AWS_SECRET_KEY, "bPxRfiCYEXAMPLEKEY")),
    "jwt": (JWT, (JWT, JWT.split(".")[1], JWT.split(".")[2])),
    "bearer": (f"Bearer {BEARER_TOKEN}", (BEARER_TOKEN,)),
    "basic": (f"Basic {BASIC_CREDENTIALS}", (BASIC_CREDENTIALS,)),
    "pem": (PEM, (PEM_BODY, PEM_BODY[::-1])),
    "card_spaced": (CARD_SPACED, (CARD_SPACED, CARD_SPACED.replace(" ", ""))),
    "card_dashed": (CARD_DASHED, (CARD_DASHED, CARD_DASHED.replace("-", ""))),
    "card_amex": (CARD_AMEX, (CARD_AMEX,)),
    "card_discover": (CARD_DISCOVER, (CARD_DISCOVER,)),
    "url_password": (DB_URL, (URL_PASSWORD,)),
    "inline_password": (f"password={INLINE_PASSWORD}", (INLINE_PASSWORD,)),
    "inline_api_key": (f"api_key: {INLINE_PASSWORD}", (INLINE_PASSWORD,)),
    "inline_json_password": (f'{{"password": "{INLINE_PASSWORD}"', (INLINE_PASSWORD,)),
}

SENSITIVE_KEYS = [
    "password",
    "Password",
    "PASSWORD",
    "user_password",
    "passwd",
    "apiKey",
    "API-Key",
    "api_key",
    "x_api_key",
    "X-Api-Key",
    "XAPIKey",
    "client_secret",
    "clientSecret",
    "Authorization",
    "authorization",
    "Proxy-Authorization",
    "Cookie",
    "Set-Cookie",
    "cookies",
    "ssn",
    "SSN",
    "card",
    "cardNumber",
    "card_number",
    "cvv",
    "pin",
    "refresh_token",
    "X-Amz-Security-Token",
    "privateKey",
    "secretAccessKey",
    "sessionId",
    "credentials",
    "\uff30\uff21\uff33\uff33\uff37\uff2f\uff32\uff24",  # PASSWORD in full-width letters
]

NOT_SENSITIVE_KEYS = [
    "key",
    "Key",
    "bucket",
    "discard",
    "classname",
    "authorizer",
    "userArn",
    "shipping",
    "pathParameters",
    "keyboard",
    "monkey",
]


def _positions(secret: str) -> Iterator[tuple[str, object]]:
    """``secret`` embedded in every position the redactor must reach."""
    wrapped = f"before {secret} after"
    yield "top_level", secret
    yield "top_level_in_text", wrapped
    yield "nested_dict", {"a": {"b": {"c": {"note": wrapped}}}}
    yield "list", {"items": ["plain", wrapped, 3, None]}
    yield "list_of_dicts", {"records": [{"body": "x"}, {"body": wrapped}]}
    yield "tuple", {"pair": ("plain", wrapped)}
    yield "json_in_string", {"body": json.dumps({"user": "jane", "note": wrapped})}
    yield (
        "json_in_json_in_string",
        {"body": json.dumps({"payload": json.dumps({"deep": [wrapped]})})},
    )
    yield "json_array_in_string", {"body": json.dumps([1, {"note": secret}])}
    yield "headers", {"headers": {"X-Note": wrapped, "Host": "example.com"}}
    yield "multi_value_headers", {"multiValueHeaders": {"X-Note": ["first", wrapped]}}
    yield "query_string", {"queryStringParameters": {"q": wrapped}}
    yield "multi_value_query", {"multiValueQueryStringParameters": {"q": ["a", secret]}}
    yield "raw_query_string", {"rawQueryString": "a=1&q=" + urllib.parse.quote(secret, safe="")}
    yield "raw_query_unencoded", {"rawQueryString": f"a=1&note={secret}&b=2"}
    yield "dict_key", {secret: "value"}
    yield "bytes", {"raw": wrapped.encode("utf-8")}
    yield "object_str", {"thing": _Shown(wrapped)}
    deep: object = wrapped
    for _ in range(14):  # 15 levels of containers: inside the default bound of 16
        deep = {"level": deep}
    yield "deep_inside_bound", deep
    deeper: object = wrapped
    for _ in range(40):
        deeper = {"level": [deeper]}
    yield "deep_past_bound", deeper


class _Shown:
    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text


def _needles(forbidden: tuple[str, ...]) -> tuple[str, ...]:
    """A secret as it may appear in output: as is, JSON-escaped, URL-encoded."""
    forms: set[str] = set()
    for text in forbidden:
        forms.add(text)
        forms.add(json.dumps(text)[1:-1])
        forms.add(json.dumps(json.dumps(text))[1:-1])
        forms.add(urllib.parse.quote(text, safe=""))
    return tuple(form for form in forms if len(form) >= 6)


def _outputs(value: object, *, exception_text: bool = True) -> list[str]:
    """Every line each output of this package writes for ``value``.

    With ``exception_text``, ``value`` is also formatted into an exception's message, which
    only the text scanner sees.
    """
    lines: list[str] = []
    redacted = redact(value)
    lines.append(json.dumps(redacted, default=str))
    lines.append(repr(redacted))
    if isinstance(value, str):
        lines.append(redact_text(value))

    stream = io.StringIO()
    auditor = AuditLogger(stream=stream, log_event=True)
    auditor.record({"function": "orders", "outcome": "ok", "event": value, "detail": value})
    lines.extend(stream.getvalue().splitlines())

    for formatter in (logging.Formatter("%(levelname)s %(message)s"), audit_log.JsonFormatter()):
        captured = io.StringIO()
        handler = logging.StreamHandler(captured)
        handler.setFormatter(formatter)
        handler.addFilter(audit_log.RedactingFilter())
        logger = logging.getLogger(f"lambdashield.test.redaction.{id(formatter)}")
        logger.propagate = False
        logger.addHandler(handler)
        try:
            logger.warning("event %s", value)
            logger.warning(value)
            logger.warning("with extra", extra={"payload": value})
            if exception_text:
                try:
                    raise ValueError(f"failed on {value}")
                except ValueError:
                    logger.exception("handler failed")
        finally:
            logger.removeHandler(handler)
        lines.extend(captured.getvalue().splitlines())
    return lines


SUITE = [
    pytest.param(embedded, forbidden, value, id=f"{name}-{where}")
    for name, (embedded, forbidden) in VALUE_SECRETS.items()
    for where, value in _positions(embedded)
]


@pytest.mark.parametrize(("embedded", "forbidden", "value"), SUITE)
def test_value_secret_never_reaches_an_output_line(
    embedded: str, forbidden: tuple[str, ...], value: object
) -> None:
    before = copy.deepcopy(value)
    lines = _outputs(value)
    for line in lines:
        for needle in _needles(forbidden):
            assert needle not in line, f"{needle!r} survived in {line!r}"
    assert _same(value, before), "the input was changed"


FULL_WIDTH_KEY = SENSITIVE_KEYS[-1]

KEYED_SUITE = [
    # A full-width key inside JSON text is written as \uXXXX escapes; inside an exception's
    # message only the text scanner sees it, and it does not decode JSON escapes.
    pytest.param(
        key, value, not (key == FULL_WIDTH_KEY and where == "json_body"), id=f"{key}-{where}"
    )
    for key in SENSITIVE_KEYS
    for where, value in (
        ("top_level", {key: KEYED_SECRET}),
        ("nested", {"outer": {"inner": {key: KEYED_SECRET}}}),
        ("headers", {"headers": {key: KEYED_SECRET}}),
        ("multi_value_headers", {"multiValueHeaders": {key: ["a", KEYED_SECRET]}}),
        ("query_string", {"queryStringParameters": {key: KEYED_SECRET}}),
        ("json_body", {"body": json.dumps({"form": {key: KEYED_SECRET}})}),
        ("list_of_records", {"Records": [{"attributes": {key: KEYED_SECRET}}]}),
        ("container_value", {key: {"nested": [KEYED_SECRET, {"x": KEYED_SECRET}]}}),
        ("number_value", {key: 987654321987}),
    )
]


@pytest.mark.parametrize(("key", "value", "exception_text"), KEYED_SUITE)
def test_value_under_a_sensitive_key_never_reaches_an_output_line(
    key: str, value: object, exception_text: bool
) -> None:
    before = copy.deepcopy(value)
    for line in _outputs(value, exception_text=exception_text):
        assert KEYED_SECRET not in line, line
        assert "987654321987" not in line, line
    assert _same(value, before)


def _same(left: object, right: object) -> bool:
    if isinstance(left, _Shown) and isinstance(right, _Shown):
        return left.text == right.text
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_same(left[k], right[k]) for k in left)
    if isinstance(left, (list, tuple)) and isinstance(right, (list, tuple)):
        return (
            type(left) is type(right)
            and len(left) == len(right)
            and all(_same(a, b) for a, b in zip(left, right, strict=True))
        )
    return left == right


@pytest.mark.parametrize("key", SENSITIVE_KEYS)
def test_sensitive_key_spellings(key: str) -> None:
    assert Redactor().is_sensitive_key(key)


@pytest.mark.parametrize("key", NOT_SENSITIVE_KEYS)
def test_ordinary_keys_are_not_masked(key: str) -> None:
    assert not Redactor().is_sensitive_key(key)
    assert redact({key: "uploads/photo.jpg"}) == {key: "uploads/photo.jpg"}


def test_normalise_key_ignores_case_and_separators() -> None:
    assert {normalise_key(k) for k in ("API-Key", "apiKey", "api_key", "Api Key")} == {"apikey"}


NEAR_MISSES = [
    "uploads/2024/photo.jpg",
    "1583349317135",
    "4111 1111 1111 1112",  # fails the Luhn check
    "0a4d55a8d778e5022fab701977c5d840bbc486d0",  # a SHA-1, not an AWS secret key
    "123e4567-e89b-12d3-a456-426614174000",
    "arn:aws:iam::123456789012:role/orders-function",
    "AROA" + "EXAMPLEROLEID1234",  # a role's unique ID, not a credential
    "Basic authentication is deprecated",
    "https://user@example.com/path?x=1",
    "04/Mar/2020:19:15:17 +0000",
    "192.168.0.1/32",
    "jane.doe@example.com",  # e-mail masking is off by default
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)",
    "the token expired",
]


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_near_misses_survive(text: str) -> None:
    assert redact_text(text) == text
    assert redact({"note": text}) == {"note": text}


def test_numbers_are_kept_unless_they_are_card_numbers() -> None:
    event = {
        "requestTimeEpoch": 1583349317135,
        "count": 3,
        "ratio": 0.5,
        "card_like": 4111111111111111,
    }
    assert redact(event) == {
        "requestTimeEpoch": 1583349317135,
        "count": 3,
        "ratio": 0.5,
        "card_like": MASK,
    }


def test_emails_are_masked_when_asked() -> None:
    redactor = Redactor(emails=True)
    assert redactor.redact_text(f"mail {EMAIL} now") == f"mail {MASK} now"
    assert EMAIL not in json.dumps(redactor.redact({"to": [EMAIL]}))


def test_value_masks_keep_the_surroundings() -> None:
    assert redact_text(f"Authorization: Bearer {BEARER_TOKEN}") == f"Authorization: {MASK}"
    assert redact_text(f"call Bearer {BEARER_TOKEN} ok") == f"call Bearer {MASK} ok"
    assert redact_text(DB_URL) == f"postgres://app:{MASK}@db.internal:5432/orders"
    assert redact_text(f"?password={INLINE_PASSWORD}&page=2") == f"?password={MASK}&page=2"
    assert redact_text(f"card {CARD_SPACED} exp 12/30") == f"card {MASK} exp 12/30"
    assert redact_text("Cookie: theme=dark; sid=abc123") == f"Cookie: {MASK}"


def test_json_in_a_string_is_parsed_redacted_and_serialised_again() -> None:
    body = json.dumps({"user": "jane", "password": KEYED_SECRET, "items": [1, 2]})
    result = redact({"body": body})
    assert isinstance(result, dict)
    assert json.loads(result["body"]) == {"user": "jane", "password": MASK, "items": [1, 2]}


def test_whole_value_under_a_sensitive_key_is_masked_keeping_its_shape() -> None:
    value = {"headers": {"Cookie": ["a=1", "b=2"], "Authorization": None, "x-api-key": True}}
    assert redact(value) == {
        "headers": {"Cookie": [MASK, MASK], "Authorization": None, "x-api-key": True}
    }


def test_partial_mask_keeps_the_last_four_characters_of_long_secrets() -> None:
    redactor = Redactor(mask="partial")
    assert redactor.redact({"password": KEYED_SECRET}) == {"password": MASK + KEYED_SECRET[-4:]}
    assert redactor.redact({"password": "short"}) == {"password": MASK}
    assert redactor.redact_text(f"card {CARD_SPACED}") == f"card {MASK}1111"


def test_hmac_mask_is_a_stable_keyed_pseudonym() -> None:
    one = Redactor(mask="hmac", hmac_key=b"k1" * 16)
    other = Redactor(mask="hmac", hmac_key=b"k2" * 16)
    first = one.redact({"password": KEYED_SECRET})
    assert first == one.redact({"password": KEYED_SECRET})
    assert first != other.redact({"password": KEYED_SECRET})
    assert isinstance(first, dict)
    pseudonym = first["password"]
    assert isinstance(pseudonym, str)
    assert pseudonym.startswith("hmac:")
    assert len(pseudonym) == len("hmac:") + 16
    assert KEYED_SECRET not in pseudonym


def test_hmac_mask_needs_a_key() -> None:
    with pytest.raises(ValueError, match="hmac_key"):
        Redactor(mask="hmac")
    with pytest.raises(ValueError, match="mask must be"):
        Redactor(mask="blur")  # type: ignore[arg-type]


def test_extra_and_allowed_keys() -> None:
    redactor = Redactor(extra_keys=["customer_id"], allow_keys=["session_token_count"])
    assert redactor.redact({"CustomerId": "c-1", "session_token_count": 3, "token": "t"}) == {
        "CustomerId": MASK,
        "session_token_count": 3,
        "token": MASK,
    }


def test_depth_bound_replaces_deeper_containers_with_a_marker() -> None:
    redactor = Redactor(max_depth=3)
    value = {"a": {"b": {"c": {"d": KEYED_SECRET}}}}
    assert redactor.redact(value) == {"a": {"b": {"c": DEPTH_MARKER}}}
    assert redactor.redact({"a": {"b": {"c": "kept"}}}) == {"a": {"b": {"c": "kept"}}}


def test_depth_bound_applies_inside_json_strings() -> None:
    redactor = Redactor(max_depth=3)
    body = json.dumps({"b": {"c": {"d": "x"}}})
    assert redactor.redact({"body": body}) == {"body": json.dumps({"b": {"c": DEPTH_MARKER}})}


def test_deeply_nested_json_string_never_comes_back_raw() -> None:
    # Python < 3.13 stops parsing with RecursionError (the whole body becomes the marker);
    # later versions parse it and the walk cuts it at the depth bound.
    result = redact({"body": "[" * 5_000 + "]" * 5_000})
    assert isinstance(result, dict)
    body = result["body"]
    assert body == DEPTH_MARKER or (json.dumps(DEPTH_MARKER) in body and body.count("[") <= 16)
    assert redact({"body": "[" * 100_000 + "]" * 100_000}) == {"body": SIZE_MARKER}
    deep_object = '{"a":' * 50 + json.dumps(KEYED_SECRET) + "}" * 50
    assert KEYED_SECRET not in json.dumps(redact({"body": deep_object}))


def test_size_bound_replaces_what_is_left_with_a_marker() -> None:
    redactor = Redactor(max_size=100)
    assert redactor.redact("x" * 101) == SIZE_MARKER
    result = redactor.redact([f"{i:03d}-" + "y" * 20 for i in range(20)])
    assert isinstance(result, list)
    assert result[-1] == SIZE_MARKER
    assert result[:3] == [f"{i:03d}-" + "y" * 20 for i in range(3)]
    assert len(result) < 20
    many = redactor.redact({f"key{i}": i for i in range(500)})
    assert isinstance(many, dict)
    assert many[SIZE_MARKER] > 0
    assert len(many) < 500


def test_a_secret_past_the_size_bound_is_never_written() -> None:
    redactor = Redactor(max_size=64)
    value = {"padding": "p" * 60, "later": f"note {KEYED_SECRET}"}
    assert KEYED_SECRET not in json.dumps(redactor.redact(value))


def test_types_are_kept_and_unknown_objects_become_redacted_text() -> None:
    value = {
        "t": (1, "a"),
        "s": frozenset({"x"}),
        "b": b"plain bytes",
        "bad": b"\xff\xfe",
        "o": _Shown(f"password={INLINE_PASSWORD}"),
    }
    assert redact(value) == {
        "t": (1, "a"),
        "s": frozenset({"x"}),
        "b": "plain bytes",
        "bad": "[REDACTED: binary]",
        "o": f"password={MASK}",
    }


def test_the_result_shares_no_container_with_the_input() -> None:
    value = {"a": {"b": [1, 2, {"c": "d"}]}}
    result = redact(value)
    assert isinstance(result, dict)
    result["a"]["b"][2]["c"] = "changed"
    result["a"]["b"].append(3)
    assert value == {"a": {"b": [1, 2, {"c": "d"}]}}


def test_redacts_decorator_redacts_the_result() -> None:
    @redacts()
    def describe(user: str) -> dict[str, object]:
        return {"user": user, "password": KEYED_SECRET}

    assert describe("jane") == {"user": "jane", "password": MASK}
    assert describe.__name__ == "describe"


def test_real_events_come_back_unchanged_when_they_hold_no_secret(shared_dir: Path) -> None:
    """The AWS sample events carry no credentials, so redaction must not change them except
    where a key names a secret."""
    folder = shared_dir / "corpora" / "events" / "powertools-python"
    if not folder.is_dir():
        pytest.skip(f"{folder} not found")
    event = json.loads((folder / "apiGatewayProxyEvent.json").read_text(encoding="utf-8"))
    before = copy.deepcopy(event)
    assert redact(event) == event
    assert event == before


_secret_leaf = st.sampled_from([embedded for embedded, _ in VALUE_SECRETS.values()])
_plain_leaf = st.one_of(
    st.sampled_from(["GET", "/orders/42", "value1", "en-US", ""]),
    st.integers(-1000, 1000),
    st.none(),
    st.booleans(),
)
_keys = st.sampled_from(["a", "body", "headers", "items", "Records", "note", "password", "q"])


def _wrap_json(child: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.one_of(
        st.lists(child, max_size=4),
        st.dictionaries(_keys, child, max_size=4),
        st.dictionaries(_keys, child, max_size=3).map(json.dumps),
    )


_trees = st.recursive(st.one_of(_secret_leaf, _plain_leaf), _wrap_json, max_leaves=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_trees)
def test_property_no_secret_survives_anywhere(tree: object) -> None:
    before = copy.deepcopy(tree)
    out = json.dumps(redact(tree), default=str)
    for _, forbidden in VALUE_SECRETS.values():
        for needle in _needles(forbidden):
            assert needle not in out
    assert tree == before


def test_importing_redact_loads_no_regex_or_json_module() -> None:
    code = (
        "import sys\n"
        "import lambdashield.runtime\n"
        "before = set(sys.modules)\n"
        "import lambdashield.runtime.redact, lambdashield.runtime.audit_log,"
        " lambdashield.runtime.crypto\n"
        "print(' '.join(sorted(set(sys.modules) - before)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = set(done.stdout.split())
    mine = {
        "lambdashield.runtime.redact",
        "lambdashield.runtime.audit_log",
        "lambdashield.runtime.crypto",
    }
    assert loaded - mine == set(), f"imported at import time: {sorted(loaded - mine)}"
