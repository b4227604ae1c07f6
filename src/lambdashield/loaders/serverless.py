"""Serverless Framework configurations (`serverless.yml|yaml|json`, v1 to v4) into the model.

Variables are resolved first (`_variables`), without running anything or reading the
scanning machine's environment; what cannot be known becomes `Unresolved`. Then every
function gets what Serverless would deploy for it:

- `provider` defaults (runtime, environment, memory, timeout, tracing, KMS key, VPC,
  architecture, layers) under the function's own settings;
- its role: the one role Serverless generates for the service (`IamRoleLambdaExecution`,
  from `provider.iam.role.statements`, v1/v2 `provider.iamRoleStatements`, managed
  policies and any `AWS::IAM::Policy` in `resources` attached to it), a named role
  (`provider.iam.role: arn...`, function `role:`), or the role the
  serverless-iam-roles-per-function plugin makes from the function's own
  `iamRoleStatements`, which inherits the provider's only when told to, as the plugin does;
- its triggers, from `url` and every event type, with how HTTP routes are authorised.

The service's own layers (top-level `layers:`) are named as Serverless names their
CloudFormation resources (`deps` is `DepsLambdaLayer`), so that a function's
`{Ref: DepsLambdaLayer}` finds the layer's folder (`path`) or zip (`package.artifact`).

The `resources:` block is CloudFormation and goes through that loader, with the resources
Serverless generates (functions, roles, buckets) present as stubs so that what the block
attaches to them (policies, notifications, permissions) lands on the right function.
Pointers are where the user wrote things; logical names are the Serverless function keys.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from lambdashield.errors import LoaderError
from lambdashield.loaders._json import JsonLines, escape_pointer, parse_json, read_text
from lambdashield.loaders._paths import real_path
from lambdashield.loaders._suppressions import find_suppressions
from lambdashield.loaders._variables import Resolver
from lambdashield.loaders._yaml import load_yaml
from lambdashield.loaders.aws_policies import is_aws_managed_arn, managed_policy
from lambdashield.loaders.cloudformation import resources_to_model
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
    Item,
    Layer,
    Origin,
    Permission,
    PolicyDocument,
    Role,
    ScanError,
    Statement,
    Suppression,
    TemplateValue,
    Trigger,
    TriggerKind,
    Unresolved,
)

__all__ = ["DEFAULT_ROLE", "UnsupportedProvider", "load_serverless", "serverless_to_model"]

DEFAULT_ROLE = "IamRoleLambdaExecution"
"""Logical ID of the role Serverless generates and shares between the service's functions."""

Lines = Callable[[str], "tuple[int | None, int | None]"]

_PER_FUNCTION_PLUGINS = ("iam-roles-per-function", "serverless-granular-iam")
_PLUGIN_SETTINGS = "serverless-iam-roles-per-function"
_POLICY_KEYS = frozenset({"PolicyDocument", "AssumeRolePolicyDocument", "Policies"})
_NO_AUTHORIZER = "no authorizer"


class UnsupportedProvider(LoaderError):
    """A Serverless configuration for another cloud: recognised, deliberately not analysed."""


def load_serverless(
    path: Path,
    display: PurePosixPath,
    *,
    root: Path,
    max_bytes: int,
    env: Mapping[str, str] | None = None,
) -> tuple[Application, list[ScanError]]:
    """Read one Serverless configuration; raises `LoaderError` when it cannot be parsed.

    `root` is the scanned folder: `${file(...)}` reads YAML and JSON inside it only. `env`
    is what `${env:...}` may read; the scanning machine's environment is never used.
    """
    text = read_text(path, display, max_bytes)
    suppressions: list[Suppression] = []
    problems: list[ScanError] = []
    lines: Lines
    if path.suffix.lower() == ".json":
        data = parse_json(text, display)
        lines = JsonLines(text)
    else:
        document = load_yaml(text, display)
        data, lines = document.data, document.lines
        suppressions, problems = find_suppressions(text, display)
    if data is None:
        raise LoaderError(display, "file is empty")
    if not isinstance(data, dict):
        raise LoaderError(
            display, f"not a Serverless configuration (a {type(data).__name__}, not a mapping)", 1
        )
    provider = data.get("provider")
    name = provider.get("name") if isinstance(provider, dict) else provider
    if isinstance(name, str) and "${" not in name and name.strip().lower() != "aws":
        at = "/provider/name" if isinstance(provider, dict) else "/provider"
        raise UnsupportedProvider(
            display, f"provider `{name}` is not analysed (only AWS is)", lines(at)[0]
        )
    application, errors = serverless_to_model(
        data,
        display,
        lines,
        base_dir=path.parent,
        root=root,
        max_bytes=max_bytes,
        env=env,
        suppressions=suppressions,
    )
    return application, [*problems, *errors]


def serverless_to_model(
    data: Any,
    display: PurePosixPath,
    lines: Lines,
    *,
    base_dir: Path,
    root: Path,
    max_bytes: int,
    env: Mapping[str, str] | None = None,
    suppressions: Sequence[Suppression] = (),
) -> tuple[Application, list[ScanError]]:
    """The model of a parsed Serverless configuration. Never raises: what cannot be
    analysed is an error entry, and the rest is still analysed."""
    origin = Origin(display, display.name, "serverless", "", lines)
    resolver = Resolver(
        data, display, lines, base_dir=base_dir, root=root, max_bytes=max_bytes, env=env
    )
    builder = _Builder(resolver, display, lines)
    try:
        application = builder.build(origin, suppressions)
    except RecursionError:
        return Application(origin, suppressions=tuple(suppressions)), [
            *resolver.errors,
            ScanError(display, "configuration is nested too deeply to analyse"),
        ]
    return application, [*resolver.errors, *builder.errors]


@dataclass
class _Generated:
    """What the `resources:` block says about resources Serverless generates."""

    triggers: dict[str, list[Trigger]] = field(default_factory=dict)
    """Function key -> triggers found in `resources` (notifications, mappings, methods)."""
    grants: dict[str, list[Grant]] = field(default_factory=dict)
    """Generated role logical ID -> policies `resources` attach to it or add in overrides."""
    buckets: dict[str, Bucket] = field(default_factory=dict)
    """Generated bucket logical ID -> the settings `resources` give it."""
    on_failure: dict[str, str] = field(default_factory=dict)
    """Function key -> on-failure destination of an `AWS::Lambda::EventInvokeConfig`."""


@dataclass
class _Cloudformation:
    application: Application | None = None
    generated: _Generated = field(default_factory=_Generated)


@dataclass
class _BucketUse:
    name: str
    pointer: str
    functions: list[str] = field(default_factory=list)


