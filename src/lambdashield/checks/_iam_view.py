"""What a policy grants, worked out once per document and shared by every IAM rule.

Rules ask two kinds of question. "Does this statement grant `iam:PassRole`?" is answered
by matching the statement's own patterns, with no catalogue at all. "What does `s3:Put*`
expand to?" reads one service from the catalogue, and only when a rule asks.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from operator import itemgetter
from pathlib import Path
from typing import Any

from lambdashield.iam_catalogue import (
    AccessLevel,
    Action,
    Catalogue,
    Lookup,
    default_catalogue,
    wildcard,
)
from lambdashield.model import Effect, Grant, Item, Origin, PolicyDocument, Statement

__all__ = ["MUTATING", "Pattern", "PolicyView", "RiskData", "StatementView", "risk_data"]

MUTATING = frozenset({AccessLevel.WRITE, AccessLevel.PERMISSIONS_MANAGEMENT, AccessLevel.TAGGING})


@dataclass(frozen=True, slots=True)
class EscalationMethod:
    name: str
    actions: tuple[str, ...]
    how: str
    broad_only: bool
    lowered: frozenset[str]
    """`actions`, lower-cased, as `PolicyView.granted` keys them."""


@dataclass(frozen=True, slots=True)
class RiskData:
    escalation: tuple[EscalationMethod, ...]
    exfiltration: tuple[str, ...]
    credentials: tuple[str, ...]
    exposure: tuple[str, ...]
    restricting_keys: tuple[str, ...]


@functools.cache
def risk_data() -> RiskData:
    path = Path(__file__).with_name("data") / "iam_risky_actions.json"
    raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return RiskData(
        escalation=tuple(
            EscalationMethod(
                m["name"],
                tuple(m["actions"]),
                m["how"],
                m.get("broad_only", False),
                frozenset(a.lower() for a in m["actions"]),
            )
            for m in raw["privilege_escalation"]
        ),
        exfiltration=tuple(raw["exfiltration"]),
        credentials=tuple(raw["credentials_exposure"]),
        exposure=tuple(raw["resource_exposure"]),
        restricting_keys=tuple(raw["restricting_condition_keys"]),
    )


@functools.lru_cache(maxsize=16384)
def is_any_resource(arn: str) -> bool:
    """`*`, or an ARN whose region, account and resource are all wildcards
    (`arn:aws:*:*:*:*`, `arn:aws:kms:*:*:*`, `arn:aws:s3:::*`): every resource of a service
    is no narrower than `*` for the rules that ask."""
    if arn.strip() == "*":
        return True
    parts = _PLACEHOLDER.sub("*", arn).split(":", 5)
    return (
        len(parts) == 6
        and parts[0] == "arn"
        and all(p in ("*", "") for p in parts[3:5])
        and parts[5] == "*"
    )


@functools.lru_cache(maxsize=16384)
def _every_service(arn: str) -> bool:
    """`*` or `arn:aws:*:*:*:*`: every resource of every service."""
    parts = _PLACEHOLDER.sub("*", arn.strip()).split(":", 5)
    return parts == ["*"] or (parts[0] == "arn" and all(p in ("*", "") for p in parts[2:]))


_PLACEHOLDER = re.compile(r"\$\{[^}]*\}")
"""`${AWS::Partition}`, `${aws:username}`: one unknown value, which may hold colons."""

_NEGATED = ("Not", "Null")


@functools.cache
def _restricting_regexes() -> tuple[Any, ...]:
    return tuple(wildcard(k) for k in risk_data().restricting_keys)


@functools.lru_cache(maxsize=4096)
def _restricting(key: str) -> bool:
    """Whether a condition key narrows who or what a statement applies to."""
    lower = key.lower()
    return any(r.fullmatch(lower) for r in _restricting_regexes())


@functools.cache
def _sensitive_by_service() -> dict[str, tuple[str, ...]]:
    """Every action some risk rule looks for, lower-cased, grouped by service prefix."""
    data = risk_data()
    names = {
        a.lower() for group in (data.exfiltration, data.credentials, data.exposure) for a in group
    } | {a.lower() for method in data.escalation for a in method.actions}
    grouped: dict[str, list[str]] = {}
    for name in sorted(names):
        grouped.setdefault(name.partition(":")[0], []).append(name)
    return {service: tuple(found) for service, found in grouped.items()}


@functools.cache
def _sensitive_names() -> frozenset[str]:
    return frozenset(a for found in _sensitive_by_service().values() for a in found)


@functools.lru_cache(maxsize=32768)
def _sensitive_matches(pattern: str) -> tuple[str, ...]:
    """The risky actions one (lower-cased) `Action` pattern stands for."""
    if "*" not in pattern and "?" not in pattern:
        return (pattern,) if pattern in _sensitive_names() else ()
    grouped = _sensitive_by_service()
    service = pattern.partition(":")[0]
    if "*" in service or "?" in service:
        candidates: tuple[str, ...] = tuple(a for found in grouped.values() for a in found)
    else:
        candidates = grouped.get(service, ())
    regex = wildcard(pattern)
    return tuple(a for a in candidates if regex.fullmatch(a))


class Pattern:
    """One `Action` string as the rules read it, worked out once per distinct string and
    catalogue: real policies repeat a few thousand strings tens of thousands of times, so
    the rules ask the pattern, not the catalogue, on each entry."""

    __slots__ = (
        "_expansion",
        "_lookup",
        "_mutating",
        "_templates",
        "catalogue",
        "checkable",
        "lower",
        "sensitive",
        "service_wide",
        "text",
        "unknown",
    )

    def __init__(self, text: str, catalogue: Catalogue) -> None:
        self.catalogue = catalogue
        self.text = text.strip()
        """The entry without surrounding blanks, in the author's case."""
        self.lower = self.text.lower()
        service, _, action = self.text.partition(":")
        self.service_wide = self.text in ("*", "*:*") or (
            action == "*" and "*" not in service and "?" not in service
        )
        """`*`, `*:*` or `<service>:*`: every action of one service or of all."""
        self.checkable = self.text != "*" and ":" in self.text and "${" not in self.text
        """Whether the name can be looked up: not `*`, and not a value the loader could not
        resolve (`${var.actions}`)."""
        self.sensitive = _sensitive_matches(self.lower)
        """The risky actions of the risk data this pattern stands for, lower-cased."""
        self._lookup = catalogue.lookup(self.text) if self.checkable else None
        self.unknown = self._lookup is not None and self._lookup not in _KNOWN
        """A name AWS does not know (`LS-IAM-009`); asked of every entry, so worked out
        once here rather than on each."""
        self._expansion: tuple[Action, ...] | None = None
        self._mutating: tuple[str, ...] | None = None
        self._templates: frozenset[str] | None = None

    def lookup(self) -> Lookup:
        return self._lookup if self._lookup is not None else self.catalogue.lookup(self.text)

    def expansion(self) -> tuple[Action, ...]:
        """Every catalogue action the pattern stands for."""
        if self._expansion is None:
            self._expansion = self.catalogue.expand(self.text)
        return self._expansion

    def mutating(self) -> tuple[str, ...]:
        """The scopable write, permissions and tagging actions the pattern stands for, by
        full name."""
        if self._mutating is None:
            self._mutating = self.catalogue.scopable_names(self.text, MUTATING)
        return self._mutating

    def templates(self) -> frozenset[str]:
        """Every ARN template of every action the pattern stands for. Patterns of one
        service often share one set: the same object, so comparing them is cheap."""
        if self._templates is None:
            self._templates = _interned(
                self.catalogue,
                frozenset(t for a in self.expansion() for t in templates(self.catalogue, a)),
            )
        return self._templates


