"""`lambdashield.runtime` works with every third-party import blocked.

A fresh interpreter installs an import hook that refuses any module outside the standard
library (`sys.stdlib_module_names`) and lambdashield itself, then imports the runtime and
runs detection, validation and the guard. This is the cheap, deterministic regression guard
for import time: nothing heavy can sneak in without failing here.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
RUNTIME = SRC / "lambdashield" / "runtime"

PROGRAM = r"""
import sys

ALLOWED = set(sys.stdlib_module_names) | {"lambdashield"}
blocked = []


class BlockThirdParty:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] not in ALLOWED:
            blocked.append(name)
            raise ImportError(f"blocked: {name}")
        return None


sys.meta_path.insert(0, BlockThirdParty())
sys.path.insert(0, sys.argv[1])
before = set(sys.modules)

import lambdashield.runtime as runtime

after_import = set(sys.modules) - before
event = {
    "version": "2.0",
    "routeKey": "$default",
    "rawPath": "/orders",
    "rawQueryString": "",
    "headers": {"content-type": "application/json"},
    "requestContext": {"http": {"method": "POST"}, "requestId": "r"},
    "body": '{"id": 1}',
    "isBase64Encoded": False,
}
assert runtime.detect(event) == "apigw_http_v2"
assert runtime.validate(event).json == {"id": 1}
answer = runtime.run_guarded(lambda view, context: {"statusCode": 200}, event, None, audit=None)
assert answer["statusCode"] == 200
s3 = {"Records": [{"eventSource": "aws:s3", "s3": {"bucket": {"name": "b"},
      "object": {"key": "caf%C3%A9+%EF%BC%8E.jpg"}}}]}
assert runtime.validate(s3).s3.records[0].key == "caf\u00e9 \uff0e.jpg"

try:
    runtime.validate(event, http=runtime.HttpOptions(json_schema={"type": "object"}))
except runtime.RuntimeConfigError as error:
    assert "fastjsonschema" in str(error)
else:
    raise AssertionError("a schema needs fastjsonschema, which is blocked here")

outside = sorted(
    name
    for name in set(sys.modules) - before
    if name.partition(".")[0] not in ALLOWED
)
assert not outside, outside
heavy = sorted(after_import & {"dataclasses", "typing", "json", "re", "inspect", "urllib"})
assert not heavy, f"imported at import time: {heavy}"
print("ok", sorted(name for name in after_import if not name.startswith("lambdashield")))
"""


def test_runtime_imports_and_works_with_third_party_imports_blocked() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, str(SRC)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok")


def outside(module: str) -> bool:
    return module.startswith("lambdashield") and not module.startswith("lambdashield.runtime")


def imports_outside_runtime(path: Path) -> list[str]:
    """Absolute imports of other lambdashield packages, and relative ones leaving runtime/."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level > 1 or (node.level == 0 and outside(module)):
                found.append(f"{'.' * node.level}{module}")
        elif isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names if outside(alias.name))
    return found


@pytest.mark.parametrize("path", sorted(RUNTIME.glob("*.py")), ids=lambda path: path.name)
def test_runtime_imports_nothing_from_the_rest_of_lambdashield(path: Path) -> None:
    assert imports_outside_runtime(path) == []
