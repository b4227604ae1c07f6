"""The data-flow analysis: from the handler's event to the calls that must not receive it.

Forward and flow-sensitive over the IR's structured control flow: each path through a
function carries its own environment (variable -> `Value`), branches are joined, loops run
until their environment stops changing (at most three passes), and a test such as
`if name not in ALLOWED: return` refines the variables it tests on the path that goes on.
Calls of functions defined in the module are followed with their arguments bound to the
parameters (up to `MAX_CALL_DEPTH` deep, summarised per argument signature) and give back
what they return; any other call gives back the event data of its inputs, unless the
language spec knows it (a source, a sanitiser, a client that gets traits).

Instances of the module's classes keep one summary of their fields per class: what any
`self.x = ...` / `this.x = ...` stored, joined in whatever order the stores ran. A new
instance runs the spec's constructor (`__init__`, `constructor`), so the fields it sets
are known to every method; methods get their receiver as `self` (a parameter) or as the
spec's implicit `this`, also through `method.bind(obj)`. A class that inherits
(`ClassDef.inherits`, JavaScript's `extends`) looks up what it does not define in its
parent, constructor included, and in its methods `super.m(...)` runs the parent's `m`
on the same instance, whose fields are the subclass's.

What it runs: the module's top level; each handler entry point with its first parameter
as the event (`event`, and whole, `raw`) and its second as the context (`raw`); each
route a request router registers (its parameters are event data); then every function
not reached so far, with clean parameters, for the sources that need no event (secrets,
exceptions). Work is bounded by a budget of statement visits that grows with the
module's size; past it, calls are no longer followed and loops run once, so no input
makes it run long.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from lambdashield.checks._code import ir
from lambdashield.checks._code.names import key_labels
from lambdashield.checks._code.spec import CallSite, LanguageSpec, Sink
from lambdashield.checks._code.values import (
    ALL_CATEGORIES,
    CLEAN,
    EVENT,
    EXCEPTION,
    LABELS,
    PERSONAL,
    RAW,
    SECRET,
    Flow,
    Step,
    Value,
    join,
    join_all,
    propagate,
    signature,
)
from lambdashield.checks.secrets import known_format

__all__ = ["MAX_CALL_DEPTH", "WORK_BASE", "Analysis", "EntryReport", "SinkHit", "analyse"]

MAX_CALL_DEPTH = 4
MAX_NESTING = 48
"""Blocks and followed calls, together, before the analysis stops descending."""
WORK_BASE = 10_000
WORK_PER_STATEMENT = 10
"""The work budget: statement visits allowed per module, `WORK_BASE` plus this many per
statement lowered (a handler of 100 statements gets 11,000)."""
_LOOP_PASSES = 3
_LITERAL_MIN = 16
_NOT_RAW = frozenset(LABELS) - {RAW}
_EVENT_ONLY = frozenset({EVENT})
_SUPER = "super"
"""The name of the parent class in the methods of a class that inherits
(`ClassDef.inherits`), and the trait of its value there."""
VALIDATION_MESSAGE = "validation-message"
"""A pseudo sink category on exception flows: the exception is a validation error, whose
text is written for the caller."""


class Env:
    """The variables of one path: its own bindings over those of the path it branched
    from. Branching costs nothing and merging touches only what the branches changed, so
    a function with thousands of `if`s stays linear."""

    __slots__ = ("own", "parent")

    def __init__(self, parent: Env | None = None, own: dict[str, Value] | None = None) -> None:
        self.own: dict[str, Value] = own if own is not None else {}
        self.parent = parent

    def get(self, name: str) -> Value | None:
        env: Env | None = self
        while env is not None:
            value = env.own.get(name)
            if value is not None:
                return value
            env = env.parent
        return None

    def __setitem__(self, name: str, value: Value) -> None:
        self.own[name] = value

    def changes(self, base: Env) -> dict[str, Value]:
        """What this path bound since it branched from `base`."""
        found: dict[str, Value] = {}
        env: Env | None = self
        while env is not None and env is not base:
            for name, value in env.own.items():
                found.setdefault(name, value)
            env = env.parent
        return found

    def absorb(self, paths: list[Env]) -> None:
        """Join paths that branched from this one back into it."""
        changed = [path.changes(self) for path in paths]
        names = {name for changes in changed for name in changes}
        for name in names:
            merged: Value | None = None
            for changes in changed:
                value = changes.get(name) or self.get(name)
                if value is not None:
                    merged = value if merged is None else join(merged, value)
            if merged is not None:
                self.own[name] = merged


@dataclass(frozen=True, slots=True)
class SinkHit:
    category: str
    """`command`, `code`, `sql`, `path`, `url`, `log` or `response`."""
    label: str
    sink: str
    """How messages name the call: `subprocess.run`, `cursor.execute`, `print`."""
    how: str
    """What qualifies it: `with shell=True`, `as the URL`; may be empty."""
    flow: Flow
    scope: str
    """Qualified name of the function the sink is in, or `<module>`."""
    line: int
    end_line: int
    entry: str
    """The entry point through which the data arrived; empty when found outside one."""

    def path(self) -> tuple[Step, ...]:
        return (*self.flow.path(), (self.line, f"sink: {self.sink}"))


@dataclass(frozen=True, slots=True)
class EntryReport:
    name: str
    line: int
    end_line: int
    route: bool
    """A route of a request router rather than the handler itself."""
    reads_event: int | None
    """The first line where the event is read or passed on; `None` when it never is."""
    validation: str | None
    """How the event is validated, for messages; `None` when it is not."""


@dataclass(frozen=True, slots=True)
class Analysis:
    hits: tuple[SinkHit, ...]
    entries: tuple[EntryReport, ...]
    missing: tuple[str, ...]
    """Entry points asked for that the module does not define as functions."""
    literals: tuple[ir.Literal, ...]
    truncated: str | None


def analyse(module: ir.ModuleIR, spec: LanguageSpec, handlers: Iterable[str]) -> Analysis:
    """Run the module, then each entry point, then what is left; never raises for any
    input the front end produced."""
    analyser = _Analyser(module, spec)
    try:
        analyser.run(tuple(handlers))
    except RecursionError:
        analyser.truncated = "the code is nested too deeply to analyse completely"
    hits = sorted(
        analyser.hits.values(), key=lambda h: (h.line, h.category, h.label, h.sink, h.scope)
    )
    return Analysis(
        hits=tuple(hits),
        entries=tuple(analyser.entries),
        missing=tuple(analyser.missing),
        literals=module.literals,
        truncated=analyser.truncated,
    )


@lru_cache(maxsize=4096)
def _literal_secret(text: str) -> str | None:
    found = known_format(text)
    return found[1] if found is not None else None


@dataclass
class _Frame:
    scope: str
    name: str
    closure: Env | None
    is_entry: bool = False
    returns: list[Value] = field(default_factory=list)


@dataclass
class _EntryState:
    reads: int | None = None
    validation: str | None = None


def _signature(changes: dict[str, Value]) -> tuple[Any, ...]:
    return tuple(sorted((k, signature(v)) for k, v in changes.items()))


_VIEW_METHODS = frozenset(
    {"lower", "upper", "strip", "lstrip", "rstrip", "casefold", "resolve", "absolute"}
)


def _root(expr: ir.Expr, *, wrappers: bool) -> str | None:
    """The variable a test is really about: `x` in `x`, `x.lower()`, and with `wrappers`,
    `os.path.realpath(x)` or `Path(x).resolve()` too. `None` for anything else (a field,
    `len(x)`), so a test on part of a value never vouches for the whole of it."""
    for _ in range(8):
        if isinstance(expr, ir.Name):
            return expr.id
        if not isinstance(expr, ir.Call):
            return None
        func = expr.func
        if isinstance(func, ir.Attr) and not expr.args and func.attr in _VIEW_METHODS:
            expr = func.base
        elif wrappers and not isinstance(func, ir.Attr) and len(expr.args) == 1:
            expr = expr.args[0]
        elif wrappers and isinstance(func, ir.Attr) and len(expr.args) == 1:
            expr = expr.args[0]  # `os.path.realpath(x)`: a module function
        else:
            return None
    return None


def _constant(expr: ir.Expr) -> bool:
    if isinstance(expr, ir.Const):
        return True
    if isinstance(expr, ir.Name):
        return expr.id.isupper()
    return isinstance(expr, ir.Attr) and expr.attr.isupper()


class _Analyser:
    def __init__(self, module: ir.ModuleIR, spec: LanguageSpec) -> None:
        self.module = module
        self.spec = spec
        self.truncated = module.truncated
        self.defs: dict[str, ir.Def] = {}
        self.classes: dict[str, ir.ClassDef] = {}
        self.members: dict[str, Env] = {}
        self.fields: dict[str, dict[str, Value]] = {}
        """Per class: what its instances' fields may hold (`this.table`, `self.client`)."""
        self.receivers: dict[str, Value] = {}
        """Per method: the object `fn.bind(obj)` fixed as its `this`."""
        self.parents: dict[str, str] = {}
        """Per class that inherits (`ClassDef.inherits`): the class it extends."""
        self.supers: dict[str, str] = {}
        """Per method of such a class: the class `super` names in it."""
        self.closures: dict[str, Env] = {}
        self.globals = Env()
        self.hits: dict[tuple[str, str, str, int, str], SinkHit] = {}
        self.memo: dict[tuple[Any, ...], Value] = {}
        self.stack: list[str] = []
        self.loops: list[tuple[Env, list[dict[str, Value]]]] = []
        self.depth = 0
        self.work = 0
        self.budget = WORK_BASE + WORK_PER_STATEMENT * module.size
        self.visited: set[str] = set()
        self.routes: list[str] = []
        self.validating: dict[str, str] = {}
        self.entries: list[EntryReport] = []
        self.missing: list[str] = []
        self.entry: _EntryState | None = None
        self.entry_name = ""
        self._expr: dict[type[Any], Callable[[Any, _Frame, Env], Value]] = {
            ir.Name: self.name,
            ir.Const: self.const,
            ir.Module: lambda e, _f, _env: self.spec.named(e.qualname, e.line),
            ir.Attr: self.attr,
            ir.Index: self.index,
            ir.Star: lambda e, f, env: self.ev(e.value, f, env),
            ir.Call: self.call,
            ir.Build: self.build,
            ir.Seq: self.seq,
            ir.Compare: self.compare,
            ir.Not: self.not_,
            ir.Logic: lambda e, f, env: join_all([self.ev(v, f, env) for v in e.values]),
            ir.Cond: self.cond,
            ir.Comp: self.comp,
            ir.Named: self.named,
            ir.Opaque: self.opaque,
        }

    @property
    def exhausted(self) -> bool:
        return self.work > self.budget

    # --- driver -----------------------------------------------------------------------

    def run(self, handlers: tuple[str, ...]) -> None:
        module_frame = _Frame("<module>", "<module>", None)
        self.block(self.module.body, module_frame, self.globals)
        for name in handlers:
            value = self.globals.get(name)
            d = self.defs.get(value.local) if value is not None and value.local else None
            if d is None:
                self.missing.append(name)
                continue
            self.entry_point(d, name, route=False)
        for key in list(self.routes):
            self.entry_point(self.defs[key], self.defs[key].name, route=True)
        pending = [k for k in self.defs if k not in self.visited]
        while pending and not self.exhausted:
            for key in pending:
                if key in self.visited:
                    continue
                self.memo = {}
                d = self.defs[key]
                self.run_function(d, {p.name: CLEAN for p in d.params}, is_entry=False)
            pending = [k for k in self.defs if k not in self.visited]

    def entry_point(self, d: ir.Def, name: str, *, route: bool) -> None:
        """Run `d` as the entry point `name` (the template's name for it, which may be an
        alias: `handler = lambda_handler`)."""
        self.memo = {}
        self.entry = _EntryState()
        self.entry_name = name
        bound: dict[str, Value] = {}
        positional = [p for p in d.params if p.kind == "positional"]
        if route:
            for p in d.params:
                source = f"route parameter `{p.name}`"
                bound[p.name] = Value(flows=(Flow(EVENT, source, d.line),))
        else:
            if positional:
                event = positional[0].name
                bound[event] = Value(
                    flows=(Flow(EVENT, event, d.line), Flow(RAW, event, d.line)), pure=True
                )
            if len(positional) > 1:
                context = positional[1].name
                flow = Flow(RAW, f"{context} (the Lambda context)", d.line)
                bound[context] = Value(flows=(flow,), pure=True)
        for p in d.params:
            bound.setdefault(p.name, CLEAN)
        this = self.this_of(d, None)
        if this is not None and self.spec.this is not None:
            bound.setdefault(self.spec.this, this)
        self.run_function(d, bound, is_entry=True)
        state = self.entry
        self.entries.append(
            EntryReport(
                name=name,
                line=d.line,
                end_line=d.end_line,
                route=route,
                reads_event=state.reads,
                validation=self.validating.get(d.key) or state.validation,
            )
        )
        self.entry = None
        self.entry_name = ""

    def run_function(self, d: ir.Def, bound: dict[str, Value], *, is_entry: bool) -> Value:
        self.visited.add(d.key)
        self.stack.append(d.key)
        frame = _Frame(d.qualname, d.name, self.closures.get(d.key), is_entry)
        env = Env(None, dict(bound))
        parent = self.supers.get(d.key)
        if parent is not None:
            # Functions nested in the method see it through their closure, as they do `this`.
            env[_SUPER] = Value(local=parent, traits=frozenset({_SUPER}))
        for param in d.params:
            if param.target is not None:
                self.bind(param.target, bound.get(param.name, CLEAN), d.line, env)
        try:
            self.block(d.body, frame, env)
        finally:
            self.stack.pop()
        return join_all(frame.returns) if frame.returns else CLEAN

    # --- statements -------------------------------------------------------------------

    def block(self, stmts: tuple[ir.Stmt, ...], frame: _Frame, env: Env) -> Env | None:
        if self.depth >= MAX_NESTING:
            self.truncated = "code nested deeper than the analysis follows"
            return env
        self.depth += 1
        try:
            current: Env = env
            for stmt in stmts:
                self.work += 1
                after = self.stmt(stmt, frame, current)
                if after is None:
                    return None
                current = after
            return current
        finally:
            self.depth -= 1

    def stmt(self, s: ir.Stmt, frame: _Frame, env: Env) -> Env | None:
        if isinstance(s, ir.Assign):
            value = self.ev(s.value, frame, env)
            if s.op is not None and len(s.targets) == 1:
                first = s.targets[0]
                if isinstance(first, ir.TName):
                    value = propagate([self.lookup(first.id, frame, env), value])
            for target in s.targets:
                self.bind(target, value, s.line, env, frame)
            return env
        if isinstance(s, ir.ExprStmt):
            self.ev(s.value, frame, env)
            if isinstance(s.value, ir.Call):
                self.assertion(s.value, frame, env)
            return env
        if isinstance(s, ir.Return):
            value = self.ev(s.value, frame, env) if s.value is not None else CLEAN
            if frame.is_entry:
                self.response(value, s, frame)
            frame.returns.append(value.then(s.line, f"returned by `{frame.name}()`"))
            return None
        if isinstance(s, ir.If):
            return self.if_(s, frame, env)
        if isinstance(s, ir.Loop):
            return self.loop(s, frame, env)
        if isinstance(s, ir.Try):
            return self.try_(s, frame, env)
        if isinstance(s, ir.With):
            for expr, bound in s.items:
                value = self.ev(expr, frame, env)
                if bound is not None:
                    self.bind(bound, value, s.line, env)
            return self.block(s.body, frame, env)
        if isinstance(s, ir.Raise):
            if s.value is not None:
                self.ev(s.value, frame, env)
            return None
        if isinstance(s, ir.Jump):
            if self.loops:
                base, jumps = self.loops[-1]
                jumps.append(env.changes(base))
            return None
        if isinstance(s, ir.Def):
            self.define(s, frame, env)
            return env
        self.define_class(s, frame, env)
        return env

    def if_(self, s: ir.If, frame: _Frame, env: Env) -> Env | None:
        paths: list[Env] = []
        current = env
        for test, body in s.arms:
            self.ev(test, frame, current)
            taken = Env(current)
            self.refine(test, True, frame, taken)
            out = self.block(body, frame, taken)
            if out is not None:
                paths.append(out)
            untaken = Env(current)
            self.refine(test, False, frame, untaken)
            if untaken.own:
                current = untaken
        rest = self.block(s.orelse, frame, Env(current)) if s.orelse else current
        if rest is not None:
            paths.append(rest)
        if not paths:
            return None
        env.absorb(paths)
        return env

    def loop(self, s: ir.Loop, frame: _Frame, env: Env) -> Env | None:
        element = CLEAN
        if s.iter is not None:
            element = self.element(self.ev(s.iter, frame, env), s.line)
        if s.test is not None:
            self.ev(s.test, frame, env)
        state: dict[str, Value] = {}
        """Each variable the body changes, joined over zero or more passes."""
        self.loops.append((env, []))
        try:
            for _ in range(1 if self.exhausted else _LOOP_PASSES):
                body = Env(env, dict(state))
                if s.target is not None:
                    self.bind(s.target, element, s.line, body)
                out = self.block(s.body, frame, body)
                _base, jumps = self.loops[-1]
                self.loops[-1] = (env, [])
                merged = dict(state)
                for changes in (*jumps, *((out.changes(env),) if out is not None else ())):
                    for name, value in changes.items():
                        seen = merged.get(name) or env.get(name)
                        merged[name] = value if seen is None else join(seen, value)
                done = _signature(merged) == _signature(state)
                state = merged
                if done:
                    break
        finally:
            self.loops.pop()
        env.own.update(state)
        return self.block(s.orelse, frame, env) if s.orelse else env

    def try_(self, s: ir.Try, frame: _Frame, env: Env) -> Env | None:
        body = Env(env)
        out = self.block(s.body, frame, body)
        # A handler may start anywhere in the body: before it, or after any change it made.
        caught = Env(env)
        for name, value in body.changes(env).items():
            before = env.get(name)
            caught[name] = value if before is None else join(before, value)
        paths: list[Env] = []
        if out is not None:
            rest = self.block(s.orelse, frame, out) if s.orelse else out
            if rest is not None:
                paths.append(rest)
        for handler in s.handlers:
            handler_env = Env(caught)
            names = []
            for kind in handler.types:
                value = self.ev(kind, frame, handler_env)
                names.append(value.qualname or (kind.id if isinstance(kind, ir.Name) else ""))
            if handler.name:
                handler_env[handler.name] = self.exception(handler.name, names, handler.line)
            done = self.block(handler.body, frame, handler_env)
            if done is not None:
                paths.append(done)
        if paths:
            env.absorb(paths)
        if s.final:
            after = self.block(s.final, frame, env if paths else Env(caught))
            return env if paths and after is not None else None
        return env if paths else None

    def exception(self, name: str, types: list[str], line: int) -> Value:
        shown = ", ".join(t.rsplit(".", 1)[-1] for t in types if t)
        source = f"exception `{name}`" + (f" ({shown})" if shown else "")
        validation = bool(types) and all(
            t.endswith(("ValidationError", "ValidationException", "SchemaError")) for t in types
        )
        cleared = frozenset({VALIDATION_MESSAGE}) if validation else frozenset()
        return Value(flows=(Flow(EXCEPTION, source, line, (), cleared),))

    def define(self, d: ir.Def, frame: _Frame, env: Env) -> None:
        self.defs[d.key] = d
        self.closures[d.key] = env
        for decorator in d.decorators:
            if isinstance(decorator, ir.Call):
                site, value = self.site(decorator, frame, env)
                effect = self.spec.decorator(value, site)
            else:
                effect = self.spec.decorator(self.ev(decorator, frame, env), None)
            if effect.validates:
                self.validating[d.key] = effect.validates
            if effect.route:
                self.routes.append(d.key)
            if effect.logs_event:
                line = getattr(decorator, "line", d.line)
                flow = Flow(RAW, "every incoming event", line)
                self.record(
                    SinkHit(
                        "log",
                        RAW,
                        "inject_lambda_context(log_event=True)",
                        "",
                        flow,
                        d.qualname,
                        line,
                        line,
                        d.name,
                    )
                )
        env[d.name] = Value(local=d.key)

    def define_class(self, c: ir.ClassDef, frame: _Frame, env: Env) -> None:
        bases = [self.ev(b, frame, env) for b in c.bases]
        traits = {"class"}
        if any(b.qualname in self.spec.model_bases or "model" in b.traits for b in bases):
            traits.add("model")
        self.classes[c.key] = c
        parent = bases[0].local if c.inherits and bases else None
        inherited = self.members.get(parent) if parent is not None else None
        # Members it does not define are looked up in its parent's, as a prototype chain.
        members = Env(inherited)
        self.members[c.key] = members
        self.block(c.body, _Frame(c.qualname, c.name, env), members)
        if parent is not None and inherited is not None:
            self.parents[c.key] = parent
            for s in c.body:
                if isinstance(s, ir.Def):
                    self.supers[s.key] = parent
        env[c.name] = Value(local=c.key, traits=frozenset(traits))

    def assertion(self, call: ir.Call, frame: _Frame, env: Env) -> None:
        """A guard that raises when it fails (`p.relative_to(base)`) protects what follows."""
        site, _value = self.site(call, frame, env)
        guard = self.spec.guard(site)
        if guard is not None and guard.asserts:
            self.apply_guard(call, site, guard.operand, guard.clears, guard.requires, env)

    # --- bindings and lookups ---------------------------------------------------------

    def bind(
        self, target: ir.Target, value: Value, line: int, env: Env, frame: _Frame | None = None
    ) -> None:
        if isinstance(target, ir.TName):
            env[target.id] = value.then(line, f"assigned to `{target.id}`")
        elif isinstance(target, ir.TTuple):
            items = target.items
            keys = target.keys
            if keys:
                for item, key in zip(items, keys, strict=False):
                    part = self.project(value, key, line) if key is not None else value
                    self.bind(item, part, line, env)
                return
            parts = value.parts
            starred = any(isinstance(i, ir.TStar) for i in items)
            for position, item in enumerate(items):
                if parts is not None and not starred and len(parts) == len(items):
                    part = parts[position]
                else:
                    part = self.element(value, line)
                self.bind(item, part, line, env)
        elif isinstance(target, ir.TStar):
            self.bind(target.target, value, line, env)
        elif isinstance(target, (ir.TAttr, ir.TIndex)):
            # `response["body"] = text`: the container now holds the value, and stays
            # what it was (a class's instance, a module).
            base = target.base
            if not isinstance(base, ir.Name):
                return
            if frame is not None:
                held = self.lookup(base.id, frame, env)
            else:
                held = env.get(base.id) or CLEAN
            if isinstance(target, ir.TAttr):
                self.store_field(held, target.attr, value, line, f"{base.id}.{target.attr}")
            if value.flows:
                merged = join(held, propagate([value]))
                merged = merged._replace(local=held.local, qualname=held.qualname)
                env[base.id] = merged.then(line, f"stored in `{base.id}`")

    def store_field(self, owner: Value, attr: str, value: Value, line: int, shown: str) -> None:
        """`this.table = ...` on an instance of a class of the module: what the field may
        hold, for every method that reads it (joined over every store, in any order)."""
        if owner.local is None or owner.local not in self.classes:
            return
        fields = self.fields.setdefault(owner.local, {})
        stored = value.then(line, f"stored in `{shown}`")
        seen = fields.get(attr)
        fields[attr] = stored if seen is None else join(seen, stored)

    def lookup(self, name: str, frame: _Frame, env: Env) -> Value:
        value = env.get(name)
        if value is not None:
            return value
        if frame.closure is not None:
            value = frame.closure.get(name)
            if value is not None:
                return value
        value = self.globals.get(name)
        if value is not None:
            return value
        if name in self.spec.builtins:
            return self.spec.named(self.spec.builtin_prefix + name, 0)
        return CLEAN

    def element(self, value: Value, line: int) -> Value:
        """One element of a collection (a loop variable, an unpacked item)."""
        if value.parts:
            return join_all(value.parts)
        flows = tuple(
            f._replace(source=f"{f.source}[*]") if value.pure else f
            for f in value.flows
            if f.label != RAW
        )
        return Value(flows=flows, pure=value.pure) if flows else CLEAN

    # --- expressions ------------------------------------------------------------------

    def ev(self, e: ir.Expr, frame: _Frame, env: Env) -> Value:
        return self._expr[type(e)](e, frame, env)

    def name(self, e: ir.Name, frame: _Frame, env: Env) -> Value:
        return self.lookup(e.id, frame, env)

    def const(self, e: ir.Const, _frame: _Frame, _env: Env) -> Value:
        value = e.value
        if isinstance(value, str):
            if len(value) >= _LITERAL_MIN:
                label = _literal_secret(value)
                if label is not None:
                    flow = Flow(SECRET, f"a literal {label}", e.line)
                    return Value(flows=(flow,), text=value, whole=True)
            return Value(text=value, whole=True)
        return Value(truth=bool(value))

    def attr(self, e: ir.Attr, frame: _Frame, env: Env) -> Value:
        base = self.ev(e.base, frame, env)
        if base.qualname is not None:
            return self.spec.named(f"{base.qualname}.{e.attr}", e.line)
        special = self.spec.attribute(base, e.attr, e.line)
        if special is not None:
            return special
        if base.local is not None and base.local in self.members:
            member = self.members[base.local].get(e.attr)
            if member is not None:
                return member
            field = self.fields.get(base.local, {}).get(e.attr)
            if field is not None:
                # What was stored, plus what the field's name says (`this.apiKey`).
                named = self.project(CLEAN, e.attr, e.line, f".{e.attr}", _shown(e.base))
                return join(field, named) if named.flows else field
        return self.project(base, e.attr, e.line, suffix=f".{e.attr}", written=_shown(e.base))

    def index(self, e: ir.Index, frame: _Frame, env: Env) -> Value:
        base = self.ev(e.base, frame, env)
        self.ev(e.key, frame, env)
        key = e.key.value if isinstance(e.key, ir.Const) else None
        text_key = key if isinstance(key, str) else None
        special = self.spec.index(base, text_key, e.line)
        if special is not None:
            return special
        parts = base.parts
        if (
            isinstance(key, int)
            and not isinstance(key, bool)
            and parts is not None
            and -len(parts) <= key < len(parts)
        ):
            return parts[key]
        suffix = (
            f'["{key}"]' if isinstance(key, str) else f"[{key}]" if key is not None else "[...]"
        )
        return self.project(base, text_key, e.line, suffix=suffix, written=_shown(e.base))

    def project(
        self,
        base: Value,
        key: str | None,
        line: int,
        suffix: str = "",
        written: str | None = None,
    ) -> Value:
        """A field of a value: its flows (refined when read straight from a source), minus
        `raw` unless the field keeps the request whole, plus `secret` or `personal` when
        the field's name says so."""
        if not suffix:
            suffix = f'["{key}"]' if key is not None else "[...]"
        flows: list[Flow] = []
        for f in base.flows:
            if f.label == RAW and (key is None or key not in self.spec.raw_keys):
                continue
            flows.append(f._replace(source=f.source + suffix, line=line) if base.pure else f)
        if base.flows and self.entry is not None and base.has(EVENT):
            self.read_event(line)
        if key is not None:
            is_secret, is_personal = key_labels(key)
            if is_secret or is_personal:
                if base.pure and base.flows:
                    origin = base.flows[0].source + suffix
                else:
                    origin = f"{written}{suffix}" if written else f"the field `{key}`"
                if is_secret:
                    flows.append(Flow(SECRET, origin, line))
                if is_personal:
                    flows.append(Flow(PERSONAL, origin, line))
        if not flows:
            return CLEAN
        return Value(pure=base.pure).with_flows(flows)

    def site(self, e: ir.Call, frame: _Frame, env: Env) -> tuple[CallSite, Value]:
        """Who is called and with what, without judging the call (no sinks, no results)."""
        func = e.func
        receiver: Value | None = None
        method: str | None = None
        receiver_name: str | None = None
        if isinstance(func, ir.Attr):
            receiver = self.ev(func.base, frame, env)
            method = func.attr
            receiver_name = _shown(func.base)
            if _SUPER in receiver.traits and receiver.local in self.members:
                # `super.m(...)`, `super(...)`: the parent's method, on this same object.
                callee = self.members[receiver.local].get(method) or CLEAN
                this = self.spec.this
                receiver = self.lookup(this, frame, env) if this is not None else CLEAN
            elif receiver.qualname is not None:
                callee = self.spec.named(f"{receiver.qualname}.{method}", e.line)
            elif receiver.local is not None and receiver.local in self.members:
                callee = self.members[receiver.local].get(method) or CLEAN
            else:
                callee = CLEAN
        else:
            callee = self.ev(func, frame, env)
        args = tuple(self.ev(a, frame, env) for a in e.args)
        kwargs = tuple((k, self.ev(v, frame, env)) for k, v in e.kwargs)
        site = CallSite(
            qualname=callee.qualname,
            method=method,
            receiver=receiver,
            receiver_name=receiver_name,
            args=args,
            kwargs=kwargs,
            line=e.line,
            end_line=e.end_line,
        )
        return site, callee

    def call(self, e: ir.Call, frame: _Frame, env: Env) -> Value:
        site, callee = self.site(e, frame, env)
        inputs = site.inputs()
        everything = (*inputs, site.receiver) if site.receiver is not None else inputs
        if self.entry is not None and any(v.has(EVENT) for v in everything):
            self.read_event(e.line)
            how = self.spec.validator(site)
            if how is not None:
                self.validated(how)
        if callee.local is not None:
            if callee.local in self.defs:
                return self.call_local(self.defs[callee.local], site, e)
            if callee.local in self.classes and "instance" not in callee.traits:
                return self.instantiate(callee, site, e)
        bound = self.bind_method(site)
        if bound is not None:
            return bound
        if "validator" in callee.traits:
            if self.entry is not None and any(v.has(EVENT) for v in inputs):
                self.validated("a compiled JSON Schema validator")
            return propagate(inputs, _NOT_RAW)
        matched = False
        if site.qualname is not None:
            for sink in self.spec.sinks.get(site.qualname, ()):
                matched = True
                self.check(sink, site, frame, site.qualname.removeprefix("builtins."))
        if not matched and site.method is not None:
            shown = f"{site.receiver_name}.{site.method}" if site.receiver_name else site.method
            for sink in self.spec.method_sinks.get(site.method, ()):
                self.check(sink, site, frame, shown)
        result = self.spec.result(site)
        if result is not None:
            return result
        receiver = site.receiver
        if (
            site.method == "get"
            and receiver is not None
            and receiver.qualname is None
            and "http" not in receiver.traits
            and site.args
        ):
            # A mapping's `get`: a field of it, like a subscript; an event key looking up a
            # mapping of the code's own gives back the code's own values.
            key = site.args[0]
            text = key.text if key.whole else None
            suffix = f'.get("{text}")' if text is not None else ".get(...)"
            found = self.project(receiver, text, e.line, suffix=suffix, written=site.receiver_name)
            default = site.arg(1, "default")
            return join(found, propagate([default])) if default is not None else found
        return propagate(everything, _EVENT_ONLY)

    def call_local(self, d: ir.Def, site: CallSite, e: ir.Call) -> Value:
        if (
            len(self.stack) >= MAX_CALL_DEPTH
            or d.key in self.stack
            or self.exhausted
            or self.depth >= MAX_NESTING
        ):
            return propagate(site.inputs(), _EVENT_ONLY)
        positional = [p for p in d.params if p.kind == "positional"]
        bound: dict[str, Value] = {}
        if site.receiver is not None and positional and positional[0].name in ("self", "cls"):
            bound[positional[0].name] = site.receiver
            positional = positional[1:]
        this = self.this_of(d, site.receiver)
        if this is not None and self.spec.this is not None:
            bound[self.spec.this] = this
        extra: list[Value] = []
        for position, value in enumerate(site.args):
            if position < len(positional):
                bound[positional[position].name] = value
            else:
                extra.append(value)
        names = {p.name for p in d.params}
        loose: list[Value] = []
        for key, value in site.kwargs:
            if key is not None and key in names:
                bound[key] = value
            else:
                loose.append(value)
        for p in d.params:
            if p.kind == "vararg" and extra:
                bound[p.name] = propagate(extra)
            elif p.kind == "kwarg" and loose:
                bound[p.name] = propagate(loose)
            bound.setdefault(p.name, CLEAN)
        for name, value in list(bound.items()):
            if value.flows:
                bound[name] = value.then(e.line, f"passed to `{d.name}()` as `{name}`")
        summary = (
            d.key,
            self.entry_name,
            tuple(signature(bound[p.name]) for p in d.params),
            signature(this) if this is not None else None,
        )
        known = self.memo.get(summary)
        if known is not None:
            return known
        self.memo[summary] = propagate(site.inputs(), _EVENT_ONLY)
        result = self.run_function(d, bound, is_entry=False)
        self.memo[summary] = result
        return result

    def instantiate(self, cls: Value, site: CallSite, e: ir.Call) -> Value:
        inputs = site.inputs()
        if "model" in cls.traits:
            if self.entry is not None and any(v.has(EVENT) for v in inputs):
                name = self.classes[cls.local or ""].name if cls.local in self.classes else "model"
                self.validated(f"the model `{name}`")
            made = propagate(inputs, _NOT_RAW, frozenset({"model-instance"}))
        else:
            made = propagate(inputs, _EVENT_ONLY, frozenset({"instance"}))
        # Its methods resolve through the class (`Runner().run(x)`).
        made = made._replace(local=cls.local)
        constructor = self.spec.constructor
        members = self.members.get(cls.local or "")
        if constructor is not None and members is not None:
            found = members.own.get(constructor)
            if found is None and cls.local in self.parents:
                # Without one of its own, a subclass runs its parent's with its arguments.
                found = members.get(constructor)
            if found is not None and found.local in self.defs:
                # Run for the fields it sets (`this.table = ...`); it returns nothing.
                self.call_local(self.defs[found.local], replace(site, receiver=made), e)
        return made

    def this_of(self, d: ir.Def, receiver: Value | None) -> Value | None:
        """What `this` is in `d`: the instance (or class) it is called on, or the object
        `d.bind(obj)` fixed; `None` for languages whose receiver is a parameter."""
        if self.spec.this is None:
            return None
        if receiver is not None and receiver.local in self.classes:
            return receiver
        return self.receivers.get(d.key)

    def bind_method(self, site: CallSite) -> Value | None:
        """`app.handle.bind(app)`: the method itself, with `app` as its `this` wherever it
        is called from (an entry point exported this way, Powertools' class handlers)."""
        receiver = site.receiver
        if self.spec.this is None or site.method != "bind" or receiver is None:
            return None
        if receiver.local not in self.defs:
            # `const run = cp.exec.bind(cp)`: still the sink, wherever it is called.
            if receiver.qualname is not None and receiver.qualname in self.spec.sinks:
                return Value(qualname=receiver.qualname)
            return None
        if site.args and site.args[0].local in self.classes:
            seen = self.receivers.get(receiver.local)
            this = site.args[0]
            self.receivers[receiver.local] = this if seen is None else join(seen, this)
        return Value(local=receiver.local)

    def check(self, sink: Sink, site: CallSite, frame: _Frame, shown: str) -> None:
        for how, value in sink.select(site):
            if not value.flows:
                continue
            if sink.safe is not None and sink.safe(value):
                continue
            for f in value.flows:
                if f.label not in sink.labels:
                    continue
                if f.label == EVENT and sink.category in f.cleared:
                    continue
                self.record(
                    SinkHit(
                        sink.category,
                        f.label,
                        shown,
                        how,
                        f,
                        frame.scope,
                        site.line,
                        site.end_line,
                        self.entry_name,
                    )
                )

    def response(self, value: Value, s: ir.Return, frame: _Frame) -> None:
        f = value.flow(EXCEPTION)
        if f is not None:
            hit = SinkHit(
                "response",
                EXCEPTION,
                "the response",
                "",
                f,
                frame.scope,
                s.line,
                s.end_line,
                self.entry_name,
            )
            self.record(hit)

    def record(self, hit: SinkHit) -> None:
        key = (hit.category, hit.label, hit.scope, hit.line, hit.sink)
        seen = self.hits.get(key)
        if seen is None or len(hit.flow.steps) < len(seen.flow.steps):
            self.hits[key] = hit

    def build(self, e: ir.Build, frame: _Frame, env: Env) -> Value:
        values = [self.ev(p, frame, env) for p in e.parts]
        flows = [f for v in values for f in v.flows]
        text: str | None
        whole = False
        if e.kind in ("format", "percent"):
            template = values[0] if values else CLEAN
            text = None
            if template.whole and template.text is not None:
                marker = "{" if e.kind == "format" else "%"
                cut = template.text.find(marker)
                text = template.text if cut < 0 else template.text[:cut]
                whole = cut < 0 and len(values) == 1
        else:
            text, whole = _leading_text(values)
        parts = None
        if e.kind == "concat" and values and all(v.parts is not None for v in values):
            parts = tuple(p for v in values for p in (v.parts or ()))
        if not flows and text is None and parts is None:
            return CLEAN
        return Value(text=text or None, whole=whole and bool(text), parts=parts).with_flows(flows)

    def seq(self, e: ir.Seq, frame: _Frame, env: Env) -> Value:
        values = [self.ev(i, frame, env) for i in e.items]
        keys = [self.ev(k, frame, env) if k is not None else CLEAN for k in e.keys]
        constant = all(
            v.whole or v.truth is not None for v in (keys if e.kind == "dict" else values)
        )
        traits = frozenset({"constant-collection"}) if constant else frozenset()
        parts = tuple(values) if e.kind in ("list", "tuple") else None
        flows = [f for v in values for f in v.flows]
        return Value(traits=traits, parts=parts).with_flows(flows)

    def compare(self, e: ir.Compare, frame: _Frame, env: Env) -> Value:
        self.ev(e.left, frame, env)
        for right in e.rights:
            self.ev(right, frame, env)
        return CLEAN

    def not_(self, e: ir.Not, frame: _Frame, env: Env) -> Value:
        self.ev(e.value, frame, env)
        return CLEAN

    def cond(self, e: ir.Cond, frame: _Frame, env: Env) -> Value:
        self.ev(e.test, frame, env)
        return join(self.ev(e.body, frame, env), self.ev(e.orelse, frame, env))

    def comp(self, e: ir.Comp, frame: _Frame, env: Env) -> Value:
        inner = Env(env)
        for generator in e.generators:
            source = self.ev(generator.iter, frame, inner)
            self.bind(generator.target, self.element(source, e.line), e.line, inner)
            for condition in generator.conds:
                self.ev(condition, frame, inner)
        values = [self.ev(e.elt, frame, inner)]
        if e.key is not None:
            values.append(self.ev(e.key, frame, inner))
        return propagate(values)

    def named(self, e: ir.Named, frame: _Frame, env: Env) -> Value:
        value = self.ev(e.value, frame, env)
        env[e.target] = value.then(e.line, f"assigned to `{e.target}`")
        return value

    def opaque(self, e: ir.Opaque, frame: _Frame, env: Env) -> Value:
        values = [self.ev(p, frame, env) for p in e.parts]
        traits = frozenset({"path"}) if any("path" in v.traits for v in values) else frozenset()
        return propagate(values, _NOT_RAW, traits)

    # --- refinement -------------------------------------------------------------------

    def refine(self, test: ir.Expr, truth: bool, frame: _Frame, env: Env) -> None:
        for _ in range(16):
            if isinstance(test, ir.Not):
                test, truth = test.value, not truth
                continue
            break
        if isinstance(test, ir.Logic):
            if (test.op == "and") == truth:
                for value in test.values:
                    self.refine(value, truth, frame, env)
            return
        if isinstance(test, ir.Compare) and len(test.ops) == 1:
            op, left, right = test.ops[0], test.left, test.rights[0]
            if op in ("in", "not in") and (op == "in") == truth:
                listed = self.ev(right, frame, env)
                if "constant-collection" in listed.traits or _constant(right):
                    self.clear(_root(left, wrappers=False), ALL_CATEGORIES, env, test.line)
            elif (op in ("==", "is") and truth) or (op in ("!=", "is not") and not truth):
                if _constant(right):
                    self.clear(_root(left, wrappers=False), ALL_CATEGORIES, env, test.line)
                elif _constant(left):
                    self.clear(_root(right, wrappers=False), ALL_CATEGORIES, env, test.line)
            return
        if isinstance(test, ir.Call) and truth:
            site, _value = self.site(test, frame, env)
            guard = self.spec.guard(site)
            if guard is not None:
                self.apply_guard(test, site, guard.operand, guard.clears, guard.requires, env)

    def apply_guard(
        self,
        call: ir.Call,
        site: CallSite,
        operand: int | None,
        clears: frozenset[str],
        requires: str | None,
        env: Env,
    ) -> None:
        if operand is None:
            if not isinstance(call.func, ir.Attr) or site.receiver is None:
                return
            expr, value = call.func.base, site.receiver
        else:
            if operand >= len(call.args):
                return
            expr, value = call.args[operand], site.args[operand]
        if requires is not None and requires not in value.traits:
            return
        self.clear(_root(expr, wrappers=True), clears, env, call.line)

    def clear(self, name: str | None, categories: frozenset[str], env: Env, line: int) -> None:
        if name is None:
            return
        value = env.get(name) or self.globals.get(name)
        if value is None or not value.has(EVENT):
            return
        env[name] = value.with_flows(
            f._replace(cleared=f.cleared | categories) for f in value.flows
        )
        if self.entry is not None:
            self.validated(f"the check on `{name}` at line {line}")

    # --- entry bookkeeping ------------------------------------------------------------

    def read_event(self, line: int) -> None:
        if self.entry is not None and self.entry.reads is None:
            self.entry.reads = line

    def validated(self, how: str) -> None:
        if self.entry is not None and self.entry.validation is None:
            self.entry.validation = how


def _leading_text(values: list[Value]) -> tuple[str | None, bool]:
    """The known start of a concatenation, up to the first part with event data: constant
    parts as they are, and parts without event data whose text is unknown (a setting,
    `os.environ["API_URL"]`) as `\\x00`. Whole only when every part is a constant."""
    text = ""
    whole = True
    for value in values:
        if value.whole and value.text is not None:
            text += value.text
            continue
        whole = False
        text += value.text or ""
        if value.has(EVENT):
            break
        text += "\x00"
    return (text or None), whole


def _shown(expr: ir.Expr) -> str | None:
    """How a receiver is written, for messages and logger names: `logger`, `self.log`."""
    if isinstance(expr, ir.Name):
        return expr.id
    if isinstance(expr, ir.Attr):
        base = _shown(expr.base) if isinstance(expr.base, (ir.Name, ir.Attr)) else None
        return f"{base}.{expr.attr}" if base else expr.attr
    if isinstance(expr, ir.Call):
        inner = _shown(expr.func)
        return f"{inner}(...)" if inner else None
    return None