_KNOWN = (Lookup.KNOWN, Lookup.RETIRED)


@functools.cache
def _pattern_table(catalogue: Catalogue) -> dict[str, Pattern]:
    return {}


def pattern(text: str, catalogue: Catalogue) -> Pattern:
    table = _pattern_table(catalogue)
    found = table.get(text)
    if found is None:
        if len(table) > _MAX_PATTERNS:
            table.clear()  # a generated or hostile input must not grow it without end
        found = table[text] = Pattern(text, catalogue)
    return found


_MAX_PATTERNS = 200_000


@functools.cache
def _template_sets(catalogue: Catalogue) -> dict[frozenset[str], frozenset[str]]:
    return {}


def _interned(catalogue: Catalogue, found: frozenset[str]) -> frozenset[str]:
    return _template_sets(catalogue).setdefault(found, found)


@functools.lru_cache(maxsize=65536)
def templates(catalogue: Catalogue, action: Action) -> tuple[str, ...]:
    """The ARN templates of an action's resource types, required types first."""
    # A few resource types list several ARN forms in one string, separated by ", ".
    found = (catalogue.resource_arn(action, t) for t in action.resource_types)
    return tuple(arn.strip() for t in found if t for arn in t.split(", "))


class StatementView:
    __slots__ = (
        "_index",
        "_patterns",
        "_policy",
        "_restrictions",
        "_sensitive",
        "allows",
        "broad",
        "catalogue",
        "is_admin",
        "statement",
    )

    def __init__(self, statement: Statement, catalogue: Catalogue, policy: str = "") -> None:
        self.statement = statement
        self._policy = policy
        self.catalogue = catalogue
        self.broad = bool(statement.not_resources) or any(
            is_any_resource(r.value) for r in statement.resources
        )
        """Whether the statement applies to every resource (or all but a few)."""
        self._restrictions: tuple[str, ...] | None = None
        self._patterns: tuple[Pattern, ...] | None = None
        self._index: _PatternIndex | None = None
        self._sensitive: dict[str, Item] | None = None
        self.allows = statement.effect is Effect.ALLOW
        self.is_admin = (
            self.allows
            and (
                bool(statement.not_resources)
                or any(_every_service(r.value) for r in statement.resources)
            )
            and (bool(statement.not_actions) or _every_action(statement.actions))
        )
        """`Allow` of every action (or all but a `NotAction` list) on every resource."""

    # Both are asked only of statements a rule reports on: worked out then, not for all.
    @property
    def label(self) -> str:
        """How messages name the statement; with the policy's name when there are several."""
        label = self.statement.label
        return f"{label} of {self._policy}" if self._policy else label

    @property
    def restrictions(self) -> tuple[str, ...]:
        """Condition keys that narrow who or what the statement applies to."""
        if self._restrictions is None:
            self._restrictions = _restrictions(self.statement)
        return self._restrictions

    def match(self, action: str) -> Item | None:
        """The `Action` entry that grants `action` (or the `NotAction` one that lets it be)."""
        if self._index is None:
            self._index = _PatternIndex(self.statement.not_actions or self.statement.actions)
        found = self._index.find(action.lower())
        if self.statement.not_actions:
            return None if found else self.statement.not_actions[0]
        return found

    def patterns(self) -> tuple[Pattern, ...]:
        """What each `Action` entry means, in order."""
        if self._patterns is None:
            table = _pattern_table(self.catalogue)
            self._patterns = tuple(
                table.get(i.value) or pattern(i.value, self.catalogue)
                for i in self.statement.actions
            )
        return self._patterns

    def sensitive(self) -> dict[str, Item]:
        """The risky actions (lower-cased) this statement grants, with the granting entry."""
        if self._sensitive is None:
            statement = self.statement
            found: dict[str, Item] = {}
            entries = statement.not_actions or statement.actions
            meanings = (
                [pattern(i.value, self.catalogue) for i in entries]
                if statement.not_actions
                else self.patterns()
            )
            for item, meant in zip(entries, meanings, strict=True):
                for action in meant.sensitive:
                    found.setdefault(action, item)
            if statement.not_actions:
                everything = (a for group in _sensitive_by_service().values() for a in group)
                found = {a: statement.not_actions[0] for a in everything if a not in found}
            self._sensitive = found
        return self._sensitive