class _Builder:
    def __init__(self, resolver: Resolver, display: PurePosixPath, lines: Lines) -> None:
        self.resolver = resolver
        self.display = display
        self.lines = lines
        self.errors: list[ScanError] = []
        self.config: dict[str, Any] = {}
        self.provider: dict[str, Any] = {}
        self.provider_ptr = "/provider"
        self.resource_parts: list[tuple[dict[str, Any], str]] = []
        self.resources: dict[str, tuple[dict[str, Any], str]] = {}
        """Logical ID -> (resource, pointer), across every part of `resources`."""
        self.bucket_uses: dict[str, _BucketUse] = {}
        self.existing_buckets: list[tuple[Any, str]] = []
        """`s3` events on `existing: true` buckets: (bucket as written, function key)."""
        self.cfn_roles: dict[str, Role] = {}
        self.named_roles: dict[str, Role] = {}
        self.used_roles: dict[int, Role] = {}
        self.reported: set[str] = set()

    # --- pointers and errors -----------------------------------------------------------

    def ptr(self, container: object, default: str) -> str:
        return self.resolver.pointer_of(container, default)

    def at(self, container: object, default: str, key: str | int) -> str:
        return f"{self.ptr(container, default)}/{escape_pointer(str(key))}"

    def error(self, pointer: str, message: str) -> None:
        self.errors.append(ScanError(self.display, message, self.lines(pointer)[0]))

    def error_once(self, pointer: str, message: str) -> None:
        """For settings every function inherits: one error, not one per function."""
        if pointer not in self.reported:
            self.reported.add(pointer)
            self.error(pointer, message)

    def origin(self, resource: str, resource_type: str, pointer: str) -> Origin:
        return Origin(self.display, resource, resource_type, pointer, self.lines)

    # --- the whole file ----------------------------------------------------------------

    def build(self, origin: Origin, suppressions: Sequence[Suppression]) -> Application:
        config = self.resolver.value("")
        if not isinstance(config, dict):
            self.error("", "not a Serverless configuration (the file is not a mapping)")
            return Application(origin, suppressions=tuple(suppressions))
        self.config = config
        provider = config.get("provider")
        if isinstance(provider, dict):
            self.provider = provider
            self.provider_ptr = self.ptr(provider, "/provider")
        self.index_resources()
        entries = list(self.function_entries())
        triggers = {key: self.triggers(key, fn, pointer) for key, fn, pointer in entries}
        cloudformation = self.cloudformation([key for key, _, _ in entries])
        generated = cloudformation.generated
        functions = []
        for key, fn, pointer in entries:
            role = self.function_role(key, fn, pointer, generated)
            if role is not None:
                self.used_roles.setdefault(id(role), role)
            own = [*triggers[key], *generated.triggers.get(key, ())]
            function = self.function(key, fn, pointer, tuple(own), role)
            if function.on_failure is None and key in generated.on_failure:
                function = replace(function, on_failure=generated.on_failure[key])
            functions.append(function)
        cfn = cloudformation.application
        layers = list(self.layers())
        buckets = [
            self.bucket(logical_id, use, generated) for logical_id, use in self.bucket_uses.items()
        ]
        roles = list(self.used_roles.values())
        known = {id(r) for r in roles}
        permissions: tuple[Permission, ...] = ()
        values = self.values()
        extra_suppressions: tuple[Suppression, ...] = ()
        if cfn is not None:
            functions.extend(cfn.functions)
            roles.extend(r for r in cfn.roles if id(r) not in known)
            permissions = cfn.permissions
            buckets.extend(self.notified_existing(cfn.buckets))
            values.extend(cfn.values)
            extra_suppressions = cfn.suppressions
            # `resources` may override a generated layer's properties under its logical ID.
            generated_layers = {layer.origin.resource for layer in layers}
            layers.extend(
                layer for layer in cfn.layers if layer.origin.resource not in generated_layers
            )
        return Application(
            origin=origin,
            functions=tuple(functions),
            roles=tuple(roles),
            permissions=permissions,
            buckets=tuple(buckets),
            values=tuple(values),
            suppressions=(*suppressions, *extra_suppressions),
            layers=tuple(layers),
        )

    def index_resources(self) -> None:
        raw = self.config.get("resources")
        if raw is None:
            return
        if isinstance(raw, Unresolved):
            self.error("/resources", f"`resources` cannot be analysed: {_why(raw)}")
            return
        parts = raw if isinstance(raw, list) else [raw]
        for index, part in enumerate(parts):
            default = f"/resources/{index}" if isinstance(raw, list) else "/resources"
            if isinstance(part, Unresolved):
                self.error(default, f"`resources` cannot be analysed: {_why(part)}")
            if not isinstance(part, dict):
                continue
            base = self.ptr(part, default)
            self.resource_parts.append((part, base))
            resources = part.get("Resources")
            if not isinstance(resources, dict):
                continue
            resources_ptr = self.ptr(resources, f"{base}/Resources")
            for logical_id, resource in resources.items():
                if isinstance(resource, dict):
                    pointer = self.ptr(resource, f"{resources_ptr}/{escape_pointer(logical_id)}")
                    self.resources[str(logical_id)] = (resource, pointer)

    def resource_type(self, logical_id: str | None) -> str:
        found = self.resources.get(logical_id) if logical_id else None
        kind = found[0].get("Type") if found else None
        return kind if isinstance(kind, str) else ""

    def function_entries(self) -> Iterator[tuple[str, dict[str, Any], str]]:
        raw = self.config.get("functions")
        if raw is None:
            return
        containers = raw if isinstance(raw, list) else [raw]
        found: dict[str, tuple[dict[str, Any], str]] = {}
        for index, container in enumerate(containers):
            default = f"/functions/{index}" if isinstance(raw, list) else "/functions"
            if isinstance(container, Unresolved):
                self.error(default, f"functions cannot be analysed: {_why(container)}")
                continue
            if container is None:
                continue
            if not isinstance(container, dict):
                self.error(default, "`functions` must map function names to their settings")
                continue
            base = self.ptr(container, default)
            for key, fn in container.items():
                pointer = self.ptr(fn, f"{base}/{escape_pointer(str(key))}")
                if isinstance(fn, Unresolved):
                    self.error(pointer, f"function `{key}` cannot be analysed: {_why(fn)}")
                    continue
                if fn is None:
                    fn = {}
                if not isinstance(fn, dict):
                    self.error(pointer, f"function `{key}` must be a mapping of its settings")
                    continue
                found[str(key)] = (fn, pointer)
        for key, (fn, pointer) in found.items():
            yield key, fn, pointer

    # --- layers ------------------------------------------------------------------------

    def layers(self) -> Iterator[Layer]:
        raw = self.config.get("layers")
        if raw is None:
            return
        base = self.ptr(raw, "/layers")
        if isinstance(raw, Unresolved):
            self.error(base, f"layers cannot be analysed: {_why(raw)}")
            return
        if not isinstance(raw, dict):
            self.error(base, "`layers` must map layer names to their settings")
            return
        for name, settings in raw.items():
            pointer = self.ptr(settings, f"{base}/{escape_pointer(str(name))}")
            if isinstance(settings, Unresolved):
                self.error(pointer, f"layer `{name}` cannot be analysed: {_why(settings)}")
                continue
            if not isinstance(settings, dict):
                self.error(pointer, f"layer `{name}` must be a mapping of its settings")
                continue
            yield Layer(
                self.origin(_layer_id(str(name)), "layer", pointer),
                content_uri=self.layer_content(str(name), settings, pointer),
            )

    def layer_content(self, name: str, settings: dict[str, Any], pointer: str) -> str | None:
        """The layer's local folder or zip, relative to the service folder. Serverless
        uploads `package.artifact` as it is when given, and zips `path` otherwise."""
        package = settings.get("package")
        if isinstance(package, dict) and package.get("artifact") is not None:
            key, value = "package.artifact", package["artifact"]
            at = self.at(package, f"{pointer}/package", "artifact")
        elif settings.get("path") is not None:
            key, value, at = "path", settings["path"], self.at(settings, pointer, "path")
        else:
            return None
        if isinstance(value, Unresolved):
            self.error(at, f"layer `{name}`: `{key}` cannot be analysed: {_why(value)}")
            return None
        if not isinstance(value, str) or not value.strip():
            kind = "an empty string" if isinstance(value, str) else f"a {type(value).__name__}"
            self.error(at, f"layer `{name}`: `{key}` must be a path, not {kind}")
            return None
        if "://" in value:
            return None  # uploaded from elsewhere: no local content
        base_dir = real_path(self.resolver.base_dir)
        target = real_path(base_dir / value)
        if not target.is_relative_to(self.resolver.root):
            self.error(
                at,
                f"layer `{name}`: `{key}` {value} is outside the scanned folder, which is "
                "never read; scan a folder that holds both",
            )
            return None
        if Path(value).is_absolute():
            return posixpath.normpath(os.path.relpath(target, base_dir).replace(os.sep, "/"))
        return value

    # --- functions ---------------------------------------------------------------------

    def setting(self, fn: dict[str, Any], pointer: str, *names: str) -> tuple[Any, str]:
        """A function setting, else the provider's, and where it was written."""
        for name in names:
            if name in fn and fn[name] is not None:
                return fn[name], self.at(fn, pointer, name)
        for name in names:
            if name in self.provider and self.provider[name] is not None:
                return self.provider[name], self.at(self.provider, self.provider_ptr, name)
        return None, ""

    def function(
        self,
        key: str,
        fn: dict[str, Any],
        pointer: str,
        triggers: tuple[Trigger, ...],
        role: Role | None,
    ) -> Function:
        runtime, runtime_ptr = self.setting(fn, pointer, "runtime")
        memory, _ = self.setting(fn, pointer, "memorySize")
        timeout, _ = self.setting(fn, pointer, "timeout")
        kms, _ = self.setting(fn, pointer, "kmsKeyArn", "awsKmsKeyArn")
        architecture, _ = self.setting(fn, pointer, "architecture")
        # `layers:` left empty is null, and Serverless then uses the provider's; `[]` is not.
        layers = fn["layers"] if fn.get("layers") is not None else self.provider.get("layers")
        vpc = fn["vpc"] if "vpc" in fn else self.provider.get("vpc")
        image = fn.get("image")
        artifact = _dig(fn, "package", "artifact") or _dig(self.config, "package", "artifact")
        destinations = fn.get("destinations")
        on_failure = _dig(destinations, "onFailure")
        if isinstance(on_failure, dict):
            on_failure = on_failure.get("arn") or on_failure.get("function")
        return Function(
            origin=self.origin(key, "function", pointer),
            runtime=runtime if isinstance(runtime, (str, Unresolved)) else None,
            runtime_pointer=runtime_ptr,
            handler=_str(fn.get("handler")),
            code_uri=None if image is not None or artifact is not None else ".",
            package_type="Image" if image is not None else "Zip",
            environment=tuple(self.environment(fn, pointer)),
            memory=_int(memory),
            timeout=_int(timeout),
            reserved_concurrency=_int(fn.get("reservedConcurrency")),
            dead_letter=_opt_text(fn.get("onError")),
            on_failure=_opt_text(on_failure),
            tracing=self.tracing(fn),
            kms_key=_opt_text(kms),
            layers=tuple(_text(layer) for layer in _listed(layers)),
            vpc=_has_vpc(vpc),
            architectures=(_text(architecture),) if architecture is not None else (),
            role=role,
            triggers=triggers,
        )

    def environment(self, fn: dict[str, Any], pointer: str) -> Iterator[EnvVar]:
        merged: dict[str, EnvVar] = {}
        for container, default in (
            (self.provider.get("environment"), f"{self.provider_ptr}/environment"),
            (fn.get("environment"), f"{pointer}/environment"),
        ):
            if isinstance(container, Unresolved):
                self.error_once(default, f"environment cannot be analysed: {_why(container)}")
            if not isinstance(container, dict):
                continue
            base = self.ptr(container, default)
            for name, value in container.items():
                merged[str(name)] = EnvVar(
                    str(name), _env_value(value), f"{base}/{escape_pointer(str(name))}"
                )
        yield from merged.values()

    def tracing(self, fn: dict[str, Any]) -> str | None:
        if fn.get("tracing") is not None:
            return _tracing_mode(fn["tracing"])
        tracing = self.provider.get("tracing")
        return _tracing_mode(tracing.get("lambda")) if isinstance(tracing, dict) else None

    # --- roles -------------------------------------------------------------------------

    def function_role(
        self, key: str, fn: dict[str, Any], pointer: str, generated: _Generated
    ) -> Role | None:
        if fn.get("role") is not None:
            return self.named_role(fn["role"], self.at(fn, pointer, "role"))
        if "iamRoleStatements" in fn and self.per_function_plugin():
            return self.own_role(key, fn, pointer, generated)
        return self.provider_role(generated)

    def per_function_plugin(self) -> bool:
        plugins = self.config.get("plugins")
        if isinstance(plugins, dict):
            plugins = plugins.get("modules")
        return any(
            isinstance(p, str) and any(name in p for name in _PER_FUNCTION_PLUGINS)
            for p in _listed(plugins)
        )

    def provider_role_setting(self) -> tuple[Any, str] | None:
        """`provider.iam.role` (v3+) or `provider.role` (v1/v2) naming an existing role."""
        iam = self.provider.get("iam")
        role = iam.get("role") if isinstance(iam, dict) else None
        if role is not None and not isinstance(role, dict) and isinstance(iam, dict):
            return role, self.at(iam, f"{self.provider_ptr}/iam", "role")
        legacy = self.provider.get("role")
        if legacy is not None:
            return legacy, self.at(self.provider, self.provider_ptr, "role")
        return None

    def provider_role(self, generated: _Generated) -> Role:
        named = self.provider_role_setting()
        if named is not None:
            return self.named_role(*named)
        found = self.named_roles.get(DEFAULT_ROLE)
        if found is not None:
            return found
        iam = self.provider.get("iam")
        iam_ptr = self.ptr(iam, f"{self.provider_ptr}/iam")
        if isinstance(iam, dict) and isinstance(iam.get("role"), dict):
            where = self.ptr(iam["role"], f"{iam_ptr}/role")
        elif "iamRoleStatements" in self.provider:
            where = self.at(self.provider, self.provider_ptr, "iamRoleStatements")
        else:
            where = self.provider_ptr if self.provider else ""
        grants = [
            *self.provider_grants(DEFAULT_ROLE),
            *generated.grants.get(DEFAULT_ROLE, ()),
        ]
        role = Role(self.origin(DEFAULT_ROLE, "role", where), tuple(grants))
        self.named_roles[DEFAULT_ROLE] = role
        return role

    def provider_grants(self, role_name: str) -> list[Grant]:
        """The provider's statements and managed policies, as attached to `role_name`."""
        grants: list[Grant] = []
        iam = self.provider.get("iam")
        iam_ptr = self.ptr(iam, f"{self.provider_ptr}/iam")
        role = iam.get("role") if isinstance(iam, dict) else None
        if isinstance(role, dict):
            role_ptr = self.ptr(role, f"{iam_ptr}/role")
            grants += self.statement_grants(
                role_name,
                "provider.iam.role.statements",
                role.get("statements"),
                f"{role_ptr}/statements",
            )
        grants += self.statement_grants(
            role_name,
            "provider.iamRoleStatements",
            self.provider.get("iamRoleStatements"),
            f"{self.provider_ptr}/iamRoleStatements",
        )
        if isinstance(role, dict):
            grants += self.managed_grants(
                role_name,
                role.get("managedPolicies"),
                f"{self.ptr(role, f'{iam_ptr}/role')}/managedPolicies",
            )
        grants += self.managed_grants(
            role_name,
            self.provider.get("iamManagedPolicies"),
            f"{self.provider_ptr}/iamManagedPolicies",
        )
        return grants

    def own_role(self, key: str, fn: dict[str, Any], pointer: str, generated: _Generated) -> Role:
        """The serverless-iam-roles-per-function plugin's role for one function."""
        logical_id = _role_id(key)
        statements_ptr = self.at(fn, pointer, "iamRoleStatements")
        grants = self.statement_grants(
            logical_id,
            f"functions.{key}.iamRoleStatements",
            fn.get("iamRoleStatements"),
            statements_ptr,
        )
        inherit = _flag(fn.get("iamRoleStatementsInherit"))
        if inherit is None:
            inherit = _flag(_dig(self.config, "custom", _PLUGIN_SETTINGS, "defaultInherit"))
        if inherit:
            grants += self.provider_grants(logical_id)
        grants += generated.grants.get(logical_id, ())
        return Role(self.origin(logical_id, "role", statements_ptr), tuple(grants))

    def named_role(self, value: Any, pointer: str) -> Role:
        """A role the configuration names: from `resources`, or defined elsewhere."""
        target = _target(value)
        if target is not None and target in self.cfn_roles:
            return self.cfn_roles[target]
        text = _text(value)
        found = self.named_roles.get(text)
        if found is None:
            found = Role(self.origin(text, "role", pointer), external=text)
            self.named_roles[text] = found
        return found

    def statement_grants(self, role_name: str, label: str, value: Any, pointer: str) -> list[Grant]:
        if value is None:
            return []
        if isinstance(value, Unresolved):
            return [Grant(GrantSource.INLINE, label, pointer, None)]
        base = self.ptr(value, pointer)
        entries: list[tuple[Any, str]] = []
        if isinstance(value, list):
            for index, item in enumerate(value):
                item_ptr = self.ptr(item, f"{base}/{index}")
                if isinstance(item, list):
                    entries.extend(
                        (sub, self.ptr(sub, f"{item_ptr}/{j}")) for j, sub in enumerate(item)
                    )
                else:
                    entries.append((item, item_ptr))
        else:
            entries.append((value, base))
        known = [(v, p) for v, p in entries if not isinstance(v, Unresolved)]
        grants = []
        if known:
            grants.append(
                Grant(GrantSource.INLINE, label, base, self.document(role_name, known, base))
            )
        grants.extend(
            Grant(GrantSource.INLINE, label, p, None)
            for v, p in entries
            if isinstance(v, Unresolved)
        )
        return grants

    def document(
        self, role_name: str, entries: list[tuple[Any, str]], pointer: str
    ) -> PolicyDocument:
        """Statements written as a Serverless list, read as the policy Serverless deploys."""
        parsed = policy_from_json(
            {"Version": "2012-10-17", "Statement": [_render(v) for v, _ in entries]},
            self.origin(role_name, "role", ""),
        )
        return _repointed(
            parsed, self.origin(role_name, "role", pointer), [p for _, p in entries], pointer
        )

    def managed_grants(self, role_name: str, value: Any, pointer: str) -> list[Grant]:
        if value is None:
            return []
        base = self.ptr(value, pointer)
        items = (
            [(v, f"{base}/{i}") for i, v in enumerate(value)]
            if isinstance(value, list)
            else [(value, base)]
        )
        grants = []
        for item, at in items:
            origin = self.origin(role_name, "role", at)
            target = _target(item)
            if target is not None and self.resource_type(target) == "AWS::IAM::ManagedPolicy":
                resource, resource_ptr = self.resources[target]
                properties = resource.get("Properties")
                document = (
                    properties.get("PolicyDocument") if isinstance(properties, dict) else None
                )
                document_ptr = self.ptr(document, f"{resource_ptr}/Properties/PolicyDocument")
                grants.append(
                    Grant(
                        GrantSource.CUSTOMER_MANAGED,
                        target,
                        at,
                        policy_from_json(
                            _render(document), self.origin(role_name, "role", document_ptr)
                        ),
                    )
                )
                continue
            text = _text(item)
            if is_aws_managed_arn(text) or (":" not in text and not isinstance(item, Unresolved)):
                grants.append(
                    Grant(GrantSource.AWS_MANAGED, text, at, managed_policy(text, origin))
                )
            else:
                grants.append(Grant(GrantSource.CUSTOMER_MANAGED, text, at, None))
        return grants

    # --- resources ---------------------------------------------------------------------

    def cloudformation(self, keys: list[str]) -> _Cloudformation:
        """The `resources:` block through the CloudFormation loader, with stubs for what
        Serverless generates so that references to it resolve."""
        result = _Cloudformation()
        if not self.resource_parts:
            return result
        stubs: dict[str, str] = {f"{_normalized(k)}LambdaFunction": k for k in keys}
        stub_types = dict.fromkeys(stubs, "AWS::Lambda::Function")
        roles = [DEFAULT_ROLE, *(_role_id(k) for k in keys)]
        stub_types.update(dict.fromkeys(roles, "AWS::IAM::Role"))
        stub_types.update(dict.fromkeys(self.bucket_uses, "AWS::S3::Bucket"))
        applications: list[Application] = []
        for part, base in self.resource_parts:
            resources = part.get("Resources")
            if not isinstance(resources, dict):
                continue
            patched = dict(resources)
            for logical_id, kind in stub_types.items():
                existing = patched.get(logical_id)
                if existing is None:
                    patched[logical_id] = {"Type": kind}
                elif isinstance(existing, dict) and "Type" not in existing:
                    patched[logical_id] = {**existing, "Type": kind}
            data = {**part, "Resources": _policies_as_text(patched)}
            application, errors = resources_to_model(
                data, self.display, self.lines, base=base, kind="serverless"
            )
            self.errors.extend(errors)
            applications.append(application)
        generated = result.generated
        functions: list[Function] = []
        cfn_roles: list[Role] = []
        buckets: list[Bucket] = []
        permissions: list[Permission] = []
        values: list[TemplateValue] = []
        suppressions: list[Suppression] = []
        layers: list[Layer] = []
        for application in applications:
            for function in application.functions:
                key = stubs.get(function.origin.resource)
                if key is None:
                    functions.append(function)
                else:
                    generated.triggers.setdefault(key, []).extend(function.triggers)
                    if function.on_failure is not None:
                        generated.on_failure.setdefault(key, function.on_failure)
            for role in application.roles:
                if role.origin.resource in roles:
                    generated.grants.setdefault(role.origin.resource, []).extend(role.grants)
                else:
                    cfn_roles.append(role)
                    self.cfn_roles[role.origin.resource] = role
            for bucket in application.buckets:
                notifies = tuple(stubs.get(f, f) for f in bucket.notifies)
                bucket = replace(bucket, notifies=notifies)
                if bucket.origin.resource in self.bucket_uses:
                    generated.buckets[bucket.origin.resource] = bucket
                else:
                    buckets.append(bucket)
            permissions.extend(
                replace(p, function=stubs.get(p.function, p.function)) if p.function else p
                for p in application.permissions
            )
            values.extend(application.values)
            suppressions.extend(application.suppressions)
            layers.extend(application.layers)
        result.application = Application(
            origin=self.origin(self.display.name, "serverless", "/resources"),
            functions=tuple(functions),
            roles=tuple(cfn_roles),
            permissions=tuple(permissions),
            buckets=tuple(buckets),
            values=tuple(values),
            suppressions=tuple(suppressions),
            layers=tuple(layers),
        )
        return result

    def notified_existing(self, buckets: Sequence[Bucket]) -> Iterator[Bucket]:
        """Buckets of `resources` that `s3` events with `existing: true` name (by
        `BucketName` or by `Ref`), with those functions added to what they notify."""
        for bucket in buckets:
            keys = [
                key
                for written, key in self.existing_buckets
                if _target(written) == bucket.origin.resource
                or (bucket.name is not None and _text(written) == bucket.name)
            ]
            if keys:
                bucket = replace(bucket, notifies=tuple(dict.fromkeys((*bucket.notifies, *keys))))
            yield bucket

    def bucket(self, logical_id: str, use: _BucketUse, generated: _Generated) -> Bucket:
        """A bucket Serverless creates for `s3` events, with what `resources` adds to it."""
        configured = generated.buckets.get(logical_id)
        notifies = tuple(dict.fromkeys(use.functions))
        if configured is not None:
            return replace(
                configured,
                name=configured.name or use.name,
                notifies=tuple(dict.fromkeys((*notifies, *configured.notifies))),
            )
        return Bucket(self.origin(logical_id, "bucket", use.pointer), use.name, notifies=notifies)

    # --- values that may hold secrets --------------------------------------------------

    def values(self) -> list[TemplateValue]:
        found: list[TemplateValue] = []
        blocks: list[tuple[str, Any, str]] = []
        params = self.config.get("params")
        if isinstance(params, dict):
            base = self.ptr(params, "/params")
            blocks.extend(
                (str(stage), block, f"{base}/{escape_pointer(str(stage))}")
                for stage, block in params.items()
            )
        stages = self.config.get("stages")
        if isinstance(stages, dict):
            base = self.ptr(stages, "/stages")
            for stage, settings in stages.items():
                if isinstance(settings, dict) and "params" in settings:
                    at = f"{self.ptr(settings, f'{base}/{escape_pointer(str(stage))}')}/params"
                    blocks.append((str(stage), settings["params"], at))
        for stage, block, default in blocks:
            if not isinstance(block, dict):
                continue
            base = self.ptr(block, default)
            found.extend(
                TemplateValue(
                    "parameter-default",
                    f"{stage}.{name}",
                    value,
                    f"{base}/{escape_pointer(str(name))}",
                )
                for name, value in block.items()
                if not isinstance(value, (dict, list))
            )
        api_keys = _dig(self.provider, "apiGateway", "apiKeys")
        if isinstance(api_keys, list):
            base = self.ptr(api_keys, f"{self.provider_ptr}/apiGateway/apiKeys")
            for index, key in enumerate(api_keys):
                if isinstance(key, dict) and "value" in key:
                    found.append(
                        TemplateValue(
                            "api-key",
                            _text(key.get("name", index)),
                            key["value"],
                            self.at(key, f"{base}/{index}", "value"),
                        )
                    )
        return found

    # --- triggers ----------------------------------------------------------------------

    def triggers(self, key: str, fn: dict[str, Any], pointer: str) -> list[Trigger]:
        found: list[Trigger] = []
        url = fn.get("url")
        if url is not None and url is not False:
            trigger = self.url(url, self.at(fn, pointer, "url"))
            if trigger is not None:
                found.append(trigger)
        events = fn.get("events")
        events_ptr = self.ptr(events, f"{pointer}/events")
        if isinstance(events, Unresolved):
            self.error(events_ptr, f"events of `{key}` cannot be analysed: {_why(events)}")
            return found
        for index, event in enumerate(_listed(events)):
            event_ptr = self.ptr(event, f"{events_ptr}/{index}")
            if isinstance(event, str):
                kind, config, at = event, None, event_ptr
            elif isinstance(event, dict) and event:
                kind = next(iter(event))
                config, at = event[kind], f"{event_ptr}/{escape_pointer(str(kind))}"
            elif isinstance(event, Unresolved):
                self.error(event_ptr, f"an event of `{key}` cannot be analysed: {_why(event)}")
                continue
            else:
                continue
            reader = _EVENTS.get(str(kind))
            if reader is None:
                found.append(Trigger(TriggerKind.OTHER, str(kind), at, str(kind)))
            else:
                found.append(reader(self, key, str(kind), config, at))
        return found

    def url(self, value: Any, pointer: str) -> Trigger | None:
        if isinstance(value, Unresolved):
            auth = Authorization(AuthKind.UNKNOWN, str(value), pointer=pointer)
        elif isinstance(value, dict):
            authorizer = value.get("authorizer")
            at = self.at(value, pointer, "authorizer")
            if authorizer is None:
                auth = Authorization(AuthKind.NONE, "url without `authorizer`", pointer=pointer)
            elif isinstance(authorizer, str) and authorizer.lower() == "aws_iam":
                auth = Authorization(AuthKind.IAM, "aws_iam", pointer=at)
            else:
                auth = Authorization(AuthKind.UNKNOWN, _text(authorizer), pointer=at)
        elif _flag(value):
            auth = Authorization(AuthKind.NONE, "url: true", pointer=pointer)
        else:
            return None
        return Trigger(TriggerKind.FUNCTION_URL, "function URL", pointer, "url", auth)

    def http(self, _key: str, _kind: str, config: Any, pointer: str) -> Trigger:
        asynchronous = None
        if isinstance(config, dict):
            method, path = config.get("method", "any"), config.get("path", "")
            authorizer = config.get("authorizer")
            api_key = _flag(config.get("private")) is True
            asynchronous = True if _flag(config.get("async")) else None
        else:
            method, _, path = _text(config).strip().partition(" ")
            authorizer, api_key = None, False
        source = f"{_text(method).upper()} /{_text(path).strip().lstrip('/')}"
        if authorizer is None:
            auth = Authorization(AuthKind.NONE, _NO_AUTHORIZER, api_key)
        else:
            auth = _authorizer(authorizer, self.at(config, pointer, "authorizer"), api_key)
        endpoint = self.provider.get("endpointType")
        if isinstance(endpoint, str) and endpoint.strip().upper() == "PRIVATE":
            auth = replace(auth, private=True)
        return Trigger(
            TriggerKind.API_REST, source, pointer, "http", auth, asynchronous=asynchronous
        )

    def http_api(self, _key: str, _kind: str, config: Any, pointer: str) -> Trigger:
        if isinstance(config, dict):
            method, path = _text(config.get("method", "*")), _text(config.get("path", "*"))
            source = "*" if method == "*" and path == "*" else f"{method.upper()} {path}"
            authorizer = config.get("authorizer")
        else:
            route = _text(config).strip()
            method, _, path = route.partition(" ")
            source = route if not path else f"{method.upper()} {path.strip()}"
            authorizer = None
        if authorizer is None:
            auth = Authorization(AuthKind.NONE, _NO_AUTHORIZER)
        else:
            auth = self.http_api_auth(authorizer, self.at(config, pointer, "authorizer"))
        return Trigger(TriggerKind.API_HTTP, source, pointer, "httpApi", auth)

    def http_api_auth(self, authorizer: Any, pointer: str) -> Authorization:
        if isinstance(authorizer, Unresolved):
            return Authorization(AuthKind.UNKNOWN, str(authorizer), pointer=pointer)
        if isinstance(authorizer, str):
            authorizer = {"name": authorizer}
        if not isinstance(authorizer, dict):
            return Authorization(AuthKind.UNKNOWN, _text(authorizer), pointer=pointer)
        kind = authorizer.get("type")
        if isinstance(kind, str) and kind.lower() == "aws_iam":
            return Authorization(AuthKind.IAM, "aws_iam", pointer=pointer)
        name = authorizer.get("name")
        if name is not None:
            defined = _dig(self.provider, "httpApi", "authorizers", _text(name))
            detail = _text(name)
            if isinstance(defined, dict) and defined.get("type") is not None:
                detail = f"{detail} ({_text(defined['type'])})"
            return Authorization(AuthKind.AUTHORIZER, detail, pointer=pointer)
        if authorizer.get("id") is not None:
            return Authorization(AuthKind.AUTHORIZER, _text(authorizer["id"]), pointer=pointer)
        return Authorization(AuthKind.UNKNOWN, "authorizer without a name", pointer=pointer)

    def websocket(self, _key: str, _kind: str, config: Any, pointer: str) -> Trigger:
        route = _text(config.get("route") if isinstance(config, dict) else config).strip()
        if route != "$connect":
            auth = Authorization(
                AuthKind.UNKNOWN, "websocket routes are authorised on $connect", pointer=pointer
            )
        elif isinstance(config, dict) and config.get("authorizer") is not None:
            auth = _authorizer(config["authorizer"], self.at(config, pointer, "authorizer"), False)
        else:
            auth = Authorization(AuthKind.NONE, _NO_AUTHORIZER)
        return Trigger(TriggerKind.API_WEBSOCKET, route, pointer, "websocket", auth)

    def alb(self, _key: str, _kind: str, config: Any, pointer: str) -> Trigger:
        settings = config if isinstance(config, dict) else {}
        conditions = settings.get("conditions")
        conditions = conditions if isinstance(conditions, dict) else {}
        methods = "|".join(_text(m).upper() for m in _listed(conditions.get("method")))
        paths = "|".join(_text(p) for p in _listed(conditions.get("path")))
        authorizer = settings.get("authorizer")
        if authorizer is None:
            auth = Authorization(AuthKind.NONE, _NO_AUTHORIZER)
        else:
            names = ", ".join(_text(a) for a in _listed(authorizer))
            kind = AuthKind.UNKNOWN if isinstance(authorizer, Unresolved) else AuthKind.AUTHORIZER
            auth = Authorization(kind, names, pointer=self.at(settings, pointer, "authorizer"))
        return Trigger(TriggerKind.ALB, f"{methods or 'ANY'} {paths or '/'}", pointer, "alb", auth)

    def s3(self, key: str, _kind: str, config: Any, pointer: str) -> Trigger:
        if isinstance(config, dict):
            bucket, existing = config.get("bucket"), _flag(config.get("existing")) is True
            rules = config.get("rules")
        else:
            bucket, existing, rules = config, False, None
        filters = tuple(
            (str(name).lower(), _text(value))
            for rule in _listed(rules)
            if isinstance(rule, dict)
            for name, value in rule.items()
        )
        name = _text(bucket)
        if existing and bucket is not None:
            self.existing_buckets.append((bucket, key))
        if not existing and name:
            logical_id = f"S3Bucket{_alphanumeric(name)}"
            use = self.bucket_uses.setdefault(logical_id, _BucketUse(name, pointer))
            use.functions.append(key)
        return Trigger(TriggerKind.S3, name, pointer, "s3", filters=filters)

    def sqs(self, _key: str, _kind: str, config: Any, pointer: str) -> Trigger:
        arn = config.get("arn") if isinstance(config, dict) else config
        return Trigger(TriggerKind.SQS, _source(arn), pointer, "sqs")

    def sns(self, _key: str, _kind: str, config: Any, pointer: str) -> Trigger:
        topic, dead_letter = config, None
        if isinstance(config, dict):
            topic = config.get("arn") or config.get("topicName")
            redrive = config.get("redrivePolicy")
            if isinstance(redrive, dict):
                found = (
                    redrive.get("deadLetterTargetArn")
                    or redrive.get("deadLetterTargetRef")
                    or _dig(redrive, "deadLetterTargetImport", "arn")
                )
                dead_letter = None if found is None else _source(found)
        return Trigger(TriggerKind.SNS, _source(topic), pointer, "sns", dead_letter=dead_letter)

    def stream(self, _key: str, _kind: str, config: Any, pointer: str) -> Trigger:
        arn, kind = (
            (config.get("arn"), config.get("type"))
            if isinstance(config, dict)
            else (
                config,
                None,
            )
        )
        text = _text(arn)
        target = _target(arn)
        attribute = _dig_list(arn, "Fn::GetAtt", 1)
        if kind == "dynamodb" or ":dynamodb:" in text or attribute == "StreamArn":
            trigger_kind = TriggerKind.DYNAMODB_STREAM
        elif kind == "kinesis" or ":kinesis:" in text:
            trigger_kind = TriggerKind.KINESIS
        else:
            trigger_kind = {
                "AWS::DynamoDB::Table": TriggerKind.DYNAMODB_STREAM,
                "AWS::Kinesis::Stream": TriggerKind.KINESIS,
            }.get(self.resource_type(target), TriggerKind.OTHER)
        return Trigger(trigger_kind, _source(arn), pointer, "stream")

    def schedule(self, _key: str, _kind: str, config: Any, pointer: str) -> Trigger:
        rate = config.get("rate") if isinstance(config, dict) else config
        source = ", ".join(_text(r) for r in _listed(rate))
        return Trigger(TriggerKind.SCHEDULE, source, pointer, "schedule")

    def event_bridge(self, _key: str, _kind: str, config: Any, pointer: str) -> Trigger:
        settings = config if isinstance(config, dict) else {}
        queue = settings.get("deadLetterQueueArn")
        dead_letter = None if queue is None else _source(queue)
        if settings.get("schedule") is not None:
            return Trigger(
                TriggerKind.SCHEDULE,
                _text(settings["schedule"]),
                pointer,
                "eventBridge",
                dead_letter=dead_letter,
            )
        bus = settings.get("eventBus")
        source = _source(bus) if bus is not None else "default"
        return Trigger(
            TriggerKind.EVENTBRIDGE, source, pointer, "eventBridge", dead_letter=dead_letter
        )

    def cloudwatch_event(self, _key: str, _kind: str, _config: Any, pointer: str) -> Trigger:
        return Trigger(TriggerKind.EVENTBRIDGE, "default", pointer, "cloudwatchEvent")

    def cloudwatch_log(self, _key: str, _kind: str, config: Any, pointer: str) -> Trigger:
        group = config.get("logGroup") if isinstance(config, dict) else config
        return Trigger(TriggerKind.CLOUDWATCH_LOGS, _source(group), pointer, "cloudwatchLog")

    def cognito(self, _key: str, _kind: str, config: Any, pointer: str) -> Trigger:
        settings = config if isinstance(config, dict) else {}
        source = f"{_text(settings.get('pool'))} ({_text(settings.get('trigger'))})"
        return Trigger(TriggerKind.COGNITO, source, pointer, "cognitoUserPool")

    def iot(self, _key: str, _kind: str, config: Any, pointer: str) -> Trigger:
        sql = config.get("sql") if isinstance(config, dict) else config
        return Trigger(TriggerKind.IOT, _text(sql), pointer, "iot")

    def alexa(self, _key: str, kind: str, config: Any, pointer: str) -> Trigger:
        app = config.get("appId") if isinstance(config, dict) else config
        source = _text(app) if app is not None and not isinstance(app, bool) else "any skill"
        return Trigger(TriggerKind.ALEXA, source, pointer, kind)

    def streaming(self, _key: str, kind: str, config: Any, pointer: str) -> Trigger:
        """`kafka`, `msk`, `activemq` and `rabbitmq`: a topic or queue on a cluster."""
        trigger_kind = TriggerKind.KAFKA if kind in ("kafka", "msk") else TriggerKind.MQ
        settings = config if isinstance(config, dict) else {}
        source = settings.get("topic") or settings.get("queue") or settings.get("arn")
        return Trigger(trigger_kind, _source(source), pointer, kind)


