"""Entry points: function URLs and API routes without authorisation, function permissions
open to everyone or to other accounts' resources, public buckets that trigger functions
(and those whose policy is not fully known)."""

from __future__ import annotations

import fnmatch
import functools
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambdashield.checks._rule import Hit, rule
from lambdashield.checks.functions import ApplicationView, FunctionView, event_name
from lambdashield.model import (
    AuthKind,
    Bucket,
    Confidence,
    Effect,
    Item,
    Permission,
    Severity,
    Statement,
    Trigger,
    TriggerKind,
)

__all__ = ["RULES", "route_is_public"]


@dataclass(frozen=True, slots=True)
class _Data:
    not_public_keys: frozenset[str]
    confused_deputy_keys: frozenset[str]
    s3_read: tuple[str, ...]
    s3_write: tuple[str, ...]


@functools.cache
def _data() -> _Data:
    path = Path(__file__).with_name("data") / "public_access.json"
    raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return _Data(
        not_public_keys=frozenset(k.lower() for k in raw["not_public_keys"]),
        confused_deputy_keys=frozenset(k.lower() for k in raw["confused_deputy_keys"]),
        s3_read=tuple(raw["s3_read_actions"]),
        s3_write=tuple(raw["s3_write_actions"]),
    )


_ANYWHERE = frozenset({"0.0.0.0/0", "::/0"})


def _restricted(statement: Statement, keys: frozenset[str]) -> tuple[str, ...]:
    """Condition keys among `keys` that narrow the statement to fixed values; negated,
    `IfExists`, `Null` and match-anything conditions do not count."""
    found = []
    for operator, key, values in statement.conditions:
        base = operator.split(":")[-1]
        if (
            "Not" in base
            or base == "Null"
            or base.endswith("IfExists")
            or operator.startswith("ForAllValues:")
            or key.lower() not in keys
            or not values
            or all(v.strip("*? ") == "" or v.strip() in _ANYWHERE for v in values)
        ):
            continue
        found.append(key)
    return tuple(sorted(set(found)))


def _granted(statement: Statement, candidates: Iterable[str]) -> list[str]:
    """The candidate actions a statement's `Action` (or `NotAction`) grants."""
    if statement.not_actions:
        excluded = [a.value.strip().lower() for a in statement.not_actions]
        return [
            c for c in candidates if not any(fnmatch.fnmatchcase(c.lower(), p) for p in excluded)
        ]
    patterns = [a.value.strip().lower() for a in statement.actions]
    return [c for c in candidates if any(fnmatch.fnmatchcase(c.lower(), p) for p in patterns)]


def _principals(statement: Statement) -> Iterator[tuple[str, Item]]:
    """`Principal` entries (never `NotPrincipal` ones)."""
    for kind, item in statement.principals:
        if "/NotPrincipal" not in item.pointer:
            yield kind, item


def _everyone(kind: str, item: Item) -> bool:
    return kind == "*" or (kind == "AWS" and item.value.strip() == "*")


def _service(principal: str) -> bool:
    value = principal.strip().lower()
    return value.endswith((".amazonaws.com", ".amazonaws.com.cn")) and "*" not in value


# --- LS-API-001 --------------------------------------------------------------------------


@rule(
    id="LS-API-001",
    title="Function URL allows unauthenticated access",
    severity=Severity.HIGH,
    confidence=Confidence.HIGH,
    cwe=306,
    since="0.1.0",
    tags=("function-url", "authentication"),
)
def public_function_url(view: FunctionView) -> Iterator[Hit]:
    """Flags function URLs with `AuthType: NONE` (SAM `FunctionUrlConfig`,
    `AWS::Lambda::Url`, Serverless `url: true`, Terraform `aws_lambda_function_url`).

    ## Why it matters
    Anyone on the internet who finds the URL can invoke the function with any payload,
    as often as they like: no credentials, no throttling per caller, no WAF. Every
    invocation runs with the function's role and is billed to the account.

    ## Fix
    Set `AuthType: AWS_IAM` and sign requests with SigV4 (for browsers, put CloudFront
    with origin access control in front). If the endpoint must be public, such as a
    webhook, verify a signature or token on every request in the handler and suppress
    this finding with the reason.
    """
    for trigger in view.function.triggers:
        if trigger.kind is not TriggerKind.FUNCTION_URL or trigger.auth is None:
            continue
        if trigger.auth.kind is not AuthKind.NONE:
            continue
        name = trigger.name or "function URL"
        yield Hit(
            trigger.auth.pointer or trigger.pointer,
            f"function URL `{name}` has `AuthType: NONE`: anyone on the internet can invoke "
            "the function without credentials; use `AuthType: AWS_IAM`, or verify every "
            "request in the handler and suppress this finding with the reason",
            f"function-url:{name}",
        )


