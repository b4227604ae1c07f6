"""Python handler code -> the AWS SDK calls it makes, read with `ast` and never run.

A small abstract interpreter, flow-insensitive and bounded. Every name, attribute of
`self`, function parameter and return value stands for the set of values it may hold:
a boto3 client of a service, a resource (`Table` with its name), a paginator, a waiter, a
string made of literals and environment variables, or "unknown". Values follow
assignments, `with ... as`, `for` loops over collections, calls of functions of the
analysed modules (arguments to parameters, returns to callers) and imports between the
modules of the handler's code folder. Every call of an SDK method in those modules is a
call the function may make; what the reader could not follow becomes a `Note`.

Bounds: at most `_MAX_ALTERNATIVES` values per name, `_MAX_DEPTH` nested evaluations and
`_MAX_FILES` modules; past them a value is unknown, never an error.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
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
from lambdashield.checks._sdk.files import Source, SourceCache, read_source
from lambdashield.checks._sdk.models import ResourceModel, SdkData, key
from lambdashield.model import ScanError

__all__ = ["extract_python"]

_MAX_ALTERNATIVES = 8
_MAX_DEPTH = 48
_MAX_FILES = 400
_UNKNOWN_TEXT = Text((Unknown(),))

# --- abstract values -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Opaque:
    """Anything the reader does not model."""


@dataclass(frozen=True, slots=True)
class _Str:
    text: Text


@dataclass(frozen=True, slots=True)
class _Boto3:
    """The `boto3` (or `botocore.session`) module, or a session made from it."""


@dataclass(frozen=True, slots=True)
class _Os:
    pass


@dataclass(frozen=True, slots=True)
class _Environ:
    pass


@dataclass(frozen=True, slots=True)
class _Client:
    service: Text


@dataclass(frozen=True, slots=True)
class _Resource:
    service: Text
    type: str | None
    """`None` for the service resource (`boto3.resource("s3")`)."""
    identifiers: tuple[tuple[str, Text], ...] = ()


@dataclass(frozen=True, slots=True)
class _Meta:
    resource: _Resource


@dataclass(frozen=True, slots=True)
class _Collection:
    parent: _Resource
    name: str


@dataclass(frozen=True, slots=True)
class _Paginator:
    client: _Client
    operation: str | None
    method: str


@dataclass(frozen=True, slots=True)
class _Waiter:
    client: _Client
    operation: str | None
    name: str
    identifiers: tuple[tuple[str, Text], ...] = ()


@dataclass(frozen=True, slots=True)
class _BatchWriter:
    resource: _Resource


@dataclass(frozen=True, slots=True)
class _Bound:
    """`obj.attr` before it is called."""

    obj: _Value
    attr: str


@dataclass(frozen=True, slots=True)
class _Dynamic:
    """`getattr(obj, name)` with a name the reader cannot know."""

    obj: _Value


@dataclass(frozen=True, slots=True, eq=False)
class _Func:
    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
    bound: bool = False

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Func) and other.node is self.node and other.bound == self.bound

    def __hash__(self) -> int:
        return hash((id(self.node), self.bound))


@dataclass(frozen=True, slots=True, eq=False)
class _Class:
    node: ast.ClassDef

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Class) and other.node is self.node

    def __hash__(self) -> int:
        return id(self.node)


@dataclass(frozen=True, slots=True, eq=False)
class _Instance:
    node: ast.ClassDef

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Instance) and other.node is self.node

    def __hash__(self) -> int:
        return id(self.node) + 1


@dataclass(frozen=True, slots=True)
class _Module:
    name: str


@dataclass(frozen=True, slots=True)
class _Builtin:
    name: str


@dataclass(frozen=True, slots=True)
class _Dict:
    entries: tuple[tuple[_Value, _Value], ...]
    open: bool = False


@dataclass(frozen=True, slots=True)
class _List:
    items: tuple[_Value, ...]


_Value = (
    _Opaque
    | _Str
    | _Boto3
    | _Os
    | _Environ
    | _Client
    | _Resource
    | _Meta
    | _Collection
    | _Paginator
    | _Waiter
    | _BatchWriter
    | _Bound
    | _Dynamic
    | _Func
    | _Class
    | _Instance
    | _Module
    | _Builtin
    | _Dict
    | _List
)
_Values = frozenset[_Value]

_OPAQUE: _Values = frozenset({_Opaque()})
_SDK = (_Client, _Resource, _Collection, _Paginator, _Waiter, _BatchWriter, _Meta)
_BOTO3_FUNCTIONS = frozenset(
    {"client", "resource", "Session", "session", "create_client", "get_session"}
)
_HARMLESS_CALLEES = frozenset(
    {"print", "isinstance", "type", "id", "repr", "str", "len", "hasattr", "bool", "callable"}
)
_CLIENT_HELPERS = frozenset(
    {"get_paginator", "get_waiter", "can_paginate", "close", "generate_presigned_post"}
)
_RESOURCE_HELPERS = frozenset({"get_available_subresources"})


def _text(value: str) -> _Str:
    return _Str(Text((value,)))


def _cap(values: Iterable[_Value]) -> _Values:
    found = frozenset(values)
    if len(found) > _MAX_ALTERNATIVES:
        return _OPAQUE
    return found


# --- scopes ----------------------------------------------------------------------------

_ScopeNode = ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef


@dataclass(frozen=True, slots=True)
class _Binding:
    kind: str
    """`value`, `iter`, `param`, `def`, `class`, `import`, `import-from` or `opaque`."""
    node: Any
    scope: _Scope
    extra: Any = None


@dataclass(eq=False)
class _Scope:
    node: _ScopeNode
    module: _ModuleInfo
    parent: _Scope | None
    cls: ast.ClassDef | None = None
    """For a method: the class it belongs to."""
    bindings: dict[str, list[_Binding]] = field(default_factory=dict)
    returns: list[ast.expr] = field(default_factory=list)
    globals: set[str] = field(default_factory=set)

    def bind(self, name: str, binding: _Binding) -> None:
        target = self.module.scope if name in self.globals else self
        target.bindings.setdefault(name, []).append(binding)

    @property
    def is_class(self) -> bool:
        return isinstance(self.node, ast.ClassDef)


@dataclass(eq=False)
class _ModuleInfo:
    name: str
    package: str
    """Where its relative imports start (`orders` for `orders/app.py`)."""
    display: PurePosixPath
    tree: ast.Module
    scope: _Scope = field(init=False)


# --- the program -----------------------------------------------------------------------


class _Program:
    """The handler's module and the local modules it imports, read together."""

    def __init__(self, source: Source, data: SdkData, max_bytes: int, cache: SourceCache) -> None:
        self.source = source
        self.data = data
        self.max_bytes = max_bytes
        self.cache = cache
        self.modules: dict[str, _ModuleInfo] = {}
        self.errors: list[ScanError] = []
        self.notes: list[Note] = []
        self.calls: list[SdkCall] = []
        self.call_sites: list[tuple[ast.Call, _Scope]] = []
        self.by_callee: dict[str, list[tuple[ast.Call, _Scope]]] = {}
        self.class_attrs: dict[tuple[int, str], list[_Binding]] = {}
        self.class_methods: dict[int, dict[str, ast.FunctionDef | ast.AsyncFunctionDef]] = {}
        self.scopes: dict[int, _Scope] = {}
        self.memo: dict[tuple[int, int], _Values] = {}
        self.active: set[tuple[int, int]] = set()
        self.depth = 0
        self.libraries = data.libraries("python")

    # -- loading ------------------------------------------------------------------------

    def module_file(self, name: str) -> Path | None:
        parts = name.split(".")
        if not all(p.isidentifier() for p in parts):
            return None
        base = self.source.tree.code_dir.joinpath(*parts)
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            found = self.cache.file(candidate, self.source.tree.root)
            if found is not None:
                return found
        return None

    def load(self, entry: Path) -> None:
        code_dir = self.source.tree.code_dir
        relative = entry.relative_to(code_dir).with_suffix("")
        parts = list(relative.parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        entry_name = ".".join(parts) or "__main__"
        queue: list[tuple[str, Path, bool]] = [(entry_name, entry, is_package)]
        seen = {entry_name}
        while queue and len(self.modules) < _MAX_FILES:
            name, path, package = queue.pop(0)
            info = self.parse(name, path, package)
            if info is None:
                continue
            for imported in self.imports_of(info):
                for prefix in _prefixes(imported):
                    if prefix in seen:
                        continue
                    found = self.module_file(prefix)
                    if found is not None:
                        seen.add(prefix)
                        queue.append((prefix, found, found.name == "__init__.py"))

    def parse(self, name: str, path: Path, package: bool) -> _ModuleInfo | None:
        display = self.source.tree.display(path)
        tree = self.cache.syntax(
            path, ast.Module, display, lambda: _parse(path, display, self.max_bytes)
        )
        if isinstance(tree, ScanError):
            self.errors.append(tree)
            return None
        package_name = name if package else name.rpartition(".")[0]
        info = _ModuleInfo(name, package_name, display, tree)
        info.scope = _Scope(tree, info, None)
        self.modules[name] = info
        self.build_scopes(info)
        return info

    def imports_of(self, info: _ModuleInfo) -> Iterator[str]:
        for node in _import_statements(info.tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    self.library_note(info, node, alias.name)
                    yield alias.name
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(info.package, node.module, node.level)
                if base is None:
                    continue
                self.library_note(info, node, base)
                yield base
                for alias in node.names:
                    if alias.name != "*":
                        yield f"{base}.{alias.name}" if base else alias.name

    def library_note(self, info: _ModuleInfo, node: ast.stmt, name: str) -> None:
        for library, services in self.libraries.items():
            if name == library or name.startswith(library + "."):
                for service in services:
                    self.notes.append(
                        Note(
                            info.display,
                            node.lineno,
                            NoteKind.LIBRARY,
                            f"`{library}` calls AWS itself and is not analysed",
                            None if service == "*" else service,
                        )
                    )
                return

    # -- scopes -------------------------------------------------------------------------

    def build_scopes(self, info: _ModuleInfo) -> None:
        stack: list[tuple[ast.AST, _Scope]] = [(info.tree, info.scope)]
        self.scopes[id(info.tree)] = info.scope
        while stack:
            node, scope = stack.pop()
            children = self.visit(node, scope)
            stack.extend(reversed(children))

    def visit(self, node: ast.AST, scope: _Scope) -> list[tuple[ast.AST, _Scope]]:
        """Record what `node` binds in `scope`; return its children with their scopes."""
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            return self.visit_function(node, scope)
        if isinstance(node, ast.ClassDef):
            scope.bind(node.name, _Binding("class", node, scope))
            inner = _Scope(node, scope.module, scope)
            self.scopes[id(node)] = inner
            self.class_methods.setdefault(id(node), {})
            outer = [(n, scope) for n in (*node.decorator_list, *node.bases, *node.keywords)]
            return outer + [(n, inner) for n in node.body]
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.NamedExpr)):
            value = node.value
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if value is not None:
                for target in targets:
                    self.bind_target(target, value, scope, "value")
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
            self.bind_target(node.target, node.iter, scope, "iter")
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None:
                    self.bind_target(item.optional_vars, item.context_expr, scope, "value")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    scope.bind(alias.asname, _Binding("import", node, scope, (alias.name, True)))
                else:
                    head = alias.name.split(".")[0]
                    scope.bind(head, _Binding("import", node, scope, (head, False)))
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(scope.module.package, node.module, node.level)
            for alias in node.names:
                if alias.name != "*" and base is not None:
                    extra = (base, alias.name)
                    scope.bind(
                        alias.asname or alias.name, _Binding("import-from", node, scope, extra)
                    )
        elif isinstance(node, ast.Global):
            scope.globals.update(node.names)
        elif isinstance(node, ast.Return) and node.value is not None:
            scope.returns.append(node.value)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            scope.bind(node.name, _Binding("opaque", node, scope))
        elif isinstance(node, ast.Call):
            self.call_sites.append((node, scope))
            callee = node.func
            name = (
                callee.id
                if isinstance(callee, ast.Name)
                else callee.attr
                if isinstance(callee, ast.Attribute)
                else None
            )
            if name is not None:
                self.by_callee.setdefault(name, []).append((node, scope))
        return [(child, scope) for child in ast.iter_child_nodes(node)]

    def visit_function(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda, scope: _Scope
    ) -> list[tuple[ast.AST, _Scope]]:
        parent = scope.parent if scope.is_class and scope.parent is not None else scope
        inner = _Scope(node, scope.module, parent)
        self.scopes[id(node)] = inner
        outer: list[ast.AST] = [*node.args.defaults, *(d for d in node.args.kw_defaults if d)]
        if not isinstance(node, ast.Lambda):
            scope.bind(node.name, _Binding("def", node, scope))
            outer.extend(node.decorator_list)
            if isinstance(scope.node, ast.ClassDef):
                inner.cls = scope.node
                self.class_methods.setdefault(id(scope.node), {})[node.name] = node
        for position, arg in enumerate(_parameters(node.args)):
            inner.bind(arg.arg, _Binding("param", node, scope, position))
        body: list[ast.AST] = [node.body] if isinstance(node, ast.Lambda) else list(node.body)
        if isinstance(node, ast.Lambda):
            inner.returns.append(node.body)
        return [(n, scope) for n in outer] + [(n, inner) for n in body]

    def bind_target(self, target: ast.expr, value: ast.expr, scope: _Scope, kind: str) -> None:
        if isinstance(target, ast.Name):
            scope.bind(target.id, _Binding(kind, value, scope))
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                inner = element.value if isinstance(element, ast.Starred) else element
                if isinstance(inner, ast.Name):
                    scope.bind(inner.id, _Binding("opaque", value, scope))
        elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
            owner = self.owner_class(target.value.id, scope)
            if owner is not None:
                key_ = (id(owner), target.attr)
                self.class_attrs.setdefault(key_, []).append(_Binding(kind, value, scope))
        if isinstance(scope.node, ast.ClassDef) and isinstance(target, ast.Name):
            key_ = (id(scope.node), target.id)
            self.class_attrs.setdefault(key_, []).append(_Binding(kind, value, scope))

    def owner_class(self, name: str, scope: _Scope) -> ast.ClassDef | None:
        """The class whose instance `name` is, when `name` is a method's first parameter."""
        node = scope.node
        if scope.cls is None or not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return None
        params = _parameters(node.args)
        return scope.cls if params and params[0].arg == name else None

    # -- evaluation ---------------------------------------------------------------------

    def eval(self, node: ast.AST, scope: _Scope) -> _Values:
        memo_key = (id(node), id(scope))
        found = self.memo.get(memo_key)
        if found is not None:
            return found
        if memo_key in self.active or self.depth > _MAX_DEPTH:
            return frozenset()
        self.active.add(memo_key)
        self.depth += 1
        try:
            result = _cap(self.compute(node, scope))
        finally:
            self.depth -= 1
            self.active.discard(memo_key)
        if not self.active:
            self.memo[memo_key] = result
        else:
            self.memo.setdefault(memo_key, result)
        return result

    def compute(self, node: ast.AST, scope: _Scope) -> Iterable[_Value]:
        if isinstance(node, ast.Constant):
            return {_text(node.value)} if isinstance(node.value, str) else _OPAQUE
        if isinstance(node, ast.JoinedStr):
            return {_Str(self.joined(node, scope))}
        if isinstance(node, ast.Name):
            return self.lookup(node.id, scope)
        if isinstance(node, ast.Attribute):
            return {
                v for base in self.eval(node.value, scope) for v in self.attribute(base, node.attr)
            }
        if isinstance(node, ast.Subscript):
            return self.subscript(node, scope)
        if isinstance(node, ast.Call):
            return self.call(node, scope)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return self.concat(node, scope)
        if isinstance(node, ast.BoolOp):
            return {v for value in node.values for v in self.eval(value, scope)}
        if isinstance(node, ast.IfExp):
            return self.eval(node.body, scope) | self.eval(node.orelse, scope)
        if isinstance(node, (ast.Await, ast.NamedExpr)):
            return self.eval(node.value, scope)
        if isinstance(node, ast.Dict):
            return {self.dictionary(node, scope)}
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            items = tuple(
                self.single(e, scope) for e in node.elts if not isinstance(e, ast.Starred)
            )
            return {_List(items)}
        if isinstance(node, ast.Lambda):
            return {_Func(node)}
        return _OPAQUE

    def single(self, node: ast.AST, scope: _Scope) -> _Value:
        values = self.eval(node, scope)
        return next(iter(values)) if len(values) == 1 else _Opaque()

    def dictionary(self, node: ast.Dict, scope: _Scope) -> _Dict:
        entries: list[tuple[_Value, _Value]] = []
        open_ = False
        for k, v in zip(node.keys, node.values, strict=True):
            if k is None:
                spread = self.single(v, scope)
                if isinstance(spread, _Dict):
                    entries.extend(spread.entries)
                    open_ = open_ or spread.open
                else:
                    open_ = True
                continue
            entries.append((self.single(k, scope), self.single(v, scope)))
        return _Dict(tuple(entries), open_)

    def joined(self, node: ast.JoinedStr, scope: _Scope) -> Text:
        parts: list[Any] = []
        for value in node.values:
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                parts.append(value.value)
            elif isinstance(value, ast.FormattedValue):
                inner = self.eval(value.value, scope)
                only = next(iter(inner)) if len(inner) == 1 else None
                if isinstance(only, _Str) and value.format_spec is None:
                    parts.extend(only.text.parts)
                else:
                    parts.append(Unknown("formatted value"))
        return Text(tuple(parts))

    def concat(self, node: ast.BinOp, scope: _Scope) -> Iterable[_Value]:
        left, right = self.eval(node.left, scope), self.eval(node.right, scope)
        if not any(isinstance(v, _Str) for v in left | right):
            return _OPAQUE
        return {
            _Str(
                (a.text if isinstance(a, _Str) else _UNKNOWN_TEXT)
                + (b.text if isinstance(b, _Str) else _UNKNOWN_TEXT)
            )
            for a in left
            for b in right
        }

    def subscript(self, node: ast.Subscript, scope: _Scope) -> Iterable[_Value]:
        index = self.eval(node.slice, scope)
        literal = next(
            (v.text.literal for v in index if isinstance(v, _Str) and len(index) == 1), None
        )
        found: set[_Value] = set()
        for base in self.eval(node.value, scope):
            if isinstance(base, _Environ):
                found.add(_Str(Text((EnvRef(literal),))) if literal else _Str(_UNKNOWN_TEXT))
            elif isinstance(base, _Dict) and literal is not None:
                found.update(
                    v for k, v in base.entries if isinstance(k, _Str) and k.text.literal == literal
                )
                if not found:
                    found.add(_Opaque())
            else:
                found.add(_Opaque())
        return found

    def lookup(self, name: str, scope: _Scope) -> Iterable[_Value]:
        current: _Scope | None = scope
        first = True
        while current is not None:
            if not (current.is_class and not first) and name in current.bindings:
                return {v for b in current.bindings[name] for v in self.binding(b)}
            first = False
            current = current.parent
        if name in ("getattr", *_HARMLESS_CALLEES):
            return {_Builtin(name)}
        return _OPAQUE

    def binding(self, binding: _Binding) -> Iterable[_Value]:
        kind = binding.kind
        if kind == "value":
            return self.eval(binding.node, binding.scope)
        if kind == "iter":
            return {
                v for base in self.eval(binding.node, binding.scope) for v in self.iterate(base)
            }
        if kind == "def":
            return {_Func(binding.node)}
        if kind == "class":
            return {_Class(binding.node)}
        if kind == "param":
            return self.parameter(binding.node, binding.extra, binding.scope)
        if kind == "import":
            name, exact = binding.extra
            return {self.import_value(name, exact)}
        if kind == "import-from":
            base, attr = binding.extra
            return self.import_from(base, attr)
        return _OPAQUE

    def import_value(self, name: str, exact: bool) -> _Value:
        head = name.split(".")[0]
        if head in ("boto3", "botocore"):
            return _Boto3()
        if head == "os" and (not exact or name == "os"):
            return _Os()
        if name in self.modules or self.module_file(name) is not None:
            return _Module(name)
        return _Opaque()

    def import_from(self, base: str, attr: str) -> Iterable[_Value]:
        if base.split(".")[0] in ("boto3", "botocore"):
            if attr in _BOTO3_FUNCTIONS:
                return {_Bound(_Boto3(), attr)}
            return {_Boto3()} if attr == "session" else _OPAQUE
        if base == "os":
            if attr == "environ":
                return {_Environ()}
            return {_Bound(_Os(), attr)} if attr == "getenv" else _OPAQUE
        submodule = f"{base}.{attr}" if base else attr
        if submodule in self.modules:
            return {_Module(submodule)}
        return self.module_attribute(base, attr)

    def module_attribute(self, module: str, attr: str) -> Iterable[_Value]:
        info = self.modules.get(module)
        if info is None:
            return {_Module(f"{module}.{attr}")} if f"{module}.{attr}" in self.modules else _OPAQUE
        bindings = info.scope.bindings.get(attr)
        if not bindings:
            submodule = f"{module}.{attr}"
            return {_Module(submodule)} if submodule in self.modules else _OPAQUE
        return {v for b in bindings for v in self.binding(b)}

    def parameter(
        self,
        function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda,
        position: int,
        scope: _Scope,
    ) -> Iterable[_Value]:
        params = _parameters(function.args)
        param = params[position]
        inner = self.scopes.get(id(function))
        if position == 0 and inner is not None and inner.cls is not None:
            return {_Instance(inner.cls)}
        found: set[_Value] = set()
        default = _default_of(function.args, param)
        if default is not None:
            found.update(self.eval(default, scope))
        name = function.name if not isinstance(function, ast.Lambda) else None
        if name is None:
            return found or _OPAQUE
        for call, caller in self.by_callee.get(name, ()):
            for callee in self.eval(call.func, caller):
                if not isinstance(callee, _Func) or callee.node is not function:
                    continue
                index = position - 1 if callee.bound else position
                argument = _argument(call, index, param.arg)
                if argument is not None:
                    found.update(self.eval(argument, caller))
        return found or _OPAQUE

    def iterate(self, base: _Value) -> Iterable[_Value]:
        if isinstance(base, _Collection):
            item = self.collection_item(base)
            return {item} if item is not None else _OPAQUE
        if isinstance(base, _List):
            return set(base.items) or _OPAQUE
        return _OPAQUE

    # -- attributes and calls -----------------------------------------------------------

    def attribute(self, base: _Value, attr: str) -> Iterable[_Value]:
        if isinstance(base, _Boto3):
            if attr == "session":
                return {base}
            return {_Bound(base, attr)} if attr in _BOTO3_FUNCTIONS else _OPAQUE
        if isinstance(base, _Os):
            if attr == "environ":
                return {_Environ()}
            return {_Bound(base, attr)} if attr == "getenv" else _OPAQUE
        if isinstance(base, _Environ):
            return {_Bound(base, attr)} if attr == "get" else _OPAQUE
        if isinstance(base, _Resource):
            return self.resource_attribute(base, attr)
        if isinstance(base, _Meta):
            return {_Client(base.resource.service)} if attr == "client" else _OPAQUE
        if isinstance(base, (_Client, _Collection, _Paginator, _Waiter, _BatchWriter, _Dict)):
            if isinstance(base, _Client) and attr in ("meta", "exceptions"):
                return _OPAQUE
            return {_Bound(base, attr)}
        if isinstance(base, _Module):
            return self.module_attribute(base.name, attr)
        if isinstance(base, (_Instance, _Class)):
            return self.member(base, attr)
        if isinstance(base, _Str):
            return {_Bound(base, attr)}
        return _OPAQUE

    def member(self, base: _Instance | _Class, attr: str) -> Iterable[_Value]:
        method = self.class_methods.get(id(base.node), {}).get(attr)
        if method is not None:
            return {_Func(method, bound=isinstance(base, _Instance))}
        bindings = self.class_attrs.get((id(base.node), attr), [])
        return {v for b in bindings for v in self.binding(b)} or _OPAQUE

    def resource_attribute(self, base: _Resource, attr: str) -> Iterable[_Value]:
        if attr == "meta":
            return {_Meta(base)}
        model = self.resource_model(base)
        if model is not None:
            identifier = model.identifier(attr)
            if identifier is not None:
                value = dict(base.identifiers).get(identifier)
                return {_Str(value or _UNKNOWN_TEXT)}
            collection = model.collection(attr)
            if collection is not None:
                return {_Collection(base, collection[0])}
        return {_Bound(base, attr)}

    def resource_model(self, resource: _Resource) -> ResourceModel | None:
        service = self.service_name(resource.service)
        model = self.data.service(service) if service else None
        return model.resource(resource.type) if model is not None else None

    def service_name(self, text: Text) -> str | None:
        literal = text.literal
        return self.data.canonical(literal) if literal is not None else None

    def call(self, node: ast.Call, scope: _Scope) -> Iterable[_Value]:
        found: set[_Value] = set()
        for callee in self.eval(node.func, scope):
            found.update(self.call_value(callee, node, scope))
        return found or _OPAQUE

    def call_value(self, callee: _Value, node: ast.Call, scope: _Scope) -> Iterable[_Value]:
        if isinstance(callee, _Func):
            function_scope = self.scopes.get(id(callee.node))
            if function_scope is None:
                return _OPAQUE
            return {v for r in function_scope.returns for v in self.eval(r, function_scope)}
        if isinstance(callee, _Class):
            return {_Instance(callee.node)}
        if isinstance(callee, _Builtin):
            if callee.name == "getattr" and len(node.args) >= 2:
                name = self.literal(node.args[1], scope)
                targets = self.eval(node.args[0], scope)
                if name is not None:
                    return {v for t in targets for v in self.attribute(t, name)}
                return {_Dynamic(t) for t in targets if isinstance(t, _SDK)} or _OPAQUE
            return _OPAQUE
        if not isinstance(callee, _Bound):
            return _OPAQUE
        obj, attr = callee.obj, callee.attr
        if isinstance(obj, _Boto3):
            if attr in ("client", "create_client"):
                return {_Client(t) for t in self.texts(_argument(node, 0, "service_name"), scope)}
            if attr == "resource":
                return {
                    _Resource(t, None)
                    for t in self.texts(_argument(node, 0, "service_name"), scope)
                }
            return {_Boto3()}
        if isinstance(obj, (_Os, _Environ)) and attr in ("getenv", "get"):
            name = self.literal(_argument(node, 0, "key"), scope)
            default = self.literal(_argument(node, 1, "default"), scope)
            return {_Str(Text((EnvRef(name, default),)))} if name else {_Str(_UNKNOWN_TEXT)}
        if isinstance(obj, _Client):
            if attr == "get_paginator":
                method = self.literal(_argument(node, 0, "operation_name"), scope)
                return {_Paginator(obj, self.operation(obj.service, method), method or "?")}
            if attr == "get_waiter":
                name = self.literal(_argument(node, 0, "waiter_name"), scope)
                return {_Waiter(obj, self.waiter_operation(obj.service, name), name or "?")}
            return _OPAQUE
        if isinstance(obj, _Resource):
            return self.resource_call_value(obj, attr, node, scope)
        if isinstance(obj, _Collection):
            if attr in ("all", "filter", "limit", "page_size"):
                return {obj}
            return _OPAQUE
        if isinstance(obj, _Dict) and attr == "get":
            key_ = self.literal(_argument(node, 0, "key"), scope)
            values = {v for k, v in obj.entries if isinstance(k, _Str) and k.text.literal == key_}
            return values or _OPAQUE
        if isinstance(obj, _Str):
            return {_Str(_UNKNOWN_TEXT)}
        return _OPAQUE

    def resource_call_value(
        self, obj: _Resource, attr: str, node: ast.Call, scope: _Scope
    ) -> Iterable[_Value]:
        if attr == "batch_writer":
            return {_BatchWriter(obj)}
        model = self.resource_model(obj)
        if model is None:
            return _OPAQUE
        sub = model.sub_resource(attr)
        if sub is not None:
            spec = sub.get("resource", {})
            kind = spec.get("type")
            if not isinstance(kind, str):
                return _OPAQUE
            inputs = [self.texts(a, scope) for a in node.args]
            parent = dict(obj.identifiers)
            made: list[tuple[str, tuple[Text, ...]]] = []
            position = 0
            for ident in spec.get("identifiers", ()):
                target, source = ident.get("target"), ident.get("source")
                if source == "input":
                    keyword = next(
                        (
                            k.value
                            for k in node.keywords
                            if k.arg and key(k.arg) == key(str(target))
                        ),
                        None,
                    )
                    if keyword is not None:
                        made.append((str(target), tuple(self.texts(keyword, scope))))
                    elif position < len(inputs):
                        made.append((str(target), tuple(inputs[position])))
                    else:
                        made.append((str(target), (_UNKNOWN_TEXT,)))
                    position += 1
                elif source == "identifier":
                    value = parent.get(str(ident.get("name")))
                    made.append((str(target), (value or _UNKNOWN_TEXT,)))
                else:
                    made.append((str(target), (_UNKNOWN_TEXT,)))
            return {_Resource(obj.service, kind, combo) for combo in _combinations(made)}
        waiter = model.waiter(attr)
        if waiter is not None:
            return _OPAQUE
        return _OPAQUE

    def collection_item(self, collection: _Collection) -> _Resource | None:
        model = self.resource_model(collection.parent)
        found = model.collection(collection.name) if model else None
        if found is None:
            return None
        spec = found[1].get("resource", {})
        kind = spec.get("type")
        if not isinstance(kind, str):
            return None
        parent = dict(collection.parent.identifiers)
        identifiers = []
        for ident in spec.get("identifiers", ()):
            target = str(ident.get("target"))
            value = (
                parent.get(str(ident.get("name"))) if ident.get("source") == "identifier" else None
            )
            identifiers.append((target, value or _UNKNOWN_TEXT))
        return _Resource(collection.parent.service, kind, tuple(identifiers))

    def texts(self, node: ast.AST | None, scope: _Scope) -> list[Text]:
        if node is None:
            return [_UNKNOWN_TEXT]
        found = [v.text for v in self.eval(node, scope) if isinstance(v, _Str)]
        return found or [_UNKNOWN_TEXT]

    def literal(self, node: ast.AST | None, scope: _Scope) -> str | None:
        if node is None:
            return None
        values = self.eval(node, scope)
        if len(values) != 1:
            return None
        only = next(iter(values))
        return only.text.literal if isinstance(only, _Str) else None

    def operation(self, service: Text, method: str | None) -> str | None:
        name = self.service_name(service)
        model = self.data.service(name) if name else None
        return model.operation(method) if model is not None and method else None

    def waiter_operation(self, service: Text, waiter: str | None) -> str | None:
        name = self.service_name(service)
        model = self.data.service(name) if name else None
        return model.waiter_operation(waiter) if model is not None and waiter else None

    # -- SDK calls ----------------------------------------------------------------------

    def collect(self) -> None:
        for node, scope in self.call_sites:
            callees = self.eval(node.func, scope)
            sdk = False
            for callee in callees:
                if isinstance(callee, _Bound) and isinstance(callee.obj, _SDK):
                    sdk = True
                    self.sdk_call(callee.obj, callee.attr, node, scope)
                elif isinstance(callee, _Dynamic):
                    sdk = True
                    service = self.service_of(callee.obj)
                    self.note(
                        node, scope, NoteKind.DYNAMIC_METHOD, "a method chosen at run time", service
                    )
            if not sdk and not any(
                isinstance(c, (_Func, _Class, _Builtin, _Bound)) for c in callees
            ):
                self.escapes(node, scope)

    def escapes(self, node: ast.Call, scope: _Scope) -> None:
        arguments = [*node.args, *(k.value for k in node.keywords)]
        for argument in arguments:
            for value in self.eval(argument, scope):
                if isinstance(value, _SDK):
                    callee = ast.unparse(node.func)[:60]
                    self.note(
                        node,
                        scope,
                        NoteKind.ESCAPES,
                        f"a client is passed to `{callee}`, which is not analysed",
                        self.service_of(value),
                    )
                    return

    def service_of(self, value: _Value) -> str | None:
        if isinstance(value, (_Client, _Resource)):
            return self.service_name(value.service)
        if isinstance(value, _Collection):
            return self.service_name(value.parent.service)
        if isinstance(value, (_Paginator, _Waiter)):
            return self.service_name(value.client.service)
        if isinstance(value, (_BatchWriter, _Meta)):
            return self.service_name(value.resource.service)
        return None

    def note(
        self, node: ast.AST, scope: _Scope, kind: NoteKind, message: str, service: str | None = None
    ) -> None:
        self.notes.append(
            Note(scope.module.display, getattr(node, "lineno", 0), kind, message, service)
        )

    def sdk_call(self, obj: _Value, attr: str, node: ast.Call, scope: _Scope) -> None:
        if isinstance(obj, _Client):
            self.client_call(obj, attr, node, scope)
        elif isinstance(obj, _Resource):
            self.resource_call(obj, attr, node, scope)
        elif isinstance(obj, _Collection):
            self.collection_call(obj, attr, node, scope)
        elif isinstance(obj, _Paginator) and attr == "paginate":
            self.record(
                obj.client.service,
                f"get_paginator({obj.method!r}).paginate",
                obj.operation,
                node,
                scope,
                (),
            )
        elif isinstance(obj, _Waiter) and attr == "wait":
            self.record(
                obj.client.service, f"get_waiter({obj.name!r}).wait", obj.operation, node, scope, ()
            )

    def known_service(self, service: Text, node: ast.AST, scope: _Scope) -> str | None:
        literal = service.literal
        if literal is None:
            self.note(
                node,
                scope,
                NoteKind.DYNAMIC_SERVICE,
                "a client whose service is chosen at run time",
            )
            return None
        name = self.data.canonical(literal)
        if name is None or self.data.service(name) is None:
            self.note(node, scope, NoteKind.UNMAPPED, f"unknown AWS service {literal!r}")
            return None
        return name

    def client_call(self, client: _Client, method: str, node: ast.Call, scope: _Scope) -> None:
        service = self.known_service(client.service, node, scope)
        if service is None or method in _CLIENT_HELPERS:
            return
        if method == "generate_presigned_url":
            signed = self.literal(_argument(node, 0, "ClientMethod"), scope)
            model = self.data.service(service)
            operation = model.operation(signed) if model and signed else None
            params_node = _argument(node, 1, "Params")
            params = tuple(self.dict_params(params_node, scope)) if params_node is not None else ()
            self.record(
                client.service,
                f"generate_presigned_url({signed!r})",
                operation,
                node,
                scope,
                params,
            )
            return
        managed = self.data.client_method(service, method)
        if managed is not None:
            params = self.params(node, scope, tuple(managed.get("args", ())))
            for operation in managed.get("operations", ()):
                self.record(client.service, method, operation, node, scope, params)
            return
        model = self.data.service(service)
        operation = model.operation(method) if model else None
        if operation is None:
            self.note(
                node,
                scope,
                NoteKind.UNKNOWN_METHOD,
                f"`{method}` is not a {service} operation",
                service,
            )
            return
        self.record(client.service, method, operation, node, scope, self.params(node, scope, ()))

    def resource_call(
        self, resource: _Resource, method: str, node: ast.Call, scope: _Scope
    ) -> None:
        service = self.known_service(resource.service, node, scope)
        if service is None:
            return
        model = self.resource_model(resource)
        kind = resource.type or ""
        label = f"{kind}.{method}" if kind else method
        identifier_params = self.data.resource_identifier_params(service, kind)
        fixed = tuple(
            (param, (value,))
            for ident, param in identifier_params.items()
            for name, value in resource.identifiers
            if name == ident
        )
        injected = self.data.resource_method(service, kind, method)
        if injected is not None:
            client_method = injected.get("client_method")
            managed = self.data.client_method(service, client_method) if client_method else injected
            operations = (managed or {}).get("operations", ())
            params = (*fixed, *self.params(node, scope, tuple(injected.get("args", ()))))
            for operation in operations:
                self.record(resource.service, label, operation, node, scope, params)
            return
        if model is None or method in _RESOURCE_HELPERS:
            return
        if model.sub_resource(method) is not None:
            return
        action = model.action(method)
        if action is not None:
            request = action.get("request", {})
            params = (*self.request_params(request, resource), *self.params(node, scope, ()))
            self.record(resource.service, label, request.get("operation"), node, scope, params)
            return
        if method in ("load", "reload"):
            load = model.raw.get("load", {}).get("request", {})
            params = self.request_params(load, resource)
            self.record(resource.service, label, model.load_operation(), node, scope, params)
            return
        waiter = model.waiter(method)
        if waiter is not None:
            spec = model.raw.get("waiters", {})
            entry: dict[str, Any] = next(
                (v for k, v in spec.items() if key(k) == key(method.removeprefix("wait_until_"))),
                {},
            )
            params = self.request_params(entry, resource)
            operation = self.waiter_operation(resource.service, waiter)
            self.record(resource.service, label, operation, node, scope, params)
            return
        self.note(
            node,
            scope,
            NoteKind.UNKNOWN_METHOD,
            f"`{label}` is not a {service} resource action",
            service,
        )

    def collection_call(
        self, collection: _Collection, method: str, node: ast.Call, scope: _Scope
    ) -> None:
        service = self.known_service(collection.parent.service, node, scope)
        model = self.resource_model(collection.parent)
        found = model.collection(collection.name) if model else None
        if service is None or found is None:
            return
        label = f"{collection.name}.{method}"
        if method in ("all", "filter", "limit", "page_size", "pages"):
            request = found[1].get("request", {})
            params = (
                *self.request_params(request, collection.parent),
                *self.params(node, scope, ()),
            )
            self.record(
                collection.parent.service, label, request.get("operation"), node, scope, params
            )
            return
        item = self.collection_item(collection)
        item_model = self.resource_model(item) if item else None
        batch = item_model.batch_action(method) if item_model else None
        if batch is not None:
            request = batch.get("request", {})
            params = self.request_params(request, collection.parent)
            self.record(
                collection.parent.service, label, request.get("operation"), node, scope, params
            )

    def request_params(
        self, request: dict[str, Any], resource: _Resource
    ) -> tuple[tuple[str, tuple[Arg, ...]], ...]:
        found: list[tuple[str, tuple[Arg, ...]]] = []
        identifiers = dict(resource.identifiers)
        for param in request.get("params", ()):
            target = str(param.get("target", ""))
            if not target.isidentifier():
                continue
            if param.get("source") == "identifier":
                found.append((target, (identifiers.get(str(param.get("name"))) or _UNKNOWN_TEXT,)))
            elif param.get("source") == "string" and isinstance(param.get("value"), str):
                found.append((target, (Text((param["value"],)),)))
        return tuple(found)

    def params(
        self, node: ast.Call, scope: _Scope, positional: tuple[str, ...]
    ) -> tuple[tuple[str, tuple[Arg, ...]], ...]:
        found: list[tuple[str, tuple[Arg, ...]]] = []
        for name, argument in zip(positional, node.args, strict=False):
            found.append((name, self.args(argument, scope)))
        for keyword in node.keywords:
            if keyword.arg is not None:
                found.append((keyword.arg, self.args(keyword.value, scope)))
            else:
                found.extend(self.dict_params(keyword.value, scope))
        return tuple(found)

    def dict_params(self, node: ast.AST, scope: _Scope) -> list[tuple[str, tuple[Arg, ...]]]:
        found: list[tuple[str, tuple[Arg, ...]]] = []
        for value in self.eval(node, scope):
            if isinstance(value, _Dict):
                for k, v in value.entries:
                    if isinstance(k, _Str) and k.text.literal:
                        found.append((k.text.literal, (_arg(v),)))
        return found

    def args(self, node: ast.AST, scope: _Scope) -> tuple[Arg, ...]:
        return tuple(dict.fromkeys(_arg(v) for v in self.eval(node, scope))) or (None,)

    def record(
        self,
        service: Text,
        method: str,
        operation: object,
        node: ast.Call,
        scope: _Scope,
        params: tuple[tuple[str, tuple[Arg, ...]], ...],
    ) -> None:
        name = self.service_name(service)
        if name is None:
            return
        if not isinstance(operation, str):
            self.note(
                node,
                scope,
                NoteKind.UNKNOWN_METHOD,
                f"`{method}` has no known {name} operation",
                name,
            )
            return
        merged: dict[str, tuple[Arg, ...]] = {}
        for param, values in params:
            merged[param] = tuple(dict.fromkeys((*merged.get(param, ()), *values)))
        self.calls.append(
            SdkCall(
                scope.module.display,
                node.lineno,
                name,
                method,
                (operation,),
                tuple(sorted(merged.items())),
            )
        )


