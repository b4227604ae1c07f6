"""`lambdashield db`: import, status and their exit codes."""

from __future__ import annotations

import zipfile
from pathlib import Path

from click.testing import CliRunner

from lambdashield.advisories.cli import db_group

from .conftest import OSV_FIXTURES


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(db_group, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_import_then_status(tmp_path: Path) -> None:
    db = str(tmp_path / "db.sqlite3")
    code, out, err = run("--db", db, "import", str(OSV_FIXTURES))
    assert (code, err) == (0, "")
    assert "11 advisories imported, 1 withdrawn ones left out" in out
    assert "1 of other ecosystems skipped" in out
    code, out, err = run("--db", db, "status", "--max-age", "100000")
    assert code == 0
    assert "PyPI: 7 advisories, newest modified 2026-11-01 00:00 UTC" in out
    assert "npm: 4 advisories" in out
    assert "fresh" in out


def test_stale_status_exits_1(tmp_path: Path) -> None:
    db = str(tmp_path / "db.sqlite3")
    run("--db", db, "import", str(OSV_FIXTURES / "npm-basic.json"))
    code, out, err = run("--db", db, "status", "--max-age", "1")
    assert code == 1
    assert "STALE" in out
    assert "refresh it with `lambdashield db sync`" in err


def test_missing_store_exits_2(tmp_path: Path) -> None:
    code, _, err = run("--db", str(tmp_path / "none.sqlite3"), "status")
    assert code == 2
    assert "no advisory store at" in err


def test_entries_not_imported_exit_2_and_are_named(tmp_path: Path) -> None:
    source = tmp_path / "mixed.zip"
    with zipfile.ZipFile(source, "w") as archive:
        archive.writestr("good.json", (OSV_FIXTURES / "npm-basic.json").read_bytes())
        archive.writestr("../escape.json", b"{}")
    code, out, err = run("--db", str(tmp_path / "db.sqlite3"), "import", str(source))
    assert code == 2
    assert "1 advisories imported" in out
    assert "error: mixed.zip:../escape.json: path with `..` refused" in err


def test_unreadable_source_exits_2(tmp_path: Path) -> None:
    source = tmp_path / "notes.txt"
    source.write_text("hello", encoding="utf-8")
    code, _, err = run("--db", str(tmp_path / "db.sqlite3"), "import", str(source))
    assert code == 2
    assert "not a zip, a tarball, a folder or a JSON file" in err
    assert not (tmp_path / "db.sqlite3").exists()
