"""Least privilege from code: what AWS calls a handler makes, and what they need.

    files.py        Function.code_uri + handler -> the handler file, inside the scanned root
    python.py       Python source -> SdkCall values (`ast`, never imported or run)
    javascript.py   JavaScript/TypeScript source -> SdkCall values (tree-sitter)
    models.py       botocore/boto3 service models and the override table, read as data
    permissions.py  SdkCall + the function's environment -> IAM actions on ARNs, and the
                    minimal policy

`checks/least_privilege.py` compares the result with what the function's role grants;
`lambdashield policy generate` prints the minimal policy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lambdashield.checks._sdk.calls import Extraction, Note, NoteKind, SdkCall
from lambdashield.checks._sdk.files import DEFAULT_MAX_BYTES, Source, locate_handler
from lambdashield.checks._sdk.models import SdkData, sdk_data
from lambdashield.checks._sdk.permissions import Need, Requirements, minimal_policy, requirements
from lambdashield.model import Function

__all__ = [
    "Extraction",
    "Need",
    "Note",
    "NoteKind",
    "Requirements",
    "SdkCall",
    "SdkData",
    "SourceCache",
    "extract",
    "minimal_policy",
    "requirements",
    "sdk_data",
]


@dataclass
class SourceCache:
    """Extractions by handler file, so functions that share code read it once."""

    found: dict[tuple[Path, str], Extraction] = field(default_factory=dict)


def extract(
    function: Function,
    root: Path | None,
    data: SdkData,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    cache: SourceCache | None = None,
) -> Extraction:
    """Every SDK call `function`'s handler source makes (its file and its local imports).

    `root` is the scanned folder: no file outside it is read. Without it, the folder of the
    file that defines the function is the limit.
    """
    located = locate_handler(function, root)
    if isinstance(located, str):
        return Extraction(language=None, entry=None, missing=located)
    if not data.available:
        return Extraction(
            language=located.language,
            entry=None,
            missing="botocore's service models are not installed",
        )
    cache_key = (located.path, located.language)
    if cache is not None and cache_key in cache.found:
        return cache.found[cache_key]
    result = _extract(located, data, max_bytes)
    if cache is not None:
        cache.found[cache_key] = result
    return result


def _extract(source: Source, data: SdkData, max_bytes: int) -> Extraction:
    if source.language == "python":
        from lambdashield.checks._sdk.python import extract_python

        return extract_python(source, data, max_bytes)
    from lambdashield.checks._sdk.javascript import extract_javascript

    return extract_javascript(source, data, max_bytes)
