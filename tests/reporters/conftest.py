"""A hand-built report exercising every part of the reporters' input."""

from __future__ import annotations

from pathlib import PurePosixPath

import pytest

from lambdashield.model import ScanError, ScanReport, SkippedInput

from .sample import ADMIN, FINDINGS, RUNTIME


@pytest.fixture
def report() -> ScanReport:
    return ScanReport(
        findings=FINDINGS,
        errors=(ScanError(PurePosixPath("broken.yaml"), "mapping values are not allowed here", 3),),
        not_analysed=(
            SkippedInput(
                PurePosixPath("app/serverless.ts"), "TypeScript Serverless configs are not analysed"
            ),
        ),
        rules=(RUNTIME, ADMIN),
        files=5,
        functions=2,
        suppressed=1,
        baselined=2,
        version="0.1.0",
    )


@pytest.fixture
def clean_report() -> ScanReport:
    return ScanReport(
        findings=(), errors=(), not_analysed=(), rules=(ADMIN,), files=1, version="0.1.0"
    )
