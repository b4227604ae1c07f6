"""The normalised model every loader produces and every rule and reporter reads.

Everything here is a frozen value. Loaders build it, rules read it, the engine turns
rule hits into `Finding`s and reporters render the finished `ScanReport`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import NamedTuple

__all__ = [
    "Application",
    "AuthKind",
    "Authorization",
    "Bucket",
    "Confidence",
    "Dependency",
    "DependencySet",
    "Effect",
    "EnvVar",
    "Finding",
    "Function",
    "FunctionRisk",
    "Grant",
    "GrantSource",
    "HandlerImport",
    "Item",
    "KnownVulnerability",
    "Layer",
    "Lifecycle",
    "Location",
    "Origin",
    "Permission",
    "PolicyDocument",
    "PublicAccessBlock",
    "Role",
    "RuleMeta",
    "ScanError",
    "ScanReport",
    "Severity",
    "SkippedInput",
    "Snippet",
    "SourceFile",
    "Statement",
    "Suppression",
    "TemplateValue",
    "Trigger",
    "TriggerKind",
    "Unresolved",
]


class Severity(enum.Enum):
    """How bad a finding is, with its SARIF level and GitHub `security-severity`."""

    LOW = ("note", "3.0")
    MEDIUM = ("warning", "5.5")
    HIGH = ("error", "8.0")
    CRITICAL = ("error", "9.5")

    def __init__(self, sarif_level: str, security_severity: str) -> None:
        self.sarif_level = sarif_level
        self.security_severity = security_severity

    @property
    def rank(self) -> int:
        return _SEVERITY_ORDER.index(self)

    @property
    def label(self) -> str:
        return self.name.lower()

    def lowered(self) -> Severity:
        """One step down, never below `LOW`."""
        return _SEVERITY_ORDER[max(self.rank - 1, 0)]

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(s.label for s in _SEVERITY_ORDER)
            raise ValueError(f"unknown severity {text!r} (expected one of {names})") from None


_SEVERITY_ORDER = (Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL)


class Confidence(enum.Enum):
    """How sure the rule is that the hit is real; independent of severity."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    def lowered(self) -> Confidence:
        return {Confidence.HIGH: Confidence.MEDIUM}.get(self, Confidence.LOW)


class Lifecycle(enum.Enum):
    PREVIEW = "preview"
    STABLE = "stable"
    DEPRECATED = "deprecated"
    REMOVED = "removed"


@dataclass(frozen=True, slots=True)
class RuleMeta:
    """What a rule is, independent of any scan: the source of docs and SARIF rule entries."""

    id: str
    name: str
    title: str
    severity: Severity
    confidence: Confidence
    cwe: int
    tags: tuple[str, ...]
    since: str
    lifecycle: Lifecycle
    summary: str
    """First paragraph of the docstring: what the rule flags."""
    why: str
    """The `## Why it matters` section, as Markdown."""
    fix: str
    """The `## Fix` section, as Markdown."""

    @property
    def family(self) -> str:
        return self.id.rsplit("-", 1)[0]

    @property
    def docs_path(self) -> str:
        return f"docs/rules/{self.id}.md"


@dataclass(frozen=True, slots=True)
class Location:
    """Where a finding or an error points: a file, a JSON pointer inside it and its lines."""

    path: PurePosixPath
    pointer: str = ""
    start_line: int | None = None
    end_line: int | None = None


LineLookup = Callable[[str], "tuple[int | None, int | None]"]
"""Maps a JSON pointer of a loaded file to its first and last line, computed on demand."""


