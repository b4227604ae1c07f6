"""The function checks its own dependencies once per cold start, against a snapshot.

```python
from lambdashield.runtime.selfscan import selfscan_once

selfscan_once()  # at module level of the handler: runs once per execution environment
```

`lambdashield deps snapshot build/ --out build/lambdashield-snapshot.json` writes the
snapshot when the deployment package is built; it lists, for every distribution in the
package, the advisories that affect its exact installed version. Here the installed
distributions are listed from the `*.dist-info` (and `*.egg-info`) names in each `sys.path`
folder with `os.scandir` (reading metadata through `importlib.metadata` costs 70-120 ms
on a cold start; the folder names cost well under a millisecond), and each is looked up
in the snapshot by its exact version string, so no version is parsed here. The first
folder on `sys.path` that has a distribution wins, as it does for `import`.

One structured line is written per scan (JSON, on stdout like the guard's audit line):
`"level": "WARNING"` with the vulnerable and unchecked distributions, or `"INFO"` when
everything the snapshot covers is clean. A distribution the snapshot lists at another
version (it changed after the snapshot) is `unchecked`, never clean; one the snapshot does
not know at all (the runtime's own `boto3`, a package added later) is only counted.

The snapshot is found at `snapshot_path`, else `$LAMBDASHIELD_SNAPSHOT`, else
`lambdashield-snapshot.json` in `$LAMBDA_TASK_ROOT` (the deployment package's root) or the
working folder. A missing or unreadable snapshot is one warning line, never an exception:
the self-scan must not stop a function from starting. Standard library only, and nothing
from the rest of lambdashield.
"""

from __future__ import annotations

import os
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

    Sink = Callable[[dict[str, object]], None]

__all__ = [
    "SNAPSHOT_NAME",
    "SelfScanResult",
    "installed_distributions",
    "selfscan",
    "selfscan_once",
    "write_line",
]

SNAPSHOT_NAME = "lambdashield-snapshot.json"
MAX_SNAPSHOT_BYTES = 16 * 1024 * 1024
_FORMAT = "lambdashield-snapshot"
_FORMAT_VERSION = 1
_SHOWN = 20


class SelfScanResult:
    """One installed distribution the snapshot says is vulnerable or could not check.

    A plain slotted class: `typing.NamedTuple` and `dataclasses` cost an import each on
    the cold start this runs in.
    """

    __slots__ = ("fixed", "ids", "package", "path", "severity", "status", "version")

    def __init__(
        self,
        package: str,
        version: str,
        status: str,
        ids: tuple[str, ...] = (),
        severity: str | None = None,
        fixed: str | None = None,
        path: str = "",
    ) -> None:
        self.package = package
        """PEP 503 name."""
        self.version = version
        self.status = status
        """`vulnerable` or `unchecked`."""
        self.ids = ids
        """Vulnerability IDs (a CVE when there is one); empty when the version is unknown."""
        self.severity = severity
        """The highest of the advisories' ratings (critical/high/medium/low), when rated."""
        self.fixed = fixed
        """The lowest version that fixes the first vulnerability, when one is known."""
        self.path = path
        """The `sys.path` folder it is installed in."""

    def _key(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SelfScanResult) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (
            f"SelfScanResult({self.package!r}, {self.version!r}, {self.status!r}, "
            f"ids={self.ids!r}, severity={self.severity!r}, fixed={self.fixed!r})"
        )


def _normalise(name: str) -> str:
    return "-".join(p for p in name.lower().replace("_", "-").replace(".", "-").split("-") if p)


def _parse(entry: str) -> tuple[str, str] | None:
    """`PyYAML-6.0.1.dist-info` -> (`pyyaml`, `6.0.1`); the same rule as the snapshot's."""
    if entry.endswith(".dist-info"):
        stem = entry[:-10]
    elif entry.endswith(".egg-info"):
        stem = entry[:-9]
    else:
        return None
    name, sep, rest = stem.partition("-")
    version = rest.split("-", 1)[0]
    if not sep or not name or not version:
        return None
    return _normalise(name), version


def installed_distributions(paths: Iterable[str] | None = None) -> dict[str, tuple[str, str]]:
    """PEP 503 name -> (version, folder), the first folder of `paths` (default `sys.path`)
    that holds it winning."""
    found: dict[str, tuple[str, str]] = {}
    for folder in sys.path if paths is None else paths:
        try:
            with os.scandir(folder or ".") as entries:
                for entry in entries:
                    name = entry.name
                    if name[-5:] != "-info":
                        continue
                    parsed = _parse(name)
                    if parsed is not None and parsed[0] not in found:
                        found[parsed[0]] = (parsed[1], folder)
        except OSError:
            continue
    return found


def _default_path() -> str:
    given = os.environ.get("LAMBDASHIELD_SNAPSHOT")
    if given:
        return given
    # os, not pathlib: importing pathlib alone takes milliseconds of a cold start.
    root = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()  # noqa: PTH109
    return os.path.join(root, SNAPSHOT_NAME)  # noqa: PTH118


