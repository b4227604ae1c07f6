"""JavaScript and TypeScript front end: a tree-sitter syntax tree lowered into the taint IR.

Never runs anything: it reads the tree the loader built with tree-sitter. What it knows:

- functions, arrow functions and function expressions; `exports.handler = ...`,
  `module.exports.handler = ...`, `module.exports = { handler }` and
  `export const handler = ...` become module-level functions named by their export;
  `export default ...` (a function, a name, a `middy(...)` chain) is bound to `default`,
  the name Lambda looks up for `Handler: app.default`;
- classes (also TypeScript's abstract ones): their methods, arrow-function fields as
  methods, instance fields (`http = axios.create()`) and TypeScript parameter
  properties (`constructor(private db: Db)`) as the first statements of the
  constructor, and static fields as members of the class, like its methods
  (`Repo.table`); `this` is a name the analysis binds to the instance. A class that
  `extends` another is marked as inheriting from it; `super(...)` is a call of the
  parent's `constructor` on `super`, and a subclass with fields but no constructor gets
  JavaScript's implicit one, which passes its arguments on to the parent's;
- `require("x")` and `import` statements bind `Module` values (`node:` dropped), so
  `cp.exec` resolves to `child_process.exec`; `const { exec } = require("child_process")`
  binds `child_process.exec`;
- declarations with destructuring, member and subscript reads, calls (`new X(...)` is a
  call of `X`), template strings, `+` chains (flattened without recursion), returns,
  `if`/`switch`, loops and `try`/`catch`/`finally`;
- the properties of a call's last argument, when it is an object literal, are also passed
  as keyword arguments, so a spec can read options such as `{ shell: true }`;
- a tagged template (`` sql`...${id}` ``) is a call of its tag with the template;
- `f.call(obj, a)`, `f.apply(obj, [a])` and `Reflect.apply(f, obj, [a])` are the call
  `f(a)` they make (see `_Lowering.forwarded`);
- string literals stored under a name (a declaration, an assignment, a property) or
  compared with one (`if (token === "...")`) are recorded with that name, others of
  12 characters or more without one, each literal once;
- an anonymous function passed as a value (a callback) is lowered as a function of its
  own, defined just before the statement that holds it;
- what tsc, esbuild and Babel compile handlers to, lowered as the source they came from:
  interop requires (`__importDefault(require("x"))`, `__toESM(...)`) are the module, and
  its `.default` the default import (`javascript_spec`); `(0, obj.m)(x)` is the call
  `m(x)`, with no receiver; an async function compiled for an older target
  (`__awaiter(this, arguments, void 0, function* () {...})`, esbuild's `__async`) is its
  generator's body, `yield` being `await`; esbuild's `__export(exports, { handler: () =>
  handler2 })` and tsc's `exports.handler = main;` above `function main` bind the export
  at the end of the module, and `__name(fn, "handler")` (`keepNames`) is `fn`.

TypeScript syntax the analysis does not need (types, interfaces, `as`, `!`) is skipped.
Nesting is bounded as in the Python front end: deeper expressions are summarised by the
names they read and deeper blocks are left out, with the reason in `truncated`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from tree_sitter import Node, Tree

from lambdashield.checks._code import ir
from lambdashield.loaders._tree_sitter import node_text as _text
from lambdashield.loaders._tree_sitter import string_value as _string

__all__ = ["MAX_BLOCK_DEPTH", "MAX_EXPR_DEPTH", "lower"]

MAX_EXPR_DEPTH = 60
MAX_BLOCK_DEPTH = 30
MAX_NESTING = 120
"""Expressions and blocks open at once, together: functions nest inside expressions in
JavaScript, so neither bound alone keeps the walk off the end of the stack."""
_UNNAMED_LITERAL_MIN = 12
_MAX_FIELD_SCAN = 20_000
"""Syntax nodes of a class body looked at for the fields its methods set."""

_FUNCTIONS = frozenset(
    {"function_expression", "function", "arrow_function", "generator_function"}
    | {"function_declaration", "generator_function_declaration"}
)
_WRAPPERS = frozenset(
    {"parenthesized_expression", "await_expression", "as_expression", "non_null_expression"}
    | {"satisfies_expression", "type_assertion", "yield_expression"}
)
"""Expressions whose value is their operand's. `yield x` is `await x` in the generator
tsc and esbuild write an async function as for older targets (`__awaiter`)."""
_COMPARE = frozenset({"==", "===", "!=", "!==", "<", "<=", ">", ">=", "in", "instanceof"})
_CALLBACK_METHODS = frozenset(
    {"forEach", "map", "flatMap", "filter", "find", "findIndex", "some", "every", "then"}
    | {"reduce", "sort", "begin", "savepoint"}
)
"""Methods that call their function argument with the receiver's data, or (postgres.js
`sql.begin(async (sql) => ...)`) with a client like the receiver."""
_APPLIED = 4
"""Arguments `f.apply(obj, args)` passes when `args` is not written out."""
_RECEIVERS = frozenset(
    {"null", "undefined", "this", "identifier", "member_expression", "subscript_expression"}
)
"""What the first argument of `f.call(...)` / `f.apply(...)` is written as when it is
the `this` to call `f` with."""
_INTEROP = frozenset(
    {"__importDefault", "__importStar", "__toESM", "_interopRequireDefault"}
    | {"_interopRequireWildcard", "_interop_require_default", "_interop_require_wildcard"}
)
"""The helpers compilers wrap `require("x")` in for ES module interop (tsc, esbuild, Babel,
SWC): the module still, its `.default` the default import (see `javascript_spec`)."""
_REQUIRES = frozenset({"require", "import", "__require"})
"""`__require` is esbuild's `require` in an ES module bundle."""
_ASYNC_HELPERS = frozenset({"__awaiter", "__async", "__generator"})
"""How tsc (`__awaiter`, and `__generator` below ES2015) and esbuild (`__async`) write an
async function for older targets: a helper that runs the generator of its body at once."""
_INERT = frozenset({"number", "string", "true", "false", "null", "undefined"})
_SKIPPED = frozenset(
    {"comment", "empty_statement", "debugger_statement", "type_alias_declaration"}
    | {"interface_declaration", "enum_declaration", "ambient_declaration", "abstract_class"}
)


def lower(tree: Tree, language: str = "javascript") -> ir.ModuleIR:
    """The module's IR, with the string literals a credential rule may want."""
    lowering = _Lowering()
    body = lowering.block(tree.root_node.named_children, "<module>", 0)
    late = lowering.late
    if lowering.renamed:
        declared = _declared_functions(tree.root_node)
        late += [a for a, local in lowering.renamed if local in declared]
    lowering.size += len(late)
    return ir.ModuleIR(
        language=language,
        body=(*body, *late),
        literals=tuple(lowering.literals),
        size=lowering.size,
        truncated=lowering.truncated,
    )


def _line(node: Node) -> int:
    return node.start_point[0] + 1


def _end(node: Node) -> int:
    return node.end_point[0] + 1


def _unwrap(node: Node) -> Node:
    for _ in range(MAX_EXPR_DEPTH):
        if node.type not in _WRAPPERS:
            break
        inner = node.named_children
        if not inner:
            break
        node = inner[0]
    return node


def _names_in(node: Node) -> tuple[ir.Expr, ...]:
    """The variables an expression reads, found without recursion."""
    found: list[ir.Expr] = []
    stack = [node]
    while stack and len(found) < 200:
        current = stack.pop()
        if current.type == "identifier":
            found.append(ir.Name(_text(current), _line(current)))
        stack.extend(current.named_children)
    return tuple(found)


def _module_name(text: str) -> str:
    return text.removeprefix("node:")


