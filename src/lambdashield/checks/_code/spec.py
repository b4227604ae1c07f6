"""What a language contributes to the analysis, besides its front end: its sinks, sources,
sanitisers, validators and guards, as tables and small functions over `CallSite`s.

The analysis (`taint.py`) is the same for every language; `python_spec.py` fills this
in for Python, and a JavaScript/TypeScript spec fills it in for Node.js handlers (names
such as `child_process.exec`, `global.eval`, `fs.readFile`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from lambdashield.checks._code.values import Value

__all__ = ["CallSite", "DecoratorEffect", "Guard", "LanguageSpec", "Sink"]


@dataclass(frozen=True, slots=True)
class CallSite:
    """One call, as the analysis sees it: who is called, on what, with which values."""

    qualname: str | None
    """The callee's qualified name when known (`subprocess.run`, `builtins.open`)."""
    method: str | None
    """The attribute called, for `x.method(...)`."""
    receiver: Value | None
    receiver_name: str | None
    """The variable or attribute the receiver is read from (`logger`, `self.log`)."""
    args: tuple[Value, ...]
    kwargs: tuple[tuple[str | None, Value], ...]
    """`None` names a `**mapping` argument."""
    line: int
    end_line: int

    def arg(self, index: int | None, *names: str) -> Value | None:
        """A positional argument, or the keyword argument of one of `names`."""
        for name, value in self.kwargs:
            if name is not None and name in names:
                return value
        if index is not None and 0 <= index < len(self.args):
            return self.args[index]
        return None

    def kw(self, name: str) -> Value | None:
        for key, value in self.kwargs:
            if key == name:
                return value
        return None

    def inputs(self) -> tuple[Value, ...]:
        """Every argument value, positional and keyword."""
        return (*self.args, *(v for _, v in self.kwargs))


Selection = Iterable[tuple[str, Value]]
"""The arguments of a call that feed a sink, each with how messages qualify it
(`with shell=True`, `as the URL`)."""


@dataclass(frozen=True, slots=True)
class Sink:
    category: str
    """`command`, `code`, `sql`, `path`, `url` or `log`."""
    labels: frozenset[str]
    """The kinds of data that make it a finding (`event` for injection, `raw`, `secret`
    and `personal` for logs)."""
    select: Callable[[CallSite], Selection]
    safe: Callable[[Value], bool] | None = None
    """Whether an argument is safe as it is, whatever its flows (a URL whose host is fixed)."""


@dataclass(frozen=True, slots=True)
class Guard:
    """A test that, when true, makes its operand safe for some sinks (`x.isdigit()`,
    `full.startswith(BASE)` on a normalised path)."""

    operand: int | None
    """The argument tested, or `None` for the receiver."""
    clears: frozenset[str]
    requires: str | None = None
    """A trait the operand must have for the test to mean anything (`normalised`)."""
    asserts: bool = False
    """The call raises when the test fails, so it guards the code after it."""


@dataclass(frozen=True, slots=True)
class DecoratorEffect:
    validates: str | None = None
    """How the decorator validates the event, for messages; `None` when it does not."""
    route: bool = False
    """Registers the function as a route of a request router: its parameters are input."""
    logs_event: bool = False
    """Writes every incoming event to the log."""


@dataclass(frozen=True, slots=True)
class LanguageSpec:
    language: str
    builtins: frozenset[str]
    """Names every module sees without importing them."""
    builtin_prefix: str
    """How their qualified names start: `builtins.` (Python), `global.` (JavaScript)."""
    sinks: Mapping[str, tuple[Sink, ...]]
    """By the callee's qualified name."""
    method_sinks: Mapping[str, tuple[Sink, ...]]
    """By the name of the method called, whatever the receiver; `select` checks it."""
    named: Callable[[str, int], Value]
    """The value of a qualified name (a module, `os.environ`)."""
    result: Callable[[CallSite], Value | None]
    """The value a known call returns (a source, a sanitiser, a client with traits), or
    `None` for the default: the event data of its inputs."""
    attribute: Callable[[Value, str, int], Value | None]
    """A source reached by attribute (`app.current_event`), or `None`."""
    index: Callable[[Value, str | None, int], Value | None]
    """A source reached by subscript (`os.environ["DB_PASSWORD"]`), or `None`."""
    guard: Callable[[CallSite], Guard | None]
    validator: Callable[[CallSite], str | None]
    """How a call validates its input, or `None`."""
    decorator: Callable[[Value, CallSite | None], DecoratorEffect]
    model_bases: frozenset[str]
    """Classes whose subclasses parse and validate input (pydantic `BaseModel`)."""
    raw_keys: frozenset[str]
    """Keys and attributes that keep the request whole: `headers`, `requestContext`."""
    this: str | None = None
    """The implicit receiver of a method (`this`), bound to the object it is called on;
    `None` where the receiver is a parameter (Python's `self`)."""
    constructor: str | None = None
    """The method run on a new instance (`constructor`), so the fields it sets are
    known to the other methods; `None` to run none."""
