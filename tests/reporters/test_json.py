from __future__ import annotations

import json
from dataclasses import replace

from lambdashield.model import ScanReport
from lambdashield.reporters import reporter_for
from lambdashield.reporters.json import JsonReporter


def test_whole_document(report: ScanReport) -> None:
    assert json.loads(JsonReporter().render(report)) == {
        "schema_version": 1,
        "tool": {"name": "lambdashield", "version": "0.1.0"},
        "findings": [
            {
                "rule_id": "LS-FN-001",
                "severity": "medium",
                "confidence": "high",
                "title": "Function uses an end-of-life runtime",
                "message": "`runtime: python3.7` reached end of life",
                "resource": "orders",
                "resource_type": "function",
                "location": {
                    "path": "infra/my stack/serverless.yml",
                    "line": 7,
                    "end_line": None,
                    "pointer": "/functions/orders",
                },
                "tags": ["fn"],
                "fingerprint": "c0ffee01",
            },
            {
                "rule_id": "LS-IAM-001",
                "severity": "high",
                "confidence": "medium",
                "title": "Policy grants administrator access",
                "message": "statement #0 allows `*` on `*` (restricted by `aws:SourceVpc`)",
                "resource": "admin.json",
                "resource_type": "policy",
                "location": {
                    "path": "policies/admin.json",
                    "line": None,
                    "end_line": None,
                    "pointer": "/Statement/0",
                },
                "tags": ["iam", "admin"],
                "fingerprint": "c0ffee02",
            },
            {
                "rule_id": "LS-IAM-001",
                "severity": "critical",
                "confidence": "high",
                "title": "Policy grants administrator access",
                "message": "statement 'Admin' allows `*` on `*`",
                "resource": "OrdersRole",
                "resource_type": "role",
                "location": {
                    "path": "template.yaml",
                    "line": 12,
                    "end_line": 14,
                    "pointer": "/Resources/OrdersRole/Properties/Policies/0",
                },
                "tags": ["iam", "admin"],
                "fingerprint": "c0ffee03",
            },
        ],
        "errors": [
            {"path": "broken.yaml", "line": 3, "message": "mapping values are not allowed here"}
        ],
        "not_analysed": [
            {
                "path": "app/serverless.ts",
                "reason": "TypeScript Serverless configs are not analysed",
            }
        ],
        "function_risks": [],
        "summary": {
            "files": 5,
            "functions": 2,
            "findings_by_severity": {"critical": 1, "high": 1, "medium": 1},
            "suppressed": 1,
            "baselined": 2,
        },
    }


def test_clean_report(clean_report: ScanReport) -> None:
    document = json.loads(JsonReporter().render(clean_report))
    assert document["findings"] == []
    assert document["errors"] == []
    assert document["not_analysed"] == []
    assert document["summary"] == {
        "files": 1,
        "functions": 0,
        "findings_by_severity": {},
        "suppressed": 0,
        "baselined": 0,
    }


def test_byte_stable_sorted_and_newline_terminated(report: ScanReport) -> None:
    first = JsonReporter().render(report)
    assert first == JsonReporter().render(replace(report))
    assert first.endswith("}\n")
    assert not first.endswith("\n\n")
    assert first == json.dumps(json.loads(first), indent=2, sort_keys=True) + "\n"


def test_findings_keep_report_order(report: ScanReport) -> None:
    reversed_report = replace(report, findings=report.findings[::-1])
    fingerprints = [
        finding["fingerprint"]
        for finding in json.loads(JsonReporter().render(reversed_report))["findings"]
    ]
    assert fingerprints == ["c0ffee03", "c0ffee02", "c0ffee01"]


def test_non_ascii_is_escaped_and_round_trips(report: ScanReport) -> None:
    finding = replace(report.findings[0], message="Zugriff für „alle“")
    output = JsonReporter().render(replace(report, findings=(finding,)))
    assert output.isascii()
    assert json.loads(output)["findings"][0]["message"] == "Zugriff für „alle“"


def test_reporter_for_json(report: ScanReport) -> None:
    assert reporter_for("json").render(report) == JsonReporter().render(report)


def test_function_risks(report: ScanReport) -> None:
    from dataclasses import replace
    from pathlib import PurePosixPath

    from lambdashield.model import FunctionRisk

    risk = FunctionRisk(
        function="orders",
        path=PurePosixPath("serverless.yml"),
        line=5,
        runtime="python3.7",
        runtime_status="deprecated",
        entry_points=("POST /orders (no auth)",),
        internet_reachable=True,
        admin=1,
        secrets=("API_KEY",),
        findings=3,
        score=92,
        attack_path=("internet: POST /orders (no auth)", "privileged: admin"),
    )
    document = json.loads(JsonReporter().render(replace(report, function_risks=(risk,))))
    assert document["function_risks"] == [
        {
            "function": "orders",
            "location": {"path": "serverless.yml", "line": 5},
            "runtime": "python3.7",
            "runtime_status": "deprecated",
            "entry_points": ["POST /orders (no auth)"],
            "internet_reachable": True,
            "permissions": {
                "admin": 1,
                "privilege_escalation": 0,
                "exfiltration": 0,
                "write_all": 0,
            },
            "secrets": ["API_KEY"],
            "vulnerable_dependencies": 0,
            "code_findings": 0,
            "findings": 3,
            "score": 92,
            "attack_path": ["internet: POST /orders (no auth)", "privileged: admin"],
        }
    ]
