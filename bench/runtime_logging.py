"""Per-call cost of redacting an event and of writing an audit line, vs. aws-lambda-powertools.

Two figures, each the median per call, lambdashield next to the anchor:

- **redaction of a typical API Gateway event**: the REST (v1) proxy event from
  ``../shared/corpora/events/powertools-python/apiGatewayProxyEvent.json`` with what a real
  request carries besides: an ``Authorization: Bearer <JWT>`` header (also in
  ``multiValueHeaders``), a ``Cookie`` header, an ``X-Amzn-Trace-Id``, and a JSON body with a
  user name and a password. lambdashield: ``Redactor().redact(event)`` (every key, every value
  pattern, the JSON body parsed and re-serialised). Anchor: ``DataMasking().erase(event,
  fields=[...])`` naming the four header fields it can reach (it does not look inside the body
  string). Budget: < 20 µs.
- **an audit line**: the record ``@guard`` passes to its audit hook (timestamp, function,
  request id, source, outcome, duration, cold start, status). lambdashield:
  ``AuditLogger(stream=devnull).record(fields)``. Anchor: powertools ``Logger.info("audit",
  extra=fields)`` to a ``StreamHandler(devnull)``. Budget: < 5 µs.

Each call gets one of 2,048 variants of the input whose request ID, time, trace ID, source IP,
token, cookie and password differ, as consecutive requests do (more variants than the
redactor's cache of known-clean strings holds, so caches keyed on whole values do not
flatter it). Like Lambda, which parses the event just before the handler runs, each call gets
a freshly parsed copy; the parse is outside the timed span. After a warm-up, ``--calls`` calls
are timed one by one with ``perf_counter_ns``; the figure of a process is the median call
Each tool runs ``--rounds`` processes, interleaved with the other tool's; the median and the
best of the process figures are reported, with the ratios anchor/lambdashield.

Both tools run from their venvs under ``bench/.venvs/`` (see ``_venvs.py``): lambdashield
non-editable from this repository, the anchor ``aws-lambda-powertools==3.37.0`` with its
``datamasking`` extra, in the same venv ``bench/runtime.py`` uses (created once; an existing
one only gains the extra). A lock file makes concurrent first runs safe.

    python3 bench/runtime_logging.py
    python3 bench/runtime_logging.py --no-reinstall --rounds 5 --json bench/results/logging.json

Exit status: 0 all measured; 1 the anchor could not be installed or a harness failed (or
``--check-budget`` and a budget is missed); 2 lambdashield could not be installed or imported.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import copy
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from _venvs import (
    REPO_ROOT,
    VENVS_DIR,
    Anchor,
    Samples,
    SetupError,
    clean_env,
    distribution_version,
    ensure_anchor,
    ensure_lambdashield,
    machine_summary,
)

POWERTOOLS = Anchor("aws-lambda-powertools", "3.37.0")
"""Same pin as ``bench/runtime.py``: both scripts share ``bench/.venvs/aws-lambda-powertools``."""
DATAMASKING_PROBE = "jsonpath-ng"
"""A distribution the ``datamasking`` extra brings in; its presence means the extra is there."""
EVENT = (
    REPO_ROOT.parent
    / "shared"
    / "corpora"
    / "events"
    / "powertools-python"
    / ("apiGatewayProxyEvent.json")
)
VARIANTS = 2048
REDACT_BUDGET_US = 20.0
AUDIT_BUDGET_US = 5.0
HARNESS_TIMEOUT_S = 600.0
POWERTOOLS_FIELDS = [
    "headers.Authorization",
    "headers.Cookie",
    "multiValueHeaders.Authorization",
    "multiValueHeaders.Cookie",
]

HARNESS = r"""
import json, logging, os, statistics, sys, time

mode, data_path, calls = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(data_path, encoding="utf-8") as handle:
    data = json.load(handle)
events = [json.dumps(event) for event in data["events"]]
records = [json.dumps(record) for record in data["records"]]
secrets = data["secrets"]
sink = open(os.devnull, "w")

if mode == "lambdashield":
    from lambdashield.runtime.audit_log import AuditLogger
    from lambdashield.runtime.redact import Redactor

    redact = Redactor().redact
    audit = AuditLogger(stream=sink).record
    check = json.dumps(redact(json.loads(events[0])))
    leaked = [secret for secret in secrets if secret in check]
else:
    from aws_lambda_powertools import Logger
    from aws_lambda_powertools.utilities.data_masking import DataMasking

    masker = DataMasking()
    fields = data["powertools_fields"]

    def redact(event):
        return masker.erase(event, fields=fields)

    logger = Logger(service="orders", logger_handler=logging.StreamHandler(sink))

    def audit(record):
        logger.info("audit", extra=record)

    leaked = None


