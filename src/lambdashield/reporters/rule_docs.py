"""A rule's documentation, rendered from its `RuleMeta` alone.

One source for `docs/rules/<ID>.md`, `lambdashield explain ID` and the SARIF help text, so
the three cannot disagree. Rendering is deterministic: the generated pages are checked for
drift in CI.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from lambdashield.model import RuleMeta

__all__ = [
    "cwe_url",
    "render_rule_help_markdown",
    "render_rule_help_text",
    "render_rule_index",
    "render_rule_page",
]

# Single-backtick code spans only: a fenced block's backticks must survive in plain text.
_CODE_SPAN = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
_LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")


def cwe_url(cwe: int) -> str:
    return f"https://cwe.mitre.org/data/definitions/{cwe}.html"


def render_rule_page(meta: RuleMeta) -> str:
    """The Markdown page of one rule: title, metadata, summary, why it matters, fix."""
    tags = ", ".join(f"`{tag}`" for tag in meta.tags)
    lines = [
        f"# {meta.id}: {meta.title}",
        "",
        f"- Name: `{meta.name}`",
        f"- Severity: {meta.severity.label}",
        f"- Confidence: {meta.confidence.value}",
        f"- CWE: [CWE-{meta.cwe}]({cwe_url(meta.cwe)})",
        f"- Tags: {tags}",
        f"- Since: {meta.since}",
        f"- Lifecycle: {meta.lifecycle.value}",
        "",
        render_rule_help_markdown(meta),
    ]
    return "\n".join(lines)


def render_rule_help_markdown(meta: RuleMeta) -> str:
    """Summary, `## Why it matters` and `## Fix`, as Markdown ending with one newline."""
    parts = [meta.summary, "## Why it matters", meta.why, "## Fix", meta.fix]
    return "\n\n".join(part.strip() for part in parts) + "\n"


def render_rule_help_text(meta: RuleMeta) -> str:
    """The same help as plain text, for viewers that do not render Markdown."""
    parts = [meta.summary, "Why it matters:", meta.why, "Fix:", meta.fix]
    return "\n\n".join(_plain(part.strip()) for part in parts) + "\n"


def render_rule_index(metas: Iterable[RuleMeta]) -> str:
    """The Markdown index of `docs/rules/`: one table row per rule, sorted by ID."""
    lines = [
        "# Rules",
        "",
        "| ID | Title | Severity |",
        "|---|---|---|",
    ]
    for meta in sorted(metas, key=lambda m: m.id):
        title = meta.title.replace("|", "\\|")
        lines.append(f"| [{meta.id}]({meta.id}.md) | {title} | {meta.severity.label} |")
    return "\n".join(lines) + "\n"


def _plain(markdown: str) -> str:
    return _CODE_SPAN.sub(r"\1", _LINK.sub(r"\1 (\2)", markdown))