_EVENTS: dict[str, Callable[[_Builder, str, str, Any, str], Trigger]] = {
    "http": _Builder.http,
    "httpApi": _Builder.http_api,
    "websocket": _Builder.websocket,
    "alb": _Builder.alb,
    "s3": _Builder.s3,
    "sqs": _Builder.sqs,
    "sns": _Builder.sns,
    "stream": _Builder.stream,
    "schedule": _Builder.schedule,
    "eventBridge": _Builder.event_bridge,
    "cloudwatchEvent": _Builder.cloudwatch_event,
    "cloudwatchLog": _Builder.cloudwatch_log,
    "cognitoUserPool": _Builder.cognito,
    "iot": _Builder.iot,
    "alexaSkill": _Builder.alexa,
    "alexaSmartHome": _Builder.alexa,
    "kafka": _Builder.streaming,
    "msk": _Builder.streaming,
    "activemq": _Builder.streaming,
    "rabbitmq": _Builder.streaming,
}


# --- helpers ---------------------------------------------------------------------------


def _authorizer(value: Any, pointer: str, api_key: bool) -> Authorization:
    """A REST or websocket `authorizer`: a function name, an ARN, `aws_iam` or a mapping."""
    if isinstance(value, Unresolved):
        return Authorization(AuthKind.UNKNOWN, str(value), api_key, pointer)
    if isinstance(value, str):
        if value.strip().lower() == "aws_iam":
            return Authorization(AuthKind.IAM, "aws_iam", api_key, pointer)
        return Authorization(AuthKind.AUTHORIZER, value, api_key, pointer)
    if isinstance(value, dict):
        kind = value.get("type")
        if isinstance(kind, str) and kind.strip().lower() == "aws_iam":
            return Authorization(AuthKind.IAM, "aws_iam", api_key, pointer)
        for key in ("name", "arn", "authorizerId"):
            if value.get(key) is not None:
                found = value[key]
                unknown = isinstance(found, Unresolved) and key != "name"
                kind_of = AuthKind.UNKNOWN if unknown else AuthKind.AUTHORIZER
                return Authorization(kind_of, _text(found), api_key, pointer)
    return Authorization(AuthKind.UNKNOWN, "authorizer without a name or an ARN", api_key, pointer)