def _no_lines(_pointer: str) -> tuple[int | None, int | None]:
    return (None, None)


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a model object came from and how findings on it are labelled."""

    path: PurePosixPath
    resource: str
    """The logical name as the user wrote it (policy file name, CloudFormation logical ID)."""
    resource_type: str
    pointer: str = ""
    """Pointer of the object itself inside `path` (empty for a whole-file policy)."""
    lines: LineLookup = field(default=_no_lines, compare=False, hash=False, repr=False)

    def locate(self, pointer: str) -> Location:
        start, end = self.lines(pointer)
        return Location(self.path, pointer, start, end)


class Item(NamedTuple):
    """One scalar taken from a document (an action, a resource ARN) and where it sits.

    A named tuple, not a dataclass: policies hold tens of thousands of these, and tuple
    construction is several times cheaper than a frozen dataclass's.
    """

    value: str
    pointer: str


class Effect(enum.Enum):
    ALLOW = "Allow"
    DENY = "Deny"


@dataclass(frozen=True, slots=True)
class Statement:
    """One IAM policy statement, normalised: every list is a tuple, `Action` or not."""

    index: int
    pointer: str
    sid: str | None
    effect: Effect | None
    """`None` when the statement's `Effect` is missing or invalid (reported as grammar)."""
    actions: tuple[Item, ...] = ()
    not_actions: tuple[Item, ...] = ()
    resources: tuple[Item, ...] = ()
    not_resources: tuple[Item, ...] = ()
    principals: tuple[tuple[str, Item], ...] = ()
    """`(principal type, value)` pairs, for resource-based policies."""
    conditions: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    """`(operator, condition key, values)` triples, as written."""

    @property
    def label(self) -> str:
        """How messages name the statement: its `Sid`, else its position."""
        return f"statement {self.sid!r}" if self.sid else f"statement #{self.index}"


@dataclass(frozen=True, slots=True)
class PolicyDocument:
    """An IAM policy document and the grammar problems found while reading it."""

    origin: Origin
    version: str | None
    statements: tuple[Statement, ...]
    grammar_errors: tuple[Item, ...] = ()
    """Problems that make the document invalid IAM: message and the pointer they refer to."""
    name: str = ""
    """The policy's name where it has one (`AmazonDynamoDBFullAccess`, an inline policy name)."""


# --- Serverless applications ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Unresolved:
    """A template value the loader could not work out (`${ssm:...}`, `!ImportValue`, a
    variable without a default). Rules treat it as unknown: never as safe, never as bad."""

    expression: str
    reason: str = ""

    def __str__(self) -> str:
        return self.expression


class TriggerKind(enum.Enum):
    API_REST = "api_rest"
    API_HTTP = "api_http"
    API_WEBSOCKET = "api_websocket"
    FUNCTION_URL = "function_url"
    ALB = "alb"
    S3 = "s3"
    SQS = "sqs"
    SNS = "sns"
    EVENTBRIDGE = "eventbridge"
    SCHEDULE = "schedule"
    DYNAMODB_STREAM = "dynamodb_stream"
    KINESIS = "kinesis"
    KAFKA = "kafka"
    MQ = "mq"
    COGNITO = "cognito"
    IOT = "iot"
    CLOUDWATCH_LOGS = "cloudwatch_logs"
    ALEXA = "alexa"
    OTHER = "other"

    @property
    def is_http(self) -> bool:
        """Reachable over HTTP(S), so its authorisation matters."""
        return self in _HTTP_TRIGGERS

    @property
    def is_async(self) -> bool:
        """Lambda invokes the function asynchronously: failures need a destination."""
        return self in _ASYNC_TRIGGERS


_HTTP_TRIGGERS = frozenset(
    {
        TriggerKind.API_REST,
        TriggerKind.API_HTTP,
        TriggerKind.API_WEBSOCKET,
        TriggerKind.FUNCTION_URL,
        TriggerKind.ALB,
    }
)
_ASYNC_TRIGGERS = frozenset(
    {
        TriggerKind.S3,
        TriggerKind.SNS,
        TriggerKind.EVENTBRIDGE,
        TriggerKind.SCHEDULE,
        TriggerKind.IOT,
        TriggerKind.CLOUDWATCH_LOGS,
    }
)


class AuthKind(enum.Enum):
    NONE = "none"
    IAM = "iam"
    AUTHORIZER = "authorizer"
    """A Lambda, Cognito or JWT authorizer."""
    UNKNOWN = "unknown"
    """Set from a value the loader could not resolve."""


