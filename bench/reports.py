"""Rendering time of every report format, for a report of 10,000 synthetic findings.

The report is built in memory, as the engine would hand it over: 10,000 findings (28
rules, 4 severities, 400 files, resources named after 500 functions), a source snippet
around every finding, 500 function risk pictures, 1,000 baselined findings, 20 errors and
20 skipped inputs. Each format in `lambdashield.reporters.FORMATS` renders it once
untimed (imports, caches), then `--rounds` times; the median and best wall-clock times
are reported with the output size. Budget (issue 7): under 1 s per format.

There is no anchor: no other tool renders this model, and the budget is what users feel
(a report written at the end of a CI job). The scan itself is measured by
`bench/templates.py`.

    python3 bench/reports.py                 # from the repository root, in the dev venv
    python3 bench/reports.py --findings 20000 --rounds 7 --check-budget

Exit status: 0 measured; 1 with `--check-budget` when a format is over budget.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path, PurePosixPath

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from lambdashield import __version__
from lambdashield.checks import ALL_RULES
from lambdashield.model import (
    Finding,
    FunctionRisk,
    Location,
    ScanError,
    ScanReport,
    Severity,
    SkippedInput,
    Snippet,
)
from lambdashield.reporters import FORMATS, reporter_for

BUDGET_SECONDS = 1.0
_SEVERITIES = (Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL)


def synthetic_report(count: int) -> ScanReport:
    """A deterministic report of `count` findings, shaped like a big monorepo's."""
    rules = [r.meta for r in ALL_RULES]
    files = [
        PurePosixPath(f"services/svc-{i % 40:02d}/stack-{i:03d}/template.yaml") for i in range(400)
    ]
    findings = []
    lines: dict[PurePosixPath, dict[int, str]] = {}
    for i in range(count):
        rule = rules[i % len(rules)]
        path = files[i % len(files)]
        line = 10 + (i // len(files)) * 3
        findings.append(
            Finding(
                rule=rule,
                severity=_SEVERITIES[i % 4],
                confidence=rule.confidence,
                location=Location(
                    path, f"/Resources/Fn{i % 500}/Properties/Policies/{i}", line, line + 1
                ),
                message=(
                    f"`s3:GetObject` in statement #{i % 7} of Policy{i} allows `s3:GetObject` "
                    "on every resource; scope it to ARNs such as "
                    "`arn:${Partition}:s3:::${BucketName}/${ObjectName}`"
                ),
                resource=f"Function{i % 500}",
                resource_type="function",
                fingerprint=f"{i:032x}",
            )
        )
        for n in range(line - 2, line + 4):
            lines.setdefault(path, {})[n] = f'        - Effect: Allow  # line {n} <of> & "quoted"'
    findings.sort(key=lambda f: (f.location.path, f.location.start_line or 0, f.rule.id))
    risks = tuple(
        FunctionRisk(
            function=f"Function{i}",
            path=files[i % len(files)],
            line=5 + i,
            runtime="python3.9" if i % 3 else "nodejs20.x",
            runtime_status="deprecated" if i % 5 == 0 else "not flagged",
            entry_points=(f"POST /orders/{i} (no auth)", "S3 bucket Uploads"),
            internet_reachable=i % 2 == 0,
            admin=i % 2,
            exfiltration=i % 3,
            write_all=1,
            secrets=(f"API_KEY_{i}",) if i % 4 == 0 else (),
            vulnerable_dependencies=i % 2,
            findings=20,
            score=99 - i % 100,
            attack_path=(f"internet: POST /orders/{i} (no auth)", "privileged: admin"),
        )
        for i in range(500)
    )
    return ScanReport(
        findings=tuple(findings),
        errors=tuple(ScanError(files[i], f"invalid YAML number {i}", i + 1) for i in range(20)),
        not_analysed=tuple(SkippedInput(files[i], "serverless.ts is code") for i in range(20)),
        rules=tuple(rules),
        files=len(files),
        functions=500,
        suppressed=12,
        baselined=1_000,
        version=__version__,
        function_risks=tuple(sorted(risks, key=lambda r: (-r.score, r.path, r.function))),
        snippets=tuple(Snippet(p, tuple(sorted(lines[p].items()))) for p in sorted(lines)),
        baselined_findings=tuple(
            replace(f, fingerprint="b" + f.fingerprint) for f in findings[:1_000]
        ),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--findings", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--check-budget", action="store_true")
    args = parser.parse_args()

    built = time.perf_counter()
    report = synthetic_report(args.findings)
    built = time.perf_counter() - built
    print(
        f"lambdashield {__version__}, CPython {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}; {len(report.findings):,} findings "
        f"(built in {built:.2f} s), {args.rounds} rounds per format"
    )
    print("| format | median | best | output | budget |\n| --- | ---: | ---: | ---: | --- |")
    over = False
    for fmt in FORMATS:
        reporter = reporter_for(fmt)
        text = reporter.render(report)  # warm-up: imports, caches
        times = []
        for _ in range(args.rounds):
            start = time.perf_counter()
            text = reporter.render(report)
            times.append(time.perf_counter() - start)
        median = statistics.median(times)
        verdict = "PASS" if median < BUDGET_SECONDS else "FAIL"
        over = over or median >= BUDGET_SECONDS
        size = len(text.encode("utf-8"))
        print(
            f"| {fmt} | {median:.3f} s | {min(times):.3f} s | {size / 1e6:.1f} MB | "
            f"< {BUDGET_SECONDS:.0f} s {verdict} |"
        )
    return 1 if args.check_budget and over else 0


if __name__ == "__main__":
    sys.exit(main())