def _repointed(
    document: PolicyDocument, origin: Origin, statement_ptrs: list[str], pointer: str
) -> PolicyDocument:
    """Move a document parsed at `""` to where each statement is written."""

    def move(at: str) -> str:
        if at.startswith("/Statement/"):
            index, _, rest = at[len("/Statement/") :].partition("/")
            if index.isdigit() and int(index) < len(statement_ptrs):
                return statement_ptrs[int(index)] + (f"/{rest}" if rest else "")
        if at.startswith("/Statement"):
            return pointer + at[len("/Statement") :]
        return pointer + at

    def items(found: tuple[Item, ...]) -> tuple[Item, ...]:
        return tuple(Item(i.value, move(i.pointer)) for i in found)

    def statement(s: Statement) -> Statement:
        return replace(
            s,
            pointer=move(s.pointer),
            actions=items(s.actions),
            not_actions=items(s.not_actions),
            resources=items(s.resources),
            not_resources=items(s.not_resources),
            principals=tuple((kind, Item(i.value, move(i.pointer))) for kind, i in s.principals),
        )

    return PolicyDocument(
        origin=origin,
        version=document.version,
        statements=tuple(statement(s) for s in document.statements),
        grammar_errors=items(document.grammar_errors),
    )


def _evaluate(value: Any, depth: int = 0) -> Any:
    """Intrinsics worked out as far as the file allows: text, or `Unresolved`. A logical
    ID is not a physical name, so `Ref X` is the placeholder `${X}`, as in CloudFormation."""
    if depth > 32:
        return Unresolved(_text(value)[:200], "nested too deeply")
    if isinstance(value, list):
        return [_evaluate(v, depth + 1) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, inner),) = value.items()
        if key == "Ref" or str(key).startswith("Fn::"):
            return _intrinsic(str(key), inner, depth)
    return {k: _evaluate(v, depth + 1) for k, v in value.items()}


