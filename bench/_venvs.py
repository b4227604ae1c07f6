"""Throwaway virtual environments for the benchmarks (standard library only).

Every tool a benchmark times lives in its own venv under ``bench/.venvs/<name>`` (gitignored),
created with ``python -m venv`` on first use and reused afterwards. The anchors are pinned so
that numbers stay comparable from run to run; lambdashield is installed non-editable from the
repository (``pip install <repo>``) so the benchmark measures what a user gets, and is
reinstalled on every run because its source changes under us.
"""

from __future__ import annotations

import os
import platform
import re
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "BENCH_DIR",
    "REPO_ROOT",
    "VENVS_DIR",
    "Anchor",
    "Samples",
    "SetupError",
    "clean_env",
    "distribution_version",
    "ensure_anchor",
    "ensure_lambdashield",
    "machine_summary",
    "venv_executable",
]

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
VENVS_DIR = BENCH_DIR / ".venvs"

_PIP_TIMEOUT_S = 1800.0


class SetupError(RuntimeError):
    """A venv could not be created or a package could not be installed into it.

    ``str()`` is a one-line summary; ``detail`` holds the tail of the log for stderr.
    """

    def __init__(self, summary: str, detail: str = "") -> None:
        super().__init__(summary)
        self.detail = detail


class Samples:
    """What every record of repeated timings answers. The median judges a budget, since one
    slow run on a shared machine says nothing about the code; the best shows its floor."""

    values: list[float]
    budget: float | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def best(self) -> float:
        return min(self.values)

    @property
    def within_budget(self) -> bool | None:
        if self.budget is None or not self.values:
            return None
        return self.median < self.budget


@dataclass(frozen=True)
class Anchor:
    """A tool from PyPI that lambdashield is compared with, pinned to one version."""

    name: str
    """Distribution name on PyPI; also the name of its venv under ``bench/.venvs``."""
    version: str

    @property
    def requirement(self) -> str:
        return f"{self.name}=={self.version}"


def venv_executable(venv: Path, name: str) -> Path:
    """Path of an executable (``python``, a console script) inside ``venv``."""
    if os.name == "nt":
        return venv / "Scripts" / f"{name}.exe"
    return venv / "bin" / name


def clean_env() -> dict[str, str]:
    """The current environment without variables that would change how Python starts.

    Measured commands run with this so that a stray ``PYTHONPATH``, an activated venv or
    ``PYTHONPROFILEIMPORTTIME`` in the caller's shell cannot distort the numbers.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    env.pop("VIRTUAL_ENV", None)
    env.pop("__PYVENV_LAUNCHER__", None)
    return env


def distribution_version(python: Path, dist: str) -> str | None:
    """Installed version of ``dist`` in the interpreter ``python``, or None if absent."""
    code = (
        "import importlib.metadata as m, sys\n"
        "try:\n"
        "    print(m.version(sys.argv[1]))\n"
        "except m.PackageNotFoundError:\n"
        "    sys.exit(3)\n"
    )
    try:
        done = subprocess.run(
            [str(python), "-I", "-c", code, dist],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.strip() or None


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _create_venv(venv: Path) -> Path:
    python = venv_executable(venv, "python")
    if python.exists():
        return python
    _log(f"creating venv {_shown(venv)}")
    venv.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", "venv", str(venv)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0 or not python.exists():
        output = done.stderr or done.stdout
        raise SetupError(f"python -m venv {venv} failed: {_key_line(output)}", _tail(output))
    return python


def _pip_install(python: Path, venv: Path, args: list[str]) -> None:
    log_path = venv / "install.log"
    command = [str(python), "-m", "pip", "install", "--disable-pip-version-check", *args]
    _log(f"  $ {' '.join(command[1:])}   (log: {_shown(log_path)})")
    with log_path.open("a", encoding="utf-8") as log:
        log.write(f"\n$ {' '.join(command)}\n")
        log.flush()
        try:
            done = subprocess.run(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                check=False,
                timeout=_PIP_TIMEOUT_S,
            )
        except subprocess.TimeoutExpired:
            raise SetupError(f"pip install timed out after {_PIP_TIMEOUT_S:.0f} s") from None
    if done.returncode != 0:
        text = log_path.read_text(encoding="utf-8", errors="replace")
        last_run = text.rsplit("\n$ ", 1)[-1]
        raise SetupError(
            f"pip install {' '.join(args)} failed: {_key_line(last_run)} "
            f"(full log: {_shown(log_path)})",
            _tail(last_run),
        )


def ensure_anchor(anchor: Anchor) -> Path:
    """Python of the anchor's venv, creating it and installing the pinned version if needed."""
    venv = VENVS_DIR / anchor.name
    python = _create_venv(venv)
    installed = distribution_version(python, anchor.name)
    if installed != anchor.version:
        what = "first run" if installed is None else f"found {installed}"
        _log(f"installing {anchor.requirement} into {_shown(venv)} ({what}; may take a while)")
        _pip_install(python, venv, [anchor.requirement])
        installed = distribution_version(python, anchor.name)
        if installed != anchor.version:
            raise SetupError(f"{anchor.requirement} not importable after install (got {installed})")
    return python


def ensure_lambdashield(*, reinstall: bool = True) -> Path:
    """Python of ``bench/.venvs/lambdashield`` with lambdashield installed from this repo.

    The install is a normal (non-editable) ``pip install <repo>``, rebuilt from the working
    tree on every call unless ``reinstall`` is false and some version is already there.
    """
    venv = VENVS_DIR / "lambdashield"
    python = _create_venv(venv)
    if reinstall or distribution_version(python, "lambdashield") is None:
        _log(f"installing lambdashield from {REPO_ROOT} into {_shown(venv)} (non-editable)")
        _pip_install(python, venv, [str(REPO_ROOT)])
    return python


def machine_summary() -> str:
    """One line naming the OS, CPU model and count, and the driver's Python."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs ({cpu}), "
        f"{platform.python_implementation()} {platform.python_version()}"
    )


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def _tail(text: str, lines: int = 20) -> str:
    kept = [line for line in text.strip().splitlines() if line.strip()]
    return "\n".join(f"    {line}" for line in kept[-lines:])


_EXCEPTION_LINE = re.compile(r"^\s*(?:\w+\.)*\w*(?:Error|Exception): ")


def _key_line(text: str) -> str:
    """The most telling line of a failed command's output: its last exception or error."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in reversed(lines):
        if _EXCEPTION_LINE.match(line):
            return line
    for line in reversed(lines):
        if line.lower().startswith("error:"):
            return line
    return lines[-1] if lines else "no output"
