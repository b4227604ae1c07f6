"""Import time and per-event cost of ``lambdashield.runtime``, vs. Powertools' validation.

Two figures, each measured in the same run for lambdashield and for the anchor,
``aws-lambda-powertools`` from PyPI (with ``fastjsonschema``, its ``validation`` extra):

- **import**: wall-clock of ``python -I -c "import lambdashield.runtime"`` minus that of
  ``python -I -c "pass"`` (a bare interpreter), medians over ``--runs`` interleaved runs;
  the anchor imports ``aws_lambda_powertools.utilities.validation``. Budget: < 5 ms.
- **per event**: median cost of one call on an API Gateway REST event with a JSON body
  (``apigatewayeSchemaMiddlwareValidEvent.json`` from the event corpus): lambdashield's
  ``validate(event, http=HttpOptions(json_schema=SCHEMA))`` (source detection, the default
  HTTP checks, JSON parsing and the schema, compiled once), and Powertools'
  ``validate(event=event, schema=SCHEMA, envelope=API_GATEWAY_REST)``. Budget: < 10 us.
  lambdashield's default checks without a schema are shown beside it.

Each tool runs in its own venv under ``bench/.venvs/`` (see ``_venvs.py``): lambdashield
installed non-editable from this repository (reinstalled unless ``--no-reinstall``), the
anchor pinned. ``fastjsonschema`` is pinned and added to both.

    python3 bench/runtime.py
    python3 bench/runtime.py --runs 60 --rounds 21 --json bench/results/runtime.json

Exit status: 0 all measured; 1 a measurement or an install failed (or ``--check-budget`` and
a lambdashield figure is over budget); 2 lambdashield could not be installed, anchor measured.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from _venvs import (
    REPO_ROOT,
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
FASTJSONSCHEMA = Anchor("fastjsonschema", "2.22.3")
IMPORT_BUDGET_MS = 5.0
EVENT_BUDGET_US = 10.0
COMMAND_TIMEOUT_S = 300.0
DEFAULT_EVENT = (
    REPO_ROOT.parent
    / "shared"
    / "corpora"
    / "events"
    / "powertools-python"
    / "apigatewayeSchemaMiddlwareValidEvent.json"
)
SCHEMA = {
    "type": "object",
    "properties": {"message": {"type": "string"}, "username": {"type": "string"}},
    "required": ["message", "username"],
}

IMPORTS = {
    "lambdashield": "lambdashield.runtime",
    POWERTOOLS.name: "aws_lambda_powertools.utilities.validation",
}

# Runs inside a tool's venv: warm up (lazy imports, schema compilation), size a round to
# about --round-seconds, then time --rounds rounds and print the per-call cost of each.
HARNESS = r"""
import json
import sys
import time

mode, event_path, schema_text, round_seconds, rounds = sys.argv[1:6]
with open(event_path, encoding="utf-8") as handle:
    event = json.load(handle)
schema = json.loads(schema_text)

if mode == "lambdashield-schema":
    from lambdashield.runtime import HttpOptions, validate

    options = HttpOptions(json_schema=schema)

    def call():
        return validate(event, http=options)

elif mode == "lambdashield-defaults":
    from lambdashield.runtime import validate

    def call():
        return validate(event)

elif mode == "powertools":
    from aws_lambda_powertools.utilities.validation import envelopes, validate

    def call():
        return validate(event=event, schema=schema, envelope=envelopes.API_GATEWAY_REST)

else:
    raise SystemExit(f"unknown mode {mode}")

call()
count = 1
while True:
    start = time.perf_counter()
    for _ in range(count):
        call()
    elapsed = time.perf_counter() - start
    if elapsed >= float(round_seconds) / 8 or count >= 1 << 22:
        break
    count *= 4
count = max(1, int(count * float(round_seconds) / max(elapsed, 1e-9)))
per_call_ns = []
for _ in range(int(rounds)):
    start = time.perf_counter_ns()
    for _ in range(count):
        call()
    per_call_ns.append((time.perf_counter_ns() - start) / count)
