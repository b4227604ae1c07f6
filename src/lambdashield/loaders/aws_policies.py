"""Policies AWS defines and templates attach by name: AWS managed policies and SAM policy
templates, turned into `PolicyDocument`s that the IAM rules read like any inline policy.

**AWS managed policies** come from `data/aws_managed_policies.json`, a dated snapshot of
the policies commonly attached to Lambda function roles (administrator and power user,
the Lambda execution-role family, the full-access policies of the services Lambda apps
use). `scripts/refresh_managed_policies.py` builds it; its `source` header says where the
documents come from. A name or ARN missing from it gives `None`: the caller records the
grant as unknown, never as harmless. An ARN must carry the policy's real path
(`arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole`); the same name under
another path is no AWS policy, so it is unknown too.

**SAM policy templates** are read from the `policy_templates.json` that the installed
`aws-sam-translator` package ships. The file is found on disk and the translator is never
imported. A template expands as SAM expands it: each `{"Ref": "<Parameter>"}` in its
definition is replaced by the value the template author gave, extra parameters are ignored
(SAM ignores them too), and a missing one is an error. SAM then hands CloudFormation a
definition full of `Fn::Sub`; this module evaluates what it can, because the IAM rules
read strings.

Values CloudFormation only knows at deploy time are written as `${...}` placeholders, the
same form `Fn::Sub` uses, with no colon inside:

- pseudo-parameters lose their `AWS::` prefix: `${AWS::Partition}` becomes `${Partition}`,
  `${AWS::Region}` `${Region}`, `${AWS::AccountId}` `${AccountId}`. The IAM rules split an
  ARN into fields at its colons, so `arn:${AWS::Partition}:s3:::*` would be read as a
  malformed ARN: not recognised as "every bucket", and reported by LS-IAM-010 as matching
  no resource type. `arn:${Partition}:s3:::*` is read as every bucket, like `arn:aws:s3:::*`;
- a `Ref` to a logical ID or a template parameter becomes `${OrdersTable}`, a `Fn::GetAtt`
  `${Queue.Arn}`: the physical name or ARN CloudFormation will give. As a whole value
  (`SecretArn: !Ref DbSecret`) the placeholder stands for the whole ARN;
- `Fn::Sub`, `Fn::Join` and `Fn::Select` over literal lists are evaluated; any other
  intrinsic becomes a placeholder naming it (`${ImportValue(shared-orders)}`), and an
  `Unresolved` value a placeholder holding its expression (`${ssm:/orders/table}`).

The rules take a `${...}` as "one value, not known here": it matches like a wildcard when
they check that a resource fits an action (so they stay silent rather than guess), and it
never counts as every resource. A literal `*` stays `*`, so `S3CrudPolicy` with
`BucketName: '*'` grants `arn:${Partition}:s3:::*`, every bucket.

Both kinds of document are returned with the caller's `Origin`, and their pointers are
built as `policy_from_json` builds them: `origin.pointer` followed by the place in the
AWS-defined document. With an empty `origin.pointer` they are `/Statement/0/Action/3`;
with the pointer of the attachment (`/Resources/Fn/Properties/Policies/0/S3CrudPolicy`)
each attachment's statements have pointers of their own, which a position lookup that
falls back to the nearest existing ancestor locates at the attachment. The caller's
origin decides.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any

from lambdashield.loaders.policies import policy_from_json
from lambdashield.model import Origin, PolicyDocument, Unresolved

__all__ = [
    "PolicyTemplateError",
    "is_aws_managed_arn",
    "managed_policy",
    "managed_policy_names",
    "sam_policy_template",
    "sam_policy_template_names",
]

_MANAGED_DATA = Path(__file__).with_name("data") / "aws_managed_policies.json"

_MANAGED_ARN = re.compile(
    r"arn:(?:aws(?:-[a-z]+)*|\$\{[^}]*\}):iam::aws:policy(?P<path>/(?:[^/]+/)*)(?P<name>[^/]+)"
)
"""`arn:<partition>:iam::aws:policy/<path>/<name>`, the partition literal (`aws`, `aws-cn`,
`aws-us-gov`, ...) or a placeholder left by the caller (`${AWS::Partition}`)."""


class PolicyTemplateError(ValueError):
    """A SAM policy template that cannot be expanded: unknown name, parameters missing or
    of the wrong shape. Callers turn it into an error located at the template's entry."""

    def __init__(self, template: str, message: str, parameter: str | None = None) -> None:
        self.template = template
        self.parameter = parameter
        """The parameter whose value is wrong; `None` when the problem is the template's
        name or its parameters as a whole."""
        super().__init__(message)


# --- AWS managed policies ----------------------------------------------------------------


