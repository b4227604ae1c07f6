from __future__ import annotations

import importlib.util
import sys
from dataclasses import replace
from pathlib import Path
from types import ModuleType

import pytest

from lambdashield.model import RuleMeta
from lambdashield.reporters.rule_docs import (
    render_rule_help_markdown,
    render_rule_help_text,
    render_rule_index,
    render_rule_page,
)

from .sample import ADMIN, RUNTIME

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "gen_rule_docs.py"


def test_rule_page() -> None:
    assert render_rule_page(ADMIN) == (
        "# LS-IAM-001: Policy grants administrator access\n"
        "\n"
        "- Name: `admin-access`\n"
        "- Severity: critical\n"
        "- Confidence: high\n"
        "- CWE: [CWE-269](https://cwe.mitre.org/data/definitions/269.html)\n"
        "- Tags: `iam`, `admin`\n"
        "- Since: 0.1.0\n"
        "- Lifecycle: stable\n"
        "\n"
        'Flags `Allow` statements with `Action: "*"` on `Resource: "*"`.\n'
        "\n"
        "## Why it matters\n"
        "\n"
        "A compromised function can do anything in the account.\n"
        "\n"
        "## Fix\n"
        "\n"
        "List only the actions the handler calls, e.g. `dynamodb:GetItem`.\n"
    )


def test_rendering_is_deterministic_and_trims_sections() -> None:
    padded = replace(ADMIN, why="\nA compromised function can do anything in the account.\n\n")
    assert render_rule_page(padded) == render_rule_page(ADMIN)
    assert render_rule_page(ADMIN).endswith(".\n")
    assert not render_rule_page(ADMIN).endswith("\n\n")


def test_help_text_is_plain() -> None:
    assert render_rule_help_text(RUNTIME) == (
        "Flags functions whose runtime no longer gets security patches.\n\n"
        "Why it matters:\n\n"
        "See AWS runtime support "
        "(https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html).\n\n"
        "Fix:\n\n"
        "Move to a supported runtime such as python3.12.\n"
    )


def test_help_text_keeps_fenced_code() -> None:
    meta = replace(RUNTIME, fix="```yaml\nRuntime: python3.12\n```")
    assert render_rule_help_text(meta).endswith("Fix:\n\n```yaml\nRuntime: python3.12\n```\n")


def test_help_markdown_is_the_page_body() -> None:
    assert render_rule_page(RUNTIME).endswith(render_rule_help_markdown(RUNTIME))


def test_index_sorted_and_escaped() -> None:
    piped = replace(RUNTIME, title="Runtime is old | unsupported")
    assert render_rule_index([ADMIN, piped]) == (
        "# Rules\n"
        "\n"
        "| ID | Title | Severity |\n"
        "|---|---|---|\n"
        "| [LS-FN-001](LS-FN-001.md) | Runtime is old \\| unsupported | medium |\n"
        "| [LS-IAM-001](LS-IAM-001.md) | Policy grants administrator access | critical |\n"
    )


@pytest.fixture
def gen_rule_docs(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_rule_docs", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "gen_rule_docs", module)
    spec.loader.exec_module(module)
    metas: list[RuleMeta] = [RUNTIME, ADMIN]
    monkeypatch.setattr(module, "all_rule_metas", lambda: metas)
    return module


def test_gen_rule_docs_writes_and_checks(
    gen_rule_docs: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    docs = tmp_path / "docs" / "rules"
    check = ["--check", "--docs-dir", str(docs)]

    assert gen_rule_docs.main(check) == 1
    assert "missing: LS-FN-001.md" in capsys.readouterr().err

    assert gen_rule_docs.main(["--docs-dir", str(docs)]) == 0
    assert sorted(path.name for path in docs.iterdir()) == [
        "LS-FN-001.md",
        "LS-IAM-001.md",
        "README.md",
    ]
    page = (docs / "LS-IAM-001.md").read_text(encoding="utf-8")
    assert page.startswith(render_rule_page(ADMIN))
    capsys.readouterr()
    assert gen_rule_docs.main(check) == 0

    (docs / "LS-IAM-001.md").write_text("hand edit\n", encoding="utf-8")
    (docs / "LS-OLD-001.md").write_text("retired\n", encoding="utf-8")
    assert gen_rule_docs.main(check) == 1
    err = capsys.readouterr().err
    assert "drifted: LS-IAM-001.md" in err
    assert "extra: LS-OLD-001.md" in err
    assert (docs / "LS-OLD-001.md").exists()  # --check never writes

    assert gen_rule_docs.main(["--docs-dir", str(docs)]) == 0
    assert not (docs / "LS-OLD-001.md").exists()
    assert gen_rule_docs.main(check) == 0
