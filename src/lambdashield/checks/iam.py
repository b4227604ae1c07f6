"""IAM permissions: what a policy document lets its holder do, and what is wrong with it."""

from __future__ import annotations

import functools
import itertools
import operator
import re
from collections.abc import Iterable, Iterator

from lambdashield.checks._iam_view import (
    Pattern,
    PolicyView,
    StatementView,
    is_any_resource,
    pattern,
    risk_data,
    templates,
)
from lambdashield.checks._rule import Hit, rule
from lambdashield.iam_catalogue import Action, Lookup
from lambdashield.model import Confidence, Item, Severity

__all__ = ["RULES"]


def _names(names: Iterable[str], limit: int = 6) -> str:
    listed = sorted(set(names))
    shown = ", ".join(f"`{n}`" for n in listed[:limit])
    more = len(listed) - limit
    return f"{shown} and {more} more" if more > 0 else shown


def _where(view: StatementView) -> str:
    return "every resource" if view.broad else _names(r.value for r in view.statement.resources)


def _lowered(view: StatementView) -> str | None:
    if not view.restrictions:
        return None
    keys = ", ".join(f"`{k}`" for k in view.restrictions)
    return f"{view.label} is restricted by the condition {keys}"


@rule(
    id="LS-IAM-001",
    title="Policy grants full administrator access",
    severity=Severity.CRITICAL,
    confidence=Confidence.HIGH,
    cwe=250,
    since="0.1.0",
    tags=("admin",),
)
def full_admin(policy: PolicyView) -> Iterator[Hit]:
    """Flags `Allow` statements of every action (`*`, or `NotAction`) on every resource.

    ## Why it matters
    A function with administrator rights turns any flaw in its code, its dependencies or
    its event handling into control of the whole AWS account: it can read every secret,
    delete every table and create new users for the attacker. An `Allow` with `NotAction`
    on `*` is the same grant with a few holes, and it silently grows with every action
    AWS adds.

    ## Fix
    Grant the actions the function calls, on the resources it uses, e.g.
    `dynamodb:GetItem` and `dynamodb:PutItem` on
    `arn:aws:dynamodb:us-east-1:123456789012:table/Orders`.
    `lambdashield policy generate` writes that policy from the handler code.
    """
    for view in policy.statements:
        if not view.is_admin:
            continue
        statement = view.statement
        if statement.not_actions:
            excluded = [i.value for i in statement.not_actions]
            granted = policy.catalogue.count_complement(excluded)
            message = (
                f"{statement.label} allows every action except {_names(excluded)} "
                f"({granted:,} actions today, and every one AWS adds) on every resource; "
                "grant only the actions the function calls"
            )
            pointer, evidence = f"{statement.pointer}/NotAction", "NotAction:" + ",".join(excluded)
        else:
            item = next(a for a in statement.actions if a.value.strip() in ("*", "*:*"))
            message = (
                f"{statement.label} allows `{item.value}` on every resource: full administrator "
                "access; grant only the actions the function calls"
            )
            pointer, evidence = item.pointer, item.value
        yield Hit(pointer, message, evidence, lowered_because=_lowered(view))


@rule(
    id="LS-IAM-002",
    title="Policy allows every action of a service",
    severity=Severity.HIGH,
    confidence=Confidence.HIGH,
    cwe=250,
    since="0.1.0",
    tags=("wildcard",),
)
def service_wide_action(policy: PolicyView) -> Iterator[Hit]:
    """Flags `Allow` statements with `Action: "*"` or `"<service>:*"`.

    ## Why it matters
    A compromised function gets every current and future action of the service: a
    handler that only reads orders can also delete the table, change its backups and
    export it to another account.

    ## Fix
    List only the actions the handler calls, e.g. `dynamodb:GetItem` and
    `dynamodb:Query` instead of `dynamodb:*`.
    """
    for view in policy.risky():
        patterns = view.patterns()
        # Nearly no entry is service-wide: picked out in C, not tested one by one.
        entries = zip(view.statement.actions, patterns, strict=True)
        picked = itertools.compress(entries, map(_wide, patterns))
        for item, meant in picked:
            value = meant.text
            if value in ("*", "*:*"):
                scope = "every action of every service"
            else:
                count = policy.catalogue.count(value)
                scope = f"all {count} `{value.split(':')[0]}` actions, and every one AWS adds,"
            yield Hit(
                item.pointer,
                f"`{value}` in {view.label} allows {scope} on {_where(view)}; "
                "list the actions the function calls instead",
                value.lower(),
                lowered_because=_lowered(view),
            )


