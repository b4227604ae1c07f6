"""What reports need beyond the findings: each function's risk picture, and source lines.

The **risk picture** (`summarise`) puts together, per function, what the loaders know
(entry points and their authorisation, runtime, code folder) and what the rules found
on it (permission risks, secrets, vulnerable dependencies, code findings), and ranks the
functions by an **attack path score** from 0 to 99:

    score = 25 * conditions + min(24, strength)

`conditions` counts the three links of an attack path that hold:

1. **internet**: a route or function URL without authorisation, an S3 trigger from a
   bucket anyone can write to, or a resource-based permission open to everyone;
2. **privilege**: the function's permissions allow administrator access (`LS-IAM-001`),
   privilege escalation or credential minting (`LS-IAM-004`, `LS-IAM-006`), or
   exfiltration (`LS-IAM-005`, `LS-IAM-007`);
3. **sink or secret**: event data reaches a dangerous call (`LS-CODE-*`), or the function
   holds a plaintext secret (`LS-SEC-*`).

`strength` tells functions with the same conditions apart: exposure (8 public, 4 an
authenticated HTTP entry, 2 another event source), privilege (8 admin, 6 escalation, 5
exfiltration, 3 write on `*`: the strongest only), 4 for a dangerous sink, 4 for a secret,
2 for a vulnerable or malicious dependency (`LS-DEP-001`, `LS-DEP-002`) and 1 for a
deprecated runtime. Since it never exceeds 24, a function with all three links always
ranks above one with two, whatever else it has. Ties sort by path, line and name, so the
order is deterministic. `docs/risk.md` explains the formula for users.

The picture is built from the findings as reported: a suppressed or baselined finding no
longer counts, as the user has accepted it.

**Source lines** (`source_lines`) are the lines around each finding, read from the scanned
files for reports that show code (reporters never read files). Lines that hold a secret
(those of `LS-SEC` findings) are masked before they leave the engine.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from lambdashield.model import (
    Application,
    AuthKind,
    Finding,
    Function,
    FunctionRisk,
    Snippet,
    Trigger,
    TriggerKind,
    Unresolved,
)

__all__ = [
    "ADMIN_RULES",
    "EXFILTRATION_RULES",
    "PRIVILEGE_ESCALATION_RULES",
    "WRITE_ALL_RULES",
    "source_lines",
    "summarise",
]

ADMIN_RULES = frozenset({"LS-IAM-001"})
PRIVILEGE_ESCALATION_RULES = frozenset({"LS-IAM-004", "LS-IAM-006"})
EXFILTRATION_RULES = frozenset({"LS-IAM-005", "LS-IAM-007"})
WRITE_ALL_RULES = frozenset({"LS-IAM-002", "LS-IAM-003", "LS-IAM-008"})
VULNERABLE_RULES = frozenset({"LS-DEP-001", "LS-DEP-002"})
RUNTIME_RULE = "LS-FN-001"
OPEN_PERMISSION_RULE = "LS-API-003"
PUBLIC_BUCKET_RULE = "LS-API-005"
CREDENTIAL_FAMILY = "LS-SEC"
SINK_FAMILY = "LS-CODE"
CODE_FAMILIES = frozenset({"LS-CODE", "LS-LOG"})

CONDITION_POINTS = 25
MAX_STRENGTH = CONDITION_POINTS - 1

_NPM_FILES = frozenset(
    {"package.json", "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml"}
)
_JS_SUFFIXES = frozenset({".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", ".jsx", ".tsx"})


# --- The risk picture ---------------------------------------------------------------------


def summarise(
    applications: Iterable[Application], findings: Iterable[Finding]
) -> tuple[FunctionRisk, ...]:
    """Every function's risk picture, highest attack path score first."""
    findings = list(findings)
    on_function: dict[str, list[Finding]] = defaultdict(list)
    by_resource: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    by_folder: dict[PurePosixPath, list[Finding]] = defaultdict(list)
    """Dependency and source-file findings under each folder, for code folders."""
    for finding in findings:
        by_resource[(finding.resource_type, finding.resource)].append(finding)
        if finding.resource_type == "function":
            on_function[finding.resource].append(finding)
        elif _in_code(finding):
            path = finding.location.path
            for folder in path.parents:
                by_folder[folder].append(finding)
    folders: dict[tuple[PurePosixPath, str, str], PurePosixPath | None] = {}
    risks = []
    for application in applications:
        for function in application.functions:
            key = (
                application.origin.path,
                application.origin.resource_type,
                function.code_uri or "",
            )
            if key not in folders:
                folders[key] = _code_dir(application, function)
            risks.append(
                _risk(application, function, folders[key], on_function, by_resource, by_folder)
            )
    return tuple(sorted(risks, key=lambda r: (-r.score, r.path, r.line or 0, r.function)))


