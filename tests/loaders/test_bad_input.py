"""Hostile and broken inputs: each is a located error or a skip, and the scan goes on."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from lambdashield.config import Config
from lambdashield.engine import scan
from lambdashield.model import ScanReport

GOOD = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def scan_dir(root: Path, **config: object) -> ScanReport:
    return scan([str(root)], Config(**config))  # type: ignore[arg-type]


def with_good_policy(root: Path) -> None:
    (root / "admin.json").write_text(json.dumps(GOOD, indent=2), encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "content", "line", "message"),
    [
        (
            "broken.json",
            b'{\n  "Statement": [\n    {"Effect": "Allow",,}\n  ]\n}',
            3,
            "invalid JSON",
        ),
        ("empty.json", b"", None, "file is empty"),
        ("blank.json", b"  \n\n", None, "file is empty"),
        ("latin1.json", b'{"Statement": [],\n "Sid": "caf\xe9"}', 2, "not UTF-8: byte 0xe9"),
        ("deep.json", b"[" * 100_000 + b"]" * 100_000, None, "nested too deeply"),
    ],
)
def test_unreadable_json_is_a_located_error(
    tmp_path: Path, name: str, content: bytes, line: int | None, message: str
) -> None:
    with_good_policy(tmp_path)
    (tmp_path / name).write_bytes(content)
    report = scan_dir(tmp_path)
    assert [(e.path.name, e.line) for e in report.errors] == [(name, line)]
    assert message in report.errors[0].message
    assert [f.rule.id for f in report.findings] == ["LS-IAM-001"]  # the good file still scanned


def test_oversized_file_is_not_read(tmp_path: Path) -> None:
    with_good_policy(tmp_path)
    big = tmp_path / "huge.json"
    with big.open("w", encoding="utf-8") as handle:
        handle.write('{"Statement": [')
        handle.write(
            ",".join(['{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}'] * 900_000)
        )
        handle.write("]}")
    assert big.stat().st_size > 50_000_000
    report = scan_dir(tmp_path)
    assert [e.path.name for e in report.errors] == ["huge.json"]
    assert "over the 10,485,760-byte limit" in report.errors[0].message
    assert [f.rule.id for f in report.findings] == ["LS-IAM-001"]


def test_json_that_is_not_a_policy(tmp_path: Path) -> None:
    with_good_policy(tmp_path)
    (tmp_path / "list.json").write_text("[1, 2, 3]", encoding="utf-8")
    (tmp_path / "other.json").write_text('{"name": "orders"}', encoding="utf-8")
    # In a directory scan, other JSON is simply not a policy ...
    assert scan_dir(tmp_path).errors == ()
    # ... but a file handed to `policy check` must be one.
    report = scan(
        [str(tmp_path / "list.json"), str(tmp_path / "other.json")], Config(policies_only=True)
    )
    assert [(e.path.name, e.message) for e in report.errors] == [
        ("list.json", "not an IAM policy document (JSON list)"),
        ("other.json", "not an IAM policy document (JSON object without Statement)"),
    ]


def test_missing_path_is_an_error(tmp_path: Path) -> None:
    report = scan([str(tmp_path / "nope")], Config())
    assert [(e.path.name, e.message) for e in report.errors] == [
        ("nope", "no such file or directory")
    ]


@pytest.mark.skipif(os.name == "nt", reason="symlinks")
def test_symlink_loop_and_escape_are_skipped(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.json").write_text(json.dumps(GOOD), encoding="utf-8")
    root = tmp_path / "root"
    root.mkdir()
    with_good_policy(root)
    (root / "loop").symlink_to(root / "loop")
    (root / "out").symlink_to(outside)
    (root / "out-file.json").symlink_to(outside / "secret.json")
    (root / "sub").mkdir()
    (root / "sub" / "up").symlink_to(root)  # inside the root: scanned once, under its real name
    report = scan_dir(root)
    assert report.errors == ()
    assert {(s.path.name, s.reason) for s in report.not_analysed} == {
        ("loop", "symbolic link loop; not followed"),
        ("out", "link points outside the scanned root; not followed"),
        ("out-file.json", "link points outside the scanned root; not followed"),
    }
    assert [f.location.path.name for f in report.findings] == ["admin.json"]


def test_gitignored_and_vendored_files_are_skipped(tmp_path: Path) -> None:
    with_good_policy(tmp_path)
    (tmp_path / ".gitignore").write_text("build/\n*.generated.json\n", encoding="utf-8")
    for rel in ("build/admin.json", "node_modules/x/admin.json", "a.generated.json"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(json.dumps(GOOD), encoding="utf-8")
    report = scan_dir(tmp_path)
    assert [f.location.path.name for f in report.findings] == ["admin.json"]
    # node_modules is read as an installed npm tree, never searched for policies.
    assert report.files == 2


def test_file_count_cap(tmp_path: Path) -> None:
    for i in range(5):
        (tmp_path / f"p{i}.json").write_text(json.dumps(GOOD), encoding="utf-8")
    report = scan_dir(tmp_path, max_files=3)
    assert [e.message for e in report.errors] == ["more than 3 files; the rest skipped"]
    assert report.files == 3


def test_grammar_errors_are_findings_with_positions(tmp_path: Path) -> None:
    policy = tmp_path / "bad.json"
    policy.write_text(
        '{\n  "Version": "2012-10-17",\n  "Statement": [\n    {\n      "Effect": "allow",\n'
        '      "Action": ["s3:GetObject", 42],\n      "Resource": "*"\n    }\n  ]\n}\n',
        encoding="utf-8",
    )
    report = scan([str(policy)], Config(select=("LS-IAM-012",)))
    assert [(f.location.pointer, f.location.start_line, f.message) for f in report.findings] == [
        ("/Statement/0/Effect", 5, "Effect must be 'Allow' or 'Deny', not 'allow'"),
        ("/Statement/0/Action/1", 6, "Action entries must be strings"),
    ]
