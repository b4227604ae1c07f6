"""`--format text`: the human report, one compact block per finding, the top attack paths
(when the scan found functions), then a summary line.

Colour is the caller's decision (the CLI passes whether stdout is a terminal). The output
ignores the environment, so the same report and flag always give the same bytes. Everything
from the scanned project is rendered as literal text, never as rich markup or emoji codes.

Lines are written as rich would print them (its `Style` makes the colour codes), without
going through a rich `Console` for each line: that took 2.4 s for 10,000 findings. A line
holding a control character, which rich transforms, still goes through the console, so
the bytes are rich's in every case.
"""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING

from lambdashield.model import Finding, ScanReport, Severity
from lambdashield.reporters._risk import location, top_paths

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
_UNUSUAL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
"""Characters rich does not print as they are (tabs, carriage returns, escapes, ...)."""


class TextReporter:
    def __init__(self, *, color: bool = False) -> None:
        self.color = color

    def render(self, report: ScanReport) -> str:
        out = _Lines(self.color)
        _render(out, report)
        return out.text()


class _Lines:
    """Plain or coloured lines, byte for byte as rich's console prints them."""

    def __init__(self, color: bool) -> None:
        self.color = color
        self.parts: list[str] = []
        self.styles: dict[str, tuple[str, str]] = {}
        self._console: Console | None = None

    def line(self, *spans: str | tuple[str, str], style: str = "") -> None:
        if any(_UNUSUAL.search(s if isinstance(s, str) else s[0]) for s in spans):
            self.parts.append(self._through_rich(spans, style))
            return
        if not self.color:
            self.parts.extend(s if isinstance(s, str) else s[0] for s in spans)
        elif style:
            text = "".join(s if isinstance(s, str) else s[0] for s in spans)
            self.parts.append(self._styled(text, style) if text else "")
        else:
            for span in spans:
                if isinstance(span, str):
                    self.parts.append(span)
                elif span[0]:
                    self.parts.append(self._styled(*span) if span[1] else span[0])
        self.parts.append("\n")

    def blank(self) -> None:
        self.parts.append("\n")

    def text(self) -> str:
        return "".join(self.parts)

    def _styled(self, text: str, style: str) -> str:
        codes = self.styles.get(style)
        if codes is None:
            # rich makes the codes, so they are the ones its console would write.
            from rich.color import ColorSystem
            from rich.style import Style

            marker = "\0"
            before, _, after = (
                Style.parse(style)
                .render(marker, color_system=ColorSystem.STANDARD)
                .partition(marker)
            )
            codes = self.styles[style] = (before, after)
        return f"{codes[0]}{text}{codes[1]}"

    def _through_rich(self, spans: tuple[str | tuple[str, str], ...], style: str) -> str:
        from rich.text import Text

        console = self._console
        if console is None:
            console = self._console = _console(self.color)
        console.print(Text.assemble(*spans, style=style))
        buffer = console.file
        assert isinstance(buffer, io.StringIO)  # noqa: S101 - made by _console
        printed = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return printed


def _console(color: bool) -> Console:
    # rich costs tens of milliseconds to import; only pay when a line needs it.
    from rich.console import Console

    return Console(
        file=io.StringIO(),
        width=WIDTH,
        force_terminal=color,
        force_jupyter=False,
        force_interactive=False,
        color_system="standard" if color else None,
        no_color=not color,
        legacy_windows=False,
        # Long lines stay whole: paths and messages remain greppable in CI logs.
        soft_wrap=True,
        markup=False,
        emoji=False,
        highlight=False,
        _environ={},
    )


def _render(out: _Lines, report: ScanReport) -> None:
    for finding in report.findings:
        _render_finding(out, finding)
        out.blank()
    if report.errors:
        out.line("Errors", style="bold")
        for error in report.errors:
            where = error.path.as_posix() if error.line is None else f"{error.path}:{error.line}"
            out.line("  ", (where, "bold"), f": {error.message}")
        out.blank()
    if report.not_analysed:
        out.line("Not analysed", style="bold")
        for skipped in report.not_analysed:
            out.line("  ", (skipped.path.as_posix(), "bold"), f": {skipped.reason}")
        out.blank()
    if report.function_risks:
        _render_attack_paths(out, report)
    if not report.findings:
        out.line("No findings.", style="bold green")
    out.line(_summary(report), style="bold" if report.findings else "")


def _render_attack_paths(out: _Lines, report: ScanReport) -> None:
    out.line("Top attack paths", style="bold")
    paths = top_paths(report)
    if not paths:
        out.line(
            "  none: no function is reachable from the internet, privileged, or holding a "
            "secret or a dangerous sink"
        )
    for risk in paths:
        out.line(
            "  ",
            (f"{risk.score:>2}", "bold red" if risk.score >= 75 else "bold"),
            "  ",
            (risk.function, "bold"),
            "  ",
            location(risk),
        )
        out.line("      " + " -> ".join(risk.attack_path))
    out.blank()


def _render_finding(out: _Lines, finding: Finding) -> None:
    severity = finding.severity
    out.line(
        (_where(finding), "bold"),
        "  ",
        (severity.name.ljust(_SEVERITY_WIDTH), _SEVERITY_STYLE[severity]),
        "  ",
        (finding.rule.id, "bold"),
        "  ",
        finding.rule.title,
    )
    out.line(f"    {finding.message}")
    out.line(("    resource: ", "dim"), f"{finding.resource} ({finding.resource_type})")


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
