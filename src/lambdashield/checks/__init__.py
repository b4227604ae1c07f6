"""Every rule, grouped by family, and the subjects each kind of rule runs over.

Registration is explicit: each family module ends with a `RULES` tuple, joined here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from lambdashield.checks import (
    api,
    code,
    dependencies,
    functions,
    iam,
    least_privilege,
    secrets,
    sensitive_logging,
)
from lambdashield.checks._code import HandlerView
from lambdashield.checks._deps_view import DependencyView
from lambdashield.checks._iam_view import PolicyView
from lambdashield.checks._rule import Hit, Rule
from lambdashield.checks.functions import ApplicationView, FunctionView, Settings
from lambdashield.model import (
    Application,
    Bucket,
    DependencySet,
    Grant,
    GrantSource,
    Origin,
    Permission,
    PolicyDocument,
    Role,
    RuleMeta,
)

if TYPE_CHECKING:
    from lambdashield.advisories.store import AdvisoryStore
    from lambdashield.iam_catalogue import Catalogue
    from lambdashield.loaders.handlers import ParsedSource

__all__ = ["ALL_RULES", "Hit", "Locator", "Rule", "Settings", "rule_by_id", "subjects"]

ALL_RULES: tuple[Rule[Any], ...] = tuple(
    sorted(
        (
            *api.RULES,
            *code.RULES,
            *dependencies.RULES,
            *functions.RULES,
            *iam.RULES,
            *least_privilege.RULES,
            *secrets.RULES,
            *sensitive_logging.RULES,
        ),
        key=lambda r: r.meta.id,
    )
)

_BY_ID = {r.meta.id: r for r in ALL_RULES}


def rule_by_id(rule_id: str) -> Rule[Any] | None:
    return _BY_ID.get(rule_id.upper())


def all_meta() -> tuple[RuleMeta, ...]:
    return tuple(r.meta for r in ALL_RULES)


Locator = Callable[[str], Origin]
"""Where a hit's pointer lies: the origin of the document or resource that holds it."""


def subjects(
    documents: Sequence[PolicyDocument],
    applications: Sequence[Application] = (),
    catalogue: Catalogue | None = None,
    settings: Settings | None = None,
    dependency_sets: Sequence[DependencySet] = (),
    store: AdvisoryStore | None = None,
    code_roots: Mapping[PurePosixPath, Path] | None = None,
    handlers: Sequence[ParsedSource] = (),
) -> Iterator[tuple[type[Any], Any, Locator]]:
    """Every object a rule can run over, with its type and how to locate its hits."""
    for document in documents:
        yield PolicyView, PolicyView(document, catalogue), _fixed(document.origin)
    for found in dependency_sets:
        yield DependencyView, DependencyView(found, store), _fixed(found.origin)
    if applications:
        # The SDK extraction (service models, source readers) comes with the cache: only
        # applications have handler code to read. The SDK readers take the loader's trees
        # of the handler files rather than parse them again.
        from lambdashield.checks._sdk import SourceCache

        cache = SourceCache.of(handlers)
        for application in applications:
            yield from _application_subjects(application, catalogue, settings or Settings())
            root = (code_roots or {}).get(application.origin.path)
            for view in least_privilege.code_permissions(application, root, catalogue, cache=cache):
                yield least_privilege.CodePermissions, view, view.locate
    for source in handlers:
        handler = HandlerView(source)
        yield HandlerView, handler, handler.locate


def _application_subjects(
    application: Application, catalogue: Catalogue | None, settings: Settings
) -> Iterator[tuple[type[Any], Any, Locator]]:
    whole = ApplicationView(application, settings)
    yield ApplicationView, whole, whole.locate
    for function in application.functions:
        view = FunctionView(function, application, settings)
        yield FunctionView, view, view.locate
    for permission in application.permissions:
        yield Permission, permission, _fixed(permission.origin)
    for bucket in application.buckets:
        yield Bucket, bucket, _bucket_locator(bucket)
    used_roles = set()
    for function in application.functions:
        role = function.role
        if role is not None:
            used_roles.add(role.origin.resource)
            held = _permissions(role, function.origin, catalogue)
            if held is not None:
                yield PolicyView, held, held.locate
    for role in application.roles:
        if role.origin.resource not in used_roles:
            held = _permissions(role, role.origin, catalogue)
            if held is not None:
                yield PolicyView, held, held.locate


# What Lambda itself needs to run a function (write its logs, attach it to a VPC). Every
# function has one of them, AWS writes them, and nothing narrower can be attached, so
# reporting their `Resource: "*"` on every function would only teach users to ignore us.
BASELINE_POLICIES = frozenset({"AWSLambdaBasicExecutionRole", "AWSLambdaVPCAccessExecutionRole"})


def _permissions(role: Role, holder: Origin, catalogue: Catalogue | None) -> PolicyView | None:
    """The effective permissions of a role, labelled with who holds them."""
    documents = [
        replace(g.document, name=g.document.name or g.name)
        for g in role.grants
        if g.document is not None
        and not (
            g.source is GrantSource.AWS_MANAGED and g.name.rsplit("/", 1)[-1] in BASELINE_POLICIES
        )
    ]
    unknown = [g for g in role.grants if g.document is None]
    if role.external is not None:
        unknown.append(
            Grant(GrantSource.CUSTOMER_MANAGED, role.external, role.origin.pointer, None)
        )
    if not documents and not unknown:
        return None
    if not documents:
        documents = [PolicyDocument(holder, None, ())]
    return PolicyView(documents, catalogue, origin=holder, unknown=unknown)


def _fixed(origin: Origin) -> Locator:
    return lambda _pointer: origin


def _bucket_locator(bucket: Bucket) -> Locator:
    """A bucket's hits lie in the file that holds what they point at: its policy document,
    or a part of it that could not be read, may be written in another file than the
    bucket (a Terraform `data` block); they are labelled with the bucket all the same."""
    unknown = {where.pointer: where for _, where in bucket.policy_unknown}
    policy = bucket.policy.origin if bucket.policy is not None else None

    def locate(pointer: str) -> Origin:
        found = unknown.get(pointer)
        if found is not None:
            return found
        if (
            policy is not None
            and policy.path != bucket.origin.path
            and (pointer == policy.pointer or pointer.startswith(policy.pointer + "/"))
        ):
            return replace(
                policy,
                resource=bucket.origin.resource,
                resource_type=bucket.origin.resource_type,
            )
        return bucket.origin

    return locate