def _intrinsic(key: str, inner: Any, depth: int) -> str | Unresolved:
    if key == "Ref" and isinstance(inner, str):
        return "${" + inner + "}"
    if key == "Fn::GetAtt":
        parts = inner if isinstance(inner, list) else str(inner).split(".", 1)
        return "${" + ".".join(_text(p) for p in parts) + "}"
    if key == "Fn::Sub":
        text = inner[0] if isinstance(inner, list) and inner else inner
        variables = inner[1] if isinstance(inner, list) and len(inner) > 1 else {}
        if isinstance(text, Unresolved):
            return text
        if isinstance(text, str) and isinstance(variables, dict):
            pieces = {"${" + str(k) + "}": _evaluate(v, depth + 1) for k, v in variables.items()}
            unknown = [v for v in pieces.values() if isinstance(v, Unresolved)]
            for placeholder, replacement in pieces.items():
                text = text.replace(placeholder, _text(replacement))
            return Unresolved(text, unknown[0].reason) if unknown else text
    if key == "Fn::Join" and isinstance(inner, list) and len(inner) == 2:
        separator, parts = inner[0], _evaluate(inner[1], depth + 1)
        if isinstance(separator, str) and isinstance(parts, list):
            text = separator.join(_text(p) for p in parts)
            unknown = [p for p in parts if isinstance(p, Unresolved)]
            return Unresolved(text, unknown[0].reason) if unknown else text
    name = key.removeprefix("Fn::")
    argument = _text(_evaluate(inner, depth + 1))[:200].replace("{", "(").replace("}", ")")
    return Unresolved("${" + name + "(" + argument + ")}", "depends on the deployment")


