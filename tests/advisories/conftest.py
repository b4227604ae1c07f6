"""Stores built once per session: from the small OSV fixtures, and from the shared snapshot.

Tests marked `online` need the network and are skipped unless asked for with `-m online`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdashield.advisories.store import AdvisoryStore, import_path

OSV_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "osv"


@pytest.fixture(autouse=True)
def _online_only_when_asked(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("online") and "online" not in (
        request.config.getoption("markexpr") or ""
    ):
        pytest.skip("needs the network; run with `pytest -m online`")


@pytest.fixture(scope="session")
def fixture_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fixture-store") / "advisories.sqlite3"
    report = import_path(OSV_FIXTURES, path)
    assert report.errors == []
    return path


@pytest.fixture(scope="session")
def snapshot_archive(shared_dir: Path) -> Path:
    archive = shared_dir / "data" / "osv-pypi" / "advisories.tar.gz"
    if not archive.is_file():
        pytest.skip(f"shared snapshot not found: {archive}")
    return archive


@pytest.fixture(scope="session")
def snapshot_store(tmp_path_factory: pytest.TempPathFactory, snapshot_archive: Path) -> Path:
    path = tmp_path_factory.mktemp("snapshot-store") / "advisories.sqlite3"
    report = import_path(snapshot_archive, path)
    assert report.errors == []
    return path


@pytest.fixture
def snapshot(snapshot_store: Path) -> AdvisoryStore:
    with AdvisoryStore(snapshot_store) as store:
        yield store  # type: ignore[misc]
