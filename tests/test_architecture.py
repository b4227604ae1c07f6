"""Imports flow one way: cli -> engine -> checks -> loaders -> model; reporters read the model."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "lambdashield"

# What each layer may import from the package, besides itself.
ALLOWED = {
    "model": set(),
    "errors": set(),
    "_cache_dir": set(),
    "iam_catalogue": {"_cache_dir"},
    "loaders": {"model", "errors"},
    "advisories": {"model", "errors", "_cache_dir"},
    "checks": {"model", "errors", "iam_catalogue", "loaders", "advisories"},
    "reporters": {"model"},
    "config": {"model", "errors"},
    "risk": {"model"},
    "engine": {
        "model",
        "errors",
        "iam_catalogue",
        "loaders",
        "advisories",
        "checks",
        "config",
        "risk",
    },
    "policygen": {"model", "errors", "iam_catalogue", "loaders", "checks", "config"},
    "cli": {
        "model",
        "errors",
        "engine",
        "config",
        "checks",
        "reporters",
        "advisories",
        "policygen",
    },
}


def layer_of(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0].removesuffix(".py")


def imported_layers(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("lambdashield.")
        ):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(
                a.name.split(".")[1] for a in node.names if a.name.startswith("lambdashield.")
            )
    return found


@pytest.mark.parametrize(
    "path", sorted(p for p in SRC.rglob("*.py") if layer_of(p) in ALLOWED), ids=str
)
def test_layering(path: Path) -> None:
    layer = layer_of(path)
    wrong = imported_layers(path) - ALLOWED[layer] - {layer}
    assert not wrong, f"{path.relative_to(SRC)} ({layer}) imports {sorted(wrong)}"