def _arg(value: _Value) -> Arg:
    if isinstance(value, _Str):
        return value.text
    if isinstance(value, _Dict):
        entries = tuple((k.text, _arg(v)) for k, v in value.entries if isinstance(k, _Str))
        return ArgDict(entries, value.open or len(entries) < len(value.entries))
    if isinstance(value, _List):
        return ArgList(tuple(_arg(v) for v in value.items))
    return None


def _combinations(
    choices: list[tuple[str, tuple[Text, ...]]],
) -> Iterator[tuple[tuple[str, Text], ...]]:
    if not choices:
        yield ()
        return
    (name, values), rest = choices[0], choices[1:]
    for value in values[:_MAX_ALTERNATIVES]:
        for tail in _combinations(rest):
            yield ((name, value), *tail)


def _parameters(args: ast.arguments) -> list[ast.arg]:
    found = [*args.posonlyargs, *args.args]
    if args.vararg:
        found.append(args.vararg)
    found.extend(args.kwonlyargs)
    if args.kwarg:
        found.append(args.kwarg)
    return found


def _default_of(args: ast.arguments, param: ast.arg) -> ast.expr | None:
    positional = [*args.posonlyargs, *args.args]
    if param in positional:
        offset = len(positional) - len(args.defaults)
        index = positional.index(param) - offset
        return args.defaults[index] if index >= 0 else None
    if param in args.kwonlyargs:
        return args.kw_defaults[args.kwonlyargs.index(param)]
    return None


