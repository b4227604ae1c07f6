"""`--format json`: the versioned contract of DESIGN.md, `schema_version` 1.

Beyond the contract, and additive so version 1 readers are unaffected: every finding carries
its `confidence`, `summary` counts `suppressed` and `baselined` findings, and
`function_risks` gives each function's risk picture, highest attack path score first.

Output is byte-stable for the same report: sorted keys, a fixed indent, a trailing newline and
no timestamps. Findings, errors and skipped inputs keep the report's order, which the engine
fixes.
"""

from __future__ import annotations

import json
from typing import Any

from lambdashield.model import Finding, FunctionRisk, ScanError, ScanReport, SkippedInput

__all__ = ["SCHEMA_VERSION", "JsonReporter", "report_to_dict"]

SCHEMA_VERSION = 1


class JsonReporter:
    def render(self, report: ScanReport) -> str:
        return json.dumps(report_to_dict(report), indent=2, sort_keys=True) + "\n"


def report_to_dict(report: ScanReport) -> dict[str, Any]:
    """The report as plain JSON values, before serialisation."""
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "lambdashield", "version": report.version},
        "findings": [_finding(finding) for finding in report.findings],
        "errors": [_error(error) for error in report.errors],
        "not_analysed": [_skipped(skipped) for skipped in report.not_analysed],
        "function_risks": [_risk(risk) for risk in report.function_risks],
        "summary": {
            "files": report.files,
            "functions": report.functions,
            "findings_by_severity": report.findings_by_severity(),
            "suppressed": report.suppressed,
            "baselined": report.baselined,
        },
    }


def _finding(finding: Finding) -> dict[str, Any]:
    location = finding.location
    return {
        "rule_id": finding.rule.id,
        "severity": finding.severity.label,
        "confidence": finding.confidence.value,
        "title": finding.rule.title,
        "message": finding.message,
        "resource": finding.resource,
        "resource_type": finding.resource_type,
        "location": {
            "path": location.path.as_posix(),
            "line": location.start_line,
            "end_line": location.end_line,
            "pointer": location.pointer,
        },
        "tags": list(finding.rule.tags),
        "fingerprint": finding.fingerprint,
    }


def _error(error: ScanError) -> dict[str, Any]:
    return {"path": error.path.as_posix(), "line": error.line, "message": error.message}


def _skipped(skipped: SkippedInput) -> dict[str, Any]:
    return {"path": skipped.path.as_posix(), "reason": skipped.reason}


def _risk(risk: FunctionRisk) -> dict[str, Any]:
    return {
        "function": risk.function,
        "location": {"path": risk.path.as_posix(), "line": risk.line},
        "runtime": risk.runtime,
        "runtime_status": risk.runtime_status,
        "entry_points": list(risk.entry_points),
        "internet_reachable": risk.internet_reachable,
        "permissions": {
            "admin": risk.admin,
            "privilege_escalation": risk.privilege_escalation,
            "exfiltration": risk.exfiltration,
            "write_all": risk.write_all,
        },
        "secrets": list(risk.secrets),
        "vulnerable_dependencies": risk.vulnerable_dependencies,
        "code_findings": risk.code_findings,
        "findings": risk.findings,
        "score": risk.score,
        "attack_path": list(risk.attack_path),
    }