@dataclass(frozen=True, slots=True)
class Authorization:
    kind: AuthKind
    detail: str = ""
    """The authorizer's name, or how the loader decided (`DefaultAuthorizer`, `AWS_IAM`)."""
    api_key_required: bool = False
    pointer: str = ""
    """Where the decision was written; empty when it is a default."""
    private: bool = False
    """The route belongs to a private REST API (`EndpointConfiguration: PRIVATE`): it is
    reachable only through interface VPC endpoints, not from the internet."""


@dataclass(frozen=True, slots=True)
class Trigger:
    """Something that invokes a function: an API route, a bucket, a queue, a schedule."""

    kind: TriggerKind
    source: str
    """What it comes from: `POST /orders`, a bucket or queue name or ARN, a schedule."""
    pointer: str
    name: str = ""
    """The event's name in the template (`CreateOrder`)."""
    auth: Authorization | None = None
    """For HTTP triggers; `None` for the others."""
    filters: tuple[tuple[str, str], ...] = ()
    """S3 key filters as `("prefix", "uploads/")`, `("suffix", ".jpg")`."""
    origin: Origin | None = None
    """The file the trigger is written in, when not the function's (Terraform spreads a
    function over several files); `pointer` is inside it."""
    dead_letter: str | None = None
    """The trigger's own dead-letter queue (an SNS subscription's `RedrivePolicy`, an
    EventBridge or Scheduler target's `DeadLetterConfig`): it keeps events the service
    could not deliver to Lambda, not events the function failed to process."""
    asynchronous: bool | None = None
    """Overrides `kind.is_async` where the event says how it invokes (Serverless
    `http: {async: true}`, an integration sending `X-Amz-Invocation-Type: Event`)."""

    @property
    def is_async(self) -> bool:
        """Lambda invokes the function asynchronously for this trigger."""
        return self.kind.is_async if self.asynchronous is None else self.asynchronous


class GrantSource(enum.Enum):
    INLINE = "inline"
    CUSTOMER_MANAGED = "customer-managed"
    AWS_MANAGED = "aws-managed"
    SAM_TEMPLATE = "sam-template"


@dataclass(frozen=True, slots=True)
class Grant:
    """One policy attached to a role, and where it was attached."""

    source: GrantSource
    name: str
    """Policy name, managed policy ARN or SAM policy template name."""
    pointer: str
    """Where the attachment is written (`/Resources/Fn/Properties/Policies/0`)."""
    document: PolicyDocument | None
    """`None` when the permissions are unknown (a managed policy lambdashield lacks)."""
    origin: Origin | None = None
    """The file the attachment is written in, when not the role's."""


@dataclass(frozen=True, slots=True)
class Role:
    origin: Origin
    """`resource` is the role's logical name; implicit SAM roles are named after the function."""
    grants: tuple[Grant, ...] = ()
    external: str | None = None
    """A role ARN defined elsewhere: its permissions are unknown here."""


@dataclass(frozen=True, slots=True)
class EnvVar:
    name: str
    value: object
    """A string, number or `Unresolved`."""
    pointer: str
    no_echo_default: bool = False
    """The value is the default of a `NoEcho` parameter: a secret written into the template."""


@dataclass(frozen=True, slots=True)
class Function:
    origin: Origin
    """`resource` is the function's logical name, `pointer` its definition."""
    runtime: str | Unresolved | None = None
    runtime_pointer: str = ""
    handler: str | None = None
    code_uri: str | None = None
    """Path of the code, relative to the template's folder, when it is local."""
    package_type: str = "Zip"
    environment: tuple[EnvVar, ...] = ()
    memory: int | None = None
    timeout: int | None = None
    reserved_concurrency: int | None = None
    dead_letter: str | None = None
    on_failure: str | None = None
    """Asynchronous invocation failure destination."""
    tracing: str | None = None
    kms_key: str | None = None
    layers: tuple[str, ...] = ()
    vpc: bool = False
    architectures: tuple[str, ...] = ()
    role: Role | None = None
    triggers: tuple[Trigger, ...] = ()


