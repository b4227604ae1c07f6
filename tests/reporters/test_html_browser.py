"""The HTML report of the bundled example in a real browser: headless Chromium from
Debian's packages, driven by Playwright for Python.

The page must show the counts of the JSON report of the same scan, and its filters must
show exactly the findings they select. A screenshot is kept in `test-artifacts/`.

Locally the test skips when Chromium or Playwright is missing; under CI (`CI` set, as
`.ci/run` runs) it fails instead, since `.ci/run` installs both.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from lambdashield.config import load_config
from lambdashield.engine import scan
from lambdashield.reporters.html import HtmlReporter
from lambdashield.reporters.json import JsonReporter

if TYPE_CHECKING:
    from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; .ci/run installs it, so CI must not skip this test")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    old = Path.cwd()
    os.chdir(EXAMPLES)
    try:
        config = load_config(EXAMPLES / "orders-service" / ".lambdashield.toml")
        report = scan(["orders-service"], config.merged(db=Path("no-advisory-store.sqlite3")))
    finally:
        os.chdir(old)
    page = tmp_path_factory.mktemp("html") / "report.html"
    page.write_text(HtmlReporter().render(report), encoding="utf-8")
    return page, json.loads(JsonReporter().render(report))


@pytest.fixture(scope="module")
def page(reports: tuple[Path, dict[str, Any]]) -> Any:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright for Python is not installed (pip install playwright)")
    if not CHROMIUM.is_file():
        _missing(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    path, _data = reports
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            view = browser.new_page(viewport={"width": 1280, "height": 1400})
            problems: list[str] = []
            fetched: list[str] = []
            view.on("pageerror", lambda error: problems.append(str(error)))
            view.on(
                "console",
                lambda message: problems.append(message.text) if message.type == "error" else None,
            )
            view.on(
                "request",
                lambda request: (
                    fetched.append(request.url) if not request.url.startswith("file://") else None
                ),
            )
            view.goto(path.as_uri())
            view.wait_for_load_state("load")
            yield view, problems, fetched
        finally:
            browser.close()


def _count(view: Page, element_id: str) -> int:
    return int(view.inner_text(f"#{element_id}").replace(",", ""))


def _visible(view: Page) -> list[dict[str, str]]:
    return [
        {"severity": s, "rule": r, "function": f}
        for s, r, f in view.eval_on_selector_all(
            "article.finding",
            "els => els.filter(e => !e.hidden && e.offsetParent !== null)"
            ".map(e => [e.dataset.severity, e.dataset.rule, e.dataset.function])",
        )
    ]


def test_page_shows_the_counts_of_the_json_report(
    page: Any, reports: tuple[Path, dict[str, Any]]
) -> None:
    view, problems, fetched = page
    _path, data = reports
    summary = data["summary"]
    findings = data["findings"]
    assert problems == [] and fetched == []
    assert _count(view, "count-findings") == len(findings) > 0
    for severity in ("critical", "high", "medium", "low"):
        assert _count(view, f"count-{severity}") == summary["findings_by_severity"].get(
            severity, 0
        ), severity
    assert _count(view, "count-files") == summary["files"]
    assert _count(view, "count-functions") == summary["functions"]
    assert _count(view, "count-suppressed") == summary["suppressed"]
    assert _count(view, "count-baselined") == summary["baselined"]
    assert _count(view, "count-errors") == len(data["errors"])
    assert _count(view, "count-not-analysed") == len(data["not_analysed"])
    assert _count(view, "shown-count") == len(_visible(view)) == len(findings)
    rows = view.eval_on_selector_all("table.risks tbody tr", "els => els.length")
    assert rows == len(data["function_risks"])


@pytest.mark.parametrize(
    ("select", "field", "value"),
    [
        ("#filter-severity", "severity", "high"),
        ("#filter-severity", "severity", "low"),
        ("#filter-rule", "rule_id", "LS-IAM-005"),
        ("#filter-function", "resource", "OrdersFunction"),
    ],
)
def test_filters_show_exactly_what_they_select(
    page: Any, reports: tuple[Path, dict[str, Any]], select: str, field: str, value: str
) -> None:
    view, _problems, _fetched = page
    _path, data = reports
    view.click("#filter-reset")
    view.select_option(select, value)
    expected = [f for f in data["findings"] if f[field] == value]
    shown = _visible(view)
    key = {"severity": "severity", "rule_id": "rule", "resource": "function"}[field]
    assert len(shown) == len(expected) > 0
    assert all(item[key] == value for item in shown)
    assert _count(view, "shown-count") == len(expected)
    view.click("#filter-reset")
    assert _count(view, "shown-count") == len(data["findings"])


def test_filters_combine_and_functions_pick(
    page: Any, reports: tuple[Path, dict[str, Any]]
) -> None:
    view, _problems, _fetched = page
    _path, data = reports
    view.click("#filter-reset")
    view.click('button.pick[data-function="notify"]')
    assert view.input_value("#filter-function") == "notify"
    notify = [f for f in data["findings"] if f["resource"] == "notify"]
    assert _count(view, "shown-count") == len(_visible(view)) == len(notify)
    view.select_option("#filter-severity", "high")
    by_severity = Counter(f["severity"] for f in notify)
    assert len(_visible(view)) == by_severity["high"]
    ARTIFACTS.mkdir(exist_ok=True)
    view.click("#filter-reset")
    view.evaluate("window.scrollTo(0, 0)")
    view.screenshot(path=str(ARTIFACTS / "html-report.png"), full_page=False)
    assert (ARTIFACTS / "html-report.png").stat().st_size > 10_000
