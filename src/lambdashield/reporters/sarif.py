"""`--format sarif`: SARIF 2.1.0, shaped for GitHub code scanning.

Rules carry their docs as help, `security-severity`, CWE tags and `precision`; results carry
relative URIs under `%SRCROOT%` and our own line-free `partialFingerprints`, so alerts survive
edits above them. Errors and skipped inputs become tool execution notifications, never
results, so nobody can dismiss or baseline them. Output is byte-stable: sorted keys, a fixed
indent and no timestamps.
"""

from __future__ import annotations

import json
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from lambdashield.model import Finding, RuleMeta, ScanError, ScanReport, SkippedInput
from lambdashield.reporters.rule_docs import render_rule_help_markdown, render_rule_help_text

__all__ = ["FINGERPRINT_KEY", "SarifReporter", "report_to_sarif"]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/lambdashield/lambdashield"
DOCS_BASE = f"{INFORMATION_URI}/blob/main/"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "lambdashield/v1"
"""Versioned so a future change of the fingerprint recipe does not collide with old alerts."""


class SarifReporter:
    def render(self, report: ScanReport) -> str:
        return json.dumps(report_to_sarif(report), indent=2, sort_keys=True) + "\n"


def report_to_sarif(report: ScanReport) -> dict[str, Any]:
    """The SARIF log as plain JSON values, before serialisation."""
    rules = _rule_catalogue(report)
    index = {meta.id: position for position, meta in enumerate(rules)}
    driver: dict[str, Any] = {
        "name": "lambdashield",
        "informationUri": INFORMATION_URI,
        "rules": [_rule(meta) for meta in rules],
    }
    if report.version:
        driver["version"] = report.version
    notifications = [_error(error) for error in report.errors]
    notifications += [_skipped(skipped) for skipped in report.not_analysed]
    run = {
        "tool": {"driver": driver},
        "originalUriBaseIds": {
            # The scan root's absolute path would make output machine-dependent; consumers
            # such as GitHub resolve %SRCROOT% to the checkout themselves.
            SRCROOT: {"description": {"text": "The root of the scanned project."}},
        },
        "invocations": [
            {
                "executionSuccessful": not report.errors,
                "toolExecutionNotifications": notifications,
            }
        ],
        "results": [_result(finding, index[finding.rule.id]) for finding in report.findings],
    }
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def _rule_catalogue(report: ScanReport) -> list[RuleMeta]:
    # A finding's rule is always among the rules that ran, but an incomplete report must
    # still yield a valid `ruleIndex` rather than a crash.
    by_id: dict[str, RuleMeta] = {}
    for meta in (*report.rules, *(finding.rule for finding in report.findings)):
        by_id.setdefault(meta.id, meta)
    return [by_id[rule_id] for rule_id in sorted(by_id)]


def _rule(meta: RuleMeta) -> dict[str, Any]:
    tags = ["security", *meta.tags]
    if meta.cwe > 0:
        tags.append(f"external/cwe/cwe-{meta.cwe}")
    return {
        "id": meta.id,
        "name": meta.name,
        "shortDescription": {"text": meta.title},
        "fullDescription": {"text": meta.summary},
        "help": {"text": render_rule_help_text(meta), "markdown": render_rule_help_markdown(meta)},
        "helpUri": DOCS_BASE + meta.docs_path,
        "defaultConfiguration": {"level": meta.severity.sarif_level},
        "properties": {
            "security-severity": meta.severity.security_severity,
            "tags": tags,
            "precision": meta.confidence.value,
        },
    }


def _result(finding: Finding, rule_index: int) -> dict[str, Any]:
    location = finding.location
    result: dict[str, Any] = {
        "ruleId": finding.rule.id,
        "ruleIndex": rule_index,
        "level": finding.severity.sarif_level,
        "message": {"text": finding.message},
        "locations": [_location(location.path, location.start_line, location.end_line)],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "properties": {
            # The finding's own severity: a restricting condition may have lowered the rule's.
            "security-severity": finding.severity.security_severity,
            "pointer": location.pointer,
            "resource": finding.resource,
        },
    }
    if finding.flow:
        result["codeFlows"] = [_code_flow(finding)]
    return result


def _code_flow(finding: Finding) -> dict[str, Any]:
    """The path from source to sink of a code finding: one thread, one location per step,
    all in the finding's file."""
    path = finding.location.path
    steps = [
        {"location": {**_location(path, line, None), "message": {"text": text}}}
        for line, text in finding.flow
    ]
    return {"threadFlows": [{"locations": steps}]}


def _error(error: ScanError) -> dict[str, Any]:
    return {
        "level": "error",
        "message": {"text": error.message},
        "locations": [_location(error.path, error.line, None)],
    }


def _skipped(skipped: SkippedInput) -> dict[str, Any]:
    return {
        "level": "note",
        "message": {"text": f"not analysed: {skipped.reason}"},
        "locations": [_location(skipped.path, None, None)],
    }


def _location(path: PurePosixPath, start: int | None, end: int | None) -> dict[str, Any]:
    physical: dict[str, Any] = {
        # A URI reference, not a file name: spaces and `%` in paths must be escaped.
        "artifactLocation": {"uri": quote(path.as_posix()), "uriBaseId": SRCROOT},
    }
    if start is not None:
        region = {"startLine": start}
        if end is not None and end >= start:
            region["endLine"] = end
        physical["region"] = region
    return {"physicalLocation": physical}
