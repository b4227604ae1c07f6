"""The cold-start self-scan: installed names on `sys.path` against a snapshot."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from lambdashield.runtime import selfscan as module
from lambdashield.runtime.selfscan import (
    SelfScanResult,
    installed_distributions,
    selfscan,
    selfscan_once,
)

SRC = Path(__file__).resolve().parents[2] / "src"
OSV_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "osv"


@pytest.fixture(scope="module")
def fixture_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from lambdashield.advisories.store import import_path

    path = tmp_path_factory.mktemp("selfscan-store") / "advisories.sqlite3"
    assert import_path(OSV_FIXTURES, path).errors == []
    return path


SNAPSHOT: dict[str, Any] = {
    "format": "lambdashield-snapshot",
    "version": 1,
    "source": "orders.zip",
    "advisories_as_of": "2026-11-01T00:00:00Z",
    "packages": {
        "requests": {
            "2.19.0": [
                ["CVE-2018-18074", "medium", "2.20.0", ""],
                ["CVE-2023-32681", "medium", "2.31.0", ""],
            ]
        },
        "urllib3": {"1.26.18": []},
        "pyyaml": {"5.3": [["CVE-2020-14343", "critical", "5.4", ""]]},
        "legacy": {"0.4m1": [["PYSEC-0", "", "", "unchecked"]]},
    },
}


def package(folder: Path, *entries: str) -> str:
    for entry in entries:
        (folder / entry).mkdir(parents=True)
    return str(folder)


def snapshot_file(tmp_path: Path, document: dict[str, Any] = SNAPSHOT) -> Path:
    path = tmp_path / "lambdashield-snapshot.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_installed_distributions_first_folder_wins(tmp_path: Path) -> None:
    task = package(tmp_path / "task", "requests-2.19.0.dist-info", "PyYAML-5.3.dist-info", "app")
    runtime = package(tmp_path / "runtime", "requests-2.32.3.dist-info", "boto3-1.34.0.dist-info")
    found = installed_distributions([task, str(tmp_path / "missing"), runtime])
    assert found == {
        "requests": ("2.19.0", task),
        "pyyaml": ("5.3", task),
        "boto3": ("1.34.0", runtime),
    }


def test_vulnerable_unchecked_and_unknown(tmp_path: Path) -> None:
    task = package(
        tmp_path / "task",
        "requests-2.19.0.dist-info",
        "urllib3-1.26.18.dist-info",
        "PyYAML-5.3.dist-info",
        "legacy-0.4m1.dist-info",
        "idna-3.7.dist-info",
    )
    changed = package(tmp_path / "layer", "urllib3-2.0.0.dist-info", "boto3-1.34.0.dist-info")
    lines: list[dict[str, object]] = []
    results = selfscan(snapshot_file(tmp_path), paths=[task, changed], emit=lines.append)
    assert results == [
        SelfScanResult("legacy", "0.4m1", "unchecked", ("PYSEC-0",), path=task),
        SelfScanResult("pyyaml", "5.3", "vulnerable", ("CVE-2020-14343",), "critical", "5.4", task),
        SelfScanResult(
            "requests",
            "2.19.0",
            "vulnerable",
            ("CVE-2018-18074", "CVE-2023-32681"),
            "medium",
            "2.20.0",
            task,
        ),
    ]
    (line,) = lines
    assert line["level"] == "WARNING"
    assert line["logger"] == "lambdashield.selfscan"
    assert line["checked"] == 4
    assert line["not_in_snapshot"] == 2  # idna and boto3: the snapshot never saw them
    assert line["advisories_as_of"] == "2026-11-01T00:00:00Z"
    assert [v["package"] for v in line["vulnerable"]] == ["pyyaml", "requests"]  # type: ignore[union-attr]
    assert isinstance(line["duration_ms"], float)


def test_a_changed_version_is_unchecked_never_clean(tmp_path: Path) -> None:
    task = package(tmp_path / "task", "urllib3-2.0.0.dist-info")
    lines: list[dict[str, object]] = []
    results = selfscan(snapshot_file(tmp_path), paths=[task], emit=lines.append)
    assert results == [SelfScanResult("urllib3", "2.0.0", "unchecked", path=task)]
    assert lines[0]["level"] == "WARNING"


def test_clean_is_one_info_line(tmp_path: Path) -> None:
    task = package(tmp_path / "task", "urllib3-1.26.18.dist-info")
    lines: list[dict[str, object]] = []
    assert selfscan(snapshot_file(tmp_path), paths=[task], emit=lines.append) == []
    (line,) = lines
    assert line["level"] == "INFO"
    assert line["message"] == "no known vulnerabilities in the 1 distributions checked"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "No such file or directory"),
        ("{not json", "Expecting property name"),
        ('{"format": "other", "version": 1, "packages": {}}', "not a lambdashield-snapshot"),
        ('{"format": "lambdashield-snapshot", "version": 2, "packages": {}}', "version 1"),
    ],
)
def test_missing_or_broken_snapshot_is_a_warning_not_an_error(
    tmp_path: Path, content: str | None, problem: str
) -> None:
    path = tmp_path / "snap.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    lines: list[dict[str, object]] = []
    assert selfscan(path, paths=[], emit=lines.append) == []
    (line,) = lines
    assert line["level"] == "WARNING"
    assert problem in str(line["message"])


def test_a_broken_sink_does_not_raise(tmp_path: Path) -> None:
    def broken(_record: dict[str, object]) -> None:
        raise RuntimeError("sink down")

    assert selfscan(tmp_path / "missing.json", paths=[], emit=broken) == []


def test_default_path_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LAMBDASHIELD_SNAPSHOT", raising=False)
    monkeypatch.setenv("LAMBDA_TASK_ROOT", str(tmp_path))
    assert module._default_path() == str(tmp_path / "lambdashield-snapshot.json")
    monkeypatch.setenv("LAMBDASHIELD_SNAPSHOT", "/opt/snap.json")
    assert module._default_path() == "/opt/snap.json"


def test_default_line_is_compact_json_on_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    selfscan(snapshot_file(tmp_path), paths=[])
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert json.loads(out)["level"] == "INFO"


def test_once_per_cold_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(module, "_done", None)
    lines: list[dict[str, object]] = []
    first = selfscan_once(tmp_path / "missing.json", emit=lines.append)
    again = selfscan_once(tmp_path / "missing.json", emit=lines.append)
    assert first is again
    assert len(lines) == 1


def test_end_to_end_with_a_snapshot_from_the_command(tmp_path: Path, fixture_store: Path) -> None:
    from click.testing import CliRunner

    from lambdashield.advisories.cli import deps_group

    task = package(tmp_path / "task", "lsdemo_http-1.0.0.dist-info", "lsdemo_cache-3.0.0.dist-info")
    out = tmp_path / "lambdashield-snapshot.json"
    result = CliRunner().invoke(
        deps_group, ["snapshot", task, "--out", str(out), "--db", str(fixture_store)]
    )
    assert result.exit_code == 0, result.stderr
    results = selfscan(out, paths=[task], emit=None)
    assert [(r.package, r.status, r.ids, r.severity, r.fixed) for r in results] == [
        ("lsdemo-http", "vulnerable", ("CVE-0000-0001",), "critical", "2.0.0")
    ]


def test_imports_only_the_standard_library_and_nothing_heavy() -> None:
    code = (
        "import sys\n"
        f"sys.path.insert(0, {str(SRC)!r})\n"
        "before = set(sys.modules)\n"
        "import lambdashield.runtime.selfscan\n"
        "new = set(sys.modules) - before\n"
        "print(sorted(m for m in new if not m.startswith('lambdashield')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-c", code], capture_output=True, text=True, check=True
    )
    heavy = {"json", "typing", "re", "dataclasses", "pathlib", "importlib.metadata"}
    assert not heavy & set(ast.literal_eval(done.stdout)), done.stdout


def test_guard_runs_the_selfscan_once_at_decoration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import lambdashield.runtime.selfscan as selfscan_module
    from lambdashield.runtime import guard

    calls: list[object] = []
    monkeypatch.setattr(selfscan_module, "_done", None)
    monkeypatch.setattr(
        selfscan_module, "selfscan", lambda path, emit=None: calls.append(path) or []
    )
    snapshot = str(tmp_path / "snapshot.json")
    guard(selfscan=snapshot)(lambda event, context: None)
    guard(selfscan=snapshot)(lambda event, context: None)
    guard()(lambda event, context: None)
    assert calls == [snapshot]
