"""Function configuration: runtimes, shared roles, failure destinations, trigger filters.

Also the views every application rule runs over (`FunctionView`, `ApplicationView`) and
the settings they carry, so the rules stay pure functions of one subject: "today" and
the scan configuration arrive inside the subject, never from the clock or the
environment at check time.
"""

from __future__ import annotations

import fnmatch
import functools
import json
import re
from collections.abc import Callable, Container, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lambdashield.checks._rule import Hit, rule
from lambdashield.model import (
    Application,
    Bucket,
    Confidence,
    Effect,
    Function,
    Origin,
    Role,
    Severity,
    Statement,
    Trigger,
    TriggerKind,
    Unresolved,
)

if TYPE_CHECKING:
    # Imported by the runtime rule when it reads a date: scans without functions never do.
    import datetime

__all__ = [
    "RULES",
    "ApplicationView",
    "FunctionView",
    "RuntimeInfo",
    "Settings",
    "event_name",
    "runtime_info",
    "today",
]

DEFAULT_RUNTIME_WARNING_DAYS = 180


def today() -> datetime.date:
    """The current date in UTC, the time zone of AWS's deprecation dates.

    The one place the clock is read; `Settings.today` overrides it, and tests replace it.
    """
    import datetime

    return datetime.datetime.now(datetime.timezone.utc).date()


@dataclass(frozen=True, slots=True)
class Settings:
    """What the scan configuration tells the application rules."""

    public_routes: tuple[str, ...] = ()
    """Routes meant to be reachable without authorisation: `"GET /health"`, `"/status"`
    (any method), `"GET /public/*"` (shell-style wildcards); from `public-routes`."""
    runtime_warning_days: int = DEFAULT_RUNTIME_WARNING_DAYS
    """How many days ahead of its deprecation date a runtime is reported."""
    today: datetime.date | None = None
    """The date runtimes are judged on; `None` reads `today()`."""

    def current_date(self) -> datetime.date:
        return self.today if self.today is not None else today()


_DEFAULT_SETTINGS = Settings()


@dataclass(frozen=True, slots=True)
class FunctionView:
    """One function, the application it belongs to, and the scan settings."""

    function: Function
    application: Application
    settings: Settings = _DEFAULT_SETTINGS

    def locate(self, pointer: str) -> Origin:
        """Every hit on a function is labelled with the function, wherever it points (its
        own properties, SAM `Globals`, an event); a trigger written in another file
        (Terraform) is located in that file."""
        function = self.function
        for trigger in function.triggers:
            if trigger.origin is None:
                continue
            pointers = (trigger.pointer, trigger.auth.pointer if trigger.auth else "")
            if any(p and _within(pointer, p) for p in pointers):
                return replace(
                    trigger.origin,
                    resource=function.origin.resource,
                    resource_type=function.origin.resource_type,
                )
        return function.origin

    def bucket(self, logical_id: str) -> Bucket | None:
        return _bucket_index(self.application).get(logical_id)


_BUCKET_INDEXES: dict[int, tuple[Application, dict[str, Bucket]]] = {}


def _bucket_index(application: Application) -> dict[str, Bucket]:
    """The application's buckets by logical name (the first of a name wins), built once
    per application: every function of a template with thousands of buckets asks."""
    cached = _BUCKET_INDEXES.get(id(application))
    if cached is not None and cached[0] is application:
        return cached[1]
    index: dict[str, Bucket] = {}
    for bucket in application.buckets:
        index.setdefault(bucket.origin.resource, bucket)
    if len(_BUCKET_INDEXES) >= 8:
        _BUCKET_INDEXES.pop(next(iter(_BUCKET_INDEXES)))
    _BUCKET_INDEXES[id(application)] = (application, index)
    return index


