"""Every code and logging rule against its fixture projects: exactly the expected
`(file, line)` pairs in `positive/`, nothing in `negative/`.

The projects are loaded the way a scan loads them (template, then the handlers it names,
then handler-shaped files no template names) and each rule runs over every handler view.
`test_fixtures_through_the_engine` does the same through `engine.scan` once the engine
and `checks/__init__.py` register the code rules, and is skipped until then.
"""

from __future__ import annotations

import inspect
import json
import os
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from lambdashield.checks import code, rule_by_id, sensitive_logging
from lambdashield.checks._code import HandlerView
from lambdashield.checks._rule import Rule
from lambdashield.config import Config
from lambdashield.engine import scan
from lambdashield.loaders.cloudformation import load_template
from lambdashield.loaders.handlers import HandlerLoad, load_handlers
from lambdashield.model import Severity

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rules"
RULES: dict[str, Rule[Any]] = {r.meta.id: r for r in (*code.RULES, *sensitive_logging.RULES)}
WIRED = all(rule_by_id(rule_id) is not None for rule_id in RULES)


def load(folder: Path) -> HandlerLoad:
    """The folder's handlers, with paths shown relative to it."""
    applications = []
    for path in sorted(folder.rglob("template.yaml")):
        shown = PurePosixPath(path.relative_to(folder).as_posix())
        application, problems = load_template(path, shown, max_bytes=10_000_000)
        assert problems == [], problems
        applications.append(application)
    here = Path.cwd()
    os.chdir(folder)
    try:
        candidates = [(p, PurePosixPath(p.as_posix())) for p in sorted(Path().rglob("*.py"))]
        return load_handlers(applications, candidates, root=Path())
    finally:
        os.chdir(here)


def views(folder: Path) -> Iterator[HandlerView]:
    loaded = load(folder)
    assert loaded.errors == (), loaded.errors
    assert loaded.skipped == (), loaded.skipped
    for source in loaded.sources:
        yield HandlerView(source)


def located(rule_id: str, folder: Path) -> set[tuple[str, int]]:
    found = set()
    for view in views(folder):
        for hit in RULES[rule_id](view):
            origin = view.locate(hit.pointer)
            line = origin.lines(hit.pointer)[0]
            assert line is not None, hit.pointer
            found.add((origin.path.as_posix(), line))
    return found


def expected(rule_id: str) -> set[tuple[str, int]]:
    listed = json.loads((FIXTURES / rule_id / "expected.json").read_text(encoding="utf-8"))
    assert listed and len({tuple(e) for e in listed}) == len(listed), "empty or repeated"
    for file_name, _line in listed:
        assert (FIXTURES / rule_id / "positive" / file_name).is_file(), file_name
    return {(file_name, line) for file_name, line in listed}


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_rule_fixtures(rule_id: str) -> None:
    folder = FIXTURES / rule_id
    assert sorted(p.name for p in folder.iterdir()) == ["expected.json", "negative", "positive"]
    assert located(rule_id, folder / "positive") == expected(rule_id)
    assert located(rule_id, folder / "negative") == set(), f"{rule_id} fired on a near miss"


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_rule_docstring_has_summary_why_and_fix(rule_id: str) -> None:
    rule = RULES[rule_id]
    doc = inspect.getdoc(rule.check) or ""
    assert "\n## Why it matters\n" in doc and "\n## Fix\n" in doc
    assert rule.meta.summary and rule.meta.why and rule.meta.fix
    assert "##" not in rule.meta.summary + rule.meta.why + rule.meta.fix
    assert rule.scope is HandlerView
    assert rule.meta.since == "0.1.0"


def test_rule_modules_end_with_sorted_ids() -> None:
    assert [r.meta.id for r in code.RULES] == [
        *(f"LS-CODE-00{n}" for n in range(1, 8)),
        "LS-SEC-003",
    ]
    assert [r.meta.id for r in sensitive_logging.RULES] == [
        "LS-LOG-001",
        "LS-LOG-002",
        "LS-LOG-003",
    ]


def hits_of(rule_id: str) -> list[tuple[str, Any]]:
    return [
        (view.locate(hit.pointer).path.as_posix(), hit)
        for view in views(FIXTURES / rule_id / "positive")
        for hit in RULES[rule_id](view)
    ]