@dataclass(frozen=True, slots=True)
class Permission:
    """A resource-based policy statement that lets a principal invoke a function."""

    origin: Origin
    function: str | None
    """Logical name of the function it applies to, when the loader could tell."""
    principal: str
    action: str
    source_arn: str | None = None
    source_account: str | None = None
    function_url_auth_type: str | None = None
    principal_org_id: str | None = None
    """`PrincipalOrgID`: only principals of that AWS Organization may use the permission."""


@dataclass(frozen=True, slots=True)
class PublicAccessBlock:
    """S3 Block Public Access settings that apply to a bucket (its own or the account's)."""

    pointer: str
    """Where the settings are written."""
    block_public_acls: bool = False
    ignore_public_acls: bool = False
    """Public ACLs grant nothing, whatever the bucket's ACL says."""
    block_public_policy: bool = False
    """S3 refuses a bucket policy that grants public access."""
    restrict_public_buckets: bool = False
    """A public bucket policy lets in only AWS services and the owner account's principals."""

    @property
    def blocks_acls(self) -> bool:
        return self.ignore_public_acls

    @property
    def blocks_policy(self) -> bool:
        return self.block_public_policy or self.restrict_public_buckets


@dataclass(frozen=True, slots=True)
class Bucket:
    origin: Origin
    name: str | None = None
    public_read: bool = False
    public_write: bool = False
    """`public_read` and `public_write` say what the bucket's ACL grants everyone; its
    policy is in `policy`, and `public_access_block` may override both."""
    policy: PolicyDocument | None = None
    policy_unknown: tuple[tuple[str, Origin], ...] = ()
    """Parts of its policy that could not be read, as `(reason, where)` pairs: a Terraform
    `dynamic` block whose `for_each` is known only at apply. `reason` names the block and
    why (`data.aws_iam_policy_document.uploads dynamic "statement" (for_each =
    var.extra: variable has no default)`); `where` is the block (`where.pointer`), in the
    file it is written in, labelled with the bucket. `policy` then holds only what could
    be read, so an empty or harmless `policy` says nothing about these parts."""
    notifies: tuple[str, ...] = ()
    """Logical names of the functions its notifications invoke."""
    public_access_block: PublicAccessBlock | None = None


@dataclass(frozen=True, slots=True)
class TemplateValue:
    """A value written in a template that may hold a secret: a parameter default, a stage
    variable, a tag. Environment variables are on `Function.environment` instead."""

    kind: str
    """`parameter-default`, `stage-variable`, `output`, ..."""
    name: str
    value: object
    pointer: str
    no_echo: bool = False
    origin: Origin | None = None
    """The file the value is written in, when not the application's."""


@dataclass(frozen=True, slots=True)
class Layer:
    """A Lambda layer defined in the application, and the local folder it is built from."""

    origin: Origin
    """`resource` is the layer's logical name (CloudFormation ID, Terraform address)."""
    content_uri: str | None = None
    """The layer's folder (or zip), relative to the application's folder, when local."""


@dataclass(frozen=True, slots=True)
class Application:
    """Everything one template file (or Terraform folder) describes, linked."""

    origin: Origin
    """`resource` is the file name, `resource_type` the format (`sam`, `serverless`, ...)."""
    functions: tuple[Function, ...] = ()
    roles: tuple[Role, ...] = ()
    permissions: tuple[Permission, ...] = ()
    buckets: tuple[Bucket, ...] = ()
    values: tuple[TemplateValue, ...] = ()
    suppressions: tuple[Suppression, ...] = ()
    layers: tuple[Layer, ...] = ()


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A handler source file: what it is written in and which functions it serves."""

    path: PurePosixPath
    """As displayed, like every other path in a report."""
    language: str
    """`python`, `javascript` or `typescript`."""
    functions: tuple[str, ...] = ()
    """Logical names of the template functions whose handler is in this file; empty for a
    handler file found without a template."""
    handlers: tuple[str, ...] = ()
    """Its entry points (`handler`, `lambda_handler`); a file can serve several functions,
    each through its own (`Function.handler` names which)."""


# --- Dependencies -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Dependency:
    """One package a deployable unit ships, as a manifest, lockfile or installed tree says."""

    ecosystem: str
    """OSV ecosystem name: `PyPI` or `npm`."""
    name: str
    """As written; matching normalises it (PEP 503 for PyPI)."""
    version: str | None
    """The exact version when pinned, locked or installed; `None` when only a range is known."""
    specifier: str = ""
    """The requirement as written (`==2.19.0`, `>=1.0`, `^4.17.1`); empty when unconstrained."""
    pinned: bool = False
    direct: bool = True
    hashes: tuple[str, ...] = ()
    markers: str | None = None
    pointer: str = ""
    """JSON pointer of the entry in a JSON/TOML/YAML file (empty for line-based files)."""
    line: int | None = None
    dev: bool = False
    """Only needed to develop, test or build (`devDependencies`, a dev group): not deployed."""
    reference: str | None = None
    """The URL, VCS reference or local path it is installed from instead of an index version
    (`git+https://...@main`, `./libs/common`, `file:../shared`); such a dependency has no
    version to pin or to check against advisories."""
    source: PurePosixPath | None = None
    """The file that declares it when that is not the set's own file (a `-r` include)."""
    nested: bool = False
    """An npm copy installed inside another package's own `node_modules`
    (`node_modules/a/node_modules/x`): only that package loads it, never a handler's
    `require("x")`, which gets the copy the project's `node_modules` holds."""