# --- LS-API-002 --------------------------------------------------------------------------

_SAFE_METHODS = frozenset({"GET", "HEAD"})


def _split_route(route: str) -> tuple[str, str]:
    method, sep, path = route.strip().partition(" ")
    if not sep:
        return "", route.strip()
    return method.upper(), path.strip()


def _normal_path(path: str) -> str:
    return path.rstrip("/") or "/"


def route_is_public(route: str, public_routes: Iterable[str]) -> bool:
    """Whether `public_routes` lists a route (`"GET /health"`) as meant to be public.

    An entry is `METHOD /path` or `/path` (any method); paths may use shell-style
    wildcards (`/public/*`). A method matches only itself, `*` or an entry without a
    method: listing `GET /health` does not excuse `ANY /health`.
    """
    method, path = _split_route(route)
    for entry in public_routes:
        wanted_method, wanted_path = _split_route(entry)
        if wanted_method not in ("", "*") and wanted_method != method:
            continue
        if fnmatch.fnmatchcase(_normal_path(path), _normal_path(wanted_path)):
            return True
    return False


def _route_needs_auth(trigger: Trigger) -> bool:
    if not trigger.kind.is_http or trigger.kind is TriggerKind.FUNCTION_URL:
        return False
    if trigger.auth is None or trigger.auth.kind is not AuthKind.NONE:
        return False
    method, _ = _split_route(trigger.source)
    if method == "OPTIONS":
        return False
    return trigger.kind is not TriggerKind.API_WEBSOCKET or trigger.source.startswith("$connect")


@rule(
    id="LS-API-002",
    title="API route has no authorisation",
    severity=Severity.HIGH,
    confidence=Confidence.MEDIUM,
    cwe=306,
    since="0.1.0",
    tags=("route", "authentication"),
)
def route_without_authorisation(view: FunctionView) -> Iterator[Hit]:
    """Flags API Gateway routes and methods (REST, HTTP and WebSocket `$connect`) that
    invoke a function with no authorizer and no IAM authorisation, one finding per
    route, naming its method and path.

    Routes listed in the `public-routes` setting are not reported, nor are `OPTIONS`
    (CORS preflight) routes. Read-only methods (`GET`, `HEAD`) and routes that require an
    API key are reported one severity lower: an API key identifies a caller, it does not
    authorise one. Routes of private REST APIs (`EndpointConfiguration: PRIVATE`,
    Serverless `endpointType: PRIVATE`, Terraform `endpoint_configuration` type
    `PRIVATE`) are also reported one severity lower, not skipped: the internet cannot
    reach them, but a VPC endpoint decides where a caller sits, not who it is, so every
    workload that can reach an endpoint the API's resource policy admits can call the
    route without credentials.

    ## Why it matters
    Anyone who finds the API can call the route and reach the handler's code and
    everything its role can touch. Routes that change data are the worst case, and an
    unauthenticated route that was meant to sit behind the API's default authorizer
    (an `Authorizer: NONE` copied from a health check) is easy to miss in review.

    ## Fix
    Add an authorizer (`Auth: {DefaultAuthorizer: ...}` on the API, a Cognito or JWT
    authorizer, or `AWS_IAM`) and remove per-route `Authorizer: NONE`. If the route is
    public by design, list it in `[tool.lambdashield] public-routes`, e.g.
    `public-routes = ["GET /health"]`.
    """
    public = view.settings.public_routes
    for trigger in view.function.triggers:
        if not _route_needs_auth(trigger) or route_is_public(trigger.source, public):
            continue
        auth = trigger.auth
        assert auth is not None  # noqa: S101 - checked by _route_needs_auth
        method, _ = _split_route(trigger.source)
        reasons = []
        if method in _SAFE_METHODS:
            reasons.append(f"`{method}` is meant only to read")
        if auth.api_key_required:
            reasons.append(
                "an API key is required, which identifies callers but does not authorise them"
            )
        if auth.private:
            reasons.append("the API is private, reachable only through VPC endpoints")
        event = f" (`{event_name(trigger)}`)" if event_name(trigger) else ""
        how = f": {auth.detail}" if auth.detail else ""
        yield Hit(
            auth.pointer or trigger.pointer,
            f"route `{trigger.source}`{event} invokes the function without authorisation"
            f"{how}; add an authorizer or `AWS_IAM` auth, or list the route in "
            "`public-routes` if it is public by design",
            f"{trigger.kind.value}:{trigger.source}",
            lowered_because="; ".join(reasons) or None,
        )