@dataclass
class _Tally:
    admin: int = 0
    escalation: int = 0
    exfiltration: int = 0
    write_all: int = 0
    secrets: list[str] = field(default_factory=list)
    vulnerable: int = 0
    code: int = 0
    sinks: int = 0
    runtime_status: str = "not flagged"
    findings: int = 0

    def add(self, finding: Finding, function: Function) -> None:
        rule_id, family = finding.rule.id, finding.rule.family
        self.findings += 1
        if rule_id in ADMIN_RULES:
            self.admin += 1
        elif rule_id in PRIVILEGE_ESCALATION_RULES:
            self.escalation += 1
        elif rule_id in EXFILTRATION_RULES:
            self.exfiltration += 1
        elif rule_id in WRITE_ALL_RULES:
            self.write_all += 1
        elif rule_id in VULNERABLE_RULES:
            self.vulnerable += 1
        elif rule_id == RUNTIME_RULE:
            self.runtime_status = (
                "deprecating soon" if " deprecated on " in finding.message else "deprecated"
            )
        elif family == CREDENTIAL_FAMILY:
            self.secrets.append(_secret_name(finding, function))
        if family in CODE_FAMILIES:
            self.code += 1
            if family == SINK_FAMILY:
                self.sinks += 1


def _risk(
    application: Application,
    function: Function,
    code_dir: PurePosixPath | None,
    on_function: dict[str, list[Finding]],
    by_resource: dict[tuple[str, str], list[Finding]],
    by_folder: dict[PurePosixPath, list[Finding]],
) -> FunctionRisk:
    name = function.origin.resource
    scope = _Scope(application, function)
    tally = _Tally()
    for finding in on_function.get(name, ()):
        if scope.holds(finding.location.path):
            tally.add(finding, function)
    if code_dir is not None:
        for finding in by_folder.get(code_dir, ()):
            if _same_language(finding.location.path, function):
                tally.add(finding, function)

    entries: list[str] = []
    public: list[str] = []
    authenticated = False
    for trigger in function.triggers:
        label, is_public = _entry(trigger, application, name, by_resource, scope)
        entries.append(label)
        if is_public:
            public.append(label)
        elif trigger.kind.is_http:
            authenticated = True
    for permission in application.permissions:
        if permission.function != name:
            continue
        open_to_all = any(
            f.rule.id == OPEN_PERMISSION_RULE and f.location.pointer == permission.origin.pointer
            for f in by_resource.get(("permission", permission.origin.resource), ())
        )
        if open_to_all:
            label = f"resource policy: Principal * ({permission.action or 'lambda:InvokeFunction'})"
            entries.append(label)
            public.append(label)

    privileges = [
        word
        for word, count in (
            ("admin", tally.admin),
            ("privilege escalation", tally.escalation),
            ("exfiltration", tally.exfiltration),
            ("write on *", tally.write_all),
        )
        if count
    ]
    privileged = bool(tally.admin or tally.escalation or tally.exfiltration)
    holds = []
    if tally.secrets:
        holds.append("secret " + ", ".join(sorted(set(tally.secrets))))
    if tally.sinks:
        holds.append(f"{tally.sinks} dangerous sink{'s' if tally.sinks != 1 else ''}")

    path: list[str] = []
    if public:
        more = f" and {len(public) - 1} more" if len(public) > 1 else ""
        path.append(f"internet: {public[0]}{more}")
    if privileged:
        path.append("privileged: " + ", ".join(p for p in privileges if p != "write on *"))
    if holds:
        path.append("holds: " + "; ".join(holds))

    exposure = 8 if public else 4 if authenticated else 2 if function.triggers else 0
    privilege = (
        8
        if tally.admin
        else 6
        if tally.escalation
        else 5
        if tally.exfiltration
        else 3
        if tally.write_all
        else 0
    )
    strength = (
        exposure
        + privilege
        + (4 if tally.sinks else 0)
        + (4 if tally.secrets else 0)
        + (2 if tally.vulnerable else 0)
        + (1 if tally.runtime_status == "deprecated" else 0)
    )
    conditions = bool(public) + privileged + bool(holds)
    runtime = _runtime(function)
    start, _end = function.origin.lines(function.origin.pointer)
    return FunctionRisk(
        function=name,
        path=function.origin.path,
        line=start,
        runtime=runtime,
        runtime_status=tally.runtime_status if runtime else "unknown",
        entry_points=tuple(entries),
        internet_reachable=bool(public),
        admin=tally.admin,
        privilege_escalation=tally.escalation,
        exfiltration=tally.exfiltration,
        write_all=tally.write_all,
        secrets=tuple(sorted(set(tally.secrets))),
        vulnerable_dependencies=tally.vulnerable,
        code_findings=tally.code,
        findings=tally.findings,
        score=CONDITION_POINTS * conditions + min(MAX_STRENGTH, strength),
        attack_path=tuple(path),
    )


