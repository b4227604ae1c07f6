"""One tree-sitter parser per JavaScript grammar for the process, shared by everything that
reads Node.js code (the handler loader, the import trace, the SDK extraction). Imported
only where such code is read: scans without it never load tree-sitter."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from tree_sitter import Node, Parser

__all__ = ["Grammar", "node_parser", "node_text", "string_value"]

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


def node_text(node: Node | None) -> str:
    """The source text of a node (`""` for none)."""
    if node is None or node.text is None:
        return ""
    return node.text.decode("utf-8", "replace")


def string_value(node: Node) -> str | None:
    """The value of a string literal, or of a template string without substitutions."""
    if node.type == "string":
        return "".join(
            node_text(c)
            for c in node.named_children
            if c.type in ("string_fragment", "escape_sequence")
        )
    if node.type == "template_string" and not any(
        c.type == "template_substitution" for c in node.named_children
    ):
        return "".join(node_text(c) for c in node.named_children)
    return None