def per_call(function, texts):
    # Median and 1st percentile of one call. Each call gets a freshly parsed input (Lambda
    # parses the event just before the handler runs), parsed outside the timed span.
    loads = json.loads
    count = len(texts)
    for position in range(min(2000, calls)):
        function(loads(texts[position % count]))
    clock = time.perf_counter_ns
    figures = []
    for number in range(calls):
        item = loads(texts[number % count])
        start = clock()
        function(item)
        figures.append(clock() - start)
    figures.sort()
    return figures[len(figures) // 2] / 1000.0, figures[len(figures) // 100] / 1000.0


redact_median, redact_best = per_call(redact, events)
audit_median, audit_best = per_call(audit, records)
print(json.dumps({
    "redact_us": redact_median, "redact_best_us": redact_best,
    "audit_us": audit_median, "audit_best_us": audit_best, "leaked": leaked,
}))
"""


@dataclass
class Figure(Samples):
    tool: str
    label: str
    budget: float | None
    """In microseconds, as every figure here."""
    values: list[float] = field(default_factory=list)
    """The median of each process's calls."""
    failure: str | None = None


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="processes per tool (default 3)")
    parser.add_argument("--calls", type=int, default=20_000, help="timed calls per figure")
    parser.add_argument(
        "--no-reinstall", action="store_true", help="reuse the installed lambdashield"
    )
    parser.add_argument(
        "--skip-powertools", action="store_true", help="do not install or time the anchor"
    )
    parser.add_argument(
        "--check-budget", action="store_true", help="exit 1 when a budget is missed"
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    return parser.parse_args(argv)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _inputs() -> dict[str, object]:
    """The event variants, the audit records and the secrets that must not survive."""
    base = json.loads(EVENT.read_text(encoding="utf-8"))
    events: list[object] = []
    records: list[object] = []
    secrets: list[str] = []
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    for number in range(VARIANTS):
        claims = {"sub": f"user-{number}", "iat": 1_700_000_000 + number, "scope": "orders"}
        jwt = f"{header}.{_b64url(json.dumps(claims).encode())}.{_b64url(os.urandom(32))}"
        password = f"pw-{number:04d}-correct-horse"
        session = f"s{number:05d}{os.urandom(8).hex()}"
        event = copy.deepcopy(base)
        trace = f"Root=1-5e1b4151-{os.urandom(12).hex()}"
        event["headers"].update(
            {
                "Authorization": f"Bearer {jwt}",
                "Cookie": f"session={session}",
                "X-Amzn-Trace-Id": trace,
            }
        )
        event["multiValueHeaders"].update(
            {
                "Authorization": [f"Bearer {jwt}"],
                "Cookie": [f"session={session}"],
                "X-Amzn-Trace-Id": [trace],
            }
        )
        context = event["requestContext"]
        context["requestId"] = f"c6af9ac6-7b61-11e6-{number:04x}-{os.urandom(6).hex()}"
        context["requestTimeEpoch"] = 1_583_349_317_135 + number
        context["requestTime"] = f"04/Mar/2020:19:{number // 60 % 60:02d}:{number % 60:02d} +0000"
        context["identity"]["sourceIp"] = f"198.51.100.{number % 250}"
        event["body"] = json.dumps({"username": f"user-{number}", "password": password})
        events.append(event)
        records.append(
            {
                "timestamp": f"2026-11-29T10:{number // 60 % 60:02d}:{number % 60:02d}.123Z",
                "function": "orders",
                "request_id": context["requestId"],
                "source": "apigw_rest_v1",
                "outcome": "ok",
                "duration_ms": round(1.5 + number / 1000, 3),
                "cold_start": number == 0,
                "status": 200,
            }
        )
        if number == 0:
            secrets = [jwt, jwt.split(".")[2], password, session]
    return {
        "events": events,
        "records": records,
        "secrets": secrets,
        "powertools_fields": POWERTOOLS_FIELDS,
    }


@contextlib.contextmanager
def _venv_lock(name: str) -> Iterator[None]:
    """Serialise venv set-up with other benchmark runs (POSIX; elsewhere, no lock)."""
    VENVS_DIR.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:
        yield
        return
    with (VENVS_DIR / f"{name}.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _ensure_powertools() -> Path:
    """The anchor's python, with the ``datamasking`` extra; idempotent and lock-protected."""
    with _venv_lock(POWERTOOLS.name):
        python = ensure_anchor(POWERTOOLS)
        if distribution_version(python, DATAMASKING_PROBE) is None:
            requirement = f"{POWERTOOLS.name}[datamasking]=={POWERTOOLS.version}"
            print(f"installing {requirement}", file=sys.stderr, flush=True)
            done = subprocess.run(
                [str(python), "-m", "pip", "install", "--disable-pip-version-check", requirement],
                capture_output=True,
                text=True,
                check=False,
                timeout=HARNESS_TIMEOUT_S,
            )
            if done.returncode != 0:
                lines = (done.stderr or done.stdout).strip().splitlines()
                raise SetupError(f"pip install {requirement} failed", "\n".join(lines[-10:]))
    return python


def _ensure_lambdashield(reinstall: bool) -> Path:
    with _venv_lock("lambdashield"):
        return ensure_lambdashield(reinstall=reinstall)


def _run(
    python: Path, mode: str, harness: Path, data: Path, args: argparse.Namespace
) -> dict[str, object]:
    done = subprocess.run(
        [str(python), "-I", str(harness), mode, str(data), str(args.calls)],
        capture_output=True,
        text=True,
        check=False,
        timeout=HARNESS_TIMEOUT_S,
        env=clean_env(),
    )
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        raise RuntimeError(lines[-1] if lines else f"exit {done.returncode}")
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _report(
    figures: dict[str, Figure], versions: dict[str, str | None], args: argparse.Namespace
) -> None:
    print(f"machine: {machine_summary()}")
    print(f"date: {datetime.now(timezone.utc):%Y-%m-%d}")
    print(
        f"event: {EVENT.name} + Bearer JWT, Cookie, trace ID, JSON body; {VARIANTS} variants; "
        f"{args.rounds} processes x {args.calls:,} timed calls per figure"
    )
    for tool, version in versions.items():
        print(f"{tool}: {version}")
    print()
    print(f"{'measure':<46} {'median µs':>10} {'best µs':>9}  budget")
    for figure in figures.values():
        if figure.failure is not None or not figure.values:
            print(f"{figure.label:<46} {'failed':>10}  {figure.failure}")
            continue
        verdict = ""
        if figure.budget is not None:
            passed = figure.median < figure.budget
            verdict = f"< {figure.budget:g} µs {'PASS' if passed else 'FAIL'}"
        print(f"{figure.label:<46} {figure.median:>10.2f} {figure.best:>9.2f}  {verdict}")
    print()
    for what in ("redact", "audit"):
        ours = figures.get(f"lambdashield-{what}")
        theirs = figures.get(f"powertools-{what}")
        if ours and theirs and ours.values and theirs.values:
            ratio = theirs.median / ours.median
            print(f"ratio powertools/lambdashield, {what} (median): {ratio:.1f}x")


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    if not EVENT.is_file():
        print(f"event not found: {EVENT}", file=sys.stderr)
        return 1
    pythons: dict[str, Path] = {}
    versions: dict[str, str | None] = {}
    status = 0
    lambdashield_failure: str | None = None
    try:
        pythons["lambdashield"] = _ensure_lambdashield(not args.no_reinstall)
        versions["lambdashield"] = distribution_version(pythons["lambdashield"], "lambdashield")
    except SetupError as exc:
        print(f"lambdashield: {exc}\n{exc.detail}", file=sys.stderr, flush=True)
        lambdashield_failure = f"install failed: {exc}"
    if not args.skip_powertools:
        try:
            pythons["powertools"] = _ensure_powertools()
            versions[POWERTOOLS.name] = distribution_version(pythons["powertools"], POWERTOOLS.name)
        except SetupError as exc:
            print(f"{POWERTOOLS.name}: {exc}\n{exc.detail}", file=sys.stderr, flush=True)
            status = 1

    figures = {
        "lambdashield-redact": Figure(
            "lambdashield", "lambdashield Redactor().redact(event)", REDACT_BUDGET_US
        ),
        "powertools-redact": Figure(
            "powertools", "powertools DataMasking.erase(event, 4 fields)", None
        ),
        "lambdashield-audit": Figure(
            "lambdashield", "lambdashield AuditLogger.record(fields)", AUDIT_BUDGET_US
        ),
        "powertools-audit": Figure(
            "powertools", "powertools Logger.info('audit', extra=fields)", None
        ),
    }
    with tempfile.TemporaryDirectory(prefix="lambdashield-bench-") as folder:
        harness = Path(folder) / "harness.py"
        harness.write_text(HARNESS, encoding="utf-8")
        data = Path(folder) / "inputs.json"
        data.write_text(json.dumps(_inputs()), encoding="utf-8")
        for round_number in range(args.rounds):
            for tool, python in pythons.items():
                print(
                    f"round {round_number + 1}/{args.rounds}: {tool}", file=sys.stderr, flush=True
                )
                try:
                    result = _run(python, tool, harness, data, args)
                except (RuntimeError, subprocess.TimeoutExpired, ValueError) as exc:
                    for what in ("redact", "audit"):
                        figures[f"{tool}-{what}"].failure = str(exc)
                    if tool == "lambdashield":
                        lambdashield_failure = f"harness failed: {exc}"
                    else:
                        status = 1
                    continue
                if result.get("leaked"):
                    print(
                        f"WARNING: secrets survived redaction: {result['leaked']}", file=sys.stderr
                    )
                    status = 1
                for what in ("redact", "audit"):
                    figures[f"{tool}-{what}"].values.append(float(str(result[f"{what}_us"])))

    shown = {key: figure for key, figure in figures.items() if figure.tool in pythons}
    _report(shown, versions, args)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "machine": machine_summary(),
            "versions": versions,
            "figures": {
                key: {"median_us": f.median, "best_us": f.best, "process_medians_us": f.values}
                for key, f in shown.items()
                if f.values
            },
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    if lambdashield_failure is not None:
        print(f"lambdashield not measurable: {lambdashield_failure}")
        return 2
    if args.check_budget:
        for figure in shown.values():
            if figure.budget is not None and (not figure.values or figure.median >= figure.budget):
                status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