def _argument(call: ast.Call, position: int, name: str) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    if 0 <= position < len(call.args) and not any(
        isinstance(a, ast.Starred) for a in call.args[: position + 1]
    ):
        return call.args[position]
    return None


def _absolute(package: str, module: str | None, level: int) -> str | None:
    if level == 0:
        return module
    parts = package.split(".") if package else []
    if level - 1 > len(parts):
        return None
    base = parts[: len(parts) - (level - 1)]
    if module:
        base.append(module)
    return ".".join(base)


def _import_statements(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    """The imports of `tree` in `ast.walk`'s order (breadth first), which decides the order
    modules load in. Only statements, and the `except` and `case` clauses that hold them,
    can hold an import: expressions, most of the tree, are not walked."""
    queue: deque[ast.AST] = deque([tree])
    while queue:
        node = queue.popleft()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        queue.extend(
            child
            for child in ast.iter_child_nodes(node)
            if isinstance(child, (ast.stmt, ast.excepthandler, ast.match_case))
        )


def _prefixes(name: str) -> Iterator[str]:
    parts = name.split(".")
    for end in range(1, len(parts) + 1):
        yield ".".join(parts[:end])


def _parse(path: Path, display: PurePosixPath, max_bytes: int) -> ast.Module | ScanError:
    text = read_source(path, display, max_bytes)
    if isinstance(text, ScanError):
        return text
    try:
        return ast.parse(text, filename=str(display))
    except SyntaxError as exc:
        detail = exc.msg or "invalid syntax"
        return ScanError(display, f"Python syntax error: {detail}", exc.lineno)
    except (ValueError, RecursionError, MemoryError) as exc:
        message = "too deeply nested to parse" if isinstance(exc, RecursionError) else str(exc)
        return ScanError(display, f"cannot parse Python: {message}")


def extract_python(source: Source, data: SdkData, max_bytes: int, cache: SourceCache) -> Extraction:
    """Every SDK call the handler's module and its local imports make."""
    program = _Program(source, data, max_bytes, cache)
    program.load(source.path)
    try:
        program.collect()
    except RecursionError:
        program.errors.append(
            ScanError(source.display, "code too deeply nested to analyse for AWS calls")
        )
    files = tuple(sorted(m.display for m in program.modules.values()))
    return Extraction(
        language="python",
        entry=source.display,
        files=files,
        calls=tuple(sorted(set(program.calls), key=_call_order)),
        notes=tuple(sorted(set(program.notes), key=lambda n: (n.path, n.line, n.message))),
        errors=tuple(program.errors),
    )


def _call_order(call: SdkCall) -> tuple[str, int, str, str]:
    return (call.path.as_posix(), call.line, call.method, ",".join(call.operations))
