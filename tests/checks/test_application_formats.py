"""The entry-point and failure rules on Serverless and Terraform inputs, end to end.

The per-rule fixtures (`tests/fixtures/rules/`) are SAM and CloudFormation; these scan
`tests/fixtures/serverless/delivery/` and `tests/fixtures/terraform/delivery/`, where the
same features are written the other two ways, and compare every finding exactly.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdashield.config import Config
from lambdashield.engine import scan

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
RULES = ("LS-FN-003", "LS-API-001", "LS-API-002", "LS-API-003", "LS-API-005")


def findings(case: str) -> set[tuple[str, str, str, str]]:
    report = scan([str(FIXTURES / case)], Config(select=RULES))
    assert report.errors == ()
    return {(f.rule.id, f.resource, f.location.pointer, f.severity.label) for f in report.findings}


def test_serverless() -> None:
    assert findings("serverless/delivery") == {
        # `http: {async: true}` is an asynchronous trigger, and `submit` has no destination.
        ("LS-FN-003", "submit", "/functions/submit", "low"),
        # SNS and EventBridge dead-letter queues keep undelivered events only.
        ("LS-FN-003", "notify", "/functions/notify", "low"),
        # `endpointType: PRIVATE`: reported one severity lower (twice lower is never done).
        ("LS-API-002", "submit", "/functions/submit/events/0/http", "medium"),
        ("LS-API-002", "submit", "/functions/submit/events/1/http", "medium"),
        # The bucket Serverless generates for the `s3` event, made public in `resources`.
        (
            "LS-API-005",
            "S3BucketIntakepublicdrop",
            "/resources/Resources/S3BucketIntakepublicdrop",
            "high",
        ),
        # Not reported: `archive` (`destinations.onFailure`), `report` (an
        # `EventInvokeConfig` in `resources`), the `PrincipalOrgID` permission, and the
        # `existing: true` bucket whose public policy `RestrictPublicBuckets` confines.
    }


def test_terraform() -> None:
    assert findings("terraform/delivery") == {
        ("LS-FN-003", "aws_lambda_function.notify", "/resource/aws_lambda_function/notify", "low"),
        # An integration with `X-Amz-Invocation-Type: 'Event'` and two S3 notifications.
        ("LS-FN-003", "aws_lambda_function.jobs", "/resource/aws_lambda_function/jobs", "low"),
        # The URL is reported once: its `function_url_auth_type = "NONE"` permission is not.
        (
            "LS-API-001",
            "aws_lambda_function.webhook",
            "/resource/aws_lambda_function_url/webhook/authorization_type",
            "high",
        ),
        (
            "LS-API-002",
            "aws_lambda_function.jobs",
            "/resource/aws_api_gateway_method/post_jobs/authorization",
            "medium",
        ),
        # Public by its policy (reported once, at the statement, not also as an ACL).
        (
            "LS-API-005",
            "aws_s3_bucket.drop",
            "/resource/aws_s3_bucket_policy/drop/policy/Statement/0/Principal",
            "high",
        ),
        # Not reported: the `principal_org_id` permission, and `landing`, whose public ACL
        # `ignore_public_acls` voids.
    }


@pytest.mark.parametrize("case", ["serverless/delivery", "terraform/delivery"])
def test_dead_letter_queues_of_triggers_are_named(case: str) -> None:
    report = scan([str(FIXTURES / case)], Config(select=("LS-FN-003",)))
    (notify,) = [f for f in report.findings if "notify" in f.resource]
    assert "keeps only events that could not be delivered to Lambda" in notify.message
    others = [f for f in report.findings if "notify" not in f.resource]
    assert others and all("dead-letter queue of" not in f.message for f in others)
