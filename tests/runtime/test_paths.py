"""Traversal, absolute and control-character tests in every spelling a key can take."""

from __future__ import annotations

import pytest

from lambdashield.runtime import _paths


def inspect(raw: str, *, plus_is_space: bool = True) -> set[str]:
    """What is wrong with `raw` in any of its decodings."""
    try:
        _, layers = _paths.decode_layers(raw, plus_is_space=plus_is_space)
    except _paths.BadEncoding:
        return {"encoding"}
    found = set()
    for layer in layers:
        if _paths.has_traversal(layer):
            found.add("traversal")
        if _paths.is_absolute(layer):
            found.add("absolute")
        if _paths.has_control(layer):
            found.add("control")
    return found


@pytest.mark.parametrize(
    "key",
    [
        "../secret",
        "a/../../secret",
        "a/..",
        "..",
        "%2e%2e/secret",
        "%2E%2E%2Fsecret",
        "a%2f..%2fb",
        "%252e%252e%252fsecret",
        "%25252e%25252e/secret",
        "..%5csecret",
        "a\\..\\b",
        "%u002e%u002e/secret",
        "\uff0e\uff0e\uff0fsecret",
        "%EF%BC%8E%EF%BC%8E%EF%BC%8Fsecret",
        "\u2025/secret",
        "..\u2215secret",
        "..\u2044secret",
        "\uff0e\uff0e\uff3csecret",
        "\ufe52\ufe52/secret",
        "...",
        ".. /secret",
        "+..+/secret",
    ],
)
def test_traversal_in_every_spelling(key: str) -> None:
    assert "traversal" in inspect(key)


@pytest.mark.parametrize(
    "key",
    ["/etc/passwd", "%2Fetc%2Fpasswd", "\\\\server\\share", "C:%5Cwindows", "c:/x", "\uff0fetc"],
)
def test_absolute_keys(key: str) -> None:
    assert "absolute" in inspect(key)


@pytest.mark.parametrize(
    "key",
    [
        "a\x00.jpg",
        "a%00.jpg",
        "a%0d%0aSet-Cookie",
        "invoice\u202efdp.exe",
        "a%E2%80%AEb",
        "\x7f",
        "a\u2028b",
    ],
)
def test_control_and_bidi_characters(key: str) -> None:
    assert "control" in inspect(key)


@pytest.mark.parametrize(
    "key",
    ["%c0%ae%c0%ae/secret", "%e0%80%ae", "%ff", "%ed%a0%80", "\ud800", "%80"],
)
def test_overlong_and_invalid_utf8_is_a_bad_encoding(key: str) -> None:
    assert inspect(key) == {"encoding"}


@pytest.mark.parametrize(
    "key",
    [
        "test/key",
        "Happy%20Face.jpg",
        "a.b.c/d.e",
        "dir/.hidden",
        "./a",
        "reports/2024..2025.csv",
        "100%25.txt",
        "caf%C3%A9.jpg",
        "\u00e9t\u00e9/photo.jpg",
        "emoji/\U0001f468\u200d\U0001f469\u200d\U0001f467.png",
        "%zz-not-an-escape",
        "a+b",
        "",
    ],
)
def test_ordinary_keys_pass(key: str) -> None:
    assert inspect(key) == set()


def test_plus_is_a_space_only_in_keys() -> None:
    assert _paths.percent_decode("a+b%2B", plus_is_space=True) == "a b+"
    assert _paths.percent_decode("a+b%2B", plus_is_space=False) == "a+b+"


def test_decoding_depth_is_bounded() -> None:
    deep = "%" + "25" * 50 + "2e"
    _, layers = _paths.decode_layers(deep, plus_is_space=False)
    assert len(layers) <= 5