@dataclass(frozen=True, slots=True)
class ApplicationView:
    """A whole template (or Terraform folder), for rules that compare its objects."""

    application: Application
    settings: Settings = _DEFAULT_SETTINGS
    _locators: list[Callable[[str], Origin]] = field(
        default_factory=list, init=False, repr=False, compare=False
    )
    """The locator, built on first use (an index: rules over a template with thousands of
    resources locate thousands of hits)."""

    def locate(self, pointer: str) -> Origin:
        """The object a pointer lies in: a template value written in another file, the
        function, role, permission or bucket whose definition (or bucket policy) holds it,
        else the resource or parameter named by the pointer, else the file itself."""
        if not self._locators:
            self._locators.append(_locator(self.application))
        return self._locators[0](pointer)


def _within(pointer: str, base: str) -> bool:
    return pointer == base or pointer.startswith(base + "/")


def _origins(application: Application) -> list[Origin]:
    found: list[Origin] = []
    found.extend(f.origin for f in application.functions)
    found.extend(r.origin for r in application.roles)
    found.extend(p.origin for p in application.permissions)
    for bucket in application.buckets:
        found.append(bucket.origin)
        if bucket.policy is not None:
            found.append(bucket.policy.origin)
    return [o for o in found if o.pointer]


def _prefixes(pointer: str) -> Iterator[str]:
    """`pointer` and every pointer that holds it, longest first (`/a/b`, `/a`, `""`)."""
    yield pointer
    end = pointer.rfind("/")
    while end >= 0:
        yield pointer[:end]
        end = pointer.rfind("/", 0, end)


def _locator(application: Application) -> Callable[[str], Origin]:
    values: dict[str, Origin] = {}
    for value in application.values:
        if value.origin is not None:
            values.setdefault(value.pointer, value.origin)
    origins: dict[str, Origin] = {}
    for origin in _origins(application):
        origins.setdefault(origin.pointer, origin)
    base = application.origin

    def locate(pointer: str) -> Origin:
        prefixes = list(_prefixes(pointer))
        found = next((values[p] for p in prefixes if p in values), None)
        if found is None:
            found = next((origins[p] for p in prefixes if p in origins), None)
        if found is not None:
            return found
        rest = pointer[len(base.pointer) :] if pointer.startswith(base.pointer) else pointer
        parts = rest.split("/")
        if len(parts) >= 3 and parts[1] in ("Resources", "Parameters"):
            name = parts[2].replace("~1", "/").replace("~0", "~")
            kind = "parameter" if parts[1] == "Parameters" else "resource"
            anchor = f"{base.pointer}/{parts[1]}/{parts[2]}"
            return replace(base, resource=name, resource_type=kind, pointer=anchor)
        return base

    return locate


# --- LS-FN-001 ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RuntimeInfo:
    identifier: str
    name: str
    deprecated: datetime.date
    block_create: datetime.date | None
    block_update: datetime.date | None
    upgrade: str | None
    """The newest runtime of the same language, to suggest."""


@functools.cache
def _runtime_table() -> dict[str, RuntimeInfo]:
    import datetime

    path = Path(__file__).with_name("data") / "lambda_runtimes.json"
    raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    upgrades: dict[str, str] = raw["upgrade"]

    def day(text: str | None) -> datetime.date | None:
        return datetime.date.fromisoformat(text) if text else None

    table = {}
    for identifier, entry in raw["runtimes"].items():
        family = re.sub(r"[^a-z].*$", "", identifier)
        deprecated = day(entry["deprecated"])
        assert deprecated is not None, identifier  # noqa: S101 - the data file is ours
        table[identifier] = RuntimeInfo(
            identifier=identifier,
            name=entry["name"],
            deprecated=deprecated,
            block_create=day(entry["block_create"]),
            block_update=day(entry["block_update"]),
            upgrade=upgrades.get(family),
        )
    return table


def runtime_info(identifier: str) -> RuntimeInfo | None:
    """AWS's published lifecycle of a runtime identifier, `None` when it is not listed."""
    return _runtime_table().get(identifier.strip().lower())


