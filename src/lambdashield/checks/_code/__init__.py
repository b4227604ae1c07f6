"""Handler code analysis: event data flowing into dangerous calls, secrets into logs.

    ParsedSource (loaders/handlers.py: located, read, parsed; never run)
        -> front end (python.py: ast -> ir.ModuleIR; a tree-sitter JS/TS one plugs in beside it)
        -> taint.analyse(module, spec, entry points)   language-neutral
              uses values.py (Flow, Value) and the language's spec (python_spec.PYTHON)
        -> Analysis: sink hits with their source -> sink paths, entry points, literals
        -> HandlerView (view.py): what `checks/code.py` and `checks/sensitive_logging.py`
           run over, with line-free pointers for fingerprints

A new language needs a front end that lowers its syntax tree into `ir` (imports as
`ir.Module` values, destructuring as `ir.TTuple` with keys, `else if` as `ir.If` arms)
and a `LanguageSpec` naming its sinks, sources and sanitisers; the analysis and the
rules stay as they are.

Importing this package (every scan does: the code rules run over `HandlerView`) loads
none of the analysis; `HandlerView` imports the front ends and `taint` on first use.
The analysis types (`Analysis`, `SinkHit`) live in `taint`.
"""

from __future__ import annotations

from lambdashield.checks._code.view import HandlerView, describe, lines_of

__all__ = ["HandlerView", "describe", "lines_of"]
