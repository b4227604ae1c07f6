"""The small, language-neutral program form every front end lowers handler code into.

It keeps only what data flow needs: names, attribute and index reads, calls with their
arguments, string building, literal collections, comparisons, assignments, returns and
structured control flow (`If`, `Loop`, `Try`, `With`). Everything else becomes `Opaque`,
whose value is the union of its parts. Imports are assignments of a `Module` value, so the
analysis resolves `sp.run` to `subprocess.run` (Python) or `cp.exec` to
`child_process.exec` (JavaScript) the same way it follows any other variable.

Every node carries its first line; calls and returns also their last, which is what
findings point at. Nodes are built once per file and never changed afterwards; they are
slotted dataclasses but not frozen, because frozen construction took a quarter of the
analysis time (measured on `bench/code.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

__all__ = [
    "Assign",
    "Attr",
    "Build",
    "Call",
    "ClassDef",
    "Comp",
    "Compare",
    "Cond",
    "Const",
    "Def",
    "Expr",
    "ExprStmt",
    "Generator",
    "If",
    "Index",
    "Jump",
    "Literal",
    "Logic",
    "Loop",
    "Module",
    "ModuleIR",
    "Name",
    "Named",
    "Not",
    "Opaque",
    "Param",
    "Raise",
    "Return",
    "Seq",
    "Star",
    "Stmt",
    "TAttr",
    "TIndex",
    "TName",
    "TStar",
    "TTuple",
    "Target",
    "Try",
    "TryHandler",
    "With",
]

ConstValue: TypeAlias = str | int | float | bool | None


# --- expressions -------------------------------------------------------------------------


@dataclass(slots=True)
class Name:
    id: str
    line: int


@dataclass(slots=True)
class Const:
    value: ConstValue
    line: int


@dataclass(slots=True)
class Module:
    """What an import binds: a module or a name inside one (`subprocess`, `os.path.join`)."""

    qualname: str
    line: int


@dataclass(slots=True)
class Attr:
    base: Expr
    attr: str
    line: int


@dataclass(slots=True)
class Index:
    base: Expr
    key: Expr
    line: int


@dataclass(slots=True)
class Star:
    """`*xs` in a call or a literal, `**kw` as a keyword argument named `None`."""

    value: Expr
    line: int


@dataclass(slots=True)
class Call:
    func: Expr
    args: tuple[Expr, ...]
    kwargs: tuple[tuple[str | None, Expr], ...]
    line: int
    end_line: int


@dataclass(slots=True)
class Build:
    """A string built from parts, in textual order.

    `kind` is `fstring` (also JS template literals), `concat` (`+`), `format`
    (`"...".format(...)`: the template first) or `percent` (`"..." % args`: the
    template first).
    """

    kind: str
    parts: tuple[Expr, ...]
    line: int


@dataclass(slots=True)
class Seq:
    """A literal list, tuple, set or dict; `keys` is empty except for dicts, where a
    `None` key is a `**spread`."""

    kind: str
    items: tuple[Expr, ...]
    keys: tuple[Expr | None, ...]
    line: int


@dataclass(slots=True)
class Compare:
    """A comparison chain; its value is a boolean, never data."""

    left: Expr
    ops: tuple[str, ...]
    """`==`, `!=`, `<`, `in`, `not in`, `is`, `is not`, ..."""
    rights: tuple[Expr, ...]
    line: int


@dataclass(slots=True)
class Not:
    value: Expr
    line: int


@dataclass(slots=True)
class Logic:
    """`and` / `or` (`&&` / `||`): the value is one of the operands."""

    op: str
    values: tuple[Expr, ...]
    line: int


@dataclass(slots=True)
class Cond:
    test: Expr
    body: Expr
    orelse: Expr
    line: int


@dataclass(slots=True)
class Generator:
    target: Target
    iter: Expr
    conds: tuple[Expr, ...]


@dataclass(slots=True)
class Comp:
    """A comprehension: `elt` (and `key` for dicts) evaluated with the targets bound."""

    elt: Expr
    key: Expr | None
    generators: tuple[Generator, ...]
    line: int


@dataclass(slots=True)
class Named:
    """An assignment inside an expression (`(n := len(x))`)."""

    target: str
    value: Expr
    line: int


@dataclass(slots=True)
class Opaque:
    """Any other expression (arithmetic, lambdas, slices): its value is its parts' union."""

    parts: tuple[Expr, ...]
    line: int


Expr: TypeAlias = (
    Name
    | Const
    | Module
    | Attr
    | Index
    | Star
    | Call
    | Build
    | Seq
    | Compare
    | Not
    | Logic
    | Cond
    | Comp
    | Named
    | Opaque
)


# --- assignment targets ------------------------------------------------------------------


