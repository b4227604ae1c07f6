"""HCL (Terraform) text into plain values, with a line for every pointer.

tree-sitter's HCL grammar builds the syntax tree in C; one walk turns it into blocks of
attributes whose values are Python literals (`str`, `int`, `float`, `bool`, `None`, `list`,
`dict`) or, where evaluation needs a context, small expression objects (`Ref`, `Call`,
`Template`, `For`, `Conditional`, `Operation`, `Splat`, `Traversal`, and `Opaque` for what
the loader does not evaluate: template directives). Nothing is evaluated here.

The expression objects are frozen dataclasses with slots, never `NamedTuple`s: a union of
many of those makes mypy hang.

Pointers follow Terraform's JSON syntax: `/resource/aws_lambda_function/orders/runtime`,
`/variable/region/default`, `/locals/prefix`. A nested block is `/<type>` when it is
single (`/environment/variables/DB_PASSWORD`) and `/<type>/<n>` when its type can repeat
(`/statement/0/actions/1`), so a pointer does not change when a sibling is added.

A block the loader generates has no text of its own: one made by a `dynamic` block is
written `<content pointer>/<key>` (`/dynamic/statement/0/content/admin`), an instance of a
resource with `count` or `for_each` `<resource pointer>/<key>`
(`/resource/aws_lambda_function/this/orders`), and `HclFile.alias` makes every pointer
below it take its lines from the block it was made from.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from tree_sitter import Language, Node, Parser

from lambdashield.loaders._json import JsonLines, escape_pointer

__all__ = [
    "EXPRESSIONS",
    "Block",
    "Call",
    "Conditional",
    "For",
    "HclFile",
    "HclSyntaxError",
    "Opaque",
    "Operation",
    "Ref",
    "Splat",
    "Template",
    "Traversal",
    "parse_hcl",
    "parse_templates",
    "rebuilt",
    "subexpressions",
]

MAX_DEPTH = 128
"""Nesting of expressions and blocks beyond which a file is refused, not recursed into."""

# Nested block types Terraform allows more than once: always indexed.
REPEATABLE = frozenset(
    {"statement", "principals", "not_principals", "condition", "inline_policy"}
    | {"lambda_function", "queue", "topic", "grant", "rule", "filter", "ingress", "egress"}
    | {"source_access_configuration", "dynamic", "setting", "tag", "cors_rule"}
)
# Single-argument functions whose argument keeps the pointer of the call: a policy written
# as `policy = jsonencode({Statement = [...]})` has its statements at `/policy/Statement/0`.
TRANSPARENT_CALLS = frozenset({"jsonencode", "yamlencode", "tolist", "toset", "tomap"})


class HclSyntaxError(Exception):
    def __init__(self, message: str, line: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass(frozen=True, slots=True)
class Ref:
    """A traversal: `var.x`, `aws_iam_role.lambda.arn`, `local.m["k"]`, `x[0].y`,
    `aws_iam_role.this[each.key].arn`."""

    parts: tuple[Any, ...]
    """The name, then a `str` for each attribute or string key, an `int` for each number
    index, and an expression (`Ref`, `Template`, `Call`) for an index that is not written
    literally, which only evaluation can turn into a key."""
    text: str


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[Any, ...]
    text: str
    expand: bool = False
    """The last argument is followed by `...`."""
    path: PurePosixPath | None = None
    line: int | None = None
    """Where the call is written, for errors about what it asks (`file()` outside the root)."""


@dataclass(frozen=True, slots=True)
class Template:
    """A string with interpolations: literal `str` parts and expressions, in order."""

    parts: tuple[Any, ...]
    text: str
    line: int = 0
    """For a heredoc: the line before its first content line (0 for a quoted string)."""


@dataclass(frozen=True, slots=True)
class For:
    """`[for i, x in collection : value if condition]`, or `{for k, v in collection : key
    => value if condition}` (`...` after the value: each key's values in a list)."""

    names: tuple[str, ...]
    """The iterator names: `(value,)` or `(key, value)`, the key a list's index."""
    collection: Any
    key: Any
    """The key expression of the map form (`None` in the list form)."""
    value: Any
    condition: Any
    """The `if` expression; `True` when there is none."""
    text: str
    mapping: bool = False
    grouped: bool = False


@dataclass(frozen=True, slots=True)
class Conditional:
    """`condition ? true : false`."""

    condition: Any
    true: Any
    false: Any
    text: str


@dataclass(frozen=True, slots=True)
class Operation:
    """`a == b`, `!a`, `-a`, `a && b`, `a + b`, ...: the operator as written, then one
    operand (`!`, unary `-`) or two."""

    operator: str
    operands: tuple[Any, ...]
    text: str


@dataclass(frozen=True, slots=True)
class Splat:
    """`source[*].a[0]` or `source.*.a`: `steps` applied to each element of `source`, into
    a list (a `null` source has no element, any other value that is not a list is one).

    A `[*]` writes every later step into the splat: `x[*].a[*].b` is a splat of `x` whose
    steps are `"a"` and a splat of the element (`source` is `None`) whose step is `"b"`.
    A `.*` takes only the attribute names after it; an index that follows applies to the
    list it makes (a `Traversal` of the splat)."""

    source: Any
    steps: tuple[Any, ...]
    """As `Ref.parts` after its name; a `Splat` with no source for a splat of the element."""
    text: str


@dataclass(frozen=True, slots=True)
class Traversal:
    """Attributes and indexes of an expression that is not a name: `values(m)[0]`,
    `[for x in l : x][0]`, `(x.*.a)[0]`."""

    source: Any
    steps: tuple[Any, ...]
    """As `Ref.parts` after its name."""
    text: str


@dataclass(frozen=True, slots=True)
class Opaque:
    """An expression the loader does not evaluate (template directives): kept as written."""

    text: str


EXPRESSIONS = (Ref, Template, Call, For, Conditional, Operation, Splat, Traversal)
"""The expression objects evaluation reads (`Opaque` is not one)."""


def subexpressions(node: Any) -> tuple[Any, ...]:
    """The expressions (and plain values) directly inside an expression, in the order
    written: a walk over these reaches every reference and call."""
    if isinstance(node, Template):
        return node.parts
    if isinstance(node, Ref):
        return tuple(p for p in node.parts[1:] if not isinstance(p, (str, int)))
    if isinstance(node, Call):
        return node.args
    if isinstance(node, For):
        return (node.collection, node.key, node.value, node.condition)
    if isinstance(node, Conditional):
        return (node.condition, node.true, node.false)
    if isinstance(node, Operation):
        return node.operands
    if isinstance(node, (Splat, Traversal)):
        steps = tuple(p for p in node.steps if not isinstance(p, (str, int)))
        return steps if node.source is None else (node.source, *steps)
    if isinstance(node, list):
        return tuple(node)
    if isinstance(node, dict):
        return tuple(node.values())
    return ()


def rebuilt(
    node: Any, change: Callable[[Any], Any], keep: Callable[[For], bool] | None = None
) -> Any:
    """An expression with `change` applied to each of its nodes, parts first: the parts of
    a template, the arguments of a call, the items of a list and the values of a map are
    rebuilt before `change` sees the node that holds them. The body of a `for` that `keep`
    accepts (one whose iterator hides a name `change` replaces) is left as written; its
    collection is not inside that scope, and is rebuilt."""
    if isinstance(node, Template):
        node = dataclasses.replace(node, parts=tuple(rebuilt(p, change, keep) for p in node.parts))
    elif isinstance(node, Ref):
        if not all(isinstance(p, (str, int)) for p in node.parts):
            parts = tuple(
                p if isinstance(p, (str, int)) else rebuilt(p, change, keep) for p in node.parts
            )
            node = dataclasses.replace(node, parts=parts)
    elif isinstance(node, Call):
        node = dataclasses.replace(node, args=tuple(rebuilt(a, change, keep) for a in node.args))
    elif isinstance(node, list):
        node = [rebuilt(item, change, keep) for item in node]
    elif isinstance(node, dict):
        node = {key: rebuilt(value, change, keep) for key, value in node.items()}
    elif isinstance(node, For):
        collection = rebuilt(node.collection, change, keep)
        if keep is not None and keep(node):
            node = dataclasses.replace(node, collection=collection)
        else:
            node = dataclasses.replace(
                node,
                collection=collection,
                key=rebuilt(node.key, change, keep),
                value=rebuilt(node.value, change, keep),
                condition=rebuilt(node.condition, change, keep),
            )
    elif isinstance(node, Conditional):
        node = dataclasses.replace(
            node,
            condition=rebuilt(node.condition, change, keep),
            true=rebuilt(node.true, change, keep),
            false=rebuilt(node.false, change, keep),
        )
    elif isinstance(node, Operation):
        node = dataclasses.replace(
            node, operands=tuple(rebuilt(o, change, keep) for o in node.operands)
        )
    elif isinstance(node, (Splat, Traversal)):
        node = dataclasses.replace(
            node,
            source=None if node.source is None else rebuilt(node.source, change, keep),
            steps=tuple(
                p if isinstance(p, (str, int)) else rebuilt(p, change, keep) for p in node.steps
            ),
        )
    return change(node)


@dataclass(slots=True)
class Block:
    type: str
    labels: tuple[str, ...]
    pointer: str
    line: int
    """0 in a `*.tf.json` file, whose lines are found when asked (`HclFile.lines`)."""
    attributes: dict[str, Any] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)

    def children(self, kind: str) -> list[Block]:
        return [b for b in self.blocks if b.type == kind]


