"""YAML with line numbers and CloudFormation short-form tags, within hard limits.

PyYAML's C parser builds the node tree; one walk turns it into plain Python values and
records the lines of every node by JSON pointer. Short-form intrinsics (`!Ref x`,
`!GetAtt a.b`, `!Sub ...`) become their long form (`{"Ref": "x"}`), so loaders see one
shape whichever the author wrote. Aliases are followed, but every node visit counts
against a budget, so an alias bomb is an error instead of a hang.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

import yaml

from lambdashield.errors import LoaderError
from lambdashield.loaders._json import escape_pointer

__all__ = ["YamlDocument", "load_yaml"]

MAX_NODES = 500_000
MAX_DEPTH = 256

# Short-form tag -> long-form key. `!GetAtt a.b` also splits its scalar.
_INTRINSICS = {
    "!Ref": "Ref",
    "!Condition": "Condition",
    **{
        f"!{name}": f"Fn::{name}"
        for name in (
            "And",
            "Base64",
            "Cidr",
            "Equals",
            "FindInMap",
            "GetAtt",
            "GetAZs",
            "If",
            "ImportValue",
            "Join",
            "Length",
            "Not",
            "Or",
            "Select",
            "Split",
            "Sub",
            "ToJsonString",
            "Transform",
        )
    },
}

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR = "tag:yaml.org,2002:str"


@dataclass
class YamlDocument:
    data: Any
    spans: dict[str, tuple[int, int]] = field(default_factory=dict)
    """JSON pointer -> (first line, last line), 1-based."""

    def lines(self, pointer: str) -> tuple[int | None, int | None]:
        """The lines of a pointer, or of its nearest ancestor that has them."""
        while True:
            found = self.spans.get(pointer)
            if found is not None:
                return found
            if not pointer:
                return (None, None)
            pointer = pointer.rsplit("/", 1)[0]


def load_yaml(
    text: str, display: PurePosixPath, *, tags: Callable[[str], bool] | None = None
) -> YamlDocument:
    """Parse one YAML document. `tags` decides which `!Tag`s besides the CloudFormation
    intrinsics are allowed (they are kept as `{"!Tag": value}`); others are errors."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise LoaderError(display, f"invalid YAML: {exc.problem or exc}", line) from None
    except yaml.YAMLError as exc:
        raise LoaderError(display, f"invalid YAML: {exc}") from None
    except RecursionError:
        raise LoaderError(display, "YAML is nested too deeply to analyse") from None
    document = YamlDocument(None)
    if node is None:
        return document
    walker = _Walker(display, document.spans, tags or (lambda _tag: False))
    document.data = walker.value(node, "", 0)
    return document


class _Walker:
    def __init__(
        self,
        display: PurePosixPath,
        spans: dict[str, tuple[int, int]],
        tags: Callable[[str], bool],
    ) -> None:
        self.display = display
        self.spans = spans
        self.tags = tags
        self.visited = 0
        self.constructor = yaml.constructor.SafeConstructor()

    def fail(self, node: yaml.Node, message: str) -> LoaderError:
        return LoaderError(self.display, message, node.start_mark.line + 1)

    def value(self, node: yaml.Node, pointer: str, depth: int) -> Any:
        self.visited += 1
        if self.visited > MAX_NODES:
            raise self.fail(node, f"more than {MAX_NODES:,} YAML nodes (alias expansion?)")
        if depth > MAX_DEPTH:
            raise self.fail(node, f"YAML nested deeper than {MAX_DEPTH} levels")
        end = node.end_mark.line + (0 if node.end_mark.column == 0 else 1)
        self.spans[pointer] = (node.start_mark.line + 1, max(end, node.start_mark.line + 1))
        tag = node.tag
        if tag.startswith("!"):
            return self.tagged(node, tag, pointer, depth)
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, pointer, depth)
        if isinstance(node, yaml.SequenceNode):
            return [self.value(n, f"{pointer}/{i}", depth + 1) for i, n in enumerate(node.value)]
        return self.scalar(node)

    def scalar(self, node: yaml.Node) -> Any:
        if node.tag == _STR:
            return node.value  # what the constructor would return, without its machinery
        if node.tag == "tag:yaml.org,2002:timestamp":
            # `2010-09-09` is a template version, not a date to convert.
            return node.value
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            raise self.fail(node, f"invalid YAML value: {exc}") from None

    def mapping(self, node: yaml.MappingNode, pointer: str, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        explicit: set[str] = set()
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.merge(result, explicit, value_node, pointer, depth)
                continue
            key = self.scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, (str, int, float, bool)) or key is None:
                raise self.fail(key_node, "mapping keys must be scalars")
            key = str(key)
            if key in explicit:
                raise self.fail(key_node, f"duplicate key {key!r}")
            explicit.add(key)
            result[key] = self.value(value_node, f"{pointer}/{escape_pointer(key)}", depth + 1)
        return result

    def merge(
        self,
        result: dict[str, Any],
        explicit: set[str],
        node: yaml.Node,
        pointer: str,
        depth: int,
    ) -> None:
        """`<<: *base` (or a list of them): keys written in the mapping itself win, wherever
        they stand, and earlier merges win over later ones."""
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        for source in sources:
            merged = self.value(source, pointer, depth + 1)
            if not isinstance(merged, dict):
                raise self.fail(source, "`<<` merges mappings only")
            for key, value in merged.items():
                if key not in explicit:
                    result.setdefault(key, value)

    def tagged(self, node: yaml.Node, tag: str, pointer: str, depth: int) -> Any:
        long_form = _INTRINSICS.get(tag)
        if long_form is None and not self.tags(tag):
            raise self.fail(node, f"unknown YAML tag {tag}")
        key = long_form or tag
        inner = f"{pointer}/{escape_pointer(key)}"
        if isinstance(node, yaml.ScalarNode):
            value: Any = node.value
            self.spans[inner] = self.spans[pointer]
            if key == "Fn::GetAtt" and isinstance(value, str):
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = [self.value(n, f"{inner}/{i}", depth + 1) for i, n in enumerate(node.value)]
            self.spans[inner] = self.spans[pointer]
        elif isinstance(node, yaml.MappingNode):
            value = self.mapping(node, inner, depth)
            self.spans[inner] = self.spans[pointer]
        else:
            raise self.fail(node, f"unsupported value under {tag}")
        return {key: value}
