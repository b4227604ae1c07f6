"""Every rule against its fixtures: exactly the expected hits, and silence on near misses."""

from __future__ import annotations

import inspect
import json
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from lambdashield.checks import ALL_RULES, rule_by_id
from lambdashield.config import Config
from lambdashield.engine import scan
from lambdashield.loaders._yaml import load_yaml
from lambdashield.model import Finding, ScanReport

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rules"
RULE_IDS = [r.meta.id for r in ALL_RULES]
# The application rules need a clock and `public-routes`; test_application_rules.py runs
# their fixtures with both pinned. The fixture layout is checked for every rule below.
IAM_RULE_IDS = [rule_id for rule_id in RULE_IDS if rule_id.startswith("LS-IAM-")]
SUFFIXES = (".json", ".yaml")


def load(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return json.loads(text)
    return load_yaml(text, PurePosixPath(path.name)).data


def run(rule_id: str, path: Path) -> ScanReport:
    # Policy fixtures are checked as `policy check` would; templates as `scan` would.
    policy = path.suffix == ".json" and "Statement" in load(path)
    return scan([str(path)], Config(select=(rule_id,), policies_only=policy))


def fixture(folder: Path, stem: str) -> Path:
    found = [
        folder / f"{stem}{suffix}" for suffix in SUFFIXES if (folder / f"{stem}{suffix}").is_file()
    ]
    assert len(found) == 1, f"{folder.name} needs exactly one {stem}.json or {stem}.yaml"
    return found[0]


def hits(report: ScanReport) -> set[tuple[str, str]]:
    return {(f.rule.id, f.location.pointer) for f in report.findings}


def resolve(document: Any, pointer: str) -> Any:
    """The value a JSON pointer names; `KeyError`/`IndexError` when it names nothing."""
    value = document
    for token in pointer.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        value = value[int(token)] if isinstance(value, list) else value[token]
    return value


@pytest.mark.parametrize("rule_id", IAM_RULE_IDS)
def test_rule_fixtures(rule_id: str) -> None:
    folder = FIXTURES / rule_id
    positive = fixture(folder, "positive")
    negative = fixture(folder, "negative")
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    assert isinstance(expected, list) and expected, "expected.json must list pointers"
    assert len(set(expected)) == len(expected), "expected.json lists a pointer twice"
    document = load(positive)
    for pointer in expected:
        resolve(document, pointer)  # a typo in expected.json fails here, not as a mismatch

    report = run(rule_id, positive)
    assert report.errors == ()
    assert hits(report) == {(rule_id, pointer) for pointer in expected}

    near_misses = sorted(p for p in folder.glob("negative*") if p.suffix in SUFFIXES)
    assert negative in near_misses
    for path in near_misses:
        report = run(rule_id, path)
        assert report.errors == (), path.name
        fired = [(f.location.pointer, f.message) for f in report.findings]
        assert fired == [], f"{rule_id} fired on a near miss in {path.name}"


def test_every_rule_has_fixtures_and_every_fixture_a_rule() -> None:
    folders = {p.name for p in FIXTURES.iterdir() if p.is_dir()}
    assert sorted(folders - set(RULE_IDS)) == [], "fixture directories without a rule"
    assert sorted(set(RULE_IDS) - folders) == [], "rules without fixtures"
    for folder in sorted(FIXTURES.iterdir()):
        if folder.is_dir():
            stray = [
                p.name
                for p in folder.iterdir()
                # Dependency rules keep real project folders as their fixtures.
                if not (p.is_dir() and p.name in ("positive", "negative"))
                and (
                    p.suffix not in SUFFIXES
                    or not (p.stem in ("positive", "negative", "expected") or p.match("negative-*"))
                )
            ]
            assert stray == [], f"{folder.name}: unexpected fixture files"


def test_rule_ids_are_unique() -> None:
    assert len(set(RULE_IDS)) == len(RULE_IDS)
    assert sorted(RULE_IDS) == RULE_IDS
    assert all(
        rule_by_id(rule_id.lower()) is r for rule_id, r in zip(RULE_IDS, ALL_RULES, strict=True)
    )


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_docstring_has_summary_why_and_fix(rule_id: str) -> None:
    found = rule_by_id(rule_id)
    assert found is not None
    doc = inspect.getdoc(found.check) or ""
    assert "\n## Why it matters\n" in doc
    assert "\n## Fix\n" in doc
    meta = found.meta
    assert meta.summary and not meta.summary.startswith("#")
    assert meta.why and meta.fix
    assert "##" not in meta.summary + meta.why + meta.fix


# Statements that trip a rule, and a condition that narrows who can use them.
_SOURCE_ACCOUNT = {"StringEquals": {"aws:SourceAccount": "123456789012"}}
_SOURCE_ARN = {
    "ArnLike": {"aws:SourceArn": "arn:aws:lambda:us-east-1:123456789012:function:orders-*"}
}
LOWERED = [
    ("LS-IAM-001", {"Action": "*", "Resource": "*"}, _SOURCE_ACCOUNT),
    (
        "LS-IAM-002",
        {
            "Action": "dynamodb:*",
            "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/Orders",
        },
        _SOURCE_ARN,
    ),
    ("LS-IAM-003", {"Action": "dynamodb:PutItem", "Resource": "*"}, _SOURCE_ACCOUNT),
    ("LS-IAM-005", {"Action": "s3:GetObject", "Resource": "*"}, _SOURCE_ARN),
    ("LS-IAM-006", {"Action": "sts:AssumeRole", "Resource": "*"}, _SOURCE_ACCOUNT),
    ("LS-IAM-007", {"Action": "s3:PutBucketPolicy", "Resource": "*"}, _SOURCE_ARN),
]


def scan_statement(tmp_path: Path, rule_id: str, statement: dict[str, Any]) -> list[Finding]:
    path = tmp_path / "policy.json"
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", **statement}]}
    path.write_text(json.dumps(policy, indent=2), encoding="utf-8")
    report = run(rule_id, path)
    assert report.errors == ()
    return list(report.findings)


@pytest.mark.parametrize(("rule_id", "statement", "condition"), LOWERED)
def test_restricting_condition_lowers_severity(
    tmp_path: Path, rule_id: str, statement: dict[str, Any], condition: dict[str, Any]
) -> None:
    found = rule_by_id(rule_id)
    assert found is not None
    (plain,) = scan_statement(tmp_path, rule_id, statement)
    assert plain.severity is found.meta.severity
    assert "severity lowered" not in plain.message

    (restricted,) = scan_statement(tmp_path, rule_id, {**statement, "Condition": condition})
    assert restricted.severity is found.meta.severity.lowered()
    assert restricted.severity.rank == found.meta.severity.rank - 1
    (key,) = next(iter(condition.values()))
    assert "severity lowered" in restricted.message
    assert f"restricted by the condition `{key}`" in restricted.message


@pytest.mark.parametrize(
    "condition",
    [
        {"StringNotEquals": {"aws:SourceAccount": "123456789012"}},
        {"StringEqualsIfExists": {"aws:SourceAccount": "123456789012"}},
        {"StringLike": {"aws:SourceArn": "*"}},
        {"StringEquals": {"aws:RequestedRegion": "us-east-1"}},
    ],
    ids=["negated", "if-exists", "any-value", "not-a-restricting-key"],
)
def test_loose_condition_keeps_severity(tmp_path: Path, condition: dict[str, Any]) -> None:
    statement = {"Action": "s3:GetObject", "Resource": "*", "Condition": condition}
    (finding,) = scan_statement(tmp_path, "LS-IAM-005", statement)
    assert finding.severity is finding.rule.severity
    assert "severity lowered" not in finding.message


def test_deny_with_not_resource_does_not_cancel_allows(tmp_path: Path) -> None:
    """`Deny` + `NotResource` leaves the excluded resources allowed, so the grant stands."""
    policy = tmp_path / "p.json"
    policy.write_text(
        json.dumps(
            {
                "Statement": [
                    {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*"},
                    {
                        "Effect": "Deny",
                        "Action": "secretsmanager:GetSecretValue",
                        "NotResource": "arn:aws:secretsmanager:*:*:secret:orders/*",
                    },
                ]
            }
        ),
        encoding="utf-8",
    )
    assert hits(run("LS-IAM-005", policy)) == {("LS-IAM-005", "/Statement/0/Action")}


def test_unconditional_deny_on_everything_cancels_allows(tmp_path: Path) -> None:
    policy = tmp_path / "p.json"
    policy.write_text(
        json.dumps(
            {
                "Statement": [
                    {"Effect": "Allow", "Action": "secretsmanager:*", "Resource": "*"},
                    {
                        "Effect": "Deny",
                        "Action": ["secretsmanager:Get*", "secretsmanager:BatchGet*"],
                        "Resource": "*",
                    },
                ]
            }
        ),
        encoding="utf-8",
    )
    assert hits(run("LS-IAM-005", policy)) == set()