_wide = operator.attrgetter("service_wide")
_unknown = operator.attrgetter("unknown")


@rule(
    id="LS-IAM-003",
    title="Write or permissions actions allowed on every resource",
    severity=Severity.MEDIUM,
    confidence=Confidence.HIGH,
    cwe=732,
    since="0.1.0",
    tags=("least-privilege",),
)
def mutating_on_any_resource(policy: PolicyView) -> Iterator[Hit]:
    """Flags write, permissions-management and tagging actions on `Resource: "*"` that
    could be scoped to specific resources.

    Actions that AWS only accepts on `*` (`s3:ListAllMyBuckets`, `ec2:Describe*`) are
    not flagged: there is nothing narrower to write.

    ## Why it matters
    `Resource: "*"` extends every write to every table, bucket and queue in the account,
    including other applications' data. An injection bug in one handler becomes damage
    across the account.

    ## Fix
    Replace `*` with the ARNs the function writes to, e.g.
    `arn:aws:dynamodb:us-east-1:123456789012:table/Orders`. The message names the
    resource types each action accepts.
    """
    for view in policy.risky():
        if not view.broad:
            continue
        mutating = {
            name for meant in view.patterns() if not meant.service_wide for name in meant.mutating()
        }
        names = sorted(
            (n for n in mutating if not policy.denied(n)) if policy.denials else mutating
        )
        if not names:
            continue
        first = policy.catalogue.action(names[0])
        arn = _example_arn(policy, first) if first else None
        example = f"; scope them to ARNs such as `{arn}`" if arn else ""
        yield Hit(
            _broad_pointer(view),
            f"{view.label} allows {_names(names)} on every resource{example}",
            ",".join(names),
            lowered_because=_lowered(view),
        )


def _example_arn(policy: PolicyView, action: Action) -> str | None:
    """The ARN form to suggest for an action: its service's own, shortest template, which is
    usually the resource itself rather than an alias of it."""
    return min(
        templates(policy.catalogue, action),
        key=lambda t: (f":{action.service}:" not in t, len(t)),
        default=None,
    )


def _broad_pointer(view: StatementView) -> str:
    """The `Resource: "*"` entry (or the `NotResource` key) that makes a statement broad."""
    statement = view.statement
    if statement.not_resources:
        return f"{statement.pointer}/NotResource"
    return next(r.pointer for r in statement.resources if is_any_resource(r.value))


@rule(
    id="LS-IAM-004",
    title="Policy allows privilege escalation",
    severity=Severity.HIGH,
    confidence=Confidence.HIGH,
    cwe=269,
    since="0.1.0",
    tags=("privilege-escalation",),
)
def privilege_escalation(policy: PolicyView) -> Iterator[Hit]:
    """Flags actions, alone or together, that let the holder raise its own privileges.

    Covers the published methods: rewriting or attaching policies
    (`iam:CreatePolicyVersion`, `iam:AttachRolePolicy`, `iam:PutRolePolicy`, ...),
    passing a role to a new compute resource (`iam:PassRole` with `lambda:CreateFunction`,
    `ec2:RunInstances`, `cloudformation:CreateStack`, ...), changing the code of a function
    that has a role (`lambda:UpdateFunctionCode`), and `iam:PassRole` on `*`. Actions may
    come from different statements of the policy.

    ## Why it matters
    A function that can escalate is an administrator in waiting: whoever controls its
    code or its input can grant themselves everything, and the policy reads as harmless.

    ## Fix
    Remove the IAM and deployment actions from runtime roles; they belong to the
    deployment pipeline. Where `iam:PassRole` is needed, limit it to one role ARN and add
    an `iam:PassedToService` condition.
    """
    by_pointer: dict[str, list[str]] = {}
    lowered: dict[str, str | None] = {}
    index = policy.granted()
    for method in risk_data().escalation:
        if not index.keys() >= method.lowered:
            continue
        evidence: list[tuple[str, StatementView, Item]] = []
        for action in method.actions:
            found = next(
                (g for g in policy.grants(action) if not method.broad_only or g[0].broad), None
            )
            if found is None:
                break
            evidence.append((action, *found))
        else:
            pointer = evidence[0][2].pointer
            granted = ", ".join(f"`{a}` ({view.label})" for a, view, _ in evidence)
            by_pointer.setdefault(pointer, []).append(f"{method.how} with {granted}")
            if pointer not in lowered or lowered[pointer] is not None:
                lowered[pointer] = _escalation_lowered([view for _, view, _ in evidence])
    for pointer, methods in by_pointer.items():
        yield Hit(
            pointer,
            "allows privilege escalation: "
            + "; ".join(methods)
            + "; keep IAM and deployment actions out of runtime roles",
            " | ".join(sorted(methods)),
            lowered_because=lowered[pointer],
        )