print(json.dumps({"calls_per_round": count, "per_call_ns": per_call_ns}))
"""


@dataclass
class Measure(Samples):
    label: str
    tool: str
    unit: str
    budget: float | None
    values: list[float] = field(default_factory=list)
    failure: str | None = None
    note: str = ""


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Import time and per-event cost of lambdashield.runtime vs. Powertools.",
    )
    parser.add_argument(
        "--runs", type=int, default=40, metavar="N", help="interpreter runs per import (40)"
    )
    parser.add_argument(
        "--rounds", type=int, default=15, metavar="N", help="timed rounds per event mode (15)"
    )
    parser.add_argument(
        "--round-seconds",
        type=float,
        default=0.2,
        metavar="S",
        help="target length of one timed round (0.2 s)",
    )
    parser.add_argument(
        "--event", type=Path, default=DEFAULT_EVENT, help="the API Gateway event to validate"
    )
    parser.add_argument(
        "--no-reinstall",
        action="store_true",
        help="reuse the lambdashield already in bench/.venvs/lambdashield",
    )
    parser.add_argument(
        "--skip-powertools", action="store_true", help="do not install or time the anchor"
    )
    parser.add_argument(
        "--check-budget",
        action="store_true",
        help="exit 1 if a lambdashield median is over its budget",
    )
    parser.add_argument(
        "--json", type=Path, metavar="PATH", help="also write all measurements as JSON here"
    )
    args = parser.parse_args(argv)
    if args.runs < 1 or args.rounds < 1 or args.round_seconds <= 0:
        parser.error("--runs, --rounds and --round-seconds must be positive")
    if not args.event.is_file():
        parser.error(f"event not found: {args.event} (is ../shared next to the repository?)")
    return args


def _add_fastjsonschema(python: Path) -> None:
    """The schema needs fastjsonschema in both venvs, pinned like the anchors."""
    if distribution_version(python, FASTJSONSCHEMA.name) == FASTJSONSCHEMA.version:
        return
    command = [str(python), "-m", "pip", "install", "--disable-pip-version-check"]
    done = subprocess.run(
        [*command, FASTJSONSCHEMA.requirement],
        capture_output=True,
        text=True,
        check=False,
        timeout=COMMAND_TIMEOUT_S,
    )
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        raise SetupError(f"pip install {FASTJSONSCHEMA.requirement} failed", "\n".join(lines[-10:]))


def _wall(python: Path, code: str) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        [str(python), "-I", "-c", code],
        capture_output=True,
        text=True,
        check=False,
        env=clean_env(),
        timeout=COMMAND_TIMEOUT_S,
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError((done.stderr.strip() or "no output").splitlines()[-1])
    return elapsed


def _warm_up(python: Path, module: str) -> str | None:
    """Run both commands once untimed; the failure, if one of them fails."""
    try:
        _wall(python, "pass")
        _wall(python, f"import {module}")
    except RuntimeError as exc:
        return str(exc)
    return None


def _import_times(pythons: dict[str, Path], runs: int) -> list[Measure]:
    """Interleaved runs of bare and importing interpreters; the difference of medians."""
    bare: dict[str, list[float]] = {tool: [] for tool in pythons}
    loaded: dict[str, list[float]] = {tool: [] for tool in pythons}
    measures = {
        tool: Measure(
            f"import {IMPORTS[tool]}",
            tool,
            "ms",
            IMPORT_BUDGET_MS if tool == "lambdashield" else None,
        )
        for tool in pythons
    }
    for tool, python in pythons.items():  # warm-up: file cache and bytecode
        measures[tool].failure = _warm_up(python, IMPORTS[tool])
    live = {tool: python for tool, python in pythons.items() if measures[tool].failure is None}
    for round_no in range(1, runs + 1):
        if round_no % 10 == 0:
            print(f"import round {round_no}/{runs}", file=sys.stderr, flush=True)
        for tool, python in live.items():
            bare[tool].append(_wall(python, "pass"))
            loaded[tool].append(_wall(python, f"import {IMPORTS[tool]}"))
    for tool in live:
        base = statistics.median(bare[tool])
        measures[tool].values = [(value - base) * 1000 for value in loaded[tool]]
        measures[tool].note = f"bare interpreter {base * 1000:.1f} ms"
    return list(measures.values())


def _per_event(python: Path, mode: str, tool: str, label: str, args: argparse.Namespace) -> Measure:
    budget = EVENT_BUDGET_US if mode == "lambdashield-schema" else None
    measure = Measure(label, tool, "us", budget)
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False, encoding="utf-8") as file:
        file.write(HARNESS)
        harness = Path(file.name)
    try:
        done = subprocess.run(
            [
                str(python),
                "-I",
                str(harness),
                mode,
                str(args.event),
                json.dumps(SCHEMA),
                str(args.round_seconds),
                str(args.rounds),
            ],
            capture_output=True,
            text=True,
            check=False,
            env=clean_env(),
            timeout=COMMAND_TIMEOUT_S,
        )
    finally:
        harness.unlink()
    if done.returncode != 0:
        tail = (done.stderr.strip() or done.stdout.strip() or "no output").splitlines()[-8:]
        measure.failure = "harness failed:\n" + "\n".join(f"    {line}" for line in tail)
        return measure
    result = json.loads(done.stdout.strip().splitlines()[-1])
    measure.values = [value / 1000 for value in result["per_call_ns"]]
    measure.note = f"{result['calls_per_round']} calls/round"
    return measure


def _shown(measure: Measure) -> str:
    tool = "powertools" if measure.tool == POWERTOOLS.name else measure.tool
    return f"{measure.label} [{tool}]"


def _fmt(value: float) -> str:
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def _report(
    measures: list[Measure], versions: dict[str, str | None], args: argparse.Namespace
) -> None:
    print()
    print(f"runtime benchmark, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC")
    print(f"machine:  {machine_summary()}")
    print(f"versions: {', '.join(f'{name} {ver}' for name, ver in versions.items())}")
    print(f"event:    {args.event.name}")
    print(
        f"method:   import = median of {args.runs} runs minus a bare interpreter; "
        f"per event = median of {args.rounds} rounds of ~{args.round_seconds} s"
    )
    print()
    header = f"{'measure':<62} {'median':>10} {'best':>10} {'budget':>14}"
    print(header)
    print("-" * len(header))
    for measure in measures:
        name = _shown(measure)
        if not measure.values:
            print(f"{name:<62} {'FAILED':>10}")
            continue
        verdict = ""
        if measure.budget is not None:
            word = "PASS" if measure.within_budget else "FAIL"
            verdict = f"< {measure.budget:g} {measure.unit} {word}"
        median = f"{_fmt(measure.median)} {measure.unit}"
        best = f"{_fmt(measure.best)} {measure.unit}"
        print(f"{name:<62} {median:>10} {best:>10} {verdict:>14}")
    for measure in measures:
        if measure.note and measure.values:
            print(f"  {_shown(measure)}: {measure.note}")
        if measure.failure is not None:
            print(f"{_shown(measure)} FAILED: {measure.failure}")


def _ratios(measures: list[Measure]) -> None:
    by_key = {(m.tool, m.label): m for m in measures if m.values}
    pairs = [
        (
            "import",
            (POWERTOOLS.name, f"import {IMPORTS[POWERTOOLS.name]}"),
            ("lambdashield", f"import {IMPORTS['lambdashield']}"),
        ),
        (
            "per event (schema)",
            (POWERTOOLS.name, "validate() + envelope, schema"),
            ("lambdashield", "validate() + compiled schema"),
        ),
    ]
    print()
    for name, anchor_key, ours_key in pairs:
        anchor, ours = by_key.get(anchor_key), by_key.get(ours_key)
        if anchor is not None and ours is not None and ours.median > 0:
            ratio = anchor.median / ours.median
            print(f"ratio powertools/lambdashield, {name} (median): {ratio:,.0f}x")


def _to_json(
    measures: list[Measure], versions: dict[str, str | None], args: argparse.Namespace
) -> str:
    doc = {
        "benchmark": "runtime",
        "when_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_summary(),
        "versions": versions,
        "event": args.event.name,
        "measures": [
            {
                "label": m.label,
                "tool": m.tool,
                "unit": m.unit,
                "values": m.values,
                "median": m.median if m.values else None,
                "best": m.best if m.values else None,
                "budget": m.budget,
                "failure": m.failure,
            }
            for m in measures
        ],
    }
    return json.dumps(doc, indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    versions: dict[str, str | None] = {}
    pythons: dict[str, Path] = {}
    lambdashield_unavailable: str | None = None
    setup_failed = False

    try:
        python = ensure_lambdashield(reinstall=not args.no_reinstall)
        _add_fastjsonschema(python)
        pythons["lambdashield"] = python
        versions["lambdashield"] = distribution_version(python, "lambdashield")
    except SetupError as exc:
        print(f"lambdashield: {exc}\n{exc.detail}", file=sys.stderr, flush=True)
        lambdashield_unavailable = f"install failed: {exc}"
    if not args.skip_powertools:
        try:
            python = ensure_anchor(POWERTOOLS)
            _add_fastjsonschema(python)
            pythons[POWERTOOLS.name] = python
            versions[POWERTOOLS.name] = distribution_version(python, POWERTOOLS.name)
        except SetupError as exc:
            print(f"{POWERTOOLS.name}: {exc}\n{exc.detail}", file=sys.stderr, flush=True)
            setup_failed = True
    for python in pythons.values():
        versions[FASTJSONSCHEMA.name] = distribution_version(python, FASTJSONSCHEMA.name)
        break

    measures = _import_times(pythons, args.runs)
    modes = [
        ("lambdashield", "lambdashield-defaults", "validate() defaults, no schema"),
        ("lambdashield", "lambdashield-schema", "validate() + compiled schema"),
        (POWERTOOLS.name, "powertools", "validate() + envelope, schema"),
    ]
    for tool, mode, label in modes:
        if tool in pythons:
            print(f"timing {label} [{tool}]", file=sys.stderr, flush=True)
            measures.append(_per_event(pythons[tool], mode, tool, label, args))

    _report(measures, versions, args)
    _ratios(measures)
    if lambdashield_unavailable is not None:
        print(f"lambdashield not measurable: {lambdashield_unavailable}")

    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(_to_json(measures, versions, args), encoding="utf-8")
        print(f"wrote {args.json}")

    if setup_failed or any(m.failure is not None for m in measures):
        return 1
    if args.check_budget and any(m.within_budget is False for m in measures):
        return 1
    if lambdashield_unavailable is not None:
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