class _Scope:
    """The files a function's findings may point into: its application's file (or
    Terraform folder) and every file its triggers, role and policies are written in."""

    def __init__(self, application: Application, function: Function) -> None:
        self.folder = (
            application.origin.path if application.origin.resource_type == ("terraform") else None
        )
        paths = {application.origin.path, function.origin.path}
        for trigger in function.triggers:
            if trigger.origin is not None:
                paths.add(trigger.origin.path)
        role = function.role
        if role is not None:
            paths.add(role.origin.path)
            for grant in role.grants:
                if grant.origin is not None:
                    paths.add(grant.origin.path)
                if grant.document is not None:
                    paths.add(grant.document.origin.path)
        self.paths = frozenset(paths)

    def holds(self, path: PurePosixPath) -> bool:
        return path in self.paths or (self.folder is not None and _inside(path, self.folder))


def _in_code(finding: Finding) -> bool:
    """A finding on a file a function ships: a dependency file, or handler source."""
    family = finding.rule.family
    if family == "LS-DEP" or family in CODE_FAMILIES:
        return True
    suffix = finding.location.path.suffix
    return family == CREDENTIAL_FAMILY and (suffix == ".py" or suffix in _JS_SUFFIXES)


def _inside(path: PurePosixPath, folder: PurePosixPath) -> bool:
    if folder == PurePosixPath("."):
        return not path.is_absolute() and ".." not in path.parts
    return path.is_relative_to(folder)


def _code_dir(application: Application, function: Function) -> PurePosixPath | None:
    """The folder the function's code is deployed from, as a scanned path."""
    if not function.code_uri:
        return None
    base = application.origin.path
    if application.origin.resource_type != "terraform":
        base = base.parent
    parts: list[str] = []
    for part in (*base.parts, *PurePosixPath(function.code_uri).parts):
        if part == "..":
            if not parts or parts[-1] == "..":
                parts.append(part)
            else:
                parts.pop()
        elif part != ".":
            parts.append(part)
    return PurePosixPath(*parts) if parts else PurePosixPath(".")


def _same_language(path: PurePosixPath, function: Function) -> bool:
    """Whether a dependency or source file can belong to the function's runtime: a Node.js
    function does not ship a `requirements.txt`, nor a Python one a `package.json`."""
    runtime = function.runtime if isinstance(function.runtime, str) else ""
    is_js = path.name in _NPM_FILES or "node_modules" in path.parts or path.suffix in _JS_SUFFIXES
    if runtime.startswith("nodejs"):
        return is_js
    if runtime.startswith("python"):
        return not is_js
    return True


def _runtime(function: Function) -> str:
    runtime = function.runtime
    if runtime is None or isinstance(runtime, Unresolved):
        return ""
    return runtime


def _secret_name(finding: Finding, function: Function) -> str:
    pointer = finding.location.pointer
    for variable in function.environment:
        if variable.pointer == pointer:
            return variable.name
    last = pointer.rsplit("/", 1)[-1] if pointer else ""
    return last.replace("~1", "/").replace("~0", "~") or finding.rule.id


_AUTH_WORDS = {
    AuthKind.NONE: "no auth",
    AuthKind.IAM: "IAM auth",
    AuthKind.UNKNOWN: "auth unknown",
}
_EVENT_WORDS = {
    TriggerKind.SQS: "SQS queue",
    TriggerKind.SNS: "SNS topic",
    TriggerKind.EVENTBRIDGE: "EventBridge rule",
    TriggerKind.SCHEDULE: "schedule",
    TriggerKind.DYNAMODB_STREAM: "DynamoDB stream",
    TriggerKind.KINESIS: "Kinesis stream",
    TriggerKind.KAFKA: "Kafka topic",
    TriggerKind.MQ: "MQ broker",
    TriggerKind.COGNITO: "Cognito trigger",
    TriggerKind.IOT: "IoT rule",
    TriggerKind.CLOUDWATCH_LOGS: "CloudWatch Logs",
    TriggerKind.ALEXA: "Alexa skill",
}