@dataclass(slots=True)
class HclFile:
    path: PurePosixPath
    text: str
    body: Block
    spans: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Pointer -> (first line, last line), 1-based."""
    embedded: dict[str, tuple[str, int]] = field(default_factory=dict)
    """Pointer of a heredoc without interpolations -> (its text, line before its first)."""
    aliases: dict[str, str] = field(default_factory=dict)
    """Pointer of a generated block -> pointer of the block whose text it was made from."""
    _json_lines: dict[str, JsonLines] = field(default_factory=dict)

    def alias(self, pointer: str, target: str) -> None:
        """Lines of `pointer` and of everything below it are `target`'s (and below)."""
        self.aliases[pointer] = target

    def source(self, pointer: str) -> str:
        """The pointer, in the text, of what a generated pointer was made from (the pointer
        itself when nothing above it is generated)."""
        at = pointer
        while True:
            target = self.aliases.get(at)
            if target is not None:
                pointer = target + pointer[len(at) :]
                # Below the target the pointer is the source's own: a generated key there
                # would only spell a sibling's name (the key `actions` of `content/actions`).
                at = target
                continue
            if not at:
                return pointer
            at = at.rsplit("/", 1)[0]

    def lines(self, pointer: str) -> tuple[int | None, int | None]:
        """The lines of a pointer, or of its nearest ancestor that has them. Inside a JSON
        heredoc the JSON's own structure gives the lines."""
        if self.aliases:
            # A heredoc with interpolations is rendered for each generated block, and kept
            # at that block's pointer: look there before going back to the source.
            at = pointer
            while at not in self.aliases:
                found = self._rendered(at, pointer)
                if found is not None:
                    return found
                if not at:
                    break
                at = at.rsplit("/", 1)[0]
            else:
                pointer = self.source(pointer)
        at = pointer
        while True:
            found = self._rendered(at, pointer)
            if found is not None:
                return found
            found = self.spans.get(at)
            if found is not None:
                return found
            if not at:
                return (None, None)
            at = at.rsplit("/", 1)[0]

    def _rendered(self, at: str, pointer: str) -> tuple[int, int] | None:
        """Lines of `pointer` inside the JSON heredoc at `at`, if there is one there."""
        if at not in self.embedded or at == pointer:
            return None
        text, offset = self.embedded[at]
        reader = self._json_lines.get(at)
        if reader is None:
            reader = self._json_lines[at] = JsonLines(text)
        start, end = reader(pointer[len(at) :])
        if start is not None and end is not None:
            return (start + offset, end + offset)
        return None


