"""`lambdashield deps snapshot`: the packages of a deployment package, decided in advance."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from lambdashield.advisories.cli import deps_group
from lambdashield.advisories.snapshot import (
    InstalledName,
    build_snapshot,
    installed_names,
    parse_entry,
)
from lambdashield.advisories.store import AdvisoryStore
from lambdashield.errors import AdvisoryError
from lambdashield.runtime import selfscan as runtime_selfscan


def installed_folder(root: Path, names: list[str]) -> Path:
    for name in names:
        (root / name).mkdir(parents=True)
    return root


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("PyYAML-6.0.1.dist-info", ("pyyaml", "6.0.1")),
        ("zope.interface-6.1.dist-info", ("zope-interface", "6.1")),
        ("typing_extensions-4.12.2.dist-info", ("typing-extensions", "4.12.2")),
        ("old_pkg-1.0-py3.9.egg-info", ("old-pkg", "1.0")),
        ("requests-2.19.0.dist-info", ("requests", "2.19.0")),
        ("nodash.dist-info", None),
        ("requests", None),
        ("-1.0.dist-info", None),
    ],
)
def test_entry_names_parse_as_the_runtime_parses_them(
    entry: str, expected: tuple[str, str] | None
) -> None:
    assert parse_entry(entry) == expected
    assert runtime_selfscan._parse(entry) == expected


def test_folder_and_layer_layouts(tmp_path: Path) -> None:
    root = installed_folder(
        tmp_path,
        [
            "requests-2.19.0.dist-info",
            "requests",
            "python/PyYAML-5.3.dist-info",
            "python/lib/python3.12/site-packages/urllib3-1.24.1.dist-info",
            "deep/vendored/six-1.0.dist-info",
        ],
    )
    assert installed_names(root) == [
        InstalledName("pyyaml", "5.3", "python/PyYAML-5.3.dist-info"),
        InstalledName("requests", "2.19.0", "requests-2.19.0.dist-info"),
        InstalledName(
            "urllib3", "1.24.1", "python/lib/python3.12/site-packages/urllib3-1.24.1.dist-info"
        ),
    ]


def test_zip_names_only_and_unsafe_names_skipped(tmp_path: Path) -> None:
    path = tmp_path / "fn.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("requests-2.19.0.dist-info/METADATA", "x")
        archive.writestr("requests-2.19.0.dist-info/RECORD", "x")
        archive.writestr("python/lib/python3.12/site-packages/six-1.0.dist-info/METADATA", "x")
        archive.writestr("../evil-1.0.dist-info/METADATA", "x")
        archive.writestr("/abs-1.0.dist-info/METADATA", "x")
        archive.writestr("old_pkg-1.0-py3.9.egg-info", "x")
        archive.writestr("app.py", "x")
    assert [(i.name, i.version) for i in installed_names(path)] == [
        ("old-pkg", "1.0"),
        ("requests", "2.19.0"),
        ("six", "1.0"),
    ]


def test_bad_sources(tmp_path: Path) -> None:
    with pytest.raises(AdvisoryError, match="no such file"):
        installed_names(tmp_path / "missing")
    text = tmp_path / "notes.txt"
    text.write_text("x")
    with pytest.raises(AdvisoryError, match="not a folder or a zip"):
        installed_names(text)


def test_snapshot_from_fixture_advisories(tmp_path: Path, fixture_store: Path) -> None:
    installed = [
        InstalledName("lsdemo-http", "1.0.0", "lsdemo_http-1.0.0.dist-info"),
        InstalledName("lsdemo-cache", "3.0.0", "lsdemo_cache-3.0.0.dist-info"),
        InstalledName("lsdemo-legacy", "0.4m1", "lsdemo_legacy-0.4m1.dist-info"),
        InstalledName("lsdemo-reqeusts", "1.0.0", "lsdemo_reqeusts-1.0.0.dist-info"),
        InstalledName("unrelated", "1.0", "unrelated-1.0.dist-info"),
    ]
    with AdvisoryStore(fixture_store) as store:
        document = build_snapshot(installed, store, source="fn.zip")
    assert document["format"] == "lambdashield-snapshot"
    assert document["version"] == 1
    assert document["source"] == "fn.zip"
    assert document["advisories_as_of"] == "2026-11-01T00:00:00Z"
    packages = document["packages"]
    assert packages["lsdemo-cache"] == {"3.0.0": []}
    assert packages["unrelated"] == {"1.0": []}
    assert packages["lsdemo-http"]["1.0.0"] == [["CVE-0000-0001", "critical", "2.0.0", ""]]
    assert packages["lsdemo-legacy"]["0.4m1"] == [["x_LSTEST-PY-6", "", "", "unchecked"]]
    assert packages["lsdemo-reqeusts"]["1.0.0"] == [["MAL-0000-2", "", "", "malicious"]]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(deps_group, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_command_writes_a_compact_stable_file(tmp_path: Path, fixture_store: Path) -> None:
    package = installed_folder(
        tmp_path / "build", ["lsdemo_http-1.0.0.dist-info", "lsdemo_cache-3.0.0.dist-info"]
    )
    out = tmp_path / "lambdashield-snapshot.json"
    code, stdout, stderr = run(
        "snapshot", str(package), "--out", str(out), "--db", str(fixture_store)
    )
    assert code == 0, stderr
    assert "2 installed distributions, 1 with known vulnerabilities: lsdemo-http 1.0.0" in stdout
    assert "older than 7 days" in stderr  # the fixtures were modified long before "now"
    text = out.read_text(encoding="utf-8")
    compact = json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))
    assert text == compact + "\n"
    first = text
    run("snapshot", str(package), "--out", str(out), "--db", str(fixture_store))
    assert out.read_text(encoding="utf-8") == first
    assert json.loads(text)["packages"]["lsdemo-cache"] == {"3.0.0": []}


def test_command_without_pypi_advisories_fails(tmp_path: Path) -> None:
    out = tmp_path / "s.json"
    code, _, stderr = run(
        "snapshot", str(tmp_path), "--out", str(out), "--db", str(tmp_path / "none.db")
    )
    assert code == 2
    assert "no advisory store" in stderr
    assert not out.exists()


def test_shared_snapshot_requests(tmp_path: Path, snapshot_store: Path) -> None:
    installed = [
        InstalledName("requests", "2.19.0", "requests-2.19.0.dist-info"),
        InstalledName("urllib3", "2.2.2", "urllib3-2.2.2.dist-info"),
    ]
    with AdvisoryStore(snapshot_store) as store:
        old = build_snapshot(installed, store, source="old")
        new = build_snapshot(
            [InstalledName("requests", "2.32.3", "requests-2.32.3.dist-info")], store, source="new"
        )
    found = old["packages"]["requests"]["2.19.0"]
    assert found
    assert any(fixed == "2.20.0" for _id, _severity, fixed, _flag in found)
    assert new["packages"]["requests"] == {"2.32.3": []}