def _render(value: Any) -> Any:
    """Policy JSON as IAM will see it: intrinsics and unknown values as their text."""
    return _unknown_as_text(_evaluate(value))


def _unknown_as_text(value: Any) -> Any:
    if isinstance(value, Unresolved):
        return value.expression
    if isinstance(value, list):
        return [_unknown_as_text(v) for v in value]
    if isinstance(value, dict):
        return {k: _unknown_as_text(v) for k, v in value.items()}
    return value


def _env_value(value: Any) -> Any:
    """An environment value: a string, a number or `Unresolved`, as the model wants."""
    if not isinstance(value, (dict, list)):
        return value
    evaluated = _evaluate(value)
    if isinstance(evaluated, (dict, list)):
        return Unresolved(_text(value)[:200], "a mapping or a list is not a string")
    return evaluated


def _policies_as_text(value: Any, inside: bool = False, depth: int = 0) -> Any:
    """Unknown values inside policy documents become their text for the CloudFormation
    loader, so an ARN with `${aws:accountId}` in it is an ARN, not a grammar error."""
    if depth > 64:
        return value
    if inside and isinstance(value, Unresolved):
        return value.expression
    if isinstance(value, dict):
        return {
            k: _policies_as_text(v, inside or k in _POLICY_KEYS, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_policies_as_text(v, inside, depth + 1) for v in value]
    return value


def _target(value: Any) -> str | None:
    """The logical ID a `Ref`, `Fn::GetAtt` or plain name refers to."""
    if isinstance(value, str):
        return value if value and ":" not in value and "/" not in value else None
    if isinstance(value, dict) and len(value) == 1:
        ((key, inner),) = value.items()
        if key == "Ref" and isinstance(inner, str):
            return inner
        if key == "Fn::GetAtt":
            name = inner[0] if isinstance(inner, list) and inner else inner
            if isinstance(name, str):
                return name.split(".", 1)[0]
    return None


def _source(value: Any) -> str:
    """How a trigger's source reads: a name or ARN, or the logical ID it refers to."""
    if isinstance(value, dict):
        target = _target(value)
        if target is not None:
            return target
    return _text(value)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Unresolved):
        return value.expression
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        rendered = _render(value)
        return rendered if isinstance(rendered, str) else json.dumps(rendered, default=str)
    return str(value)


