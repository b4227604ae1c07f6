"""Reporters turn a finished `ScanReport` into text, one module per format; they never analyse.

A format's module is imported only when that format is asked for, so commands that print no
report (`lambdashield --version`) never pay for `rich`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from lambdashield.model import ScanReport

__all__ = ["FORMATS", "Reporter", "reporter_for"]

FORMATS = ("text", "json", "sarif", "markdown", "html", "cyclonedx")


class Reporter(Protocol):
    def render(self, report: ScanReport) -> str:
        """The whole report in this format, ending with a newline."""
        ...


def reporter_for(fmt: str, *, color: bool = False) -> Reporter:
    """The reporter for `fmt`, one of `FORMATS`; `color` only affects `text`.

    Raises `ValueError` for an unknown format: the CLI offers only `FORMATS`, so reaching it
    is a programming error, not a usage error.
    """
    if fmt == "text":
        from lambdashield.reporters.text import TextReporter

        return TextReporter(color=color)
    if fmt == "json":
        from lambdashield.reporters.json import JsonReporter

        return JsonReporter()
    if fmt == "sarif":
        from lambdashield.reporters.sarif import SarifReporter

        return SarifReporter()
    if fmt == "markdown":
        from lambdashield.reporters.markdown import MarkdownReporter

        return MarkdownReporter()
    if fmt == "html":
        from lambdashield.reporters.html import HtmlReporter

        return HtmlReporter()
    if fmt == "cyclonedx":
        from lambdashield.reporters.cyclonedx import CycloneDxReporter

        return CycloneDxReporter()
    raise ValueError(f"unknown report format {fmt!r} (expected one of {', '.join(FORMATS)})")
