"""Cold-start self-scan: `lambdashield.runtime.selfscan` against `importlib.metadata`.

Builds a deployment package folder with the 300 packages of `bench/deps.py` (the shared
snapshot's packages with the most advisories, each pinned at an old version), each as a
`<name>-<version>.dist-info` folder with a METADATA file, and a snapshot of them with
`lambdashield deps snapshot`'s code against a store built from the shared snapshot.

Each measurement is a fresh interpreter (`python -I`, so `site-packages` is not on the
path) whose `sys.path` is the package folder followed by the standard library, as on
Lambda, timing inside the process:

- call only: one `selfscan()` call (reading the folder names, loading the snapshot,
  matching) with `json` imported first, as on Lambda, whose runtime interface client
  imports `json` (and `logging`, hence `re`) before it imports the handler; this is what
  the self-scan adds to a guarded cold start, whose guard has imported
  `lambdashield.runtime` already. Budget < 5 ms;
- import + call: the same plus importing `lambdashield.runtime.selfscan`, which imports
  the `lambdashield.runtime` package (a function that calls `selfscan_once` without the
  guard pays this);
- bare: both again in an interpreter that has not imported `json` (its import, with `re`,
  is most of the difference);
- importlib.metadata (anchor): importing it and listing every distribution's name and
  version, the way a self-check without lambdashield would do it.

Each is run `--repeat` times after one warm-up; best and median are printed.

    .venv/bin/python bench/selfscan.py
    .venv/bin/python bench/selfscan.py --repeat 21 --json bench/results/selfscan.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

BUDGET_MS = 5.0

SELFSCAN = """
import sys, time
if sys.argv[2] == "json-loaded":
    import json  # as on Lambda, whose runtime client imports json before the handler
start = time.perf_counter()
from lambdashield.runtime.selfscan import selfscan
imported = time.perf_counter()
results = selfscan(sys.argv[1], emit=None)
done = time.perf_counter()
print(len(results), (done - start) * 1000, (done - imported) * 1000)
"""

ANCHOR = """
import sys, time
start = time.perf_counter()
import importlib.metadata
found = {d.metadata["Name"]: d.version for d in importlib.metadata.distributions()}
print(len(found), (time.perf_counter() - start) * 1000)
"""


def run(code: str, package: Path, src: Path | None, *args: str) -> list[float]:
    """Numbers printed by `code` in a fresh isolated interpreter with Lambda's path order."""
    stdlib = sysconfig.get_paths()["stdlib"]
    paths = [str(package), *(str(p) for p in ([src] if src else [])), stdlib]
    prelude = (
        f"import sys; sys.path[:] = {paths!r} + [p for p in sys.path if p.startswith({stdlib!r})]\n"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-c", prelude + code, *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return [float(x) for x in done.stdout.split()]


def series(
    code: str, package: Path, src: Path | None, repeat: int, *args: str
) -> list[list[float]]:
    run(code, package, src, *args)  # warm-up: file system caches, .pyc files
    return [run(code, package, src, *args) for _ in range(repeat)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=11)
    parser.add_argument("--packages", type=int, default=300)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    from deps import SNAPSHOT, pinned_packages

    from lambdashield.advisories.snapshot import build_snapshot, installed_names, write_snapshot
    from lambdashield.advisories.store import AdvisoryStore, import_path

    if not SNAPSHOT.is_file():
        print(f"shared snapshot not found: {SNAPSHOT}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as work_dir:
        work = Path(work_dir)
        package = work / "task"
        for name, version in pinned_packages(args.packages):
            entry = package / f"{name.replace('-', '_')}-{version}.dist-info"
            entry.mkdir(parents=True)
            (entry / "METADATA").write_text(
                f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n", encoding="utf-8"
            )
        store = work / "store.sqlite3"
        import_path(SNAPSHOT, store)
        started = time.perf_counter()
        with AdvisoryStore(store) as opened:
            document = build_snapshot(installed_names(package), opened, source="task")
        snapshot = package / "lambdashield-snapshot.json"
        write_snapshot(document, snapshot)
        build = time.perf_counter() - started
        size = snapshot.stat().st_size
        vulnerable = sum(1 for v in document["packages"].values() for e in v.values() if e)

        ours = series(SELFSCAN, package, ROOT / "src", args.repeat, str(snapshot), "bare")
        warm = series(SELFSCAN, package, ROOT / "src", args.repeat, str(snapshot), "json-loaded")
        anchor = series(ANCHOR, package, None, args.repeat)

    total = [r[1] for r in ours]
    call = [r[2] for r in ours]
    listing = [r[1] for r in anchor]
    rows = [
        ("selfscan, json loaded (call only)", [r[2] for r in warm], f"< {BUDGET_MS:g} ms"),
        ("selfscan, json loaded (import + call)", [r[1] for r in warm], ""),
        ("selfscan, bare (import + call)", total, ""),
        ("selfscan, bare (call only)", call, ""),
        ("importlib.metadata listing (anchor)", listing, ""),
    ]
    print(
        f"{args.packages} distributions, {vulnerable} with known vulnerabilities; snapshot "
        f"{size:,} bytes, built in {build * 1000:.0f} ms; {int(ours[0][0])} results"
    )
    print(f"{'measure':<38} {'best':>9} {'median':>9}  budget")
    figures = {}
    for label, values, budget in rows:
        best, median = min(values), statistics.median(values)
        verdict = ""
        if budget:
            verdict = f"{budget} {'PASS' if median < BUDGET_MS else 'FAIL'}"
        print(f"{label:<38} {best:>7.2f}ms {median:>7.2f}ms  {verdict}")
        figures[label] = {"best_ms": round(best, 3), "median_ms": round(median, 3)}
    judged = statistics.median([r[2] for r in warm])
    ratio = statistics.median(listing) / judged
    print(f"ratio (anchor / selfscan with json loaded, medians): {ratio:.1f}x")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    return 0 if judged < BUDGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