def _required(node: Node) -> str | None:
    """`"child_process"` for `require("child_process")` (also `await import("x")`), and
    for the interop forms compilers write it in: `__importDefault(require("x"))` (tsc),
    `__toESM(require("x"), 1)` (esbuild), `_interopRequireDefault(require("x"))` (Babel)."""
    node = _unwrap(node)
    for _ in range(3):
        if node.type != "call_expression":
            return None
        func = node.child_by_field_name("function")
        if func is None:
            return None
        name = _text(func) if func.type in ("identifier", "import") else _helper(func)
        if name not in _REQUIRES and name not in _INTEROP:
            return None
        args = node.child_by_field_name("arguments")
        if args is None or args.type != "arguments":
            return None
        named = [c for c in args.named_children if c.type != "comment"]
        if name in _REQUIRES:
            value = _string(named[0]) if len(named) == 1 else None
            return _module_name(value) if value is not None else None
        if not named:
            return None
        node = _unwrap(named[0])
    return None


def _comma_callee(node: Node) -> tuple[list[Node], Node] | None:
    """The leading parts and the last of a callee written `(0, obj.m)`: how tsc, esbuild and
    Babel call an imported function, so that it runs without the module object as its
    `this`; `None` for any other callee."""
    node = _unwrap(node)
    if node.type != "sequence_expression":
        return None
    parts = [c for c in node.named_children if c.type != "comment"]
    if not parts:
        return None
    return parts[:-1], _unwrap(parts[-1])


def _helper(node: Node) -> str | None:
    """The name of the compiler helper a callee is, however it is reached: `__awaiter` for
    `__awaiter`, `tslib_1.__awaiter` and `(0, tslib_1.__awaiter)`. `None` for a name
    helpers do not have (they start with `_`), known from one byte: every call asks."""
    if node.type == "parenthesized_expression":
        comma = _comma_callee(node)
        node = comma[1] if comma is not None else _unwrap(node)
    if node.type == "member_expression":
        found = node.child_by_field_name("property")
        if found is None:
            return None
        node = found
    elif node.type != "identifier":
        return None
    raw = node.text
    if not raw or raw[:1] != b"_":
        return None
    return raw.decode("utf-8", "replace")


def _async_helper(node: Node, *, inline: bool = False) -> tuple[Node, Node | None] | None:
    """The generator and the arguments passed to it (`arguments`, `[_a]`, or `None` for
    none) of `__awaiter(this, arguments, void 0, function* (event) {...})`, esbuild's
    `__async(this, null, function* () {...})` and (unless `inline`, which asks for the
    async function's own body) `__generator(this, function (_a) {...})`."""
    if node.type != "call_expression":
        return None
    func = node.child_by_field_name("function")
    args = node.child_by_field_name("arguments")
    if func is None or args is None or args.type != "arguments":
        return None
    name = _helper(func)
    if name not in _ASYNC_HELPERS or (inline and name == "__generator"):
        return None
    named = [c for c in args.named_children if c.type != "comment"]
    if len(named) < 2:
        return None
    generator = _unwrap(named[-1])
    if generator.type not in _FUNCTIONS:
        return None
    passed = _unwrap(named[1]) if name != "__generator" and len(named) > 2 else None
    if passed is not None and not (
        passed.type == "array" or (passed.type == "identifier" and _text(passed) == "arguments")
    ):
        passed = None
    return generator, passed


def _awaited(body: Node | None) -> tuple[Node, Node | None] | None:
    """The generator of an async function compiled for an older target, whose body is only
    `return __awaiter(..., function* () {...})` (or, for an arrow, that call)."""
    if body is None:
        return None
    if body.type == "statement_block":
        if body.named_child_count > 3:  # a comment or two may stand beside the `return`
            return None
        statements = [c for c in body.named_children if c.type != "comment"]
        if len(statements) != 1 or statements[0].type != "return_statement":
            return None
        value = [c for c in statements[0].named_children if c.type != "comment"]
        if len(value) != 1:
            return None
        body = value[0]
    return _async_helper(_unwrap(body), inline=True)


def _named_function(node: Node) -> Node:
    """`async (event) => {...}` for esbuild's `__name(async (event) => {...}, "handler")`
    (`keepNames`), which gives back its first argument; any other node as it is."""
    func = node.child_by_field_name("function") if node.type == "call_expression" else None
    if func is None or _helper(func) != "__name":
        return node
    args = node.child_by_field_name("arguments")
    named = [c for c in args.named_children if c.type != "comment"] if args is not None else []
    if named and _unwrap(named[0]).type in _FUNCTIONS:
        return _unwrap(named[0])
    return node


def _bundle_exports(node: Node) -> list[tuple[str, str]] | None:
    """`[("handler", "handler2")]` for esbuild's `__export(src_exports, { handler: () =>
    handler2 })`, which defines each export of a CommonJS bundle as a getter of the local
    it was bundled as; `None` for any other call."""
    if node.type != "call_expression":
        return None
    func = node.child_by_field_name("function")
    args = node.child_by_field_name("arguments")
    if func is None or func.type != "identifier" or _helper(func) != "__export" or args is None:
        return None
    named = [c for c in args.named_children if c.type != "comment"]
    if len(named) != 2 or named[1].type != "object":
        return None
    found: list[tuple[str, str]] = []
    for pair in named[1].named_children:
        if pair.type != "pair":
            continue
        key = _property_key(pair.child_by_field_name("key"))
        value = pair.child_by_field_name("value")
        getter = _unwrap(value) if value is not None else None
        body = getter.child_by_field_name("body") if getter is not None else None
        if key is None or getter is None or getter.type not in _FUNCTIONS or body is None:
            continue
        if body.type == "statement_block":
            returned = [c for c in body.named_children if c.type != "comment"]
            if len(returned) != 1 or returned[0].type != "return_statement":
                continue
            inner = returned[0].named_children
            body = inner[0] if len(inner) == 1 else body
        body = _unwrap(body)
        if body.type == "identifier":
            found.append((key, _text(body)))
    return found


def _declared_functions(root: Node) -> set[str]:
    """The module's function declarations, which JavaScript binds before any statement
    runs (`exports.handler = main;` may come first, as tsc writes it)."""
    found: set[str] = set()
    for child in root.named_children:
        if child.type == "export_statement":
            child = child.child_by_field_name("declaration") or child
        if child.type in ("function_declaration", "generator_function_declaration"):
            name = child.child_by_field_name("name")
            if name is not None:
                found.add(_text(name))
    return found


def _export_name(node: Node) -> str | None:
    """`handler` for `exports.handler`, `module.exports.handler`, `module.exports["handler"]`."""
    if node.type not in ("member_expression", "subscript_expression"):
        return None
    base = node.child_by_field_name("object")
    if base is None or _text(base) not in ("exports", "module.exports"):
        return None
    if node.type == "member_expression":
        prop = node.child_by_field_name("property")
        return _text(prop) or None
    index = node.child_by_field_name("index")
    return _string(index) if index is not None else None


def _property_key(node: Node | None) -> str | None:
    if node is None:
        return None
    if node.type in ("property_identifier", "identifier", "private_property_identifier"):
        return _text(node)
    if node.type in ("string", "template_string"):
        return _string(node)
    if node.type == "number":
        return _text(node)
    return None


def _heritage(node: Node) -> Node | None:
    """The class a class extends: `Base` in `class Repo extends Base` (and TypeScript's
    `extends Base<T> implements I`)."""
    for child in node.named_children:
        if child.type != "class_heritage":
            continue
        for part in child.named_children:
            if part.type == "extends_clause":
                return part.child_by_field_name("value")
            if part.type != "implements_clause":
                return part
    return None


def _prototype_method(node: Node) -> str | None:
    """`slice` for `Array.prototype.slice` or `[].slice`: a method taken from a prototype
    rather than a function of its own."""
    if node.type != "member_expression":
        return None
    base = node.child_by_field_name("object")
    if base is None:
        return None
    base = _unwrap(base)
    if base.type in ("array", "string", "template_string", "object") or (
        base.type == "member_expression"
        and _text(base.child_by_field_name("property")) == "prototype"
    ):
        return _text(node.child_by_field_name("property")) or None
    return None


