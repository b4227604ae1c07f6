"""Hand-built rules and findings: the reporters' input, independent of any loader."""

from __future__ import annotations

from pathlib import PurePosixPath

from lambdashield.model import (
    Confidence,
    Finding,
    Lifecycle,
    Location,
    RuleMeta,
    Severity,
)

ADMIN = RuleMeta(
    id="LS-IAM-001",
    name="admin-access",
    title="Policy grants administrator access",
    severity=Severity.CRITICAL,
    confidence=Confidence.HIGH,
    cwe=269,
    tags=("iam", "admin"),
    since="0.1.0",
    lifecycle=Lifecycle.STABLE,
    summary='Flags `Allow` statements with `Action: "*"` on `Resource: "*"`.',
    why="A compromised function can do anything in the account.",
    fix="List only the actions the handler calls, e.g. `dynamodb:GetItem`.",
)

RUNTIME = RuleMeta(
    id="LS-FN-001",
    name="end-of-life-runtime",
    title="Function uses an end-of-life runtime",
    severity=Severity.MEDIUM,
    confidence=Confidence.HIGH,
    cwe=1104,
    tags=("fn",),
    since="0.2.0",
    lifecycle=Lifecycle.PREVIEW,
    summary="Flags functions whose runtime no longer gets security patches.",
    why="See [AWS runtime support](https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html).",
    fix="Move to a supported runtime such as `python3.12`.",
)

# In the engine's order: path, then line, then rule ID.
FINDINGS = (
    Finding(
        rule=RUNTIME,
        severity=Severity.MEDIUM,
        confidence=Confidence.HIGH,
        location=Location(PurePosixPath("infra/my stack/serverless.yml"), "/functions/orders", 7),
        message="`runtime: python3.7` reached end of life",
        resource="orders",
        resource_type="function",
        fingerprint="c0ffee01",
    ),
    Finding(
        rule=ADMIN,
        severity=Severity.HIGH,
        confidence=Confidence.MEDIUM,
        location=Location(PurePosixPath("policies/admin.json"), "/Statement/0"),
        message="statement #0 allows `*` on `*` (restricted by `aws:SourceVpc`)",
        resource="admin.json",
        resource_type="policy",
        fingerprint="c0ffee02",
    ),
    Finding(
        rule=ADMIN,
        severity=Severity.CRITICAL,
        confidence=Confidence.HIGH,
        location=Location(
            PurePosixPath("template.yaml"), "/Resources/OrdersRole/Properties/Policies/0", 12, 14
        ),
        message="statement 'Admin' allows `*` on `*`",
        resource="OrdersRole",
        resource_type="role",
        fingerprint="c0ffee03",
    ),
)