def _escalation_lowered(views: list[StatementView]) -> str | None:
    restricted = [_lowered(v) for v in views if v.restrictions]
    if restricted:
        return restricted[0]
    if not any(v.broad for v in views):
        return "the actions are limited to specific resources"
    return None


def _sensitive(policy: PolicyView, actions: tuple[str, ...]) -> Iterator[Hit]:
    """One hit per `Action` entry that grants any of `actions` on every resource."""
    for view in policy.risky():
        if not view.broad:
            continue
        sensitive = view.sensitive()
        if not sensitive:
            continue
        granted: dict[str, tuple[Item, list[str]]] = {}
        for action in actions:
            item = sensitive.get(action.lower())
            if item is not None and not policy.denied(action):
                granted.setdefault(item.pointer, (item, []))[1].append(action)
        for item, names in granted.values():
            first = policy.catalogue.action(names[0])
            arn = _example_arn(policy, first) if first else None
            fix = f"; scope it to ARNs such as `{arn}`" if arn else "; remove it if unused"
            yield Hit(
                item.pointer,
                f"`{item.value}` in {view.label} allows {_names(names)} on every resource{fix}",
                item.value.lower() + ":" + ",".join(sorted(names)),
                lowered_because=_lowered(view),
            )


@rule(
    id="LS-IAM-005",
    title="Policy allows reading secrets or data on every resource",
    severity=Severity.HIGH,
    confidence=Confidence.HIGH,
    cwe=200,
    since="0.1.0",
    tags=("exfiltration",),
)
def data_exfiltration(policy: PolicyView) -> Iterator[Hit]:
    """Flags actions that read secrets or bulk data (`s3:GetObject`,
    `secretsmanager:GetSecretValue`, `ssm:GetParameter*`, `kms:Decrypt`, `dynamodb:Scan`,
    ...) on every resource.

    ## Why it matters
    An attacker who reaches the function reads every secret, parameter, object and table
    in the account, not just the ones the function needs. This is how a small injection
    bug becomes a data breach.

    ## Fix
    Scope each read to the ARNs the function uses, e.g.
    `arn:aws:secretsmanager:us-east-1:123456789012:secret:orders/db-*` or
    `arn:aws:s3:::orders-uploads/*`.
    """
    return _sensitive(policy, risk_data().exfiltration)


@rule(
    id="LS-IAM-006",
    title="Policy allows obtaining credentials on every resource",
    severity=Severity.HIGH,
    confidence=Confidence.HIGH,
    cwe=522,
    since="0.1.0",
    tags=("credentials",),
)
def credentials_exposure(policy: PolicyView) -> Iterator[Hit]:
    """Flags actions that return or create credentials (`iam:CreateAccessKey`,
    `sts:AssumeRole`, `ecr:GetAuthorizationToken`, `redshift:GetClusterCredentials`, ...)
    on every resource.

    ## Why it matters
    Credentials outlive the invocation: keys or role sessions taken through the function
    keep working from the attacker's machine after the function is fixed.

    ## Fix
    Remove the action, or limit it to the exact role, user or cluster ARN, e.g.
    `sts:AssumeRole` on `arn:aws:iam::123456789012:role/orders-reporting`.
    """
    return _sensitive(policy, risk_data().credentials)


@rule(
    id="LS-IAM-007",
    title="Policy allows making resources public",
    severity=Severity.HIGH,
    confidence=Confidence.HIGH,
    cwe=732,
    since="0.1.0",
    tags=("resource-exposure",),
)
def resource_exposure(policy: PolicyView) -> Iterator[Hit]:
    """Flags permissions-management actions that rewrite resource policies or ACLs
    (`s3:PutBucketPolicy`, `lambda:AddPermission`, `kms:PutKeyPolicy`, ...) on every
    resource.

    ## Why it matters
    Whoever controls the function can open any bucket, key, queue or function in the
    account to the internet or to another account, without touching IAM.

    ## Fix
    Leave resource policies to the deployment pipeline. If the function must manage
    them, limit the action to the one resource ARN it owns.
    """
    return _sensitive(policy, risk_data().exposure)


