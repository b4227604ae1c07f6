"""IAM policy documents: from parsed JSON (any source) into `PolicyDocument`.

`policy_from_json` accepts any JSON value and never raises: what IAM would reject becomes
a grammar error on the document, kept with its pointer, and the valid rest is analysed.
Templates (CloudFormation, Serverless, Terraform) call it with the pointer of the
embedded document, so every rule sees the same model whatever the source.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from lambdashield.errors import LoaderError
from lambdashield.loaders._json import JsonLines, escape_pointer, parse_json, read_text
from lambdashield.model import Effect, Item, Origin, PolicyDocument, Statement

__all__ = ["is_policy", "load_policy_file", "policy_from_json"]

VERSIONS = ("2012-10-17", "2008-10-17")
_TOP_KEYS = frozenset({"Version", "Id", "Statement"})
_PRINCIPALS = frozenset({"Principal", "NotPrincipal"})
_STATEMENT_KEYS = frozenset(
    {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal"}
    | {"NotPrincipal", "Condition"}
)


def is_policy(data: Any) -> bool:
    """Whether parsed JSON is meant as a policy document (it has a `Statement`)."""
    return isinstance(data, dict) and "Statement" in data


def load_policy_file(
    path: Path, display: PurePosixPath, *, max_bytes: int, resource: str | None = None
) -> PolicyDocument:
    """Read one standalone policy file; raises `LoaderError` when it is not a policy."""
    text = read_text(path, display, max_bytes)
    data = parse_json(text, display)
    if not is_policy(data):
        kind = type(data).__name__ if not isinstance(data, dict) else "object without Statement"
        raise LoaderError(display, f"not an IAM policy document (JSON {kind})", 1)
    origin = Origin(
        path=display,
        resource=resource or display.name,
        resource_type="policy",
        lines=JsonLines(text),
    )
    return policy_from_json(data, origin)


def policy_from_json(data: Any, origin: Origin) -> PolicyDocument:
    errors: list[Item] = []
    base = origin.pointer
    if not isinstance(data, dict):
        errors.append(Item("policy document must be a JSON object", base))
        return PolicyDocument(origin, None, (), tuple(errors))
    errors.extend(
        Item(f"unknown top-level key {key!r}", f"{base}/{escape_pointer(str(key))}")
        for key in data
        if key not in _TOP_KEYS
    )
    version = data.get("Version")
    if version is not None and version not in VERSIONS:
        errors.append(Item(f"Version must be one of {', '.join(VERSIONS)}", f"{base}/Version"))
    raw = data.get("Statement")
    if raw is None:
        errors.append(Item("policy has no Statement", base))
        listed: list[tuple[str, Any]] = []
    elif isinstance(raw, dict):
        listed = [(f"{base}/Statement", raw)]
    elif isinstance(raw, list):
        listed = [(f"{base}/Statement/{i}", s) for i, s in enumerate(raw)]
        if not raw:
            errors.append(Item("Statement list is empty", f"{base}/Statement"))
    else:
        errors.append(Item("Statement must be an object or a list", f"{base}/Statement"))
        listed = []
    statements = []
    seen_sids: set[str] = set()
    for index, (pointer, raw_statement) in enumerate(listed):
        statement = _statement(index, pointer, raw_statement, errors)
        if statement is None:
            continue
        if statement.sid is not None:
            if statement.sid in seen_sids:
                errors.append(Item(f"duplicate Sid {statement.sid!r}", f"{pointer}/Sid"))
            seen_sids.add(statement.sid)
        statements.append(statement)
    return PolicyDocument(
        origin=origin,
        version=version if isinstance(version, str) else None,
        statements=tuple(statements),
        grammar_errors=tuple(errors),
    )


def _statement(index: int, pointer: str, raw: Any, errors: list[Item]) -> Statement | None:
    if not isinstance(raw, dict):
        errors.append(Item("statement must be a JSON object", pointer))
        return None
    if not raw.keys() <= _STATEMENT_KEYS:
        errors.extend(
            Item(f"unknown statement key {key!r}", f"{pointer}/{escape_pointer(str(key))}")
            for key in raw
            if key not in _STATEMENT_KEYS
        )
    effect = None
    raw_effect = raw.get("Effect")
    if raw_effect == "Allow":
        effect = Effect.ALLOW
    elif raw_effect == "Deny":
        effect = Effect.DENY
    elif raw_effect is None:
        errors.append(Item("statement has no Effect", pointer))
    else:
        errors.append(
            Item(f"Effect must be 'Allow' or 'Deny', not {raw_effect!r}", f"{pointer}/Effect")
        )
    sid = raw.get("Sid")
    if sid is not None and not isinstance(sid, str):
        errors.append(Item("Sid must be a string", f"{pointer}/Sid"))
        sid = None
    actions = _strings(raw, "Action", pointer, errors, action=True)
    not_actions = _strings(raw, "NotAction", pointer, errors, action=True)
    _exactly_one(raw, "Action", "NotAction", pointer, errors)
    resources = _strings(raw, "Resource", pointer, errors)
    not_resources = _strings(raw, "NotResource", pointer, errors)
    _exactly_one(raw, "Resource", "NotResource", pointer, errors)
    return Statement(
        index=index,
        pointer=pointer,
        sid=sid,
        effect=effect,
        actions=actions,
        not_actions=not_actions,
        resources=resources,
        not_resources=not_resources,
        principals=tuple(_principals(raw, pointer, errors)) if _PRINCIPALS & raw.keys() else (),
        conditions=tuple(_conditions(raw, pointer, errors)) if "Condition" in raw else (),
    )


def _exactly_one(raw: dict[str, Any], a: str, b: str, pointer: str, errors: list[Item]) -> None:
    if a in raw and b in raw:
        errors.append(Item(f"statement has both {a} and {b}", f"{pointer}/{b}"))
    elif a not in raw and b not in raw:
        errors.append(Item(f"statement has neither {a} nor {b}", pointer))


def _strings(
    raw: dict[str, Any], key: str, pointer: str, errors: list[Item], *, action: bool = False
) -> tuple[Item, ...]:
    value = raw.get(key)
    if value is None:
        if key in raw:
            errors.append(Item(f"{key} is null", f"{pointer}/{key}"))
        return ()
    here = f"{pointer}/{key}"
    pairs: list[tuple[str, Any]]
    if isinstance(value, str):
        pairs = [(here, value)]
    elif isinstance(value, list):
        if not value:
            errors.append(Item(f"{key} list is empty", here))
        pairs = [(f"{here}/{i}", v) for i, v in enumerate(value)]
    else:
        errors.append(Item(f"{key} must be a string or a list of strings", here))
        return ()
    items = []
    for item_pointer, item in pairs:
        if not isinstance(item, str):
            errors.append(Item(f"{key} entries must be strings", item_pointer))
        elif not item.strip():
            errors.append(Item(f"empty {key} entry", item_pointer))
        else:
            if action and item != "*" and ":" not in item:
                errors.append(Item(f"{item!r} is not of the form service:action", item_pointer))
            items.append(_item((item, item_pointer)))
    return tuple(items)


_item = functools.partial(tuple.__new__, Item)
"""`Item(value, pointer)` from a pair, without the Python-level `__new__` a named tuple
has: a policy corpus builds tens of thousands of them."""


def _principals(
    raw: dict[str, Any], pointer: str, errors: list[Item]
) -> Iterator[tuple[str, Item]]:
    for key in ("Principal", "NotPrincipal"):
        value = raw.get(key)
        if value is None:
            continue
        here = f"{pointer}/{key}"
        if value == "*":
            yield ("*", Item("*", here))
        elif isinstance(value, dict):
            for kind, members in value.items():
                kind_pointer = f"{here}/{escape_pointer(str(kind))}"
                listed = members if isinstance(members, list) else [members]
                for i, member in enumerate(listed):
                    at = f"{kind_pointer}/{i}" if isinstance(members, list) else kind_pointer
                    if isinstance(member, str):
                        yield (str(kind), Item(member, at))
                    else:
                        errors.append(Item(f"{key} entries must be strings", at))
        else:
            errors.append(Item(f"{key} must be '*' or an object", here))


def _conditions(
    raw: dict[str, Any], pointer: str, errors: list[Item]
) -> Iterator[tuple[str, str, tuple[str, ...]]]:
    value = raw.get("Condition")
    if value is None:
        return
    here = f"{pointer}/Condition"
    if not isinstance(value, dict):
        errors.append(Item("Condition must be an object", here))
        return
    for operator, block in value.items():
        at = f"{here}/{escape_pointer(str(operator))}"
        if not isinstance(block, dict):
            errors.append(Item(f"condition operator {operator!r} must map keys to values", at))
            continue
        for key, values in block.items():
            listed = values if isinstance(values, list) else [values]
            if not all(isinstance(v, (str, bool, int, float)) for v in listed):
                errors.append(
                    Item(f"condition {key!r} values must be scalars", f"{at}/{escape_pointer(key)}")
                )
                continue
            texts = tuple(str(v).lower() if isinstance(v, bool) else str(v) for v in listed)
            yield (str(operator), str(key), texts)
