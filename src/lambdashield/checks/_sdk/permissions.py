"""SDK calls -> the IAM actions and resource ARNs they need, for one function.

The function's environment (from its template) turns `os.environ["TABLE_NAME"]` into the
value the template gives it: `!Ref OrdersTable` arrives as `${OrdersTable}` and the table's
ARN becomes `arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${OrdersTable}`,
ready for `!Sub`. A name that cannot be worked out becomes `*` in that one place of the ARN
(`table/*`), the narrowest pattern that is still sure to allow the call, and a note says so.

ARN templates and resource types come from the IAM catalogue; which request parameter
names which part of an ARN comes from `resource_params` in the override table.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lambdashield.checks._sdk.calls import (
    Arg,
    ArgDict,
    ArgList,
    EnvRef,
    Extraction,
    Note,
    NoteKind,
    SdkCall,
    Text,
    Unknown,
)
from lambdashield.checks._sdk.models import SdkData
from lambdashield.iam_catalogue import Action, wildcard
from lambdashield.model import EnvVar, Unresolved

__all__ = ["Need", "Requirements", "minimal_policy", "requirements"]

_PSEUDO = {
    "Partition": "${AWS::Partition}",
    "Region": "${AWS::Region}",
    "Account": "${AWS::AccountId}",
}
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_QUEUE_URL = re.compile(
    r"^https?://(?:sqs\.)?([a-z0-9-]+)\.(?:queue\.)?amazonaws\.com[^/]*/(\d{12}|[^/]+)/([^/?]+)"
)
_PARTIQL_TABLE = re.compile(
    r'(?:\bFROM|\bINTO|^\s*UPDATE)\s+"?([A-Za-z0-9_.${}\-]+)"?', re.IGNORECASE
)
_MAX_BINDINGS = 16


@dataclass(frozen=True, slots=True)
class Need:
    """One action on one resource that one call needs."""

    action: str
    """AWS's spelling (`dynamodb:GetItem`)."""
    resource: str
    """An ARN, possibly with `${...}` placeholders and `*`, or `*`."""
    call: SdkCall
    unresolved: str = ""
    """Why the resource is a pattern rather than one known resource; empty when known."""


@dataclass(frozen=True, slots=True)
class Requirements:
    needs: tuple[Need, ...]
    notes: tuple[Note, ...]
    """What could not be worked out for this function: unresolved names, unmapped calls."""


def _whole_placeholder(text: str) -> bool:
    match = _VARIABLE.fullmatch(text)
    return match is not None and "::" not in match[1]


class _Resolver:
    def __init__(self, data: SdkData, environment: Mapping[str, object]) -> None:
        self.data = data
        self.environment = environment

    def text(self, text: Text) -> tuple[str, str]:
        """The string, with `*` for what is unknown, and why it is unknown."""
        out: list[str] = []
        reasons: list[str] = []
        for part in text.parts:
            if isinstance(part, str):
                out.append(part)
            elif isinstance(part, EnvRef):
                value = self.environment.get(part.name, _MISSING)
                if isinstance(value, str):
                    out.append(value)
                elif isinstance(value, (int, float)) and not isinstance(value, bool):
                    out.append(str(value))
                elif value is _MISSING and part.default is not None:
                    out.append(part.default)
                elif value is _MISSING:
                    out.append("*")
                    reasons.append(f"environment variable {part.name} is not set in the template")
                else:
                    shown = str(value) if isinstance(value, Unresolved) else repr(value)
                    out.append("*")
                    reasons.append(f"environment variable {part.name} is `{shown}`")
            elif isinstance(part, Unknown):
                out.append("*")
                reasons.append("computed at run time")
        value = "".join(out)
        if "*" in value and not reasons:
            reasons.append("computed at run time")
        return re.sub(r"\*+", "*", value), "; ".join(dict.fromkeys(reasons))

    def arg_text(self, arg: Arg) -> tuple[str, str]:
        if isinstance(arg, Text):
            return self.text(arg)
        return "*", "not a string the code spells out"


_MISSING = object()


def _variables(template: str) -> list[str]:
    return [v for v in _VARIABLE.findall(template) if v not in _PSEUDO]