def _load(path: str) -> dict[str, Any]:
    import json

    with open(path, "rb") as handle:  # noqa: PTH123 - see _default_path
        data = handle.read(MAX_SNAPSHOT_BYTES + 1)
    if len(data) > MAX_SNAPSHOT_BYTES:
        raise ValueError(f"over {MAX_SNAPSHOT_BYTES:,} bytes")
    document = json.loads(data)
    if (
        not isinstance(document, dict)
        or document.get("format") != _FORMAT
        or document.get("version") != _FORMAT_VERSION
        or not isinstance(document.get("packages"), dict)
    ):
        raise ValueError(f"not a {_FORMAT} version {_FORMAT_VERSION} file")
    return document


_RANK = {"low": 0, "medium": 1, "high": 2, "critical": 3}


def _vulnerable(name: str, version: str, folder: str, entries: list[Any]) -> SelfScanResult:
    """From the snapshot's `[id, severity, fixed, flag]` entries of one version."""
    rows = [e for e in entries if isinstance(e, list) and len(e) == 4]
    decided = [e for e in rows if e[3] != "unchecked"]
    chosen = decided or rows
    ratings = [e[1] for e in chosen if e[1] in _RANK]
    return SelfScanResult(
        package=name,
        version=version,
        status="vulnerable" if decided else "unchecked",
        ids=tuple(str(e[0]) for e in chosen),
        severity=max(ratings, key=lambda r: _RANK[r]) if ratings else None,
        fixed=next((str(e[2]) for e in chosen if e[2]), None),
        path=folder,
    )


def _match(
    snapshot: dict[str, Any], installed: dict[str, tuple[str, str]]
) -> tuple[list[SelfScanResult], int, int]:
    """Results, distributions checked, distributions the snapshot does not know."""
    packages = snapshot["packages"]
    results: list[SelfScanResult] = []
    checked = unknown = 0
    for name in sorted(installed):
        version, folder = installed[name]
        versions = packages.get(name)
        if not isinstance(versions, dict):
            unknown += 1
            continue
        entries = versions.get(version)
        if entries is None:
            results.append(SelfScanResult(name, version, "unchecked", path=folder))
            continue
        checked += 1
        if entries:
            results.append(_vulnerable(name, version, folder, entries))
    return results, checked, unknown


def write_line(record: dict[str, object]) -> None:
    """The default sink: one compact JSON line on stdout (CloudWatch Logs)."""
    import json

    sys.stdout.write(json.dumps(record, separators=(",", ":"), default=str) + "\n")


def selfscan(
    snapshot_path: str | os.PathLike[str] | None = None,
    *,
    paths: Iterable[str] | None = None,
    emit: Sink | None = write_line,
) -> list[SelfScanResult]:
    """Check the installed distributions against the snapshot; emit one line; return the
    vulnerable and unchecked ones. Never raises for a missing or broken snapshot."""
    started = time.perf_counter()
    path = os.fspath(snapshot_path) if snapshot_path is not None else _default_path()
    record: dict[str, object] = {"logger": "lambdashield.selfscan", "snapshot": path}
    results: list[SelfScanResult] = []
    try:
        snapshot = _load(path)
    except (OSError, ValueError) as exc:
        problem = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        record.update(
            level="WARNING",
            message=f"dependencies not checked: snapshot unreadable ({problem})",
        )
    else:
        installed = installed_distributions(paths)
        results, checked, unknown = _match(snapshot, installed)
        vulnerable = [r for r in results if r.status == "vulnerable"]
        unchecked = [r for r in results if r.status == "unchecked"]
        record.update(
            level="WARNING" if results else "INFO",
            message=(
                f"{len(vulnerable)} installed distributions have known vulnerabilities, "
                f"{len(unchecked)} could not be checked"
                if results
                else f"no known vulnerabilities in the {checked} distributions checked"
            ),
            advisories_as_of=snapshot.get("advisories_as_of"),
            checked=checked,
            not_in_snapshot=unknown,
            vulnerable=[_shown(r) for r in vulnerable[:_SHOWN]],
            unchecked=[_shown(r) for r in unchecked[:_SHOWN]],
        )
    record["duration_ms"] = round((time.perf_counter() - started) * 1000, 3)
    if emit is not None:
        # A broken sink must not stop the function starting; contextlib costs an import.
        try:  # noqa: SIM105
            emit(record)
        except Exception:  # noqa: S110
            pass
    return results


def _shown(result: SelfScanResult) -> dict[str, object]:
    shown: dict[str, object] = {"package": result.package, "version": result.version}
    if result.ids:
        shown["ids"] = list(result.ids)
    if result.severity:
        shown["severity"] = result.severity
    if result.fixed:
        shown["fixed"] = result.fixed
    return shown


_done: list[SelfScanResult] | None = None


def selfscan_once(
    snapshot_path: str | os.PathLike[str] | None = None, *, emit: Sink | None = write_line
) -> list[SelfScanResult]:
    """`selfscan` the first time it is called in this execution environment (the cold
    start); later calls return the first result without scanning or writing again."""
    global _done
    if _done is None:
        _done = selfscan(snapshot_path, emit=emit)
    return _done