# --- LS-API-003 --------------------------------------------------------------------------


def _set(value: str | None) -> bool:
    return value is not None and value.strip() not in ("", "*")


@rule(
    id="LS-API-003",
    title="Function permission allows everyone",
    severity=Severity.HIGH,
    confidence=Confidence.HIGH,
    cwe=732,
    since="0.1.0",
    tags=("resource-policy", "public"),
)
def permission_open_to_everyone(view: ApplicationView) -> Iterator[Hit]:
    """Flags resource-based permissions on a function (`AWS::Lambda::Permission`,
    `aws_lambda_permission`) with `Principal: "*"` and neither `SourceArn`,
    `SourceAccount`, `PrincipalOrgID` nor `FunctionUrlAuthType: AWS_IAM` to narrow it.

    A permission that only lets everyone call a function URL (`lambda:InvokeFunctionUrl`
    with `FunctionUrlAuthType: NONE`) of a function whose URL has `AuthType: NONE` is not
    reported: LS-API-001 reports that URL, and the permission is what any URL with
    `AuthType: NONE` needs to work, so one finding covers both.

    ## Why it matters
    `Principal: "*"` lets every AWS account call the function with any payload
    (`lambda:InvokeFunction` from their own credentials), and with
    `lambda:InvokeFunctionUrl` and `FunctionUrlAuthType: NONE` it lets anyone on the
    internet call its URL. The function then runs attacker-chosen input with its own
    role.

    ## Fix
    Name the caller: the service principal that invokes it (`s3.amazonaws.com`,
    `apigateway.amazonaws.com`) with `SourceArn` and `SourceAccount`, or an account or
    role ARN. For a function URL use `FunctionUrlAuthType: AWS_IAM`. To open a function
    to your own organisation only, add `PrincipalOrgID`.
    """
    public_urls = {
        function.origin.resource
        for function in view.application.functions
        if any(_public_url(t) for t in function.triggers)
    }
    for permission in view.application.permissions:
        yield from _open_permission(permission, public_urls)


def _public_url(trigger: Trigger) -> bool:
    return (
        trigger.kind is TriggerKind.FUNCTION_URL
        and trigger.auth is not None
        and trigger.auth.kind is AuthKind.NONE
    )


def _open_permission(permission: Permission, public_urls: set[str]) -> Iterator[Hit]:
    if permission.principal.strip() != "*":
        return
    if (
        _set(permission.source_arn)
        or _set(permission.source_account)
        or _set(permission.principal_org_id)
    ):
        return
    auth_type = (permission.function_url_auth_type or "").strip().upper()
    if auth_type == "AWS_IAM":
        return
    url_only = permission.action.strip().lower() == "lambda:invokefunctionurl"
    if url_only and auth_type == "NONE" and permission.function in public_urls:
        return
    target = f"`{permission.function}`" if permission.function else "the function"
    action = permission.action.strip() or "lambda:InvokeFunction"
    if action.lower() == "lambda:invokefunctionurl" and auth_type == "NONE":
        who = f"anyone on the internet call the function URL of {target} without credentials"
        fix = "use `FunctionUrlAuthType: AWS_IAM` (and `AuthType: AWS_IAM` on the URL)"
    else:
        who = f"every AWS account call `{action}` on {target}"
        fix = "name the calling service or account and add `SourceArn` and `SourceAccount`"
    narrowing = (
        "a `SourceArn` of `*`"
        if (permission.source_arn or "").strip() == "*"
        else "no `SourceArn` or `SourceAccount`"
    )
    yield Hit(
        permission.origin.pointer,
        f'`Principal: "*"` with {narrowing} lets {who}; {fix}',
        f"*:{action.lower()}:{auth_type}",
    )


# --- LS-API-004 --------------------------------------------------------------------------


