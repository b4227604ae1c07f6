"""Engine behaviour: fingerprints, suppressions, ordering and rule selection."""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath

import pytest

from lambdashield.config import Config
from lambdashield.engine import apply_suppressions, scan, selected_rules
from lambdashield.errors import ConfigError
from lambdashield.loaders._suppressions import find_suppressions
from lambdashield.model import ScanError, Suppression

ADMIN = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


def test_fingerprint_ignores_lines(tmp_path: Path) -> None:
    policy = tmp_path / "p.json"
    policy.write_text(json.dumps(ADMIN), encoding="utf-8")
    first = scan([str(policy)], Config()).findings[0]
    policy.write_text("\n\n\n" + json.dumps(ADMIN, indent=4), encoding="utf-8")
    moved = scan([str(policy)], Config()).findings[0]
    assert moved.location.start_line != first.location.start_line
    assert moved.fingerprint == first.fingerprint


def test_lowered_severity_says_why(tmp_path: Path) -> None:
    statement = {
        "Effect": "Allow",
        "Action": "s3:GetObject",
        "Resource": "*",
        "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
    }
    policy = tmp_path / "p.json"
    policy.write_text(json.dumps({"Statement": [statement]}), encoding="utf-8")
    (finding,) = scan([str(policy)], Config(select=("LS-IAM-005",))).findings
    assert finding.severity.label == "medium"  # the rule's default is high
    assert finding.message.endswith(
        "(severity lowered: statement #0 is restricted by the condition `aws:SourceAccount`)"
    )


def test_selection_by_prefix() -> None:
    assert [r.meta.id for r in selected_rules(["LS-IAM-01"], ["LS-IAM-011"])] == [
        "LS-IAM-010",
        "LS-IAM-012",
        "LS-IAM-013",
    ]
    with pytest.raises(ConfigError, match="unknown rule or prefix 'LS-NOPE'"):
        selected_rules(["LS-NOPE"], [])


def test_inline_suppressions_need_a_reason() -> None:
    path = PurePosixPath("template.yaml")
    text = (
        "Resources:\n"
        "  # lambdashield: ignore[LS-IAM-002] the table is the service's only resource\n"
        "  Policy: {}\n"
        "  # lambdashield: ignore[LS-IAM-001]\n"
        "  Other: {}  # lambdashield: ignore[nonsense] why\n"
    )
    found, problems = find_suppressions(text, path)
    assert found == [
        Suppression(path, 2, ("LS-IAM-002",), "the table is the service's only resource")
    ]
    assert problems == [
        ScanError(path, "suppression without a reason is not applied; add one", 4),
        ScanError(path, "suppression names no valid rule ID: ['NONSENSE']", 5),
    ]


def test_suppression_applies_to_its_line_and_the_next(tmp_path: Path) -> None:
    policy = tmp_path / "p.json"
    policy.write_text(json.dumps(ADMIN, indent=2), encoding="utf-8")
    (finding,) = scan([str(policy)], Config()).findings
    line = finding.location.start_line
    assert line is not None
    here = PurePosixPath(str(policy))
    assert apply_suppressions([finding], [Suppression(here, line - 1, ("LS-IAM",), "ok")]) == []
    assert apply_suppressions([finding], [Suppression(here, line, ("LS-IAM-001",), "ok")]) == []
    assert apply_suppressions([finding], [Suppression(here, line - 2, ("LS-IAM",), "ok")]) == [
        finding
    ]
    assert apply_suppressions([finding], [Suppression(here, line, ("LS-IAM-002",), "ok")]) == [
        finding
    ]


@pytest.mark.parametrize("enabled", [True, False])
def test_the_cyclic_collector_is_off_during_a_scan_and_restored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, enabled: bool
) -> None:
    import gc

    import lambdashield.engine

    during: list[bool] = []
    real = lambdashield.engine._check

    def check(*args: object, **kwargs: object) -> object:
        during.append(gc.isenabled())
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(lambdashield.engine, "_check", check)
    (tmp_path / "p.json").write_text('{"Statement": []}', encoding="utf-8")
    before = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        scan([tmp_path], Config())
        assert during == [False]
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if before else gc.disable)()


def test_what_a_scan_allocated_is_not_left_for_the_next_young_collection(
    tmp_path: Path,
) -> None:
    import gc

    (tmp_path / "p.json").write_text(
        '{"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}',
        encoding="utf-8",
    )
    scan([tmp_path], Config())
    assert gc.get_count()[0] < 100
    assert gc.get_freeze_count() == 0


def test_a_cycle_made_during_a_scan_is_still_collected() -> None:
    import gc
    import weakref

    from lambdashield.engine import _no_cycle_collection

    class Node:
        pass

    with _no_cycle_collection():
        node = Node()
        node.loop = node  # type: ignore[attr-defined]
        gone = weakref.ref(node)
        del node
    assert gone() is not None  # moved to the oldest generation, not walked
    gc.collect()
    assert gone() is None


def test_a_scan_leaves_the_callers_frozen_objects_frozen(tmp_path: Path) -> None:
    import gc

    (tmp_path / "p.json").write_text('{"Statement": []}', encoding="utf-8")
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        scan([tmp_path], Config())
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


COPIED_TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Orders:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: build/orders/
      Handler: app.handler
      Runtime: python3.12
"""

COPIED_HANDLER = """\
import subprocess


def handler(event, context):
    return subprocess.run(event["cmd"], shell=True)
"""


def test_copies_of_a_functions_handler_and_dependencies_are_reported_once(
    tmp_path: Path,
) -> None:
    (tmp_path / "template.yaml").write_text(COPIED_TEMPLATE, encoding="utf-8")
    for folder in ("build/orders", "src/orders"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "app.py").write_text(COPIED_HANDLER, encoding="utf-8")
        (tmp_path / folder / "requirements.txt").write_text("requests>=2\n", encoding="utf-8")
    # A different file of the same name is no copy.
    (tmp_path / "src/other").mkdir()
    (tmp_path / "src/other/requirements.txt").write_text("requests>=3\n", encoding="utf-8")
    report = scan([tmp_path], Config(select=("LS-CODE-001", "LS-DEP-003")))
    found = sorted(
        (f.rule.id, f.location.path.relative_to(PurePosixPath(tmp_path.as_posix())).as_posix())
        for f in report.findings
    )
    assert found == [
        ("LS-CODE-001", "build/orders/app.py"),
        ("LS-DEP-003", "build/orders/requirements.txt"),
        ("LS-DEP-003", "src/other/requirements.txt"),
    ]
    base = tmp_path.as_posix()
    assert sorted(
        (s.path.as_posix().removeprefix(base + "/"), s.reason.replace(base + "/", ""))
        for s in report.not_analysed
        if s.path.parent.name == "orders"
    ) == [
        (
            "src/orders/app.py",
            "the same code as build/orders/app.py, the handler of `Orders`; analysed there",
        ),
        (
            "src/orders/requirements.txt",
            "the same dependencies as build/orders/requirements.txt; checked there",
        ),
    ]
