from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambdashield.model import ScanReport
from lambdashield.reporters import reporter_for
from lambdashield.reporters.text import TextReporter

ANSI = "\x1b["

EXPECTED = """\
infra/my stack/serverless.yml:7  MEDIUM    LS-FN-001  Function uses an end-of-life runtime
    `runtime: python3.7` reached end of life
    resource: orders (function)

policies/admin.json#/Statement/0  HIGH      LS-IAM-001  Policy grants administrator access
    statement #0 allows `*` on `*` (restricted by `aws:SourceVpc`)
    resource: admin.json (policy)

template.yaml:12  CRITICAL  LS-IAM-001  Policy grants administrator access
    statement 'Admin' allows `*` on `*`
    resource: OrdersRole (role)

Errors
  broken.yaml:3: mapping values are not allowed here

Not analysed
  app/serverless.ts: TypeScript Serverless configs are not analysed

3 findings (1 critical, 1 high, 1 medium) in 5 files; 1 suppressed, 2 baselined; 1 error
"""


def test_plain_layout(report: ScanReport) -> None:
    output = TextReporter().render(report)
    assert output == EXPECTED
    assert ANSI not in output


def test_color_adds_ansi_and_nothing_else(report: ScanReport) -> None:
    output = TextReporter(color=True).render(report)
    assert ANSI in output
    assert "\x1b[1;31mCRITICAL\x1b[0m" in output
    plain = output
    for code in ("\x1b[0m", "\x1b[1m", "\x1b[2m", "\x1b[31m", "\x1b[1;31m", "\x1b[33m"):
        plain = plain.replace(code, "")
    assert plain == EXPECTED


def test_environment_does_not_change_output(
    report: ScanReport, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "20")
    monkeypatch.setenv("TERM", "dumb")
    assert TextReporter().render(report) == EXPECTED
    assert ANSI in TextReporter(color=True).render(report)


def test_clean_report(clean_report: ScanReport) -> None:
    assert TextReporter().render(clean_report) == (
        "No findings.\n0 findings in 1 file; 0 suppressed, 0 baselined; 0 errors\n"
    )


def test_user_text_is_never_markup(report: ScanReport) -> None:
    finding = replace(
        report.findings[0],
        message="[bold red]x[/bold red] :thumbs_up: [link=https://evil]y[/link] \\[z]",
        resource="[Fn]",
    )
    output = TextReporter(color=True).render(replace(report, findings=(finding,)))
    assert "    [bold red]x[/bold red] :thumbs_up: [link=https://evil]y[/link] \\[z]\n" in output
    assert "[Fn] (function)" in output
    assert "\x1b]8;" not in output  # no hyperlink escape


def test_long_lines_are_not_wrapped(report: ScanReport) -> None:
    finding = replace(report.findings[0], message="word " * 60)
    output = TextReporter().render(replace(report, findings=(finding,)))
    assert f"    {'word ' * 60}".rstrip() in output


def test_finding_without_line_or_pointer(report: ScanReport) -> None:
    finding = replace(report.findings[1], location=replace(report.findings[1].location, pointer=""))
    output = TextReporter().render(replace(report, findings=(finding,), errors=()))
    assert output.startswith("policies/admin.json  HIGH      LS-IAM-001  ")
    assert output.endswith("1 finding (1 high) in 5 files; 1 suppressed, 2 baselined; 0 errors\n")


def test_reporter_for_text(report: ScanReport) -> None:
    assert reporter_for("text").render(report) == EXPECTED
    assert ANSI in reporter_for("text", color=True).render(report)


_STYLES = ["", "bold", "dim", "red", "bold red", "yellow", "cyan", "bold green"]


@given(
    spans=st.lists(
        st.tuples(st.text(max_size=12), st.sampled_from(_STYLES)), min_size=1, max_size=5
    ),
    color=st.booleans(),
)
@settings(max_examples=300, deadline=None)
def test_lines_are_what_rich_prints(spans: list[tuple[str, str]], color: bool) -> None:
    """The fast writer gives rich's console output, byte for byte, for any text."""
    from lambdashield.reporters.text import _Lines

    fast = _Lines(color)
    fast.line(*[text if not style else (text, style) for text, style in spans])
    reference = _Lines(color)._through_rich(
        tuple(text if not style else (text, style) for text, style in spans), ""
    )
    assert fast.text() == reference


@pytest.mark.parametrize("color", [False, True])
@pytest.mark.parametrize(
    "text", ["", "plain", "tab\there", "cr\rlf", "esc\x1b[31m", "wide 漢字 🙂"]
)
def test_whole_line_styles_are_what_rich_prints(text: str, color: bool) -> None:
    from lambdashield.reporters.text import _Lines

    fast = _Lines(color)
    fast.line(text, style="bold green")
    assert fast.text() == _Lines(color)._through_rich((text,), "bold green")