@rule(
    id="LS-API-004",
    title="Service principal allowed without a source account or ARN (confused deputy)",
    severity=Severity.MEDIUM,
    confidence=Confidence.HIGH,
    cwe=441,
    since="0.1.0",
    tags=("resource-policy", "confused-deputy"),
)
def service_principal_without_source(view: ApplicationView) -> Iterator[Hit]:
    """Flags function permissions granted to an AWS service principal
    (`s3.amazonaws.com`, `sns.amazonaws.com`, `events.amazonaws.com`, ...) without
    `SourceAccount` or `SourceArn`, and bucket policy statements that allow a service
    principal without an `aws:SourceAccount`, `aws:SourceArn`, `aws:SourceOrgID` or
    `aws:SourceOrgPaths` condition.

    An S3 permission with `SourceArn` but no `SourceAccount` is reported one severity
    lower: bucket ARNs carry no account, and a deleted bucket's name can be taken by
    another account.

    ## Why it matters
    The service acts for every one of its customers. Without a source condition, a
    bucket, topic, rule or API in someone else's account can be pointed at your function
    (the service makes the call, so your permission allows it), or made to write into
    your bucket: the confused deputy problem.

    ## Fix
    Add `SourceAccount: !Ref AWS::AccountId` and `SourceArn` set to the one bucket,
    topic, rule or API that should invoke the function; in bucket policies add
    `"Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}` and an
    `ArnLike` `aws:SourceArn` condition for the resource that writes.
    """
    for permission in view.application.permissions:
        principal = permission.principal.strip()
        if not _service(principal):
            continue
        target = f"`{permission.function}`" if permission.function else "the function"
        if not _set(permission.source_arn) and not _set(permission.source_account):
            yield Hit(
                permission.origin.pointer,
                f"`{principal}` may invoke {target} with no `SourceAccount` or `SourceArn`: "
                "resources in any account can make the service call it; add both",
                f"permission:{principal}",
            )
        elif principal.lower().startswith("s3.") and not _set(permission.source_account):
            yield Hit(
                permission.origin.pointer,
                f"`{principal}` may invoke {target} with a `SourceArn` but no "
                "`SourceAccount`: bucket ARNs name no account; add `SourceAccount`",
                f"permission:{principal}:no-account",
                lowered_because="`SourceArn` already names the bucket",
            )
    keys = _data().confused_deputy_keys
    for bucket in view.application.buckets:
        if bucket.policy is None:
            continue
        for statement in bucket.policy.statements:
            if statement.effect is not Effect.ALLOW or _restricted(statement, keys):
                continue
            for kind, item in _principals(statement):
                if kind != "Service" or not _service(item.value):
                    continue
                yield Hit(
                    item.pointer,
                    f"{statement.label} of the policy of bucket `{bucket.origin.resource}` "
                    f"allows `{item.value}` with no `aws:SourceAccount` or `aws:SourceArn` "
                    "condition: the service can act on it for any account; add them",
                    f"bucket:{bucket.origin.resource}:{item.value}",
                )


# --- LS-API-005 --------------------------------------------------------------------------


@rule(
    id="LS-API-005",
    title="Bucket that triggers a function is public",
    severity=Severity.HIGH,
    confidence=Confidence.HIGH,
    cwe=732,
    since="0.1.0",
    tags=("s3", "public"),
)
def public_triggering_bucket(bucket: Bucket) -> Iterator[Hit]:
    """Flags S3 buckets with event notifications to a function that anyone can write to
    or read from: a public ACL (`PublicRead`, `PublicReadWrite`), or a bucket policy
    that allows `Principal: "*"` to read or write objects with no condition that
    narrows it (`aws:SourceVpce`, `aws:PrincipalOrgID`, a fixed `aws:SourceIp`, ...).

    A bucket that is only readable is reported one severity lower. S3 Block Public Access
    on the bucket (or, in Terraform, the account) is honoured: `IgnorePublicAcls` makes a
    public ACL grant nothing, and `RestrictPublicBuckets` or `BlockPublicPolicy` keep a
    public bucket policy from letting everyone in. `BlockPublicAcls` alone does not: it
    stops new public ACLs, not the one the bucket already has.

    ## Why it matters
    If anyone can write, anyone can invoke the function with content they choose, as
    often as they like: malformed files aimed at the parser, huge objects, objects
    named to collide with real ones. If anyone can read, the function's inputs and
    outputs (uploads, reports) are public.

    ## Fix
    Remove the public ACL and the `Principal: "*"` statements, enable S3 Block Public
    Access (`PublicAccessBlockConfiguration` with all four settings `true`), and let
    uploaders use pre-signed URLs or an authenticated API.
    """
    if not bucket.notifies:
        return
    functions = _functions(bucket)
    name = bucket.origin.resource
    block = bucket.public_access_block
    if _acl_open(bucket):
        acl = "PublicReadWrite" if bucket.public_write else "PublicRead"
        what = "write objects that invoke" if bucket.public_write else "read the objects of"
        yield Hit(
            bucket.origin.pointer,
            f"bucket `{name}` has the `{acl}` ACL: anyone can {what} {functions}; remove the "
            "public ACL and enable Block Public Access",
            f"acl:{acl}",
            lowered_because=None if bucket.public_write else "anyone can read, not write",
        )
    if bucket.policy is None or (block and block.blocks_policy):
        return
    for statement, everyone, writes, reads in _public_statements(bucket):
        actions = ", ".join(f"`{a}`" for a in (writes or reads))
        what = (
            f"write objects that invoke {functions}"
            if writes
            else f"read the objects {functions} process"
        )
        yield Hit(
            everyone.pointer,
            f"{statement.label} of the policy of bucket `{name}` allows everyone {actions}: "
            f"anyone can {what}; remove the statement or narrow it with a condition such as "
            "`aws:SourceVpce` or `aws:PrincipalOrgID`",
            f"policy:{statement.sid or statement.index}:{'write' if writes else 'read'}",
            lowered_because=None if writes else "anyone can read, not write",
        )


