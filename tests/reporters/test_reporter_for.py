from __future__ import annotations

import subprocess
import sys

import pytest

from lambdashield.reporters import FORMATS, reporter_for
from lambdashield.reporters.html import HtmlReporter
from lambdashield.reporters.json import JsonReporter
from lambdashield.reporters.markdown import MarkdownReporter
from lambdashield.reporters.sarif import SarifReporter
from lambdashield.reporters.text import TextReporter


def test_each_format_has_a_reporter() -> None:
    assert {"text", "json", "sarif", "markdown", "html"} <= set(FORMATS)
    assert isinstance(reporter_for("json"), JsonReporter)
    assert isinstance(reporter_for("sarif"), SarifReporter)
    assert isinstance(reporter_for("markdown"), MarkdownReporter)
    assert isinstance(reporter_for("html"), HtmlReporter)
    text = reporter_for("text", color=True)
    assert isinstance(text, TextReporter)
    assert text.color


def test_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown report format 'xml'"):
        reporter_for("xml")


def test_package_import_loads_no_format_module() -> None:
    code = (
        "import sys, lambdashield.reporters\n"
        "prefixes = ('rich', 'lambdashield.reporters.')\n"
        "print(sorted(m for m in sys.modules if m.startswith(prefixes)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