_PARSER: Parser | None = None


def _parser() -> Parser:
    global _PARSER  # one parser per process, built on first use
    if _PARSER is None:
        import tree_sitter_hcl  # imported here: scans without HCL never load it

        _PARSER = Parser(Language(tree_sitter_hcl.language()))
    return _PARSER


def parse_hcl(text: str, path: PurePosixPath) -> HclFile:
    """Parse one file; raises `HclSyntaxError` with the first bad line if it is not HCL,
    or if it nests deeper than `MAX_DEPTH`."""
    source = text.encode("utf-8")
    tree = _parser().parse(source)
    root = tree.root_node
    if root.has_error:
        raise _syntax_error(root, source)
    converter = _Converter(source, path)
    body = Block("", (), "", 1)
    try:
        for child in root.children:
            if child.type == "body":
                converter.body(child, body, top=True, depth=0)
    except (_TooDeep, RecursionError):
        raise HclSyntaxError("HCL is nested too deeply to analyse", None) from None
    return HclFile(path, text, body, converter.spans, converter.embedded)


def parse_templates(texts: Sequence[str], path: PurePosixPath) -> list[Any]:
    """Each text read as a string template with nothing around it, as Terraform reads a
    string of its JSON syntax: an expression (`str`, `Template`, `Opaque`), or an
    `HclSyntaxError` (without a line: the caller knows where the string is).

    Every text becomes a heredoc of one generated file, parsed once: a heredoc processes
    no backslash escapes (JSON has already), only `$${` and `%%{`, and a file of many is
    much cheaper to parse than many files of one."""
    if not texts:
        return []
    marker = "LAMBDASHIELD_END"
    while any(marker in text for text in texts):
        marker += "_"
    generated = "".join(f"t = <<{marker}\n{text}\n{marker}\n" for text in texts)
    # JSON's `\ud800` escapes decode to lone surrogates, which UTF-8 cannot encode.
    source = generated.encode("utf-8", "surrogatepass")
    root = _parser().parse(source).root_node
    if not root.has_error:
        converter = _Converter(source, path)
        body = next((c for c in root.children if c.type == "body"), None)
        items = [c for c in body.children if c.type == "attribute"] if body else []
        if len(items) == len(texts):
            pairs = zip(items, texts, strict=True)
            return [_heredoc_value(converter, item, text) for item, text in pairs]
    if len(texts) == 1:
        return [_template_error(texts[0], _syntax_error(root, source))]
    # Only the broken texts should fail: read each on its own.
    return [parse_templates([text], path)[0] for text in texts]


