"""Fixtures shared by every test package."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

CACHE_DIR_ENV = "LAMBDASHIELD_CACHE_DIR"
_CACHE_DIR = pytest.StashKey[tuple[Path, str | None]]()


def pytest_configure(config: pytest.Config) -> None:
    # Set before collection rather than in a fixture: some test modules build the IAM
    # catalogue at import, and the process keeps it. CLI subprocesses inherit the setting,
    # so no test writes the user's real cache, and every run starts from an empty one.
    path = Path(tempfile.mkdtemp(prefix="lambdashield-cache-"))
    config.stash[_CACHE_DIR] = (path, os.environ.get(CACHE_DIR_ENV))
    os.environ[CACHE_DIR_ENV] = str(path)


def pytest_unconfigure(config: pytest.Config) -> None:
    path, previous = config.stash[_CACHE_DIR]
    if previous is None:
        os.environ.pop(CACHE_DIR_ENV, None)
    else:
        os.environ[CACHE_DIR_ENV] = previous
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def session_cache_dir(pytestconfig: pytest.Config) -> Path:
    """The cache directory every test runs with (`$LAMBDASHIELD_CACHE_DIR`)."""
    return pytestconfig.stash[_CACHE_DIR][0]


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """`../shared`, the data written by others; tests that need it skip when it is absent."""
    path = Path(__file__).resolve().parents[1].parent / "shared"
    if not path.is_dir():
        pytest.skip(f"../shared not found: {path}")
    return path


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite tests/golden/ from the current output instead of comparing",
    )
