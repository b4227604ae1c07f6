"""Function, secret and entry-point rules against their template fixtures, through the engine.

Each rule has `tests/fixtures/rules/<ID>/positive.yaml` (exactly the pointers in
`expected.json`), `negative.yaml` (near misses: nothing) and `expected.json`. A rule about
what only Terraform can express (LS-API-006: a `dynamic` block known only at apply) has
Terraform folders `positive/` and `negative/` instead. The scan date is fixed, so runtime
findings do not change with the calendar.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from lambdashield import engine
from lambdashield.checks import ALL_RULES, api, functions, rule_by_id, secrets
from lambdashield.checks import subjects as checks_subjects
from lambdashield.checks._rule import Rule
from lambdashield.checks.functions import ApplicationView, FunctionView, Settings
from lambdashield.config import Config
from lambdashield.engine import scan
from lambdashield.model import (
    Application,
    Bucket,
    Confidence,
    Finding,
    Origin,
    Permission,
    PublicAccessBlock,
    ScanReport,
    Severity,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rules"
RULES: tuple[Rule[Any], ...] = (*functions.RULES, *secrets.RULES, *api.RULES)
RULE_IDS = [r.meta.id for r in RULES]
SCAN_DATE = datetime.date(2026, 6, 1)
PUBLIC_ROUTES = ("GET /health", "POST /webhooks/stripe")
"""What the API-002 fixtures' project configures as `public-routes`."""
SINCE = {"LS-API-006": "0.2.0"}
"""Rules added after 0.1.0."""


def _wired_subjects(settings: Settings) -> Any:
    """The subjects these rules need, for as long as `checks.subjects` lacks them."""
    original = checks_subjects

    def subjects(
        documents: Sequence[Any], applications: Sequence[Application] = ()
    ) -> Iterator[Any]:
        yield from original(documents, applications)
        for application in applications:
            view = ApplicationView(application, settings)
            yield ApplicationView, view, view.locate
            for function in application.functions:
                fview = FunctionView(function, application, settings)
                yield FunctionView, fview, fview.locate
            for permission in application.permissions:
                yield Permission, permission, _fixed(permission.origin)
            for bucket in application.buckets:
                yield Bucket, bucket, _fixed(bucket.origin)

    return subjects


def _fixed(origin: Any) -> Any:
    return lambda _pointer: origin


