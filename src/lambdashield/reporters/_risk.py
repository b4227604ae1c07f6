"""How every format words a function's risk picture, so they cannot disagree."""

from __future__ import annotations

from lambdashield.model import FunctionRisk, ScanReport

__all__ = ["TOP_PATHS", "location", "permission_summary", "top_paths"]

TOP_PATHS = 5
"""How many attack paths the text and Markdown reports list."""

ATTACK_PATH_MIN_SCORE = 25
"""At least one link of an attack path holds (`lambdashield.risk`)."""


def top_paths(report: ScanReport, count: int = TOP_PATHS) -> list[FunctionRisk]:
    """The highest-scoring functions with at least one link of an attack path."""
    return [r for r in report.function_risks if r.score >= ATTACK_PATH_MIN_SCORE][:count]


def permission_summary(risk: FunctionRisk) -> str:
    """`exfiltration 3, write on * 1`; empty when no permission risk was found."""
    parts = (
        ("admin", risk.admin),
        ("privilege escalation", risk.privilege_escalation),
        ("exfiltration", risk.exfiltration),
        ("write on *", risk.write_all),
    )
    return ", ".join(f"{name} {count}" for name, count in parts if count)


def location(risk: FunctionRisk) -> str:
    path = risk.path.as_posix()
    return f"{path}:{risk.line}" if risk.line is not None else path