def _instance_fields(body: Node) -> set[str]:
    """The names a class body assigns as `this.name = ...`, found without recursion."""
    found: set[str] = set()
    stack = [body]
    visits = 0
    while stack and visits < _MAX_FIELD_SCAN:
        node = stack.pop()
        visits += 1
        if node.type in ("assignment_expression", "augmented_assignment_expression"):
            left = node.child_by_field_name("left")
            if left is not None and left.type == "member_expression":
                base = left.child_by_field_name("object")
                if base is not None and base.type == "this":
                    found.add(_text(left.child_by_field_name("property")))
        stack.extend(node.named_children)
    return found


def _assigns(stmt: ir.Stmt, names: set[str]) -> bool:
    return isinstance(stmt, ir.Assign) and any(
        isinstance(t, ir.TName) and t.id in names for t in stmt.targets
    )


def _forwarded(takes: tuple[ir.Param, ...] | None) -> tuple[ir.Param, ...]:
    """The parameters of a subclass's implicit constructor, which passes its arguments on
    to the parent's: one per parameter the parent's takes, so each keeps its position,
    or a rest parameter when the parent's is not known."""
    if takes is None:
        return (ir.Param("<args>", "vararg"),)
    return tuple(
        ir.Param(f"<arg{i}>", "vararg" if p.kind == "vararg" else "positional")
        for i, p in enumerate(takes)
    )


def _parameter_properties(params: list[Node]) -> Iterator[ir.Assign]:
    """TypeScript's `constructor(private readonly db: Db)`: the parameter is also stored
    on the instance, as `this.db = db` first thing in the constructor would."""
    for param in params:
        if param.type not in ("required_parameter", "optional_parameter"):
            continue
        if not any(
            c.type in ("accessibility_modifier", "readonly", "override_modifier")
            for c in param.children
        ):
            continue
        pattern = param.child_by_field_name("pattern")
        if pattern is not None and pattern.type == "identifier":
            name = _text(pattern)
            line = _line(param)
            this = ir.Name("this", line)
            yield ir.Assign((ir.TAttr(this, name),), ir.Name(name, line), line)


