"""Start-up wall-clock of the lambdashield CLI, with ``checkov --version`` as the anchor.

Times, from process start to exit, the console scripts a user would run:

- ``lambdashield --version``
- ``lambdashield policy check <tiny policy>`` (one DynamoDB GetItem statement, written to a
  temporary folder; it should produce no finding, so the command must exit 0)
- ``checkov --version`` (the anchor; checkov from PyPI in ``bench/.venvs/checkov``)

lambdashield is installed non-editable from this repository into ``bench/.venvs/lambdashield``
(reinstalled on every run unless ``--no-reinstall``). Each command runs once untimed (warm-up:
file cache, bytecode), then ``--runs`` times, interleaved with the others; the median and
best are reported. The budget, < 0.3 s wall for each lambdashield command, is judged on the
median. When ``lambdashield --version`` is over budget (or with ``--importtime``) the script
also lists the slowest imports, as ``python -X importtime`` reports them.

    python3 bench/startup.py
    python3 bench/startup.py --runs 20 --importtime

Exit status: 0 all measured; 1 a command failed or could not be installed (or
``--check-budget`` and a lambdashield command is over budget); 2 lambdashield could not be
installed, checkov measured.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from _venvs import (
    VENVS_DIR,
    Anchor,
    Samples,
    SetupError,
    clean_env,
    distribution_version,
    ensure_anchor,
    ensure_lambdashield,
    machine_summary,
    venv_executable,
)

BUDGET_S = 0.3
CHECKOV = Anchor("checkov", "3.3.30")
COMMAND_TIMEOUT_S = 120.0
TINY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "dynamodb:GetItem",
            "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/Orders",
        }
    ],
}


@dataclass
class Command(Samples):
    label: str
    argv: list[str]
    budget: float | None
    """In seconds; None for the anchor."""
    values: list[float] = field(default_factory=list)
    failure: str | None = None


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Wall-clock start-up of the lambdashield CLI vs. checkov --version.",
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=10,
        metavar="N",
        help="timed runs per command after one warm-up run (default 10)",
    )
    parser.add_argument(
        "--no-reinstall",
        action="store_true",
        help="reuse the lambdashield already in bench/.venvs/lambdashield",
    )
    parser.add_argument(
        "--skip-checkov", action="store_true", help="do not install or time the checkov anchor"
    )
    parser.add_argument(
        "--importtime",
        action="store_true",
        help="always list the slowest imports of `lambdashield --version`",
    )
    parser.add_argument(
        "--check-budget",
        action="store_true",
        help=f"exit 1 if a lambdashield command's median is not under {BUDGET_S} s",
    )
    parser.add_argument(
        "--json", type=Path, metavar="PATH", help="also write all measurements as JSON here"
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def _run_once(command: Command, cwd: Path) -> float | None:
    """Wall seconds of one run; None (and ``command.failure`` set) if it failed."""
    start = time.perf_counter()
    try:
        done = subprocess.run(
            command.argv,
            capture_output=True,
            text=True,
            check=False,
            env=clean_env(),
            cwd=cwd,
            timeout=COMMAND_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        command.failure = f"timed out after {COMMAND_TIMEOUT_S:.0f} s"
        return None
    except OSError as exc:
        command.failure = f"could not start: {exc}"
        return None
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        output = (done.stderr.strip() or done.stdout.strip()).splitlines()[-15:]
        shown = "\n".join(f"    {line}" for line in output)
        command.failure = f"exited {done.returncode}:\n{shown}"
        return None
    return elapsed


def _importtime(lambdashield: Path, cwd: Path, top: int = 15) -> None:
    """Print the slowest imports of ``lambdashield --version`` (``-X importtime`` data)."""
    env = clean_env()
    env["PYTHONPROFILEIMPORTTIME"] = "1"
    done = subprocess.run(
        [str(lambdashield), "--version"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        cwd=cwd,
        timeout=COMMAND_TIMEOUT_S,
    )
    rows: list[tuple[int, int, int, str]] = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        parts = line[len("import time:") :].split("|")
        if len(parts) != 3 or not parts[0].strip().isdigit():
            continue
        name = parts[2].rstrip()
        depth = (len(name) - len(name.lstrip())) // 2
        rows.append((int(parts[0]), int(parts[1]), depth, name.strip()))
    if not rows:
        print("(no importtime data)")
        return
    total = sum(row[1] for row in rows if row[2] == 0)
    print(f"\nimports of `lambdashield --version`: {total / 1e6:.3f} s cumulative at top level")
    print(f"top {top} top-level imports by cumulative time:")
    for _self, cumulative, _depth, name in sorted(
        (row for row in rows if row[2] == 0), key=lambda row: row[1], reverse=True
    )[:top]:
        print(f"  {cumulative / 1000:9.1f} ms  {name}")
    print(f"top {top} modules by self time:")
    for self_us, _cumulative, _depth, name in sorted(rows, key=lambda row: row[0], reverse=True)[
        :top
    ]:
        print(f"  {self_us / 1000:9.1f} ms  {name}")


def _report(commands: list[Command], versions: dict[str, str | None], runs: int) -> None:
    print()
    print(f"start-up benchmark, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {machine_summary()}")
    print(f"versions: {', '.join(f'{name} {ver}' for name, ver in versions.items())}")
    print(f"method:  wall-clock of the console script, 1 warm-up + {runs} runs, interleaved")
    print()
    header = f"{'command':<42} {'median s':>9} {'best s':>8} {'budget':>14}"
    print(header)
    print("-" * len(header))
    for command in commands:
        if not command.values:
            print(f"{command.label:<42} {'FAILED':>9}")
            continue
        verdict = ""
        if command.budget is not None:
            word = "PASS" if command.within_budget else "FAIL"
            verdict = f"< {command.budget:.1f} s {word}"
        print(f"{command.label:<42} {command.median:>9.3f} {command.best:>8.3f} {verdict:>14}")
    for command in commands:
        if command.failure is not None:
            print(f"{command.label} FAILED: {command.failure}")


def _to_json(commands: list[Command], versions: dict[str, str | None], runs: int) -> str:
    doc = {
        "benchmark": "startup",
        "when_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine_summary(),
        "versions": versions,
        "runs": runs,
        "commands": {
            command.label: {
                "argv0": Path(command.argv[0]).name,
                "times_s": command.values,
                "median_s": command.median if command.values else None,
                "best_s": command.best if command.values else None,
                "budget_s": command.budget,
                "failure": command.failure,
            }
            for command in commands
        },
    }
    return json.dumps(doc, indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    versions: dict[str, str | None] = {}
    commands: list[Command] = []
    lambdashield_unavailable: str | None = None
    setup_failed = False

    with tempfile.TemporaryDirectory(prefix="startup-bench-") as tmp:
        workdir = Path(tmp)
        policy = workdir / "policy.json"
        policy.write_text(json.dumps(TINY_POLICY), encoding="utf-8")

        lambdashield: Path | None = None
        try:
            python = ensure_lambdashield(reinstall=not args.no_reinstall)
            lambdashield = venv_executable(python.parent.parent, "lambdashield")
            versions["lambdashield"] = distribution_version(python, "lambdashield")
            if not lambdashield.exists():
                lambdashield_unavailable = f"no console script at {lambdashield}"
                lambdashield = None
        except SetupError as exc:
            if exc.detail:
                print(f"lambdashield: {exc}\n{exc.detail}", file=sys.stderr, flush=True)
            lambdashield_unavailable = f"install failed: {exc}"
        if lambdashield is not None:
            commands.append(
                Command("lambdashield --version", [str(lambdashield), "--version"], BUDGET_S)
            )
            commands.append(
                Command(
                    "lambdashield policy check policy.json",
                    [str(lambdashield), "policy", "check", str(policy)],
                    BUDGET_S,
                )
            )

        if not args.skip_checkov:
            try:
                python = ensure_anchor(CHECKOV)
                versions["checkov"] = distribution_version(python, CHECKOV.name)
                checkov = venv_executable(VENVS_DIR / CHECKOV.name, "checkov")
                commands.append(
                    Command("checkov --version (anchor)", [str(checkov), "--version"], None)
                )
            except SetupError as exc:
                print(f"checkov: {exc}\n{exc.detail}", file=sys.stderr, flush=True)
                setup_failed = True

        print("warm-up", file=sys.stderr, flush=True)
        for command in commands:
            _run_once(command, workdir)
        live = [command for command in commands if command.failure is None]
        for round_no in range(1, args.runs + 1):
            print(f"round {round_no}/{args.runs}", file=sys.stderr, flush=True)
            for command in live:
                if command.failure is None:
                    elapsed = _run_once(command, workdir)
                    if elapsed is not None:
                        command.values.append(elapsed)

        _report(commands, versions, args.runs)
        by_label = {command.label: command for command in commands}
        ours = by_label.get("lambdashield --version")
        anchor = by_label.get("checkov --version (anchor)")
        print()
        if ours is not None and anchor is not None and ours.values and anchor.values:
            ratio = anchor.median / ours.median
            print(f"ratio checkov/lambdashield (--version, median): {ratio:.1f}x")
        if lambdashield_unavailable is not None:
            print(f"lambdashield not measurable: {lambdashield_unavailable}")
        over = [command for command in commands if command.within_budget is False]
        wanted = args.importtime or (ours is not None and ours.within_budget is False)
        if lambdashield is not None and ours is not None and ours.values and wanted:
            _importtime(lambdashield, workdir)

    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(_to_json(commands, versions, args.runs), encoding="utf-8")
        print(f"wrote {args.json}")

    if setup_failed or any(command.failure is not None for command in commands):
        return 1
    if args.check_budget and over:
        return 1
    if lambdashield_unavailable is not None:
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