def _blocks(info: RuntimeInfo, now: datetime.date) -> str:
    parts = []
    for what, when in (
        ("creating functions with it", info.block_create),
        ("updating them", info.block_update),
    ):
        if when is not None:
            verb = f"has blocked {what} since" if when <= now else f"blocks {what} from"
            parts.append(f"{verb} {when.isoformat()}")
    return "; Lambda " + " and ".join(parts) if parts else ""


@rule(
    id="LS-FN-001",
    title="Function uses a deprecated or soon deprecated runtime",
    severity=Severity.HIGH,
    confidence=Confidence.HIGH,
    cwe=1104,
    since="0.1.0",
    tags=("runtime",),
)
def deprecated_runtime(view: FunctionView) -> Iterator[Hit]:
    """Flags functions whose runtime AWS has deprecated, or deprecates within the warning
    window (180 days by default), by the dates AWS publishes for each runtime identifier.

    A runtime that is only close to its date is reported one severity lower. The runtime
    may come from the function itself, SAM `Globals` or the Serverless `provider`; an
    unresolved runtime and container-image functions are not judged.

    ## Why it matters
    After its deprecation date a runtime no longer receives security patches for the
    language, its libraries or the operating system, and AWS support no longer covers
    it. Later, Lambda blocks creating and then updating functions that use it, so an
    urgent fix cannot be deployed without also migrating the runtime under pressure.

    ## Fix
    Move to a supported runtime of the same language, e.g. `python3.14` instead of
    `python3.9` or `nodejs24.x` instead of `nodejs18.x`, run the tests, and deploy
    before the date in the message. Dates are AWS's, from
    https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html.
    """
    function = view.function
    runtime = function.runtime
    if runtime is None or isinstance(runtime, Unresolved):
        return
    info = runtime_info(runtime)
    if info is None:
        return
    now = view.settings.current_date()
    days = (info.deprecated - now).days
    if days > view.settings.runtime_warning_days:
        return
    upgrade = (
        f"; move to `{info.upgrade}`" if info.upgrade and info.upgrade != info.identifier else ""
    )
    pointer = function.runtime_pointer or function.origin.pointer
    if days <= 0:
        yield Hit(
            pointer,
            f"runtime `{runtime}` ({info.name}) is deprecated since "
            f"{info.deprecated.isoformat()} and gets no security patches"
            f"{_blocks(info, now)}{upgrade}",
            f"{info.identifier}:deprecated",
        )
    else:
        yield Hit(
            pointer,
            f"runtime `{runtime}` ({info.name}) is deprecated on {info.deprecated.isoformat()}, "
            f"in {days} days{_blocks(info, now)}{upgrade}",
            f"{info.identifier}:upcoming",
            lowered_because="the deprecation date has not passed yet",
        )


# --- LS-FN-002 ---------------------------------------------------------------------------

_BASIC_POLICIES = frozenset(
    {
        "awslambdabasicexecutionrole",
        "awslambdavpcaccessexecutionrole",
        "awsxraydaemonwriteaccess",
        "cloudwatchlambdainsightsexecutionrolepolicy",
        "awslambdasqsqueueexecutionrole",
        "awslambdakinesisexecutionrole",
        "awslambdadynamodbexecutionrole",
        "awslambdamskexecutionrole",
    }
)
"""AWS managed policies that only let a function run (logs, traces, its event source,
its network interfaces): sharing a role that holds nothing else shares nothing."""


def _only_basic(role: Role) -> bool:
    return bool(role.grants) and all(
        g.name.rsplit("/", 1)[-1].lower() in _BASIC_POLICIES for g in role.grants
    )


def _names(names: Iterable[str], limit: int = 6) -> str:
    listed = sorted(set(names))
    shown = ", ".join(f"`{n}`" for n in listed[:limit])
    more = len(listed) - limit
    return f"{shown} and {more} more" if more > 0 else shown


