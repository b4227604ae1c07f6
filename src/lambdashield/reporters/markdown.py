"""`--format markdown`: a compact summary for pull-request comments.

The headline counts the findings by severity; the top attack paths and any errors follow
in the open; the findings themselves sit in collapsed `<details>` blocks, one per
severity. With a baseline, the report's findings are the new ones and come first; the
findings the baseline hid follow in a block of their own.

GitHub rejects comments over 65,536 characters, so rows stop before that and a note says
how many were left out. Text from the scanned project is escaped: it cannot open a link,
an image, a heading or a tag, nor break out of a table cell or a code span.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from lambdashield.model import Finding, ScanReport, Severity
from lambdashield.reporters._risk import location, top_paths
from lambdashield.reporters.sarif import DOCS_BASE

__all__ = ["COMMENT_LIMIT", "MarkdownReporter"]

COMMENT_LIMIT = 65_536
"""GitHub's limit on the body of an issue or pull-request comment, in characters."""
_RESERVE = 1_500
"""Room kept for the closing tags, the truncation note and the footer."""
_LISTED = 50
"""Errors and skipped inputs listed before "... and N more"."""

_DESCENDING = sorted(Severity, key=lambda s: s.rank, reverse=True)
_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&#!@])")
_BACKTICKS = re.compile(r"`+")


class MarkdownReporter:
    def render(self, report: ScanReport) -> str:
        return _Comment(report).render()


def _size(text: str) -> int:
    """Length as GitHub counts it (UTF-16 code units), never less than `len`."""
    return len(text.encode("utf-16-le")) // 2


class _Comment:
    def __init__(self, report: ScanReport) -> None:
        self.report = report
        self.parts: list[str] = []
        self.used = 0
        self.omitted = 0

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.used += _size(text)

    def fits(self, text: str) -> bool:
        return self.used + _size(text) <= COMMENT_LIMIT - _RESERVE

    def render(self) -> str:
        report = self.report
        baseline = report.baselined > 0 or bool(report.baselined_findings)
        self.add(_headline(report, baseline) + "\n\n")
        self.add(_overview(report) + "\n\n")
        self._attack_paths()
        self._errors()
        for severity in _DESCENDING:
            found = [f for f in report.findings if f.severity is severity]
            if found:
                noun = "new finding" if baseline else "finding"
                self._table(f"<b>{severity.label.title()}</b>: {_plural(len(found), noun)}", found)
        if report.baselined_findings:
            self._table(
                f"Already in the baseline: {_plural(len(report.baselined_findings), 'finding')}",
                report.baselined_findings,
            )
        self._not_analysed()
        if self.omitted:
            self.parts.append(
                f"> **{_plural(self.omitted, 'finding')} not shown**: a comment holds at most "
                f"{COMMENT_LIMIT:,} characters. The SARIF, JSON or HTML report lists them all.\n\n"
            )
        version = f" {_text(report.version)}" if report.version else ""
        self.parts.append(f"<sub>lambdashield{version}</sub>\n")
        return "".join(self.parts)

    def _attack_paths(self) -> None:
        paths = top_paths(self.report)
        if not paths:
            return
        rows = [
            "**Top attack paths**\n\n",
            "| Score | Function | Attack path |\n",
            "|---:|---|---|\n",
        ]
        for risk in paths:
            steps = " → ".join(_text(step) for step in risk.attack_path)
            rows.append(
                f"| {risk.score} | {_code(risk.function)} {_code(location(risk))} | {steps} |\n"
            )
        self.add("".join(rows) + "\n")

    def _errors(self) -> None:
        errors = self.report.errors
        if not errors:
            return
        lines = [f"**{_plural(len(errors), 'error')}**: inputs that could not be analysed\n\n"]
        lines.extend(
            f"- {_code(_error_where(error.path.as_posix(), error.line))}: {_text(error.message)}\n"
            for error in errors[:_LISTED]
        )
        if len(errors) > _LISTED:
            lines.append(f"- ... and {len(errors) - _LISTED} more\n")
        self.add("".join(lines) + "\n")

    def _not_analysed(self) -> None:
        skipped = self.report.not_analysed
        if not skipped:
            return
        lines = [f"<details><summary>Not analysed: {_plural(len(skipped), 'input')}</summary>\n\n"]
        lines.extend(
            f"- {_code(item.path.as_posix())}: {_text(item.reason)}\n" for item in skipped[:_LISTED]
        )
        if len(skipped) > _LISTED:
            lines.append(f"- ... and {len(skipped) - _LISTED} more\n")
        lines.append("\n</details>\n\n")
        block = "".join(lines)
        if self.fits(block):
            self.add(block)

    def _table(self, summary: str, findings: Iterable[Finding]) -> None:
        head = (
            f"<details><summary>{summary}</summary>\n\n"
            "| Rule | Location | Message |\n|---|---|---|\n"
        )
        tail = "\n</details>\n\n"
        findings = list(findings)
        if not self.fits(head + tail):
            self.omitted += len(findings)
            return
        self.add(head)
        for index, finding in enumerate(findings):
            row = _row(finding)
            if not self.fits(row + tail):
                self.omitted += len(findings) - index
                break
            self.add(row)
        self.add(tail)


def _headline(report: ScanReport, baseline: bool) -> str:
    noun = "new finding" if baseline else "finding"
    counts = report.findings_by_severity()
    detail = ", ".join(f"{counts[s.label]} {s.label}" for s in _DESCENDING if s.label in counts)
    text = f"### lambdashield: {_plural(len(report.findings), noun)}"
    if detail:
        text += f" ({detail})"
    if not report.findings and not report.errors:
        text += " :white_check_mark:"
    return text


def _overview(report: ScanReport) -> str:
    return (
        f"{_plural(report.files, 'file')} and {_plural(report.functions, 'function')} scanned; "
        f"{report.suppressed} suppressed, {report.baselined} baselined, "
        f"{_plural(len(report.errors), 'error')}."
    )


def _error_where(path: str, line: int | None) -> str:
    return f"{path}:{line}" if line is not None else path


def _row(finding: Finding) -> str:
    rule = finding.rule
    where = finding.location.path.as_posix()
    if finding.location.start_line is not None:
        where += f":{finding.location.start_line}"
    link = f"[{rule.id}]({DOCS_BASE}{rule.docs_path})"
    return (
        f"| {link} {_text(rule.title)} | {_code(where)} | {_text(finding.message)}"
        f" ({_code(finding.resource)}) |\n"
    )


def _text(text: str) -> str:
    """Project text as Markdown: its backtick pairs stay code spans, everything else is
    literal; one line, safe inside a table cell."""
    pieces = text.replace("\r", " ").replace("\n", " ").split("`")
    if len(pieces) % 2 == 0:  # an unpaired backtick: no code spans at all
        return _SPECIAL.sub(r"\\\1", "`".join(pieces))
    out = []
    for index, piece in enumerate(pieces):
        if index % 2 == 0:
            out.append(_SPECIAL.sub(r"\\\1", piece))
        elif piece:
            out.append(_code(piece))
        else:
            out.append("\\`\\`")
    return "".join(out)


def _code(text: str) -> str:
    """A code span holding `text` literally, whatever backticks or pipes it contains."""
    text = text.replace("\r", " ").replace("\n", " ")
    if not text:
        return ""
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    # GitHub splits table cells on `|` even inside code spans unless it is escaped.
    return f"{fence}{pad}{text.replace('|', chr(92) + '|')}{pad}{fence}"


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}" if count == 1 else f"{count:,} {noun}s"
