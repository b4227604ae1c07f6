"""Rule ids: every one raised is documented, and messages are built from fields only."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from lambdashield.runtime import (
    RULES,
    EventValidationError,
    HandlerError,
    LambdashieldRuntimeError,
    RuntimeConfigError,
)

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ROOT / "src" / "lambdashield" / "runtime"


def raised_rules() -> set[str]:
    """First arguments of every `EventValidationError(...)` written in the runtime."""
    found = set()
    for path in RUNTIME.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "EventValidationError"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                found.add(node.args[0].value)
    return found


def test_every_raised_rule_is_known() -> None:
    assert raised_rules() - set(RULES) == set()


def test_every_known_rule_is_documented() -> None:
    page = (ROOT / "docs" / "runtime.md").read_text(encoding="utf-8")
    assert [rule for rule in RULES if f"| `{rule}` | {RULES[rule]} |" not in page] == []


def test_error_tree() -> None:
    for kind in (EventValidationError, HandlerError, RuntimeConfigError):
        assert issubclass(kind, LambdashieldRuntimeError)


@pytest.mark.parametrize("rule", sorted(RULES))
def test_message_names_rule_path_and_source(rule: str) -> None:
    error = EventValidationError(rule, "/Records/0/body", "sqs")
    assert str(error) == f"sqs rejected: {RULES[rule]} ({rule} at /Records/0/body)"


def test_handler_error_message_is_only_the_correlation_id() -> None:
    assert str(HandlerError("abc123")) == "handler failed (correlation id abc123)"
