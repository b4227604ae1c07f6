"""`HandlerView`: the subject of every code rule, and how its hits are located.

One view per handler source file. It lowers the file with its language's front end and
runs the analysis once, on first use, for all the rules that look at it.

## Pointers in code

Findings are fingerprinted by their pointer, never their line, so the pointer of a code
finding names *where in the program* it is, not where in the file:

- `/<scope>/<sink>/<n>`: the `n`-th call (from 1, in source order) of `<sink>` that a rule
  flagged inside `<scope>`, the qualified name of the enclosing function (`handler`,
  `Orders.get`, `handler.<locals>.run`) or `<module>`. Example:
  `/handler/subprocess.run/1`, `/run_report/cursor.execute/2`.
- `/<scope>/return/<n>`: the `n`-th flagged `return` of an entry point (LS-CODE-007).
- `/<entry>`: an entry point itself (LS-CODE-006).
- `/<scope>/literal/<name>/<n>`: the `n`-th string literal stored under `<name>` (an
  assignment, a keyword argument, a dict key) in `<scope>`; `<name>` is `-` for a literal
  without one (LS-SEC-003).

Tokens are escaped as JSON pointer tokens (`~0`, `~1`). Moving code up or down keeps
every pointer; `Origin.lines` maps each to its lines for the report.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from lambdashield.model import Function, Origin, SourceFile

if TYPE_CHECKING:
    from lambdashield.checks._code import ir
    from lambdashield.checks._code.spec import LanguageSpec
    from lambdashield.checks._code.taint import Analysis, EntryReport, SinkHit
    from lambdashield.loaders.handlers import ParsedSource

__all__ = ["HandlerView", "describe", "front_end", "lines_of"]


# The IR, the front ends and the taint analysis are imported when a handler is first
# analysed, not with this module: every scan imports the rules that run over a
# `HandlerView`, and a scan of policy files has no handler code to analyse.


def _python(syntax: object) -> ir.ModuleIR:
    import ast

    from lambdashield.checks._code.python import lower

    if not isinstance(syntax, ast.Module):
        raise TypeError("the Python front end needs an ast.Module")
    return lower(syntax)


def _javascript(syntax: object) -> ir.ModuleIR:
    from tree_sitter import Tree

    from lambdashield.checks._code.javascript import lower

    if not isinstance(syntax, Tree):
        raise TypeError("the JavaScript front end needs a tree-sitter Tree")
    return lower(syntax)


FrontEnd = Callable[[object], "ir.ModuleIR"]
"""Lowers a language's syntax tree (`ParsedSource.syntax`) into the IR."""


@functools.cache
def _front_ends() -> dict[str, tuple[FrontEnd, LanguageSpec]]:
    """Per language: the front end and its spec. TypeScript shares JavaScript's front end
    (tree-sitter's TypeScript grammar; types are skipped) and its spec of Node.js names."""
    from lambdashield.checks._code.javascript_spec import JAVASCRIPT
    from lambdashield.checks._code.python_spec import PYTHON

    return {
        "python": (_python, PYTHON),
        "javascript": (_javascript, JAVASCRIPT),
        "typescript": (_javascript, JAVASCRIPT),
    }


def front_end(language: str) -> tuple[FrontEnd, LanguageSpec] | None:
    """The front end and spec of a language, or `None` when it has none yet."""
    return _front_ends().get(language)


def describe(source: str) -> str:
    """A source as messages show it: code in backticks (`event["body"]`), a description as
    it is (exception `e`, Secrets Manager `get_secret_value`)."""
    return source if "`" in source or " " in source else f"`{source}`"


def lines_of(hit: SinkHit) -> str:
    """The lines a flow passes, for messages: `16 -> 17 -> 12`."""
    lines: list[int] = []
    for line, _text in hit.path():
        if not lines or lines[-1] != line:
            lines.append(line)
    return " -> ".join(str(n) for n in lines)


def _token(text: str) -> str:
    return text.replace("~", "~0").replace("/", "~1")


def _sink_token(hit: SinkHit) -> str:
    return "return" if hit.category == "response" else hit.sink