class _Builder:
    def __init__(self, data: SdkData, resolver: _Resolver) -> None:
        self.data = data
        self.resolver = resolver
        self.notes: list[Note] = []

    def needs(self, call: SdkCall) -> Iterator[Need]:
        for operation in call.operations:
            entries = self.data.actions(call.service, operation)
            if entries is None:
                self.notes.append(
                    Note(
                        call.path,
                        call.line,
                        NoteKind.UNMAPPED,
                        f"`{call.service}:{operation}` has no known IAM action",
                        call.service,
                    )
                )
                continue
            for entry in entries:
                yield from self.entry_needs(call, entry)

    def entry_needs(self, call: SdkCall, entry: str | dict[str, Any]) -> Iterator[Need]:
        if isinstance(entry, str):
            name, spec = entry, {}
        else:
            name, spec = str(entry["action"]), entry
        action = self.data.catalogue.action(name)
        if action is None:
            return
        if "statement" in spec and not self.statement_matches(call, str(spec["statement"])):
            return
        bindings = self.bindings(call, spec)
        for binding in bindings:
            arn, reason = self.arn(action, binding)
            yield Need(action.full_name, arn, call, reason)

    def statement_matches(self, call: SdkCall, verb: str) -> bool:
        values = call.param("Statement")
        texts = [v.literal for v in values if isinstance(v, Text)]
        if not texts or any(t is None for t in texts):
            return True
        return any((t or "").lstrip().upper().startswith(verb) for t in texts)

    def bindings(self, call: SdkCall, spec: Mapping[str, Any]) -> list[dict[str, tuple[str, str]]]:
        """Assignments of ARN variables (`TableName`, or `@arn` for a whole ARN)."""
        params = self.data.resource_params(call.service)
        if spec.get("from") == "CopySource":
            return [self.copy_source(arg) for arg in call.param("CopySource") or (None,)]
        if "item" in spec:
            return self.transact(call, str(spec["item"]))
        if "statement" in spec:
            return self.partiql(call)
        choices: list[list[dict[str, tuple[str, str]]]] = []
        for param, rule in params.items():
            form = rule.get("form", "name")
            if form in ("copy-source", "items"):
                continue
            values = call.param(param)
            if not values:
                continue
            options: list[dict[str, tuple[str, str]]] = []
            for value in values:
                options.extend(self.assign(rule["variable"], form, value))
            if options:
                choices.append(options)
        found: list[dict[str, tuple[str, str]]] = [{}]
        for options in choices:
            found = [{**a, **b} for a in found for b in options][:_MAX_BINDINGS]
        return found

    def assign(self, variable: str, form: str, arg: Arg) -> list[dict[str, tuple[str, str]]]:
        if form == "keys":
            if isinstance(arg, ArgDict) and arg.entries:
                found = [{variable: self.resolver.text(k)} for k, _ in arg.entries]
                if arg.open:
                    found.append({variable: ("*", "some table names are computed at run time")})
                return found
            return [{variable: ("*", "the request items are computed at run time")}]
        value, reason = self.resolver.arg_text(arg)
        whole = value.startswith("arn:") or (
            _whole_placeholder(value) and (form in ("arn", "secret") or value.endswith(".Arn}"))
        )
        if whole and form in ("arn", "name-or-arn", "secret", "kms-key", "ssm-parameter"):
            return [{"@arn": (value, reason)}]
        if form == "secret" and value != "*":
            return [{variable: (f"{value}-??????", reason)}]
        if form == "queue-url":
            return [self.queue(value, reason, variable)]
        if form in ("ssm-parameter", "ssm-path"):
            return [{variable: (value.strip("/") or "*", reason)}]
        if form == "kms-key" and value.startswith("alias/"):
            return [{variable: ("*", f"the key is named by its alias {value}")}]
        return [{variable: (value, reason)}]

    def queue(self, value: str, reason: str, variable: str) -> dict[str, tuple[str, str]]:
        if _whole_placeholder(value):
            return {variable: (value[:-1] + ".QueueName}", reason)}
        match = _QUEUE_URL.match(value)
        if match is not None:
            region, account, name = match.groups()
            found = {variable: (name, reason)}
            if region != "*" and "queue" not in region:
                found["Region"] = (region, "")
            if account.isdigit():
                found["Account"] = (account, "")
            return found
        name = value.rsplit("/", 1)[-1] if "/" in value else value
        return {variable: (name or "*", reason or "not a queue URL")}

    def copy_source(self, arg: Arg) -> dict[str, tuple[str, str]]:
        if isinstance(arg, ArgDict):
            return {
                "BucketName": self.resolver.arg_text(arg.get("Bucket")),
                "ObjectName": self.resolver.arg_text(arg.get("Key")),
            }
        if isinstance(arg, Text):
            value, reason = self.resolver.text(arg)
            bucket, _, name = value.lstrip("/").partition("/")
            return {"BucketName": (bucket or "*", reason), "ObjectName": (name or "*", reason)}
        return {
            "BucketName": ("*", "the copy source is computed at run time"),
            "ObjectName": ("*", ""),
        }

    def transact(self, call: SdkCall, item: str) -> list[dict[str, tuple[str, str]]]:
        found: list[dict[str, tuple[str, str]]] = []
        values = call.param("TransactItems")
        if not values or any(not isinstance(v, ArgList) or v.open for v in values):
            return [{"TableName": ("*", "the transaction items are computed at run time")}]
        for value in values:
            if not isinstance(value, ArgList):
                continue
            for entry in value.items:
                if not isinstance(entry, ArgDict):
                    return [{"TableName": ("*", "the transaction items are computed at run time")}]
                inner = entry.get(item)
                if isinstance(inner, ArgDict):
                    found.append({"TableName": self.resolver.arg_text(inner.get("TableName"))})
                elif entry.open:
                    found.append(
                        {"TableName": ("*", "the transaction items are computed at run time")}
                    )
        return found

    def partiql(self, call: SdkCall) -> list[dict[str, tuple[str, str]]]:
        values = call.param("Statement")
        found: list[dict[str, tuple[str, str]]] = []
        for value in values or (None,):
            if isinstance(value, Text):
                text, reason = self.resolver.text(value)
                match = _PARTIQL_TABLE.search(text)
                if match is not None:
                    found.append({"TableName": (match[1], reason)})
                    continue
            found.append({"TableName": ("*", "the PartiQL statement is computed at run time")})
        return found

    def arn(self, action: Action, binding: Mapping[str, tuple[str, str]]) -> tuple[str, str]:
        if not action.resource_types:
            return "*", ""
        whole = binding.get("@arn")
        if whole is not None:
            return whole
        known_vars = {r["variable"] for r in self.data.resource_params(action.service).values()}
        known_vars |= {
            r["variable"]
            for s in self.data.overrides["resource_params"].values()
            for r in s.values()
        }
        best: tuple[tuple[int, int, int, int], str] | None = None
        for index, kind in enumerate(action.resource_types):
            template = self.data.catalogue.resource_arn(action, kind)
            if template is None:
                continue
            variables = _variables(template)
            bound = sum(1 for v in variables if v in binding)
            known = sum(1 for v in variables if v in known_vars)
            score = (bound, -(len(variables) - bound), known, -index)
            if best is None or score > best[0]:
                best = (score, template)
        if best is None:
            return "*", ""
        template = best[1]
        reasons: list[str] = []

        def fill(match: re.Match[str]) -> str:
            name = match[1]
            if name in binding:
                value, reason = binding[name]
                # Object keys are made at run time by design; `uploads/*.json` is as narrow
                # as the code allows and is not reported as unresolved.
                if reason and name != "ObjectName":
                    reasons.append(reason)
                return value
            if name == "ObjectName":
                return "*"
            if name in _PSEUDO:
                return _PSEUDO[name]
            reasons.append(f"the call does not name its {name}")
            return "*"

        arn = _VARIABLE.sub(fill, template)
        return arn, "; ".join(dict.fromkeys(r for r in reasons if r))


