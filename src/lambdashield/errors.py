"""Errors lambdashield raises on purpose. Anything else is a bug.

    LambdashieldError
    ├── ConfigError      bad configuration or command-line values (exit 2)
    ├── LoaderError      an input file that cannot be read or parsed (path, line, detail)
    └── AdvisoryError    the advisory store is missing, stale or unreadable

The CLI catches `LambdashieldError` in one place. A `LoaderError` raised while scanning
never stops the scan: the engine records it as a `ScanError` and goes on.
"""

from __future__ import annotations

from pathlib import PurePosixPath

__all__ = ["AdvisoryError", "ConfigError", "LambdashieldError", "LoaderError"]


class LambdashieldError(Exception):
    """Root of every error lambdashield raises deliberately."""


class ConfigError(LambdashieldError):
    """Invalid configuration file or option; the message names the file and key."""


class LoaderError(LambdashieldError):
    """An input file could not be read or parsed."""

    def __init__(self, path: PurePosixPath, detail: str, line: int | None = None) -> None:
        self.path = path
        self.detail = detail
        self.line = line
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {detail}")


class AdvisoryError(LambdashieldError):
    """The vulnerability advisory store could not be used."""
