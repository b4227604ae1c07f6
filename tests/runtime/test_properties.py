"""Property-based: validation raises nothing but its own error, whatever it is given, and a
key it accepts cannot climb out of its prefix once decoded."""

from __future__ import annotations

import contextlib
import copy
import json
import unicodedata
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambdashield.runtime import EventValidationError, S3Event, detect, validate

BASES = (
    "powertools-python/apiGatewayProxyEvent.json",
    "powertools-python/apiGatewayProxyV2Event.json",
    "powertools-python/albMultiValueHeadersEvent.json",
    "powertools-python/s3Event.json",
    "powertools-python/s3SqsEvent.json",
    "powertools-python/sqsEvent.json",
    "powertools-python/kinesisStreamEvent.json",
    "powertools-python/dynamoStreamEvent.json",
    "powertools-python/snsEvent.json",
    "powertools-python/eventBridgeEvent.json",
    "powertools-python/kafkaEventMsk.json",
    "powertools-python/cognitoPreSignUpEvent.json",
    "powertools-python/s3BatchOperationEventSchemaV1.json",
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.sampled_from(["..", "%2e%2e/", "/etc", "\x00", "aws:s3", "e30=", "{}", "[[["]),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)

key_text = st.text(
    alphabet=st.sampled_from([*"ab./\\%+25ecfCF0A", "\uff0e", "\uff0f", "\u2025", "\x00"]),
    max_size=24,
)


def load(shared_dir: Path, name: str) -> Any:
    return json.loads((shared_dir / "corpora" / "events" / name).read_text(encoding="utf-8"))


def pointers(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found.extend(pointers(child, (*prefix, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found.extend(pointers(child, (*prefix, index)))
    return found


def replaced(event: Any, pointer: tuple[Any, ...], value: Any) -> Any:
    if not pointer:
        return value
    changed = copy.deepcopy(event)
    node = changed
    for part in pointer[:-1]:
        node = node[part]
    node[pointer[-1]] = value
    return changed


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(base=st.sampled_from(BASES), choice=st.integers(min_value=0), value=json_values)
def test_only_validation_errors_escape(
    shared_dir: Path, base: str, choice: int, value: object
) -> None:
    event = load(shared_dir, base)
    places = pointers(event)
    mutated = replaced(event, places[choice % len(places)], value)
    before = copy.deepcopy(mutated)
    with contextlib.suppress(EventValidationError):
        validate(mutated)
    assert mutated == before
    assert isinstance(detect(mutated), str)


def climbs(key: str) -> bool:
    folded = unicodedata.normalize("NFKC", key).replace("\\", "/")
    return any(
        segment.strip() and not segment.strip(". ")
        for segment in folded.split("/")
        if segment.count(".") >= 2
    )


@settings(max_examples=500, deadline=None)
@given(raw_key=key_text)
def test_an_accepted_key_never_climbs(shared_dir: Path, raw_key: str) -> None:
    event = load(shared_dir, "powertools-python/s3Event.json")
    event["Records"][0]["s3"]["object"]["key"] = raw_key
    try:
        view = validate(event)
    except EventValidationError:
        return
    assert isinstance(view, S3Event)
    key = view.records[0].key
    assert not climbs(key)
    assert not key.startswith(("/", "\\"))
    assert "\x00" not in key