def _functions(bucket: Bucket) -> str:
    return ", ".join(f"`{f}`" for f in sorted(set(bucket.notifies)))


def _acl_open(bucket: Bucket) -> bool:
    """Whether the bucket's ACL grants everyone anything that Block Public Access keeps."""
    block = bucket.public_access_block
    return (bucket.public_write or bucket.public_read) and not (block and block.blocks_acls)


def _public_statements(
    bucket: Bucket,
) -> Iterator[tuple[Statement, Item, list[str], list[str]]]:
    """The known statements of the bucket's policy that let everyone read or write objects,
    unnarrowed: `(statement, its "*" principal, write actions, read actions)`."""
    if bucket.policy is None:
        return
    data = _data()
    for statement in bucket.policy.statements:
        if statement.effect is not Effect.ALLOW or _restricted(statement, data.not_public_keys):
            continue
        everyone = next(
            (item for kind, item in _principals(statement) if _everyone(kind, item)), None
        )
        if everyone is None:
            continue
        writes = _granted(statement, data.s3_write)
        reads = _granted(statement, data.s3_read)
        if writes or reads:
            yield statement, everyone, writes, reads


# --- LS-API-006 --------------------------------------------------------------------------


@rule(
    id="LS-API-006",
    title="Policy of a bucket that triggers a function is not fully known",
    severity=Severity.MEDIUM,
    confidence=Confidence.LOW,
    cwe=710,
    since="0.2.0",
    tags=("s3", "public", "coverage"),
)
def bucket_policy_not_fully_known(bucket: Bucket) -> Iterator[Hit]:
    """Flags S3 buckets with event notifications to a function whose bucket policy is
    only partly known: in Terraform, a `dynamic` block of the policy document (a
    `statement`, or the `principals` of one) whose `for_each` is known only at apply, such
    as a variable without a default. One finding per such block, at the block, naming it
    and its `for_each`.

    What can be read is still checked by LS-API-005. A bucket is not reported when that
    already shows that everyone can write objects to it (its ACL or a known statement),
    nor when S3 Block Public Access (`RestrictPublicBuckets` or `BlockPublicPolicy`, on the
    bucket or the account) keeps any policy from letting everyone in.

    ## Why it matters
    A policy that looks private in the statements that can be read says nothing about the
    ones that cannot. If a generated statement allows `Principal: "*"` to write objects,
    anyone can invoke the function with content they choose; if it allows reading, the
    function's inputs and outputs are public.

    ## Fix
    Enable S3 Block Public Access on the bucket (`aws_s3_bucket_public_access_block` with
    `block_public_policy` and `restrict_public_buckets` set to `true`), so no statement
    can open it to everyone. Otherwise check what the block can generate (every caller of
    the module, every value the variable is given) and, if none of it lets everyone in,
    suppress this finding with the reason (`lambdashield: ignore[LS-API-006] ...`).
    """
    if not bucket.notifies or not bucket.policy_unknown:
        return
    block = bucket.public_access_block
    if block and block.blocks_policy:
        return
    if (bucket.public_write and _acl_open(bucket)) or any(
        writes for _, _, writes, _ in _public_statements(bucket)
    ):
        # LS-API-005 already reports the worst the unknown part could add.
        return
    name = bucket.origin.resource
    functions = _functions(bucket)
    for reason, where in bucket.policy_unknown:
        yield Hit(
            where.pointer,
            f"the policy of bucket `{name}` is not fully known: {reason} generates blocks "
            "not known here, which were not checked; the bucket may be public, letting "
            f"anyone write objects that invoke {functions}; enable Block Public Access, or "
            "check what the block generates and suppress this finding with the reason",
            f"unknown:{reason}",
        )


RULES = (
    public_function_url,
    route_without_authorisation,
    permission_open_to_everyone,
    service_principal_without_source,
    public_triggering_bucket,
    bucket_policy_not_fully_known,
)
