from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from lambdashield.model import ScanReport
from lambdashield.reporters import reporter_for
from lambdashield.reporters.rule_docs import render_rule_help_markdown
from lambdashield.reporters.sarif import SarifReporter

from .sample import ADMIN


def sarif(report: ScanReport) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(SarifReporter().render(report))
    return document


@pytest.fixture(scope="session")
def validator(shared_dir: Path) -> jsonschema.protocols.Validator:
    schema = json.loads(
        (shared_dir / "data" / "sarif" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8")
    )
    # The OASIS schema declares draft-04; honour what it declares rather than assume.
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def test_validates_against_the_sarif_schema(
    report: ScanReport, clean_report: ScanReport, validator: jsonschema.protocols.Validator
) -> None:
    for each in (report, clean_report, replace(report, version="")):
        errors = [error.message for error in validator.iter_errors(sarif(each))]
        assert errors == []


def test_log_header(report: ScanReport) -> None:
    document = sarif(report)
    assert document["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert document["version"] == "2.1.0"
    assert len(document["runs"]) == 1
    run = document["runs"][0]
    assert run["originalUriBaseIds"].keys() == {"%SRCROOT%"}
    driver = run["tool"]["driver"]
    assert driver["name"] == "lambdashield"
    assert driver["version"] == "0.1.0"
    assert driver["informationUri"] == "https://github.com/lambdashield/lambdashield"


def test_rules_sorted_with_docs_and_github_properties(report: ScanReport) -> None:
    rules = sarif(report)["runs"][0]["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == ["LS-FN-001", "LS-IAM-001"]
    assert rules[1] == {
        "id": "LS-IAM-001",
        "name": "admin-access",
        "shortDescription": {"text": "Policy grants administrator access"},
        "fullDescription": {
            "text": 'Flags `Allow` statements with `Action: "*"` on `Resource: "*"`.'
        },
        "help": {
            "text": (
                'Flags Allow statements with Action: "*" on Resource: "*".\n\n'
                "Why it matters:\n\n"
                "A compromised function can do anything in the account.\n\n"
                "Fix:\n\n"
                "List only the actions the handler calls, e.g. dynamodb:GetItem.\n"
            ),
            "markdown": render_rule_help_markdown(ADMIN),
        },
        "helpUri": "https://github.com/lambdashield/lambdashield/blob/main/docs/rules/LS-IAM-001.md",
        "defaultConfiguration": {"level": "error"},
        "properties": {
            "security-severity": "9.5",
            "tags": ["security", "iam", "admin", "external/cwe/cwe-269"],
            "precision": "high",
        },
    }
    assert rules[0]["defaultConfiguration"] == {"level": "warning"}
    assert rules[0]["properties"]["tags"] == ["security", "fn", "external/cwe/cwe-1104"]


def test_results(report: ScanReport) -> None:
    results = sarif(report)["runs"][0]["results"]
    assert results == [
        {
            "ruleId": "LS-FN-001",
            "ruleIndex": 0,
            "level": "warning",
            "message": {"text": "`runtime: python3.7` reached end of life"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {
                            "uri": "infra/my%20stack/serverless.yml",
                            "uriBaseId": "%SRCROOT%",
                        },
                        "region": {"startLine": 7},
                    }
                }
            ],
            "partialFingerprints": {"lambdashield/v1": "c0ffee01"},
            "properties": {
                "security-severity": "5.5",
                "pointer": "/functions/orders",
                "resource": "orders",
            },
        },
        {
            "ruleId": "LS-IAM-001",
            "ruleIndex": 1,
            "level": "error",
            "message": {"text": "statement #0 allows `*` on `*` (restricted by `aws:SourceVpc`)"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {
                            "uri": "policies/admin.json",
                            "uriBaseId": "%SRCROOT%",
                        }
                    }
                }
            ],
            "partialFingerprints": {"lambdashield/v1": "c0ffee02"},
            # Lowered from the rule's critical by a restricting condition.
            "properties": {
                "security-severity": "8.0",
                "pointer": "/Statement/0",
                "resource": "admin.json",
            },
        },
        {
            "ruleId": "LS-IAM-001",
            "ruleIndex": 1,
            "level": "error",
            "message": {"text": "statement 'Admin' allows `*` on `*`"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": "template.yaml", "uriBaseId": "%SRCROOT%"},
                        "region": {"startLine": 12, "endLine": 14},
                    }
                }
            ],
            "partialFingerprints": {"lambdashield/v1": "c0ffee03"},
            "properties": {
                "security-severity": "9.5",
                "pointer": "/Resources/OrdersRole/Properties/Policies/0",
                "resource": "OrdersRole",
            },
        },
    ]


def test_errors_and_skipped_inputs_are_notifications(report: ScanReport) -> None:
    run = sarif(report)["runs"][0]
    assert run["invocations"] == [
        {
            "executionSuccessful": False,
            "toolExecutionNotifications": [
                {
                    "level": "error",
                    "message": {"text": "mapping values are not allowed here"},
                    "locations": [
                        {
                            "physicalLocation": {
                                "artifactLocation": {
                                    "uri": "broken.yaml",
                                    "uriBaseId": "%SRCROOT%",
                                },
                                "region": {"startLine": 3},
                            }
                        }
                    ],
                },
                {
                    "level": "note",
                    "message": {
                        "text": "not analysed: TypeScript Serverless configs are not analysed"
                    },
                    "locations": [
                        {
                            "physicalLocation": {
                                "artifactLocation": {
                                    "uri": "app/serverless.ts",
                                    "uriBaseId": "%SRCROOT%",
                                }
                            }
                        }
                    ],
                },
            ],
        }
    ]


def test_clean_run_is_successful(clean_report: ScanReport) -> None:
    run = sarif(clean_report)["runs"][0]
    assert run["results"] == []
    assert run["invocations"] == [{"executionSuccessful": True, "toolExecutionNotifications": []}]
    assert [rule["id"] for rule in run["tool"]["driver"]["rules"]] == ["LS-IAM-001"]


def test_rule_missing_from_catalogue_still_gets_an_index(report: ScanReport) -> None:
    run = sarif(replace(report, rules=()))["runs"][0]
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert rule_ids == ["LS-FN-001", "LS-IAM-001"]
    assert [result["ruleIndex"] for result in run["results"]] == [0, 1, 1]


def test_byte_stable(report: ScanReport) -> None:
    output = SarifReporter().render(report)
    assert output == reporter_for("sarif").render(replace(report))
    assert output == json.dumps(json.loads(output), indent=2, sort_keys=True) + "\n"
    assert output.endswith("}\n")