def is_aws_managed_arn(text: str) -> bool:
    """Whether `text` is an AWS managed policy ARN (`arn:aws:iam::aws:policy/...`) in any
    partition, known to lambdashield or not."""
    return _MANAGED_ARN.fullmatch(text.strip()) is not None


def managed_policy(name_or_arn: str, origin: Origin) -> PolicyDocument | None:
    """The AWS managed policy named by a bare name (`AWSLambdaBasicExecutionRole`) or an
    ARN in any partition, or `None` when lambdashield does not know it."""
    text = name_or_arn.strip()
    match = _MANAGED_ARN.fullmatch(text)
    if match is not None:
        name, path = match["name"], match["path"]
    elif text and ":" not in text and "/" not in text:
        name, path = text, None
    else:
        return None
    entry = _managed_policies().get(name)
    if entry is None or (path is not None and path != entry[0]):
        return None
    return replace(_managed_document(name, origin.pointer), origin=origin)


def managed_policy_names() -> tuple[str, ...]:
    """Every AWS managed policy lambdashield knows, sorted."""
    return tuple(sorted(_managed_policies()))


@functools.cache
def _managed_policies() -> dict[str, tuple[str, Any]]:
    """Policy name -> (IAM path, document), read once on first use."""
    raw = json.loads(_MANAGED_DATA.read_text(encoding="utf-8"))
    return {name: (entry["path"], entry["document"]) for name, entry in raw["policies"].items()}


@functools.lru_cache(maxsize=128)
def _managed_document(name: str, pointer: str) -> PolicyDocument:
    """Parsed once per policy and pointer; callers that share a pointer share the parse.
    Bounded: `ReadOnlyAccess` alone is thousands of items."""
    path, document = _managed_policies()[name]
    origin = Origin(
        path=PurePosixPath(f"aws-managed{path}{name}"),
        resource=name,
        resource_type="aws-managed-policy",
        pointer=pointer,
    )
    return policy_from_json(document, origin)


# --- SAM policy templates ----------------------------------------------------------------


def sam_policy_template(
    name: str, parameters: Mapping[str, object], origin: Origin
) -> PolicyDocument:
    """Expand one SAM policy template (`DynamoDBCrudPolicy`, `{"TableName": "Orders"}`).

    Parameter values may be strings, numbers, `Unresolved` or CloudFormation intrinsics in
    long form (`{"Ref": "OrdersTable"}`). Raises `PolicyTemplateError` for an unknown
    template, a parameters value that is not a mapping, a missing parameter, or a value
    that is none of those.
    """
    template = _sam_templates().get(name)
    if template is None:
        raise PolicyTemplateError(name, _unknown_template(name))
    if not isinstance(parameters, Mapping):
        raise PolicyTemplateError(
            name,
            f"SAM policy template {name!r} takes a mapping of parameter values, "
            f"not {_kind(parameters)}",
        )
    declared: Mapping[str, Any] = template.get("Parameters") or {}
    missing = [p for p in declared if p not in parameters]
    if missing:
        listed = ", ".join(repr(p) for p in missing)
        plural = "s" if len(missing) > 1 else ""
        raise PolicyTemplateError(
            name, f"SAM policy template {name!r} is missing the parameter{plural} {listed}"
        )
    values = {p: _checked(name, p, parameters[p]) for p in declared}
    return policy_from_json(_render(_substitute(template["Definition"], values)), origin)


def sam_policy_template_names() -> tuple[str, ...]:
    """Every policy template the installed `aws-sam-translator` defines, sorted."""
    return tuple(sorted(_sam_templates()))


@functools.cache
def _sam_templates() -> dict[str, Any]:
    """The `Templates` of `samtranslator/policy_templates_data/policy_templates.json`,
    located without importing the translator (and its pydantic models)."""
    spec = importlib.util.find_spec("samtranslator")
    folders = list(spec.submodule_search_locations or ()) if spec is not None else []
    for folder in folders:
        path = Path(folder) / "policy_templates_data" / "policy_templates.json"
        if path.is_file():
            templates: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))["Templates"]
            return templates
    raise PolicyTemplateError(
        "", "SAM policy templates cannot be expanded: the aws-sam-translator package is missing"
    )