def _environment(variables: Sequence[EnvVar] | Mapping[str, object]) -> dict[str, object]:
    if isinstance(variables, Mapping):
        return dict(variables)
    return {v.name: v.value for v in variables}


def requirements(
    extraction: Extraction,
    environment: Sequence[EnvVar] | Mapping[str, object],
    data: SdkData,
) -> Requirements:
    """What one function's calls need, with its environment applied."""
    builder = _Builder(data, _Resolver(data, _environment(environment)))
    needs: dict[tuple[str, str, str, int], Need] = {}
    for call in extraction.calls:
        for need in builder.needs(call):
            needs.setdefault((need.action, need.resource, call.path.as_posix(), call.line), need)
    notes = list(builder.notes)
    notes.extend(
        Note(
            need.call.path,
            need.call.line,
            NoteKind.UNRESOLVED,
            f"`{need.call.method}`: {need.unresolved}, so `{need.resource}` is used",
            need.call.service,
        )
        for need in needs.values()
        if need.unresolved
    )
    ordered = sorted(needs.values(), key=lambda n: (n.action, n.resource, n.call.path, n.call.line))
    return Requirements(
        tuple(ordered), tuple(sorted(set(notes), key=lambda n: (n.path, n.line, n.message)))
    )


def _covers(pattern: str, arn: str) -> bool:
    return (
        pattern != arn
        and ("*" in pattern or "?" in pattern)
        and wildcard(pattern).fullmatch(arn.lower())
    )


def minimal_policy(needs: Sequence[Need]) -> dict[str, Any]:
    """The smallest policy that allows every need: one statement per set of resources,
    actions and resources sorted, so the same code always gives the same policy."""
    by_action: dict[str, set[str]] = {}
    for need in needs:
        by_action.setdefault(need.action, set()).add(need.resource)
    grouped: dict[tuple[str, ...], list[str]] = {}
    for action, resources in by_action.items():
        if "*" in resources:
            kept = ["*"]
        else:
            kept = sorted(r for r in resources if not any(_covers(o, r) for o in resources))
        grouped.setdefault(tuple(kept), []).append(action)
    statements = [
        {"Effect": "Allow", "Action": sorted(actions), "Resource": list(resources)}
        for resources, actions in sorted(grouped.items(), key=lambda kv: (kv[0], sorted(kv[1])))
    ]
    return {"Version": "2012-10-17", "Statement": statements}
