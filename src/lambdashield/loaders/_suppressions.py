"""Inline suppressions: `# lambdashield: ignore[LS-IAM-002] reason` in comment-bearing files.

A suppression applies to the line it is on and the line after it. One without a reason
does not suppress anything and is reported, so every silenced finding says why.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from lambdashield.model import ScanError, Suppression

__all__ = ["find_suppressions"]

_MARK = re.compile(
    r"(?:#|//|/\*)\s*lambdashield:\s*ignore\[(?P<ids>[^\]]*)\](?P<reason>[^\n]*)", re.IGNORECASE
)
_ID = re.compile(r"^LS(-[A-Z]+(-\d{1,3})?)?$")


def find_suppressions(text: str, path: PurePosixPath) -> tuple[list[Suppression], list[ScanError]]:
    found: list[Suppression] = []
    problems: list[ScanError] = []
    if "lambdashield" not in text:
        return found, problems
    for match in _MARK.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        ids = tuple(i.strip().upper() for i in match["ids"].split(",") if i.strip())
        reason = match["reason"].strip().removesuffix("*/").strip(" -:")
        bad = [i for i in ids if not _ID.match(i)]
        if not ids or bad:
            problems.append(ScanError(path, f"suppression names no valid rule ID: {bad}", line))
        elif not reason:
            problems.append(
                ScanError(path, "suppression without a reason is not applied; add one", line)
            )
        else:
            found.append(Suppression(path, line, ids, reason))
    return found, problems
