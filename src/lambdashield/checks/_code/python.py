"""Python front end: a parsed `ast.Module` lowered into the taint IR.

Never imports, compiles or runs anything: it reads the syntax tree the loader built. The
walk is bounded: expressions nested deeper than `MAX_EXPR_DEPTH` and blocks nested deeper
than `MAX_BLOCK_DEPTH` are summarised (an expression by the names it reads; a block is
left out) and the module says so in `truncated`, so no input can exhaust the stack.
Chains of `+` are flattened without recursion, since generated code strings thousands of
terms together.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from lambdashield.checks._code import ir

__all__ = ["MAX_BLOCK_DEPTH", "MAX_EXPR_DEPTH", "lower"]

MAX_EXPR_DEPTH = 60
MAX_BLOCK_DEPTH = 30
_UNNAMED_LITERAL_MIN = 12
"""Shorter strings without a name cannot hold a credential in a known format."""

_COMPARE = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.In: "in",
    ast.NotIn: "not in",
}


def lower(tree: ast.Module) -> ir.ModuleIR:
    """The module's IR, with every string literal a credential rule may want."""
    lowering = _Lowering()
    body = lowering.block(tree.body, "<module>", 0)
    return ir.ModuleIR(
        language="python",
        body=body,
        literals=tuple(lowering.literals),
        size=lowering.size,
        truncated=lowering.truncated,
    )


def _line(node: ast.AST) -> int:
    return getattr(node, "lineno", 0) or 0


def _end(node: ast.AST) -> int:
    return getattr(node, "end_lineno", None) or _line(node)


def _names_in(node: ast.AST) -> tuple[ir.Expr, ...]:
    """The variables an expression reads, found without recursion."""
    return tuple(ir.Name(n.id, n.lineno) for n in ast.walk(node) if isinstance(n, ast.Name))


def _target_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.slice, ast.Constant)
        and isinstance(node.slice.value, str)
    ):
        return node.slice.value
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        return node.args[0].value  # `body.get("token")`
    return None


