"""Every rule, grouped by family, and the subjects each kind of rule runs over.

Registration is explicit: each family module ends with a `RULES` tuple, joined here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from lambdashield.checks import iam
from lambdashield.checks._iam_view import PolicyView
from lambdashield.checks._rule import Hit, Rule
from lambdashield.iam_catalogue import Catalogue
from lambdashield.model import Origin, PolicyDocument, RuleMeta

__all__ = ["ALL_RULES", "Hit", "Rule", "rule_by_id", "subjects"]

ALL_RULES: tuple[Rule[Any], ...] = (*iam.RULES,)

_BY_ID = {r.meta.id: r for r in ALL_RULES}


def rule_by_id(rule_id: str) -> Rule[Any] | None:
    return _BY_ID.get(rule_id.upper())


def all_meta() -> tuple[RuleMeta, ...]:
    return tuple(r.meta for r in ALL_RULES)


def subjects(
    documents: Sequence[PolicyDocument], catalogue: Catalogue | None = None
) -> Iterable[tuple[Origin, type[Any], Any]]:
    """Every object a rule can run over, with its origin and type, from the loaded model."""
    for document in documents:
        yield document.origin, PolicyView, PolicyView(document, catalogue)
