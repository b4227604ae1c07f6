"""The checked-in rule pages are exactly what the rule docstrings generate."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from lambdashield.checks import ALL_RULES

ROOT = Path(__file__).resolve().parents[1]


def test_rule_pages_match_docstrings() -> None:
    spec = importlib.util.spec_from_file_location(
        "gen_rule_docs", ROOT / "scripts/gen_rule_docs.py"
    )
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    expected = gen.expected_files(r.meta for r in ALL_RULES)
    assert gen.find_drift(ROOT / "docs" / "rules", expected) == [], (
        "run `python scripts/gen_rule_docs.py`"
    )
