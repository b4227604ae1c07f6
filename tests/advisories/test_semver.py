"""npm version ordering and ranges, against the SemVer spec's and npm's documented examples."""

from __future__ import annotations

import itertools

import pytest

from lambdashield.advisories import semver

# semver.org, section 11: each sorts before the next.
PRECEDENCE = [
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-alpha.beta",
    "1.0.0-beta",
    "1.0.0-beta.2",
    "1.0.0-beta.11",
    "1.0.0-rc.1",
    "1.0.0",
    "2.0.0",
    "2.1.0",
    "2.1.1",
]


@pytest.mark.parametrize(("lower", "higher"), list(itertools.combinations(PRECEDENCE, 2)))
def test_spec_precedence(lower: str, higher: str) -> None:
    assert semver.parse(lower) < semver.parse(higher)
    assert semver.parse(higher) > semver.parse(lower)
    assert semver.parse(lower) != semver.parse(higher)


def test_sorting_the_spec_examples_gives_the_spec_order() -> None:
    shuffled = sorted(PRECEDENCE, key=lambda v: (len(v), v[::-1]))
    assert [str(v) for v in sorted(semver.parse(v) for v in shuffled)] == PRECEDENCE


def test_build_metadata_does_not_count() -> None:
    assert semver.parse("1.0.0+20130313144700") == semver.parse("1.0.0+exp.sha.5114f85")
    assert semver.parse("1.0.0-beta+exp.sha.5114f85") < semver.parse("1.0.0")
    assert hash(semver.parse("1.0.0+a")) == hash(semver.parse("1.0.0"))


def test_numeric_identifiers_compare_numerically_and_below_alphanumerics() -> None:
    assert semver.parse("1.0.0-2") < semver.parse("1.0.0-10")
    assert semver.parse("1.0.0-10") < semver.parse("1.0.0-a")
    assert semver.parse("1.0.0-a.b") < semver.parse("1.0.0-a.b.c")


@pytest.mark.parametrize(
    "text",
    ["1.0", "01.0.0", "1.0.0-01", "1.0.0-", "1.0.0+", "v1.0.0", "1.0.0-beta..1", "", "a.b.c"],
)
def test_invalid_versions(text: str) -> None:
    with pytest.raises(semver.InvalidVersion):
        semver.parse(text)


def test_loose_parse_accepts_npm_prefixes() -> None:
    assert semver.parse_loose("v1.2.3") == semver.parse("1.2.3")
    assert semver.parse_loose("=1.2.3") == semver.parse("1.2.3")


# npm's documented desugarings: range -> the comparators it means.
DESUGARED = [
    ("1.2.3 - 2.3.4", ">=1.2.3 <=2.3.4"),
    ("1.2 - 2.3.4", ">=1.2.0 <=2.3.4"),
    ("1.2.3 - 2.3", ">=1.2.3 <2.4.0-0"),
    ("1.2.3 - 2", ">=1.2.3 <3.0.0-0"),
    ("*", "*"),
    ("", "*"),
    ("1.x", ">=1.0.0 <2.0.0-0"),
    ("1.2.x", ">=1.2.0 <1.3.0-0"),
    ("1", ">=1.0.0 <2.0.0-0"),
    ("1.2", ">=1.2.0 <1.3.0-0"),
    ("~1.2.3", ">=1.2.3 <1.3.0-0"),
    ("~1.2", ">=1.2.0 <1.3.0-0"),
    ("~1", ">=1.0.0 <2.0.0-0"),
    ("~0.2.3", ">=0.2.3 <0.3.0-0"),
    ("~1.2.3-beta.2", ">=1.2.3-beta.2 <1.3.0-0"),
    ("^1.2.3", ">=1.2.3 <2.0.0-0"),
    ("^0.2.3", ">=0.2.3 <0.3.0-0"),
    ("^0.0.3", ">=0.0.3 <0.0.4-0"),
    ("^1.2.3-beta.2", ">=1.2.3-beta.2 <2.0.0-0"),
    ("^1.2.x", ">=1.2.0 <2.0.0-0"),
    ("^0.0.x", ">=0.0.0 <0.1.0-0"),
    ("^0.0", ">=0.0.0 <0.1.0-0"),
    ("^1.x", ">=1.0.0 <2.0.0-0"),
    ("^0.x", ">=0.0.0 <1.0.0-0"),
    (">1", ">=2.0.0"),
    (">1.2", ">=1.3.0"),
    ("<1.2", "<1.2.0-0"),
    ("<=1.2", "<1.3.0-0"),
    (">= 1.2.3 < 2", ">=1.2.3 <2.0.0-0"),
    ("1.2.7 || >=1.2.9 <2.0.0", "1.2.7 || >=1.2.9 <2.0.0"),
]


@pytest.mark.parametrize(("text", "meaning"), DESUGARED)
def test_range_desugaring(text: str, meaning: str) -> None:
    assert str(semver.parse_range(text)) == meaning


# (range, version, satisfied) from npm's documentation and its prerelease rule.
SATISFIES = [
    (">1.2.3-alpha.3", "1.2.3-alpha.7", True),
    (">1.2.3-alpha.3", "3.4.5-alpha.9", False),
    (">1.2.3-alpha.3", "3.4.5", True),
    ("^1.2.3", "1.5.0-beta", False),
    ("^1.2.3", "2.0.0-beta", False),
    ("^1.2.3", "1.9.9", True),
    ("^1.2.3", "2.0.0", False),
    ("^1.2.3-beta.2", "1.2.3-beta.4", True),
    ("^1.2.3-beta.2", "1.2.4-beta.2", False),
    ("~1.2.3", "1.2.9", True),
    ("~1.2.3", "1.3.0", False),
    ("1.2.7 || >=1.2.9 <2.0.0", "1.2.7", True),
    ("1.2.7 || >=1.2.9 <2.0.0", "1.2.8", False),
    ("1.2.7 || >=1.2.9 <2.0.0", "1.4.6", True),
    ("1.2.7 || >=1.2.9 <2.0.0", "2.0.0", False),
    ("*", "0.0.1", True),
    ("*", "1.0.0-rc.1", False),
    ("<*", "1.0.0", False),
    ("1.2.3 - 2.3", "2.3.99", True),
]


@pytest.mark.parametrize(("text", "version", "expected"), SATISFIES)
def test_satisfies(text: str, version: str, expected: bool) -> None:
    assert semver.parse_range(text).satisfied_by(semver.parse(version)) is expected


def test_include_prerelease_admits_prereleases_in_range() -> None:
    rng = semver.parse_range("^1.2.3")
    assert rng.satisfied_by(semver.parse("1.5.0-beta"), include_prerelease=True)


@pytest.mark.parametrize("text", ["latest", "next", "git+https://x/y.git", "file:../lib", ">>1"])
def test_not_ranges(text: str) -> None:
    with pytest.raises(semver.InvalidRange):
        semver.parse_range(text)
