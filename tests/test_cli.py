"""The command line end to end: exit codes, formats, options and configuration."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from lambdashield import __version__
from lambdashield.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "orders-service"

ADMIN = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
CLEAN = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["dynamodb:GetItem", "dynamodb:PutItem"],
            "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/Orders",
        }
    ],
}


def write(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


def run(*args: str, cwd: Path | None = None) -> tuple[int, str]:
    old = Path.cwd()
    if cwd:
        os.chdir(cwd)
    try:
        result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)
    return result.exit_code, result.output


def test_version() -> None:
    assert run("--version") == (0, f"lambdashield, version {__version__}\n")


def test_example_findings_as_json(tmp_path: Path) -> None:
    # A store path that does not exist, whatever the machine's cache holds.
    missing = str(tmp_path / "no-store.sqlite3")
    code, out = run("scan", str(EXAMPLE), "--format", "json", "--db", missing)
    assert code == 1
    report = json.loads(out)
    found = {
        (f["rule_id"], f["location"]["path"].split("orders-service/")[1], f["location"]["pointer"])
        for f in report["findings"]
    }
    assert found == {
        ("LS-API-001", "serverless.yml", "/functions/notify/url"),
        (
            "LS-API-001",
            "template.yaml",
            "/Resources/ReceiptsFunction/Properties/FunctionUrlConfig/AuthType",
        ),
        ("LS-API-002", "serverless.yml", "/functions/notify/events/0/http"),
        ("LS-API-002", "template.yaml", "/Resources/OrdersFunction/Properties/Events/CreateOrder"),
        ("LS-CODE-006", "src/orders/app.py", "/handler"),
        ("LS-CODE-006", "src/orders/receipts.py", "/handler"),
        ("LS-DEP-003", "src/requirements.txt", "/boto3"),
        ("LS-DEP-003", "src/requirements.txt", "/requests"),
        ("LS-DEP-004", "src/requirements.txt", ""),
        ("LS-FN-001", "serverless.yml", "/provider/runtime"),
        ("LS-FN-001", "template.yaml", "/Globals/Function/Runtime"),
        ("LS-FN-003", "template.yaml", "/Resources/ReceiptsFunction"),
        ("LS-FN-004", "template.yaml", "/Resources/ReceiptsFunction/Properties/Events/Uploaded"),
        ("LS-IAM-002", "policies/orders-function-policy.json", "/Statement/0/Action"),
        ("LS-IAM-002", "serverless.yml", "/provider/iam/role/statements/0/Action"),
        ("LS-IAM-003", "policies/orders-function-policy.json", "/Statement/1/Resource"),
        ("LS-IAM-003", "policies/orders-function-policy.json", "/Statement/4/Resource"),
        (
            "LS-IAM-003",
            "template.yaml",
            "/Resources/OrdersFunction/Properties/Policies/1/S3CrudPolicy/Statement/0/Resource/0",
        ),
        ("LS-IAM-004", "policies/orders-function-policy.json", "/Statement/4/Action/0"),
        ("LS-IAM-005", "policies/orders-function-policy.json", "/Statement/0/Action"),
        ("LS-IAM-005", "policies/orders-function-policy.json", "/Statement/1/Action/0"),
        ("LS-IAM-005", "policies/orders-function-policy.json", "/Statement/2/Action/0"),
        ("LS-IAM-005", "policies/orders-function-policy.json", "/Statement/2/Action/1"),
        (
            "LS-IAM-005",
            "template.yaml",
            "/Resources/OrdersFunction/Properties/Policies/1/S3CrudPolicy/Statement/0/Action/0",
        ),
        (
            "LS-IAM-005",
            "template.yaml",
            "/Resources/OrdersFunction/Properties/Policies/1/S3CrudPolicy/Statement/0/Action/3",
        ),
        ("LS-IAM-007", "policies/orders-function-policy.json", "/Statement/0/Action"),
        ("LS-IAM-007", "serverless.yml", "/provider/iam/role/statements/0/Action"),
        (
            "LS-IAM-007",
            "template.yaml",
            "/Resources/OrdersFunction/Properties/Policies/1/S3CrudPolicy/Statement/0/Action/5",
        ),
        ("LS-IAM-009", "policies/orders-function-policy.json", "/Statement/3/Action/1"),
        ("LS-IAM-011", "policies/orders-function-policy.json", "/Statement/4/Action/0"),
        ("LS-IAM-101", "serverless.yml", "/provider/iam/role/statements/0/Action"),
        ("LS-IAM-101", "serverless.yml", "/provider/iam/role/statements/0/Resource"),
        (
            "LS-IAM-101",
            "template.yaml",
            "/Resources/OrdersFunction/Properties/Policies/0/DynamoDBCrudPolicy",
        ),
        (
            "LS-IAM-101",
            "template.yaml",
            "/Resources/OrdersFunction/Properties/Policies/1/S3CrudPolicy",
        ),
        ("LS-LOG-001", "src/orders/app.py", "/handler/print/1"),
        ("LS-LOG-001", "src/orders/receipts.py", "/handler/print/1"),
        ("LS-LOG-001", "notify.js", "/handler/console.log/1"),
        ("LS-CODE-006", "notify.js", "/handler"),
        (
            "LS-SEC-001",
            "template.yaml",
            "/Resources/OrdersFunction/Properties/Environment/Variables/PAYMENT_API_KEY",
        ),
    }
    assert report["errors"] == []
    # No advisory store on a test machine: the example says so instead of failing.
    (requirements,) = report["not_analysed"]
    assert requirements["path"].endswith("src/requirements.txt")
    assert requirements["reason"].startswith("not checked for known vulnerabilities: ")
    assert report["summary"]["files"] == 7
    assert report["summary"]["functions"] == 3


def test_clean_policy_exits_zero(tmp_path: Path) -> None:
    policy = write(tmp_path / "clean.json", CLEAN)
    code, out = run("policy", "check", str(policy))
    assert code == 0
    assert "No findings." in out


def test_fail_on_threshold(tmp_path: Path) -> None:
    policy = write(
        tmp_path / "p.json",
        {**CLEAN, "Statement": [{**CLEAN["Statement"][0], "Action": "snss:Publish"}]},
    )  # type: ignore[dict-item]
    assert run("policy", "check", str(policy))[0] == 0  # medium only, default fail-on high
    assert run("policy", "check", str(policy), "--fail-on", "medium")[0] == 1


def test_select_and_ignore(tmp_path: Path) -> None:
    policy = write(tmp_path / "admin.json", ADMIN)
    code, out = run("policy", "check", str(policy), "--format", "json", "--ignore", "LS-IAM-001")
    assert code == 0 and json.loads(out)["findings"] == []
    code, out = run("policy", "check", str(policy), "--format", "json", "--select", "LS-IAM-00")
    assert [f["rule_id"] for f in json.loads(out)["findings"]] == ["LS-IAM-001"]


def test_unknown_rule_is_a_usage_error(tmp_path: Path) -> None:
    policy = write(tmp_path / "admin.json", ADMIN)
    code, out = run("scan", str(policy), "--select", "LS-NOPE-001")
    assert code == 2
    assert "unknown rule or prefix 'LS-NOPE-001'" in out


def test_baseline_hides_known_findings(tmp_path: Path) -> None:
    policy = write(tmp_path / "admin.json", ADMIN)
    baseline = tmp_path / "baseline.json"
    assert run("scan", str(policy), "--format", "json", "--output", str(baseline))[0] == 1
    code, out = run("scan", str(policy), "--format", "json", "--baseline", str(baseline))
    report = json.loads(out)
    assert code == 0
    assert report["findings"] == []
    assert report["summary"]["baselined"] == 1


def test_config_from_pyproject(tmp_path: Path) -> None:
    write(tmp_path / "admin.json", ADMIN)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.lambdashield]\nignore = ["LS-IAM-001"]\n', encoding="utf-8"
    )
    assert run("scan", ".", cwd=tmp_path)[0] == 0


def test_config_per_file_ignores(tmp_path: Path) -> None:
    write(tmp_path / "legacy" / "admin.json", ADMIN)
    (tmp_path / ".lambdashield.toml").write_text(
        '[per-file-ignores]\n"legacy/*.json" = ["LS-IAM-001"]\n', encoding="utf-8"
    )
    code, out = run("scan", ".", "--format", "json", cwd=tmp_path)
    assert code == 0 and json.loads(out)["findings"] == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("select = \n", "invalid TOML"),
        ('colour = "red"\n', "unknown key 'colour'"),
        ('fail-on = "severe"\n', "unknown severity 'severe'"),
        ('select = "LS-IAM-001"\n', "'select' must be a list of strings"),
    ],
)
def test_bad_config_is_exit_2(tmp_path: Path, content: str, message: str) -> None:
    write(tmp_path / "admin.json", ADMIN)
    config = tmp_path / ".lambdashield.toml"
    config.write_text(content, encoding="utf-8")
    code, out = run("scan", str(tmp_path), "--config", str(config))
    assert code == 2
    assert str(config) in out and message in out


def test_sarif_output_file(tmp_path: Path) -> None:
    policy = write(tmp_path / "admin.json", ADMIN)
    out = tmp_path / "out.sarif"
    assert run("scan", str(policy), "--format", "sarif", "-o", str(out))[0] == 1
    sarif = json.loads(out.read_text(encoding="utf-8"))
    assert [r["ruleId"] for r in sarif["runs"][0]["results"]] == ["LS-IAM-001"]


def test_rules_and_explain() -> None:
    code, out = run("rules")
    assert code == 0
    listed = {line.split()[0]: line.split()[1] for line in out.splitlines()}
    assert listed["LS-IAM-001"] == "critical"
    assert listed["LS-API-001"] == "high"
    code, out = run("explain", "ls-iam-002")
    assert code == 0
    assert out.startswith("# LS-IAM-002: Policy allows every action of a service")
    assert "## Why it matters" in out and "## Fix" in out
    assert run("explain", "LS-IAM-999")[0] == 2


def test_json_output_is_byte_stable(tmp_path: Path) -> None:
    write(tmp_path / "b.json", ADMIN)
    write(
        tmp_path / "a.json",
        {**ADMIN, "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]},
    )
    first = run("scan", str(tmp_path), "--format", "json")[1]
    assert first == run("scan", str(tmp_path), "--format", "json")[1]
    paths = [f["location"]["path"] for f in json.loads(first)["findings"]]
    assert paths == sorted(paths)


def test_console_script_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "lambdashield.cli", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"lambdashield, version {__version__}\n"


# --- Reports people read, and a place in every pipeline ----------------------------------


@pytest.mark.parametrize(
    ("fmt", "start"), [("markdown", "### lambdashield: "), ("html", "<!DOCTYPE html>")]
)
def test_markdown_and_html_formats(tmp_path: Path, fmt: str, start: str) -> None:
    missing = str(tmp_path / "no-store.sqlite3")
    code, out = run("scan", str(EXAMPLE), "--format", fmt, "--db", missing)
    assert code == 1
    assert out.startswith(start)
    assert "sk_live_" not in out  # the example's secret never reaches a report


def test_only_the_html_report_reads_the_code_lines_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import lambdashield.engine

    asked: list[int] = []

    def lines(findings: Any, max_bytes: int) -> tuple[()]:
        asked.append(len(findings))
        return ()

    monkeypatch.setattr(lambdashield.engine, "source_lines", lines)
    write(tmp_path / "admin.json", ADMIN)
    for fmt in ("text", "json", "sarif", "markdown", "cyclonedx"):
        run("scan", str(tmp_path), "--format", fmt)
    assert asked == []
    run("scan", str(tmp_path), "--format", "html")
    assert asked == [1]


def test_html_report_shows_the_lines_of_a_finding(tmp_path: Path) -> None:
    write(tmp_path / "admin.json", ADMIN)
    code, out = run("scan", str(tmp_path), "--format", "html")
    assert code == 1
    hit = '<span class="line hit"><span class="ln">6</span>      &quot;Action&quot;: &quot;*&quot;,'
    assert hit in out


def test_baseline_create_then_only_new_findings(tmp_path: Path) -> None:
    policy = write(tmp_path / "admin.json", ADMIN)
    baseline = tmp_path / "base.json"
    code, out = run("baseline", "create", str(tmp_path), "-o", str(baseline))
    assert code == 0
    assert out == f"wrote 1 fingerprint to {baseline}\n"
    data = json.loads(baseline.read_text(encoding="utf-8"))
    assert [f["rule_id"] for f in data["findings"]] == ["LS-IAM-001"]
    # The statement moves down the file: its lines change, its fingerprint does not.
    policy.write_text("\n\n\n" + json.dumps(ADMIN, indent=8), encoding="utf-8")
    code, out = run("scan", str(tmp_path), "--format", "json", "--baseline", str(baseline))
    assert code == 0
    assert json.loads(out)["summary"]["baselined"] == 1
    # A new finding is reported, alone.
    write(tmp_path / "more.json", ADMIN)
    code, out = run("scan", str(tmp_path), "--format", "json", "--baseline", str(baseline))
    assert code == 1
    assert [f["location"]["path"] for f in json.loads(out)["findings"]] == [f"{tmp_path}/more.json"]


def test_baseline_create_ignores_the_configured_baseline(tmp_path: Path) -> None:
    write(tmp_path / "admin.json", ADMIN)
    old = tmp_path / "old.json"
    assert run("baseline", "create", str(tmp_path), "-o", str(old))[0] == 0
    (tmp_path / ".lambdashield.toml").write_text('baseline = "old.json"\n', encoding="utf-8")
    new = tmp_path / "new.json"
    code, out = run("baseline", "create", str(tmp_path), "-o", str(new))
    assert code == 0 and out.startswith("wrote 1 fingerprint")


def test_baseline_create_fails_closed_on_errors(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text('{"Statement": [', encoding="utf-8")
    code, out = run("baseline", "create", str(tmp_path), "-o", str(tmp_path / "b.json"))
    assert code == 2
    assert "broken.json" in out and "could not be analysed" in out


def test_init_writes_every_setting_commented_and_refuses_to_overwrite(tmp_path: Path) -> None:
    from lambdashield.config import _KEYS, Config, load_config

    code, out = run("init", str(tmp_path))
    assert code == 0
    written = tmp_path / ".lambdashield.toml"
    text = written.read_text(encoding="utf-8")
    for key in _KEYS:
        if key == "per-file-ignores":
            assert "# [per-file-ignores]\n" in text
        else:
            assert f"\n# {key} = " in text, key
    # Commented out, the file means the defaults; uncommented, every example is valid.
    assert replace_source(load_config(written)) == Config()
    active = tmp_path / "active" / ".lambdashield.toml"
    active.parent.mkdir()
    active.write_text(
        "\n".join(
            line[2:] if line.startswith("# ") and ("=" in line or line.startswith("# [")) else line
            for line in text.splitlines()
        ),
        encoding="utf-8",
    )
    load_config(active)
    before = text
    code, out = run("init", str(tmp_path))
    assert code == 2 and "already exists; not overwritten" in out
    assert written.read_text(encoding="utf-8") == before


def replace_source(config: Any) -> Any:
    from dataclasses import replace

    return replace(config, source=None)


def test_init_refuses_to_shadow_pyproject_settings(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.lambdashield]\nfail-on = "low"\n')
    code, out = run("init", str(tmp_path))
    assert code == 2 and "[tool.lambdashield]" in out
    assert not (tmp_path / ".lambdashield.toml").exists()


def test_progress_and_timings_only_on_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    import lambdashield.cli as cli
    import lambdashield.engine as engine

    policy = write(tmp_path / "admin.json", ADMIN)
    _code, out = run("scan", str(policy))
    assert "lambdashield: 1 finding" not in out  # not a terminal: no timings

    real_scan = engine.scan

    def slow_scan(paths: Any, config: Any) -> Any:
        time.sleep(0.3)
        return real_scan(paths, config)

    monkeypatch.setattr(cli, "_stderr_is_terminal", lambda: True)
    monkeypatch.setattr(cli, "PROGRESS_AFTER", 0.05)
    monkeypatch.setattr(engine, "scan", slow_scan)
    result = CliRunner().invoke(main, ["scan", str(policy)], catch_exceptions=False)
    assert result.exit_code == 1
    assert result.stdout.count("LS-IAM-001") == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(
        "lambdashield: 1 finding, 0 errors in 1 file and 0 functions; scanned in "
    )
    assert last.endswith(" s")


def test_errors_raised_in_the_scan_thread_reach_the_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import lambdashield.cli as cli

    monkeypatch.setattr(cli, "_stderr_is_terminal", lambda: True)
    code, out = run("scan", str(tmp_path), "--select", "LS-NOPE")
    assert code == 2 and "unknown rule or prefix 'LS-NOPE'" in out


def test_policy_generate_for_the_example() -> None:
    code, out = run("policy", "generate", str(EXAMPLE), "--format", "sam")
    assert code == 0
    assert (
        '- !Sub "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:'
        'table/${OrdersTable}"'
    ) in out
    receipts = out.split("# ReceiptsFunction", 1)[1]
    assert receipts.splitlines()[1] == (
        "# no AWS SDK calls found: nothing to grant beyond the execution role"
    )
