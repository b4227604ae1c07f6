"""CloudFormation and SAM templates (YAML or JSON, CDK output included) into the model.

The template is read once with positions; SAM's `Globals` are merged into every function
property by property (a resource without `Properties` still gets them); intrinsics are
resolved as far as the template itself allows, and what depends on the deployment
(`!ImportValue`, parameters without defaults) becomes `Unresolved`. Functions are linked
to their roles and every policy attached to them, and to every event, URL, API method
and bucket notification that invokes them.

A function's local code (`CodeUri`, `Code`) or a layer's local content (`ContentUri`,
`Content`) that resolves outside the scanned root, links followed, is an error where it is
written and is left out of the model, so that no later stage reads it.

CDK output (`cdk.out/<Stack>.template.json`) points `Code` and `Content` at the S3 object
the asset is uploaded to; the local copy is named by the resource's `Metadata`
(`aws:asset:path`, relative to the template's folder, for the property in
`aws:asset:property`), and is read as if the property named it, under the same check.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from lambdashield.errors import LoaderError
from lambdashield.loaders._json import JsonLines, escape_pointer, parse_json, read_text
from lambdashield.loaders._paths import real_path
from lambdashield.loaders._suppressions import find_suppressions
from lambdashield.loaders._yaml import load_yaml
from lambdashield.loaders.policies import policy_from_json
from lambdashield.model import (
    Application,
    AuthKind,
    Authorization,
    Bucket,
    EnvVar,
    Function,
    Grant,
    GrantSource,
    Layer,
    Origin,
    Permission,
    PolicyDocument,
    PublicAccessBlock,
    Role,
    ScanError,
    Suppression,
    TemplateValue,
    Trigger,
    TriggerKind,
    Unresolved,
)

__all__ = ["is_template", "load_template", "resources_to_model"]

SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
_PSEUDO = frozenset(
    {
        "AWS::AccountId",
        "AWS::NotificationARNs",
        "AWS::NoValue",
        "AWS::Partition",
        "AWS::Region",
        "AWS::StackId",
        "AWS::StackName",
        "AWS::URLSuffix",
    }
)
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")
Lines = Callable[[str], "tuple[int | None, int | None]"]


def is_template(data: Any) -> bool:
    """Whether parsed YAML/JSON is a CloudFormation or SAM template."""
    return isinstance(data, dict) and (
        "AWSTemplateFormatVersion" in data
        or (isinstance(data.get("Resources"), dict) and _has_typed_resource(data["Resources"]))
    )


def _has_typed_resource(resources: dict[str, Any]) -> bool:
    return any(
        isinstance(r, dict) and isinstance(r.get("Type"), str) and "::" in r["Type"]
        for r in resources.values()
    )


def load_template(
    path: Path, display: PurePosixPath, *, max_bytes: int, root: Path | None = None
) -> tuple[Application, list[ScanError]]:
    """Read one template file; raises `LoaderError` when it cannot be parsed at all.

    `root` is the scanned folder: code and layer paths are checked against it. Without it
    they are taken as written.
    """
    text = read_text(path, display, max_bytes)
    lines: Lines
    if path.suffix.lower() == ".json":
        data = parse_json(text, display)
        lines = JsonLines(text)
    else:
        document = load_yaml(text, display)
        data, lines = document.data, document.lines
    if not is_template(data):
        raise LoaderError(display, "not a CloudFormation template (no Resources)", 1)
    suppressions, problems = find_suppressions(text, display)
    application, errors = resources_to_model(
        data, display, lines, suppressions, base_dir=path.parent, root=root
    )
    return application, [*problems, *errors]


def resources_to_model(
    data: Mapping[str, Any],
    display: PurePosixPath,
    lines: Lines,
    suppressions: list[Suppression] | tuple[Suppression, ...] = (),
    *,
    base: str = "",
    kind: str | None = None,
    base_dir: Path | None = None,
    root: Path | None = None,
) -> tuple[Application, list[ScanError]]:
    """The model of a template's `Resources` (at `base`, for Serverless `resources:`).

    `base_dir` is the template's folder and `root` the scanned folder; given both, a local
    code or layer path that resolves outside `root` is an error and is left out.
    """
    folders = None if base_dir is None or root is None else (real_path(base_dir), real_path(root))
    template = _Template(data, display, lines, base, folders)
    template.build()
    metadata_suppressions = list(template.metadata_suppressions())
    application = Application(
        origin=Origin(
            path=display,
            resource=display.name,
            resource_type=kind or ("sam" if template.is_sam else "cloudformation"),
            pointer=base,
            lines=lines,
        ),
        functions=tuple(template.functions.values()),
        roles=tuple(template.roles.values()),
        permissions=tuple(template.permissions),
        buckets=tuple(template.buckets.values()),
        layers=tuple(template.layers),
        values=tuple(template.values),
        suppressions=(*suppressions, *metadata_suppressions),
    )
    return application, template.errors


@dataclass
class _Events:
    """Triggers and settings found for one function while reading other resources."""

    triggers: list[Trigger] = field(default_factory=list)


class _Template:
    def __init__(
        self,
        data: Mapping[str, Any],
        display: PurePosixPath,
        lines: Lines,
        base: str,
        folders: tuple[Path, Path] | None = None,
    ) -> None:
        self.data = data
        self.folders = folders
        """The template's folder and the scanned root, both resolved, when known."""
        self.display = display
        self.lines = lines
        self.base = base
        raw_resources = data.get("Resources")
        self.resources: dict[str, dict[str, Any]] = {
            k: v for k, v in (raw_resources or {}).items() if isinstance(v, dict)
        }
        parameters = data.get("Parameters")
        self.parameters: dict[str, Any] = parameters if isinstance(parameters, dict) else {}
        mappings = data.get("Mappings")
        self.mappings: dict[str, Any] = mappings if isinstance(mappings, dict) else {}
        transform = data.get("Transform")
        transforms = transform if isinstance(transform, list) else [transform]
        self.is_sam = SAM_TRANSFORM in transforms
        globals_ = data.get("Globals")
        self.globals: dict[str, Any] = globals_ if isinstance(globals_, dict) else {}
        self.errors: list[ScanError] = []
        self.functions: dict[str, Function] = {}
        self.roles: dict[str, Role] = {}
        self.permissions: list[Permission] = []
        self.buckets: dict[str, Bucket] = {}
        self.values: list[TemplateValue] = []
        self.events: dict[str, _Events] = {}
        self.attached: dict[str, list[Grant]] = {}
        """Role logical ID -> policies attached by `AWS::IAM::Policy`/`ManagedPolicy`."""
        self.layers: list[Layer] = []
        self.raw_role: dict[str, Any] = {}
        """Function logical ID -> its `Role` property, linked once every role is read."""
        self.busy_maps: set[tuple[str, ...]] = set()
        self.reported: set[str] = set()
        """Pointers of errors already reported (a cycle is met from each of its members)."""
        self.s3_events: dict[str, list[str]] = {}
        """Bucket logical ID -> functions whose SAM `S3` events it invokes."""
        self.invoke_configs: dict[str, str] = {}
        """Function logical ID -> on-failure destination of an `AWS::Lambda::EventInvokeConfig`."""

    # --- helpers -----------------------------------------------------------------------

    def at(self, *parts: str | int) -> str:
        return self.base + "".join(f"/{escape_pointer(str(p))}" for p in parts)

    def error(self, pointer: str, message: str) -> None:
        self.errors.append(ScanError(self.display, message, self.lines(pointer)[0]))

    def origin(self, resource: str, resource_type: str, pointer: str) -> Origin:
        return Origin(self.display, resource, resource_type, pointer, self.lines)

    def local_path(self, owner: str, key: str, value: str, pointer: str) -> str | None:
        """`value` as written, or `None` (and an error at `pointer`) when it resolves
        outside the scanned root: the scan fails closed rather than pass over code it was
        asked to analyse, and the path is dropped so that nothing later reads it."""
        if self.folders is None:
            return value
        base_dir, root = self.folders
        if real_path(base_dir / value).is_relative_to(root):
            return value
        self.error(
            pointer,
            f"{owner}: `{key}` {value} is outside the scanned folder, which is never read; "
            "scan a folder that holds both",
        )
        return None

    def asset_path(self, logical_id: str, owner: str) -> str | None:
        """The local copy CDK staged for a function's code or a layer's content, from the
        resource's `aws:asset:path` when its `aws:asset:property` is that property; `None`
        (with an error at the path) when it resolves outside the scanned root."""
        metadata = self.resources.get(logical_id, {}).get("Metadata")
        key = _ASSET_PROPERTY.get(self.type_of(logical_id))
        if not isinstance(metadata, dict) or key is None:
            return None
        path = metadata.get("aws:asset:path")
        if (
            metadata.get("aws:asset:property") != key
            or not isinstance(path, str)
            or not path.strip()
        ):
            return None
        pointer = self.at("Resources", logical_id, "Metadata", "aws:asset:path")
        local = self.local_path(owner, "aws:asset:path", path, pointer)
        if local is None or self.folders is None or not Path(local).is_absolute():
            return local
        # Some CDK versions write the asset's absolute path: downstream, code and dependency
        # files are matched by their paths below the template's folder, so it is made
        # relative to that folder (it is inside the scanned root, which holds both).
        base_dir, _root = self.folders
        return Path(os.path.relpath(real_path(Path(local)), base_dir)).as_posix()

    def type_of(self, logical_id: str) -> str:
        resource = self.resources.get(logical_id, {})
        kind = resource.get("Type")
        return kind if isinstance(kind, str) else ""

    def properties(self, logical_id: str) -> dict[str, Any]:
        props = self.resources.get(logical_id, {}).get("Properties")
        return props if isinstance(props, dict) else {}

    def target(self, value: Any) -> str | None:
        """The logical ID a `!Ref`, `!GetAtt`, `!Sub ${X.Arn}` or bare name points at."""
        if isinstance(value, str):
            return value if value in self.resources else None
        if isinstance(value, dict) and len(value) == 1:
            ((key, inner),) = value.items()
            if key == "Ref" and isinstance(inner, str):
                return inner if inner in self.resources else None
            if key == "Fn::GetAtt":
                name = inner[0] if isinstance(inner, list) and inner else inner
                if isinstance(name, str):
                    name = name.split(".", 1)[0]
                    return name if name in self.resources else None
            if key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) and inner else inner
                if isinstance(text, str):
                    for variable in _SUB_VARIABLE.findall(text):
                        head = str(variable).split(".", 1)[0]
                        if head in self.resources:
                            return head
        return None

    def resolve(self, value: Any, depth: int = 0) -> Any:
        """Resolve intrinsics as far as the template allows; the rest is `Unresolved`."""
        if depth > 32:
            return Unresolved(str(value), "nested too deeply")
        if isinstance(value, list):
            return [self.resolve(v, depth + 1) for v in value]
        if not isinstance(value, dict) or len(value) != 1:
            if isinstance(value, dict):
                return {k: self.resolve(v, depth + 1) for k, v in value.items()}
            return value
        ((key, inner),) = value.items()
        if key == "Ref" and isinstance(inner, str):
            return self.ref(inner)
        if key == "Fn::GetAtt":
            parts = inner if isinstance(inner, list) else str(inner).split(".", 1)
            return "${" + ".".join(str(p) for p in parts) + "}"
        if key == "Fn::Sub":
            return self.sub(inner, depth)
        if key == "Fn::Join" and isinstance(inner, list) and len(inner) == 2:
            separator, items = inner
            parts = self.resolve(items, depth + 1)
            if isinstance(separator, str) and isinstance(parts, list):
                return separator.join(_text(p) for p in parts)
        if key == "Fn::FindInMap" and isinstance(inner, list) and len(inner) == 3:
            names = [self.resolve(n, depth + 1) for n in inner]
            if all(isinstance(n, str) for n in names):
                found = _dig(self.mappings, *names)
                if found is not None:
                    return self.find_in_map(tuple(names), found, depth)
        if key.startswith("Fn::") or key in ("Ref", "Condition"):
            return Unresolved(f"{key} {inner!r}"[:200], "depends on the deployment")
        return {key: self.resolve(inner, depth + 1)}

    def find_in_map(self, names: tuple[str, ...], found: Any, depth: int) -> Any:
        """A mapping's value, resolved; a value that leads back to itself is an error."""
        if names in self.busy_maps:
            pointer = self.at("Mappings", *names)
            if pointer not in self.reported:
                self.reported.add(pointer)
                self.error(
                    pointer,
                    f"circular reference: `Fn::FindInMap {list(names)}` leads back to itself",
                )
            return Unresolved(f"Fn::FindInMap {list(names)}", "circular reference")
        self.busy_maps.add(names)
        try:
            return self.resolve(found, depth + 1)
        finally:
            self.busy_maps.discard(names)

    def ref(self, name: str) -> Any:
        if name in _PSEUDO or name in self.resources:
            # A logical ID is not the physical name; as `${Name}` it stays one unknown value.
            return "${" + name + "}"
        parameter = self.parameters.get(name)
        if isinstance(parameter, dict) and "Default" in parameter:
            return parameter["Default"]
        return Unresolved(f"Ref {name}", "parameter without a default")

    def sub(self, inner: Any, depth: int) -> Any:
        text, variables = (
            (inner[0], inner[1]) if isinstance(inner, list) and len(inner) == 2 else (inner, {})
        )
        if not isinstance(text, str) or not isinstance(variables, dict):
            return Unresolved(f"Fn::Sub {inner!r}"[:200], "malformed")

        def replace(match: re.Match[str]) -> str:
            name = match[1]
            if name in variables:
                return _text(self.resolve(variables[name], depth + 1))
            if "." in name or name in _PSEUDO:
                return match[0]
            return _text(self.ref(name))

        return _SUB_VARIABLE.sub(replace, text)

    # --- building ----------------------------------------------------------------------

    def build(self) -> None:
        self.read_parameters()
        for logical_id, resource in self.resources.items():
            kind = resource.get("Type")
            reader = _READERS.get(kind) if isinstance(kind, str) else None
            if reader is not None:
                reader(self, logical_id)
        for logical_id in list(self.functions):
            self.finish_function(logical_id)
        for logical_id, functions in self.s3_events.items():
            bucket = self.buckets.get(logical_id)
            if bucket is not None:
                notifies = tuple(dict.fromkeys((*bucket.notifies, *functions)))
                self.buckets[logical_id] = replace(bucket, notifies=notifies)
        for logical_id, role in list(self.roles.items()):
            extra = self.attached.get(logical_id)
            if extra:
                self.roles[logical_id] = Role(role.origin, (*role.grants, *extra), role.external)
        self.functions = {k: self.link_role(f) for k, f in self.functions.items()}

    def read_parameters(self) -> None:
        for name, parameter in self.parameters.items():
            if isinstance(parameter, dict) and "Default" in parameter:
                self.values.append(
                    TemplateValue(
                        "parameter-default",
                        name,
                        parameter["Default"],
                        self.at("Parameters", name, "Default"),
                        no_echo=str(parameter.get("NoEcho", "")).lower() == "true",
                    )
                )

    def metadata_suppressions(self) -> Iterator[Suppression]:
        """`Metadata: {lambdashield: {ignore: [{id, reason}]}}` covers the whole resource."""
        for logical_id, resource in self.resources.items():
            metadata = resource.get("Metadata")
            block = metadata.get("lambdashield") if isinstance(metadata, dict) else None
            entries = block.get("ignore") if isinstance(block, dict) else None
            if not isinstance(entries, list):
                continue
            start, end = self.lines(self.at("Resources", logical_id))
            for index, entry in enumerate(entries):
                pointer = self.at(
                    "Resources", logical_id, "Metadata", "lambdashield", "ignore", index
                )
                rule_id = entry.get("id") if isinstance(entry, dict) else None
                reason = entry.get("reason") if isinstance(entry, dict) else None
                if (
                    not isinstance(rule_id, str)
                    or not isinstance(reason, str)
                    or not reason.strip()
                ):
                    self.error(pointer, "lambdashield ignore entries need an `id` and a `reason`")
                elif start is not None:
                    yield Suppression(self.display, start, (rule_id.upper(),), reason, end or start)

    # --- functions ---------------------------------------------------------------------

    def function_properties(self, logical_id: str) -> tuple[dict[str, Any], dict[str, str]]:
        """Properties with SAM `Globals` merged in, and the pointer each one came from."""
        own = self.properties(logical_id)
        pointers = {k: self.at("Resources", logical_id, "Properties", k) for k in own}
        if self.type_of(logical_id) != "AWS::Serverless::Function":
            return own, pointers
        defaults = self.globals.get("Function")
        if not isinstance(defaults, dict):
            return own, pointers
        merged = dict(own)
        for key, value in defaults.items():
            here = self.at("Globals", "Function", key)
            if key not in merged:
                merged[key] = value
                pointers[key] = here
            elif isinstance(value, dict) and isinstance(merged[key], dict):
                merged[key] = _merge_maps(value, merged[key])
            elif isinstance(value, list) and isinstance(merged[key], list):
                merged[key] = [*value, *merged[key]]
        return merged, pointers

    def read_function(self, logical_id: str) -> None:
        props, pointers = self.function_properties(logical_id)
        is_sam = self.type_of(logical_id) == "AWS::Serverless::Function"
        here = self.at("Resources", logical_id)
        runtime = self.resolve(props.get("Runtime")) if "Runtime" in props else None
        code_key = "CodeUri" if is_sam else "Code"
        code = props.get(code_key)
        code_uri = code if isinstance(code, str) and "://" not in code else None
        if code_uri:
            code_uri = self.local_path(
                f"function `{logical_id}`", code_key, code_uri, pointers.get(code_key, here)
            )
        else:
            code_uri = self.asset_path(logical_id, f"function `{logical_id}`")
        dead_letter = props.get("DeadLetterQueue") if is_sam else props.get("DeadLetterConfig")
        dlq = dead_letter.get("TargetArn") if isinstance(dead_letter, dict) else None
        invoke = props.get("EventInvokeConfig")
        on_failure = _dig(invoke, "DestinationConfig", "OnFailure", "Destination")
        created = _dig(invoke, "DestinationConfig", "OnFailure", "Type")
        if on_failure is None and is_sam and created is not None:
            on_failure = f"{_text(self.resolve(created))} that SAM creates"
        tracing = props.get("Tracing") if is_sam else _dig(props.get("TracingConfig"), "Mode")
        self.functions[logical_id] = Function(
            origin=self.origin(logical_id, "function", here),
            runtime=runtime if isinstance(runtime, (str, Unresolved)) else None,
            runtime_pointer=pointers.get("Runtime", here),
            handler=_str(self.resolve(props.get("Handler"))),
            code_uri=_str(self.resolve(code_uri)) if code_uri else None,
            package_type=_str(props.get("PackageType")) or "Zip",
            environment=tuple(self.environment(logical_id, props)),
            memory=_int(props.get("MemorySize")),
            timeout=_int(props.get("Timeout")),
            reserved_concurrency=_int(props.get("ReservedConcurrentExecutions")),
            dead_letter=_text(self.resolve(dlq)) if dlq is not None else None,
            on_failure=_text(self.resolve(on_failure)) if on_failure is not None else None,
            tracing=_str(self.resolve(tracing)),
            kms_key=_str(self.resolve(props.get("KmsKeyArn"))),
            layers=tuple(_text(self.resolve(x)) for x in _list(props.get("Layers"))),
            vpc=isinstance(props.get("VpcConfig"), dict),
            architectures=tuple(_text(x) for x in _list(props.get("Architectures"))),
            role=self.function_role(logical_id, props, pointers) if is_sam else None,
        )
        if is_sam:
            self.sam_events(logical_id, props, pointers)
            self.sam_url(logical_id, props, pointers)
        else:
            self.raw_role[logical_id] = props.get("Role")

    def environment(self, logical_id: str, props: dict[str, Any]) -> Iterator[EnvVar]:
        variables = _dig(props.get("Environment"), "Variables")
        if not isinstance(variables, dict):
            return
        own = _dig(self.properties(logical_id).get("Environment"), "Variables")
        own = own if isinstance(own, dict) else {}
        for name, value in variables.items():
            base = (
                self.at("Resources", logical_id, "Properties", "Environment")
                if name in own
                else self.at("Globals", "Function", "Environment")
            )
            yield EnvVar(
                str(name),
                self.resolve(value),
                f"{base}/Variables/{escape_pointer(str(name))}",
                no_echo_default=self.no_echo_default(value),
            )

    def no_echo_default(self, value: Any) -> bool:
        """Whether a value is a `NoEcho` parameter's default, directly or inside a `!Sub`."""
        names: list[str] = []
        if isinstance(value, dict) and isinstance(value.get("Ref"), str):
            names = [value["Ref"]]
        elif isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str):
            names = [str(n).split(".", 1)[0] for n in _SUB_VARIABLE.findall(value["Fn::Sub"])]
        return any(
            isinstance(self.parameters.get(n), dict)
            and "Default" in self.parameters[n]
            and str(self.parameters[n].get("NoEcho", "")).lower() == "true"
            for n in names
        )

    def finish_function(self, logical_id: str) -> None:
        function = self.functions[logical_id]
        events = self.events.get(logical_id)
        if events:
            function = replace(function, triggers=(*function.triggers, *events.triggers))
        on_failure = self.invoke_configs.get(logical_id)
        if on_failure is not None and function.on_failure is None:
            function = replace(function, on_failure=on_failure)
        self.functions[logical_id] = function

    def link_role(self, function: Function) -> Function:
        if function.role is not None:
            role = self.roles.get(function.role.origin.resource, function.role)
            return replace(function, role=role)
        raw = self.raw_role.get(function.origin.resource)
        if raw is None:
            return function
        target = self.target(raw)
        if target and target in self.roles:
            return replace(function, role=self.roles[target])
        arn = self.resolve(raw)
        return replace(
            function,
            role=Role(
                self.origin(
                    _text(arn),
                    "role",
                    self.at("Resources", function.origin.resource, "Properties", "Role"),
                ),
                external=_text(arn),
            ),
        )

    def function_role(
        self, logical_id: str, props: dict[str, Any], pointers: dict[str, str]
    ) -> Role | None:
        """A SAM function's role: the one it names, or the one SAM generates for it."""
        if "Role" in props:
            self.raw_role[logical_id] = props["Role"]
            return None
        name = f"{logical_id}Role"
        here = self.at("Resources", logical_id)
        grants = [
            Grant(
                GrantSource.AWS_MANAGED,
                "AWSLambdaBasicExecutionRole",
                here,
                _managed("AWSLambdaBasicExecutionRole", self.origin(name, "role", here)),
            )
        ]
        policies = props.get("Policies")
        base = pointers.get("Policies", here)
        if isinstance(policies, list):
            listed = [(item, f"{base}/{i}") for i, item in enumerate(policies)]
        else:
            listed = [(policies, base)] if policies else []
        for item, pointer in listed:
            grant = self.sam_policy(name, item, pointer)
            if grant is not None:
                grants.append(grant)
        role = Role(self.origin(name, "role", here), tuple(grants))
        self.roles[name] = role
        return role

    def sam_policy(self, role: str, item: Any, pointer: str) -> Grant | None:
        origin = self.origin(role, "role", pointer)
        if isinstance(item, str) or (
            isinstance(item, dict)
            and len(item) == 1
            and next(iter(item)) in ("Ref", "Fn::Sub", "Fn::GetAtt")
        ):
            name = _text(self.resolve(item))
            target = self.target(item)
            if target and self.type_of(target) == "AWS::IAM::ManagedPolicy":
                return self.customer_managed(target, origin)
            return self.managed_grant(name, pointer, origin)
        if not isinstance(item, dict):
            self.error(pointer, "a SAM policy must be a name, an ARN, a template or a document")
            return None
        if "Statement" in item:
            return Grant(
                GrantSource.INLINE, role, pointer, policy_from_json(self.resolve(item), origin)
            )
        if len(item) == 1:
            ((template, parameters),) = item.items()
            return self.sam_template(str(template), parameters, origin)
        self.error(pointer, "a SAM policy template entry must have exactly one key")
        return None

    def sam_template(self, name: str, parameters: Any, origin: Origin) -> Grant | None:
        from lambdashield.loaders.aws_policies import PolicyTemplateError, sam_policy_template

        pointer = f"{origin.pointer}/{escape_pointer(name)}"
        resolved = self.resolve(parameters) if isinstance(parameters, dict) else {}
        try:
            document = sam_policy_template(
                name,
                resolved,
                Origin(origin.path, origin.resource, origin.resource_type, pointer, origin.lines),
            )
        except PolicyTemplateError as exc:
            self.error(pointer, str(exc))
            return None
        return Grant(GrantSource.SAM_TEMPLATE, name, pointer, document)

    def managed_grant(self, name: str, pointer: str, origin: Origin) -> Grant:
        """A managed policy named by name or ARN: AWS's own are known, others are not."""
        from lambdashield.loaders.aws_policies import is_aws_managed_arn

        arn = name.replace("${AWS::Partition}", "aws")
        if ":" in arn and not is_aws_managed_arn(arn):
            return Grant(GrantSource.CUSTOMER_MANAGED, name, pointer, None)
        return Grant(GrantSource.AWS_MANAGED, name, pointer, _managed(arn, origin))

    def customer_managed(self, logical_id: str, origin: Origin) -> Grant:
        pointer = self.at("Resources", logical_id, "Properties", "PolicyDocument")
        document = self.properties(logical_id).get("PolicyDocument")
        return Grant(
            GrantSource.CUSTOMER_MANAGED,
            logical_id,
            origin.pointer,
            policy_from_json(self.resolve(document), self.origin(origin.resource, "role", pointer)),
        )

    # --- events ------------------------------------------------------------------------

    def add_trigger(self, function: str | None, trigger: Trigger) -> None:
        if function is not None:
            self.events.setdefault(function, _Events()).triggers.append(trigger)

    def sam_events(self, logical_id: str, props: dict[str, Any], pointers: dict[str, str]) -> None:
        events = props.get("Events")
        if not isinstance(events, dict):
            return
        base = pointers.get("Events", self.at("Resources", logical_id, "Properties", "Events"))
        for name, event in events.items():
            if not isinstance(event, dict):
                continue
            pointer = f"{base}/{escape_pointer(str(name))}"
            kind = event.get("Type")
            properties = event.get("Properties")
            properties = properties if isinstance(properties, dict) else {}
            trigger = self.sam_event(str(name), str(kind), properties, pointer)
            self.add_trigger(logical_id, trigger)
            bucket = self.target(properties.get("Bucket")) if kind == "S3" else None
            if bucket is not None and self.type_of(bucket) == "AWS::S3::Bucket":
                self.s3_events.setdefault(bucket, []).append(logical_id)

    def sam_event(self, name: str, kind: str, props: dict[str, Any], pointer: str) -> Trigger:
        if kind in ("Api", "HttpApi"):
            method = _text(self.resolve(props.get("Method", "ANY"))).upper()
            path = _text(self.resolve(props.get("Path", "/")))
            api = self.target(props.get("RestApiId") if kind == "Api" else props.get("ApiId"))
            auth = self.route_auth(kind, api, props.get("Auth"), f"{pointer}/Properties/Auth")
            if kind == "Api" and self.private_api(api):
                auth = replace(auth, private=True)
            return Trigger(
                TriggerKind.API_REST if kind == "Api" else TriggerKind.API_HTTP,
                f"{method} {path}",
                pointer,
                name,
                auth,
            )
        if kind == "S3":
            bucket = props.get("Bucket")
            rules = _dig(props.get("Filter"), "S3Key", "Rules")
            filters = tuple(
                (str(r.get("Name", "")).lower(), _text(self.resolve(r.get("Value"))))
                for r in _list(rules)
                if isinstance(r, dict)
            )
            return Trigger(
                TriggerKind.S3,
                _text(self.target(bucket) or self.resolve(bucket)),
                pointer,
                name,
                filters=filters,
            )
        simple = {
            "SQS": (TriggerKind.SQS, "Queue"),
            "SNS": (TriggerKind.SNS, "Topic"),
            "Kinesis": (TriggerKind.KINESIS, "Stream"),
            "DynamoDB": (TriggerKind.DYNAMODB_STREAM, "Stream"),
            "Schedule": (TriggerKind.SCHEDULE, "Schedule"),
            "ScheduleV2": (TriggerKind.SCHEDULE, "ScheduleExpression"),
            "EventBridgeRule": (TriggerKind.EVENTBRIDGE, "Pattern"),
            "CloudWatchEvent": (TriggerKind.EVENTBRIDGE, "Pattern"),
            "CloudWatchLogs": (TriggerKind.CLOUDWATCH_LOGS, "LogGroupName"),
            "IoTRule": (TriggerKind.IOT, "Sql"),
            "AlexaSkill": (TriggerKind.ALEXA, "SkillId"),
            "Cognito": (TriggerKind.COGNITO, "UserPool"),
            "MSK": (TriggerKind.KAFKA, "Stream"),
            "SelfManagedKafka": (TriggerKind.KAFKA, "Topics"),
            "MQ": (TriggerKind.MQ, "Broker"),
            "DocumentDB": (TriggerKind.OTHER, "Cluster"),
        }
        trigger_kind, key = simple.get(kind, (TriggerKind.OTHER, ""))
        source = props.get(key) if key else kind
        shown = self.target(source) or self.resolve(source)
        buffered = kind == "SNS" and _enabled(self.resolve(props.get("SqsSubscription")))
        return Trigger(
            trigger_kind,
            _text(shown)[:200],
            pointer,
            name,
            dead_letter=self.event_dead_letter(kind, props),
            # With `SqsSubscription`, SAM puts a queue between the topic and the function,
            # which Lambda then polls: the function is no longer invoked asynchronously.
            asynchronous=False if buffered else None,
        )

    def event_dead_letter(self, kind: str, props: dict[str, Any]) -> str | None:
        """The dead-letter queue of a SAM event's own delivery: an SNS subscription's
        `RedrivePolicy`, an EventBridge or Scheduler target's `DeadLetterConfig`."""
        if kind == "SNS":
            return self.redrive_target(props.get("RedrivePolicy"))
        if kind not in ("EventBridgeRule", "CloudWatchEvent", "Schedule", "ScheduleV2"):
            return None
        config = props.get("DeadLetterConfig")
        if not isinstance(config, dict):
            return None
        if config.get("Arn") is not None:
            return _text(self.resolve(config["Arn"]))
        if config.get("Type") is not None:
            return f"{_text(self.resolve(config['Type']))} queue that SAM creates"
        return None

    def redrive_target(self, policy: Any) -> str | None:
        """`deadLetterTargetArn` of an SNS `RedrivePolicy` (a mapping or its JSON text)."""
        value = self.resolve(policy)
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                return None
        target = value.get("deadLetterTargetArn") if isinstance(value, dict) else None
        return None if target is None else _text(target)

    def private_api(self, api: str | None) -> bool:
        """Whether a REST API (SAM or `AWS::ApiGateway::RestApi`; `None` for SAM's implicit
        API) has a private endpoint; SAM's `Globals.Api` applies to SAM APIs only."""
        if api is not None:
            props = self.properties(api)
            if "EndpointConfiguration" in props:
                return _private_endpoint(self.resolve(props["EndpointConfiguration"]))
            if self.type_of(api) != "AWS::Serverless::Api":
                return False
        section = self.globals.get("Api")
        found = section.get("EndpointConfiguration") if isinstance(section, dict) else None
        return _private_endpoint(self.resolve(found))

    def route_auth(self, kind: str, api: str | None, auth: Any, pointer: str) -> Authorization:
        """Who may call a SAM API route: its own `Auth`, else the API's defaults."""
        defaults = self.api_auth(kind, api)
        api_key = bool(defaults.get("ApiKeyRequired")) if isinstance(defaults, dict) else False
        if isinstance(auth, dict):
            if "ApiKeyRequired" in auth:
                api_key = str(self.resolve(auth["ApiKeyRequired"])).lower() == "true"
            if "Authorizer" in auth:
                chosen = self.resolve(auth["Authorizer"])
                return _authorization(chosen, f"{pointer}/Authorizer", api_key)
        default = defaults.get("DefaultAuthorizer") if isinstance(defaults, dict) else None
        if default is not None:
            return _authorization(self.resolve(default), "", api_key, "DefaultAuthorizer ")
        if self.api_has_security(api):
            return Authorization(AuthKind.AUTHORIZER, "OpenAPI security", api_key)
        return Authorization(AuthKind.NONE, "no authorizer", api_key)

    def api_auth(self, kind: str, api: str | None) -> dict[str, Any]:
        if api is not None:
            found = self.properties(api).get("Auth")
            if isinstance(found, dict):
                return found
            return {}
        section = self.globals.get("Api" if kind == "Api" else "HttpApi")
        found = section.get("Auth") if isinstance(section, dict) else None
        return found if isinstance(found, dict) else {}

    def api_has_security(self, api: str | None) -> bool:
        if api is None:
            return False
        body = self.properties(api).get("DefinitionBody")
        return isinstance(body, dict) and bool(body.get("security"))

    def sam_url(self, logical_id: str, props: dict[str, Any], pointers: dict[str, str]) -> None:
        config = props.get("FunctionUrlConfig")
        if not isinstance(config, dict):
            return
        pointer = pointers.get("FunctionUrlConfig", "")
        self.add_trigger(
            logical_id,
            self.url_trigger(config.get("AuthType"), f"{pointer}/AuthType", "FunctionUrlConfig"),
        )

    def url_trigger(self, auth_type: Any, pointer: str, name: str) -> Trigger:
        value = self.resolve(auth_type)
        if isinstance(value, Unresolved):
            auth = Authorization(AuthKind.UNKNOWN, str(value), pointer=pointer)
        elif str(value).upper() == "AWS_IAM":
            auth = Authorization(AuthKind.IAM, "AWS_IAM", pointer=pointer)
        else:
            auth = Authorization(AuthKind.NONE, f"AuthType {value}", pointer=pointer)
        return Trigger(TriggerKind.FUNCTION_URL, "function URL", pointer, name, auth)

    # --- other resources ---------------------------------------------------------------

    def read_role(self, logical_id: str) -> None:
        props = self.properties(logical_id)
        here = self.at("Resources", logical_id)
        origin = self.origin(logical_id, "role", here)
        grants = []
        for index, policy in enumerate(_list(props.get("Policies"))):
            pointer = self.at(
                "Resources", logical_id, "Properties", "Policies", index, "PolicyDocument"
            )
            if not isinstance(policy, dict):
                continue
            grants.append(
                Grant(
                    GrantSource.INLINE,
                    _text(policy.get("PolicyName", f"policy {index}")),
                    pointer,
                    policy_from_json(
                        self.resolve(policy.get("PolicyDocument")),
                        self.origin(logical_id, "role", pointer),
                    ),
                )
            )
        for index, arn in enumerate(_list(props.get("ManagedPolicyArns"))):
            pointer = self.at("Resources", logical_id, "Properties", "ManagedPolicyArns", index)
            target = self.target(arn)
            if target and self.type_of(target) == "AWS::IAM::ManagedPolicy":
                grants.append(
                    self.customer_managed(target, self.origin(logical_id, "role", pointer))
                )
                continue
            name = _text(self.resolve(arn))
            grants.append(
                self.managed_grant(name, pointer, self.origin(logical_id, "role", pointer))
            )
        self.roles[logical_id] = Role(origin, tuple(grants))

    def read_policy(self, logical_id: str) -> None:
        """`AWS::IAM::Policy` and `AWS::IAM::ManagedPolicy` attached to roles by `Roles`."""
        props = self.properties(logical_id)
        pointer = self.at("Resources", logical_id, "Properties", "PolicyDocument")
        for role in _list(props.get("Roles")):
            target = self.target(role)
            if target is None:
                continue
            document = policy_from_json(
                self.resolve(props.get("PolicyDocument")), self.origin(target, "role", pointer)
            )
            source = (
                GrantSource.INLINE
                if self.type_of(logical_id) == "AWS::IAM::Policy"
                else GrantSource.CUSTOMER_MANAGED
            )
            self.attached.setdefault(target, []).append(
                Grant(source, logical_id, pointer, document)
            )

    def read_permission(self, logical_id: str) -> None:
        props = self.properties(logical_id)
        self.permissions.append(
            Permission(
                origin=self.origin(logical_id, "permission", self.at("Resources", logical_id)),
                function=self.target(props.get("FunctionName")),
                principal=_text(self.resolve(props.get("Principal"))),
                action=_text(self.resolve(props.get("Action"))),
                source_arn=_opt(self.resolve(props.get("SourceArn"))),
                source_account=_opt(self.resolve(props.get("SourceAccount"))),
                function_url_auth_type=_opt(self.resolve(props.get("FunctionUrlAuthType"))),
                principal_org_id=_opt(self.resolve(props.get("PrincipalOrgID"))),
            )
        )

    def read_url(self, logical_id: str) -> None:
        props = self.properties(logical_id)
        pointer = self.at("Resources", logical_id, "Properties", "AuthType")
        self.add_trigger(
            self.target(props.get("TargetFunctionArn")),
            self.url_trigger(props.get("AuthType"), pointer, logical_id),
        )

    def read_event_source(self, logical_id: str) -> None:
        props = self.properties(logical_id)
        arn = self.resolve(props.get("EventSourceArn"))
        target = self.target(props.get("EventSourceArn"))
        service = _arn_service(arn) or _service_of_type(self.type_of(target) if target else "")
        kind = {
            "sqs": TriggerKind.SQS,
            "kinesis": TriggerKind.KINESIS,
            "dynamodb": TriggerKind.DYNAMODB_STREAM,
            "kafka": TriggerKind.KAFKA,
            "mq": TriggerKind.MQ,
        }.get(service, TriggerKind.OTHER)
        self.add_trigger(
            self.target(props.get("FunctionName")),
            Trigger(kind, target or _text(arn), self.at("Resources", logical_id), logical_id),
        )

    def read_method(self, logical_id: str) -> None:
        props = self.properties(logical_id)
        function = self.target(_dig(props.get("Integration"), "Uri"))
        pointer = self.at("Resources", logical_id, "Properties")
        kind = _text(self.resolve(props.get("AuthorizationType", "NONE"))).upper()
        auth_kind = {"NONE": AuthKind.NONE, "AWS_IAM": AuthKind.IAM}.get(kind, AuthKind.AUTHORIZER)
        api_key = str(self.resolve(props.get("ApiKeyRequired", False))).lower() == "true"
        method = _text(self.resolve(props.get("HttpMethod", "ANY"))).upper()
        auth = Authorization(
            auth_kind,
            f"AuthorizationType {kind}",
            api_key,
            f"{pointer}/AuthorizationType" if "AuthorizationType" in props else pointer,
            private=self.private_api(self.target(props.get("RestApiId"))),
        )
        parameters = self.resolve(_dig(props.get("Integration"), "RequestParameters"))
        self.add_trigger(
            function,
            Trigger(
                TriggerKind.API_REST,
                f"{method} {self.rest_path(props.get('ResourceId'))}",
                self.at("Resources", logical_id),
                logical_id,
                auth,
                asynchronous=True if _invokes_as_event(parameters) else None,
            ),
        )

    def rest_path(self, resource: Any, seen: tuple[str, ...] = ()) -> str:
        target = self.target(resource)
        if target is None or self.type_of(target) != "AWS::ApiGateway::Resource":
            return "/"
        if target in seen or len(seen) > 32:
            pointer = self.at("Resources", seen[-1], "Properties", "ParentId")
            if target in seen and pointer not in self.reported:
                self.reported.add(pointer)
                self.error(
                    pointer, f"circular reference: API resource `{target}` is its own ancestor"
                )
            return "/?"
        props = self.properties(target)
        parent = self.rest_path(props.get("ParentId"), (*seen, target))
        return parent.rstrip("/") + "/" + _text(self.resolve(props.get("PathPart", "")))

    def read_route(self, logical_id: str) -> None:
        props = self.properties(logical_id)
        integration = self.target(props.get("Target"))
        function = (
            self.target(_dig(self.properties(integration), "IntegrationUri"))
            if integration
            else None
        )
        kind = _text(self.resolve(props.get("AuthorizationType", "NONE"))).upper()
        auth_kind = {"NONE": AuthKind.NONE, "AWS_IAM": AuthKind.IAM}.get(kind, AuthKind.AUTHORIZER)
        pointer = self.at("Resources", logical_id, "Properties")
        auth = Authorization(
            auth_kind,
            f"AuthorizationType {kind}",
            pointer=f"{pointer}/AuthorizationType" if "AuthorizationType" in props else pointer,
        )
        self.add_trigger(
            function,
            Trigger(
                TriggerKind.API_HTTP,
                _text(self.resolve(props.get("RouteKey"))),
                self.at("Resources", logical_id),
                logical_id,
                auth,
            ),
        )

    def read_bucket(self, logical_id: str) -> None:
        props = self.properties(logical_id)
        acl = _text(self.resolve(props.get("AccessControl", "")))
        notifies = []
        configs = _dig(props.get("NotificationConfiguration"), "LambdaConfigurations")
        for index, config in enumerate(_list(configs)):
            if not isinstance(config, dict):
                continue
            function = self.target(config.get("Function"))
            rules = _dig(config.get("Filter"), "S3Key", "Rules")
            filters = tuple(
                (str(r.get("Name", "")).lower(), _text(self.resolve(r.get("Value"))))
                for r in _list(rules)
                if isinstance(r, dict)
            )
            pointer = self.at(
                "Resources",
                logical_id,
                "Properties",
                "NotificationConfiguration",
                "LambdaConfigurations",
                index,
            )
            self.add_trigger(
                function, Trigger(TriggerKind.S3, logical_id, pointer, logical_id, filters=filters)
            )
            if function:
                notifies.append(function)
        previous = self.buckets.get(logical_id)
        self.buckets[logical_id] = Bucket(
            origin=self.origin(logical_id, "bucket", self.at("Resources", logical_id)),
            name=_opt(self.resolve(props.get("BucketName"))),
            public_read=acl in ("PublicRead", "PublicReadWrite")
            or (previous.public_read if previous else False),
            public_write=acl == "PublicReadWrite" or (previous.public_write if previous else False),
            policy=previous.policy if previous else None,
            notifies=tuple(notifies),
            public_access_block=self.public_access_block(logical_id, props),
        )

    def public_access_block(
        self, logical_id: str, props: dict[str, Any]
    ) -> PublicAccessBlock | None:
        config = self.resolve(props.get("PublicAccessBlockConfiguration"))
        if not isinstance(config, dict):
            return None

        def on(key: str) -> bool:
            return str(config.get(key, "")).strip().lower() == "true"

        return PublicAccessBlock(
            self.at("Resources", logical_id, "Properties", "PublicAccessBlockConfiguration"),
            block_public_acls=on("BlockPublicAcls"),
            ignore_public_acls=on("IgnorePublicAcls"),
            block_public_policy=on("BlockPublicPolicy"),
            restrict_public_buckets=on("RestrictPublicBuckets"),
        )

    def read_bucket_policy(self, logical_id: str) -> None:
        props = self.properties(logical_id)
        target = self.target(props.get("Bucket"))
        pointer = self.at("Resources", logical_id, "Properties", "PolicyDocument")
        document = policy_from_json(
            self.resolve(props.get("PolicyDocument")),
            self.origin(target or logical_id, "bucket", pointer),
        )
        if target is None:
            return
        if target not in self.buckets and self.type_of(target) == "AWS::S3::Bucket":
            self.read_bucket(target)
        bucket = self.buckets.get(target)
        if bucket is not None:
            self.buckets[target] = replace(bucket, policy=document)

    def read_invoke_config(self, logical_id: str) -> None:
        """`AWS::Lambda::EventInvokeConfig`: the function's asynchronous failure destination."""
        props = self.properties(logical_id)
        function = self.target(props.get("FunctionName"))
        destination = _dig(props.get("DestinationConfig"), "OnFailure", "Destination")
        if function is not None and destination is not None:
            self.invoke_configs.setdefault(function, _text(self.resolve(destination)))

    def lambda_target(self, value: Any) -> str | None:
        target = self.target(value)
        if target is None or self.type_of(target) not in _FUNCTION_TYPES:
            return None
        return target

    def read_event_rule(self, logical_id: str) -> None:
        """`AWS::Events::Rule` targets that invoke a function, each with its own DLQ."""
        props = self.properties(logical_id)
        schedule = props.get("ScheduleExpression")
        kind = TriggerKind.SCHEDULE if schedule is not None else TriggerKind.EVENTBRIDGE
        source = _text(self.resolve(schedule)) if schedule is not None else logical_id
        for index, target in enumerate(_list(props.get("Targets"))):
            if not isinstance(target, dict):
                continue
            function = self.lambda_target(target.get("Arn"))
            dead_letter = _dig(target.get("DeadLetterConfig"), "Arn")
            self.add_trigger(
                function,
                Trigger(
                    kind,
                    source[:200],
                    self.at("Resources", logical_id, "Properties", "Targets", index),
                    logical_id,
                    dead_letter=None if dead_letter is None else _text(self.resolve(dead_letter)),
                ),
            )

    def read_schedule(self, logical_id: str) -> None:
        """`AWS::Scheduler::Schedule` whose target is a function."""
        props = self.properties(logical_id)
        target = props.get("Target")
        if not isinstance(target, dict):
            return
        dead_letter = _dig(target.get("DeadLetterConfig"), "Arn")
        self.add_trigger(
            self.lambda_target(target.get("Arn")),
            Trigger(
                TriggerKind.SCHEDULE,
                _text(self.resolve(props.get("ScheduleExpression")))[:200],
                self.at("Resources", logical_id, "Properties", "Target"),
                logical_id,
                dead_letter=None if dead_letter is None else _text(self.resolve(dead_letter)),
            ),
        )

    def read_subscription(self, logical_id: str) -> None:
        """`AWS::SNS::Subscription` with the `lambda` protocol."""
        props = self.properties(logical_id)
        if _text(self.resolve(props.get("Protocol"))).lower() != "lambda":
            return
        topic = props.get("TopicArn")
        self.add_trigger(
            self.lambda_target(props.get("Endpoint")),
            Trigger(
                TriggerKind.SNS,
                _text(self.target(topic) or self.resolve(topic))[:200],
                self.at("Resources", logical_id),
                logical_id,
                dead_letter=self.redrive_target(props.get("RedrivePolicy")),
            ),
        )

    def read_topic(self, logical_id: str) -> None:
        """`AWS::SNS::Topic` `Subscription` entries with the `lambda` protocol."""
        props = self.properties(logical_id)
        for index, entry in enumerate(_list(props.get("Subscription"))):
            if not isinstance(entry, dict):
                continue
            if _text(self.resolve(entry.get("Protocol"))).lower() != "lambda":
                continue
            self.add_trigger(
                self.lambda_target(entry.get("Endpoint")),
                Trigger(
                    TriggerKind.SNS,
                    logical_id,
                    self.at("Resources", logical_id, "Properties", "Subscription", index),
                    logical_id,
                ),
            )

    def read_layer(self, logical_id: str) -> None:
        """A layer built from a local folder (SAM `ContentUri`, CloudFormation `Content`)."""
        props = self.properties(logical_id)
        key = "ContentUri" if "ContentUri" in props else "Content"
        content = props.get(key)
        local = content if isinstance(content, str) and "://" not in content else None
        if local:
            local = self.local_path(
                f"layer `{logical_id}`",
                key,
                local,
                self.at("Resources", logical_id, "Properties", key),
            )
        else:
            local = self.asset_path(logical_id, f"layer `{logical_id}`")
        self.layers.append(
            Layer(
                self.origin(logical_id, "layer", self.at("Resources", logical_id)),
                content_uri=local,
            )
        )

    def read_stage_variables(self, logical_id: str) -> None:
        props = self.properties(logical_id)
        key = "Variables" if "Variables" in props else "StageVariables"
        variables = props.get(key)
        if not isinstance(variables, dict):
            return
        for name, value in variables.items():
            pointer = self.at("Resources", logical_id, "Properties", key, name)
            self.values.append(
                TemplateValue("stage-variable", str(name), self.resolve(value), pointer)
            )


