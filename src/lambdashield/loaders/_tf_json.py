"""Terraform's JSON syntax (`*.tf.json`, such as the `cdk.tf.json` of `cdktf synth`) into
the blocks and expressions `_hcl.py` builds from `*.tf` files, so the loader reads both
the same way and a module folder may mix them.

The file is one JSON object whose keys are block types; `resource` and `data` take two
levels of labels, `variable`, `output`, `module` and `provider` one, and at every level an
array of objects may stand for several. `locals` maps names straight to expressions. A
`"//"` property of a block body (or of the root) is a comment and is dropped.

Values follow Terraform's expression mapping: numbers, booleans, null, arrays and objects
are literal values; every string is a string template, so `"${aws_iam_role.fn.arn}"` is
the reference itself, `"arn:aws:s3:::${var.bucket}/*"` an interpolation and `"$${x}"` the
text `${x}`. The templates are parsed by tree-sitter's HCL grammar, all of a file's in one
pass (`parse_templates`), never by a second expression parser. Where Terraform takes a
value literally (a variable's `default`, a module's `source`, `depends_on`), so do we.

Whether a property of a body is an attribute or a nested block depends on the provider's
schema, which is not at hand (`environment` of `aws_lambda_function` is a block, `tags` an
attribute, both written as objects). So a property whose value is an object, or an array
of objects, is both: an attribute holding that map or list, and nested block(s) of that
type. The loader asks for blocks by name (`view.blocks("environment")`) and attributes by
name (`view.get("role")`), so each question finds what Terraform would have read, and no
guess can drop a nested block or an attribute.

Pointers are those of the `*.tf` reader (a repeatable block is indexed whether written as
one object or an array of one), so a finding's fingerprint does not depend on which
syntax holds it; each block keeps its JSON pointer, and lines are found in the JSON text
on demand (`JsonLines`), only for the pointers a finding needs. `"dynamic": {"statement":
{"for_each": ..., "content": {...}}}` is a `dynamic` block labelled `statement` holding a
`content` block, as in HCL, so the loader expands both syntaxes the same way; the blocks
it generates take their lines from that `content` object (`HclFile.alias`), and the
instances of a resource with `count` or `for_each` from the resource's object.

Terraform refuses what is not its JSON syntax; here a file that is not a JSON object (a
plan saved as `*.tf.json` included) is one located error, and an unknown block type, a
body that is not an object or a broken template is a located error while the rest of the
file is read. JSON has no comments, so these files carry no inline suppressions.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from lambdashield.loaders._hcl import (
    MAX_DEPTH,
    REPEATABLE,
    Block,
    Call,
    HclFile,
    HclSyntaxError,
    Opaque,
    parse_templates,
    rebuilt,
    subexpressions,
)
from lambdashield.loaders._json import JsonLines, escape_pointer, parse_json

__all__ = ["TfJsonFile", "is_tf_json", "parse_tf_json"]

SUFFIX = ".tf.json"

# Top-level block types and how many labels each takes. Only the first six are read; the
# others are valid Terraform that says nothing about what is deployed.
_LABELS = {"resource": 2, "data": 2, "variable": 1, "output": 1, "module": 1, "locals": 0}
_ACCEPTED = frozenset({"provider", "terraform", "moved", "import", "removed", "check", "ephemeral"})
# Nested block types that take a label: `dynamic "statement" {...}`.
_NESTED_LABELS = {"dynamic": 1, "provisioner": 1}
# Arguments Terraform reads literally, not as templates (its JSON syntax's exceptions).
_LITERAL = {
    "resource": frozenset({"provider", "depends_on", "lifecycle"}),
    "data": frozenset({"provider", "depends_on", "lifecycle"}),
    "module": frozenset({"source", "version", "providers", "depends_on"}),
    "output": frozenset({"description", "sensitive", "depends_on"}),
}
_COMMENT = "//"


def is_tf_json(name: str) -> bool:
    return name.lower().endswith(SUFFIX)


@dataclass(slots=True)
class TfJsonFile(HclFile):
    """An `HclFile` whose lines are found in its JSON text."""

    json_pointers: dict[str, str] = field(default_factory=dict)
    """Pointer of a block (or local value) -> where its body is in the JSON."""
    _reader: JsonLines | None = None

    def lines(self, pointer: str) -> tuple[int | None, int | None]:
        """The lines of a pointer, or of its nearest ancestor the JSON has: below a block,
        pointers are the same in both syntaxes."""
        if self._reader is None:
            self._reader = JsonLines(self.text)
        if self.aliases:
            pointer = self.source(pointer)
        at = pointer
        while True:
            base = self.json_pointers.get(at)
            if base is not None:
                rest = pointer[len(at) :]
                while True:
                    found = self._reader(base + rest)
                    if found[0] is not None or not rest:
                        return found
                    rest = rest.rsplit("/", 1)[0]
            if not at:
                return (None, None)
            at = at.rsplit("/", 1)[0]


def parse_tf_json(text: str, path: PurePosixPath) -> tuple[TfJsonFile, list[HclSyntaxError]]:
    """Read one file. Raises `LoaderError` when it is not JSON and `HclSyntaxError` when it
    is not a Terraform configuration at all; otherwise returns the file and the problems
    in it (an unknown block type, a body that is not an object, a broken template), each
    with its line, the rest read."""
    data = parse_json(text, path)
    if not isinstance(data, dict):
        raise HclSyntaxError(
            f"a Terraform JSON configuration is one JSON object, not {_json_type(data)}",
            _first(text),
        )
    if "format_version" in data and ("planned_values" in data or "resource_changes" in data):
        raise HclSyntaxError(
            "this is a Terraform plan (`terraform show -json`), not configuration: name it "
            "`*.json` without `.tf` to scan it as a plan",
            _first(text),
        )
    reader = _Reader(text, path, _templates(data, path))
    try:
        body = reader.root(data)
    except (_TooDeep, RecursionError):
        raise HclSyntaxError("JSON is nested too deeply to analyse", None) from None
    file = TfJsonFile(path, text, body, json_pointers=reader.json_pointers, _reader=reader.lines)
    return file, reader.problems


def _first(text: str) -> int:
    """Line of the first character that is not blank: where the value starts."""
    stripped = text.lstrip("\ufeff \t\r\n")
    return text.count("\n", 0, len(text) - len(stripped)) + 1


class _TooDeep(Exception):
    pass


def _templates(data: Any, path: PurePosixPath) -> dict[str, Any]:
    """Every string that holds `${` or `%{`, parsed: also those read literally later,
    which costs a little parsing and keeps this walk free of the rules above."""
    found: dict[str, None] = {}
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise HclSyntaxError("JSON is nested too deeply to analyse", None)
        if isinstance(value, str):
            if "${" in value or "%{" in value:
                found[value] = None
        elif isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    texts = list(found)
    return dict(zip(texts, parse_templates(texts, path), strict=True))


@dataclass(slots=True)
class _Body:
    """One block body in both forms: as written, and converted to expressions."""

    raw: dict[str, Any]
    converted: dict[str, Any]
    json_pointer: str
    labels: tuple[str, ...] = ()


class _Reader:
    def __init__(self, text: str, path: PurePosixPath, templates: dict[str, Any]) -> None:
        self.path = path
        self.templates = templates
        self.lines = JsonLines(text)
        self.json_pointers: dict[str, str] = {"": ""}
        self.problems: list[HclSyntaxError] = []
        self._relocated: dict[tuple[str, int], Any] = {}

    def problem(self, message: str, json_pointer: str) -> None:
        self.problems.append(HclSyntaxError(message, self.lines(json_pointer)[0]))

    # --- blocks ------------------------------------------------------------------------

    def root(self, data: dict[str, Any]) -> Block:
        body = Block("", (), "", 1)
        for kind, value in data.items():
            at = f"/{escape_pointer(kind)}"
            if kind == _COMMENT or kind in _ACCEPTED:
                continue
            if kind not in _LABELS:
                self.problem(f"unsupported block type `{kind}`: Terraform rejects the file", at)
            elif kind == "locals":
                self.locals(value, body, at)
            else:
                for raw, json_pointer, labels in self.top_bodies(kind, value, at):
                    body.blocks.append(self.top_block(kind, labels, raw, json_pointer))
        return body

    def top_bodies(
        self, kind: str, value: Any, at: str, labels: tuple[str, ...] = ()
    ) -> Iterator[tuple[dict[str, Any], str, tuple[str, ...]]]:
        """Each body under the label levels of a top-level block type, where it is, and its
        labels; anything else is a problem."""
        if isinstance(value, list):
            for i, item in enumerate(value):
                yield from self.top_bodies(kind, item, f"{at}/{i}", labels)
        elif not isinstance(value, dict):
            named = " ".join((kind, *labels))
            self.problem(f"`{named}`: expected a JSON object, found {_json_type(value)}", at)
        elif len(labels) == _LABELS[kind]:
            yield value, at, labels
        else:
            for key, item in value.items():
                if key != _COMMENT:
                    yield from self.top_bodies(
                        kind, item, f"{at}/{escape_pointer(key)}", (*labels, key)
                    )

    def top_block(
        self, kind: str, labels: tuple[str, ...], raw: dict[str, Any], json_pointer: str
    ) -> Block:
        pointer = "/" + "/".join(escape_pointer(t) for t in (kind, *labels))
        self.json_pointers[pointer] = json_pointer
        block = Block(kind, labels, pointer, 0)
        literal = _LITERAL.get(kind, frozenset())
        converted: dict[str, Any] = {}
        for key, value in raw.items():
            if key == _COMMENT:
                continue
            if (kind == "variable" and key != "validation") or key in literal:
                converted[key] = value
            else:
                converted[key] = self.expr(value, f"{json_pointer}/{escape_pointer(key)}", 0)
        self.fill(block, _Body(raw, converted, json_pointer), 0)
        return block

    def fill(self, block: Block, body: _Body, depth: int) -> None:
        """Attributes and nested blocks of `block` from its body."""
        if depth > MAX_DEPTH:
            raise _TooDeep
        for key, value in body.raw.items():
            if key == _COMMENT:
                continue
            converted = body.converted[key]
            block.attributes[key] = converted
            if isinstance(value, dict) or (
                isinstance(value, list) and value and all(isinstance(v, dict) for v in value)
            ):
                at = f"{body.json_pointer}/{escape_pointer(key)}"
                nested = list(_nested(value, converted, at, _NESTED_LABELS.get(key, 0)))
                indexed = key in REPEATABLE or len(nested) > 1
                for i, inner in enumerate(nested):
                    pointer = f"{block.pointer}/{escape_pointer(key)}"
                    pointer += "".join(f"/{escape_pointer(label)}" for label in inner.labels)
                    pointer += f"/{i}" if indexed else ""
                    self.json_pointers[pointer] = inner.json_pointer
                    child = Block(key, inner.labels, pointer, 0)
                    self.fill(child, inner, depth + 1)
                    block.blocks.append(child)

    def locals(self, value: Any, into: Block, at: str) -> None:
        for raw, json_pointer, _ in self.top_bodies("locals", value, at):
            block = Block("locals", (), "/locals", 0)
            self.json_pointers.setdefault("/locals", json_pointer)
            for name, item in raw.items():
                if name == _COMMENT:
                    continue
                where = f"{json_pointer}/{escape_pointer(name)}"
                self.json_pointers[f"/locals/{escape_pointer(name)}"] = where
                block.attributes[name] = self.expr(item, where, 0)
            into.blocks.append(block)

    # --- expressions -------------------------------------------------------------------

    def expr(self, value: Any, json_pointer: str, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise _TooDeep
        if isinstance(value, str):
            return self.template(value, json_pointer) if value in self.templates else value
        if isinstance(value, list):
            return [
                self.expr(item, f"{json_pointer}/{i}", depth + 1) for i, item in enumerate(value)
            ]
        if isinstance(value, dict):
            return {
                key: self.expr(item, f"{json_pointer}/{escape_pointer(key)}", depth + 1)
                for key, item in value.items()
            }
        return value

    def template(self, text: str, json_pointer: str) -> Any:
        found = self.templates[text]
        if isinstance(found, HclSyntaxError):
            self.problem(found.message, json_pointer)
            return Opaque(text)
        if not _has_call(found):
            return found
        # A call says where it is written (for errors about what it reads): this string.
        line = self.lines(json_pointer)[0] or 0
        key = (text, line)
        if key not in self._relocated:
            self._relocated[key] = _at_line(found, line)
        return self._relocated[key]


def _nested(
    value: Any, converted: Any, at: str, labels: int, named: tuple[str, ...] = ()
) -> Iterator[_Body]:
    """The bodies of nested blocks written as `value`; silent about anything else, which
    is then only an attribute."""
    if isinstance(value, list):
        for i, item in enumerate(value):
            yield from _nested(item, converted[i], f"{at}/{i}", labels, named)
    elif isinstance(value, dict):
        if len(named) == labels:
            yield _Body(value, converted, at, named)
            return
        for key, item in value.items():
            if key != _COMMENT:
                yield from _nested(
                    item, converted[key], f"{at}/{escape_pointer(key)}", labels, (*named, key)
                )


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"


def _has_call(node: Any) -> bool:
    return isinstance(node, Call) or any(_has_call(part) for part in subexpressions(node))


def _at_line(node: Any, line: int) -> Any:
    return rebuilt(node, lambda n: dataclasses.replace(n, line=line) if isinstance(n, Call) else n)
