"""How a rule is declared: a plain function, its metadata in `@rule`, its docs in its docstring."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, get_type_hints

from lambdashield.model import Confidence, Lifecycle, RuleMeta, Severity

__all__ = ["Hit", "Rule", "rule"]

Subject = TypeVar("Subject")

_RULE_ID = re.compile(r"^LS-(IAM|FN|API|SEC|DEP|CODE|LOG)-\d{3}$")
_SECTION = re.compile(r"^## (.+)$", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Hit:
    """What a check yields: where, what it saw, and why it is (or is less of) a problem."""

    pointer: str
    message: str
    evidence: str
    """The stable part of the message (action names, ARN); it feeds the fingerprint."""
    severity: Severity | None = None
    """Replaces the rule's default when the evidence carries its own (an advisory's CVSS
    score); `lowered_because` still lowers it a step."""
    lowered_because: str | None = None
    """Why this hit is less severe than the rule's default (a restricting condition); the
    engine lowers the severity one step and says why in the message."""
    flow: tuple[tuple[int, str], ...] = ()
    """For code rules: the path from source to sink, `(line, step)` pairs in the hit's file,
    source first; the engine copies it to `Finding.flow` (SARIF `codeFlows`)."""


@dataclass(frozen=True, slots=True)
class Rule(Generic[Subject]):
    meta: RuleMeta
    scope: type[Subject]
    """The model type the check runs over; the engine hands it every object of that type."""
    check: Callable[[Subject], Iterator[Hit]]

    def __call__(self, subject: Subject) -> Iterator[Hit]:
        return self.check(subject)


def rule(
    *,
    id: str,
    title: str,
    severity: Severity,
    confidence: Confidence,
    cwe: int,
    since: str,
    tags: tuple[str, ...] = (),
    lifecycle: Lifecycle = Lifecycle.STABLE,
) -> Callable[[Callable[[Subject], Iterator[Hit]]], Rule[Subject]]:
    """Turn a check function into a `Rule`, taking its docs from the docstring.

    The docstring's first paragraph is the summary; `## Why it matters` and `## Fix` are
    required, so a rule cannot ship without the page users read.
    """
    if not _RULE_ID.match(id):
        raise ValueError(f"rule id {id!r} does not have the form LS-<FAMILY>-<NNN>")

    def decorate(check: Callable[[Subject], Iterator[Hit]]) -> Rule[Subject]:
        doc = inspect.cleandoc(check.__doc__ or "")
        summary, sections = _split_doc(doc)
        missing = {"Why it matters", "Fix"} - sections.keys()
        if not summary or missing:
            raise ValueError(f"{id}: docstring needs a summary and {sorted(missing)} sections")
        scope = _scope(check)
        family = id.split("-")[1].lower()
        meta = RuleMeta(
            id=id,
            name=check.__name__.replace("_", "-"),
            title=title,
            severity=severity,
            confidence=confidence,
            cwe=cwe,
            tags=(family, *tags),
            since=since,
            lifecycle=lifecycle,
            summary=summary,
            why=sections["Why it matters"],
            fix=sections["Fix"],
        )
        return Rule(meta=meta, scope=scope, check=check)

    return decorate


def _scope(check: Callable[..., Any]) -> Any:
    """The type of the check's parameter.

    With postponed annotations it is the name of a class in the check's module, looked up
    there; `get_type_hints` would compile every annotation of every rule on each start.
    """
    name, annotation = next((k, v) for k, v in check.__annotations__.items() if k != "return")
    if isinstance(annotation, str) and annotation.isidentifier():
        found = check.__globals__.get(annotation)
        if isinstance(found, type):
            return found
    return get_type_hints(check)[name]


def _split_doc(doc: str) -> tuple[str, dict[str, str]]:
    parts = _SECTION.split(doc)
    summary = parts[0].strip()
    sections = {parts[i].strip(): parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}
    return summary, sections
