from __future__ import annotations

import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import PurePosixPath

from lambdashield.model import FunctionRisk, ScanReport, Snippet
from lambdashield.reporters.html import HtmlReporter, markdown_to_html

from .sample import FINDINGS


def render(report: ScanReport) -> str:
    return HtmlReporter().render(report)


class _Collect(HTMLParser):
    """Every start tag with its attributes, and the text, as a browser parses them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> _Collect:
    parser = _Collect()
    parser.feed(html)
    parser.close()
    return parser


def by_id(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>([^<]*)<', html)
    assert match, element_id
    return match.group(1)


def test_self_contained(report: ScanReport) -> None:
    html = render(report)
    tags = parse(html).tags
    assert html.startswith("<!DOCTYPE html>\n")
    # Nothing is fetched: no external script, style, image, frame or font.
    assert not [t for t, a in tags if t in ("link", "img", "iframe", "object", "embed")]
    assert all("src" not in attrs for _tag, attrs in tags)
    csp = next(a["content"] for t, a in tags if a.get("http-equiv") == "Content-Security-Policy")
    assert csp is not None and csp.startswith("default-src 'none';")
    assert "<script>" in html and "<style>" in html


def test_counts_and_filters(report: ScanReport) -> None:
    html = render(report)
    assert by_id(html, "count-findings") == "3"
    assert by_id(html, "count-critical") == "1"
    assert by_id(html, "count-high") == "1"
    assert by_id(html, "count-medium") == "1"
    assert by_id(html, "count-low") == "0"
    assert by_id(html, "count-files") == "5"
    assert by_id(html, "count-errors") == "1"
    assert by_id(html, "count-baselined") == "2"
    assert by_id(html, "shown-count") == "3"
    assert html.count('<article class="finding"') == 3
    assert '<option value="LS-IAM-001">LS-IAM-001 Policy grants administrator access (2)' in html
    assert '<option value="OrdersRole">OrdersRole (1)</option>' in html
    assert '<option value="critical">Critical (1)</option>' in html
    # The rule pages of the rules that fired, linked from each finding.
    assert html.count('<article class="rule"') == 2
    assert '<a href="#rule-LS-FN-001">LS-FN-001</a>' in html


def test_snippet_and_fix(report: ScanReport) -> None:
    path = PurePosixPath("template.yaml")
    lines = tuple((n, f"  line {n} <b>") for n in range(9, 18))
    html = render(replace(report, snippets=(Snippet(path, lines),)))
    (article,) = [a for a in html.split("<article") if "statement &#x27;Admin&#x27;" in a]
    assert '<span class="line"><span class="ln">10</span>  line 10 &lt;b&gt;\n</span>' in article
    for n in (12, 13, 14):
        assert f'<span class="line hit"><span class="ln">{n}</span>' in article
    assert '<span class="ln">17</span>' not in article  # two lines of context
    assert "<summary>Fix</summary>" in article
    assert "<code>dynamodb:GetItem</code>" in article


def test_function_risks(report: ScanReport) -> None:
    risk = FunctionRisk(
        function="<Fn>",
        path=PurePosixPath("t.yaml"),
        line=3,
        runtime="python3.7",
        runtime_status="deprecated",
        entry_points=("POST /x (no auth)",),
        internet_reachable=True,
        exfiltration=2,
        secrets=("KEY",),
        score=92,
        attack_path=("internet: POST /x (no auth)",),
    )
    html = render(replace(report, function_risks=(risk,)))
    pick = '<button type="button" class="pick" data-function="&lt;Fn&gt;">&lt;Fn&gt;</button>'
    assert pick in html
    assert "exfiltration 2" in html and "<li>POST /x (no auth)</li>" in html
    assert '<span class="score score-high">92</span>' in html


def test_everything_from_the_project_is_escaped(report: ScanReport) -> None:
    evil = '"><script>alert(1)</script><img src=x onerror=alert(2)>'
    finding = replace(FINDINGS[0], message=evil, resource=evil)
    html = render(
        replace(
            report,
            findings=(finding,),
            snippets=(Snippet(finding.location.path, ((7, evil),)),),
        )
    )
    parsed = parse(html)
    assert [t for t, _a in parsed.tags if t == "script"] == ["script"]  # ours only
    assert not [t for t, _a in parsed.tags if t == "img"]
    assert all(not key.startswith("on") for _t, attrs in parsed.tags for key in attrs)
    assert "&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_clean(clean_report: ScanReport) -> None:
    html = render(clean_report)
    assert '<p class="ok">No findings.</p>' in html
    assert 'id="filters"' not in html


def test_markdown_to_html() -> None:
    text = (
        "Use `a<b>` and **this**; see [docs](https://example.com/x?a=1&b=2) or "
        "[bad](javascript:alert(1)).\n\n- one\n  continued\n- two\n\n```yaml\nkey: <v>\n\n"
        "other: 1\n```\n\n1. first\n2. second"
    )
    assert markdown_to_html(text) == (
        "<p>Use <code>a&lt;b&gt;</code> and <strong>this</strong>; see "
        '<a href="https://example.com/x?a=1&amp;b=2" rel="noreferrer">docs</a> or '
        "[bad](javascript:alert(1)).</p>\n"
        "<ul><li>one continued</li><li>two</li></ul>\n"
        "<pre><code>key: &lt;v&gt;\n\nother: 1</code></pre>\n"
        "<ol><li>first</li><li>second</li></ol>\n"
    )


def test_byte_stable(report: ScanReport) -> None:
    assert render(report) == render(report)