def _opt_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def _why(value: Unresolved) -> str:
    return f"{value.expression}: {value.reason}" if value.reason else value.expression


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def _listed(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _dig(value: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _dig_list(value: Any, key: str, index: int) -> Any:
    inner = value.get(key) if isinstance(value, dict) else None
    return inner[index] if isinstance(inner, list) and len(inner) > index else None


def _has_vpc(value: Any) -> bool:
    if isinstance(value, Unresolved):
        return True
    if not isinstance(value, dict):
        return False
    return bool(value.get("subnetIds") or value.get("securityGroupIds"))


def _tracing_mode(value: Any) -> str | None:
    if value is True:
        return "Active"
    if isinstance(value, str) and value.strip().lower() not in ("", "false"):
        return "Active" if value.strip().lower() == "true" else value
    if isinstance(value, Unresolved):
        return value.expression
    return None


def _normalized(name: str) -> str:
    """Serverless's normalised function name, the stem of its logical IDs."""
    text = name.replace("-", "Dash").replace("_", "Underscore")
    return text[:1].upper() + text[1:]


def _role_id(key: str) -> str:
    return f"{_normalized(key)}IamRoleLambdaExecution"


def _layer_id(name: str) -> str:
    """The logical ID Serverless gives layer `name`'s `AWS::Lambda::LayerVersion`."""
    return f"{_normalized(name)}LambdaLayer"


def _alphanumeric(name: str) -> str:
    text = re.sub(r"[^0-9A-Za-z]", "", name)
    return text[:1].upper() + text[1:]