_READERS: dict[str, Callable[[_Template, str], None]] = {
    "AWS::Serverless::Function": _Template.read_function,
    "AWS::Lambda::Function": _Template.read_function,
    "AWS::IAM::Role": _Template.read_role,
    "AWS::IAM::Policy": _Template.read_policy,
    "AWS::IAM::ManagedPolicy": _Template.read_policy,
    "AWS::Lambda::Permission": _Template.read_permission,
    "AWS::Lambda::Url": _Template.read_url,
    "AWS::Lambda::EventSourceMapping": _Template.read_event_source,
    "AWS::ApiGateway::Method": _Template.read_method,
    "AWS::ApiGatewayV2::Route": _Template.read_route,
    "AWS::S3::Bucket": _Template.read_bucket,
    "AWS::S3::BucketPolicy": _Template.read_bucket_policy,
    "AWS::ApiGateway::Stage": _Template.read_stage_variables,
    "AWS::Serverless::LayerVersion": _Template.read_layer,
    "AWS::Lambda::LayerVersion": _Template.read_layer,
    "AWS::Serverless::Api": _Template.read_stage_variables,
    "AWS::Lambda::EventInvokeConfig": _Template.read_invoke_config,
    "AWS::Events::Rule": _Template.read_event_rule,
    "AWS::Scheduler::Schedule": _Template.read_schedule,
    "AWS::SNS::Subscription": _Template.read_subscription,
    "AWS::SNS::Topic": _Template.read_topic,
}
_FUNCTION_TYPES = frozenset({"AWS::Lambda::Function", "AWS::Serverless::Function"})
_ASSET_PROPERTY = {
    "AWS::Lambda::Function": "Code",
    "AWS::Serverless::Function": "CodeUri",
    "AWS::Lambda::LayerVersion": "Content",
    "AWS::Serverless::LayerVersion": "ContentUri",
}
"""The property whose local copy a resource's `aws:asset:path` may name."""