@rule(
    id="LS-IAM-008",
    title="Allow statement uses NotAction or NotResource",
    severity=Severity.MEDIUM,
    confidence=Confidence.HIGH,
    cwe=183,
    since="0.1.0",
    tags=("least-privilege",),
)
def allow_with_negation(policy: PolicyView) -> Iterator[Hit]:
    """Flags `Allow` statements written with `NotAction` or `NotResource`.

    ## Why it matters
    An `Allow` with `NotAction` grants everything except a list, and the grant grows each
    time AWS adds an action or a service. `NotResource` does the same for resources.
    Reviewers read these statements as narrow when they are the opposite.

    ## Fix
    Write the `Allow` with `Action` and `Resource` lists. Use `NotAction` only in `Deny`
    statements, where it narrows instead of widening.
    """
    for view in policy.allows():
        statement = view.statement
        if statement.not_actions:
            excluded = _names(i.value for i in statement.not_actions)
            yield Hit(
                f"{statement.pointer}/NotAction",
                f"{statement.label} allows every action except {excluded}; "
                "list the allowed actions instead",
                "NotAction",
            )
        if statement.not_resources:
            excluded = _names(i.value for i in statement.not_resources)
            yield Hit(
                f"{statement.pointer}/NotResource",
                f"{statement.label} applies to every resource except {excluded}; "
                "list the allowed resources instead",
                "NotResource",
            )


@rule(
    id="LS-IAM-009",
    title="Unknown IAM action or service prefix",
    severity=Severity.MEDIUM,
    confidence=Confidence.HIGH,
    cwe=710,
    since="0.1.0",
    tags=("correctness",),
)
def unknown_action(policy: PolicyView) -> Iterator[Hit]:
    """Flags actions and service prefixes that do not exist in AWS, with the closest name.

    Actions of retired services that AWS's own managed policies still carry are known and
    not flagged.

    ## Why it matters
    IAM accepts a misspelt action and ignores it. In an `Allow` the function fails at run
    time and someone widens the policy to `*` to make it work; in a `Deny` the protection
    the author meant is not there.

    ## Fix
    Use the name from the service authorization reference; the message suggests the
    closest one (`s3:ListBucket`, not the API name `s3:ListObjectsV2`).
    """
    catalogue = policy.catalogue
    for view in policy.statements:
        statement = view.statement
        patterns = view.patterns()
        entries: Iterable[tuple[Item, Pattern]] = itertools.compress(
            zip(statement.actions, patterns, strict=True), map(_unknown, patterns)
        )
        if statement.not_actions:
            negated = ((i, pattern(i.value, catalogue)) for i in statement.not_actions)
            entries = itertools.chain(entries, (e for e in negated if e[1].unknown))
        for item, meant in entries:
            found = meant.lookup()
            value = meant.text
            service, _, name = value.partition(":")
            if found is Lookup.UNKNOWN_SERVICE:
                problem = f"no AWS service has the prefix `{service}`"
            elif "*" in name or "?" in name:
                problem = f"no `{service}` action matches `{name}`"
            else:
                problem = f"`{service}` has no action `{name}`"
            suggestion = catalogue.suggest(value)
            hint = f"; did you mean `{suggestion}`?" if suggestion else ""
            yield Hit(item.pointer, f"`{value}` in {view.label}: {problem}{hint}", value)


