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

from pathlib import Path

from lambdashield.checks._sdk.calls import Extraction, Note, NoteKind, SdkCall
from lambdashield.checks._sdk.files import DEFAULT_MAX_BYTES, Source, SourceCache, locate_handler
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
    file that defines the function is the limit. Functions that share a `cache` share what
    was read.
    """
    cache = cache if cache is not None else SourceCache()
    located = locate_handler(function, root, cache)
    if isinstance(located, str):
        return Extraction(language=None, entry=None, missing=located)
    if not data.available:
        return Extraction(
            language=located.language,
            entry=None,
            missing="botocore's service models are not installed",
        )
    key = (located.path, located.language)
    found = cache.found.get(key)
    if found is None:
        found = cache.found[key] = _extract(located, data, max_bytes, cache)
    return found


def _extract(source: Source, data: SdkData, max_bytes: int, cache: SourceCache) -> Extraction:
    if source.language == "python":
        from lambdashield.checks._sdk.python import extract_python

        return extract_python(source, data, max_bytes, cache)
    from lambdashield.checks._sdk.javascript import extract_javascript

    return extract_javascript(source, data, max_bytes, cache)
