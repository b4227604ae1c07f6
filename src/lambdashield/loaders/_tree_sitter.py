"""One tree-sitter parser per JavaScript grammar for the process, shared by everything that
reads Node.js code (the handler loader, the import trace, the SDK extraction). Imported
only where such code is read: scans without it never load tree-sitter."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from tree_sitter import Parser

__all__ = ["Grammar", "node_parser"]

Grammar = Literal["javascript", "typescript", "tsx"]

_PARSERS: dict[str, Parser] = {}


def node_parser(grammar: Grammar) -> Parser:
    found = _PARSERS.get(grammar)
    if found is None:
        from tree_sitter import Language, Parser

        if grammar == "javascript":
            import tree_sitter_javascript

            language = Language(tree_sitter_javascript.language())
        else:
            import tree_sitter_typescript

            language = Language(
                tree_sitter_typescript.language_tsx()
                if grammar == "tsx"
                else tree_sitter_typescript.language_typescript()
            )
        found = _PARSERS[grammar] = Parser(language)
    return found
