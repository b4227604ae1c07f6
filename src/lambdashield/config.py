"""Scan settings: from `[tool.lambdashield]` (pyproject.toml or .lambdashield.toml) and flags.

Keys use the same spelling as the command-line flags. An unknown key, a wrong type or a
file that is not valid TOML is a `ConfigError` naming the file, never a silent default.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lambdashield.errors import ConfigError
from lambdashield.model import Severity

__all__ = ["CONFIG_FILES", "Config", "find_config", "load_config"]

CONFIG_FILES = (".lambdashield.toml", "pyproject.toml")
DEFAULT_MAX_FILE_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Config:
    select: tuple[str, ...] = ()
    """Rule IDs or prefixes to run (`LS-IAM`, `LS-IAM-00`); empty means all."""
    ignore: tuple[str, ...] = ()
    fail_on: Severity = Severity.HIGH
    min_severity: Severity = Severity.LOW
    """Findings below this are not reported at all."""
    baseline: Path | None = None
    exclude: tuple[str, ...] = ()
    """gitignore-style patterns, relative to each scanned root."""
    per_file_ignores: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    max_files: int = 100_000
    db: Path | None = None
    """The advisory store; `None` is the default one in the user cache directory."""
    advisory_max_age_days: int = 7
    fail_on_missing_db: bool = True
    """Fail the scan (exit 2) when dependencies cannot be checked: no store, a stale one, or
    one without the ecosystem. Off, the dependency files are listed as not checked."""
    public_routes: tuple[str, ...] = ()
    """Routes meant to be public (`GET /health`): `LS-API-002` leaves them alone."""
    runtime_warning_days: int = 180
    """How long before a runtime's deprecation date `LS-FN-001` starts warning."""
    policies_only: bool = False
    """Treat every given file as an IAM policy (`lambdashield policy check`)."""
    snippets: bool = False
    """Keep the source lines around each finding in the report, for the HTML report: the
    other formats never show them, so the files are not read again for them."""
    source: Path | None = None
    """The file the settings came from, for messages."""

    def merged(self, **overrides: Any) -> Config:
        """This config with the flags the user actually gave (`None` means not given)."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


def find_config(start: Path) -> Path | None:
    """The nearest config file at or above `start`, stopping at a repository root."""
    here = start.resolve()
    if here.is_file():
        here = here.parent
    for directory in (here, *here.parents):
        for name in CONFIG_FILES:
            candidate = directory / name
            if candidate.is_file() and (name != "pyproject.toml" or _has_section(candidate)):
                return candidate
        if (directory / ".git").exists():
            break
    return None


def _has_section(path: Path) -> bool:
    try:
        return "[tool.lambdashield" in path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


def load_config(path: Path) -> Config:
    # The TOML parser is imported here: most runs have no config file to read.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on Python 3.10 only
        import tomli as tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: config is not UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    table: Any = data
    if path.name == "pyproject.toml":
        table = data.get("tool", {}).get("lambdashield", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.lambdashield] must be a table")
    return _from_table(table, path)


_KEYS = (
    "select",
    "ignore",
    "fail-on",
    "min-severity",
    "baseline",
    "exclude",
    "per-file-ignores",
    "max-file-size",
    "public-routes",
    "runtime-warning-days",
    "db",
    "advisory-max-age-days",
    "fail-on-missing-db",
)


def _from_table(table: dict[str, Any], path: Path) -> Config:
    unknown = sorted(set(table) - set(_KEYS))
    if unknown:
        raise ConfigError(
            f"{path}: unknown key {unknown[0]!r} in lambdashield settings "
            f"(known keys: {', '.join(_KEYS)})"
        )

    def strings(key: str) -> tuple[str, ...]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{path}: {key!r} must be a list of strings")
        return tuple(value)

    def severity(key: str, default: Severity) -> Severity:
        value = table.get(key)
        if value is None:
            return default
        try:
            return Severity.parse(str(value))
        except ValueError as exc:
            raise ConfigError(f"{path}: {key!r}: {exc}") from None

    per_file = table.get("per-file-ignores", {})
    if not isinstance(per_file, dict) or not all(
        isinstance(v, list) and all(isinstance(i, str) for i in v) for v in per_file.values()
    ):
        raise ConfigError(f"{path}: 'per-file-ignores' must map path patterns to lists of rules")
    size = table.get("max-file-size", DEFAULT_MAX_FILE_BYTES)
    if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        raise ConfigError(f"{path}: 'max-file-size' must be a positive number of bytes")
    warning_days = table.get("runtime-warning-days", 180)
    if not isinstance(warning_days, int) or isinstance(warning_days, bool) or warning_days < 0:
        raise ConfigError(f"{path}: 'runtime-warning-days' must be a whole number of days")
    max_age = table.get("advisory-max-age-days", 7)
    if not isinstance(max_age, int) or isinstance(max_age, bool) or max_age <= 0:
        raise ConfigError(f"{path}: 'advisory-max-age-days' must be a positive number of days")
    fail_missing = table.get("fail-on-missing-db", True)
    if not isinstance(fail_missing, bool):
        raise ConfigError(f"{path}: 'fail-on-missing-db' must be true or false")
    db = table.get("db")
    if db is not None and not isinstance(db, str):
        raise ConfigError(f"{path}: 'db' must be a path")
    baseline = table.get("baseline")
    if baseline is not None and not isinstance(baseline, str):
        raise ConfigError(f"{path}: 'baseline' must be a path")
    return Config(
        select=strings("select"),
        ignore=strings("ignore"),
        fail_on=severity("fail-on", Severity.HIGH),
        min_severity=severity("min-severity", Severity.LOW),
        baseline=(path.parent / baseline) if baseline else None,
        exclude=strings("exclude"),
        per_file_ignores={k: tuple(v) for k, v in per_file.items()},
        max_file_bytes=size,
        db=(path.parent / db) if db else None,
        advisory_max_age_days=max_age,
        fail_on_missing_db=fail_missing,
        public_routes=strings("public-routes"),
        runtime_warning_days=warning_days,
        source=path,
    )