def _entry(
    trigger: Trigger,
    application: Application,
    function: str,
    by_resource: dict[tuple[str, str], list[Finding]],
    scope: _Scope,
) -> tuple[str, bool]:
    """How the trigger reads in the picture, and whether anyone on the internet can use it."""
    auth = trigger.auth
    if trigger.kind is TriggerKind.FUNCTION_URL:
        kind = auth.kind if auth else AuthKind.UNKNOWN
        how = {AuthKind.NONE: "NONE", AuthKind.IAM: "AWS_IAM"}.get(kind, "unknown")
        return f"function URL (AuthType {how})", kind is AuthKind.NONE
    if trigger.kind.is_http:
        if auth is None:
            how = "auth unknown"
        elif auth.kind is AuthKind.AUTHORIZER:
            how = f"authorizer {auth.detail}".strip()
        else:
            how = _AUTH_WORDS[auth.kind]
        if auth is not None and auth.api_key_required:
            how += ", API key"
        prefix = {TriggerKind.API_WEBSOCKET: "WebSocket ", TriggerKind.ALB: "ALB "}.get(
            trigger.kind, ""
        )
        return f"{prefix}{trigger.source} ({how})", auth is not None and auth.kind is AuthKind.NONE
    if trigger.kind is TriggerKind.S3:
        public = _public_bucket(trigger, application, function, by_resource, scope)
        return f"S3 bucket {trigger.source}" + (" (public write)" if public else ""), public
    word = _EVENT_WORDS.get(trigger.kind)
    return (f"{word} {trigger.source}" if word else trigger.source).strip(), False


def _public_bucket(
    trigger: Trigger,
    application: Application,
    function: str,
    by_resource: dict[tuple[str, str], list[Finding]],
    scope: _Scope,
) -> bool:
    """A triggering bucket with a public-write ACL, or whose policy lets everyone write
    (`LS-API-005` at full severity: the rule lowers it when everyone can only read)."""
    for bucket in application.buckets:
        if trigger.source not in (bucket.origin.resource, bucket.name) and (
            function not in bucket.notifies
        ):
            continue
        if bucket.public_write:
            return True
        if any(
            f.rule.id == PUBLIC_BUCKET_RULE
            and f.severity is f.rule.severity
            and scope.holds(f.location.path)
            for f in by_resource.get(("bucket", bucket.origin.resource), ())
        ):
            return True
    return False


# --- Source lines ---------------------------------------------------------------------------

CONTEXT = 2
"""Lines shown before and after a finding's own lines."""
MAX_FINDING_LINES = 8
MAX_LINE_CHARS = 240
MASK = "<redacted by lambdashield>"
_KEY = re.compile(r"^(\s*(?:[-\w\"'.$]+\s*[:=]\s*)?)")


def source_lines(findings: Sequence[Finding], max_bytes: int) -> tuple[Snippet, ...]:
    """The lines around each finding, per file, with the lines of secret findings masked.

    Paths are as the scan displayed them, relative to the working directory the scan ran
    in (or absolute, when given so). A file that cannot be read now gives no lines.
    """
    wanted: dict[PurePosixPath, set[int]] = defaultdict(set)
    secret: dict[PurePosixPath, set[int]] = defaultdict(set)
    for finding in findings:
        start = finding.location.start_line
        if start is None:
            continue
        end = max(finding.location.end_line or start, start)
        last = min(end, start + MAX_FINDING_LINES - 1)
        wanted[finding.location.path].update(range(max(1, start - CONTEXT), last + CONTEXT + 1))
        if finding.rule.family == CREDENTIAL_FAMILY:
            secret[finding.location.path].update(range(start, end + 1))
    snippets = []
    for path in sorted(wanted):
        lines = _read_lines(Path(path), wanted[path], secret.get(path, set()), max_bytes)
        if lines:
            snippets.append(Snippet(path, lines))
    return tuple(snippets)


def _read_lines(
    path: Path, wanted: set[int], secret: set[int], max_bytes: int
) -> tuple[tuple[int, str], ...]:
    try:
        if path.stat().st_size > max_bytes:
            return ()
        # Universal newlines: `\r\n` and `\r` end a line too, as the loaders count them.
        with path.open(encoding="utf-8", errors="replace", newline=None) as handle:
            lines = handle.read(max_bytes + 1).split("\n")
    except (OSError, ValueError):
        return ()
    if lines[-1] == "":
        lines.pop()  # the newline that ends the last line starts no line of its own
    found = []
    for number in sorted(n for n in wanted if n <= len(lines)):
        text = lines[number - 1]
        if number in secret:
            text = _mask(text)
        elif len(text) > MAX_LINE_CHARS:
            text = text[:MAX_LINE_CHARS] + "…"
        found.append((number, text))
    return tuple(found)


def _mask(line: str) -> str:
    """`  API_KEY: sk_live_...` becomes `  API_KEY: <redacted by lambdashield>`."""
    match = _KEY.match(line)
    head = match.group(1) if match else ""
    return f"{head}{MASK}"
