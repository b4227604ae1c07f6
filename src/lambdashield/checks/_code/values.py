"""What the analysis knows about a value: where its data came from, and little else.

A `Value` carries at most one `Flow` per label. A flow names its source
(`event["body"]`, `os.environ["DB_PASSWORD"]`), the line it entered the code, the steps
it took since (assignments, calls, returns) and the kinds of sink it has been made safe
for (`cleared`: `shlex.quote` clears `command`, `os.path.basename` clears `path`).
Joining two values (two branches of an `if`) keeps the flow that reaches the most sinks
and clears only what both branches cleared.

The labels (`event`, `raw`, `secret`, `personal`, `exception`) are described in
`labels.py`.

Besides flows, a value may know its qualified name (`subprocess.run`, a module), the local
function or class it is, its leading text (`text`, for URLs whose host is fixed), its
truth for constants (`shell=True`), traits given by the call that made it (`path`,
`normalised`, `http`, `logger`) and, for literal lists, its elements.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import NamedTuple

from lambdashield.checks._code.labels import EVENT, EXCEPTION, LABELS, PERSONAL, RAW, SECRET

__all__ = [
    "ALL_CATEGORIES",
    "CLEAN",
    "EVENT",
    "EXCEPTION",
    "LABELS",
    "MAX_STEPS",
    "PERSONAL",
    "RAW",
    "SAFETY_TRAITS",
    "SECRET",
    "Flow",
    "Step",
    "Value",
    "join",
    "join_all",
    "propagate",
    "signature",
]

ALL_CATEGORIES = frozenset({"command", "code", "sql", "path", "url"})
"""The injection sinks a sanitiser can make a value safe for."""

SAFETY_TRAITS = frozenset({"normalised", "safe-regex", "constant-collection"})
"""Traits that promise something: kept by a join only when both sides have them."""

MAX_STEPS = 20
"""Longer paths keep their first and last steps."""

Step = tuple[int, str]


class Flow(NamedTuple):
    label: str
    source: str
    """How messages name where the data came from: `event["body"]`, `os.environ["API_KEY"]`."""
    line: int
    steps: tuple[Step, ...] = ()
    """What happened to it since, in order: `(line, "assigned to `cmd`")`."""
    cleared: frozenset[str] = frozenset()
    """Sink categories it has been made safe for."""

    def then(self, line: int, text: str) -> Flow:
        steps = self.steps
        if steps and steps[-1] == (line, text):
            return self
        if len(steps) >= MAX_STEPS:
            half = MAX_STEPS // 2
            steps = steps[:half] + steps[-(half - 1) :]
        return Flow(self.label, self.source, self.line, (*steps, (line, text)), self.cleared)

    def path(self) -> tuple[Step, ...]:
        """Source first, then every step."""
        return ((self.line, f"source: {self.source}"), *self.steps)


class Value(NamedTuple):
    flows: tuple[Flow, ...] = ()
    """At most one per label, in `LABELS` order."""
    qualname: str | None = None
    """A module, or a function or class imported from one (`os.path.join`)."""
    local: str | None = None
    """The key of a function or class defined in the module."""
    text: str | None = None
    """The leading text of a string, where known; the whole string when `whole`."""
    whole: bool = False
    truth: bool | None = None
    """The truth of a constant that is not a string (`True`, `0`, `None`)."""
    traits: frozenset[str] = frozenset()
    parts: tuple[Value, ...] | None = None
    """The elements of a literal list or tuple (one level)."""
    pure: bool = False
    """Read straight from a source with no step in between: a subscript or attribute of
    it refines the source's name (`event` -> `event["body"]`) instead of adding a step."""

    def flow(self, label: str) -> Flow | None:
        for f in self.flows:
            if f.label == label:
                return f
        return None

    def has(self, label: str) -> bool:
        return any(f.label == label for f in self.flows)

    @property
    def tainted(self) -> bool:
        return bool(self.flows)

    def with_flows(self, flows: Iterable[Flow]) -> Value:
        return self._replace(flows=_ordered(flows))

    def then(self, line: int, text: str) -> Value:
        """The same value, one step further along its path."""
        if not self.flows:
            return self
        return self._replace(flows=tuple(f.then(line, text) for f in self.flows), pure=False)


CLEAN = Value()


def _ordered(flows: Iterable[Flow]) -> tuple[Flow, ...]:
    by_label: dict[str, Flow] = {}
    for f in flows:
        seen = by_label.get(f.label)
        by_label[f.label] = f if seen is None else _merge(seen, f)
    return tuple(by_label[label] for label in LABELS if label in by_label)


def _merge(a: Flow, b: Flow) -> Flow:
    """One flow for a label that arrives two ways: the way that reaches more sinks (then
    the shorter one) tells the story, and only what both ways cleared stays cleared."""
    if a == b:
        return a
    best = min((a, b), key=lambda f: (len(f.cleared), len(f.steps), f.line, f.source, f.steps))
    cleared = a.cleared & b.cleared
    if best.cleared == cleared:
        return best
    return Flow(best.label, best.source, best.line, best.steps, cleared)


def join(a: Value, b: Value) -> Value:
    """What a value may be when it is `a` on one path and `b` on another."""
    if a is b or a == b:
        return a
    flows = _ordered((*a.flows, *b.flows)) if a.flows or b.flows else ()
    text = None
    whole = False
    if a.text is not None and b.text is not None:
        if a.text == b.text:
            text, whole = a.text, a.whole and b.whole
        else:
            text = os.path.commonprefix([a.text, b.text]) or None  # noqa: RUF071 - text, not paths
    parts = None
    if a.parts is not None and b.parts is not None and len(a.parts) == len(b.parts):
        parts = tuple(join(x, y) for x, y in zip(a.parts, b.parts, strict=True))
    traits = (a.traits | b.traits) - (SAFETY_TRAITS - (a.traits & b.traits))
    return Value(
        flows=flows,
        qualname=a.qualname if a.qualname == b.qualname else None,
        local=a.local if a.local == b.local else None,
        text=text,
        whole=whole,
        truth=a.truth if a.truth == b.truth else None,
        traits=traits,
        parts=parts,
        pure=a.pure and b.pure,
    )


def join_all(values: Iterable[Value]) -> Value:
    result: Value | None = None
    for value in values:
        result = value if result is None else join(result, value)
    return CLEAN if result is None else result


def propagate(
    values: Iterable[Value],
    labels: frozenset[str] | None = None,
    traits: frozenset[str] = frozenset(),
) -> Value:
    """A new value made from others (a call's result, arithmetic): their flows, limited to
    `labels` (all when `None`), and nothing else they knew."""
    flows = [f for v in values for f in v.flows if labels is None or f.label in labels]
    if not flows:
        return Value(traits=traits) if traits else CLEAN
    return Value(flows=_ordered(flows), traits=traits)


def signature(value: Value) -> tuple[object, ...]:
    """What decides a sink or a call summary, without the paths: equal signatures mean
    the analysis would find the same things."""
    parts = (
        tuple((tuple((f.label, f.cleared) for f in p.flows), p.traits) for p in value.parts)
        if value.parts is not None
        else None
    )
    return (
        tuple((f.label, f.cleared) for f in value.flows),
        value.qualname,
        value.local,
        value.text,
        value.whole,
        value.truth,
        value.traits,
        parts,
    )
