"""JSON pointers to lines: exact spans, and the same answer whatever order pointers come in."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from lambdashield.loaders._json import JsonLines, escape_pointer

POLICY = """\
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "Read",
      "Effect": "Allow",
      "Action": [
        "s3:GetObject",
        "s3:ListBucket"
      ],
      "Resource": "*",
      "Condition": {"StringEquals": {"aws:SourceAccount": ["1", "2"]}}
    },
    {"Effect": "Deny", "Action": "iam:*", "Resource": ["a", 1, null, "b"]}
  ]
}
"""


def test_spans_of_a_policy() -> None:
    lines = JsonLines(POLICY)
    assert lines("") == (1, 16)
    assert lines("/Version") == (2, 2)
    assert lines("/Statement") == (3, 15)
    assert lines("/Statement/0") == (4, 13)
    assert lines("/Statement/0/Action") == (7, 10)
    assert lines("/Statement/0/Action/1") == (9, 9)
    assert lines("/Statement/0/Resource") == (11, 11)
    assert lines("/Statement/0/Condition/StringEquals/aws:SourceAccount/1") == (12, 12)
    assert lines("/Statement/1/Action") == (14, 14)
    assert lines("/Statement/1/Resource/3") == (14, 14)


def test_pointers_that_lead_nowhere() -> None:
    lines = JsonLines(POLICY)
    assert lines("/Statement/2") == (None, None)
    assert lines("/Statement/0/Action/2") == (None, None)
    assert lines("/Statement/0/Nope") == (None, None)
    assert lines("/Version/0") == (None, None)
    assert lines("/Statement/0/Action/1") == (9, 9)


def test_later_duplicate_keys_win_as_in_json_loads() -> None:
    text = '{\n"Action": "a",\n"Other": 1,\n"Action": "b"\n}'
    assert json.loads(text)["Action"] == "b"
    assert JsonLines(text)("/Action") == (4, 4)


def test_a_duplicate_key_written_with_escapes_still_wins() -> None:
    text = '{\n"Action": "a",\n"\\u0041ction": "b"\n}'
    assert json.loads(text)["Action"] == "b"
    assert JsonLines(text)("/Action") == (3, 3)


def test_escaped_pointer_tokens_and_a_byte_order_mark() -> None:
    text = '\ufeff{\n"a/b": {"~x": [\n"v"\n]}\n}'
    assert JsonLines(text)("/a~1b/~0x/0") == (3, 3)


def test_strings_with_escaped_quotes_and_commas() -> None:
    text = '[\n"a\\",b",\n"c\\\\",\n"d"\n]'
    lines = JsonLines(text)
    assert [lines(f"/{i}") for i in range(3)] == [(2, 2), (3, 3), (4, 4)]


def test_a_list_of_strings_then_other_values() -> None:
    text = '[\n"a",\n"b",\n{"c": 1},\n"d",\n[2]\n]'
    lines = JsonLines(text)
    assert [lines(f"/{i}") for i in range(5)] == [(2, 2), (3, 3), (4, 4), (5, 5), (6, 6)]
    assert lines("/2/c") == (4, 4)


# --- properties -----------------------------------------------------------------------

_leaf = st.one_of(st.integers(), st.booleans(), st.none(), st.text(max_size=5))
_json = st.recursive(
    _leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=4), inner, max_size=4),
    ),
    max_leaves=20,
)


def _pointers(value: Any, base: str = "") -> list[str]:
    found = [base]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _pointers(child, f"{base}/{escape_pointer(key)}")
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _pointers(child, f"{base}/{index}")
    return found


def _leaves(value: Any, base: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        return {
            k: v
            for key, child in value.items()
            for k, v in _leaves(child, f"{base}/{escape_pointer(key)}").items()
        }
    if isinstance(value, list):
        return {
            k: v for i, child in enumerate(value) for k, v in _leaves(child, f"{base}/{i}").items()
        }
    return {base: value}


@settings(max_examples=300, deadline=None)
@given(_json, st.sampled_from([None, 1, 2, 4]), st.randoms(use_true_random=False))
def test_any_order_of_pointers_gives_the_answers_of_fresh_readers(
    value: Any, indent: int | None, rng: Any
) -> None:
    text = json.dumps(value, indent=indent)
    pointers = _pointers(value)
    fresh = {p: JsonLines(text)(p) for p in pointers}
    shuffled = list(pointers)
    rng.shuffle(shuffled)
    shared = JsonLines(text)
    assert {p: shared(p) for p in shuffled} == fresh
    assert fresh[""] == (1, text.count("\n") + 1)


@settings(max_examples=300, deadline=None)
@given(_json)
def test_each_leaf_is_on_the_line_that_holds_it(value: Any) -> None:
    text = json.dumps(value, indent=2)
    lines = JsonLines(text)
    rows = text.split("\n")
    for pointer, leaf in _leaves(value).items():
        first, last = lines(pointer)
        assert first is not None and first == last
        assert json.dumps(leaf) in rows[first - 1]