@dataclass(frozen=True, slots=True)
class HandlerImport:
    """A module from outside its own code that a function's handler imports, found by
    reading the code (`ast` for Python, tree-sitter for JavaScript and TypeScript), never
    by running it."""

    function: str
    """Logical name of the function whose handler imports it."""
    module: str
    """The module as the import names it (`yaml`, `google.cloud.storage`, `@scope/x/sub`)."""
    distributions: tuple[str, ...]
    """The packages that may provide it, best first: PEP 503 names for Python (`pyyaml`),
    npm names for Node.js (`@scope/x`)."""
    path: PurePosixPath
    """The file holding the import: the handler or a module of its own it imports."""
    line: int


@dataclass(frozen=True, slots=True)
class DependencySet:
    """Everything one manifest, lockfile or installed tree declares."""

    origin: Origin
    kind: str
    """What the file is: `requirements`, `poetry.lock`, `package-lock.json`, `site-packages`, ..."""
    dependencies: tuple[Dependency, ...]
    locked: bool
    """From a lockfile or an installed tree: versions are exact and complete."""
    functions: tuple[str, ...] = ()
    """Logical names of the functions that ship this set, once templates are linked."""
    application: bool = False
    """What it declares is installed as is and deployed (a requirements file, a lockfile, an
    installed tree, `"private": true`, Poetry's `package-mode = false`), as opposed to a
    library's ranges that its users resolve."""
    lockfile: PurePosixPath | None = None
    """For a manifest: the lockfile beside it that fixes its versions, when there is one."""
    includes: tuple[PurePosixPath, ...] = ()
    """Other files read to build this set (`-r`/`-c` includes), so each is loaded once."""
    python_version: str | None = None
    """The Python version environment markers are evaluated for (the linked functions'
    runtime, e.g. `3.12`); `None` until linked, and then every dependency counts."""
    imports: tuple[HandlerImport, ...] = ()
    """What the linked functions' handlers import, once their code has been read."""
    traced: tuple[str, ...] = ()
    """The linked functions whose handler code was read; nothing is known of the others."""


@dataclass(frozen=True, slots=True)
class Finding:
    rule: RuleMeta
    severity: Severity
    """The rule's severity, or lower when the evidence (a restricting condition) says so."""
    confidence: Confidence
    location: Location
    message: str
    resource: str
    resource_type: str
    fingerprint: str
    """Hash of rule id, path, pointer and evidence; never the line, so it survives edits."""
    flow: tuple[tuple[int, str], ...] = ()
    """For code findings: the path from source to sink as `(line, step)` pairs in the
    finding's file, source first (SARIF `codeFlows`)."""


@dataclass(frozen=True, slots=True)
class ScanError:
    """An input that should have been analysed and could not be."""

    path: PurePosixPath
    message: str
    line: int | None = None


