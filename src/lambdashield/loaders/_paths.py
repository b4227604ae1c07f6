"""Real paths, for the checks that keep every read inside the scanned folder."""

from __future__ import annotations

from pathlib import Path

__all__ = ["real_file", "real_path"]


def real_path(path: Path) -> Path:
    """`path` with links followed; the absolute path when it cannot be resolved (a link
    loop, a NUL byte), which then fails the containment checks that follow."""
    try:
        return path.resolve()
    except (OSError, RuntimeError, ValueError):
        return path.absolute()


def real_file(path: Path) -> Path | None:
    """The real path of `path`, links followed, when it is a file."""
    # Module lookups mostly try names that are not there: one stat answers those, where
    # resolving would stat each part of the path.
    if not path.is_file():
        return None
    try:
        return path.resolve(strict=True)
    except (OSError, RuntimeError, ValueError):
        return None