@rule(
    id="LS-IAM-010",
    title="Resource ARN cannot match the statement's actions",
    severity=Severity.MEDIUM,
    confidence=Confidence.MEDIUM,
    cwe=710,
    since="0.1.0",
    tags=("correctness",),
)
def resource_mismatch(policy: PolicyView) -> Iterator[Hit]:
    """Flags an action that applies to none of its statement's resources, and a resource
    that none of the statement's actions can apply to.

    The classic case is `s3:GetObject` on `arn:aws:s3:::bucket` (a bucket, not its
    objects). Actions that only accept `Resource: "*"` never match a specific ARN.

    ## Why it matters
    The statement does not grant (or, in a `Deny`, does not deny) what its author meant.
    The usual reaction to the resulting `AccessDenied` is to widen the policy to `*`.

    ## Fix
    Use the ARN form of the action's resource type; the message shows it, e.g.
    `arn:aws:s3:::bucket/*` for objects.
    """
    catalogue = policy.catalogue
    for view in policy.statements:
        statement = view.statement
        resources = [r for r in statement.resources if r.value.strip() != "*"]
        if view.broad or not resources or not statement.actions:
            continue
        meanings = [
            (item, meant)
            for item, meant in zip(statement.actions, view.patterns(), strict=True)
            if meant.expansion()
        ]
        # Patterns of one service mostly share one set of ARN templates: ask once per set.
        alive: dict[frozenset[str], bool] = {}
        for _, meant in meanings:
            shared = meant.templates()
            if shared not in alive:
                alive[shared] = any(_overlaps(r.value, shared) for r in resources)
        dead_items = [
            (item, meant.expansion()) for item, meant in meanings if not alive[meant.templates()]
        ]
        used = {r.pointer for r in resources if any(_overlaps(r.value, k) for k in alive)}
        for item, actions in dead_items:
            kinds = {
                f"`{catalogue.resource_arn(a, t)}`"
                for a in actions
                for t in a.resource_types
                if catalogue.resource_arn(a, t)
            }
            accepts = f"accepts {', '.join(sorted(kinds))}" if kinds else 'accepts only `"*"`'
            yield Hit(
                item.pointer,
                f"`{item.value}` in {statement.label} applies to none of "
                f"{_names(r.value for r in resources)}: it {accepts}",
                item.value + "->" + ",".join(sorted(r.value for r in resources)),
            )
        if len(dead_items) < len(meanings):
            for resource in resources:
                if resource.pointer not in used:
                    yield Hit(
                        resource.pointer,
                        f"`{resource.value}` in {statement.label} matches no resource type "
                        "of the statement's actions",
                        resource.value,
                    )


@functools.lru_cache(maxsize=65536)
def _overlaps(resource: str, kinds: frozenset[str]) -> bool:
    """Whether a policy's resource can match any of the ARN templates. Statements repeat
    the same resource against the same few template sets, hence the cache."""
    ours = _parsed(resource)
    return any(_parsed_overlap(ours, theirs) for theirs in _parsed_set(kinds))


def _arn_overlap(resource: str, template: str) -> bool:
    """Whether some ARN matches both the policy's pattern and the type's template.

    IAM matches an ARN field by field (the last field may hold colons), so the fields are
    compared one by one. `*`, `?` and policy variables (`${aws:username}`) in the policy,
    and the template's `${Placeholders}`, are all taken as `*`; literals compare
    case-insensitively, so the rule errs on the side of silence.
    """
    return _parsed_overlap(_parsed(resource), _parsed(template))


_Parts = tuple[str, ...]
"""A pattern's literal parts, lower-cased, split at every wildcard: `("ab",)` is the
literal `ab`; `("", "")` is `*`."""


@functools.lru_cache(maxsize=65536)
def _parsed(arn: str) -> tuple[_Parts, tuple[_Parts, ...]]:
    """An ARN pattern as parts, whole and field by field."""
    # Placeholders may hold colons (`${AWS::Partition}`); as wildcards they hold none.
    text = _PLACEHOLDER.sub("*", arn)
    return _stars(text), tuple(_stars(field) for field in text.split(":", 5))


@functools.lru_cache(maxsize=4096)
def _parsed_set(kinds: frozenset[str]) -> tuple[tuple[_Parts, tuple[_Parts, ...]], ...]:
    return tuple(_parsed(t) for t in kinds)


def _parsed_overlap(
    ours: tuple[_Parts, tuple[_Parts, ...]], theirs: tuple[_Parts, tuple[_Parts, ...]]
) -> bool:
    fields, other = ours[1], theirs[1]
    if len(fields) != len(other):
        return _glob_overlap(ours[0], theirs[0])
    # The service and the resource part tell most templates apart: compare them first.
    # Equal parts (`arn`, a placeholder against a wildcard, the service) always overlap.
    for i in _FIELD_ORDER if len(fields) == 6 else range(len(fields)):
        left, right = fields[i], other[i]
        if left != right and not _glob_overlap(left, right):
            return False
    return True


_FIELD_ORDER = (2, 5, 3, 4, 1, 0)


def _glob_overlap(left: _Parts, right: _Parts) -> bool:
    """Two patterns that both contain a `*` share a match exactly when their literal heads
    agree (one starts the other) and their literal tails agree; a pattern without `*` is
    one string, matched against the other as a regex."""
    if len(left) == 1:
        if len(right) == 1:
            return left[0] == right[0]
        return _star_regex(right).fullmatch(left[0]) is not None
    if len(right) == 1:
        return _star_regex(left).fullmatch(right[0]) is not None
    head, other_head, tail, other_tail = left[0], right[0], left[-1], right[-1]
    return (head.startswith(other_head) or other_head.startswith(head)) and (
        tail.endswith(other_tail) or other_tail.endswith(tail)
    )


