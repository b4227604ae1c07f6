"""`--format text`: the human report, one compact block per finding, then a summary line.

Colour is the caller's decision (the CLI passes whether stdout is a terminal). The console
ignores the environment, so the same report and flag always give the same bytes. Everything
from the scanned project is rendered as literal text, never as rich markup or emoji codes.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from lambdashield.model import Finding, ScanReport, Severity

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["TextReporter"]

WIDTH = 100

_SEVERITY_STYLE = {
    Severity.CRITICAL: "bold red",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
}
_SEVERITY_WIDTH = max(len(severity.name) for severity in Severity)
_DESCENDING = sorted(Severity, key=lambda severity: severity.rank, reverse=True)


class TextReporter:
    def __init__(self, *, color: bool = False) -> None:
        self.color = color

    def render(self, report: ScanReport) -> str:
        # rich costs tens of milliseconds to import; only pay when a text report is wanted.
        from rich.console import Console

        buffer = io.StringIO()
        console = Console(
            file=buffer,
            width=WIDTH,
            force_terminal=self.color,
            force_jupyter=False,
            force_interactive=False,
            color_system="standard" if self.color else None,
            no_color=not self.color,
            legacy_windows=False,
            # Long lines stay whole: paths and messages remain greppable in CI logs.
            soft_wrap=True,
            markup=False,
            emoji=False,
            highlight=False,
            _environ={},
        )
        _render(console, report)
        return buffer.getvalue()


def _render(console: Console, report: ScanReport) -> None:
    from rich.text import Text

    for finding in report.findings:
        _render_finding(console, finding)
        console.print()
    if report.errors:
        console.print(Text("Errors", style="bold"))
        for error in report.errors:
            where = error.path.as_posix() if error.line is None else f"{error.path}:{error.line}"
            console.print(Text.assemble("  ", (where, "bold"), f": {error.message}"))
        console.print()
    if report.not_analysed:
        console.print(Text("Not analysed", style="bold"))
        for skipped in report.not_analysed:
            console.print(
                Text.assemble("  ", (skipped.path.as_posix(), "bold"), f": {skipped.reason}")
            )
        console.print()
    if not report.findings:
        console.print(Text("No findings.", style="bold green"))
    console.print(Text(_summary(report), style="bold" if report.findings else ""))


def _render_finding(console: Console, finding: Finding) -> None:
    from rich.text import Text

    severity = finding.severity
    console.print(
        Text.assemble(
            (_where(finding), "bold"),
            "  ",
            (severity.name.ljust(_SEVERITY_WIDTH), _SEVERITY_STYLE[severity]),
            "  ",
            (finding.rule.id, "bold"),
            "  ",
            finding.rule.title,
        )
    )
    console.print(Text(f"    {finding.message}"))
    console.print(
        Text.assemble(("    resource: ", "dim"), f"{finding.resource} ({finding.resource_type})")
    )


def _where(finding: Finding) -> str:
    location = finding.location
    path = location.path.as_posix()
    if location.start_line is not None:
        return f"{path}:{location.start_line}"
    # Without a line the JSON pointer is the only way to find the spot.
    return f"{path}#{location.pointer}" if location.pointer else path


def _summary(report: ScanReport) -> str:
    counts = report.findings_by_severity()
    findings = _plural(len(report.findings), "finding")
    by_severity = ", ".join(
        f"{counts[severity.label]} {severity.label}"
        for severity in _DESCENDING
        if severity.label in counts
    )
    if by_severity:
        findings += f" ({by_severity})"
    return (
        f"{findings} in {_plural(report.files, 'file')}; "
        f"{report.suppressed} suppressed, {report.baselined} baselined; "
        f"{_plural(len(report.errors), 'error')}"
    )


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