@rule(
    id="LS-FN-002",
    title="One role is shared by several functions",
    severity=Severity.MEDIUM,
    confidence=Confidence.HIGH,
    cwe=250,
    since="0.1.0",
    tags=("least-privilege",),
)
def shared_role(view: ApplicationView) -> Iterator[Hit]:
    """Flags execution roles used by more than one function, naming the functions.

    Roles that hold only what every function needs to run (basic logging, tracing, VPC
    access) are not reported. When none of the functions can be reached over HTTP the
    finding is one severity lower.

    ## Why it matters
    Each function gets the union of what all of them need. A flaw in the simplest
    function (a public webhook, an image resizer) then reads the tables, secrets and
    queues that only another function should touch, and every permission added for
    one function silently widens the others.

    ## Fix
    Give each function its own role with only the permissions its handler uses (SAM
    creates one per function when `Role` is omitted and `Policies` is set), e.g. move
    `dynamodb:PutItem` on the orders table to the role of the function that writes it.
    """
    groups: dict[tuple[str, str], list[Function]] = {}
    for function in view.application.functions:
        role = function.role
        if role is None:
            continue
        key = ("external", role.external) if role.external else ("role", role.origin.resource)
        groups.setdefault(key, []).append(function)
    for (kind, name), functions in sorted(groups.items()):
        if len(functions) < 2:
            continue
        functions.sort(key=lambda f: f.origin.resource)
        role = functions[0].role
        assert role is not None  # noqa: S101 - grouped by it above
        if kind == "role" and (not role.grants or _only_basic(role)):
            continue
        names = [f.origin.resource for f in functions]
        reachable = [
            f.origin.resource for f in functions if any(t.kind.is_http for t in f.triggers)
        ]
        label = f"role `{name}`" if kind == "role" else f"external role `{name}`"
        exposure = ""
        if reachable:
            verbs = ("is", "holds") if len(reachable) == 1 else ("are", "hold")
            exposure = (
                f"; {_names(reachable)} {verbs[0]} reachable over HTTP and {verbs[1]} every "
                "permission of the others"
            )
        yield Hit(
            role.origin.pointer,
            f"{label} is used by {len(names)} functions ({_names(names)}): each gets the "
            f"permissions all of them need{exposure}; give each function its own role",
            f"{name}:" + ",".join(names),
            lowered_because=None if reachable else "none of the functions is reachable over HTTP",
        )


# --- LS-FN-003 ---------------------------------------------------------------------------


_KIND_LABELS = {
    TriggerKind.API_REST: "asynchronous API route",
    TriggerKind.S3: "S3 event",
    TriggerKind.SNS: "SNS topic",
    TriggerKind.EVENTBRIDGE: "EventBridge rule",
    TriggerKind.SCHEDULE: "schedule",
    TriggerKind.IOT: "IoT rule",
    TriggerKind.CLOUDWATCH_LOGS: "CloudWatch Logs subscription",
}


_EVENT_TYPES = frozenset(
    {
        "s3", "sns", "sqs", "schedule", "eventbridge", "cloudwatchevent", "cloudwatchlog",
        "iot", "http", "httpapi", "alb", "stream", "url", "websocket", "kafka", "msk",
        "activemq", "rabbitmq", "alexaskill", "alexasmarthome", "cognitouserpool",
    }
)  # fmt: skip
"""Serverless Framework event types, which its loader gives as trigger names."""


def event_name(trigger: Trigger) -> str:
    """The trigger's own name (`CreateOrder`), or empty when it only repeats the event
    type (Serverless `http`, `s3`) or the source."""
    name = trigger.name.strip()
    if name.lower() in _EVENT_TYPES or name == trigger.source:
        return ""
    return name


def _trigger_label(trigger: Trigger) -> str:
    label = _KIND_LABELS.get(trigger.kind, trigger.kind.value.replace("_", " "))
    return f"{label} `{event_name(trigger) or trigger.source}`"


