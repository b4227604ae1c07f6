"""The risk picture every report shows (`lambdashield.risk`), and the source lines of the
HTML report: built by the engine layer from the model and the findings."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from lambdashield.model import (
    Application,
    AuthKind,
    Authorization,
    Bucket,
    Confidence,
    EnvVar,
    Finding,
    Function,
    FunctionRisk,
    Lifecycle,
    Location,
    Origin,
    Permission,
    RuleMeta,
    Severity,
    Trigger,
    TriggerKind,
)
from lambdashield.risk import MASK, source_lines, summarise

TEMPLATE = PurePosixPath("app/template.yaml")


def meta(rule_id: str, severity: Severity = Severity.HIGH) -> RuleMeta:
    return RuleMeta(
        id=rule_id,
        name=rule_id.lower(),
        title=f"title of {rule_id}",
        severity=severity,
        confidence=Confidence.HIGH,
        cwe=0,
        tags=(),
        since="0.1.0",
        lifecycle=Lifecycle.STABLE,
        summary="s",
        why="w",
        fix="f",
    )


def finding(
    rule_id: str,
    resource: str,
    resource_type: str = "function",
    path: PurePosixPath = TEMPLATE,
    pointer: str = "",
    line: int | None = None,
    severity: Severity | None = None,
    message: str = "m",
) -> Finding:
    rule = meta(rule_id)
    return Finding(
        rule=rule,
        severity=severity or rule.severity,
        confidence=Confidence.HIGH,
        location=Location(path, pointer, line),
        message=message,
        resource=resource,
        resource_type=resource_type,
        fingerprint=f"{rule_id}:{resource}:{pointer}",
    )


def function(
    name: str,
    *triggers: Trigger,
    runtime: str | None = "python3.12",
    code_uri: str | None = None,
    environment: tuple[EnvVar, ...] = (),
    path: PurePosixPath = TEMPLATE,
) -> Function:
    return Function(
        origin=Origin(path, name, "function", f"/Resources/{name}", lambda _p: (10, 20)),
        runtime=runtime,
        code_uri=code_uri,
        environment=environment,
        triggers=triggers,
    )


def route(source: str, kind: AuthKind, detail: str = "", api_key: bool = False) -> Trigger:
    return Trigger(
        TriggerKind.API_REST,
        source,
        "/x",
        auth=Authorization(kind, detail, api_key_required=api_key),
    )


def app(*functions: Function, **parts: object) -> Application:
    return Application(
        origin=Origin(TEMPLATE, "template.yaml", "sam"),
        functions=functions,
        **parts,  # type: ignore[arg-type]
    )


def by_name(risks: tuple[FunctionRisk, ...]) -> dict[str, FunctionRisk]:
    return {risk.function: risk for risk in risks}


def test_full_attack_path_ranks_first() -> None:
    chain = function(
        "Chain",
        route("POST /orders", AuthKind.NONE),
        environment=(EnvVar("API_KEY", "x", "/Resources/Chain/Env/API_KEY"),),
    )
    # Everything but a sink or secret, at full strength: still below the full chain.
    strong = function(
        "Strong",
        route("POST /admin", AuthKind.NONE),
        Trigger(TriggerKind.FUNCTION_URL, "function URL", "/u", auth=Authorization(AuthKind.NONE)),
        runtime="python3.7",
    )
    quiet = function("Quiet", Trigger(TriggerKind.SQS, "OrdersQueue", "/q"))
    findings = [
        finding("LS-IAM-005", "Chain"),
        finding("LS-SEC-001", "Chain", pointer="/Resources/Chain/Env/API_KEY"),
        finding("LS-IAM-001", "Strong"),
        finding("LS-IAM-004", "Strong"),
        finding("LS-FN-001", "Strong", message="runtime `python3.7` is deprecated since 2023"),
        finding("LS-DEP-001", "requirements.txt", "dependencies", PurePosixPath("x/r.txt")),
    ]
    risks = summarise([app(quiet, strong, chain)], findings)
    assert [r.function for r in risks] == ["Chain", "Strong", "Quiet"]
    top = risks[0]
    # 3 links, strength: public 8 + exfiltration 5 + secret 4.
    assert top.score == 75 + 17
    assert top.attack_path == (
        "internet: POST /orders (no auth)",
        "privileged: exfiltration",
        "holds: secret API_KEY",
    )
    assert top.internet_reachable and top.exfiltration == 1 and top.secrets == ("API_KEY",)
    assert top.line == 10 and top.path == TEMPLATE
    strong_risk = risks[1]
    # 2 links, strength capped at 24: public 8 + admin 8 + deprecated runtime 1.
    assert strong_risk.score == 50 + 17
    assert strong_risk.runtime_status == "deprecated"
    assert strong_risk.admin == 1 and strong_risk.privilege_escalation == 1
    assert risks[2].score == 2  # an event source only
    assert risks[2].entry_points == ("SQS queue OrdersQueue",)
    assert risks[2].runtime_status == "not flagged"


def test_entry_point_labels_carry_their_auth() -> None:
    fn = function(
        "Api",
        route("GET /orders/{id}", AuthKind.IAM, "AWS_IAM"),
        route("POST /orders", AuthKind.AUTHORIZER, "Cognito"),
        route("GET /health", AuthKind.NONE, api_key=True),
        route("PUT /x", AuthKind.UNKNOWN),
        Trigger(TriggerKind.FUNCTION_URL, "function URL", "/u", auth=Authorization(AuthKind.IAM)),
        Trigger(TriggerKind.SCHEDULE, "rate(5 minutes)", "/s"),
    )
    (risk,) = summarise([app(fn)], [])
    assert risk.entry_points == (
        "GET /orders/{id} (IAM auth)",
        "POST /orders (authorizer Cognito)",
        "GET /health (no auth, API key)",
        "PUT /x (auth unknown)",
        "function URL (AuthType AWS_IAM)",
        "schedule rate(5 minutes)",
    )
    assert risk.internet_reachable  # an API key is not authorisation
    assert risk.score == 25 + 8


def test_authenticated_entry_is_not_the_internet() -> None:
    fn = function("Api", route("POST /orders", AuthKind.IAM, "AWS_IAM"))
    (risk,) = summarise([app(fn)], [finding("LS-IAM-001", "Api")])
    assert not risk.internet_reachable
    assert risk.score == 25 + 4 + 8
    assert risk.attack_path == ("privileged: admin",)


def test_public_bucket_and_open_permission_make_a_function_reachable() -> None:
    s3 = function("Thumbs", Trigger(TriggerKind.S3, "Uploads", "/e"))
    s3_private = function("Reports", Trigger(TriggerKind.S3, "Private", "/e"))
    invoked = function("Hook")
    buckets = (
        Bucket(Origin(TEMPLATE, "Uploads", "bucket", "/Resources/Uploads"), notifies=("Thumbs",)),
        Bucket(Origin(TEMPLATE, "Private", "bucket", "/Resources/Private"), notifies=("Reports",)),
    )
    permissions = (
        Permission(
            Origin(TEMPLATE, "HookPermission", "permission", "/Resources/HookPermission"),
            "Hook",
            "*",
            "lambda:InvokeFunction",
        ),
    )
    findings = [
        # Everyone may write to Uploads: full severity; everyone may only read Private.
        finding("LS-API-005", "Uploads", "bucket", pointer="/Resources/Uploads"),
        finding(
            "LS-API-005",
            "Private",
            "bucket",
            pointer="/Resources/Private",
            severity=Severity.MEDIUM,
        ),
        finding("LS-API-003", "HookPermission", "permission", pointer="/Resources/HookPermission"),
    ]
    risks = by_name(
        summarise(
            [app(s3, s3_private, invoked, buckets=buckets, permissions=permissions)], findings
        )
    )
    assert risks["Thumbs"].entry_points == ("S3 bucket Uploads (public write)",)
    assert risks["Thumbs"].internet_reachable
    assert not risks["Reports"].internet_reachable
    assert risks["Hook"].entry_points == ("resource policy: Principal * (lambda:InvokeFunction)",)
    assert risks["Hook"].internet_reachable


def test_findings_of_a_namesake_in_another_file_do_not_count() -> None:
    here = function("Api")
    other = PurePosixPath("other/serverless.yml")
    (risk,) = summarise([app(here)], [finding("LS-IAM-001", "Api", path=other)])
    assert risk.admin == 0 and risk.findings == 0


def test_code_folder_findings_by_language() -> None:
    py = function("Py", code_uri="src/", runtime="python3.12")
    js = function("Js", code_uri=".", runtime="nodejs20.x")
    findings = [
        finding("LS-DEP-001", "requirements.txt", "dependencies", PurePosixPath("app/src/r.txt")),
        finding("LS-DEP-002", "package.json", "dependencies", PurePosixPath("app/package.json")),
        finding("LS-CODE-001", "handler.py", "source", PurePosixPath("app/src/handler.py")),
        finding("LS-LOG-001", "index.js", "source", PurePosixPath("app/index.js")),
        finding("LS-DEP-001", "r.txt", "dependencies", PurePosixPath("elsewhere/r.txt")),
    ]
    risks = by_name(summarise([app(py, js)], findings))
    py_risk, js_risk = risks["Py"], risks["Js"]
    assert py_risk.vulnerable_dependencies == 1
    assert py_risk.code_findings == 1
    assert py_risk.attack_path == ("holds: 1 dangerous sink",)
    # A Node.js function ships the package.json, not the Python files below its folder.
    assert js_risk.vulnerable_dependencies == 1
    assert js_risk.code_findings == 1
    assert js_risk.attack_path == ()


def test_unknown_runtime() -> None:
    (risk,) = summarise([app(function("Image", runtime=None))], [])
    assert risk.runtime == "" and risk.runtime_status == "unknown"
    assert risk.score == 0 and risk.entry_points == ()


def test_order_is_deterministic() -> None:
    fns = [function(name) for name in ("b", "a", "c")]
    assert [r.function for r in summarise([app(*fns)], [])] == ["a", "b", "c"]


# --- source lines -------------------------------------------------------------------------


def test_source_lines_around_findings_with_secrets_masked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    lines = [f"line {n}" for n in range(1, 31)]
    lines[9] = "      API_KEY: sk_live_abcdefghijklmnopqrstuvwx"
    lines[19] = "x" * 1000
    (tmp_path / "t.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    path = PurePosixPath("t.yaml")
    findings = [
        finding("LS-SEC-001", "Fn", path=path, line=10),
        finding("LS-FN-001", "Fn", path=path, line=20),
        finding("LS-FN-002", "Fn", path=path),  # no line: nothing to show
        finding("LS-FN-003", "Fn", path=PurePosixPath("gone.yaml"), line=3),
    ]
    (snippet,) = source_lines(findings, max_bytes=1_000_000)
    shown = dict(snippet.lines)
    assert sorted(shown) == [8, 9, 10, 11, 12, 18, 19, 20, 21, 22]
    assert shown[10] == f"      API_KEY: {MASK}"
    assert "sk_live" not in "".join(shown.values())
    assert shown[20].endswith("…") and len(shown[20]) < 300
    assert shown[8] == "line 8"


def test_source_lines_skip_files_over_the_size_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "big.json").write_text("{}\n" * 100, encoding="utf-8")
    found = [finding("LS-IAM-001", "p", "policy", PurePosixPath("big.json"), line=1)]
    assert source_lines(found, max_bytes=10) == ()


def test_source_lines_stop_at_the_last_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "t.yaml").write_bytes(b"a: 1\r\nb: 2\rc: 3\n")
    found = [finding("LS-FN-001", "Fn", path=PurePosixPath("t.yaml"), line=3)]
    (snippet,) = source_lines(found, max_bytes=1_000)
    assert snippet.lines == ((1, "a: 1"), (2, "b: 2"), (3, "c: 3"))