@dataclass(frozen=True, eq=False)
class HandlerView:
    """A handler file, the template functions it serves, and its analysis."""

    source: ParsedSource

    @property
    def file(self) -> SourceFile:
        return self.source.file

    @property
    def functions(self) -> tuple[Function, ...]:
        return self.source.functions

    @cached_property
    def analysis(self) -> Analysis:
        from lambdashield.checks._code.taint import Analysis, analyse

        found = front_end(self.file.language)
        if found is None:
            return Analysis((), (), (), (), f"no front end for {self.file.language}")
        lower, spec = found
        try:
            module = lower(self.source.syntax)
        except RecursionError:  # the front end bounds its depth; this is the last guard
            return Analysis((), (), (), (), "the code is nested too deeply to analyse")
        return analyse(module, spec, self.file.handlers)

    @cached_property
    def _index(self) -> tuple[dict[str, tuple[int, int, str]], dict[tuple[str, str, int], str]]:
        """Pointer -> (first line, last line, entry point) of everything a rule may flag,
        and (scope, sink or `literal/<name>`, line) -> pointer."""
        places: dict[str, tuple[int, int, str]] = {}
        pointers: dict[tuple[str, str, int], str] = {}
        calls: dict[tuple[str, str], dict[int, tuple[int, str]]] = defaultdict(dict)
        for hit in self.analysis.hits:
            seen = calls[(hit.scope, _sink_token(hit))]
            if hit.line not in seen or (hit.entry and not seen[hit.line][1]):
                seen[hit.line] = (hit.end_line, hit.entry)
        for (scope, sink), lines in calls.items():
            for position, line in enumerate(sorted(lines), start=1):
                pointer = f"/{_token(scope)}/{_token(sink)}/{position}"
                end, entry = lines[line]
                places[pointer] = (line, end, entry)
                pointers[(scope, sink, line)] = pointer
        for report in self.analysis.entries:
            places[f"/{_token(report.name)}"] = (report.line, report.line, report.name)
        counts: dict[tuple[str, str], int] = defaultdict(int)
        for literal in self.analysis.literals:
            name = literal.name if literal.name is not None else "-"
            counts[(literal.scope, name)] += 1
            position = counts[(literal.scope, name)]
            pointer = f"/{_token(literal.scope)}/literal/{_token(name)}/{position}"
            places[pointer] = (literal.line, literal.end_line, "")
            pointers.setdefault((literal.scope, f"literal/{name}", literal.line), pointer)
        return places, pointers

    def pointer(self, hit: SinkHit) -> str:
        return self._index[1][(hit.scope, _sink_token(hit), hit.line)]

    def literal_pointer(self, literal: ir.Literal) -> str:
        name = literal.name if literal.name is not None else "-"
        return self._index[1][(literal.scope, f"literal/{name}", literal.line)]

    def hits(self, category: str, label: str) -> Iterator[tuple[str, SinkHit]]:
        for hit in self.analysis.hits:
            if hit.category == category and hit.label == label:
                yield self.pointer(hit), hit

    def entries(self) -> Iterator[tuple[str, EntryReport]]:
        for entry in self.analysis.entries:
            yield f"/{_token(entry.name)}", entry

    def functions_of(self, entry: str) -> tuple[Function, ...]:
        """The template functions whose handler is `entry` (all of them when unknown)."""
        own = tuple(
            f
            for f in self.functions
            if f.handler is not None and f.handler.rpartition(".")[2] == entry
        )
        return own or self.functions

    def _lines(self, pointer: str) -> tuple[int | None, int | None]:
        place = self._index[0].get(pointer)
        return (place[0], place[1]) if place is not None else (None, None)

    def locate(self, pointer: str) -> Origin:
        """The file, labelled with the function(s) whose entry point leads to the pointer,
        or with the file name for a handler found without a template."""
        place = self._index[0].get(pointer)
        entry = place[2] if place is not None else ""
        functions = self.functions_of(entry) if entry else self.functions
        if functions:
            resource = ", ".join(sorted({f.origin.resource for f in functions}))
            kind = "function"
        else:
            resource = self.file.path.name
            kind = "handler"
        return Origin(self.file.path, resource, kind, "", self._lines)