class _Lowering:
    def __init__(self) -> None:
        self.literals: list[ir.Literal] = []
        self.truncated: str | None = None
        self.size = 0
        self.scope = "<module>"
        self._named_ids: set[int] = set()
        """Constants already recorded with a name, not to be recorded again without one."""
        self._class_scopes: set[str] = set()

    # --- statements ------------------------------------------------------------------

    def block(self, nodes: list[ast.stmt], scope: str, depth: int) -> tuple[ir.Stmt, ...]:
        if depth > MAX_BLOCK_DEPTH:
            self.truncated = f"blocks nested deeper than {MAX_BLOCK_DEPTH} levels"
            return ()
        out: list[ir.Stmt] = []
        for node in nodes:
            out.extend(self.statement(node, scope, depth))
        self.size += len(out)
        return tuple(out)

    def statement(self, node: ast.stmt, scope: str, depth: int) -> Iterator[ir.Stmt]:
        self.scope = scope
        line = _line(node)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield self.function(node, scope, depth)
        elif isinstance(node, ast.ClassDef):
            qualname = node.name if scope == "<module>" else f"{scope}.{node.name}"
            self._class_scopes.add(qualname)
            decorators = tuple(self.expr(d) for d in node.decorator_list)
            bases = tuple(self.expr(b) for b in node.bases)
            body = self.block(node.body, qualname, depth + 1)
            self.scope = scope
            yield ir.ClassDef(
                node.name, qualname, bases, body, decorators, line, f"{qualname}@{line}"
            )
        elif isinstance(node, ast.Return):
            value = self.expr(node.value) if node.value is not None else None
            yield ir.Return(value, line, _end(node))
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                self.named_literal(target, node.value)
            value = self.expr(node.value)
            yield ir.Assign(tuple(self.target(t) for t in node.targets), value, line)
        elif isinstance(node, ast.AnnAssign):
            if node.value is not None:
                self.named_literal(node.target, node.value)
                yield ir.Assign((self.target(node.target),), self.expr(node.value), line)
        elif isinstance(node, ast.AugAssign):
            op = "+" if isinstance(node.op, ast.Add) else type(node.op).__name__
            yield ir.Assign((self.target(node.target),), self.expr(node.value), line, op)
        elif isinstance(node, ast.Expr):
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                return  # a docstring or a bare string: no effect, and not a credential
            yield ir.ExprStmt(self.expr(node.value), line)
        elif isinstance(node, ast.If):
            arms = []
            current: ast.If = node
            while True:
                arms.append((self.expr(current.test), self.block(current.body, scope, depth + 1)))
                rest = current.orelse
                if len(rest) == 1 and isinstance(rest[0], ast.If):
                    current = rest[0]  # `elif`: the next arm, not a nested block
                    continue
                break
            yield ir.If(tuple(arms), self.block(rest, scope, depth + 1), line)
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            yield ir.Loop(
                self.target(node.target),
                self.expr(node.iter),
                None,
                self.block(node.body, scope, depth + 1),
                self.block(node.orelse, scope, depth + 1),
                line,
            )
        elif isinstance(node, ast.While):
            yield ir.Loop(
                None,
                None,
                self.expr(node.test),
                self.block(node.body, scope, depth + 1),
                self.block(node.orelse, scope, depth + 1),
                line,
            )
        elif isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
            yield self.try_(node, scope, depth)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            items = tuple(
                (
                    self.expr(item.context_expr),
                    self.target(item.optional_vars) if item.optional_vars is not None else None,
                )
                for item in node.items
            )
            yield ir.With(items, self.block(node.body, scope, depth + 1), line)
        elif isinstance(node, ast.Raise):
            yield ir.Raise(self.expr(node.exc) if node.exc is not None else None, line)
        elif isinstance(node, (ast.Break, ast.Continue)):
            yield ir.Jump("break" if isinstance(node, ast.Break) else "continue", line)
        elif isinstance(node, ast.Assert):
            # `assert ok` stops the handler when `ok` is false, like `if not ok: raise`.
            yield ir.If(((ir.Not(self.expr(node.test), line), (ir.Raise(None, line),)),), (), line)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    yield ir.Assign((ir.TName(alias.asname),), ir.Module(alias.name, line), line)
                else:
                    top = alias.name.split(".", 1)[0]
                    yield ir.Assign((ir.TName(top),), ir.Module(top, line), line)
        elif isinstance(node, ast.ImportFrom):
            # A relative import names the project's own code: never a library we model.
            base = node.module or ""
            base = f"<relative>.{base}" if node.level else base
            for alias in node.names:
                if alias.name == "*":
                    continue
                qualname = f"{base}.{alias.name}" if base else alias.name
                bound = alias.asname or alias.name
                yield ir.Assign((ir.TName(bound),), ir.Module(qualname, line), line)
        elif isinstance(node, ast.Match):
            yield from self.match(node, scope, depth)
        elif isinstance(node, ast.Delete):
            return
        # Pass, Global, Nonlocal and anything newer: nothing flows.

    def function(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef, scope: str, depth: int
    ) -> ir.Def:
        qualname = node.name if scope == "<module>" else f"{scope}.{node.name}"
        if scope != "<module>" and scope not in self._class_scopes:
            qualname = f"{scope}.<locals>.{node.name}"
        decorators = tuple(self.expr(d) for d in node.decorator_list)
        args = node.args
        params: list[ir.Param] = [ir.Param(a.arg) for a in (*args.posonlyargs, *args.args)]
        if args.vararg is not None:
            params.append(ir.Param(args.vararg.arg, "vararg"))
        params.extend(ir.Param(a.arg, "keyword") for a in args.kwonlyargs)
        if args.kwarg is not None:
            params.append(ir.Param(args.kwarg.arg, "kwarg"))
        positional = [*args.posonlyargs, *args.args]
        defaults = list(
            zip(positional[len(positional) - len(args.defaults) :], args.defaults, strict=True)
        )
        defaults += [
            (a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is not None
        ]
        self.scope = qualname
        for param, default in defaults:
            self.literal(param.arg, default)
        body = self.block(node.body, qualname, depth + 1)
        self.scope = scope
        line = _line(node)
        return ir.Def(
            node.name,
            qualname,
            tuple(params),
            body,
            decorators,
            line,
            _end(node),
            f"{qualname}@{line}",
        )

    def try_(self, node: ast.stmt, scope: str, depth: int) -> ir.Try:
        body: list[ast.stmt] = getattr(node, "body", [])
        handlers: list[ast.ExceptHandler] = getattr(node, "handlers", [])
        orelse: list[ast.stmt] = getattr(node, "orelse", [])
        final: list[ast.stmt] = getattr(node, "finalbody", [])
        lowered = []
        for handler in handlers:
            kind = handler.type
            types: tuple[ir.Expr, ...] = ()
            if isinstance(kind, ast.Tuple):
                types = tuple(self.expr(e) for e in kind.elts)
            elif kind is not None:
                types = (self.expr(kind),)
            lowered.append(
                ir.TryHandler(
                    types,
                    handler.name,
                    self.block(handler.body, scope, depth + 1),
                    _line(handler),
                )
            )
        return ir.Try(
            self.block(body, scope, depth + 1),
            tuple(lowered),
            self.block(orelse, scope, depth + 1),
            self.block(final, scope, depth + 1),
            _line(node),
        )

    def match(self, node: ast.Match, scope: str, depth: int) -> Iterator[ir.Stmt]:
        """Each case as a branch; names a pattern captures take the subject's value."""
        subject = self.expr(node.subject)
        line = _line(node)
        arms: list[tuple[ir.Expr, tuple[ir.Stmt, ...]]] = []
        for case in node.cases:
            captures = sorted(
                {
                    n.name
                    for n in ast.walk(case.pattern)
                    if isinstance(n, (ast.MatchAs, ast.MatchStar)) and n.name
                }
                | {
                    n.rest
                    for n in ast.walk(case.pattern)
                    if isinstance(n, ast.MatchMapping) and n.rest
                }
            )
            binds: tuple[ir.Stmt, ...] = tuple(
                ir.Assign((ir.TName(name),), subject, case.pattern.lineno) for name in captures
            )
            body = binds + self.block(case.body, scope, depth + 1)
            arms.append((ir.Opaque((subject,), line), body))
        if arms:
            yield ir.If(tuple(arms), (), line)

    # --- targets and literals --------------------------------------------------------

    def target(self, node: ast.expr) -> ir.Target:
        if isinstance(node, ast.Name):
            return ir.TName(node.id)
        if isinstance(node, (ast.Tuple, ast.List)):
            return ir.TTuple(tuple(self.target(e) for e in node.elts))
        if isinstance(node, ast.Starred):
            return ir.TStar(self.target(node.value))
        if isinstance(node, ast.Attribute):
            return ir.TAttr(self.expr(node.value), node.attr)
        if isinstance(node, ast.Subscript):
            return ir.TIndex(self.expr(node.value), self.expr(node.slice))
        return ir.TName("<unknown>")

    def named_literal(self, target: ast.expr, value: ast.expr) -> None:
        name = _target_name(target)
        if name is not None:
            self.literal(name, value)

    def literal(self, name: str | None, value: ast.expr) -> None:
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            self._named_ids.add(id(value))
            self.literals.append(
                ir.Literal(name, value.value, _line(value), _end(value), self.scope)
            )

    # --- expressions -----------------------------------------------------------------

    def expr(self, node: ast.expr, depth: int = 0) -> ir.Expr:
        if depth > MAX_EXPR_DEPTH:
            self.truncated = f"expressions nested deeper than {MAX_EXPR_DEPTH} levels"
            return ir.Opaque(_names_in(node), _line(node))
        d = depth + 1
        line = _line(node)
        if isinstance(node, ast.Name):
            return ir.Name(node.id, line)
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Attribute):
            return ir.Attr(self.expr(node.value, d), node.attr, line)
        if isinstance(node, ast.Subscript):
            return ir.Index(self.expr(node.value, d), self.expr(node.slice, d), line)
        if isinstance(node, ast.Call):
            return self.call(node, d)
        if isinstance(node, ast.JoinedStr):
            parts: list[ir.Expr] = []
            for value in node.values:
                if isinstance(value, ast.FormattedValue):
                    parts.append(self.expr(value.value, d))
                else:
                    parts.append(self.expr(value, d))
            return ir.Build("fstring", tuple(parts), line)
        if isinstance(node, ast.BinOp):
            return self.binop(node, d)
        if isinstance(node, ast.BoolOp):
            op = "and" if isinstance(node.op, ast.And) else "or"
            return ir.Logic(op, tuple(self.expr(v, d) for v in node.values), line)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                return ir.Not(self.expr(node.operand, d), line)
            return ir.Opaque((self.expr(node.operand, d),), line)
        if isinstance(node, ast.Compare):
            self.compared_literal(node)
            ops = tuple(_COMPARE.get(type(op), "?") for op in node.ops)
            return ir.Compare(
                self.expr(node.left, d), ops, tuple(self.expr(c, d) for c in node.comparators), line
            )
        if isinstance(node, ast.IfExp):
            return ir.Cond(
                self.expr(node.test, d), self.expr(node.body, d), self.expr(node.orelse, d), line
            )
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            kind = {ast.List: "list", ast.Tuple: "tuple", ast.Set: "set"}[type(node)]
            return ir.Seq(kind, tuple(self.expr(e, d) for e in node.elts), (), line)
        if isinstance(node, ast.Dict):
            keys: list[ir.Expr | None] = []
            for key, value in zip(node.keys, node.values, strict=True):
                if key is None:
                    keys.append(None)
                    continue
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    self.literal(key.value, value)
                keys.append(self.expr(key, d))
            return ir.Seq("dict", tuple(self.expr(v, d) for v in node.values), tuple(keys), line)
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp)):
            return ir.Comp(self.expr(node.elt, d), None, self.generators(node.generators, d), line)
        if isinstance(node, ast.DictComp):
            return ir.Comp(
                self.expr(node.value, d),
                self.expr(node.key, d),
                self.generators(node.generators, d),
                line,
            )
        if isinstance(node, ast.NamedExpr):
            return ir.Named(node.target.id, self.expr(node.value, d), line)
        if isinstance(node, ast.Await):
            return self.expr(node.value, d)
        if isinstance(node, ast.Starred):
            return ir.Star(self.expr(node.value, d), line)
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            inner = node.value
            return ir.Opaque((self.expr(inner, d),) if inner is not None else (), line)
        if isinstance(node, ast.Slice):
            bounds = (node.lower, node.upper, node.step)
            return ir.Opaque(tuple(self.expr(b, d) for b in bounds if b is not None), line)
        if isinstance(node, ast.Lambda):
            return ir.Opaque((), line)
        return ir.Opaque(_names_in(node), line)

    def constant(self, node: ast.Constant) -> ir.Expr:
        value = node.value
        line = _line(node)
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        if isinstance(value, str):
            if len(value) >= _UNNAMED_LITERAL_MIN and id(node) not in self._named_ids:
                self.literals.append(ir.Literal(None, value, line, _end(node), self.scope))
            return ir.Const(value, line)
        if value is None or isinstance(value, (bool, int, float)):
            return ir.Const(value, line)
        return ir.Opaque((), line)

    def compared_literal(self, node: ast.Compare) -> None:
        """`if token == "s3cr3t"`: a credential checked against a literal."""
        if len(node.ops) != 1 or not isinstance(node.ops[0], (ast.Eq, ast.NotEq)):
            return
        left, right = node.left, node.comparators[0]
        for named, other in ((left, right), (right, left)):
            name = _target_name(named)
            if name is not None:
                self.literal(name, other)

    def call(self, node: ast.Call, d: int) -> ir.Expr:
        line = _line(node)
        func = node.func
        for keyword in node.keywords:
            if keyword.arg is not None:
                self.literal(keyword.arg, keyword.value)
        args = tuple(self.expr(a, d) for a in node.args)
        kwargs = tuple((k.arg, self.expr(k.value, d)) for k in node.keywords)
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "format"
            and isinstance(func.value, ast.Constant)
            and isinstance(func.value.value, str)
        ):
            template = self.constant(func.value)
            return ir.Build("format", (template, *args, *(v for _, v in kwargs)), line)
        return ir.Call(self.expr(func, d), args, kwargs, line, _end(node))

    def binop(self, node: ast.BinOp, d: int) -> ir.Expr:
        line = _line(node)
        if isinstance(node.op, ast.Add):
            # Flatten `a + b + c` (left-nested) without recursing once per term.
            terms: list[ast.expr] = []
            current: ast.expr = node
            while isinstance(current, ast.BinOp) and isinstance(current.op, ast.Add):
                terms.append(current.right)
                current = current.left
            terms.append(current)
            terms.reverse()
            return ir.Build("concat", tuple(self.expr(t, d) for t in terms), line)
        if (
            isinstance(node.op, ast.Mod)
            and isinstance(node.left, ast.Constant)
            and isinstance(node.left.value, str)
        ):
            right = node.right
            items = right.elts if isinstance(right, ast.Tuple) else [right]
            return ir.Build(
                "percent", (self.constant(node.left), *(self.expr(i, d) for i in items)), line
            )
        return ir.Opaque((self.expr(node.left, d), self.expr(node.right, d)), line)

    def generators(self, generators: list[ast.comprehension], d: int) -> tuple[ir.Generator, ...]:
        return tuple(
            ir.Generator(
                self.target(g.target), self.expr(g.iter, d), tuple(self.expr(c, d) for c in g.ifs)
            )
            for g in generators
        )
