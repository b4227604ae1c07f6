"""Dependency scanning speed: 300 pinned packages at old versions against the PyPI snapshot.

Measures, each best of ``--repeat`` (median beside it):

- index: ``import_path`` of ``../shared/data/osv-pypi/advisories.tar.gz`` (2,661 advisories)
  into a new store (budget < 2 s);
- import: time a fresh interpreter spends importing the dependency loaders, the store and
  the rules (packaging, sqlite3, PyYAML included);
- load: reading the 300-line ``requirements.txt`` into a ``DependencySet``;
- match: one store lookup for the 300 names, OSV evaluation and the four ``LS-DEP`` rules;
- scan: wall-clock of a fresh ``python`` process that imports, loads, opens the store,
  matches and counts hits, i.e. ``lambdashield scan requirements.txt`` minus discovery and
  rendering, until the engine runs the dependency rules (budget < 0.3 s);
- lookup: opening the store and fetching the advisories of the 300 names (SQLite), next to
  the alternative measured for the choice: one JSON file mapping names to advisories,
  read whole (`json index`), for the snapshot and the 10x store;
- scan (10x): the same against a store ten times the snapshot's size, built by cloning
  each advisory nine times, two clones on the same package (aliases, so more matching) and
  seven on new names, standing in for OSV's full PyPI feed (budget < 0.5 s).

The 300 packages are the snapshot's packages with the most advisories, each pinned at an
old version from its advisories' ``versions`` lists: a worst case, since nearly every line
matches something. There is no anchor to run beside it offline: pip-audit asks the OSV web
service for every package.

    .venv/bin/python bench/deps.py
    .venv/bin/python bench/deps.py --repeat 5 --json bench/results/deps.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SNAPSHOT = ROOT.parent / "shared" / "data" / "osv-pypi" / "advisories.tar.gz"
sys.path.insert(0, str(ROOT / "src"))

BUDGETS = {"index": 2.0, "scan": 0.3, "scan (10x)": 0.5}

SCAN = """
import sys, time
start = time.perf_counter()
from pathlib import Path, PurePosixPath
from lambdashield.advisories.store import AdvisoryStore
from lambdashield.checks._deps_view import DependencyView
from lambdashield.checks.dependencies import RULES
from lambdashield.loaders.python_deps import load_python_file
requirements, store_path = Path(sys.argv[1]), Path(sys.argv[2])
loaded = load_python_file(requirements, PurePosixPath("requirements.txt"), max_bytes=10**7)
with AdvisoryStore(store_path) as store:
    view = DependencyView(loaded.sets[0], store)
    hits = sum(1 for rule in RULES for _ in rule(view))