def _enabled(value: Any) -> bool:
    """A SAM switch that is either `true` or a mapping of its settings."""
    return isinstance(value, dict) or str(value).strip().lower() == "true"


def _private_endpoint(value: Any) -> bool:
    """`EndpointConfiguration` as SAM (`PRIVATE`, `{Type: PRIVATE}`) or CloudFormation
    (`{Types: [PRIVATE]}`) writes it."""
    if isinstance(value, dict):
        value = value.get("Types", value.get("Type"))
    return any(isinstance(v, str) and v.strip().upper() == "PRIVATE" for v in _list(value))


def _invokes_as_event(parameters: Any) -> bool:
    """An integration that asks Lambda for an asynchronous invocation."""
    if not isinstance(parameters, dict):
        return False
    value = parameters.get("integration.request.header.X-Amz-Invocation-Type")
    return isinstance(value, str) and value.strip().strip("'\"").lower() == "event"


def _managed(name: str, origin: Origin) -> PolicyDocument | None:
    from lambdashield.loaders.aws_policies import managed_policy

    return managed_policy(name, origin)


def _authorization(chosen: Any, pointer: str, api_key: bool, how: str = "") -> Authorization:
    if isinstance(chosen, Unresolved):
        return Authorization(AuthKind.UNKNOWN, str(chosen), api_key, pointer)
    name = str(chosen)
    if name.upper() == "NONE":
        return Authorization(AuthKind.NONE, f"{how}Authorizer NONE".strip(), api_key, pointer)
    if name.upper() == "AWS_IAM":
        return Authorization(AuthKind.IAM, f"{how}AWS_IAM".strip(), api_key, pointer)
    return Authorization(AuthKind.AUTHORIZER, f"{how}{name}".strip(), api_key, pointer)


def _merge_maps(defaults: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
    merged = dict(defaults)
    for key, value in own.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge_maps(merged[key], value)
        else:
            merged[key] = value
    return merged


def _dig(value: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _text(value: Any) -> str:
    if isinstance(value, Unresolved):
        expression = value.expression
        return expression if expression.startswith("${") else "${" + expression + "}"
    if isinstance(value, (dict, list)):
        return str(value)
    return "" if value is None else str(value)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _opt(value: Any) -> str | None:
    return None if value is None else _text(value)


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _arn_service(value: Any) -> str:
    parts = value.split(":") if isinstance(value, str) else []
    return parts[2] if len(parts) > 2 and parts[0] == "arn" else ""


def _service_of_type(resource_type: str) -> str:
    return {
        "AWS::SQS::Queue": "sqs",
        "AWS::Kinesis::Stream": "kinesis",
        "AWS::DynamoDB::Table": "dynamodb",
        "AWS::MSK::Cluster": "kafka",
        "AWS::AmazonMQ::Broker": "mq",
    }.get(resource_type, "")
