"""Whole reports compared byte for byte with `tests/golden/`: `tests/fixtures/project/`
(`scan.*`) and the bundled example, `examples/orders-service/` (`example.*`), in every
format.

Run `pytest --update-golden` after an intended output change and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from lambdashield.config import Config, load_config
from lambdashield.engine import scan
from lambdashield.model import ScanReport
from lambdashield.reporters import reporter_for

FIXTURES = Path(__file__).resolve().parent / "fixtures"
GOLDEN = Path(__file__).resolve().parent / "golden"
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
EXAMPLE_FORMATS = [
    ("text", "example.txt"),
    ("json", "example.json"),
    ("sarif", "example.sarif"),
    ("markdown", "example.md"),
    ("html", "example.html"),
]


@pytest.fixture(scope="module")
def report() -> ScanReport:
    old = Path.cwd()
    os.chdir(FIXTURES)  # paths in the report are as typed: "project/..."
    try:
        return scan(["project"], Config())
    finally:
        os.chdir(old)


@pytest.fixture(scope="module")
def example_report() -> ScanReport:
    old = Path.cwd()
    os.chdir(EXAMPLES)  # paths in the report are as typed: "orders-service/..."
    try:
        config = load_config(EXAMPLES / "orders-service" / ".lambdashield.toml")
        # A store that does not exist: results must not depend on the machine's cache.
        config = config.merged(db=Path("no-advisory-store.sqlite3"), snippets=True)
        return scan(["orders-service"], config)
    finally:
        os.chdir(old)


def _compare(report: ScanReport, fmt: str, name: str, request: pytest.FixtureRequest) -> None:
    rendered = reporter_for(fmt, color=False).render(report)
    # The version changes with every release; it is not what these files pin down.
    rendered = rendered.replace(report.version, "<version>")
    golden = GOLDEN / name
    if request.config.getoption("--update-golden"):
        golden.write_text(rendered, encoding="utf-8")
    assert rendered == golden.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("fmt", "name"), [("text", "scan.txt"), ("json", "scan.json"), ("sarif", "scan.sarif")]
)
def test_golden(report: ScanReport, fmt: str, name: str, request: pytest.FixtureRequest) -> None:
    _compare(report, fmt, name, request)


@pytest.mark.parametrize(("fmt", "name"), EXAMPLE_FORMATS)
def test_golden_example(
    example_report: ScanReport, fmt: str, name: str, request: pytest.FixtureRequest
) -> None:
    _compare(example_report, fmt, name, request)


def test_example_report_masks_the_secret(example_report: ScanReport) -> None:
    html = reporter_for("html").render(example_report)
    assert "PAYMENT_API_KEY: &lt;redacted by lambdashield&gt;" in html
    for golden in GOLDEN.glob("example.*"):
        assert "sk_live_" not in golden.read_text(encoding="utf-8"), golden.name


@pytest.mark.parametrize("name", ["scan.sarif", "example.sarif"])
def test_golden_sarif_is_valid(shared_dir: Path, name: str) -> None:
    import jsonschema

    schema = json.loads((shared_dir / "data" / "sarif" / "sarif-schema-2.1.0.json").read_text())
    document = json.loads((GOLDEN / name).read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)(schema)
    assert list(validator.iter_errors(document)) == []