class _PatternIndex:
    """Action patterns by service: exact names are a dict lookup, wildcards a regex each."""

    __slots__ = ("any_service", "exact", "wild")

    def __init__(self, items: Iterable[Item]) -> None:
        self.exact: dict[str, Item] = {}
        self.wild: dict[str, list[tuple[Any, Item]]] = {}
        self.any_service: list[tuple[Any, Item]] = []
        for item in items:
            value = item.value.strip().lower()
            service = value.partition(":")[0]
            if "*" in service or "?" in service:
                self.any_service.append((wildcard(value), item))
            elif "*" in value or "?" in value:
                self.wild.setdefault(service, []).append((wildcard(value), item))
            else:
                self.exact.setdefault(value, item)

    def find(self, action: str) -> Item | None:
        found = self.exact.get(action)
        if found is not None:
            return found
        for regex, item in self.wild.get(action.partition(":")[0], ()):
            if regex.fullmatch(action):
                return item
        for regex, item in self.any_service:
            if regex.fullmatch(action):
                return item
        return None


class PolicyView:
    """What one principal is allowed: the statements of every document it holds.

    A standalone policy file is one document. A function's effective permissions are all
    the documents attached to its role (inline, managed, SAM policy templates); findings
    are labelled with `origin`'s resource (the function) and located in the document
    that holds the statement.
    """

    __slots__ = (
        "_grants",
        "catalogue",
        "denials",
        "documents",
        "origin",
        "statements",
        "unknown",
    )

    def __init__(
        self,
        documents: PolicyDocument | Sequence[PolicyDocument],
        catalogue: Catalogue | None = None,
        *,
        origin: Origin | None = None,
        unknown: Sequence[Grant] = (),
    ) -> None:
        self.documents = (documents,) if isinstance(documents, PolicyDocument) else tuple(documents)
        self.origin = origin or self.documents[0].origin
        """Who holds the permissions: the function, role or policy file findings name."""
        self.unknown = tuple(unknown)
        """Attached policies whose permissions lambdashield does not know."""
        self.catalogue = catalogue or default_catalogue()
        named = len(self.documents) > 1
        self.statements = tuple(
            StatementView(s, self.catalogue, d.name if named else "")
            for d in self.documents
            for s in d.statements
        )
        self.denials = tuple(
            s
            for s in self.statements
            if s.statement.effect is Effect.DENY
            and not s.statement.conditions
            and any(is_any_resource(r.value) for r in s.statement.resources)
        )
        """Unconditional `Deny` statements on every resource: what they match is not granted."""

        self._grants: dict[str, list[tuple[StatementView, Item]]] | None = None

    def locate(self, pointer: str) -> Origin:
        """The origin of the document a pointer lies in, labelled as this view's holder."""
        elsewhere = next(
            (g.origin for g in self.unknown if g.pointer == pointer and g.origin), None
        )
        found = elsewhere or max(
            (d.origin for d in self.documents if _within(pointer, d.origin.pointer)),
            key=lambda o: len(o.pointer),
            default=self.documents[0].origin,
        )
        if (found.resource, found.resource_type) == (
            self.origin.resource,
            self.origin.resource_type,
        ):
            return found
        return replace(
            found, resource=self.origin.resource, resource_type=self.origin.resource_type
        )

    def denied(self, action: str) -> bool:
        return any(s.match(action) is not None for s in self.denials)

    def granted(self) -> Mapping[str, list[tuple[StatementView, Item]]]:
        """The risk data's actions (lower-cased) that non-admin `Allow` statements grant,
        each with the statements and entries that grant it, in document order."""
        if self._grants is None:
            index: dict[str, list[tuple[StatementView, Item]]] = {}
            for view in self.risky():
                for name, item in view.sensitive().items():
                    index.setdefault(name, []).append((view, item))
            if self.denials:
                index = {k: v for k, v in index.items() if not self.denied(k)}
            self._grants = index
        return self._grants

    def grants(self, action: str) -> tuple[tuple[StatementView, Item], ...]:
        """Every non-admin `Allow` statement that grants `action`, with the entry that does.

        Only for the actions named in the risk data, which `sensitive()` indexes up front.
        """
        return tuple(self.granted().get(action.lower(), ()))

    def allows(self) -> Iterable[StatementView]:
        return (s for s in self.statements if s.allows)

    def risky(self) -> Iterable[StatementView]:
        """`Allow` statements short of full admin, which `LS-IAM-001` already reports."""
        return (s for s in self.statements if s.allows and not s.is_admin)


def _every_action(actions: Sequence[Item]) -> bool:
    """Whether an entry is `*` or `*:*`. Asked of nearly every statement, over every entry,
    so the loop runs in C: `map` over the entries' values, no Python frame per entry."""
    return any(map(_EVERY_ACTION.__contains__, map(str.strip, map(_value, actions))))


_EVERY_ACTION = frozenset({"*", "*:*"})
_value = itemgetter(0)
"""An `Item`'s value, as `Item.value` gives it."""


def _within(pointer: str, base: str) -> bool:
    return not base or pointer == base or pointer.startswith(base + "/")


def _restrictions(statement: Statement) -> tuple[str, ...]:
    if not statement.conditions:
        return ()
    found = []
    for operator, key, values in statement.conditions:
        base = operator.split(":")[-1]
        if (
            any(n in base for n in _NEGATED)
            or base.endswith("IfExists")
            or operator.startswith("ForAllValues:")
            or not values
            or all(v.strip("*") == "" for v in values)
        ):
            continue
        if _restricting(key):
            found.append(key)
    return tuple(sorted(set(found)))
