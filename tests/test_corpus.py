"""The AWS managed-policy corpus: 1,523 real policies must hold up."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdashield.config import Config
from lambdashield.engine import scan
from lambdashield.model import ScanReport

# Entries AWS's own policies carry that IAM does not know today: API operation names
# written where IAM action names belong, and a typo. Everything else in the corpus
# (retired services included) is known, so any new LS-IAM-009 here is a real regression.
REALLY_UNKNOWN = {
    # ListBuckets/ListObjects/ListObjectsV2 are S3 API operations; IAM calls them
    # s3:ListAllMyBuckets and s3:ListBucket.
    ("AmazonLaunchWizardFullaccess.json", "s3:ListBuckets"),
    ("AmazonLaunchWizardFullaccess.json", "s3:ListObjects"),
    ("AmazonLaunchWizardFullaccess.json", "s3:ListObjectsV2"),
    # The IAM action is ssm:RemoveTagsFromResource.
    ("AmazonApplicationWizardFullaccess.json", "ssm:RemoveTagsToResource"),
}


@pytest.fixture(scope="module")
def corpus_report(shared_dir: Path) -> ScanReport:
    return scan([str(shared_dir / "corpora" / "aws-managed-policies")], Config())


def test_corpus_scans_cleanly(corpus_report: ScanReport) -> None:
    assert corpus_report.errors == ()
    assert corpus_report.files == 1523


def by_file(report: ScanReport, name: str) -> set[tuple[str, str]]:
    return {
        (f.rule.id, f.location.pointer) for f in report.findings if f.location.path.name == name
    }


def test_administrator_access(corpus_report: ScanReport) -> None:
    assert by_file(corpus_report, "AdministratorAccess.json") == {
        ("LS-IAM-001", "/Statement/0/Action")
    }


def test_power_user_is_admin_by_not_action(corpus_report: ScanReport) -> None:
    found = by_file(corpus_report, "PowerUserAccess.json")
    assert ("LS-IAM-001", "/Statement/0/NotAction") in found
    assert ("LS-IAM-008", "/Statement/0/NotAction") in found


def test_dynamodb_full_access(corpus_report: ScanReport) -> None:
    assert ("LS-IAM-002", "/Statement/0/Action/0") in by_file(
        corpus_report, "AmazonDynamoDBFullAccess.json"
    )


def test_only_really_unknown_actions(corpus_report: ScanReport) -> None:
    unknown = {
        (f.location.path.name, f.message.split("`")[1])
        for f in corpus_report.findings
        if f.rule.id == "LS-IAM-009"
    }
    assert unknown == REALLY_UNKNOWN
