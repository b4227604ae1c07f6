"""JavaScript and TypeScript handler code -> the AWS SDK calls it makes, read with tree-sitter.

Covers the SDK for JavaScript v3 (`new GetItemCommand(...)` from `@aws-sdk/client-*`, the
document client commands of `@aws-sdk/lib-dynamodb`, `paginate*` and `waitUntil*`
helpers, aggregated clients such as `new DynamoDB().getItem(...)`, `Upload` from
`@aws-sdk/lib-storage`) and v2 (`new AWS.S3().putObject(...)`,
`new AWS.DynamoDB.DocumentClient().get(...)`, `require("aws-sdk/clients/sqs")`), also as
tsc and esbuild compile them: interop requires (`__importDefault(require("aws-sdk"))`,
whose `.default` is the module), and imported helpers called as
`(0, client_s3_1.paginateListObjectsV2)(...)`.

Simpler than the Python reader: names are followed through one file without scopes (every
binding of a name counts), and between the handler's local files through `require` /
`import` of exported names. A v3 command is a call wherever it is created, whichever
client sends it. A client passed to any function makes a note, since what that function
calls is not followed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from tree_sitter import Node, Parser, Tree

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
from lambdashield.checks._sdk.files import JAVASCRIPT_SUFFIXES, Source, SourceCache, read_source
from lambdashield.checks._sdk.models import SdkData, key
from lambdashield.loaders._tree_sitter import node_parser
from lambdashield.loaders._tree_sitter import node_text as _text_of
from lambdashield.loaders._tree_sitter import string_value as _string
from lambdashield.model import ScanError

__all__ = ["extract_javascript"]

_MAX_FILES = 400
_MAX_DEPTH = 40
_MAX_ALTERNATIVES = 8
_UNKNOWN = Text((Unknown(),))
_INTEROP = frozenset(
    {"__importDefault", "__importStar", "__toESM", "_interopRequireDefault"}
    | {"_interopRequireWildcard", "_interop_require_default", "_interop_require_wildcard"}
)
"""The helpers compilers wrap `require("x")` in for ES module interop (tsc, esbuild, Babel,
SWC): they give back the module."""
_REQUIRES = ("require", "__require")


@dataclass(frozen=True, slots=True)
class _Opaque:
    pass


@dataclass(frozen=True, slots=True)
class _Str:
    text: Text


@dataclass(frozen=True, slots=True)
class _Env:
    """`process.env`."""


@dataclass(frozen=True, slots=True)
class _Process:
    pass


@dataclass(frozen=True, slots=True)
class _Package:
    """A module: `aws-sdk`, `@aws-sdk/client-s3`, or a local file."""

    name: str
    local: Path | None = None


@dataclass(frozen=True, slots=True)
class _Export:
    package: _Package
    name: str


@dataclass(frozen=True, slots=True)
class _Client:
    """An SDK client instance; `style` is `v2`, `v3` (send only), `aggregated` or `document`."""

    service: str
    style: str


@dataclass(frozen=True, slots=True)
class _V2Class:
    service: str
    document: bool = False


_Value = _Opaque | _Str | _Env | _Process | _Package | _Export | _Client | _V2Class
_OPAQUE: frozenset[_Value] = frozenset({_Opaque()})


def _parser(suffix: str) -> Parser:
    return node_parser("typescript" if suffix in (".ts", ".mts", ".cts") else "javascript")


def _callee(node: Node) -> Node:
    """`obj.m` for `(0, obj.m)`, how compilers write the callee of an imported function
    (`(0, client_s3_1.paginateListObjectsV2)(...)`); any other node as it is."""
    for _ in range(_MAX_DEPTH):
        if node.type == "parenthesized_expression" and node.named_children:
            node = node.named_children[0]
        elif node.type == "sequence_expression" and node.named_children:
            node = node.named_children[-1]
        else:
            break
    return node


def _walk(node: Node) -> Iterator[Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


class _File:
    def __init__(self, program: _Program, path: Path, display: PurePosixPath, root: Node) -> None:
        self.program = program
        self.path = path
        self.display = display
        self.root = root
        self.bindings: dict[str, list[tuple[str, Node, Any]]] = {}
        self.memo: dict[tuple[int, str], frozenset[_Value]] = {}
        self.active: set[tuple[int, str]] = set()
        self.depth = 0
        self.calls: list[Node] = []
        self.news: list[Node] = []
        self.requires: list[str] = []
        self.index()

    def bind(self, name: str, kind: str, node: Node, extra: Any = None) -> None:
        self.bindings.setdefault(name, []).append((kind, node, extra))

    def index(self) -> None:
        for node in _walk(self.root):
            kind = node.type
            if kind == "variable_declarator":
                name, value = node.child_by_field_name("name"), node.child_by_field_name("value")
                if name is not None and value is not None:
                    self.pattern(name, value, ())
            elif kind == "assignment_expression":
                left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
                if left is not None and right is not None and left.type == "identifier":
                    self.bind(_text_of(left), "value", right)
                elif left is not None and right is not None and _text_of(left) == "module.exports":
                    self.bind("module.exports", "value", right)
                elif left is not None and right is not None and left.type == "member_expression":
                    obj = left.child_by_field_name("object")
                    prop = left.child_by_field_name("property")
                    if _text_of(obj) in ("exports", "module.exports") and prop is not None:
                        self.bind(_text_of(prop), "value", right)
            elif kind == "import_statement":
                self.import_statement(node)
            elif kind == "call_expression":
                self.calls.append(node)
                function = node.child_by_field_name("function")
                arguments = node.child_by_field_name("arguments")
                if (
                    _text_of(function) in _REQUIRES
                    and arguments is not None
                    and arguments.named_children
                ):
                    literal = _string(arguments.named_children[0])
                    if literal:
                        self.requires.append(literal)
            elif kind == "new_expression":
                self.news.append(node)
            elif kind in ("function_declaration", "class_declaration"):
                name = node.child_by_field_name("name")
                if name is not None:
                    self.bind(_text_of(name), "opaque", node)

    def pattern(self, name: Node, value: Node, path: tuple[str, ...]) -> None:
        if name.type == "identifier":
            self.bind(_text_of(name), "path", value, (path, None))
        elif name.type == "object_pattern":
            for child in name.named_children:
                if child.type == "shorthand_property_identifier_pattern":
                    self.bind(_text_of(child), "path", value, ((*path, _text_of(child)), None))
                elif child.type == "pair_pattern":
                    key_node, inner = (
                        child.child_by_field_name("key"),
                        child.child_by_field_name("value"),
                    )
                    if key_node is None or inner is None:
                        continue
                    prop = _string(key_node) or _text_of(key_node)
                    if inner.type == "assignment_pattern":
                        left, right = (
                            inner.child_by_field_name("left"),
                            inner.child_by_field_name("right"),
                        )
                        if left is not None and left.type == "identifier":
                            self.bind(_text_of(left), "path", value, ((*path, prop), right))
                    else:
                        self.pattern(inner, value, (*path, prop))
                elif child.type == "object_assignment_pattern":
                    left, right = (
                        child.child_by_field_name("left"),
                        child.child_by_field_name("right"),
                    )
                    if left is not None:
                        self.bind(_text_of(left), "path", value, ((*path, _text_of(left)), right))

    def import_statement(self, node: Node) -> None:
        source = node.child_by_field_name("source")
        module = _string(source) if source is not None else None
        if not module:
            return
        self.requires.append(module)
        package = self.program.package(module, self)
        for clause in node.named_children:
            if clause.type != "import_clause":
                continue
            for part in clause.named_children:
                if part.type == "identifier":
                    self.bind(
                        _text_of(part),
                        "fixed",
                        part,
                        _Export(package, "default") if package.local else package,
                    )
                elif part.type == "namespace_import":
                    for ident in part.named_children:
                        self.bind(_text_of(ident), "fixed", ident, package)
                elif part.type == "named_imports":
                    for spec in part.named_children:
                        name, alias = (
                            spec.child_by_field_name("name"),
                            spec.child_by_field_name("alias"),
                        )
                        if name is not None:
                            local = alias if alias is not None else name
                            self.bind(
                                _text_of(local), "fixed", spec, _Export(package, _text_of(name))
                            )

    # -- evaluation -------------------------------------------------------------------

    def lookup(self, name: str) -> frozenset[_Value]:
        if name == "process":
            return frozenset({_Process()})
        found: set[_Value] = set()
        for kind, node, extra in self.bindings.get(name, ()):
            if kind == "fixed":
                found.add(extra)
            elif kind == "value":
                found |= self.eval(node)
            elif kind == "path":
                path, default = extra
                values = self.eval(node)
                for step in path:
                    values = frozenset(
                        v for base in values for v in self.member(base, step, default)
                    )
                found |= values
        return frozenset(found) if found else _OPAQUE

    def eval(self, node: Node) -> frozenset[_Value]:
        memo_key = (node.id, node.type)
        found = self.memo.get(memo_key)
        if found is not None:
            return found
        if memo_key in self.active or self.depth > _MAX_DEPTH:
            return frozenset()
        self.active.add(memo_key)
        self.depth += 1
        try:
            result = frozenset(self.compute(node))
            if len(result) > _MAX_ALTERNATIVES:
                result = _OPAQUE
        finally:
            self.depth -= 1
            self.active.discard(memo_key)
        self.memo[memo_key] = result
        return result

    def compute(self, node: Node) -> Iterable[_Value]:
        kind = node.type
        literal = _string(node)
        if literal is not None:
            return {_Str(Text((literal,)))}
        if kind == "template_string":
            parts: list[Any] = []
            for child in node.named_children:
                if child.type == "string_fragment":
                    parts.append(_text_of(child))
                elif child.type == "template_substitution" and child.named_children:
                    inner = self.eval(child.named_children[0])
                    only = next(iter(inner)) if len(inner) == 1 else None
                    parts.extend(only.text.parts if isinstance(only, _Str) else (Unknown(),))
            return {_Str(Text(tuple(parts)))}
        if kind == "identifier":
            return self.lookup(_text_of(node))
        if kind in (
            "parenthesized_expression",
            "await_expression",
            "as_expression",
            "non_null_expression",
            "satisfies_expression",
        ):
            return self.eval(node.named_children[0]) if node.named_children else _OPAQUE
        if kind == "binary_expression":
            operator = node.child_by_field_name("operator")
            left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
            if left is None or right is None:
                return _OPAQUE
            if _text_of(operator) in ("||", "??"):
                return self.eval(left) | self.eval(right)
            if _text_of(operator) == "+":
                a, b = self.eval(left), self.eval(right)
                if any(isinstance(v, _Str) for v in a | b):
                    return {
                        _Str(
                            (x.text if isinstance(x, _Str) else _UNKNOWN)
                            + (y.text if isinstance(y, _Str) else _UNKNOWN)
                        )
                        for x in a
                        for y in b
                    }
            return _OPAQUE
        if kind in ("member_expression", "subscript_expression"):
            obj = node.child_by_field_name("object")
            prop = node.child_by_field_name("property") or node.child_by_field_name("index")
            if obj is None or prop is None:
                return _OPAQUE
            name = _text_of(prop) if prop.type == "property_identifier" else _string(prop)
            if name is None:
                return {_Str(_UNKNOWN)} if _Env() in self.eval(obj) else _OPAQUE
            return {v for base in self.eval(obj) for v in self.member(base, name, None)}
        if kind == "sequence_expression":
            # `(0, x)` is `x`: the other parts are evaluated for their effects only.
            return self.eval(node.named_children[-1]) if node.named_children else _OPAQUE
        if kind == "call_expression":
            return self.call_value(node)
        if kind == "new_expression":
            return self.new_value(node)
        return _OPAQUE

    def member(self, base: _Value, name: str, default: Node | None) -> Iterable[_Value]:
        if isinstance(base, _Process) and name == "env":
            return {_Env()}
        if isinstance(base, _Env):
            fallback = _string(default) if default is not None else None
            return {_Str(Text((EnvRef(name, fallback),)))}
        if isinstance(base, _Package):
            if base.local is None and name == "default":
                # What `import AWS from "aws-sdk"` binds: compiled interop
                # (`aws_sdk_1.default.S3`) reads it as the module's `default`.
                return {base}
            if base.local is not None:
                return self.program.exported(base.local, name)
            return {_Export(base, name)}
        if isinstance(base, _Export) and base.package.name == "aws-sdk":
            if name == "DocumentClient":
                return {_V2Class("dynamodb", document=True)}
            return _OPAQUE
        if isinstance(base, _V2Class) and name == "DocumentClient":
            return {_V2Class("dynamodb", document=True)}
        return _OPAQUE

    def arguments(self, node: Node) -> list[Node]:
        args = node.child_by_field_name("arguments")
        return [a for a in args.named_children if a.type != "comment"] if args is not None else []

    def call_value(self, node: Node) -> Iterable[_Value]:
        function = node.child_by_field_name("function")
        if function is None:
            return _OPAQUE
        if _text_of(function) in _REQUIRES:
            args = self.arguments(node)
            literal = _string(args[0]) if args else None
            return {self.program.package(literal, self)} if literal else _OPAQUE
        callee = _callee(function)
        if callee.type in ("identifier", "member_expression"):
            name = callee.child_by_field_name("property") if callee.type != "identifier" else callee
            if _text_of(name) in _INTEROP:
                args = self.arguments(node)
                return self.eval(args[0]) if args else _OPAQUE
        if function.type == "member_expression":
            prop = function.child_by_field_name("property")
            obj = function.child_by_field_name("object")
            if _text_of(prop) == "from" and obj is not None:
                for value in self.eval(obj):
                    if isinstance(value, _Export) and value.name in (
                        "DynamoDBDocumentClient",
                        "DynamoDBDocument",
                    ):
                        return {_Client("dynamodb", "document")}
        return _OPAQUE

    def new_value(self, node: Node) -> Iterable[_Value]:
        constructor = node.child_by_field_name("constructor")
        if constructor is None:
            return _OPAQUE
        found: set[_Value] = set()
        for value in self.eval(constructor):
            client = self.program.client_of(value)
            if client is not None:
                found.add(client)
        return found or _OPAQUE

    # -- arguments --------------------------------------------------------------------

    def arg(self, node: Node | None, depth: int = 0) -> Arg:
        if node is None or depth > 8:
            return None
        if node.type == "object":
            entries: list[tuple[Text, Arg]] = []
            open_ = False
            for child in node.named_children:
                if child.type == "pair":
                    key_node, value = (
                        child.child_by_field_name("key"),
                        child.child_by_field_name("value"),
                    )
                    if key_node is None:
                        continue
                    name = _string(key_node) if key_node.type == "string" else _text_of(key_node)
                    if key_node.type == "computed_property_name" and key_node.named_children:
                        texts = [
                            v.text
                            for v in self.eval(key_node.named_children[0])
                            if isinstance(v, _Str)
                        ]
                        if len(texts) == 1:
                            entries.append((texts[0], self.arg(value, depth + 1)))
                        else:
                            open_ = True
                        continue
                    if name is not None:
                        entries.append((Text((name,)), self.arg(value, depth + 1)))
                elif child.type == "shorthand_property_identifier":
                    entries.append(
                        (Text((_text_of(child),)), self.value_arg(self.lookup(_text_of(child))))
                    )
                elif child.type == "spread_element":
                    open_ = True
            return ArgDict(tuple(entries), open_)
        if node.type == "array":
            return ArgList(tuple(self.arg(c, depth + 1) for c in node.named_children))
        if node.type == "identifier":
            bound = [
                n
                for k, n, _ in self.bindings.get(_text_of(node), ())
                if k == "path" or k == "value"
            ]
            if len(bound) == 1 and bound[0].type in ("object", "array"):
                return self.arg(bound[0], depth + 1)
        return self.value_arg(self.eval(node))

    @staticmethod
    def value_arg(values: frozenset[_Value]) -> Arg:
        texts = [v.text for v in values if isinstance(v, _Str)]
        return texts[0] if len(texts) == 1 and len(values) == 1 else None

    def params(self, node: Node | None) -> tuple[tuple[str, tuple[Arg, ...]], ...]:
        value = self.arg(node)
        if not isinstance(value, ArgDict):
            return ()
        return tuple((k.literal, (v,)) for k, v in value.entries if k.literal)


class _Program:
    def __init__(self, source: Source, data: SdkData, max_bytes: int, cache: SourceCache) -> None:
        self.source = source
        self.data = data
        self.max_bytes = max_bytes
        self.cache = cache
        self.files: dict[Path, _File] = {}
        self.errors: list[ScanError] = []
        self.notes: list[Note] = []
        self.calls: list[SdkCall] = []
        settings = data.javascript()
        self.packages: dict[str, str] = settings.get("packages", {})
        self.v2_classes: dict[str, str] = settings.get("v2_classes", {})
        self.document: dict[str, str] = settings.get("document_client", {})
        self.managed: dict[str, dict[str, Any]] = settings.get("client_methods", {})
        self.libraries = data.libraries("javascript")

    def package(self, name: str, importer: _File) -> _Package:
        if name.startswith("."):
            local = self.resolve(importer.path.parent, name)
            return _Package(name, local)
        return _Package(name)

    def resolve(self, folder: Path, name: str) -> Path | None:
        base = folder / name
        candidates = [base, *(base.with_name(base.name + s) for s in JAVASCRIPT_SUFFIXES)]
        candidates += [base / f"index{s}" for s in JAVASCRIPT_SUFFIXES]
        if base.suffix == ".js":
            candidates += [base.with_suffix(s) for s in (".ts", ".mts", ".cts")]
        for candidate in candidates:
            found = self.cache.file(candidate, self.source.tree.root)
            if found is not None and found.suffix in JAVASCRIPT_SUFFIXES:
                return found
        return None

    def service(self, package: str) -> str | None:
        """`@aws-sdk/client-secrets-manager` -> `secretsmanager`."""
        if package.startswith("@aws-sdk/client-"):
            name = package.removeprefix("@aws-sdk/client-")
            return self.packages.get(name) or self.data.canonical(name)
        if package.startswith("aws-sdk/clients/"):
            return self.v2_service(package.removeprefix("aws-sdk/clients/"))
        if package in ("@aws-sdk/lib-dynamodb",):
            return "dynamodb"
        if package == "@aws-sdk/lib-storage":
            return "s3"
        return None

    def v2_service(self, name: str) -> str | None:
        fixed = {key(k): v for k, v in self.v2_classes.items()}.get(key(name))
        return fixed or self.data.canonical(name)

    def client_of(self, value: _Value) -> _Client | None:
        if isinstance(value, _V2Class):
            return _Client(value.service, "document" if value.document else "v2")
        if isinstance(value, _Package) and value.name.startswith("aws-sdk/clients/"):
            service = self.service(value.name)
            return _Client(service, "v2") if service else None
        if not isinstance(value, _Export):
            return None
        package, name = value.package.name, value.name
        if package == "aws-sdk":
            service = self.v2_service(name)
            return _Client(service, "v2") if service else None
        if package.startswith("aws-sdk/clients/"):
            service = self.service(package)
            return _Client(service, "v2") if service else None
        service = self.service(package)
        if service is None:
            return None
        if package == "@aws-sdk/lib-dynamodb":
            return _Client("dynamodb", "document") if name.startswith("DynamoDBDocument") else None
        if name.endswith("Client"):
            return _Client(service, "v3")
        if name.endswith("Command") or name == "Upload":
            return None
        return _Client(service, "aggregated")

    def exported(self, path: Path, name: str) -> frozenset[_Value]:
        target = self.files.get(path)
        if target is None:
            return _OPAQUE
        if name in target.bindings:
            return target.lookup(name)
        container = target.bindings.get("module.exports")
        if container:
            found: set[_Value] = set()
            for _, node, _ in container:
                if node.type == "object":
                    for child in node.named_children:
                        if (
                            child.type == "shorthand_property_identifier"
                            and _text_of(child) == name
                        ):
                            found |= target.lookup(name)
                        elif (
                            child.type == "pair"
                            and _text_of(child.child_by_field_name("key")) == name
                        ):
                            value = child.child_by_field_name("value")
                            if value is not None:
                                found |= target.eval(value)
            return frozenset(found) or _OPAQUE
        return _OPAQUE

    # -- loading ----------------------------------------------------------------------

    def load(self) -> None:
        queue = [self.source.path]
        seen = {self.source.path}
        while queue and len(self.files) < _MAX_FILES:
            path = queue.pop(0)
            parsed = self.parse(path)
            if parsed is None:
                continue
            for name in parsed.requires:
                self.library_note(parsed, name)
                if name.startswith("."):
                    found = self.resolve(path.parent, name)
                    if found is not None and found not in seen:
                        seen.add(found)
                        queue.append(found)

    def library_note(self, file: _File, name: str) -> None:
        for library, services in self.libraries.items():
            if name == library or name.startswith(library + "/"):
                for service in services:
                    self.notes.append(
                        Note(
                            file.display,
                            1,
                            NoteKind.LIBRARY,
                            f"`{library}` calls AWS itself and is not analysed",
                            None if service == "*" else service,
                        )
                    )

    def parse(self, path: Path) -> _File | None:
        display = self.source.tree.display(path)
        tree = self.cache.syntax(path, Tree, display, lambda: _parse(path, display, self.max_bytes))
        if isinstance(tree, ScanError):
            self.errors.append(tree)
            return None
        parsed = _File(self, path, display, tree.root_node)
        self.files[path] = parsed
        return parsed

    # -- calls ------------------------------------------------------------------------

    def collect(self) -> None:
        for file in self.files.values():
            for node in file.news:
                self.new_call(file, node)
            for node in file.calls:
                self.method_call(file, node)

    def note(
        self, file: _File, node: Node, kind: NoteKind, message: str, service: str | None
    ) -> None:
        self.notes.append(Note(file.display, node.start_point[0] + 1, kind, message, service))

    def record(
        self,
        file: _File,
        node: Node,
        service: str,
        method: str,
        operations: Iterable[str],
        params: tuple[tuple[str, tuple[Arg, ...]], ...],
    ) -> None:
        ops = tuple(operations)
        if not ops:
            return
        self.calls.append(
            SdkCall(
                file.display, node.start_point[0] + 1, service, method, ops, tuple(sorted(params))
            )
        )

    def new_call(self, file: _File, node: Node) -> None:
        constructor = node.child_by_field_name("constructor")
        if constructor is None:
            return
        args = file.arguments(node)
        for value in file.eval(constructor):
            if not isinstance(value, _Export):
                continue
            package, name = value.package.name, value.name
            service = self.service(package)
            if service is None:
                continue
            if package == "@aws-sdk/lib-storage" and name == "Upload":
                options = file.arg(args[0]) if args else None
                inner = options.get("params") if isinstance(options, ArgDict) else None
                params = (
                    tuple((k.literal, (v,)) for k, v in inner.entries if k.literal)
                    if isinstance(inner, ArgDict)
                    else ()
                )
                managed = self.managed.get("s3", {}).get("upload", {})
                self.record(file, node, "s3", "Upload", managed.get("operations", ()), params)
            elif name.endswith("Command"):
                command_params = file.params(args[0]) if args else ()
                if package == "@aws-sdk/lib-dynamodb":
                    method = name.removesuffix("Command")
                    operation = {key(k): v for k, v in self.document.items()}.get(key(method))
                else:
                    model = self.data.service(service)
                    operation = model.operation(name) if model else None
                if operation is None:
                    self.note(
                        file,
                        node,
                        NoteKind.UNKNOWN_METHOD,
                        f"`{name}` is not a {service} operation",
                        service,
                    )
                    continue
                self.record(file, node, service, name, (operation,), command_params)

    def method_call(self, file: _File, node: Node) -> None:
        function = node.child_by_field_name("function")
        args = file.arguments(node)
        if function is None:
            return
        callee = _callee(function)
        if callee.type in ("identifier", "member_expression"):
            self.helper_call(file, node, callee, args)
        if function.type in ("member_expression", "subscript_expression"):
            obj = function.child_by_field_name("object")
            prop = function.child_by_field_name("property")
            if obj is not None:
                for value in file.eval(obj):
                    if isinstance(value, _Client):
                        if prop is None or prop.type != "property_identifier":
                            self.note(
                                file,
                                node,
                                NoteKind.DYNAMIC_METHOD,
                                "a method chosen at run time",
                                value.service,
                            )
                        else:
                            self.client_call(file, node, value, _text_of(prop), args)
        for arg in args:
            for value in file.eval(arg):
                if isinstance(value, _Client):
                    if (
                        function.type == "member_expression"
                        and _text_of(function.child_by_field_name("property")) == "from"
                    ):
                        continue
                    self.note(
                        file,
                        node,
                        NoteKind.ESCAPES,
                        f"a client is passed to `{_text_of(function)[:60]}`, which is not analysed",
                        value.service,
                    )

    def helper_call(self, file: _File, node: Node, function: Node, args: list[Node]) -> None:
        for value in file.eval(function):
            if not isinstance(value, _Export):
                continue
            service = self.service(value.package.name)
            model = self.data.service(service) if service else None
            if service is None or model is None:
                continue
            params = file.params(args[1]) if len(args) > 1 else ()
            if value.name.startswith("paginate"):
                operation = model.operation(value.name.removeprefix("paginate"))
                if operation:
                    self.record(file, node, service, value.name, (operation,), params)
            elif value.name.startswith("waitUntil"):
                operation = model.waiter_operation(value.name.removeprefix("waitUntil"))
                if operation:
                    self.record(file, node, service, value.name, (operation,), params)

    def client_call(
        self, file: _File, node: Node, client: _Client, method: str, args: list[Node]
    ) -> None:
        if client.style == "v3" or method in (
            "send",
            "destroy",
            "middlewareStack",
            "config",
            "promise",
        ):
            return
        params = file.params(args[0]) if args else ()
        if client.style == "document":
            operation = self.document.get(method)
            if operation is not None:
                self.record(
                    file, node, "dynamodb", f"DocumentClient.{method}", (operation,), params
                )
            elif method not in ("createSet", "from"):
                self.note(
                    file,
                    node,
                    NoteKind.UNKNOWN_METHOD,
                    f"`{method}` is not a DocumentClient method",
                    "dynamodb",
                )
            return
        if method in ("getSignedUrl", "getSignedUrlPromise"):
            signed = _string(args[0]) if args else None
            model = self.data.service(client.service)
            operation = model.operation(signed) if model and signed else None
            params = file.params(args[1]) if len(args) > 1 else ()
            if operation:
                self.record(
                    file, node, client.service, f"{method}({signed!r})", (operation,), params
                )
            return
        managed = self.managed.get(client.service, {}).get(method)
        if managed is not None:
            self.record(file, node, client.service, method, managed.get("operations", ()), params)
            return
        model = self.data.service(client.service)
        operation = model.operation(method) if model else None
        if operation is None:
            self.note(
                file,
                node,
                NoteKind.UNKNOWN_METHOD,
                f"`{method}` is not a {client.service} operation",
                client.service,
            )
            return
        self.record(file, node, client.service, method, (operation,), params)


def _parse(path: Path, display: PurePosixPath, max_bytes: int) -> Tree | ScanError:
    text = read_source(path, display, max_bytes)
    if isinstance(text, ScanError):
        return text
    tree = _parser(path.suffix).parse(text.encode("utf-8"))
    if tree.root_node.has_error:
        bad = next((n for n in _walk(tree.root_node) if n.type == "ERROR" or n.is_missing), None)
        line = bad.start_point[0] + 1 if bad is not None else None
        return ScanError(display, "JavaScript/TypeScript syntax error", line)
    return tree


def extract_javascript(
    source: Source, data: SdkData, max_bytes: int, cache: SourceCache
) -> Extraction:
    """Every SDK call the handler's file and its local imports make."""
    program = _Program(source, data, max_bytes, cache)
    try:
        program.load()
        program.collect()
    except RecursionError:
        program.errors.append(
            ScanError(source.display, "code too deeply nested to analyse for AWS calls")
        )
    return Extraction(
        language="javascript",
        entry=source.display,
        files=tuple(sorted(f.display for f in program.files.values())),
        calls=tuple(
            sorted(set(program.calls), key=lambda c: (c.path.as_posix(), c.line, c.method))
        ),
        notes=tuple(sorted(set(program.notes), key=lambda n: (n.path, n.line, n.message))),
        errors=tuple(program.errors),
    )