print(hits, time.perf_counter() - start)
"""

IMPORTS = (
    "import time; s = time.perf_counter(); "
    "import lambdashield.loaders.python_deps, lambdashield.advisories.store, "
    "lambdashield.checks.dependencies; print(time.perf_counter() - s)"
)


def timed(action: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    runs = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = action()
        runs.append(time.perf_counter() - start)
    return min(runs), statistics.median(runs), result


def pinned_packages(count: int) -> list[tuple[str, str]]:
    """The `count` packages with the most advisories, each at an old listed version."""
    from packaging.version import InvalidVersion, Version

    versions: dict[str, set[str]] = {}
    advisories: dict[str, int] = {}
    with tarfile.open(SNAPSHOT) as archive:
        for member in archive:
            handle = archive.extractfile(member) if member.isfile() else None
            if handle is None:
                continue
            document = json.loads(handle.read())
            for affected in document.get("affected", []):
                name = affected["package"]["name"]
                advisories[name] = advisories.get(name, 0) + 1
                versions.setdefault(name, set()).update(affected.get("versions", []))
    chosen = []
    for name in sorted(advisories, key=lambda n: (-advisories[n], n)):
        valid = [
            (Version(t), t) for t in versions.get(name, ()) if _valid(t, Version, InvalidVersion)
        ]
        if valid:
            valid.sort()
            chosen.append((name, valid[len(valid) // 3][1]))
        if len(chosen) == count:
            break
    return chosen


def _valid(text: str, version: Any, invalid: type[Exception]) -> bool:
    try:
        version(text)
    except invalid:
        return False
    return True


def tenfold_archive(destination: Path) -> int:
    """A zip of the snapshot with nine clones of every advisory; returns its size."""
    count = 0
    with (
        tarfile.open(SNAPSHOT) as source,
        zipfile.ZipFile(destination, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for member in source:
            handle = source.extractfile(member) if member.isfile() else None
            if handle is None:
                continue
            document = json.loads(handle.read())
            target.writestr(member.name, json.dumps(document))
            count += 1
            for clone in range(1, 10):
                copy = json.loads(json.dumps(document))
                copy["id"] = f"{document['id']}-CLONE{clone}"
                copy["aliases"] = [document["id"]] if clone <= 2 else []
                if clone > 2:
                    for affected in copy.get("affected", []):
                        affected["package"]["name"] += f"-clone{clone}"
                target.writestr(f"clone{clone}/{member.name}", json.dumps(copy))
                count += 1
    return count


def lookup(store_path: Path, names: list[str]) -> Callable[[], int]:
    from lambdashield.advisories.store import AdvisoryStore

    def run() -> int:
        with AdvisoryStore(store_path) as store:
            return len(store.advisories("PyPI", names))

    return run


def json_index(store_path: Path, work: Path, names: list[str]) -> Callable[[], int]:
    """The alternative to SQLite: the whole name -> records map in one JSON file."""
    import sqlite3

    from lambdashield.advisories.osv import Advisory

    index: dict[str, list[str]] = {}
    with sqlite3.connect(store_path) as connection:
        for name, record in connection.execute(
            "SELECT p.name, a.record FROM package p JOIN advisory a ON a.id = p.advisory"
        ):
            index.setdefault(name, []).append(record)
    connection.close()
    path = work / f"{store_path.stem}.json"
    path.write_text(json.dumps(index), encoding="utf-8")
    wanted = [n.lower() for n in names]

    def run() -> int:
        loaded = json.loads(path.read_text(encoding="utf-8"))
        found = {
            n: [Advisory.from_record(json.loads(r)) for r in loaded[n]]
            for n in wanted
            if n in loaded
        }
        return len(found)

    return run


def fresh_process(python: str, code: str, *args: str, repeat: int) -> tuple[float, float, str]:
    runs = []
    output = ""
    subprocess.run([python, "-c", code, *args], check=True, capture_output=True)  # warm-up
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(
            [python, "-c", code, *args], check=True, capture_output=True, text=True
        )
        runs.append(time.perf_counter() - start)
        output = done.stdout.strip()
    return min(runs), statistics.median(runs), output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--packages", type=int, default=300)
    parser.add_argument("--python", default=sys.executable, help="interpreter for fresh runs")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if not SNAPSHOT.is_file():
        print(f"snapshot not found: {SNAPSHOT}", file=sys.stderr)
        return 2

    from pathlib import PurePosixPath

    from lambdashield.advisories.store import AdvisoryStore, import_path
    from lambdashield.checks._deps_view import DependencyView
    from lambdashield.checks.dependencies import RULES
    from lambdashield.loaders.python_deps import load_python_file

    figures: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        packages = pinned_packages(args.packages)
        requirements = work / "requirements.txt"
        names = [n for n, _ in packages]
        requirements.write_text("".join(f"{n}=={v}\n" for n, v in packages), encoding="utf-8")

        def build() -> Path:
            store = work / f"index-{time.perf_counter_ns()}.sqlite3"
            report = import_path(SNAPSHOT, store)
            if report.errors:
                raise SystemExit(f"snapshot import failed: {report.errors[:3]}")
            return store

        best, median, store_path = timed(build, args.repeat)
        figures["index"] = (best, median)
        store_bytes = store_path.stat().st_size

        imports = [
            float(fresh_process(args.python, IMPORTS, repeat=1)[2]) for _ in range(args.repeat)
        ]
        figures["import"] = (min(imports), statistics.median(imports))

        def load() -> Any:
            return load_python_file(
                requirements, PurePosixPath("requirements.txt"), max_bytes=10**7
            )

        best, median, loaded = timed(load, args.repeat)
        figures["load"] = (best, median)

        def match(path: Path) -> Callable[[], int]:
            def run() -> int:
                with AdvisoryStore(path) as store:
                    view = DependencyView(loaded.sets[0], store)
                    return sum(1 for rule in RULES for _ in rule(view))

            return run

        best, median, hits = timed(match(store_path), args.repeat)
        figures["match"] = (best, median)

        best, median, _ = fresh_process(
            args.python, SCAN, str(requirements), str(store_path), repeat=args.repeat
        )
        figures["scan"] = (best, median)
        figures["lookup"] = timed(lookup(store_path, names), args.repeat)[:2]
        figures["json index"] = timed(json_index(store_path, work, names), args.repeat)[:2]

        big_zip = work / "tenfold.zip"
        advisories = tenfold_archive(big_zip)
        big_store = work / "tenfold.sqlite3"
        start = time.perf_counter()
        import_path(big_zip, big_store)
        figures["index (10x)"] = (time.perf_counter() - start,) * 2
        best, median, hits_big = timed(match(big_store), args.repeat)
        figures["match (10x)"] = (best, median)
        best, median, _ = fresh_process(
            args.python, SCAN, str(requirements), str(big_store), repeat=args.repeat
        )
        figures["scan (10x)"] = (best, median)
        figures["lookup (10x)"] = timed(lookup(big_store, names), args.repeat)[:2]
        figures["json index (10x)"] = timed(json_index(big_store, work, names), args.repeat)[:2]
        big_bytes = big_store.stat().st_size

    print(f"packages: {len(packages)} pinned, {hits} LS-DEP hits (10x store: {hits_big})")
    print(
        f"store: {store_bytes:,} bytes; 10x store: {advisories:,} advisories, {big_bytes:,} bytes"
    )
    print(f"{'stage':<22} {'best s':>8} {'median s':>9}  budget")
    failed = False
    for stage, (best, median) in figures.items():
        budget = BUDGETS.get(stage)
        verdict = ""
        if budget is not None:
            ok = median < budget
            failed = failed or not ok
            verdict = f"< {budget} s {'PASS' if ok else 'FAIL'}"
        print(f"{stage:<22} {best:>8.3f} {median:>9.3f}  {verdict}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({k: list(v) for k, v in figures.items()}, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