def _template_error(text: str, found: HclSyntaxError) -> HclSyntaxError:
    # The snippet `_syntax_error` quotes may be of the generated heredoc: name the text.
    shown = " ".join(text.split())
    shown = shown if len(shown) <= 40 else shown[:37] + "..."
    missing = found.message.partition(": missing ")[2]
    detail = f": missing {missing}" if missing else ""
    return HclSyntaxError(f"invalid string template `{shown}`{detail}", None)


def _heredoc_value(converter: _Converter, item: Node, text: str) -> Any:
    try:
        value = converter.expr(item.children[-1], "", 0)
    except (_TooDeep, RecursionError):
        return HclSyntaxError("string template is nested too deeply to analyse", None)
    # The heredoc adds a newline after the text; the JSON string has none.
    if isinstance(value, str):
        return value[:-1]
    if isinstance(value, Template):
        parts = list(value.parts)
        last = parts[-1]
        if isinstance(last, str):
            if last == "\n":
                parts.pop()
            else:
                parts[-1] = last[:-1]
        return Template(tuple(parts), text)
    return Opaque(text)


def _syntax_error(root: Node, source: bytes) -> HclSyntaxError:
    cursor = root.walk()
    while True:
        node = cursor.node
        if node is not None and (node.is_missing or node.type == "ERROR"):
            line = node.start_point[0] + 1
            if node.is_missing:
                token = _TOKEN_NAMES.get(node.type, f"`{node.type}`")
                return HclSyntaxError(f"HCL syntax error: missing {token}", line)
            snippet = source[node.start_byte : node.end_byte].decode("utf-8", "replace")
            snippet = " ".join(snippet.split())[:40]
            return HclSyntaxError(f"HCL syntax error near `{snippet}`", line)
        if node is not None and node.has_error and cursor.goto_first_child():
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return HclSyntaxError("HCL syntax error", None)


_TOKEN_NAMES = {
    "quoted_template_end": 'closing `"`',
    "block_end": "closing `}`",
    "object_end": "closing `}`",
    "tuple_end": "closing `]`",
    "template_interpolation_end": "closing `}` of `${`",
    "heredoc_identifier": "heredoc end marker",
}


class _TooDeep(Exception):
    pass


_BINARY_OPERATORS = frozenset(
    {"==", "!=", "<", ">", "<=", ">=", "&&", "||", "+", "-", "*", "/", "%"}
)