_PLACEHOLDER = re.compile(r"\$\{[^}]*\}")
_WILD = re.compile(r"\$\{[^}]*\}|[*?]+")


def _stars(text: str) -> _Parts:
    return tuple(_WILD.split(text.lower()))


@functools.lru_cache(maxsize=4096)
def _star_regex(parts: _Parts) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(p) for p in parts), re.DOTALL)


@rule(
    id="LS-IAM-011",
    title="iam:PassRole allowed without an iam:PassedToService condition",
    severity=Severity.MEDIUM,
    confidence=Confidence.HIGH,
    cwe=269,
    since="0.1.0",
    tags=("privilege-escalation",),
)
def passrole_without_service(policy: PolicyView) -> Iterator[Hit]:
    """Flags `Allow` statements that grant `iam:PassRole` with no `iam:PassedToService`
    condition.

    ## Why it matters
    Without the condition the role can be handed to any service that takes one: EC2,
    ECS, Glue, CloudFormation. Each of those runs the attacker's code with the role.

    ## Fix
    Add `"Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}`
    (or the one service that needs the role) and limit `Resource` to that role's ARN.
    """
    for view in policy.risky():
        if "iam:passrole" not in view.sensitive():
            continue  # the cheap test first: most statements have nothing to do with roles
        item = view.match("iam:PassRole")
        if item is None or policy.denied("iam:PassRole"):
            continue
        if any(key.lower() == "iam:passedtoservice" for key in view.restrictions):
            continue
        yield Hit(
            item.pointer,
            f"`{item.value}` in {view.label} allows `iam:PassRole` on "
            f"{_where(view)} to any service; add an `iam:PassedToService` condition",
            item.value.lower(),
        )


@rule(
    id="LS-IAM-012",
    title="Malformed policy document",
    severity=Severity.MEDIUM,
    confidence=Confidence.HIGH,
    cwe=710,
    since="0.1.0",
    tags=("correctness",),
)
def malformed_policy(policy: PolicyView) -> Iterator[Hit]:
    """Flags policy grammar errors: a missing or invalid `Effect`, both or neither of
    `Action`/`NotAction`, non-string entries, unknown keys, an invalid `Version`,
    duplicate `Sid`s.

    ## Why it matters
    AWS rejects the policy at deploy time, or, for grammar it tolerates, applies
    something other than what the reader sees. Either way the rest of the analysis is
    about a policy that will not exist as written.

    ## Fix
    Correct the element the message points at; the IAM JSON policy grammar is in the
    AWS IAM User Guide.
    """
    for document in policy.documents:
        for problem in document.grammar_errors:
            yield Hit(problem.pointer, problem.value, problem.value)


@rule(
    id="LS-IAM-013",
    title="Attached policy with unknown permissions",
    severity=Severity.MEDIUM,
    confidence=Confidence.LOW,
    cwe=710,
    since="0.1.0",
    tags=("coverage",),
)
def unknown_permissions(policy: PolicyView) -> Iterator[Hit]:
    """Flags policies attached to a function's role whose permissions lambdashield cannot
    see: an AWS managed policy it does not know, a customer managed policy defined
    elsewhere, or a role that comes from outside the template.

    ## Why it matters
    A scan that finds nothing wrong in the policies it can read says nothing about the
    ones it cannot. Treating an unknown policy as harmless is how an attached
    `AdministratorAccess` under an unfamiliar name goes unnoticed.

    ## Fix
    Define the role and its policies in the template, or check the named policy by hand
    and suppress this finding with the reason (`lambdashield: ignore[LS-IAM-013] ...`).
    """
    for grant in policy.unknown:
        yield Hit(
            grant.pointer,
            f"`{grant.name}` is attached to {policy.origin.resource}, but its permissions are "
            "unknown here and were not checked",
            grant.name,
        )


RULES = (
    full_admin,
    service_wide_action,
    mutating_on_any_resource,
    privilege_escalation,
    data_exfiltration,
    credentials_exposure,
    resource_exposure,
    allow_with_negation,
    unknown_action,
    resource_mismatch,
    passrole_without_service,
    malformed_policy,
    unknown_permissions,
)