@dataclass(frozen=True, slots=True)
class SkippedInput:
    """An input that was recognised and deliberately not analysed, with the reason."""

    path: PurePosixPath
    reason: str


@dataclass(frozen=True, slots=True)
class Suppression:
    """An inline `lambdashield: ignore[...]` comment, applying to its line and the next, or
    a resource's `Metadata` entry, applying to every line of the resource."""

    path: PurePosixPath
    line: int
    rule_ids: tuple[str, ...]
    reason: str
    last_line: int | None = None
    """The resource's last line, for `Metadata` suppressions."""


@dataclass(frozen=True, slots=True)
class FunctionRisk:
    """One function's risk picture, from the model and its findings (`lambdashield.risk`
    builds it and documents the score; `docs/risk.md` explains it)."""

    function: str
    path: PurePosixPath
    line: int | None
    runtime: str
    """As written; empty when unknown (a container image, an unresolved value)."""
    runtime_status: str
    """`deprecated`, `deprecating soon`, `not flagged` or `unknown`."""
    entry_points: tuple[str, ...]
    """Each with its authorisation: `POST /orders (no auth)`, `function URL (AuthType NONE)`."""
    internet_reachable: bool
    admin: int = 0
    privilege_escalation: int = 0
    exfiltration: int = 0
    write_all: int = 0
    """Findings on the function's permissions, per risk (`write_all`: write on `*`)."""
    secrets: tuple[str, ...] = ()
    vulnerable_dependencies: int = 0
    code_findings: int = 0
    findings: int = 0
    score: int = 0
    """The attack path score, 0-99: 25 per condition met (internet, privilege, sink or
    secret) plus up to 24 for how strongly each holds."""
    attack_path: tuple[str, ...] = ()
    """The conditions met, in order: entry, privilege, sink or secret."""


@dataclass(frozen=True, slots=True)
class Snippet:
    """Lines of one scanned file around its findings, for reports that show code. The
    engine reads them; lines of secret findings are masked."""

    path: PurePosixPath
    lines: tuple[tuple[int, str], ...]


@dataclass(frozen=True, slots=True)
class KnownVulnerability:
    """A published vulnerability (its advisories grouped by alias) that affects one
    scanned dependency; software bills of materials list these beside the packages."""

    ecosystem: str
    name: str
    version: str | None
    """`None` when only a range is known; `specifier` then holds it."""
    specifier: str
    location: Location
    """The dependency set's file and the dependency's pointer in it."""
    ids: tuple[str, ...]
    aliases: tuple[str, ...]
    summary: str = ""
    fixed: tuple[str, ...] = ()
    """Versions that fix it, lowest first."""
    score: float | None = None
    """Highest CVSS base score, when an advisory carries a vector."""
    rating: str | None = None
    """critical/high/medium/low."""
    malicious: bool = False
    reachable: bool | None = None
    """Whether a linked function's handler imports the package; `None` when unknown."""


@dataclass(frozen=True, slots=True)
class ScanReport:
    findings: tuple[Finding, ...]
    errors: tuple[ScanError, ...]
    not_analysed: tuple[SkippedInput, ...]
    rules: tuple[RuleMeta, ...]
    """Every rule that ran: reporters list them (SARIF `tool.driver.rules`)."""
    files: int
    functions: int = 0
    suppressed: int = 0
    baselined: int = 0
    version: str = ""
    function_risks: tuple[FunctionRisk, ...] = ()
    """Every function's risk picture, highest attack path score first."""
    snippets: tuple[Snippet, ...] = ()
    baselined_findings: tuple[Finding, ...] = ()
    """The findings the baseline hid, for reports that list them apart (PR comments)."""
    dependency_sets: tuple[DependencySet, ...] = ()
    """Every dependency set scanned, linked to its functions (the SBOM's components)."""
    vulnerabilities: tuple[KnownVulnerability, ...] = ()
    """Every known vulnerability of those dependencies, whatever rules were selected."""

    def findings_by_severity(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for finding in self.findings:
            counts[finding.severity.label] = counts.get(finding.severity.label, 0) + 1
        return dict(sorted(counts.items()))