def _traversed(source: Any, steps: list[Any], text: str) -> Any:
    """`source` with `steps` after it: a longer `Ref` when it is one."""
    if not steps:
        return source
    if isinstance(source, Ref):
        return Ref((*source.parts, *steps), text)
    return Traversal(source, tuple(steps), text)


def _attribute_run(nodes: Sequence[Node]) -> list[Node]:
    """The attribute steps a `.*` applies to each element: those right after it."""
    run: list[Node] = []
    for node in nodes:
        if node.type != "get_attr":
            break
        run.append(node)
    return run


_ESCAPE = re.compile(r"\\(?:u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)|\$\$\{|%%\{", re.DOTALL)
_DOUBLED = {"$${": "${", "%%{": "%{"}
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


def _unescape(match: re.Match[str]) -> str:
    token = match.group()
    if token in _DOUBLED:
        return _DOUBLED[token]
    if token[1] in "uU":
        try:
            return chr(int(token[2:], 16))
        except (ValueError, OverflowError):
            return token
    return _SIMPLE_ESCAPES.get(token[1], token)


def _literal_text(raw: str, *, quoted: bool) -> str:
    if quoted:
        return _ESCAPE.sub(_unescape, raw) if ("\\" in raw or "$$" in raw or "%%" in raw) else raw
    return raw.replace("$${", "${").replace("%%{", "%{")


