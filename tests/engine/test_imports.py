"""A scan of policy files loads none of the code-analysis machinery.

`import lambdashield.engine` registers every rule, the code rules included; what those
rules run (the taint analysis, the SDK extraction, tree-sitter, the dependency loaders) is
imported only when a scan has handler code or dependency files. Each check runs in a
fresh interpreter: this test session has imported all of it already.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HEAVY = (
    "lambdashield.checks._code.ir",
    "lambdashield.checks._code.taint",
    "lambdashield.checks._sdk",
    "lambdashield.loaders._deps",
    "lambdashield.loaders.handlers",
    "tomllib",
    "tree_sitter",
)
"""Modules (and their submodules) a policy-only scan must not import."""


def _imported(code: str) -> list[str]:
    """The `HEAVY` modules that `code` imports in a new interpreter."""
    script = (
        f"{code}\n"
        "import sys\n"
        f"heavy = {HEAVY!r}\n"
        "print('\\n'.join(sorted(m for m in sys.modules "
        "if any(m == h or m.startswith(h + '.') for h in heavy))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return done.stdout.split()


def test_engine_import_loads_no_code_analysis() -> None:
    assert _imported("import lambdashield.engine, lambdashield.config") == []


def test_policy_scan_loads_no_code_analysis(tmp_path: Path) -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
    }
    (tmp_path / "policy.json").write_text(json.dumps(policy), encoding="utf-8")
    code = (
        "from lambdashield.config import Config\n"
        "from lambdashield.engine import scan\n"
        f"report = scan([{str(tmp_path)!r}], Config())\n"
        "assert report.findings, 'the policy should give findings'\n"
    )
    assert _imported(code) == []