@rule(
    id="LS-FN-003",
    title="Asynchronously invoked function has no failure destination",
    severity=Severity.LOW,
    confidence=Confidence.MEDIUM,
    cwe=755,
    since="0.1.0",
    tags=("reliability", "async"),
)
def async_without_failure_destination(view: FunctionView) -> Iterator[Hit]:
    """Flags functions invoked asynchronously (S3, SNS, EventBridge, schedules, IoT,
    CloudWatch Logs, API routes that invoke with `X-Amz-Invocation-Type: Event` such as
    Serverless `http: {async: true}`) that have neither a dead-letter queue nor an
    on-failure destination (on the function, in SAM `EventInvokeConfig`, a separate
    `AWS::Lambda::EventInvokeConfig` or `aws_lambda_function_event_invoke_config`, or
    Serverless `onError` / `destinations.onFailure`).

    A dead-letter queue on the trigger itself (an SNS subscription's `RedrivePolicy`, an
    EventBridge or Scheduler target's `DeadLetterConfig`) does not silence the finding,
    which then names it: it keeps the events the service could not hand to Lambda, while
    an event Lambda accepted and the function then failed on is still dropped.

    ## Why it matters
    Lambda retries a failed asynchronous event twice and then drops it. Without a
    destination the event is lost with no trace: an upload that never gets scanned for
    malware, an audit or security event that is never processed, and no way to tell an
    attacker's crafted event that crashes the handler from a transient error.

    ## Fix
    Add an on-failure destination (`EventInvokeConfig.DestinationConfig.OnFailure` in
    SAM, `AWS::Lambda::EventInvokeConfig` in CloudFormation, `destinations.onFailure`
    in the Serverless Framework) or a dead-letter queue (`DeadLetterQueue`), and alarm
    on its depth.
    """
    function = view.function
    if function.dead_letter or function.on_failure:
        return
    triggers = [t for t in function.triggers if t.is_async]
    if not triggers:
        return
    listed = ", ".join(_trigger_label(t) for t in triggers[:4])
    more = f" and {len(triggers) - 4} more" if len(triggers) > 4 else ""
    delivery = [t for t in triggers if t.dead_letter]
    note = ""
    if delivery:
        names = ", ".join(_trigger_label(t) for t in delivery[:4])
        note = (
            f" (the dead-letter queue of {names} keeps only events that could not be "
            "delivered to Lambda, not those the function failed on)"
        )
    yield Hit(
        function.origin.pointer,
        f"invoked asynchronously by {listed}{more}, with no dead-letter queue or on-failure "
        f"destination on the function{note}: events that still fail after Lambda's retries "
        "are dropped; add an on-failure destination or a dead-letter queue to the function",
        ",".join(sorted({t.kind.value for t in triggers})),
    )


# --- LS-FN-004 ---------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\$\{[^}]*\}")
_PLACEHOLDER_NAME = re.compile(r"\$\{([^}]*)\}")


def _filtered(trigger: Trigger) -> bool:
    return any(
        name.lower() in ("prefix", "suffix") and value.strip() for name, value in trigger.filters
    )


def _bucket_names(view: FunctionView, source: str) -> tuple[str, ...]:
    """Names the triggering bucket can go by in a policy: its logical ID and its name."""
    names = [source]
    bucket = view.bucket(source)
    if bucket is not None and bucket.name:
        names.append(bucket.name)
    return tuple(n for n in names if n)


def _pattern(text: str) -> str:
    return _PLACEHOLDER.sub("*", text).lower()


@dataclass(frozen=True, slots=True)
class _Others:
    """The logical IDs of the template's buckets but one, without copying them."""

    buckets: dict[str, Bucket]
    but: str

    def __contains__(self, name: object) -> bool:
        return name != self.but and name in self.buckets