def _unknown_template(name: str) -> str:
    import difflib  # only on this error path

    close = difflib.get_close_matches(name, list(_sam_templates()), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown SAM policy template {name!r}{hint}"


def _kind(value: object) -> str:
    if value is None:
        return "an empty value"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return f"the {type(value).__name__} {value!r}"


def _checked(template: str, parameter: str, value: object) -> object:
    """The value, if CloudFormation could use it as a parameter of a policy template."""
    if isinstance(value, (str, int, float, Unresolved)) or _is_intrinsic(value):
        return value
    raise PolicyTemplateError(
        template,
        f"parameter {parameter!r} of SAM policy template {template!r} must be a string or "
        f"an intrinsic function such as !Ref, not {_kind(value)}",
        parameter,
    )


def _is_intrinsic(value: object) -> bool:
    if not isinstance(value, Mapping) or len(value) != 1:
        return False
    (key,) = value
    return isinstance(key, str) and (key == "Ref" or key.startswith("Fn::"))


def _substitute(node: Any, values: Mapping[str, object]) -> Any:
    """SAM's own step: every `{"Ref": "<Parameter>"}` replaced by the parameter's value.

    The values are inserted as they are and not walked again, so a value that refers to a
    template parameter of the same name (`TableName: !Ref TableName`) stays a reference.
    """
    if isinstance(node, dict):
        if len(node) == 1 and isinstance(node.get("Ref"), str) and node["Ref"] in values:
            return values[node["Ref"]]
        return {key: _substitute(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [_substitute(item, values) for item in node]
    return node


def _render(node: Any) -> Any:
    """The definition as plain JSON: intrinsics and placeholders turned into strings."""
    if isinstance(node, Unresolved) or _is_intrinsic(node):
        return _text(node)
    if isinstance(node, dict):
        return {key: _render(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_render(item) for item in node]
    if isinstance(node, str):
        return _pseudo(node)
    return node


_PSEUDO = re.compile(r"\$\{AWS::([A-Za-z]+)\}")
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def _pseudo(text: str) -> str:
    """`${AWS::Region}` -> `${Region}`, in any string, so ARN fields split cleanly."""
    return _PSEUDO.sub(r"${\1}", text) if "${AWS::" in text else text


def _placeholder(text: str) -> str:
    """`${text}`, with braces inside made round so the placeholder stays one token."""
    text = text.strip()
    if text.startswith("${") and text.endswith("}"):
        text = text[2:-1]
    return "${" + text.replace("{", "(").replace("}", ")") + "}"


def _reference(name: str) -> str:
    """What `Ref name` or `${name}` stands for: a pseudo-parameter or a logical ID."""
    return _placeholder(name.removeprefix("AWS::"))


def _text(value: Any) -> str:
    """One value as the string CloudFormation would make of it, or a placeholder."""
    if isinstance(value, str):
        return _pseudo(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, Unresolved):
        return _placeholder(_pseudo(value.expression))
    if _is_intrinsic(value):
        ((function, argument),) = value.items()
        return _intrinsic(function, argument)
    return _placeholder("value")


def _intrinsic(function: str, argument: Any) -> str:
    if function == "Ref" and isinstance(argument, str):
        return _reference(argument)
    if function == "Fn::GetAtt":
        parts = argument.split(".", 1) if isinstance(argument, str) else argument
        if isinstance(parts, list) and len(parts) == 2 and all(isinstance(p, str) for p in parts):
            return _placeholder(".".join(parts))
    if function == "Fn::Sub":
        if isinstance(argument, str):
            return _sub(argument, {})
        if (
            isinstance(argument, list)
            and len(argument) == 2
            and isinstance(argument[0], str)
            and isinstance(argument[1], Mapping)
        ):
            return _sub(argument[0], argument[1])
    if function == "Fn::Join" and isinstance(argument, list) and len(argument) == 2:
        delimiter, items = argument
        if isinstance(delimiter, str) and isinstance(items, list):
            return delimiter.join(_text(item) for item in items)
    if function == "Fn::Select" and isinstance(argument, list) and len(argument) == 2:
        index, items = argument
        if isinstance(index, str) and index.isdigit():
            index = int(index)
        if isinstance(index, int) and isinstance(items, list) and 0 <= index < len(items):
            return _text(items[index])
    return _opaque(function, argument)


def _opaque(function: str, argument: Any) -> str:
    """A placeholder that names an intrinsic this module does not evaluate."""
    name = function.removeprefix("Fn::")
    if isinstance(argument, str):
        return _placeholder(f"{name}({argument})")
    if isinstance(argument, list) and all(isinstance(a, str) for a in argument):
        return _placeholder(f"{name}({','.join(argument)})")
    return _placeholder(name)


def _sub(template: str, variables: Mapping[str, Any]) -> str:
    """`Fn::Sub`: variables from the map, `${!x}` as the literal `${x}`, and every other
    `${x}` (a pseudo-parameter, a logical ID, `Resource.Attribute`) as a placeholder."""

    def substitute(match: re.Match[str]) -> str:
        inner = match[1]
        if inner.startswith("!"):
            return "${" + inner[1:] + "}"
        name = inner.strip()
        if name in variables:
            return _text(variables[name])
        return _reference(name)

    return _SUB_VARIABLE.sub(substitute, template)