class _Lowering:
    def __init__(self) -> None:
        self.literals: list[ir.Literal] = []
        self.truncated: str | None = None
        self.size = 0
        self.scope = "<module>"
        self.hoisted: list[ir.Stmt] = []
        """Anonymous functions met in the current statement, defined before it, and what
        the leading parts of a comma callee (`(log(), f)(x)`) evaluate before the call."""
        self._anonymous: dict[str, int] = {}
        """Per scope, the anonymous functions named so far: names count, never lines, so
        moving code keeps every pointer."""
        self._open = 0
        """Expressions and blocks being lowered right now (see `MAX_NESTING`)."""
        self._class_scopes: set[str] = set()
        self._constructors: dict[str, tuple[ir.Param, ...] | None] = {}
        """Per class name, the parameters its constructor takes (`None` when unknown: it
        inherits one from a class of another module), for a subclass that has none."""
        self._named: set[tuple[int, int]] = set()
        """Byte spans of the strings already recorded with a name, not to be recorded
        again without one (as the Python front end does)."""
        self.late: list[ir.Assign] = []
        """Exports bound to a local defined later (`__export(...)` of a bundle): bound
        again at the end of the module, where that local is what the export gives."""
        self.renamed: list[tuple[ir.Assign, str]] = []
        """`exports.handler = main;` at the top level, with the local: bound again at the
        end too when `main` is a function declaration (`_declared_functions`), which tsc
        puts the export before."""
        self._params: tuple[ir.Param, ...] = ()
        """The parameters of the function being lowered, for `__awaiter(this, arguments,
        ...)`, which passes them on."""
        self._modules: dict[str, str] = {}
        """Names bound to a module (`core_1` -> `@middy/core`), to know `middy` by."""

    # --- statements ------------------------------------------------------------------

    def block(self, nodes: list[Node], scope: str, depth: int) -> tuple[ir.Stmt, ...]:
        if depth > MAX_BLOCK_DEPTH or self._open > MAX_NESTING:
            self.truncated = f"blocks nested deeper than {MAX_BLOCK_DEPTH} levels"
            return ()
        self._open += 1
        try:
            return self._block(nodes, scope, depth)
        finally:
            self._open -= 1

    def _block(self, nodes: list[Node], scope: str, depth: int) -> tuple[ir.Stmt, ...]:
        out: list[ir.Stmt] = []
        for node in nodes:
            saved = self.hoisted
            self.hoisted = []
            lowered = list(self.statement(node, scope, depth))
            out.extend(self.hoisted)
            out.extend(lowered)
            self.hoisted = saved
        self.size += len(out)
        return tuple(out)

    def body_of(self, node: Node | None, scope: str, depth: int) -> tuple[ir.Stmt, ...]:
        if node is None:
            return ()
        if node.type == "statement_block":
            return self.block(node.named_children, scope, depth + 1)
        return self.block([node], scope, depth + 1)

    def statement(self, node: Node, scope: str, depth: int) -> Iterator[ir.Stmt]:
        self.scope = scope
        kind = node.type
        line = _line(node)
        if kind in _SKIPPED:
            return
        if kind == "export_statement":
            declaration = node.child_by_field_name("declaration")
            default_value = node.child_by_field_name("value")
            default = any(c.type == "default" for c in node.children)
            if declaration is not None:
                yield from self.statement(declaration, scope, depth)
                if default:
                    yield from self.default_declaration(declaration, scope, depth)
                return
            if default_value is not None and default:
                yield from self.default_value(default_value, scope, depth)
                return
            for clause in node.named_children:
                if clause.type == "export_clause":
                    yield from self.export_clause(clause)
            return
        if kind in ("function_declaration", "generator_function_declaration"):
            name = _text(node.child_by_field_name("name")) or "<anonymous>"
            yield self.function(node, name, scope, depth)
        elif kind in ("lexical_declaration", "variable_declaration"):
            for declarator in node.named_children:
                if declarator.type == "variable_declarator":
                    yield from self.declarator(declarator, scope, depth)
        elif kind in ("class_declaration", "abstract_class_declaration"):
            yield from self.class_(node, scope, depth)
        elif kind == "expression_statement":
            inner = node.named_children
            if inner:
                yield from self.expression_statement(inner[0], scope, depth)
        elif kind == "return_statement":
            inner = node.named_children
            value = self.expr(inner[0]) if inner else None
            yield ir.Return(value, line, _end(node))
        elif kind == "throw_statement":
            inner = node.named_children
            yield ir.Raise(self.expr(inner[0]) if inner else None, line)
        elif kind in ("break_statement", "continue_statement"):
            yield ir.Jump("break" if kind == "break_statement" else "continue", line)
        elif kind == "statement_block":
            yield from self.block(node.named_children, scope, depth + 1)
        elif kind == "if_statement":
            yield self.if_(node, scope, depth)
        elif kind == "switch_statement":
            yield from self.switch(node, scope, depth)
        elif kind == "try_statement":
            yield self.try_(node, scope, depth)
        elif kind in ("for_in_statement",):
            left = node.child_by_field_name("left")
            right = node.child_by_field_name("right")
            yield ir.Loop(
                self.target(left) if left is not None else None,
                self.expr(right) if right is not None else ir.Const(None, line),
                None,
                self.body_of(node.child_by_field_name("body"), scope, depth),
                (),
                line,
            )
        elif kind in ("for_statement", "while_statement", "do_statement"):
            body: list[ir.Stmt] = []
            initializer = node.child_by_field_name("initializer")
            if initializer is not None:
                yield from self.statement(initializer, scope, depth)
            condition = node.child_by_field_name("condition")
            test: ir.Expr = ir.Const(True, line)
            if condition is not None and condition.is_named:
                if condition.type == "expression_statement":
                    inner = condition.named_children
                    condition = inner[0] if inner else None
                if condition is not None and condition.type != "empty_statement":
                    test = self.expr(condition)
            body.extend(self.body_of(node.child_by_field_name("body"), scope, depth))
            increment = node.child_by_field_name("increment")
            if increment is not None:
                body.append(ir.ExprStmt(self.expr(increment), _line(increment)))
            yield ir.Loop(None, None, test, tuple(body), (), line)
        elif kind == "labeled_statement":
            labelled = node.child_by_field_name("body")
            if labelled is not None:
                yield from self.statement(labelled, scope, depth)
        elif kind == "import_statement":
            yield from self.import_(node)
        elif node.is_named and not kind.endswith(("declaration", "statement")):
            yield ir.ExprStmt(self.expr(node), line)

    def declarator(self, node: Node, scope: str, depth: int) -> Iterator[ir.Stmt]:
        name = node.child_by_field_name("name")
        value = node.child_by_field_name("value")
        if name is None:
            return
        line = _line(node)
        if value is None:
            if name.type == "identifier":
                yield ir.Assign((ir.TName(_text(name)),), ir.Const(None, line), line)
            return
        inner = _named_function(_unwrap(value))
        if name.type == "identifier" and inner.type in _FUNCTIONS:
            yield self.function(inner, _text(name), scope, depth)
            return
        if name.type == "identifier":
            wrapped = self.middy(inner, _text(name), scope, line)
            if wrapped is not None:
                yield wrapped
                return
        module = _required(value)
        if module is not None:
            if name.type == "identifier":
                self._modules[_text(name)] = module
                yield ir.Assign((ir.TName(_text(name)),), ir.Module(module, line), line)
                return
            if name.type == "object_pattern":
                yield from self.required_members(name, module, line)
                return
        if name.type == "identifier":
            self.literal(_text(name), value)
        yield ir.Assign((self.target(name),), self.expr(value), line)

    def required_members(self, pattern: Node, module: str, line: int) -> Iterator[ir.Stmt]:
        for child in pattern.named_children:
            if child.type == "shorthand_property_identifier_pattern":
                member = _text(child)
                yield ir.Assign((ir.TName(member),), ir.Module(f"{module}.{member}", line), line)
            elif child.type == "pair_pattern":
                key = _property_key(child.child_by_field_name("key"))
                target = child.child_by_field_name("value")
                if key is not None and target is not None and target.type == "identifier":
                    yield ir.Assign(
                        (ir.TName(_text(target)),), ir.Module(f"{module}.{key}", line), line
                    )

    def expression_statement(self, node: Node, scope: str, depth: int) -> Iterator[ir.Stmt]:
        node = _unwrap(node)
        line = _line(node)
        bundled = _bundle_exports(node) if scope == "<module>" else None
        if bundled is not None:
            self.late.extend(
                ir.Assign((ir.TName(name),), ir.Name(local, line), line)
                for name, local in bundled
                if name != local
            )
            return
        if node.type == "assignment_expression":
            left = node.child_by_field_name("left")
            right = node.child_by_field_name("right")
            if left is None or right is None:
                return
            exported = _export_name(left)
            inner = _named_function(_unwrap(right))
            if exported is not None and scope == "<module>" and inner.type == "identifier":
                local = _text(inner)
                if local != exported:
                    alias = ir.Assign((ir.TName(exported),), ir.Name(local, line), line)
                    self.renamed.append((alias, local))
            if exported is not None and inner.type in _FUNCTIONS:
                yield self.function(inner, exported, scope, depth)
                return
            if exported is not None:
                wrapped = self.middy(inner, exported, scope, line)
                if wrapped is not None:
                    yield wrapped
                    return
            if _text(left) == "module.exports" and inner.type == "object":
                yield from self.exported_object(inner, scope, depth)
                return
            if left.type == "identifier" and inner.type in _FUNCTIONS:
                yield self.function(inner, _text(left), scope, depth)
                return
            self.literal(_target_name(left), right)
            module = _required(right)
            value: ir.Expr = ir.Module(module, line) if module is not None else self.expr(right)
            if exported is not None:
                yield ir.Assign((ir.TName(exported),), value, line)
                return
            yield ir.Assign((self.target(left),), value, line)
        elif node.type == "augmented_assignment_expression":
            left = node.child_by_field_name("left")
            right = node.child_by_field_name("right")
            operator = _text(node.child_by_field_name("operator"))
            if left is None or right is None:
                return
            yield ir.Assign((self.target(left),), self.expr(right), line, operator.rstrip("="))
        else:
            yield ir.ExprStmt(self.expr(node), line)

    def default_declaration(self, node: Node, scope: str, depth: int) -> Iterator[ir.Stmt]:
        """`export default function handler(event) {}`: also the module's `default`, the
        name Lambda resolves for `Handler: app.default`."""
        name = node.child_by_field_name("name")
        line = _line(node)
        if name is not None and node.type in ("function_declaration", "class_declaration"):
            yield ir.Assign((ir.TName("default"),), ir.Name(_text(name), line), line)
        elif node.type in _FUNCTIONS:
            yield self.function(node, "default", scope, depth)

    def default_value(self, node: Node, scope: str, depth: int) -> Iterator[ir.Stmt]:
        """`export default async (event) => {}`, `export default main`,
        `export default middy(main).use(...)`: the module's `default`."""
        inner = _unwrap(node)
        line = _line(node)
        if inner.type in _FUNCTIONS:
            yield self.function(inner, "default", scope, depth)
            return
        wrapped = self.middy(inner, "default", scope, line)
        if wrapped is not None:
            yield wrapped
            return
        yield ir.Assign((ir.TName("default"),), self.expr(node), line)

    def export_clause(self, clause: Node) -> Iterator[ir.Stmt]:
        """`export { main as handler }`: the exported name is bound to the function."""
        for spec in clause.named_children:
            if spec.type != "export_specifier":
                continue
            local = spec.child_by_field_name("name")
            alias = spec.child_by_field_name("alias")
            if local is None or alias is None or _text(alias) == _text(local):
                continue
            line = _line(spec)
            yield ir.Assign((ir.TName(_text(alias)),), ir.Name(_text(local), line), line)

    def middy(self, node: Node, name: str, scope: str, line: int) -> ir.Def | None:
        """`middy(base).use(validator(...)).use(...)`: an entry point that calls `base` with
        the event, its middlewares as decorators (a spec may know a validating one)."""
        middlewares: list[Node] = []
        current = node
        for _ in range(MAX_EXPR_DEPTH):
            if current.type != "call_expression":
                return None
            func = current.child_by_field_name("function")
            args = current.child_by_field_name("arguments")
            if func is None or args is None:
                return None
            if func.type == "member_expression":
                prop = _text(func.child_by_field_name("property"))
                base = func.child_by_field_name("object")
                if prop in ("use", "before", "after", "onError") and base is not None:
                    middlewares.extend(args.named_children)
                    current = _unwrap(base)
                    continue
            if not self.is_middy(func) or not args.named_children:
                return None
            break
        else:
            return None
        qualname = name if scope == "<module>" else f"{scope}.<locals>.{name}"
        inner = self.expr(args.named_children[0])
        decorators = tuple(self.expr(m) for m in reversed(middlewares))
        event, context = ir.Name("event", line), ir.Name("context", line)
        body = (ir.Return(ir.Call(inner, (event, context), (), line, line), line, line),)
        params = (ir.Param("event"), ir.Param("context"))
        end = _end(node)
        return ir.Def(name, qualname, params, body, decorators, line, end, f"{qualname}@{line}")

    def is_middy(self, func: Node) -> bool:
        """`middy`, and how compilers call its default import: `(0, core_1.default)` (tsc),
        `(0, import_core.default)` (esbuild), `(0, _core.default)` (Babel)."""
        node = func
        if node.type == "parenthesized_expression":
            comma = _comma_callee(node)
            node = comma[1] if comma is not None else _unwrap(node)
        if node.type == "member_expression":
            if _text(node.child_by_field_name("property")) != "default":
                return False
            node = _unwrap(node.child_by_field_name("object") or node)
        if node.type != "identifier":
            return False
        name = _text(node)
        return name == "middy" or self._modules.get(name) == "@middy/core"

    def exported_object(self, node: Node, scope: str, depth: int) -> Iterator[ir.Stmt]:
        """`module.exports = { handler, main: run, other: async (e) => {} }`."""
        for child in node.named_children:
            line = _line(child)
            if child.type == "shorthand_property_identifier":
                continue  # `{ handler }`: already bound under that name
            if child.type == "pair":
                key = _property_key(child.child_by_field_name("key"))
                value = child.child_by_field_name("value")
                if key is None or value is None:
                    continue
                inner = _unwrap(value)
                if inner.type in _FUNCTIONS:
                    yield self.function(inner, key, scope, depth)
                elif key != _text(inner):
                    yield ir.Assign((ir.TName(key),), self.expr(value), line)
            elif child.type == "method_definition":
                name = _property_key(child.child_by_field_name("name"))
                if name is not None:
                    yield self.function(child, name, scope, depth)

    def function(self, node: Node, name: str, scope: str, depth: int) -> ir.Def:
        if scope == "<module>":
            qualname = name
        elif scope in self._class_scopes:
            qualname = f"{scope}.{name}"
        else:
            qualname = f"{scope}.<locals>.{name}"
        formal = node.child_by_field_name("parameters")
        params = self.params(node)
        body_node = node.child_by_field_name("body")
        compiled = _awaited(body_node)
        if compiled is not None:
            # An async function compiled for an older target: its generator's body is the
            # function's, with the generator's parameters when it is passed the arguments.
            generator, passed = compiled
            body_node = generator.child_by_field_name("body")
            if passed is not None:
                params = self.params(generator)
        saved = self.scope
        saved_params = self._params
        self.scope = qualname
        self._params = tuple(params)
        line = _line(node)
        body: tuple[ir.Stmt, ...]
        if body_node is None:
            body = ()
        elif body_node.type == "statement_block":
            body = self.block(body_node.named_children, qualname, depth + 1)
        else:
            saved_hoisted = self.hoisted
            self.hoisted = []
            value = self.expr(body_node)
            body = (*self.hoisted, ir.Return(value, _line(body_node), _end(body_node)))
            self.hoisted = saved_hoisted
        if formal is not None and name == "constructor" and scope in self._class_scopes:
            stored = tuple(_parameter_properties(formal.named_children))
            self.size += len(stored)
            body = (*stored, *body)
        self.scope = saved
        self._params = saved_params
        return ir.Def(
            name, qualname, tuple(params), body, (), line, _end(node), f"{qualname}@{line}"
        )

    def params(self, node: Node) -> list[ir.Param]:
        params: list[ir.Param] = []
        single = node.child_by_field_name("parameter")
        if single is not None:
            params.append(ir.Param(_text(single)))
        formal = node.child_by_field_name("parameters")
        if formal is not None:
            for position, param in enumerate(formal.named_children):
                params.extend(self.param(param, position))
        return params

    def param(self, node: Node, position: int) -> Iterator[ir.Param]:
        kind = node.type
        if kind in ("required_parameter", "optional_parameter"):
            pattern = node.child_by_field_name("pattern")
            if pattern is not None:
                yield from self.param(pattern, position)
            return
        if kind == "identifier":
            yield ir.Param(_text(node))
        elif kind == "assignment_pattern":
            left = node.child_by_field_name("left")
            if left is not None:
                yield from self.param(left, position)
        elif kind == "rest_pattern":
            inner = node.named_children
            if inner and inner[0].type == "identifier":
                yield ir.Param(_text(inner[0]), "vararg")
        elif kind in ("object_pattern", "array_pattern"):
            yield ir.Param(f"<param{position}>", target=self.target(node))

    def class_(self, node: Node, scope: str, depth: int) -> Iterator[ir.Stmt]:
        name = _text(node.child_by_field_name("name")) or "<class>"
        qualname = name if scope == "<module>" else f"{scope}.{name}"
        self._class_scopes.add(qualname)
        line = _line(node)
        parent = _heritage(node)
        bases = (self.expr(parent),) if parent is not None else ()
        body_node = node.child_by_field_name("body")
        members: list[ir.Stmt] = []
        fields: list[ir.Assign] = []
        if body_node is not None and depth < MAX_BLOCK_DEPTH:
            for member in body_node.named_children:
                if member.type == "method_definition":
                    method = _property_key(member.child_by_field_name("name"))
                    if method is not None:
                        members.append(self.function(member, method, qualname, depth + 1))
                elif member.type in ("field_definition", "public_field_definition"):
                    members.extend(self.field(member, qualname, depth, fields))
        if body_node is not None and any(isinstance(m, ir.Assign) for m in members):
            # `this.sql` on an instance never reads a static `sql`: where a name is both,
            # the analysis (one namespace per class) keeps the instance's.
            shadowed = _instance_fields(body_node) | {
                t.attr for f in fields for t in f.targets if isinstance(t, ir.TAttr)
            }
            members = [m for m in members if not _assigns(m, shadowed)]
        own = next((m for m in members if isinstance(m, ir.Def) and m.name == "constructor"), None)
        takes: tuple[ir.Param, ...] | None = own.params if own is not None else ()
        forward: tuple[ir.Param, ...] | None = None
        if own is None and parent is not None:
            takes = self._constructors.get(_text(parent)) if parent.type == "identifier" else None
            forward = _forwarded(takes)
        if fields:
            members = self.with_fields(members, fields, qualname, line, forward)
            if forward is not None:
                takes = forward
        self._constructors[name] = takes
        self.scope = scope
        yield ir.ClassDef(
            name,
            qualname,
            bases,
            tuple(members),
            (),
            line,
            f"{qualname}@{line}",
            inherits=parent is not None,
        )

    def field(
        self, node: Node, qualname: str, depth: int, fields: list[ir.Assign]
    ) -> Iterator[ir.Stmt]:
        """`handle = async (event) => {}` is a method; `http = axios.create()` is set on
        each new instance, as if first in the constructor (into `fields`). A static field
        belongs to the class: a member of it, like a method (`Repo.table`)."""
        key = _property_key(
            node.child_by_field_name("name") or node.child_by_field_name("property")
        )
        value = node.child_by_field_name("value")
        if key is None or value is None:
            return
        static = any(c.type == "static" for c in node.children)
        inner = _unwrap(value)
        if inner.type in _FUNCTIONS:
            yield self.function(inner, key, qualname, depth + 1)
            return
        self.scope = qualname
        self.literal(key, value)
        line = _line(node)
        lowered = self.expr(value)
        if static:
            yield ir.Assign((ir.TName(key),), lowered, line)
        else:
            fields.append(ir.Assign((ir.TAttr(ir.Name("this", line), key),), lowered, line))

    def with_fields(
        self,
        members: list[ir.Stmt],
        fields: list[ir.Assign],
        qualname: str,
        line: int,
        forward: tuple[ir.Param, ...] | None,
    ) -> list[ir.Stmt]:
        """The constructor, with the instance fields set first, made when there is none:
        for a subclass (`forward` set), one that takes the parameters `forward` names and
        passes them on to `super(...)`, as JavaScript's implicit constructor does."""
        self.size += len(fields)
        for position, member in enumerate(members):
            if isinstance(member, ir.Def) and member.name == "constructor":
                members[position] = replace(member, body=(*fields, *member.body))
                return members
        name = f"{qualname}.constructor"
        end = fields[-1].line
        params: tuple[ir.Param, ...] = ()
        body: tuple[ir.Stmt, ...] = tuple(fields)
        if forward is not None:
            params = forward
            passed = tuple(
                ir.Star(ir.Name(p.name, line), line)
                if p.kind == "vararg"
                else ir.Name(p.name, line)
                for p in forward
            )
            parent = ir.Attr(ir.Name("super", line), "constructor", line)
            body = (ir.ExprStmt(ir.Call(parent, passed, (), line, line), line), *fields)
        constructor = ir.Def("constructor", name, params, body, (), line, end, f"{name}@{line}")
        return [*members, constructor]

    def if_(self, node: Node, scope: str, depth: int) -> ir.If:
        arms: list[tuple[ir.Expr, tuple[ir.Stmt, ...]]] = []
        orelse: tuple[ir.Stmt, ...] = ()
        current: Node | None = node
        while current is not None:
            condition = current.child_by_field_name("condition")
            test = self.expr(condition) if condition is not None else ir.Const(True, _line(current))
            arms.append(
                (test, self.body_of(current.child_by_field_name("consequence"), scope, depth))
            )
            alternative = current.child_by_field_name("alternative")
            current = None
            if alternative is not None:
                inner = alternative.named_children
                if len(inner) == 1 and inner[0].type == "if_statement":
                    current = inner[0]  # `else if`: the next arm
                elif inner:
                    orelse = self.body_of(inner[0], scope, depth)
        return ir.If(tuple(arms), orelse, _line(node))

    def switch(self, node: Node, scope: str, depth: int) -> Iterator[ir.Stmt]:
        value = node.child_by_field_name("value")
        subject = self.expr(value) if value is not None else ir.Const(None, _line(node))
        body = node.child_by_field_name("body")
        arms: list[tuple[ir.Expr, tuple[ir.Stmt, ...]]] = []
        orelse: tuple[ir.Stmt, ...] = ()
        for case in body.named_children if body is not None else ():
            statements = list(case.children_by_field_name("body"))
            lowered = self.block(statements, scope, depth + 1)
            cut = next(
                (
                    i
                    for i, st in enumerate(lowered)
                    if isinstance(st, ir.Jump) and st.kind == "break"
                ),
                None,
            )
            if cut is not None:
                lowered = lowered[:cut]  # `break` leaves the `switch`, not a loop
            if case.type == "switch_default":
                orelse = lowered
            elif case.type == "switch_case":
                arms.append((ir.Opaque((subject,), _line(case)), lowered))
        if arms or orelse:
            yield ir.If(
                tuple(arms) or ((ir.Opaque((subject,), _line(node)), ()),), orelse, _line(node)
            )

    def try_(self, node: Node, scope: str, depth: int) -> ir.Try:
        handlers: list[ir.TryHandler] = []
        handler = node.child_by_field_name("handler")
        if handler is not None:
            parameter = handler.child_by_field_name("parameter")
            name = (
                _text(parameter)
                if parameter is not None and parameter.type == "identifier"
                else None
            )
            handlers.append(
                ir.TryHandler(
                    (),
                    name,
                    self.body_of(handler.child_by_field_name("body"), scope, depth),
                    _line(handler),
                )
            )
        finalizer = node.child_by_field_name("finalizer")
        final = (
            self.body_of(finalizer.child_by_field_name("body"), scope, depth) if finalizer else ()
        )
        return ir.Try(
            self.body_of(node.child_by_field_name("body"), scope, depth),
            tuple(handlers),
            (),
            final,
            _line(node),
        )

    def import_(self, node: Node) -> Iterator[ir.Stmt]:
        source = node.child_by_field_name("source")
        module = _string(source) if source is not None else None
        if module is None:
            return
        module = _module_name(module)
        line = _line(node)
        for clause in node.named_children:
            if clause.type != "import_clause":
                continue
            for part in clause.named_children:
                if part.type == "identifier":  # default import
                    self._modules[_text(part)] = module
                    yield ir.Assign((ir.TName(_text(part)),), ir.Module(module, line), line)
                elif part.type == "namespace_import":
                    for name in part.named_children:
                        if name.type == "identifier":
                            yield ir.Assign((ir.TName(_text(name)),), ir.Module(module, line), line)
                elif part.type == "named_imports":
                    for spec in part.named_children:
                        if spec.type != "import_specifier":
                            continue
                        imported = _property_key(spec.child_by_field_name("name"))
                        alias = spec.child_by_field_name("alias")
                        bound = _text(alias) if alias is not None else imported
                        if imported is None or not bound:
                            continue
                        qualname = module if imported == "default" else f"{module}.{imported}"
                        yield ir.Assign((ir.TName(bound),), ir.Module(qualname, line), line)

    # --- targets and literals --------------------------------------------------------

    def target(self, node: Node, depth: int = 0) -> ir.Target:
        node = _unwrap(node)
        kind = node.type
        if depth > MAX_EXPR_DEPTH:
            self.truncated = f"expressions nested deeper than {MAX_EXPR_DEPTH} levels"
            return ir.TName("<unknown>")
        if kind in ("identifier", "shorthand_property_identifier_pattern"):
            return ir.TName(_text(node))
        if kind == "member_expression":
            base = node.child_by_field_name("object")
            prop = node.child_by_field_name("property")
            if base is not None:
                return ir.TAttr(self.expr(base), _text(prop))
        if kind == "subscript_expression":
            base = node.child_by_field_name("object")
            index = node.child_by_field_name("index")
            if base is not None and index is not None:
                return ir.TIndex(self.expr(base), self.expr(index))
        if kind == "array_pattern":
            return ir.TTuple(tuple(self.target(c, depth + 1) for c in node.named_children))
        if kind == "object_pattern":
            items: list[ir.Target] = []
            keys: list[str | None] = []
            for child in node.named_children:
                if child.type == "shorthand_property_identifier_pattern":
                    items.append(ir.TName(_text(child)))
                    keys.append(_text(child))
                elif child.type == "pair_pattern":
                    value = child.child_by_field_name("value")
                    if value is not None:
                        items.append(self.target(value, depth + 1))
                        keys.append(_property_key(child.child_by_field_name("key")))
                elif child.type == "object_assignment_pattern":
                    left = child.child_by_field_name("left")
                    if left is not None:
                        items.append(self.target(left, depth + 1))
                        keys.append(_text(left) if left.type.startswith("shorthand") else None)
                elif child.type == "rest_pattern":
                    inner = child.named_children
                    if inner:
                        items.append(self.target(inner[0], depth + 1))
                        keys.append(None)
            return ir.TTuple(tuple(items), tuple(keys))
        if kind == "assignment_pattern":
            left = node.child_by_field_name("left")
            if left is not None:
                return self.target(left, depth + 1)
        if kind == "rest_pattern":
            inner = node.named_children
            if inner:
                return ir.TStar(self.target(inner[0], depth + 1))
        return ir.TName("<unknown>")

    def literal(self, name: str | None, value: Node) -> None:
        if name is None:
            return
        inner = _unwrap(value)
        text = _string(inner)
        if text is not None:
            self._named.add((inner.start_byte, inner.end_byte))
            self.literals.append(ir.Literal(name, text, _line(value), _end(value), self.scope))

    def compared_literal(self, left: Node, right: Node) -> None:
        """`if (token === "s3cr3t")`: a credential checked against a literal."""
        for named, other in ((left, right), (right, left)):
            self.literal(_target_name(_unwrap(named)), other)

    # --- expressions -----------------------------------------------------------------

    def expr(self, node: Node, depth: int = 0) -> ir.Expr:
        if depth > MAX_EXPR_DEPTH or self._open > MAX_NESTING:
            self.truncated = f"expressions nested deeper than {MAX_EXPR_DEPTH} levels"
            return ir.Opaque(_names_in(node), _line(node))
        self._open += 1
        try:
            return self._expr(node, depth)
        finally:
            self._open -= 1

    def _expr(self, node: Node, depth: int) -> ir.Expr:
        line = _line(node)
        d = depth + 1
        kind = node.type
        if kind in _WRAPPERS:
            inner = node.named_children
            return self.expr(inner[0], d) if inner else ir.Opaque((), line)
        if kind in ("identifier", "shorthand_property_identifier"):
            name = _text(node)
            if name == "undefined":
                return ir.Const(None, line)
            return ir.Name(name, line)
        if kind in ("this", "super"):
            return ir.Name(kind, line)
        if kind in ("string", "template_string"):
            text = _string(node)
            if text is not None:
                if (
                    len(text) >= _UNNAMED_LITERAL_MIN
                    and (node.start_byte, node.end_byte) not in self._named
                ):
                    self.literals.append(ir.Literal(None, text, line, _end(node), self.scope))
                return ir.Const(text, line)
            return self.template(node, d)
        if kind == "number":
            try:
                return ir.Const(float(_text(node).replace("_", "")), line)
            except ValueError:
                return ir.Const(0, line)
        if kind in ("true", "false"):
            return ir.Const(kind == "true", line)
        if kind in ("null", "undefined"):
            return ir.Const(None, line)
        if kind == "member_expression":
            base = node.child_by_field_name("object")
            prop = node.child_by_field_name("property")
            if base is None:
                return ir.Opaque((), line)
            return ir.Attr(self.expr(base, d), _text(prop), line)
        if kind == "subscript_expression":
            base = node.child_by_field_name("object")
            index = node.child_by_field_name("index")
            if base is None or index is None:
                return ir.Opaque((), line)
            return ir.Index(self.expr(base, d), self.expr(index, d), line)
        if kind in ("call_expression", "new_expression"):
            return self.call(node, d)
        if kind == "binary_expression":
            return self.binary(node, d)
        if kind == "unary_expression":
            operator = _text(node.child_by_field_name("operator"))
            argument = node.child_by_field_name("argument")
            if argument is None:
                return ir.Opaque((), line)
            if operator == "!":
                return ir.Not(self.expr(argument, d), line)
            if operator in ("typeof", "void", "delete"):
                self.expr(argument, d)
                return ir.Opaque((), line)
            return ir.Opaque((self.expr(argument, d),), line)
        if kind == "ternary_expression":
            test = node.child_by_field_name("condition")
            body = node.child_by_field_name("consequence")
            orelse = node.child_by_field_name("alternative")
            if test is None or body is None or orelse is None:
                return ir.Opaque(_names_in(node), line)
            return ir.Cond(self.expr(test, d), self.expr(body, d), self.expr(orelse, d), line)
        if kind == "array":
            return ir.Seq("list", tuple(self.expr(c, d) for c in node.named_children), (), line)
        if kind == "object":
            return self.object(node, d)
        if kind == "spread_element":
            inner = node.named_children
            return ir.Star(self.expr(inner[0], d), line) if inner else ir.Opaque((), line)
        if kind in _FUNCTIONS or kind == "class":
            return self.anonymous(node)
        if kind in ("assignment_expression", "augmented_assignment_expression"):
            left = node.child_by_field_name("left")
            right = node.child_by_field_name("right")
            if left is not None and left.type == "identifier" and right is not None:
                return ir.Named(_text(left), self.expr(right, d), line)
            return ir.Opaque(tuple(self.expr(c, d) for c in node.named_children), line)
        if kind == "sequence_expression":
            parts = tuple(self.expr(c, d) for c in node.named_children)
            return ir.Opaque(parts, line) if parts else ir.Opaque((), line)
        if kind in ("regex", "update_expression", "meta_property"):
            return ir.Opaque((), line)
        return ir.Opaque(_names_in(node), line)

    def anonymous(self, node: Node) -> ir.Expr:
        """A function used as a value: defined just before the statement, named by its
        position among the scope's anonymous functions (`<anonymous1>`)."""
        line = _line(node)
        if node.type == "class":
            return ir.Opaque((), line)
        scope = self.scope
        count = self._anonymous[scope] = self._anonymous.get(scope, 0) + 1
        name = f"<anonymous{count}>"
        self.hoisted.append(self.function(node, name, scope, 0))
        self.scope = scope
        return ir.Name(name, line)

    def template(self, node: Node, d: int) -> ir.Expr:
        parts: list[ir.Expr] = []
        for child in node.named_children:
            if child.type == "template_substitution":
                inner = child.named_children
                if inner:
                    parts.append(self.expr(inner[0], d))
            else:
                parts.append(ir.Const(_text(child), _line(child)))
        return ir.Build("fstring", tuple(parts), _line(node))

    def object(self, node: Node, d: int) -> ir.Expr:
        items: list[ir.Expr] = []
        keys: list[ir.Expr | None] = []
        for child in node.named_children:
            line = _line(child)
            if child.type == "pair":
                key_node = child.child_by_field_name("key")
                value = child.child_by_field_name("value")
                if value is None:
                    continue
                key = _property_key(key_node)
                self.literal(key, value)
                items.append(self.expr(value, d))
                if key is not None:
                    keys.append(ir.Const(key, line))
                elif key_node is not None and key_node.named_children:
                    keys.append(self.expr(key_node.named_children[0], d))
                else:
                    keys.append(ir.Const(None, line))
            elif child.type == "shorthand_property_identifier":
                items.append(ir.Name(_text(child), line))
                keys.append(ir.Const(_text(child), line))
            elif child.type == "spread_element":
                inner = child.named_children
                if inner:
                    items.append(self.expr(inner[0], d))
                    keys.append(None)
            elif child.type == "method_definition":
                continue
        return ir.Seq("dict", tuple(items), tuple(keys), _line(node))

    def call(self, node: Node, d: int) -> ir.Expr:
        line = _line(node)
        func = node.child_by_field_name("function") or node.child_by_field_name("constructor")
        arguments = node.child_by_field_name("arguments")
        helper = _helper(func) if func is not None else None
        # Only a name (`require`) or a helper (`tslib_1.__importStar`) can be a `require`.
        if helper is not None or (func is not None and func.type in ("identifier", "import")):
            module = _required(node)
            if module is not None:
                return ir.Module(module, line)
        forwarded = self.forwarded(node, d)
        if forwarded is not None:
            return forwarded
        if helper in _ASYNC_HELPERS:
            resumed = self.resumed(node, d)
            if resumed is not None:
                return resumed
        args: tuple[ir.Expr, ...] = ()
        kwargs: tuple[tuple[str, ir.Expr], ...] = ()
        if arguments is not None:
            if arguments.type == "template_string":  # tagged template: sql`...`
                args = (self.template(arguments, d),)
            else:
                args, kwargs = self.arguments(arguments.named_children, d)
        if func is None:
            return ir.Opaque(args, line)
        if func.type == "super":
            # `super(...)`: the parent class's constructor, run on this same instance
            callee: ir.Expr = ir.Attr(ir.Name("super", line), "constructor", line)
        else:
            callee = self.callee(func, d)
        call = ir.Call(callee, args, kwargs, line, _end(node))
        if isinstance(callee, ir.Attr) and callee.attr in _CALLBACK_METHODS:
            # `names.forEach((name) => ...)`: the callback runs on the receiver's data.
            runs = tuple(
                ir.Call(a, (callee.base,), (), line, _end(node))
                for a in args
                if isinstance(a, ir.Name) and a.id.startswith("<anonymous")
            )
            if runs:
                return ir.Opaque((call, *runs), line)
        return call

    def callee(self, node: Node, d: int) -> ir.Expr:
        """What a call calls. `(0, obj.m)(x)` calls the value of `obj.m` with no `this`: a
        one-operand `or`, whose value is its operand's, keeps the name (`(0,
        child_process_1.execSync)` is `child_process.execSync`) without making `obj` a
        receiver, so it is the plain call `m(x)` of the source it was compiled from."""
        comma = _comma_callee(node) if node.type == "parenthesized_expression" else None
        if comma is None:
            return self.expr(node, d)
        leading, last = comma
        for part in leading:
            if part.type not in _INERT:
                self.hoisted.append(ir.ExprStmt(self.expr(part, d), _line(part)))
        callee = self.expr(last, d)
        if isinstance(callee, ir.Attr):
            return ir.Logic("or", (callee,), callee.line)
        return callee

    def resumed(self, node: Node, d: int) -> ir.Call | None:
        """`__awaiter(this, arguments, void 0, function* (event) {...})` and the other
        `_ASYNC_HELPERS` met anywhere but as a whole body (see `function`): the call of
        their generator, with the arguments of the function it is in when they are passed
        on (`arguments`, `[_a]`)."""
        found = _async_helper(node)
        if found is None:
            return None
        generator, passed = found
        line = _line(node)
        args: tuple[ir.Expr, ...] = ()
        if passed is not None and passed.type == "array":
            args, _ = self.arguments(passed.named_children, d)
        elif passed is not None:
            args = tuple(
                ir.Star(ir.Name(p.name, line), line)
                if p.kind == "vararg"
                else ir.Name(p.name, line)
                for p in self._params
            )
        return ir.Call(self.expr(generator, d), args, (), line, _end(node))

    def arguments(
        self, nodes: list[Node], d: int
    ) -> tuple[tuple[ir.Expr, ...], tuple[tuple[str, ir.Expr], ...]]:
        """A call's arguments, and the properties of the last one, when it is an object
        literal, as keyword arguments too (`{ shell: true }`)."""
        args = tuple(self.expr(argument, d) for argument in nodes)
        kwargs: list[tuple[str, ir.Expr]] = []
        if nodes and _unwrap(nodes[-1]).type == "object":
            options = args[-1]
            if isinstance(options, ir.Seq):
                for key, value in zip(options.keys, options.items, strict=True):
                    if isinstance(key, ir.Const) and isinstance(key.value, str):
                        kwargs.append((key.value, value))
        return args, tuple(kwargs)

    def forwarded(self, node: Node, d: int) -> ir.Call | None:
        """`f.call(obj, a, b)`, `f.apply(obj, [a, b])` and `Reflect.apply(f, obj, [a, b])`
        as the call `f(a, b)` they make, so a local function gets its parameters and a
        sink its arguments where a direct call puts them. An array that is not written
        out (`f.apply(obj, args)`) gives the first `_APPLIED` arguments, each its
        element at that position (`args[0]`, ...): exact for an array the code built
        (`const args = [cmd, "x"]`), and for any other array event data anywhere in it
        reaches every one of them (past the fourth, arguments are not followed). An
        array computed in place (`f.apply(obj, build(x))`), not to be run once per
        argument, is spread like `f(...build(x))`, the whole of it the first argument.

        `this` in `f` is what it is for the direct call (the receiver of
        `obj.m.call(...)`), not `obj`, except for a method taken from a prototype
        (`Array.prototype.slice.call(obj)`, `[].slice.call(obj)`): that is
        `obj.slice()`, whose data is `obj`'s.

        Only where `obj` is how a receiver is written (`null`, `this`, a name or a
        property): an object's own `call` method takes other arguments
        (`rpc.call("method", params)`), and stays a method call."""
        if node.type != "call_expression":
            return None
        func = node.child_by_field_name("function")
        arguments = node.child_by_field_name("arguments")
        if func is None or arguments is None or arguments.type != "arguments":
            return None
        func = _unwrap(func)
        if func.type != "member_expression":
            return None
        how = _text(func.child_by_field_name("property"))
        named = arguments.named_children
        target = func.child_by_field_name("object")
        if how == "apply" and target is not None and _text(target) == "Reflect":
            if not named:
                return None
            target, named = named[0], named[1:]
        elif how not in ("call", "apply"):
            return None
        if target is None or not named:
            return None
        target = _unwrap(target)
        if target.type not in ("identifier", "member_expression"):
            return None
        receiver = _unwrap(named[0])
        if receiver.type not in _RECEIVERS:
            return None
        rest = named[1:]
        line = _line(node)
        args: tuple[ir.Expr, ...] = ()
        kwargs: tuple[tuple[str, ir.Expr], ...] = ()
        if how == "call":
            args, kwargs = self.arguments(rest, d)
        elif len(rest) > 1:
            return None
        elif rest:
            listed = _unwrap(rest[0])
            if listed.type == "array":
                args, kwargs = self.arguments(listed.named_children, d)
            elif listed.type in ("identifier", "member_expression"):
                array = self.expr(listed, d)
                at = _line(listed)
                args = tuple(ir.Index(array, ir.Const(i, at), at) for i in range(_APPLIED))
            elif listed.type != "spread_element":
                args = (ir.Star(self.expr(listed, d), _line(listed)),)
            else:
                return None
        method = _prototype_method(target)
        callee: ir.Expr
        if method is not None:
            callee = ir.Attr(self.expr(receiver, d), method, line)
        else:
            callee = self.expr(target, d)
        return ir.Call(callee, args, kwargs, line, _end(node))

    def binary(self, node: Node, d: int) -> ir.Expr:
        line = _line(node)
        operator = _text(node.child_by_field_name("operator"))
        if operator == "+":
            terms: list[Node] = []
            current: Node = node
            while current.type == "binary_expression" and (
                _text(current.child_by_field_name("operator")) == "+"
            ):
                left = current.child_by_field_name("left")
                right = current.child_by_field_name("right")
                if left is None or right is None:
                    break
                terms.append(right)
                current = left
            terms.append(current)
            terms.reverse()
            return ir.Build("concat", tuple(self.expr(t, d) for t in terms), line)
        left = node.child_by_field_name("left")
        right = node.child_by_field_name("right")
        if left is None or right is None:
            return ir.Opaque(_names_in(node), line)
        if operator in ("&&", "||", "??"):
            op = "and" if operator == "&&" else "or"
            return ir.Logic(op, (self.expr(left, d), self.expr(right, d)), line)
        if operator in _COMPARE:
            op = {"===": "==", "!==": "!="}.get(operator, operator)
            if op in ("==", "!="):
                self.compared_literal(left, right)
            if op == "in":
                # `key in obj`: like Python's `in`, an allow-list test
                return ir.Compare(self.expr(left, d), ("in",), (self.expr(right, d),), line)
            return ir.Compare(self.expr(left, d), (op,), (self.expr(right, d),), line)
        return ir.Opaque((self.expr(left, d), self.expr(right, d)), line)


def _target_name(node: Node) -> str | None:
    """The name a value is stored under or read from: `token`, `body.password`,
    `headers["x-api-key"]`, `headers.get("authorization")`."""
    if node.type == "identifier":
        return _text(node)
    if node.type == "member_expression":
        return _text(node.child_by_field_name("property")) or None
    if node.type == "subscript_expression":
        index = node.child_by_field_name("index")
        return _string(index) if index is not None else None
    if node.type == "call_expression":
        func = node.child_by_field_name("function")
        args = node.child_by_field_name("arguments")
        if func is None or args is None or func.type != "member_expression":
            return None
        if _text(func.child_by_field_name("property")) != "get":
            return None
        named = args.named_children if args.type == "arguments" else []
        return _string(named[0]) if len(named) == 1 else None
    return None
