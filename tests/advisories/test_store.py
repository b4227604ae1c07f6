"""The advisory store: import, lookups, staleness, atomic rebuilds and hostile archives."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import stat
import tarfile
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from lambdashield.advisories import osv
from lambdashield.advisories._archive import Limits
from lambdashield.advisories.store import (
    AdvisoryStore,
    ImportReport,
    default_store_path,
    import_path,
    sync,
)
from lambdashield.errors import AdvisoryError

from .conftest import OSV_FIXTURES

GOOD = (OSV_FIXTURES / "npm-basic.json").read_bytes()


def vulnerabilities(store: AdvisoryStore, name: str, version: str) -> osv.Verdict:
    found = store.advisories("PyPI", [name]).get(osv.normalize_name("PyPI", name), ())
    return osv.evaluate("PyPI", name, version, "", found)


def test_requests_2_19_0_reports_the_advisories_fixed_in_2_20_and_later(
    snapshot: AdvisoryStore,
) -> None:
    result = vulnerabilities(snapshot, "requests", "2.19.0")
    found = {v.ids: v.fixed for v in result.vulnerabilities}
    assert found == {("PYSEC-2018-28",): ("2.20.0",), ("PYSEC-2023-74",): ("2.31.0",)}
    assert result.fix == "2.31.0"
    assert result.unchecked == ()
    (first,) = [v for v in result.vulnerabilities if v.ids == ("PYSEC-2018-28",)]
    assert first.aliases == ("CVE-2018-18074", "GHSA-x84v-xcm2-53pg")


def test_requests_2_32_3_reports_none_of_the_snapshot(snapshot: AdvisoryStore) -> None:
    assert vulnerabilities(snapshot, "requests", "2.32.3") == osv.Verdict()
    assert vulnerabilities(snapshot, "Requests", "2.32.3") == osv.Verdict()


def test_snapshot_import_counts(snapshot_archive: Path, tmp_path: Path) -> None:
    report = import_path(snapshot_archive, tmp_path / "db.sqlite3")
    assert (report.imported, report.withdrawn, report.errors) == (2651, 10, [])


def test_snapshot_last_affected_is_inclusive(snapshot: AdvisoryStore) -> None:
    assert [v.ids for v in vulnerabilities(snapshot, "py", "1.11.0").vulnerabilities] == [
        ("PYSEC-2022-42969",)
    ]
    assert vulnerabilities(snapshot, "py", "1.11.1").vulnerabilities == ()


def test_lookup_by_normalised_name(snapshot: AdvisoryStore) -> None:
    found = snapshot.advisories("PyPI", ["Django", "zope.interface", "no-such-package"])
    assert set(found) >= {"django"}
    assert "no-such-package" not in found


def test_status_and_staleness(snapshot: AdvisoryStore) -> None:
    newest = datetime(2024, 10, 10, 17, 22, 0, 587279, tzinfo=timezone.utc)
    (pypi,) = snapshot.status().ecosystems
    assert (pypi.name, pypi.advisories, pypi.withdrawn) == ("PyPI", 2651, 10)
    assert pypi.newest_modified == newest
    assert pypi.stale
    fresh = snapshot.status(now=newest + timedelta(days=6))
    assert not fresh.stale and fresh.covers("PyPI") and not fresh.covers("npm")
    assert snapshot.status(now=newest + timedelta(days=8)).stale
    assert not snapshot.status(now=newest + timedelta(days=8), max_age=timedelta(days=9)).stale


def test_import_of_a_folder_skips_other_ecosystems(fixture_store: Path) -> None:
    with AdvisoryStore(fixture_store) as store:
        status = store.status()
        assert [(e.name, e.advisories, e.withdrawn) for e in status.ecosystems] == [
            ("PyPI", 7, 1),
            ("npm", 4, 0),
        ]
        assert set(store.advisories("npm", ["@lsdemo/router", "lsdemo-parser"])) == {
            "@lsdemo/router",
            "lsdemo-parser",
        }


def test_imports_add_up_and_withdrawals_remove(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    import_path(OSV_FIXTURES / "pypi-basic.json", db)
    import_path(OSV_FIXTURES / "npm-basic.json", db)
    with AdvisoryStore(db) as store:
        assert {e.name for e in store.status().ecosystems} == {"PyPI", "npm"}
    withdrawn = json.loads(GOOD)
    withdrawn["withdrawn"] = "2026-11-02T00:00:00Z"
    (tmp_path / "withdrawn.json").write_text(json.dumps(withdrawn), encoding="utf-8")
    report = import_path(tmp_path / "withdrawn.json", db)
    assert report.withdrawn == 1
    with AdvisoryStore(db) as store:
        assert store.advisories("npm", ["lsdemo-parser"]) == {}
    import_path(OSV_FIXTURES / "npm-basic.json", db, replace=True)
    with AdvisoryStore(db) as store:
        assert store.advisories("PyPI", ["lsdemo-http"]) == {}


def zip_of(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def tar_of(entries: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in entries.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            archive.addfile(info)
    return buffer.getvalue()


SCHEMA_BREAK = json.dumps({"id": "x_LSTEST-BAD-1", "affected": []}).encode()
BOMB = b"\0" * (8 * 1024 * 1024)  # under the entry cap, 1,000 times its compressed size

# (archive name, bytes, entry that fails, message): the good entry is imported regardless.
BAD_ENTRIES = [
    ("bomb.zip", zip_of({"good.json": GOOD, "bomb.json": BOMB}), "bomb.json", "a zip bomb?"),
    ("slip.zip", zip_of({"good.json": GOOD, "../evil.json": GOOD}), "../evil.json", "`..`"),
    ("abs.zip", zip_of({"good.json": GOOD, "/etc/evil.json": GOOD}), "/etc/evil.json", "absolute"),
    (
        "slip.tar.gz",
        tar_of({"good.json": GOOD, "a/../../evil.json": GOOD}),
        "a/../../evil.json",
        "`..`",
    ),
    (
        "link.tar.gz",
        tar_of({"good.json": GOOD}, links={"link.json": "/etc/passwd"}),
        "link.json",
        "links and special files refused",
    ),
    ("json.zip", zip_of({"good.json": GOOD, "bad.json": b'{"id": '}), "bad.json", "invalid JSON"),
    (
        "schema.zip",
        zip_of({"good.json": GOOD, "bad.json": SCHEMA_BREAK}),
        "bad.json",
        "breaks the OSV schema: `modified` is required",
    ),
    (
        "deep.zip",
        zip_of({"good.json": GOOD, "deep.json": b"[" * 100_000 + b"]" * 100_000}),
        "deep.json",
        "nested too deeply",
    ),
]


@pytest.mark.parametrize(
    ("name", "data", "entry", "message"), BAD_ENTRIES, ids=[b[0] for b in BAD_ENTRIES]
)
def test_bad_entries_are_named_and_the_rest_imported(
    tmp_path: Path, name: str, data: bytes, entry: str, message: str
) -> None:
    source = tmp_path / name
    source.write_bytes(data)
    report = import_path(source, tmp_path / "db.sqlite3")
    assert report.imported == 1
    assert [e for e, _ in report.errors] == [f"{name}:{entry}"]
    assert message in report.errors[0][1]


def test_entry_over_the_size_cap_is_not_read(tmp_path: Path) -> None:
    source = tmp_path / "big.zip"
    source.write_bytes(zip_of({"good.json": GOOD, "big.json": b" " * 5000 + GOOD}))
    report = import_path(source, tmp_path / "db.sqlite3", limits=Limits(max_entry_bytes=4000))
    assert report.imported == 1
    assert "over the 4,000-byte limit" in report.errors[0][1]


def fingerprint(path: Path) -> bytes:
    return path.read_bytes()


@pytest.mark.parametrize(
    ("name", "data", "limits", "message"),
    [
        ("not-an-archive.bin", b"hello", None, "not a zip, a tarball, a folder or a JSON file"),
        ("truncated.zip", zip_of({"a.json": GOOD})[:-30], None, "not a zip, a tarball"),
        (
            "too-much.zip",
            zip_of({f"{i}.json": GOOD for i in range(5)}),
            Limits(max_total_bytes=len(GOOD) * 3),
            "an archive bomb?",
        ),
        (
            "too-many.tar.gz",
            tar_of({f"{i}.json": GOOD for i in range(5)}),
            Limits(max_entries=3),
            "more than 3 entries",
        ),
    ],
)
def test_unreadable_sources_leave_the_store_as_it_was(
    fixture_store: Path, tmp_path: Path, name: str, data: bytes, limits: Limits | None, message: str
) -> None:
    db = tmp_path / "db.sqlite3"
    db.write_bytes(fixture_store.read_bytes())
    before = fingerprint(db)
    source = tmp_path / name
    source.write_bytes(data)
    with pytest.raises(AdvisoryError, match=message):
        import_path(source, db, limits=limits)
    assert fingerprint(db) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["db.sqlite3", name])


def test_interrupted_build_leaves_the_store_as_it_was(
    fixture_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "db.sqlite3"
    db.write_bytes(fixture_store.read_bytes())
    before = fingerprint(db)

    def crash(_data: object) -> osv.Advisory:
        raise KeyboardInterrupt

    monkeypatch.setattr("lambdashield.advisories.store.parse_advisory", crash)
    with pytest.raises(KeyboardInterrupt):
        import_path(OSV_FIXTURES, db)
    assert fingerprint(db) == before
    assert [p.name for p in tmp_path.iterdir()] == ["db.sqlite3"]


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda data: data[: len(data) // 2], "truncated"),
        (lambda data: data[:50], "not an advisory store"),
        (lambda data: b"", "not an advisory store"),
        (lambda data: b"PK\x03\x04" + data[4:], "not an advisory store"),
        (lambda data: data[:100] + b"\xff" * (len(data) - 100), "unusable"),
    ],
    ids=["half", "header-only", "empty", "not-sqlite", "garbage-pages"],
)
def test_corrupt_or_truncated_store_is_a_clear_error(
    fixture_store: Path, tmp_path: Path, damage: object, message: str
) -> None:
    db = tmp_path / "db.sqlite3"
    db.write_bytes(damage(fixture_store.read_bytes()))  # type: ignore[operator]
    with pytest.raises(AdvisoryError, match=message) as caught, AdvisoryStore(db) as store:
        store.advisories("PyPI", ["lsdemo-http"])
    assert str(db) in str(caught.value)
    assert "lambdashield db sync" in str(caught.value)


def test_store_of_another_schema_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    with sqlite3.connect(db) as connection:
        connection.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        connection.execute("INSERT INTO meta VALUES ('schema', '0')")
    connection.close()
    with pytest.raises(AdvisoryError, match="schema '0', expected 2"):
        AdvisoryStore(db)


def test_missing_store_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(AdvisoryError, match=r"no advisory store at .*db sync"):
        AdvisoryStore(tmp_path / "absent.sqlite3")


def test_import_over_a_corrupt_store_rebuilds_it(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    db.write_bytes(b"junk" * 100)
    report = import_path(OSV_FIXTURES / "npm-basic.json", db)
    assert report.imported == 1
    assert "building a new store" in report.notes[0]
    with AdvisoryStore(db) as store:
        assert store.status().covers("npm")


def fake_export(ecosystem: str, destination: Path) -> None:
    prefix = {"PyPI": "pypi-", "npm": "npm-"}[ecosystem]
    entries = {p.name: p.read_bytes() for p in OSV_FIXTURES.glob(f"{prefix}*.json")}
    destination.write_bytes(zip_of(entries))


def test_sync_replaces_each_ecosystem(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    stale = json.loads((OSV_FIXTURES / "npm-basic.json").read_text())
    stale["id"] = "x_LSTEST-NPM-OLD"
    (tmp_path / "old.json").write_text(json.dumps(stale), encoding="utf-8")
    import_path(tmp_path / "old.json", db)
    reports = sync(db, ["npm", "PyPI"], fetch=fake_export)
    assert [r.source.rsplit("/", 2)[-2] for r in reports] == ["npm", "PyPI"]
    assert [r.imported for r in reports] == [4, 7]
    with AdvisoryStore(db) as store:
        ids = {a.id for a in store.advisories("npm", ["lsdemo-parser"])["lsdemo-parser"]}
        assert ids == {"x_LSTEST-NPM-1", "x_LSTEST-NPM-2"}
        assert [e.origin for e in store.status().ecosystems] == [
            r.source for r in reversed(reports)
        ]


def test_sync_refuses_unknown_ecosystems(tmp_path: Path) -> None:
    with pytest.raises(AdvisoryError, match="unsupported ecosystem 'Go'"):
        sync(tmp_path / "db.sqlite3", ["Go"], fetch=fake_export)


def test_failed_download_leaves_the_store(fixture_store: Path, tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    db.write_bytes(fixture_store.read_bytes())

    def offline(_ecosystem: str, _destination: Path) -> None:
        raise AdvisoryError("cannot download: offline")

    with pytest.raises(AdvisoryError, match="offline"):
        sync(db, ["PyPI"], fetch=offline)
    assert db.read_bytes() == fixture_store.read_bytes()


def test_default_location_is_the_user_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("LAMBDASHIELD_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_store_path() == tmp_path / "lambdashield" / "advisories.sqlite3"


def test_the_cache_directory_setting_moves_the_store(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LAMBDASHIELD_CACHE_DIR", str(tmp_path))
    assert default_store_path() == tmp_path / "advisories.sqlite3"


def test_import_report_type() -> None:
    assert ImportReport("x").errors == []


@pytest.mark.online
def test_sync_pypi_from_osv(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    (report,) = sync(db, ["PyPI"])
    assert report.imported > 10_000
    with AdvisoryStore(db) as store:
        assert not store.status().stale
        assert vulnerabilities(store, "requests", "2.19.0").fix is not None


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX file modes")
@pytest.mark.parametrize("mode", [0o664, 0o646], ids=["group", "others"])
def test_store_others_may_write_is_refused(tmp_path: Path, mode: int) -> None:
    db = tmp_path / "db.sqlite3"
    import_path(OSV_FIXTURES / "npm-basic.json", db)
    db.chmod(mode)
    with pytest.raises(AdvisoryError) as caught:
        AdvisoryStore(db)
    assert str(caught.value) == (
        f"advisory store {db} is not used: its mode {stat.filemode(stat.S_IFREG | mode)} "
        "lets others write it, who could remove advisories from it and hide "
        "vulnerabilities; rebuild it as your own with `lambdashield db sync` or "
        "`lambdashield db import PATH`, or `chmod go-w` it"
    )


@pytest.mark.skipif(
    not hasattr(os, "getuid") or os.getuid() != 0, reason="giving a file away needs root"
)
def test_store_of_another_user_is_refused_and_rebuilt_by_import(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    import_path(OSV_FIXTURES / "npm-basic.json", db)
    os.chown(db, 12345, 12345)
    with pytest.raises(AdvisoryError, match=r"is not used: it belongs to user id 12345"):
        AdvisoryStore(db)
    report = import_path(OSV_FIXTURES / "npm-basic.json", db)
    assert "belongs to user id 12345" in report.notes[0]
    assert db.stat().st_uid == os.getuid()
    with AdvisoryStore(db) as store:
        assert store.status().covers("npm")


def test_built_store_is_not_left_to_the_umask(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    old = os.umask(0o002)
    try:
        import_path(OSV_FIXTURES / "npm-basic.json", db)
    finally:
        os.umask(old)
    assert stat.S_IMODE(db.stat().st_mode) == 0o644
    AdvisoryStore(db).close()