@pytest.fixture(autouse=True)
def scan_date(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(functions, "today", lambda: SCAN_DATE)


@pytest.fixture
def wiring(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register the rules with the engine unless `checks/__init__.py` already does."""
    if all(rule_by_id(rule_id) is not None for rule_id in RULE_IDS):
        return
    monkeypatch.setattr(engine, "ALL_RULES", (*ALL_RULES, *RULES))
    monkeypatch.setattr(engine, "subjects", _wired_subjects(Settings(PUBLIC_ROUTES)))


def config(rule_id: str) -> Config:
    chosen = Config(select=(rule_id,))
    if "public_routes" in {f.name for f in dataclasses.fields(Config)}:
        chosen = dataclasses.replace(chosen, public_routes=PUBLIC_ROUTES)  # type: ignore[call-arg]
    return chosen


def run(rule_id: str, path: Path) -> ScanReport:
    return scan([str(path)], config(rule_id))


def hits(report: ScanReport) -> set[tuple[str, str]]:
    return {(f.rule.id, f.location.pointer) for f in report.findings}


def resolve(document: Any, pointer: str) -> Any:
    value = document
    for token in pointer.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        value = value[int(token)] if isinstance(value, list) else value[token]
    return value


class _Loader(yaml.SafeLoader):
    """Reads CloudFormation short tags as plain values: enough to check pointers."""


def _tag(loader: yaml.SafeLoader, _suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)  # type: ignore[arg-type]


_Loader.add_multi_constructor("!", _tag)


def fixture(rule_id: str, stem: str) -> Path:
    """`<stem>.yaml`, or the Terraform folder `<stem>/` of a rule only Terraform trips."""
    folder = FIXTURES / rule_id
    if (folder / stem).is_dir() and any((folder / stem).glob("*.tf")):
        assert not (folder / f"{stem}.yaml").exists(), f"{rule_id}: both {stem}/ and .yaml"
        return folder / stem
    return folder / f"{stem}.yaml"


def findings(rule_id: str, stem: str = "positive") -> list[Finding]:
    report = run(rule_id, fixture(rule_id, stem))
    assert report.errors == ()
    return list(report.findings)


@pytest.mark.usefixtures("wiring")
@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_fixtures(rule_id: str) -> None:
    folder = FIXTURES / rule_id
    positive, negative = fixture(rule_id, "positive"), fixture(rule_id, "negative")
    for path in (positive, negative, folder / "expected.json"):
        assert path.exists(), f"{rule_id} has no fixture {path.name}"
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    assert isinstance(expected, list) and expected, "expected.json must list pointers"
    assert len(set(expected)) == len(expected), "expected.json lists a pointer twice"
    if positive.suffix == ".yaml":
        document = yaml.load(positive.read_text(encoding="utf-8"), _Loader)  # noqa: S506 - a SafeLoader subclass
        for pointer in expected:
            resolve(document, pointer)  # a typo in expected.json fails here, not as a mismatch

    report = run(rule_id, positive)
    assert report.errors == ()
    assert hits(report) == {(rule_id, pointer) for pointer in expected}

    report = run(rule_id, negative)
    assert report.errors == ()
    fired = [(f.location.pointer, f.message) for f in report.findings]
    assert fired == [], f"{rule_id} fired on a near miss"


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_docstring_has_summary_why_and_fix(rule_id: str) -> None:
    meta = next(r.meta for r in RULES if r.meta.id == rule_id)
    assert meta.summary and meta.why and meta.fix
    assert "##" not in meta.summary + meta.why + meta.fix
    assert meta.since == SINCE.get(rule_id, "0.1.0")


def test_rule_ids_are_unique_and_sorted() -> None:
    assert len(set(RULE_IDS)) == len(RULE_IDS)
    for family in ("LS-FN", "LS-SEC", "LS-API"):
        ids = [i for i in RULE_IDS if i.startswith(family + "-")]
        assert ids == sorted(ids)


def by_resource(found: list[Finding]) -> dict[str, Finding]:
    return {f.resource: f for f in found}


# --- severities, messages and labels --------------------------------------------------


@pytest.mark.usefixtures("wiring")
def test_runtime_severity_depends_on_the_date() -> None:
    found = by_resource(findings("LS-FN-001"))
    assert set(found) == {
        "ListOrdersFunction",
        "GetOrderFunction",
        "InvoiceFunction",
        "ReportFunction",
    }
    past = found["InvoiceFunction"]
    assert past.severity is Severity.HIGH
    assert "deprecated since 2025-12-15" in past.message
    assert "blocks creating functions with it from 2027-02-01" in past.message
    assert "`python3.14`" in past.message
    upcoming = found["ReportFunction"]
    assert upcoming.severity is Severity.MEDIUM
    assert "deprecated on 2026-10-31, in 152 days" in upcoming.message
    inherited = found["GetOrderFunction"]
    assert inherited.location.pointer == "/Globals/Function/Runtime"
    assert inherited.location.start_line == 7


@pytest.mark.usefixtures("wiring")
def test_runtime_findings_follow_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(functions, "today", lambda: datetime.date(2025, 1, 1))
    assert {f.resource for f in findings("LS-FN-001")} == set()
    monkeypatch.setattr(functions, "today", lambda: datetime.date(2025, 7, 1))
    found = by_resource(findings("LS-FN-001"))
    assert set(found) == {"InvoiceFunction"}
    assert found["InvoiceFunction"].severity is Severity.MEDIUM


@pytest.mark.usefixtures("wiring")
def test_runtime_fingerprint_changes_when_the_date_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(functions, "today", lambda: datetime.date(2026, 10, 1))
    before = by_resource(findings("LS-FN-001"))["ReportFunction"]
    monkeypatch.setattr(functions, "today", lambda: datetime.date(2026, 11, 1))
    after = by_resource(findings("LS-FN-001"))["ReportFunction"]
    assert (before.severity, after.severity) == (Severity.MEDIUM, Severity.HIGH)
    assert before.fingerprint != after.fingerprint


LOWERED = {
    "LS-FN-002": {"/Resources/ExportFunction/Properties/Role"},
    "LS-FN-004": {
        "/Resources/ReportsBucket/Properties/NotificationConfiguration/LambdaConfigurations/0"
    },
    "LS-SEC-001": {"/Resources/NotifyFunction/Properties/Environment/Variables/SESSION_SEED"},
    "LS-API-002": {
        "/Resources/CartFunction/Properties/Events/ViewCart",
        "/Resources/OrdersFunction/Properties/Events/ExportOrders/Properties/Auth/Authorizer",
        "/Resources/InventoryFunction/Properties/Events/AdjustStock",
        "/Resources/PrivateStockMethod/Properties/AuthorizationType",
    },
    "LS-API-004": {"/Resources/AllowS3FromBucketOnly"},
    "LS-API-005": {"/Resources/MediaBucketPolicy/Properties/PolicyDocument/Statement/0/Principal"},
}
"""Positive hits whose evidence is weaker or whose exposure is smaller: one step lower."""


@pytest.mark.usefixtures("wiring")
@pytest.mark.parametrize("rule_id", [r for r in RULE_IDS if r != "LS-FN-001"])
def test_severity_is_lowered_exactly_where_the_evidence_says(rule_id: str) -> None:
    meta = next(r.meta for r in RULES if r.meta.id == rule_id)
    lowered = LOWERED.get(rule_id, set())
    for finding in findings(rule_id):
        pointer = finding.location.pointer
        if pointer in lowered:
            assert finding.severity is meta.severity.lowered(), pointer
            assert "(severity lowered: " in finding.message
        else:
            assert finding.severity is meta.severity, pointer
            assert "severity lowered" not in finding.message


@pytest.mark.usefixtures("wiring")
def test_findings_name_the_resource_and_never_the_secret() -> None:
    found = findings("LS-SEC-001") + findings("LS-SEC-002")
    text = "\n".join(f.message for f in found)
    for secret in (
        "Tr0ub4dor-and-3",
        "IOSFODNN7EXAMPLE",
        "K7MDENG/bPxRfiCYEXAMPLEKEY",
        "s3cr3t-Passw0rd",
        "EXAMPLEEXAMPLEEXAMPLE0123",
        "Hunter2-admin-2024",
        "Sunshine-Legacy-99",
    ):
        assert secret not in text
    resources = {(f.rule.id, f.resource) for f in found}
    assert ("LS-SEC-002", "DbPassword") in resources
    assert ("LS-SEC-002", "LegacyStage") in resources
    assert ("LS-SEC-001", "NotifyFunction") in resources


@pytest.mark.usefixtures("wiring")
def test_application_findings_are_labelled_with_the_object_they_point_at() -> None:
    shared = by_resource(findings("LS-FN-002"))
    assert shared["BackendRole"].resource_type == "role"
    assert "`CreateOrderFunction` is reachable over HTTP" in shared["BackendRole"].message
    deputies = {f.resource for f in findings("LS-API-004")}
    assert deputies == {"AllowS3", "AllowSns", "AllowS3FromBucketOnly", "AuditLogsBucket"}


@pytest.mark.usefixtures("wiring")
def test_routes_are_named_by_method_and_path() -> None:
    messages = [f.message for f in findings("LS-API-002")]
    assert any("route `DELETE /orders/{id}` (`DeleteOrder`)" in m for m in messages)
    assert any("route `POST /refunds`" in m for m in messages)
    assert any("route `PUT /payouts/{id}`" in m for m in messages)


@pytest.mark.usefixtures("wiring")
def test_trigger_dead_letter_queue_is_named_not_taken_for_a_destination() -> None:
    found = by_resource(findings("LS-FN-003"))
    retry = found["RetryFunction"].message
    assert "SNS topic `Order`" in retry
    assert (
        "the dead-letter queue of SNS topic `Order` keeps only events that could not be "
        "delivered to Lambda, not those the function failed on"
    ) in retry
    audit = found["LegacyAuditFunction"].message
    assert "EventBridge rule `LegacyAuditRule`" in audit
    assert "dead-letter queue of EventBridge rule `LegacyAuditRule`" in audit
    assert "dead-letter queue of" not in found["ScanUploadFunction"].message


@pytest.mark.usefixtures("wiring")
def test_private_routes_say_why_they_are_lowered() -> None:
    found = {f.location.pointer: f for f in findings("LS-API-002")}
    for pointer in (
        "/Resources/InventoryFunction/Properties/Events/AdjustStock",
        "/Resources/PrivateStockMethod/Properties/AuthorizationType",
    ):
        assert "the API is private, reachable only through VPC endpoints" in found[pointer].message
    public = found["/Resources/CartFunction/Properties/Events/AddItem"].message
    assert "private" not in public


@pytest.mark.usefixtures("wiring")
def test_public_url_and_its_permission_are_one_finding() -> None:
    report = scan(
        [str(FIXTURES / "LS-API-003" / "negative.yaml")],
        Config(select=("LS-API-001", "LS-API-003")),
    )
    assert report.errors == ()
    assert [(f.rule.id, f.resource, f.location.pointer) for f in report.findings] == [
        ("LS-API-001", "WebhookFunction", "/Resources/WebhookUrl/Properties/AuthType")
    ]
    # Where the permission does more than make the URL work, both are reported.
    report = scan(
        [str(FIXTURES / "LS-API-003" / "positive.yaml")],
        Config(select=("LS-API-001", "LS-API-003")),
    )
    assert ("LS-API-003", "WebhookInvokeForEveryone") in {
        (f.rule.id, f.resource) for f in report.findings
    }
    assert ("LS-API-001", "WebhookFunction") in {(f.rule.id, f.resource) for f in report.findings}


# --- LS-API-006 ---------------------------------------------------------------------------

UNKNOWN_POLICY = FIXTURES / "LS-API-006" / "positive" / "main.tf"


def _line_of(needle: str, after: str) -> int:
    text = UNKNOWN_POLICY.read_text(encoding="utf-8")
    return text.count("\n", 0, text.index(needle, text.index(after))) + 1


@pytest.mark.usefixtures("wiring")
def test_unknown_bucket_policy_is_located_at_the_block_and_labelled_with_the_bucket() -> None:
    found = {f.resource: f for f in findings("LS-API-006")}
    assert set(found) == {"aws_s3_bucket.uploads", "aws_s3_bucket.reports", "aws_s3_bucket.media"}
    uploads = found["aws_s3_bucket.uploads"]
    assert (uploads.rule.id, uploads.resource_type) == ("LS-API-006", "bucket")
    assert (uploads.severity, uploads.confidence) == (Severity.MEDIUM, Confidence.LOW)
    assert uploads.location.path.as_posix().endswith("LS-API-006/positive/main.tf")
    assert uploads.location.start_line == _line_of(
        'dynamic "statement"', 'data "aws_iam_policy_document" "uploads"'
    )
    assert uploads.message == (
        "the policy of bucket `aws_s3_bucket.uploads` is not fully known: "
        'data.aws_iam_policy_document.uploads dynamic "statement" (for_each = '
        "var.upload_statements: variable has no default) generates blocks not known here, "
        "which were not checked; the bucket may be public, letting anyone write objects "
        "that invoke `aws_lambda_function.process`; enable Block Public Access, or check "
        "what the block generates and suppress this finding with the reason"
    )
    reports = found["aws_s3_bucket.reports"]
    assert reports.location.start_line == _line_of(
        'dynamic "principals"', 'data "aws_iam_policy_document" "reports"'
    )
    assert 'dynamic "principals" (for_each = var.report_readers' in reports.message


@pytest.mark.usefixtures("wiring")
def test_unknown_bucket_policy_sits_beside_what_is_known() -> None:
    # What the known statements show is still reported by LS-API-005, and LS-API-004 says
    # nothing about the unknown part either way.
    report = scan(
        [str(UNKNOWN_POLICY.parent)],
        Config(select=("LS-API-004", "LS-API-005", "LS-API-006")),
    )
    assert report.errors == ()
    assert sorted((f.rule.id, f.resource) for f in report.findings) == [
        ("LS-API-005", "aws_s3_bucket.media"),
        ("LS-API-006", "aws_s3_bucket.media"),
        ("LS-API-006", "aws_s3_bucket.reports"),
        ("LS-API-006", "aws_s3_bucket.uploads"),
    ]


def _bucket(**changes: Any) -> Bucket:
    origin = Origin(PurePosixPath("main.tf"), "aws_s3_bucket.uploads", "bucket", "/resource/b")
    where = dataclasses.replace(origin, pointer="/data/aws_iam_policy_document/p/dynamic/x/0")
    bucket = Bucket(
        origin,
        notifies=("aws_lambda_function.process",),
        policy_unknown=(("data.aws_iam_policy_document.p dynamic ...", where),),
    )
    return dataclasses.replace(bucket, **changes)


@pytest.mark.parametrize(
    ("block", "fires"),
    [
        (None, True),
        (PublicAccessBlock("/b", block_public_acls=True, ignore_public_acls=True), True),
        (PublicAccessBlock("/b", restrict_public_buckets=True), False),
        (PublicAccessBlock("/b", block_public_policy=True), False),
    ],
)
def test_unknown_bucket_policy_is_silent_where_block_public_access_keeps_policies_out(
    block: PublicAccessBlock | None, fires: bool
) -> None:
    hits = list(api.bucket_policy_not_fully_known(_bucket(public_access_block=block)))
    assert [h.pointer for h in hits] == (
        ["/data/aws_iam_policy_document/p/dynamic/x/0"] if fires else []
    )


def test_unknown_bucket_policy_is_silent_without_a_function_or_an_unknown_part() -> None:
    assert list(api.bucket_policy_not_fully_known(_bucket(notifies=()))) == []
    assert list(api.bucket_policy_not_fully_known(_bucket(policy_unknown=()))) == []
    # A public-read-write ACL that Block Public Access ignores does not excuse it.
    ignored = PublicAccessBlock("/b", ignore_public_acls=True)
    acl = _bucket(public_write=True, public_read=True, public_access_block=ignored)
    assert len(list(api.bucket_policy_not_fully_known(acl))) == 1
    assert list(api.bucket_policy_not_fully_known(_bucket(public_write=True))) == []