def test_messages_name_source_and_sink_and_flows_run_source_to_sink() -> None:
    found = {hit.pointer: hit for _path, hit in hits_of("LS-CODE-001")}
    helper = found["/run_report/subprocess.run/1"]
    assert helper.message.startswith(
        'event data from `event.get("queryStringParameters")` reaches `subprocess.run` '
        "with `shell=True` (lines 13 -> 14 -> 16 -> 9)"
    )
    assert helper.flow == (
        (13, 'source: event.get("queryStringParameters")'),
        (13, "assigned to `params`"),
        (14, "assigned to `name`"),
        (16, "passed to `run_report()` as `name`"),
        (9, "sink: subprocess.run"),
    )
    assert helper.evidence == 'event.get("queryStringParameters")->subprocess.run'
    for hit in found.values():
        assert hit.flow[0][1].startswith("source: ")
        assert hit.flow[-1][1].startswith("sink: ")


def test_findings_are_labelled_with_the_function_whose_handler_it_is() -> None:
    for view in views(FIXTURES / "LS-CODE-002" / "positive"):
        for hit in RULES["LS-CODE-002"](view):
            origin = view.locate(hit.pointer)
            name = {
                "importer.py": "ImportFunction",
                "rules.py": "RulesFunction",
                "rules_node.js": "RulesNodeFunction",
            }[origin.path.name]
            assert (origin.resource, origin.resource_type) == (name, "function")


def identities(folder: Path) -> set[tuple[str, str, str, str]]:
    return {
        (rule_id, view.locate(hit.pointer).resource, hit.pointer, hit.evidence)
        for view in views(folder)
        for rule_id, rule in RULES.items()
        for hit in rule(view)
    }


def test_fingerprint_inputs_survive_moving_the_code(tmp_path: Path) -> None:
    """Pointers and evidence (what the fingerprint hashes) do not change when lines are
    added above the code; the lines reported do."""
    for rule_id in ("LS-CODE-001", "LS-LOG-002", "LS-SEC-003"):
        source = FIXTURES / rule_id / "positive"
        moved = tmp_path / rule_id
        for path in source.rglob("*"):
            if path.is_file():
                target = moved / path.relative_to(source)
                target.parent.mkdir(parents=True, exist_ok=True)
                text = path.read_text(encoding="utf-8")
                if path.suffix == ".py":
                    text = "# moved\n\n\n" + text
                elif path.suffix == ".js":
                    text = "// moved\n\n\n" + text
                target.write_text(text, encoding="utf-8")
        assert identities(moved) == identities(source)
        assert located(rule_id, moved) == {(f, line + 3) for f, line in expected(rule_id)}


def test_messages_never_show_a_secret() -> None:
    text = "\n".join(hit.message + hit.evidence for _path, hit in hits_of("LS-SEC-003"))
    for secret in ("4eC39HqLyjWDarjtT1zdp7dc", "Orders-Pr0d-2024", "Winter-Sale", "QYLPMN5H"):
        assert secret not in text


def test_lowered_severities() -> None:
    unvalidated = dict(hits_of("LS-CODE-006"))
    assert unvalidated["src/create.py"].lowered_because is None
    assert unvalidated["src/process.py"].lowered_because == (
        "invoked only by AWS services (sqs), not by HTTP callers"
    )
    verbose = {(path, hit.pointer): hit for path, hit in hits_of("LS-CODE-007")}
    # a ValidationError
    assert verbose["src/orders.py", "/handler/return/1"].lowered_because is not None
    assert RULES["LS-CODE-001"].meta.severity is Severity.CRITICAL


def relative(finding_path: PurePosixPath, folder: Path) -> str:
    return PurePosixPath(finding_path).relative_to(PurePosixPath(folder.as_posix())).as_posix()


@pytest.mark.skipif(not WIRED, reason="checks/__init__.py does not register the code rules yet")
@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_fixtures_through_the_engine(rule_id: str) -> None:
    folder = FIXTURES / rule_id
    report = scan([str(folder / "positive")], Config(select=(rule_id,)))
    assert report.errors == ()
    found = {
        (relative(f.location.path, folder / "positive"), f.location.start_line)
        for f in report.findings
    }
    assert found == expected(rule_id)
    assert all(f.flow or rule_id in ("LS-CODE-006", "LS-SEC-003") for f in report.findings)
    report = scan([str(folder / "negative")], Config(select=(rule_id,)))
    assert report.errors == ()
    assert report.findings == ()
