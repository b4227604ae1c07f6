"""The risk data names real IAM actions, and the catalogue answers what the rules ask it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import lambdashield.checks
from lambdashield.iam_catalogue import AccessLevel, Catalogue, Lookup, default_catalogue, wildcard

RISK_FILE = Path(lambdashield.checks.__file__).with_name("data") / "iam_risky_actions.json"


def risky_action_names() -> list[str]:
    raw = json.loads(RISK_FILE.read_text(encoding="utf-8"))
    names = {a for method in raw["privilege_escalation"] for a in method["actions"]}
    for group in ("exfiltration", "credentials_exposure", "resource_exposure"):
        names.update(raw[group])
    return sorted(names)


@pytest.mark.parametrize("name", risky_action_names())
def test_risky_action_is_in_catalogue(name: str) -> None:
    catalogue = default_catalogue()
    assert catalogue.lookup(name) is Lookup.KNOWN
    action = catalogue.action(name)
    assert action is not None
    assert action.full_name == name, "spell it as AWS does: messages quote the data file"


def test_risk_data_has_no_duplicates() -> None:
    raw = json.loads(RISK_FILE.read_text(encoding="utf-8"))
    for group in ("exfiltration", "credentials_exposure", "resource_exposure"):
        assert len(set(raw[group])) == len(raw[group]), group
    methods = [m["name"] for m in raw["privilege_escalation"]]
    assert len(set(methods)) == len(methods)


def names(patterns: str) -> set[str]:
    return {a.full_name for a in default_catalogue().expand(patterns)}


def test_star_expands_within_one_service() -> None:
    found = names("s3:Get*")
    assert "s3:GetObject" in found
    assert "s3:PutObject" not in found
    assert all(n.startswith("s3:Get") for n in found)


def test_question_mark_is_exactly_one_character() -> None:
    assert names("s3:?etObject") == {"s3:GetObject"}
    assert "s3:GetObject" in names("s3:GetObjec?")
    assert "s3:GetObject" not in names("s3:GetObject?")
    assert default_catalogue().lookup("s3:GetObj?ct") is Lookup.KNOWN


def test_names_are_case_insensitive() -> None:
    catalogue = default_catalogue()
    assert catalogue.lookup("S3:getobject") is Lookup.KNOWN
    action = catalogue.action("S3:getobject")
    assert action is not None
    assert action.full_name == "s3:GetObject"
    assert names("S3:GET*") == names("s3:Get*")


def test_complement_is_what_not_action_grants() -> None:
    granted = {a.full_name for a in default_catalogue().complement(["iam:*"])}
    assert not any(n.startswith("iam:") for n in granted)
    assert "s3:GetObject" in granted
    assert "sts:AssumeRole" in granted


def test_catalogue_reads_only_the_services_asked_about() -> None:
    catalogue = Catalogue()
    assert catalogue.loaded_services == frozenset()
    catalogue.expand("dynamodb:GetItem")
    catalogue.expand("s3:GetObject")
    catalogue.expand("sqs:SendMessage")
    assert catalogue.loaded_services == {"dynamodb", "s3", "sqs"}
    catalogue.lookup("S3:PutObject")
    catalogue.lookup("dynamodbb:GetItem")
    assert catalogue.loaded_services == {"dynamodb", "s3", "sqs"}


def test_access_levels() -> None:
    action = default_catalogue().action("iam:AttachRolePolicy")
    assert action is not None
    assert AccessLevel.PERMISSIONS_MANAGEMENT in action.access_levels


def test_actions_that_only_take_star_are_not_scopable() -> None:
    catalogue = default_catalogue()
    only_star = catalogue.action("s3:ListAllMyBuckets")
    scoped = catalogue.action("s3:GetObject")
    assert only_star is not None and scoped is not None
    assert not only_star.scopable
    assert scoped.scopable
    assert "object" in scoped.resource_types


@pytest.mark.parametrize(
    "name", ["codestar:ListProjects", "elastic-inference:Connect", "cloudhsm:DescribeHapg"]
)
def test_retired_names(name: str) -> None:
    assert default_catalogue().lookup(name) is Lookup.RETIRED


@pytest.mark.parametrize(
    ("name", "lookup", "suggestion"),
    [
        ("dynamodbb:GetItem", Lookup.UNKNOWN_SERVICE, "dynamodb:GetItem"),
        ("dynamodb:GetItm", Lookup.UNKNOWN_ACTION, "dynamodb:GetItem"),
        ("iam:ListRolePolicys", Lookup.UNKNOWN_ACTION, "iam:ListRolePolicies"),
        ("s3:Gett*", Lookup.UNKNOWN_ACTION, None),
    ],
)
def test_misspelt_names_and_suggestions(name: str, lookup: Lookup, suggestion: str | None) -> None:
    catalogue = default_catalogue()
    assert catalogue.lookup(name) is lookup
    assert catalogue.suggest(name) == suggestion


def test_api_operation_names_suggest_the_iam_action() -> None:
    catalogue = default_catalogue()
    assert catalogue.lookup("s3:ListObjectsV2") is Lookup.UNKNOWN_ACTION
    assert catalogue.suggest("s3:ListObjectsV2") == "s3:ListBucket"
    assert catalogue.suggest("S3:ListBuckets") == "s3:ListAllMyBuckets"


def _linear(catalogue: Catalogue, pattern: str) -> list[str]:
    """What a pattern of one service matches, by testing every name: the reference."""
    service, _, action = pattern.lower().partition(":")
    regex = wildcard(action)
    return [
        a.full_name for a in catalogue.expand(f"{service}:*") if regex.fullmatch(a.name.lower())
    ]


@pytest.mark.parametrize("service", ["ec2", "s3", "iam", "dynamodb", "lambda", "a4b", "sqs"])
def test_prefix_patterns_match_what_a_test_of_every_name_does(service: str) -> None:
    catalogue = default_catalogue()
    names = [a.name for a in catalogue.expand(f"{service}:*")]
    heads = {n[:k] for n in names for k in (1, 3, 6, len(n))} | {"zzz", "Get", "getobjectv"}
    for head in sorted(heads):
        for pattern in (f"{service}:{head}*", f"{service}:*{head}", f"{service}:{head}?*"):
            expected = _linear(catalogue, pattern)
            assert [a.full_name for a in catalogue.expand(pattern)] == expected, pattern
            assert catalogue.count(pattern) == len(expected), pattern
            known = catalogue.lookup(pattern) is Lookup.KNOWN
            assert known == bool(expected), pattern


@pytest.mark.parametrize(
    "excluded",
    [
        ("iam:*",),
        ("iam:*", "organizations:*", "account:*"),
        ("s3:Get*", "s3:List*", "s3:GetObject"),
        ("ec2:Describe*", "nosuchservice:*", "iam:NoSuchAction"),
        ("IAM:Create*", "sts:AssumeRole"),
        ("*:Get*",),
        ("*",),
    ],
)
def test_complement_count_is_the_complement_built(excluded: tuple[str, ...]) -> None:
    catalogue = default_catalogue()
    assert catalogue.count_complement(excluded) == len(catalogue.complement(excluded))