class _Converter:
    def __init__(self, source: bytes, path: PurePosixPath) -> None:
        self.source = source
        self.path = path
        self.spans: dict[str, tuple[int, int]] = {}
        self.embedded: dict[str, tuple[str, int]] = {}

    def text(self, node: Node) -> str:
        return self.source[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def span(self, pointer: str, node: Node) -> None:
        self.spans[pointer] = (node.start_point[0] + 1, node.end_point[0] + 1)

    # --- structure ---------------------------------------------------------------------

    def body(self, node: Node, into: Block, *, top: bool, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise _TooDeep
        items = node.children
        if top:
            counts: dict[str, int] = {}
        else:
            counts = {}
            for item in items:
                if item.type == "block":
                    name = self.block_type(item)
                    counts[name] = counts.get(name, 0) + 1
        seen: dict[str, int] = {}
        for item in items:
            if item.type == "attribute":
                name_node = item.children[0]
                name = self.text(name_node)
                pointer = f"{into.pointer}/{escape_pointer(name)}"
                self.span(pointer, item)
                into.attributes[name] = self.expr(item.children[-1], pointer, depth + 1)
            elif item.type == "block":
                kind = self.block_type(item)
                labels = self.labels(item)
                if top:
                    tokens = (kind, *labels) if kind != "locals" else (kind,)
                    pointer = "/" + "/".join(escape_pointer(t) for t in tokens)
                else:
                    pointer = f"{into.pointer}/{escape_pointer(kind)}"
                    pointer += "".join(f"/{escape_pointer(label)}" for label in labels)
                    if kind in REPEATABLE or counts.get(kind, 0) > 1:
                        index = seen.get(kind, 0)
                        seen[kind] = index + 1
                        pointer += f"/{index}"
                block = Block(kind, labels, pointer, item.start_point[0] + 1)
                if kind == "locals" and top:
                    # Every `locals` block adds to one namespace: `/locals/<name>`.
                    self.spans.setdefault(pointer, (item.start_point[0] + 1, item.end_point[0] + 1))
                else:
                    self.span(pointer, item)
                for part in item.children:
                    if part.type == "body":
                        self.body(part, block, top=False, depth=depth + 1)
                into.blocks.append(block)

    def block_type(self, node: Node) -> str:
        return self.text(node.children[0])

    def labels(self, node: Node) -> tuple[str, ...]:
        found = []
        for part in node.children[1:]:
            if part.type == "string_lit":
                found.append(self.string_lit(part))
            elif part.type == "identifier":
                found.append(self.text(part))
            elif part.type == "block_start":
                break
        return tuple(found)

    # --- expressions -------------------------------------------------------------------

    def expr(self, node: Node, pointer: str, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise _TooDeep
        kind = node.type
        if kind == "expression":
            children = node.children
            if len(children) == 1:
                return self.expr(children[0], pointer, depth + 1)
            if children[0].type == "(" and len(children) == 3:
                return self.expr(children[1], pointer, depth + 1)
            return self.term(children, depth + 1)
        if kind == "literal_value":
            return self.literal(node.children[0])
        if kind == "template_expr":
            return self.template(node.children[0], pointer)
        if kind == "collection_value":
            return self.collection(node.children[0], pointer, depth + 1)
        if kind == "variable_expr":
            return Ref((self.text(node),), self.text(node))
        if kind == "function_call":
            return self.call(node, pointer, depth + 1)
        if kind == "for_expr":
            return self.for_expr(node.children[0], depth + 1)
        if kind == "conditional":
            return self.conditional(node, depth + 1)
        if kind == "operation":
            return self.operation(node.children[0], depth + 1)
        return Opaque(self.text(node))

    def literal(self, node: Node) -> Any:
        kind = node.type
        if kind == "string_lit":
            return self.string_lit(node)
        if kind == "numeric_lit":
            raw = self.text(node)
            try:
                return int(raw)
            except ValueError:
                try:
                    return float(raw)
                except ValueError:
                    return Opaque(raw)
        if kind == "bool_lit":
            return self.text(node) == "true"
        if kind == "null_lit":
            return None
        return Opaque(self.text(node))

    def string_lit(self, node: Node) -> str:
        parts = [
            _literal_text(self.text(c), quoted=True)
            for c in node.children
            if c.type == "template_literal"
        ]
        return "".join(parts)

    def span_text(self, first: Node, last: Node) -> str:
        return self.source[first.start_byte : last.end_byte].decode("utf-8", "replace")

    def term(self, nodes: list[Node], depth: int) -> Any:
        """A value followed by attributes, indexes and splats, as the grammar lays them
        side by side: `x.a[0]`, `(x)[*].b`, `values(m)[*].arn`."""
        if depth > MAX_DEPTH:
            raise _TooDeep
        first, whole = nodes[0], self.span_text(nodes[0], nodes[-1])
        if len(nodes) == 1:
            return self.expr(first, "", depth + 1)
        if first.type == "(":
            if len(nodes) < 3 or nodes[2].type != ")":
                return Opaque(whole)
            base, rest = self.expr(nodes[1], "", depth + 1), nodes[3:]
        elif first.type == "variable_expr":
            base, rest = Ref((self.text(first),), self.text(first)), nodes[1:]
        else:
            base, rest = self.expr(first, "", depth + 1), nodes[1:]
        current, pending = base, []
        while rest:
            step = rest[0]
            if step.type != "splat":
                found = self.step(step, depth + 1)
                if found is None:
                    return Opaque(whole)
                pending.append(found)
                rest = rest[1:]
                continue
            before = self.source[first.start_byte : step.start_byte]
            current = _traversed(current, pending, before.decode("utf-8", "replace").rstrip())
            pending = []
            inner = step.children[0]
            if inner.type == "full_splat":
                each = self.chain([*inner.children[1:], *rest[1:]], depth + 1)
                if each is None:
                    return Opaque(whole)
                return Splat([] if current is None else current, tuple(each), whole)
            attrs = _attribute_run(inner.children[1:])
            names = self.chain(attrs, depth + 1)
            if names is None:
                return Opaque(whole)
            last = attrs[-1] if attrs else inner
            current = Splat(
                [] if current is None else current, tuple(names), self.span_text(first, last)
            )
            rest = [*inner.children[1 + len(attrs) :], *rest[1:]]
        return _traversed(current, pending, whole)

    def chain(self, nodes: Sequence[Node], depth: int) -> list[Any] | None:
        """Steps applied to each element of a splat; `None` if one is not supported."""
        if depth > MAX_DEPTH:
            raise _TooDeep
        steps: list[Any] = []
        for i, node in enumerate(nodes):
            if node.type != "splat":
                found = self.step(node, depth + 1)
                if found is None:
                    return None
                steps.append(found)
                continue
            inner = node.children[0]
            if inner.type == "full_splat":
                later = [*inner.children[1:], *nodes[i + 1 :]]
                each = self.chain(later, depth + 1)
                if each is None:
                    return None
                steps.append(Splat(None, tuple(each), self.span_text(node, nodes[-1])))
                return steps
            attrs = _attribute_run(inner.children[1:])
            names = self.chain(attrs, depth + 1)
            after = self.chain([*inner.children[1 + len(attrs) :], *nodes[i + 1 :]], depth + 1)
            if names is None or after is None:
                return None
            last = attrs[-1] if attrs else inner
            steps.append(Splat(None, tuple(names), self.span_text(node, last)))
            return steps + after
        return steps

    def step(self, node: Node, depth: int) -> Any:
        """An attribute name, a literal index, or the expression of an index written with
        one (`[each.key]`, `[count.index]`, `[var.k]`): `None` for anything else."""
        if node.type == "get_attr":
            return self.text(node.children[-1])
        if node.type != "index":
            return None
        inner = node.children[0]
        if inner.type == "legacy_index":
            digits = self.text(inner).lstrip(".")
            return int(digits) if digits.isdigit() else None
        key = next((c for c in inner.children if c.type == "expression"), None)
        value = self.expr(key, "", depth + 1) if key is not None else None
        if isinstance(value, EXPRESSIONS):
            return value
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            return None
        return value

    def conditional(self, node: Node, depth: int) -> Any:
        parts = [c for c in node.children if c.type == "expression"]
        if len(parts) != 3:
            return Opaque(self.text(node))
        # tree-sitter-hcl reads `a ? b : c ? d : e` as `(a ? b : c) ? d : e`; HCL reads a
        # condition without parentheses as one that holds no conditional, so it is
        # `a ? b : (c ? d : e)`. Undo the grammar's grouping along the condition.
        condition, results = parts[0], [(parts[1], parts[2])]
        while len(condition.children) == 1 and condition.children[0].type == "conditional":
            inner = [c for c in condition.children[0].children if c.type == "expression"]
            if len(inner) != 3:
                return Opaque(self.text(node))
            condition = inner[0]
            results.append((inner[1], inner[2]))
        results.reverse()
        conditions = [condition, *(false for _, false in results[:-1])]
        found = self.expr(results[-1][1], "", depth + 1)
        for test, (true, _) in zip(reversed(conditions), reversed(results), strict=True):
            found = Conditional(
                self.expr(test, "", depth + 1),
                self.expr(true, "", depth + 1),
                found,
                self.source[test.start_byte : node.end_byte].decode("utf-8", "replace"),
            )
        return found

    def operation(self, node: Node, depth: int) -> Any:
        children = node.children
        if node.type == "unary_operation" and len(children) > 1:
            return Operation(
                children[0].type, (self.term(children[1:], depth + 1),), self.text(node)
            )
        if node.type == "binary_operation":
            at = next(
                (i for i, c in enumerate(children) if i and c.type in _BINARY_OPERATORS), None
            )
            if at is not None and 0 < at < len(children) - 1:
                left = self.term(children[:at], depth + 1)
                right = self.term(children[at + 1 :], depth + 1)
                return Operation(children[at].type, (left, right), self.text(node))
        return Opaque(self.text(node))

    def for_expr(self, node: Node, depth: int) -> Any:
        intro = next((c for c in node.children if c.type == "for_intro"), None)
        if intro is None:
            return Opaque(self.text(node))
        names = tuple(self.text(c) for c in intro.children if c.type == "identifier")
        collection = next((c for c in intro.children if c.type == "expression"), None)
        parts = [c for c in node.children if c.type == "expression"]
        mapping = node.type == "for_object_expr"
        if collection is None or not 1 <= len(names) <= 2 or len(parts) != 1 + mapping:
            return Opaque(self.text(node))
        test = next((c for c in node.children if c.type == "for_cond"), None)
        written = next((c for c in test.children if c.type == "expression"), None) if test else None
        return For(
            names,
            self.expr(collection, "", depth + 1),
            self.expr(parts[0], "", depth + 1) if mapping else None,
            self.expr(parts[-1], "", depth + 1),
            True if written is None else self.expr(written, "", depth + 1),
            self.text(node),
            mapping=mapping,
            grouped=any(c.type == "ellipsis" for c in node.children),
        )

    def collection(self, node: Node, pointer: str, depth: int) -> Any:
        if node.type == "tuple":
            items: list[Any] = []
            for child in node.children:
                if child.type == "expression":
                    at = f"{pointer}/{len(items)}"
                    self.span(at, child)
                    items.append(self.expr(child, at, depth + 1))
            return items
        if node.type == "object":
            obj: dict[str, Any] = {}
            for elem in node.children:
                if elem.type != "object_elem":
                    continue
                key_node = elem.child_by_field_name("key")
                value_node = elem.child_by_field_name("val")
                if key_node is None or value_node is None:
                    continue
                key = self.object_key(key_node)
                at = f"{pointer}/{escape_pointer(key)}"
                self.span(at, elem)
                obj[key] = self.expr(value_node, at, depth + 1)
            return obj
        return Opaque(self.text(node))

    def object_key(self, node: Node) -> str:
        children = node.children
        if len(children) == 1:
            only = children[0]
            if only.type == "variable_expr":
                return self.text(only)
            if only.type == "literal_value" and only.children[0].type == "string_lit":
                return self.string_lit(only.children[0])
        return self.text(node)

    def call(self, node: Node, pointer: str, depth: int) -> Any:
        name = self.text(node.children[0])
        args: list[Any] = []
        expand = False
        for child in node.children:
            if child.type != "function_arguments":
                continue
            expressions = [c for c in child.children if c.type == "expression"]
            expand = any(c.type == "ellipsis" for c in child.children)
            for i, arg in enumerate(expressions):
                if name in TRANSPARENT_CALLS and len(expressions) == 1:
                    at = pointer
                else:
                    at = f"{pointer}/{name}()/{i}"
                args.append(self.expr(arg, at, depth + 1))
        return Call(name, tuple(args), self.text(node), expand, self.path, node.start_point[0] + 1)

    def template(self, node: Node, pointer: str) -> Any:
        if node.type == "quoted_template":
            children = node.children
            start, end = children[0].end_byte, children[-1].start_byte
            pieces = children[1:-1]
            quoted, first_line, strip = True, node.start_point[0] + 1, 0
        else:
            idents = [c for c in node.children if c.type == "heredoc_identifier"]
            if len(idents) < 2:
                return Opaque(self.text(node))
            newline = self.source.find(b"\n", idents[0].end_byte)
            start = newline + 1 if newline >= 0 else idents[0].end_byte
            end = max(self.source.rfind(b"\n", start, idents[-1].start_byte) + 1, start)
            pieces = [c for c in node.children if start <= c.start_byte < end]
            quoted, first_line = False, node.start_point[0] + 2
            strip = _indent(self.source[start:end]) if node.children[0].text == b"<<-" else 0
        parts: list[Any] = []
        at = start
        for piece in pieces:
            if piece.type == "template_literal":
                continue
            if piece.type != "template_interpolation":
                return Opaque(self.text(node))
            if piece.start_byte > at:
                parts.append(self.source[at : piece.start_byte].decode("utf-8", "replace"))
            inner = next((c for c in piece.children if c.type == "expression"), None)
            parts.append(Opaque(self.text(piece)) if inner is None else self.expr(inner, "", 0))
            at = piece.end_byte
        if end > at:
            parts.append(self.source[at:end].decode("utf-8", "replace"))
        texts: list[Any] = []
        line_start = True
        for part in parts:
            if isinstance(part, str):
                value = _literal_text(part, quoted=quoted)
                if strip:
                    value = _dedent(value, strip, line_start=line_start)
                line_start = value.endswith("\n")
                texts.append(value)
            else:
                line_start = False
                texts.append(part)
        if all(isinstance(t, str) for t in texts):
            joined = "".join(texts)
            if not quoted and pointer:
                self.embedded[pointer] = (joined, first_line - 1)
            return joined
        return Template(tuple(texts), self.text(node), 0 if quoted else first_line - 1)


def _indent(content: bytes) -> int:
    widths = [
        len(line) - len(line.lstrip(b" \t"))
        for line in content.split(b"\n")
        if line.strip(b" \t\r")
    ]
    return min(widths, default=0)


def _dedent(text: str, width: int, *, line_start: bool) -> str:
    lines = text.split("\n")
    out = []
    for i, line in enumerate(lines):
        if i > 0 or line_start:
            cut = len(line) - len(line.lstrip(" \t"))
            line = line[min(cut, width) :]
        out.append(line)
    return "\n".join(out)
