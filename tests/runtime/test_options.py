"""Option types: frozen, normalised, and refusing values that cannot work."""

from __future__ import annotations

import pytest

from lambdashield.runtime import (
    DEFAULT_METHODS,
    BatchOptions,
    HttpOptions,
    RuntimeConfigError,
    S3Options,
)


def test_defaults() -> None:
    http = HttpOptions()
    assert http.methods == DEFAULT_METHODS
    assert "TRACE" not in DEFAULT_METHODS
    assert http.json_body is None
    assert S3Options().check_keys
    assert BatchOptions().source_arns is None


def test_options_are_frozen() -> None:
    options = HttpOptions()
    with pytest.raises(AttributeError):
        options.max_headers = 1  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del options.max_headers
    with pytest.raises(AttributeError):
        S3Options().buckets = frozenset()  # type: ignore[misc]


def test_values_are_normalised() -> None:
    assert HttpOptions(methods=["get", "Post"]).methods == {"GET", "POST"}
    assert HttpOptions(content_types=["Application/JSON; charset=utf-8"]).content_types == {
        "application/json"
    }
    assert S3Options(extensions=["JPG", ".png"]).extensions == {".jpg", ".png"}
    assert BatchOptions(body_schema={"type": "object"}).json_body


def test_equality_and_repr() -> None:
    assert HttpOptions(max_headers=5) == HttpOptions(max_headers=5)
    assert HttpOptions(max_headers=5) != HttpOptions(max_headers=6)
    assert hash(S3Options(buckets={"b"})) == hash(S3Options(buckets={"b"}))
    assert "max_headers=5" in repr(HttpOptions(max_headers=5))
    assert "_schema_validator" not in repr(HttpOptions())


@pytest.mark.parametrize(
    "build",
    [
        lambda: HttpOptions(max_headers=-1),
        lambda: HttpOptions(max_body_bytes=True),
        lambda: HttpOptions(max_body_bytes="1MB"),  # type: ignore[arg-type]
        lambda: HttpOptions(methods="GET"),
        lambda: HttpOptions(methods=[""]),
        lambda: HttpOptions(json_schema=[]),  # type: ignore[arg-type]
        lambda: S3Options(buckets=[1]),  # type: ignore[list-item]
        lambda: S3Options(max_object_bytes=-5),
        lambda: BatchOptions(max_records=-1),
    ],
)
def test_impossible_values_are_refused(build: object) -> None:
    with pytest.raises(RuntimeConfigError):
        build()  # type: ignore[operator]


def test_bad_path_pattern_is_a_config_error() -> None:
    options = HttpOptions(path_pattern="([")
    with pytest.raises(RuntimeConfigError):
        options.path_matcher()


def test_path_pattern_is_compiled_once() -> None:
    options = HttpOptions(path_pattern=r"/orders/\d+")
    matcher = options.path_matcher()
    assert matcher is options.path_matcher()
    assert matcher is not None
    assert matcher("/orders/12")
    assert not matcher("/orders/12/x")