@dataclass(slots=True)
class TName:
    id: str


@dataclass(slots=True)
class TTuple:
    """Unpacking: `a, b = ...`, `[a, b] = ...`, `{a, b} = obj` (JS destructuring)."""

    items: tuple[Target, ...]
    keys: tuple[str | None, ...] = ()
    """For object destructuring: the property each item takes (`{body} = event`)."""


@dataclass(slots=True)
class TStar:
    target: Target


@dataclass(slots=True)
class TAttr:
    base: Expr
    attr: str


@dataclass(slots=True)
class TIndex:
    base: Expr
    key: Expr


Target: TypeAlias = TName | TTuple | TStar | TAttr | TIndex


# --- statements --------------------------------------------------------------------------


@dataclass(slots=True)
class Assign:
    targets: tuple[Target, ...]
    value: Expr
    line: int
    op: str | None = None
    """The operator of an augmented assignment (`+` for `x += y`)."""


@dataclass(slots=True)
class ExprStmt:
    value: Expr
    line: int


@dataclass(slots=True)
class Return:
    value: Expr | None
    line: int
    end_line: int


@dataclass(slots=True)
class Raise:
    value: Expr | None
    line: int


@dataclass(slots=True)
class Jump:
    """`break`, `continue`: ends the current path through a block."""

    kind: str
    line: int


@dataclass(slots=True)
class If:
    """`if` / `elif` ... / `else` (JS `else if`, `switch`) as one flat chain of arms, so a
    long chain costs no recursion."""

    arms: tuple[tuple[Expr, tuple[Stmt, ...]], ...]
    orelse: tuple[Stmt, ...]
    line: int


@dataclass(slots=True)
class Loop:
    """`for target in iter` (`iter` set) or `while test` (`test` set)."""

    target: Target | None
    iter: Expr | None
    test: Expr | None
    body: tuple[Stmt, ...]
    orelse: tuple[Stmt, ...]
    line: int


@dataclass(slots=True)
class TryHandler:
    types: tuple[Expr, ...]
    name: str | None
    body: tuple[Stmt, ...]
    line: int


@dataclass(slots=True)
class Try:
    body: tuple[Stmt, ...]
    handlers: tuple[TryHandler, ...]
    orelse: tuple[Stmt, ...]
    final: tuple[Stmt, ...]
    line: int


@dataclass(slots=True)
class With:
    items: tuple[tuple[Expr, Target | None], ...]
    body: tuple[Stmt, ...]
    line: int


@dataclass(slots=True)
class Param:
    name: str
    kind: str = "positional"
    """`positional`, `vararg` (`*args`, JS rest), `keyword` or `kwarg` (`**kwargs`)."""
    target: Target | None = None
    """A destructuring pattern instead of a name (JS `({ body }, context) => ...`)."""


@dataclass(slots=True)
class Def:
    """A function, method or (JS) arrow function bound to a name."""

    name: str
    qualname: str
    """Dotted path from the module: `handler`, `Orders.get`, `handler.<locals>.inner`."""
    params: tuple[Param, ...]
    body: tuple[Stmt, ...]
    decorators: tuple[Expr, ...]
    line: int
    end_line: int
    key: str
    """Unique within the module (`qualname@line`)."""


@dataclass(slots=True)
class ClassDef:
    name: str
    qualname: str
    bases: tuple[Expr, ...]
    body: tuple[Stmt, ...]
    decorators: tuple[Expr, ...]
    line: int
    key: str
    inherits: bool = False
    """Whether the class shares the members of its first base, a class of the module,
    unless it defines them itself (JavaScript's `extends`: inherited methods and
    constructor). In its methods the name `super` is then that base, and a front end
    writes the base's constructor as `super.constructor(...)`. Python's front end leaves
    it off: its bases only tell what kind of class it is (a pydantic model)."""


Stmt: TypeAlias = (
    Assign | ExprStmt | Return | Raise | Jump | If | Loop | Try | With | Def | ClassDef
)


# --- the module --------------------------------------------------------------------------


@dataclass(slots=True)
class Literal:
    """A string written in the code, with the name it is stored under, if any: an
    assignment target, a keyword argument, a dict key, a parameter default, or the other
    side of an `==` comparison. Hard-coded credential rules read these."""

    name: str | None
    value: str
    line: int
    end_line: int
    scope: str
    """Qualified name of the enclosing function, or `<module>`."""


@dataclass(slots=True)
class ModuleIR:
    language: str
    body: tuple[Stmt, ...]
    literals: tuple[Literal, ...] = ()
    size: int = 0
    """How many statements were lowered: the analysis sizes its work budget by it."""
    truncated: str | None = None
    """Why parts of the module were left out (nesting deeper than the front end follows),
    or `None` when everything was lowered."""
