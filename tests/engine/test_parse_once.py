"""A scan parses each handler file once: the code rules, the SDK readers (LS-IAM-101/102)
and, when there are dependency files, the import trace (LS-DEP-005) share its tree, and none
changes it. A local module several handlers import is parsed once by the SDK readers, and
once by the import trace."""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from tree_sitter import Parser, Tree

from lambdashield.checks._sdk import javascript as sdk_javascript
from lambdashield.config import Config
from lambdashield.engine import scan
from lambdashield.loaders import handlers, node_imports
from lambdashield.model import ScanReport
from lambdashield.policygen import generate

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Environment:
      Variables:
        TABLE: orders
Resources:
"""
FUNCTION = """\
  {name}:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: {runtime}
      CodeUri: {folder}/
      Handler: {module}.handler
      Policies:
        - DynamoDBReadPolicy:
            TableName: orders
"""
FILES = {
    "py/shared.py": (
        "import os\n\nimport boto3\n\n"
        'TABLE = boto3.resource("dynamodb").Table(os.environ["TABLE"])\n\n\n'
        'def get(key):\n    return TABLE.get_item(Key={"id": key})\n'
    ),
    "py/a.py": (
        'from shared import get\n\n\ndef handler(event, context):\n    return get(event["id"])\n'
    ),
    "py/b.py": (
        'import shared\n\n\ndef handler(event, context):\n    return shared.get(event["order"])\n'
    ),
    "js/lib.js": (
        'const { DynamoDBClient, GetItemCommand } = require("@aws-sdk/client-dynamodb");\n'
        "const client = new DynamoDBClient({});\n"
        "exports.get = (id) =>\n"
        "  client.send(new GetItemCommand({ TableName: process.env.TABLE, Key: { id } }));\n"
    ),
    "js/a.js": (
        'const { get } = require("./lib");\nexports.handler = async (event) => get(event.id);\n'
    ),
    "js/b.js": (
        'const lib = require("./lib");\nexports.handler = async (event) => lib.get(event.order);\n'
    ),
}


DEPENDENCIES = {
    "py/requirements.txt": "boto3==1.34.0\n",
    "js/package-lock.json": (
        '{"lockfileVersion": 3, "packages": {"": {"dependencies": '
        '{"@aws-sdk/client-dynamodb": "3.500.0"}}, '
        '"node_modules/@aws-sdk/client-dynamodb": {"version": "3.500.0"}}}'
    ),
}
"""Dependency files beside the handlers: the scan traces what the handlers import."""


@pytest.fixture(params=[False, True], ids=["code only", "with dependency files"])
def dependencies(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
def project(tmp_path: Path, dependencies: bool) -> Path:
    if dependencies:
        for path, text in DEPENDENCIES.items():
            (tmp_path / path).parent.mkdir(exist_ok=True)
            (tmp_path / path).write_text(text, encoding="utf-8")
    template = TEMPLATE
    for path, text in FILES.items():
        (tmp_path / path).parent.mkdir(exist_ok=True)
        (tmp_path / path).write_text(text, encoding="utf-8")
        folder, _, module = path.removesuffix(".py").removesuffix(".js").partition("/")
        if module in ("a", "b"):
            runtime = "python3.12" if folder == "py" else "nodejs20.x"
            name = f"{folder.capitalize()}{module.upper()}Function"
            template += FUNCTION.format(name=name, runtime=runtime, folder=folder, module=module)
    (tmp_path / "template.yaml").write_text(template, encoding="utf-8")
    return tmp_path


@dataclass
class _Parsed:
    counts: Counter[str] = field(default_factory=Counter)
    """How often each source text was parsed, by `ast` or tree-sitter."""
    modules: list[tuple[ast.Module, str]] = field(default_factory=list)
    trees: list[tuple[Tree, str]] = field(default_factory=list)
    """The trees made, each with its dump when it was made."""


class _CountingParser:
    def __init__(self, parser: Parser, parsed: _Parsed) -> None:
        self.parser = parser
        self.parsed = parsed
        self.language = parser.language

    def parse(self, data: bytes, *args: Any) -> Tree:
        self.parsed.counts[data.decode("utf-8")] += 1
        tree = self.parser.parse(data, *args)
        self.parsed.trees.append((tree, str(tree.root_node)))
        return tree


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> _Parsed:
    found = _Parsed()
    parse = ast.parse

    def counting_ast(source: str | bytes, *args: Any, **kwargs: Any) -> Any:
        found.counts[source if isinstance(source, str) else source.decode("utf-8")] += 1
        tree = parse(source, *args, **kwargs)
        found.modules.append((tree, ast.dump(tree, include_attributes=True)))
        return tree

    def counting(factory: Callable[[Any], Parser]) -> Callable[[Any], Any]:
        return lambda kind: _CountingParser(factory(kind), found)

    monkeypatch.setattr(ast, "parse", counting_ast)
    monkeypatch.setattr(handlers, "_node_parser", counting(handlers._node_parser))
    monkeypatch.setattr(sdk_javascript, "_parser", counting(sdk_javascript._parser))
    monkeypatch.setattr(node_imports, "_parser", counting(node_imports._parser))
    return found


def _scan(project: Path) -> ScanReport:
    return scan([project], Config(db=Path("/nonexistent"), fail_on_missing_db=False))


def test_a_scan_parses_each_handler_file_once(
    project: Path, dependencies: bool, parsed: _Parsed
) -> None:
    report = _scan(project)
    assert report.errors == ()
    # The SDK readers did run: the roles grant actions the code does not call.
    assert "LS-IAM-101" in {f.rule.id for f in report.findings}
    # So did the import trace, when there are dependency files.
    traced = {s.origin.path.name: s.traced for s in report.dependency_sets}
    assert traced == (
        {
            "requirements.txt": ("PyAFunction", "PyBFunction"),
            "package-lock.json": ("JsAFunction", "JsBFunction"),
        }
        if dependencies
        else {}
    )
    handler_files = ("py/a.py", "py/b.py", "js/a.js", "js/b.js")
    assert {path: parsed.counts[FILES[path]] for path in handler_files} == dict.fromkeys(
        handler_files, 1
    )


def test_a_local_module_two_handlers_import_is_parsed_once(
    project: Path, dependencies: bool, parsed: _Parsed
) -> None:
    _scan(project)
    # Once for both handlers: by the SDK readers, and by the import trace when there are
    # dependency files (it runs before them, and keeps what a module imports, not its tree).
    times = 1 + dependencies
    assert parsed.counts[FILES["py/shared.py"]] == times
    assert parsed.counts[FILES["js/lib.js"]] == times

    parsed.counts.clear()
    # `policy generate` has no loader's trees to reuse, and a cache of its own.
    generated, errors = generate(str(project))
    assert errors == []
    assert [g.policy["Statement"][0]["Action"] for g in generated if g.policy] == [
        ["dynamodb:GetItem"]
    ] * 4
    assert parsed.counts == Counter(FILES.values())


def test_the_shared_trees_are_left_as_parsed(
    project: Path, dependencies: bool, parsed: _Parsed
) -> None:
    """Sharing a tree is sound only while nobody writes to it: no attribute set on an `ast`
    node (parent links, `fix_missing_locations`), no node rewritten, no tree-sitter edit."""
    _scan(project)
    assert len(parsed.modules) == len(parsed.trees) == 3 + dependencies
    for module, dump in parsed.modules:
        assert ast.dump(module, include_attributes=True) == dump
        for node in ast.walk(module):
            assert set(vars(node)) <= {*node._fields, *node._attributes}, type(node)
    for tree, sexp in parsed.trees:
        assert str(tree.root_node) == sexp
