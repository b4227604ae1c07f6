"""Where lambdashield keeps files it can rebuild: `$LAMBDASHIELD_CACHE_DIR`, else the user
cache directory as platformdirs gives it, the one the advisory store lives in
(`~/.cache/lambdashield` on Linux, `~/Library/Caches/lambdashield` on macOS, under
`%LOCALAPPDATA%` on Windows)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["CACHE_DIR_ENV", "user_cache_dir"]

CACHE_DIR_ENV = "LAMBDASHIELD_CACHE_DIR"


def user_cache_dir() -> Path:
    """The cache directory, not created: callers must cope with it being unwritable.

    Raises `RuntimeError` when platformdirs cannot find a home directory.
    """
    given = os.environ.get(CACHE_DIR_ENV)
    if given:
        return Path(given).expanduser()
    if sys.platform == "linux" and "ANDROID_DATA" not in os.environ:
        # platformdirs' answer for the common Linux cases, without its import (~5 ms, most
        # of it tempfile) on every scan; anything unusual is still left to it.
        xdg = os.environ.get("XDG_CACHE_HOME", "")
        home = os.environ.get("HOME", "")
        if Path(xdg).is_absolute():
            return Path(xdg) / "lambdashield"
        if not xdg.strip() and Path(home).is_absolute():
            return Path(home) / ".cache" / "lambdashield"
    import platformdirs

    return Path(platformdirs.user_cache_dir("lambdashield"))
