"""Whole reports of `tests/fixtures/project/`, compared byte for byte with `tests/golden/`.

Run `pytest --update-golden` after an intended output change and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from lambdashield.config import Config
from lambdashield.engine import scan
from lambdashield.model import ScanReport
from lambdashield.reporters import reporter_for

FIXTURES = Path(__file__).resolve().parent / "fixtures"
GOLDEN = Path(__file__).resolve().parent / "golden"


@pytest.fixture(scope="module")
def report() -> ScanReport:
    old = Path.cwd()
    os.chdir(FIXTURES)  # paths in the report are as typed: "project/..."
    try:
        return scan(["project"], Config())
    finally:
        os.chdir(old)


@pytest.mark.parametrize(
    ("fmt", "name"), [("text", "scan.txt"), ("json", "scan.json"), ("sarif", "scan.sarif")]
)
def test_golden(report: ScanReport, fmt: str, name: str, request: pytest.FixtureRequest) -> None:
    rendered = reporter_for(fmt, color=False).render(report)
    # The version changes with every release; it is not what these files pin down.
    rendered = rendered.replace(report.version, "<version>")
    golden = GOLDEN / name
    if request.config.getoption("--update-golden"):
        golden.write_text(rendered, encoding="utf-8")
    assert rendered == golden.read_text(encoding="utf-8")


def test_golden_sarif_is_valid(shared_dir: Path) -> None:
    import jsonschema

    schema = json.loads((shared_dir / "data" / "sarif" / "sarif-schema-2.1.0.json").read_text())
    document = json.loads((GOLDEN / "scan.sarif").read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)(schema)
    assert list(validator.iter_errors(document)) == []
