"""Code findings in SARIF: each carries its source -> sink path as one `codeFlow`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

from lambdashield.checks import code
from lambdashield.engine import fingerprint
from lambdashield.model import Finding, ScanReport
from lambdashield.reporters.sarif import SarifReporter

from .test_code_rules import FIXTURES, views


def findings() -> list[Finding]:
    """The LS-CODE-001 fixture's findings, made as the engine makes them."""
    rule = code.command_injection
    made = []
    for view in views(FIXTURES / "LS-CODE-001" / "positive"):
        for hit in rule(view):
            origin = view.locate(hit.pointer)
            if origin.path.suffix != ".py":
                continue  # the Python handler's flows; the Node one has its own tests
            made.append(
                Finding(
                    rule=rule.meta,
                    severity=rule.meta.severity,
                    confidence=rule.meta.confidence,
                    location=origin.locate(hit.pointer),
                    message=hit.message,
                    resource=origin.resource,
                    resource_type=origin.resource_type,
                    fingerprint=fingerprint(
                        rule.meta.id, origin.path, hit.pointer, hit.evidence, origin.resource
                    ),
                    flow=hit.flow,
                )
            )
    return sorted(made, key=lambda f: f.location.start_line or 0)


def sarif() -> dict[str, Any]:
    report = ScanReport(tuple(findings()), (), (), (code.command_injection.meta,), files=2)
    document: dict[str, Any] = json.loads(SarifReporter().render(report))
    return document


def test_each_step_is_a_location_with_its_line_and_message() -> None:
    results = sarif()["runs"][0]["results"]
    assert [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in results] == [
        9,
        15,
        17,
        18,
    ]
    (flow,) = results[0]["codeFlows"]
    (thread,) = flow["threadFlows"]
    steps = [
        (
            step["location"]["physicalLocation"]["region"]["startLine"],
            step["location"]["message"]["text"],
        )
        for step in thread["locations"]
    ]
    assert steps == [
        (13, 'source: event.get("queryStringParameters")'),
        (13, "assigned to `params`"),
        (14, "assigned to `name`"),
        (16, "passed to `run_report()` as `name`"),
        (9, "sink: subprocess.run"),
    ]
    uris = {
        step["location"]["physicalLocation"]["artifactLocation"]["uri"]
        for step in thread["locations"]
    }
    assert uris == {"src/thumbnails.py"}


def test_findings_without_a_flow_have_no_code_flows() -> None:
    bare = findings()[:1]
    report = ScanReport(
        tuple(Finding(**{**_fields(f), "flow": ()}) for f in bare),
        (),
        (),
        (code.command_injection.meta,),
        files=1,
    )
    (result,) = json.loads(SarifReporter().render(report))["runs"][0]["results"]
    assert "codeFlows" not in result


def _fields(finding: Finding) -> dict[str, Any]:
    return {name: getattr(finding, name) for name in Finding.__dataclass_fields__}


def test_validates_against_the_sarif_schema(shared_dir: Path) -> None:
    schema = json.loads(
        (shared_dir / "data" / "sarif" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8")
    )
    validator = jsonschema.validators.validator_for(schema)(schema)
    assert [e.message for e in validator.iter_errors(sarif())] == []
