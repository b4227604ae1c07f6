from __future__ import annotations

import re
from dataclasses import replace
from pathlib import PurePosixPath

from lambdashield.model import FunctionRisk, ScanReport
from lambdashield.reporters.markdown import COMMENT_LIMIT, MarkdownReporter

from .sample import FINDINGS

RISK = FunctionRisk(
    function="orders",
    path=PurePosixPath("infra/my stack/serverless.yml"),
    line=5,
    runtime="python3.7",
    runtime_status="deprecated",
    entry_points=("POST /orders (no auth)",),
    internet_reachable=True,
    admin=1,
    secrets=("API_KEY",),
    score=92,
    attack_path=("internet: POST /orders (no auth)", "privileged: admin", "holds: secret API_KEY"),
)


def render(report: ScanReport) -> str:
    return MarkdownReporter().render(report)


def test_layout(report: ScanReport) -> None:
    out = render(replace(report, baselined=0, function_risks=(RISK,)))
    assert out.startswith("### lambdashield: 3 findings (1 critical, 1 high, 1 medium)\n\n")
    assert "5 files and 2 functions scanned; 1 suppressed, 0 baselined, 1 error." in out
    assert (
        "| 92 | `orders` `infra/my stack/serverless.yml:5` | internet: POST /orders (no auth) → "
        "privileged: admin → holds: secret API\\_KEY |\n"
    ) in out
    # Errors are in the open; findings collapsed, most severe first.
    assert "**1 error**" in out and "`broken.yaml:3`" in out
    summaries = re.findall(r"<summary>(.*?)</summary>", out)
    assert summaries == [
        "<b>Critical</b>: 1 finding",
        "<b>High</b>: 1 finding",
        "<b>Medium</b>: 1 finding",
        "Not analysed: 1 input",
    ]
    # Every <details> is closed, with blank lines around tables so GitHub renders them.
    assert out.count("<details>") == out.count("</details>") == 4
    assert "</summary>\n\n| Rule | Location | Message |" in out
    assert out.endswith("<sub>lambdashield 0.1.0</sub>\n")


def test_rule_links_and_cells(report: ScanReport) -> None:
    out = render(report)
    assert (
        "| [LS-IAM-001](https://github.com/lambdashield/lambdashield/blob/main/docs/rules/"
        "LS-IAM-001.md) Policy grants administrator access | `template.yaml:12` | "
        "statement 'Admin' allows `*` on `*` (`OrdersRole`) |\n"
    ) in out


def test_new_findings_first_then_the_baselined_ones(report: ScanReport) -> None:
    new, *old = FINDINGS
    out = render(replace(report, findings=(new,), baselined=2, baselined_findings=tuple(old)))
    assert out.startswith("### lambdashield: 1 new finding (1 medium)\n")
    summaries = re.findall(r"<summary>(.*?)</summary>", out)
    assert summaries[:2] == ["<b>Medium</b>: 1 new finding", "Already in the baseline: 2 findings"]
    assert out.index("runtime: python3.7") < out.index("statement 'Admin'")


def test_clean(clean_report: ScanReport) -> None:
    out = render(clean_report)
    assert out.startswith("### lambdashield: 0 findings :white_check_mark:\n")
    assert "<details>" not in out


def test_project_text_cannot_escape(report: ScanReport) -> None:
    evil = replace(
        FINDINGS[0],
        message="a | b <img src=x onerror=alert(1)> [link](https://evil) ![i](https://x) "
        "**bold** `code | with pipe` @someone #12\nnew line",
        resource="`x`|y",
    )
    out = render(replace(report, findings=(evil,)))
    (row,) = [line for line in out.splitlines() if line.startswith("| [LS-FN-001]")]
    # Exactly three cells: no raw `|` outside the row's own separators.
    assert len(re.findall(r"(?<!\\)\|", row)) == 4
    assert re.search(r"(?<!\\)<img", out) is None
    assert "\\<img" in row and "\\[link\\]" in row and "\\!\\[i\\]" in row
    assert "\\*\\*bold\\*\\*" in row
    assert "`code \\| with pipe`" in row
    assert "\\@someone \\#12 new line" in row
    assert "`` `x`\\|y ``" in row


def test_unpaired_backtick_is_literal(report: ScanReport) -> None:
    odd = replace(FINDINGS[0], message="a ` b")
    out = render(replace(report, findings=(odd,)))
    assert "a \\` b" in out


def test_stays_under_the_comment_limit(report: ScanReport) -> None:
    many = tuple(
        replace(FINDINGS[i % 3], message=f"finding {i} " + "x" * 200, fingerprint=str(i))
        for i in range(10_000)
    )
    out = render(replace(report, findings=many))
    assert len(out.encode("utf-16-le")) // 2 <= COMMENT_LIMIT
    shown = sum(1 for line in out.splitlines() if line.startswith("| [LS-"))
    assert 100 < shown < 10_000
    assert f"> **{10_000 - shown:,} findings not shown**" in out
    assert out.count("<details>") == out.count("</details>")
