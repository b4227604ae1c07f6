"""Least privilege from code: what a function's role grants against what its code calls.

The subject of these rules is a `CodePermissions` view: one function, the effective
permissions of its role, the SDK calls read from its handler source and what those calls
need once the function's environment is applied. `code_permissions()` builds the views of
one application; the engine hands them to the rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lambdashield.checks._iam_view import PolicyView, StatementView, is_any_resource
from lambdashield.checks._rule import Hit, rule
from lambdashield.checks.iam import _arn_overlap
from lambdashield.iam_catalogue import Catalogue, default_catalogue
from lambdashield.model import (
    Application,
    Confidence,
    Effect,
    Function,
    Grant,
    GrantSource,
    Item,
    Origin,
    PolicyDocument,
    Severity,
    Statement,
)

if TYPE_CHECKING:
    from pathlib import Path

    from lambdashield.checks._sdk import Extraction, Need, Requirements, SdkData, SourceCache

__all__ = ["RULES", "CodePermissions", "code_permissions"]


@dataclass(frozen=True, slots=True)
class CodePermissions:
    """One function: what its role grants, what its code calls, and what that needs."""

    function: Function
    permissions: PolicyView | None
    """The role's effective permissions without Lambda's baseline policies, as the IAM
    rules see them; `None` when the function has no role lambdashield can see."""
    extraction: Extraction
    requirements: Requirements
    grants: tuple[Grant, ...] = ()
    """Every policy attached to the role, the baseline ones included."""
    role_unknown: bool = False
    """Part of the role's permissions is unknown (an external role, a managed policy
    lambdashield does not have)."""
    holders: tuple[str, ...] = ()
    """Every function that holds the same role, this one included, sorted."""
    role_needs: tuple[Need, ...] = ()
    """What the code of every holder needs."""
    role_extractions: tuple[Extraction, ...] = ()
    catalogue: Catalogue = field(default_factory=default_catalogue, compare=False, repr=False)

    def locate(self, pointer: str) -> Origin:
        function = self.function
        if self.permissions is None or pointer == function.origin.pointer:
            return function.origin
        return self.permissions.locate(pointer)

    @property
    def reports_role(self) -> bool:
        """Unused grants of a shared role are reported once, on its first holder."""
        return not self.holders or self.holders[0] == self.function.origin.resource

    def confidence(self) -> tuple[Confidence, str]:
        extra = self.requirements.notes
        return self.extraction.confidence(extra), self.extraction.confidence_reason(extra)


def code_permissions(
    application: Application,
    root: Path | None,
    catalogue: Catalogue | None = None,
    *,
    data: SdkData | None = None,
    cache: SourceCache | None = None,
    max_bytes: int | None = None,
    permissions_of: Callable[[Function], PolicyView | None] | None = None,
) -> list[CodePermissions]:
    """The views of every function of `application` whose role lambdashield can see.

    `root` is the scanned folder (no source outside it is read). `max_bytes` bounds each
    source file read (`_sdk.files.DEFAULT_MAX_BYTES` when `None`). `permissions_of` gives a
    function's effective permissions; by default they are built as `checks.subjects` builds
    them for the IAM rules.
    """
    # The SDK extraction (its service models, the Python and JavaScript readers) is
    # imported here: the rules of this module are registered by every scan, policy-only
    # ones included, and only applications with functions need it.
    from lambdashield.checks._sdk import SourceCache, extract, requirements, sdk_data
    from lambdashield.checks._sdk.files import DEFAULT_MAX_BYTES

    if max_bytes is None:
        max_bytes = DEFAULT_MAX_BYTES
    catalogue = catalogue or default_catalogue()
    data = data or sdk_data(catalogue)
    cache = cache if cache is not None else SourceCache()
    if permissions_of is None:
        from lambdashield.checks import _permissions

        def permissions_of(function: Function) -> PolicyView | None:
            role = function.role
            return _permissions(role, function.origin, catalogue) if role else None

    built: list[tuple[Function, Extraction, Requirements]] = []
    for function in sorted(application.functions, key=lambda f: f.origin.resource):
        extraction = extract(function, root, data, max_bytes=max_bytes, cache=cache)
        built.append((function, extraction, requirements(extraction, function.environment, data)))
    by_role: dict[tuple[str, str], list[tuple[Function, Extraction, Requirements]]] = {}
    for entry in built:
        role = entry[0].role
        if role is not None:
            by_role.setdefault(_role_key(entry[0]), []).append(entry)
    # Built once per role: a service of a thousand functions shares one role.
    shared = {
        key: (
            tuple(f.origin.resource for f, _, _ in entries),
            tuple(n for _, _, r in entries for n in r.needs),
            tuple(e for _, e, _ in entries),
        )
        for key, entries in by_role.items()
    }
    views = []
    for function, extraction, needed in built:
        role = function.role
        if role is None:
            continue
        holders, role_needs, role_extractions = shared[_role_key(function)]
        views.append(
            CodePermissions(
                function=function,
                permissions=permissions_of(function),
                extraction=extraction,
                requirements=needed,
                grants=role.grants,
                role_unknown=role.external is not None
                or any(g.document is None for g in role.grants),
                holders=holders,
                role_needs=role_needs,
                role_extractions=role_extractions,
                catalogue=catalogue,
            )
        )
    return views


def _role_key(function: Function) -> tuple[str, str]:
    role = function.role
    if role is None:
        return ("", "")
    return (role.origin.path.as_posix(), role.origin.resource)


# --- helpers ---------------------------------------------------------------------------


def _names(names: Sequence[str], limit: int = 6) -> str:
    listed = sorted(set(names))
    shown = ", ".join(f"`{n}`" for n in listed[:limit])
    more = len(listed) - limit
    return f"{shown} and {more} more" if more > 0 else shown


def _confidence_text(view: CodePermissions) -> tuple[str, str | None]:
    level, reason = view.confidence()
    if level is Confidence.HIGH:
        return "extraction confidence: high", None
    if level is Confidence.MEDIUM:
        return f"extraction confidence: medium, {reason}", None
    return "extraction confidence: low", f"the code analysis is uncertain: {reason}"


def _statement_views(grants: Sequence[Grant], catalogue: Catalogue) -> list[StatementView]:
    return [
        StatementView(s, catalogue)
        for g in grants
        if g.document is not None
        for s in g.document.statements
    ]


def _resources(statement: Statement) -> list[str]:
    if statement.not_resources:
        return ["*"]
    return [r.value for r in statement.resources]


def _need_allowed(views: Sequence[StatementView], need: Need) -> bool:
    action = need.action.lower()
    for view in views:
        if (
            view.statement.effect is Effect.DENY
            and not view.statement.conditions
            and not view.statement.not_resources
            and view.match(action) is not None
            and any(_covers_all(r.value) for r in view.statement.resources)
        ):
            return False
    return any(
        view.allows
        and view.match(action) is not None
        and any(_overlap(r, need.resource) for r in _resources(view.statement))
        for view in views
    )


_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
_PSEUDO_NAMES = {
    "aws::partition": "partition",
    "partition": "partition",
    "aws::region": "region",
    "region": "region",
    "aws::accountid": "account",
    "accountid": "account",
    "account": "account",
}


def _placeholders(text: str) -> set[str]:
    return {_PSEUDO_NAMES.get(n.lower(), n.lower()) for n in _PLACEHOLDER.findall(text)}


def _overlap(granted: str, needed: str) -> bool:
    """Whether some ARN matches both patterns. A placeholder written on both sides
    (`${OrdersTable}`, `${AWS::Region}` or SAM's `${Region}`) is one unknown value, the same
    on both; a placeholder on one side only may be anything."""
    shared = _placeholders(granted) & _placeholders(needed)

    def fill(match: re.Match[str]) -> str:
        name = _PSEUDO_NAMES.get(match[1].lower(), match[1].lower())
        return f"<{name}>" if name in shared else "*"

    return _arn_overlap(_PLACEHOLDER.sub(fill, granted), _PLACEHOLDER.sub(fill, needed))


def _broad(resource: str) -> bool:
    """Every resource of a service (`*`, `arn:aws:s3:::*`); a placeholder is one value."""
    return is_any_resource(_PLACEHOLDER.sub("x", resource))


def _covers_all(resource: str) -> bool:
    return resource.strip() == "*"


def _used(action: str, resources: Sequence[str], needs: Sequence[Need]) -> list[Need]:
    lowered = action.lower()
    return [
        n
        for n in needs
        if n.action.lower() == lowered and any(_overlap(r, n.resource) for r in resources)
    ]


def _documents(view: CodePermissions) -> list[tuple[Grant, PolicyDocument]]:
    """The role's documents the IAM rules see (no baseline policies), with their grant."""
    if view.permissions is None:
        return []
    found = []
    for document in view.permissions.documents:
        grant = next(
            (
                g
                for g in view.grants
                if g.document is not None
                and g.document.origin.pointer == document.origin.pointer
                and g.document.statements == document.statements
            ),
            None,
        )
        if grant is not None:
            found.append((grant, document))
    return found


@dataclass
class _Unused:
    """What one statement grants that no call needs."""

    item_hits: list[tuple[Item, list[str], list[str]]] = field(default_factory=list)
    """(entry, unused actions, used actions)."""
    resource_hits: list[tuple[Item, list[str]]] = field(default_factory=list)
    """(resource entry, what to narrow it to; empty: remove it)."""
    used: set[str] = field(default_factory=set)
    """Every action of the statement some call needs."""


def _unused_in(view: StatementView, needs: Sequence[Need], skip: frozenset[str]) -> _Unused:
    statement = view.statement
    found = _Unused()
    resources = _resources(statement)
    used_here: list[Need] = []
    for item in statement.actions:
        service = item.value.strip().partition(":")[0].lower()
        if "*" in service or "?" in service:
            continue
        if service in skip:
            continue
        actions = view.catalogue.expand(item.value)
        if not actions:
            continue
        used: list[str] = []
        unused: list[str] = []
        for action in actions:
            matched = _used(action.full_name, resources, needs)
            (used if matched else unused).append(action.full_name)
            used_here.extend(matched)
        found.used.update(used)
        if unused:
            found.item_hits.append((item, unused, used))
    if not used_here or statement.not_resources:
        return found
    for resource in statement.resources:
        here = [n for n in used_here if _overlap(resource.value, n.resource)]
        if not here:
            found.resource_hits.append((resource, []))
            continue
        targets = sorted({n.resource for n in here})
        if _broad(resource.value) and "*" not in targets:
            found.resource_hits.append((resource, targets))
    return found


def _skipped_services(view: CodePermissions) -> frozenset[str]:
    found: set[str] = set()
    for extraction in view.role_extractions:
        found |= extraction.uncertain_services
    return frozenset(found)


# --- rules -----------------------------------------------------------------------------


@rule(
    id="LS-IAM-101",
    title="Permission granted but never used by the function's code",
    severity=Severity.MEDIUM,
    confidence=Confidence.MEDIUM,
    cwe=250,
    since="0.2.0",
    tags=("least-privilege", "code"),
)
def unused_permission(view: CodePermissions) -> Iterator[Hit]:
    """Flags actions and resources a function's role allows that no AWS SDK call in its
    handler code needs, with the exact entries to remove or narrow.

    It fires only when the handler source of every function holding the role was found and
    read in full. Actions of a service the code reaches in ways that cannot be read (a method
    chosen at run time, a client handed to a library) are never reported; a client whose
    service is chosen at run time lowers the severity and says so.

    ## Why it matters
    Every permission the code does not use is one an attacker gets for free: a handler that
    only reads an order but holds `DynamoDBCrudPolicy` can, once compromised through its
    event or a dependency, delete or overwrite every order. Unused grants also hide the ones
    that matter when a policy is reviewed.

    ## Fix
    Remove the actions and resources named in the message, or replace the policy with the
    one `lambdashield policy generate PATH --function NAME` writes from the code, e.g.
    `dynamodb:GetItem` on
    `arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${OrdersTable}`
    instead of `DynamoDBCrudPolicy`.
    """
    if view.permissions is None or not view.reports_role:
        return
    if not view.role_extractions or not all(e.complete for e in view.role_extractions):
        return
    skip = _skipped_services(view)
    if "*" in skip:
        return
    needs = view.role_needs
    confidence, lowered = _confidence_text(view)
    holders = f" (the role is shared by {_names(view.holders)})" if len(view.holders) > 1 else ""
    code = view.extraction.entry
    for grant, document in _documents(view):
        statements = [StatementView(s, view.catalogue) for s in document.statements]
        findings = [
            (s, _unused_in(s, needs, skip))
            for s in statements
            if s.allows and s.statement.actions and not s.statement.not_actions
        ]
        if grant.source in (GrantSource.SAM_TEMPLATE, GrantSource.AWS_MANAGED):
            unused = sorted({a for _, f in findings for _, names, _ in f.item_hits for a in names})
            used = sorted({a for _, f in findings for a in f.used})
            broad = sorted({r.value for _, f in findings for r, to in f.resource_hits if to})
            if not unused and not broad:
                continue
            parts = []
            if unused:
                parts.append(f"grants {_names(unused)} that the code in {code} never calls")
            if broad:
                targets = sorted({t for _, f in findings for _, to in f.resource_hits for t in to})
                parts.append(
                    f"applies to {_names(broad)} where the code uses only {_names(targets)}"
                )
            keep = f"; the code needs only {_names(used)}" if used else ""
            yield Hit(
                grant.pointer,
                f"{grant.name} {' and '.join(parts)}{keep}{holders}; replace it with the policy "
                f"`lambdashield policy generate` writes ({confidence})",
                f"{grant.name}:" + ",".join(unused) + "|" + ",".join(broad),
                lowered_because=lowered,
            )
            continue
        for statement_view, found in findings:
            label = statement_view.statement.label
            for item, unused, used in found.item_hits:
                if used:
                    message = (
                        f"`{item.value}` in {label} allows {len(unused) + len(used)} actions but "
                        f"the code in {code} calls only {_names(used)}; narrow it to those"
                    )
                else:
                    message = (
                        f"`{item.value}` in {label} is never used by the code in {code}; remove it"
                    )
                yield Hit(
                    item.pointer,
                    f"{message}{holders} ({confidence})",
                    item.value.lower(),
                    lowered_because=lowered,
                )
            for resource, targets in found.resource_hits:
                if targets:
                    message = (
                        f"`{resource.value}` in {label} is broader than the code in {code} "
                        f"needs; narrow it to {_names(targets)}"
                    )
                else:
                    message = (
                        f"`{resource.value}` in {label} is not used by any call the code in "
                        f"{code} makes; remove it"
                    )
                yield Hit(
                    resource.pointer,
                    f"{message}{holders} ({confidence})",
                    resource.value,
                    lowered_because=lowered,
                )


@rule(
    id="LS-IAM-102",
    title="AWS SDK call whose permission the function's role does not grant",
    severity=Severity.LOW,
    confidence=Confidence.MEDIUM,
    cwe=269,
    since="0.2.0",
    tags=("least-privilege", "code"),
)
def missing_permission(view: CodePermissions) -> Iterator[Hit]:
    """Flags AWS SDK calls in a function's handler code whose IAM action no statement of its
    role allows on the resource the call uses: the call fails with `AccessDenied` at run time.

    Silent when part of the role is unknown (an external role, a managed policy lambdashield
    does not have), since the permission may be there.

    ## Why it matters
    A missing permission is found in production, often on the error path nobody tested, and
    the usual quick fix under pressure is a wildcard (`dynamodb:*` on `*`) that stays. Knowing
    before deployment lets the exact grant be added instead.

    ## Fix
    Add the action on the resource the message names to the function's policies, e.g.
    `dynamodb:PutItem` on the `Orders` table's ARN, or use the policy
    `lambdashield policy generate PATH --function NAME` writes.
    """
    if view.role_unknown or view.function.role is None:
        return
    statements = _statement_views(view.grants, view.catalogue)
    confidence, lowered = _confidence_text(view)
    missing: dict[tuple[str, str], list[Need]] = {}
    for need in view.requirements.needs:
        if not _need_allowed(statements, need):
            missing.setdefault((need.action, need.resource), []).append(need)
    for (action, resource), needs in sorted(missing.items()):
        calls = sorted({f"`{n.call.method}` at {n.call.where}" for n in needs})
        shown = ", ".join(calls[:3]) + (f" and {len(calls) - 3} more" if len(calls) > 3 else "")
        yield Hit(
            view.function.origin.pointer,
            f"{shown} needs `{action}` on `{resource}`, which the role of "
            f"{view.function.origin.resource} does not grant: the call fails with AccessDenied; "
            f"add it to the function's policies ({confidence})",
            f"{action} {resource}",
            lowered_because=lowered,
        )


RULES = (unused_permission, missing_permission)