def _covers_bucket(resource: str, names: tuple[str, ...], others: Container[str]) -> bool:
    """Whether a `Resource` entry can name objects of the bucket known as `names`;
    `others` are the logical IDs of the template's other buckets."""
    value = resource.strip()
    if value == "*" or value.endswith(":s3:::*"):
        return True
    for name in names:
        if f"${{{name}}}" in value or f"${{{name}.Arn}}" in value:
            return True
    if any(p.removesuffix(".Arn") in others for p in _PLACEHOLDER_NAME.findall(value)):
        return False
    parts = value.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] not in ("s3", "*"):
        return False
    wanted = _pattern(parts[5].split("/", 1)[0])
    return any(fnmatch.fnmatchcase(_pattern(name).replace("*", "x"), wanted) for name in names)


_PUT = "s3:putobject"


def _allows_put(statement: Statement) -> bool:
    if statement.not_actions:
        return not any(
            fnmatch.fnmatchcase(_PUT, a.value.strip().lower()) for a in statement.not_actions
        )
    return any(fnmatch.fnmatchcase(_PUT, a.value.strip().lower()) for a in statement.actions)


def _can_write(
    role: Role | None, names: tuple[str, ...], others: Container[str] = frozenset()
) -> bool | None:
    """Whether a role may put objects into the bucket: `None` when its permissions are
    not all known."""
    if role is None or role.external:
        return None
    unknown = False
    for grant in role.grants:
        if grant.document is None:
            unknown = True
            continue
        for statement in grant.document.statements:
            if statement.effect is not Effect.ALLOW or not _allows_put(statement):
                continue
            if statement.not_resources or any(
                _covers_bucket(r.value, names, others) for r in statement.resources
            ):
                return True
    return None if unknown else False


@rule(
    id="LS-FN-004",
    title="S3-triggered function has no object key filter",
    severity=Severity.MEDIUM,
    confidence=Confidence.MEDIUM,
    cwe=674,
    since="0.1.0",
    tags=("s3", "recursion", "cost"),
)
def s3_trigger_without_filter(view: FunctionView) -> Iterator[Hit]:
    """Flags S3 event triggers with no key `prefix` or `suffix` filter.

    The finding is one severity lower when the function's own permissions show it
    cannot write objects to that bucket.

    ## Why it matters
    Every object written anywhere in the bucket invokes the function. A function that
    writes its output back to the same bucket (a thumbnail, a converted file) then
    triggers itself in a loop that runs up cost until Lambda's recursion guard or the
    account's concurrency stops it, and anyone who may upload any object can make the
    function process it.

    ## Fix
    Add a key filter that matches only the input, e.g. `Filter: {S3Key: {Rules:
    [{Name: prefix, Value: uploads/}, {Name: suffix, Value: .jpg}]}}`, and write the
    output under a different prefix or to another bucket.
    """
    for trigger in view.function.triggers:
        if trigger.kind is not TriggerKind.S3 or _filtered(trigger):
            continue
        names = _bucket_names(view, trigger.source)
        others = _Others(_bucket_index(view.application), trigger.source)
        writes = _can_write(view.function.role, names, others)
        event = f" `{event_name(trigger)}`" if event_name(trigger) else ""
        consequence = (
            "its role may write to that bucket, so its own output can invoke it again"
            if writes is not False
            else "every object written to the bucket invokes it"
        )
        yield Hit(
            trigger.pointer,
            f"S3 trigger{event} on bucket `{trigger.source}` has no key prefix or suffix "
            f"filter: {consequence}; add a filter that matches only "
            "the input objects",
            f"{trigger.name}:{trigger.source}",
            lowered_because=(
                f"the function's role cannot write to `{trigger.source}`"
                if writes is False
                else None
            ),
        )


RULES = (
    deprecated_runtime,
    shared_role,
    async_without_failure_destination,
    s3_trigger_without_filter,
)
