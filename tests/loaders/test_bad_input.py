"""Hostile and broken inputs: each is a located error or a skip, and the scan goes on."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
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


def test_compiler_configs_with_comments_are_not_read_as_policies(tmp_path: Path) -> None:
    with_good_policy(tmp_path)
    commented = '{\n  // shared settings\n  "compilerOptions": {"strict": true,},\n}\n'
    for name in ("tsconfig.base.json", "tsconfig.build.json", "jsconfig.app.json"):
        (tmp_path / name).write_text(commented, encoding="utf-8")
    (tmp_path / "cdktf.json").write_text('{"language": "typescript"}', encoding="utf-8")
    assert scan_dir(tmp_path).errors == ()
    # Named on the command line, a file is read whatever its name.
    report = scan([str(tmp_path / "tsconfig.base.json")], Config(policies_only=True))
    assert [(e.path.name, e.line) for e in report.errors] == [("tsconfig.base.json", 2)]


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
        ("out", "link points outside the scanned folder; not followed"),
        ("out-file.json", "link points outside the scanned folder; not followed"),
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


def test_synth_output_is_read_though_gitignored(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("cdk.out\nbuild/\n", encoding="utf-8")
    for rel in ("cdk.out/admin.json", "build/admin.json"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(json.dumps(GOOD), encoding="utf-8")
    report = scan_dir(tmp_path)
    assert [f.location.path.as_posix().rsplit("/", 2)[-2:] for f in report.findings] == [
        ["cdk.out", "admin.json"]
    ]


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


# --- hostile templates: one located error each, and the rest of the scan goes on -----------

CFN = 'AWSTemplateFormatVersion: "2010-09-09"\nResources:\n'
SLS = "service: s\nprovider:\n  name: aws\n  runtime: python3.12\n"
FN_TF = 'resource "aws_lambda_function" "f" {\n  function_name = "f"\n'


def _alias_bomb() -> str:
    text = "  a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for i in range(8):
        refs = ", ".join([f"*{'a' if i == 0 else f'b{i - 1}'}"] * 10)
        text += f"  b{i}: &b{i} [{refs}]\n"
    return text


HOSTILE = {
    "circular-find-in-map": (
        "template.yaml",
        'AWSTemplateFormatVersion: "2010-09-09"\nMappings:\n  Loop:\n    A:\n'
        "      B: !FindInMap [Loop, A, B]\nResources:\n  Fn:\n"
        "    Type: AWS::Lambda::Function\n    Properties:\n"
        "      Runtime: !FindInMap [Loop, A, B]\n      Handler: a.h\n",
        5,
        "circular reference: `Fn::FindInMap ['Loop', 'A', 'B']` leads back to itself",
    ),
    "circular-api-resources": (
        "template.yaml",
        CFN + "  A:\n    Type: AWS::ApiGateway::Resource\n"
        "    Properties: {ParentId: !Ref B, PathPart: a}\n"
        "  B:\n    Type: AWS::ApiGateway::Resource\n"
        "    Properties: {ParentId: !Ref A, PathPart: b}\n"
        "  Get:\n    Type: AWS::ApiGateway::Method\n    Properties:\n"
        "      ResourceId: !Ref A\n      HttpMethod: GET\n"
        '      Integration: {Uri: !Sub "arn:aws:apigateway:r:lambda:path/${Fn.Arn}/x"}\n'
        "  Fn:\n    Type: AWS::Lambda::Function\n"
        "    Properties: {Runtime: python3.12, Handler: a.h}\n",
        8,  # B's `ParentId`, which closes the cycle
        "circular reference: API resource `A` is its own ancestor",
    ),
    "recursive-yaml-alias": (
        "template.yaml",
        CFN + "  Fn:\n    Type: AWS::Lambda::Function\n    Properties: &p\n      Self: *p\n",
        5,
        "YAML nested deeper than 256 levels",
    ),
    "deep-json-template": (
        "template.json",
        '{"AWSTemplateFormatVersion": "2010-09-09", "Resources": {"A": '
        + "[" * 50_000
        + "]" * 50_000
        + "}}",
        None,
        "nested too deeply",
    ),
    "circular-variables": (
        "serverless.yml",
        SLS + "  memorySize: ${self:custom.a}\ncustom:\n  a: ${self:custom.b}\n"
        "  b: ${self:custom.a}\nfunctions:\n  f:\n    handler: f.h\n",
        8,
        "circular variable reference: custom.a -> custom.b -> custom.a",
    ),
    "file-outside-the-root": (
        "serverless.yml",
        SLS + "  environment:\n    TOKEN: ${file(../../secrets.yml):token}\n"
        "functions:\n  f:\n    handler: f.h\n",
        6,
        "`${file(../../secrets.yml):token}` reads ../../secrets.yml, outside the scanned folder",
    ),
    "alias-bomb": (
        "serverless.yml",
        SLS + "custom:\n" + _alias_bomb() + "functions:\n  f:\n    handler: f.h\n",
        6,
        "more than 500,000 YAML nodes",
    ),
    "deep-yaml": (
        "serverless.yml",
        SLS + "custom:\n  deep: " + "[" * 5000 + "]" * 5000 + "\n",
        6,
        "invalid YAML",
    ),
    "unknown-tag": (
        "serverless.yml",
        SLS + "  timeout: !Bogus 30\nfunctions:\n  f:\n    handler: f.h\n",
        5,
        "unknown YAML tag !Bogus",
    ),
    "terraform-syntax": (
        "main.tf",
        FN_TF + "  runtime = \n}\n",
        3,
        "HCL syntax error",
    ),
    "terraform-deep": (
        "main.tf",
        FN_TF + "  runtime = " + "(" * 5000 + '"a"' + ")" * 5000 + "\n}\n",
        None,
        "nested too deeply",
    ),
    "terraform-cycle": (
        "main.tf",
        "locals {\n  a = local.b\n  b = local.a\n}\n" + FN_TF + "  handler = local.a\n}\n",
        2,
        "circular reference: local value `a` depends on itself",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_template_is_one_located_error(tmp_path: Path, case: str) -> None:
    name, text, line, message = HOSTILE[case]
    project = tmp_path / "project"
    project.mkdir()
    (project / name).write_text(text, encoding="utf-8")
    with_good_policy(project)
    start = time.perf_counter()
    report = scan_dir(project)
    assert time.perf_counter() - start < 30
    assert [(e.path.name, e.line) for e in report.errors] == [(name, line)]
    assert message in report.errors[0].message
    assert "LS-IAM-001" in {f.rule.id for f in report.findings}  # the good file still scanned


def _many_cloudformation(count: int) -> str:
    lines = ['AWSTemplateFormatVersion: "2010-09-09"', "Resources:"]
    for i in range(count):
        lines += [
            f"  Role{i}:",
            "    Type: AWS::IAM::Role",
            "    Properties:",
            "      Policies:",
            f"        - PolicyName: p{i}",
            "          PolicyDocument:",
            "            Statement: [{Effect: Allow, Action: 's3:*', Resource: '*'}]",
            f"  Fn{i}:",
            "    Type: AWS::Lambda::Function",
            f"    Properties: {{Runtime: python3.12, Handler: a.h, Role: !GetAtt Role{i}.Arn}}",
            f"  Perm{i}:",
            "    Type: AWS::Lambda::Permission",
            f"    Properties: {{FunctionName: !Ref Fn{i}, Action: 'lambda:*', Principal: '*'}}",
            f"  Bucket{i}:",
            "    Type: AWS::S3::Bucket",
            "    Properties:",
            "      AccessControl: PublicReadWrite",
            "      NotificationConfiguration:",
            f"        LambdaConfigurations: [{{Event: 's3:*', Function: !GetAtt Fn{i}.Arn}}]",
        ]
    return "\n".join(lines) + "\n"


def _many_serverless(count: int) -> str:
    lines = ["service: s", "provider:", "  name: aws", "  runtime: python3.12", "functions:"]
    for i in range(count):
        lines += [
            f"  f{i}:",
            "    handler: f.h",
            "    url: true",
            "    events:",
            f"      - http: POST items/{i}",
            f"      - s3: bucket-{i}",
        ]
    return "\n".join(lines) + "\n"


def _many_terraform(count: int) -> str:
    blocks = [
        f'resource "aws_lambda_function" "f{i}" {{\n  function_name = "f{i}"\n'
        f'  runtime = "python3.12"\n  role = aws_iam_role.r.arn\n}}\n'
        f'resource "aws_lambda_permission" "p{i}" {{\n  function_name = '
        f'aws_lambda_function.f{i}.function_name\n  principal = "*"\n'
        f'  action = "lambda:InvokeFunction"\n}}\n'
        f'resource "aws_lambda_function_url" "u{i}" {{\n  function_name = '
        f'aws_lambda_function.f{i}.function_name\n  authorization_type = "NONE"\n}}\n'
        for i in range(count)
    ]
    role = 'resource "aws_iam_role" "r" {\n  name = "r"\n}\n'
    return role + "".join(blocks)


@pytest.mark.parametrize(
    ("name", "write", "functions"),
    [
        ("template.yaml", _many_cloudformation, 1000),  # 4,000 resources
        ("serverless.yml", _many_serverless, 1000),  # 1,000 functions, 3,000 triggers
        ("main.tf", _many_terraform, 1000),  # 3,001 resources
    ],
)
def test_thousands_of_resources_in_bounded_time(
    tmp_path: Path, name: str, write: Callable[[int], str], functions: int
) -> None:
    (tmp_path / name).write_text(write(functions), encoding="utf-8")
    start = time.perf_counter()
    report = scan_dir(tmp_path)
    elapsed = time.perf_counter() - start
    assert report.errors == ()
    assert report.functions == functions
    assert len(report.findings) >= functions
    assert elapsed < 20, f"{elapsed:.1f} s"


def test_recognised_but_unanalysed_frameworks_are_listed(tmp_path: Path) -> None:
    (tmp_path / ".chalice").mkdir()
    (tmp_path / ".chalice" / "config.json").write_text('{"app_name": "orders"}', encoding="utf-8")
    (tmp_path / "zappa_settings.json").write_text('{"dev": {}}', encoding="utf-8")
    (tmp_path / "serverless.ts").write_text("export default {};\n", encoding="utf-8")
    report = scan_dir(tmp_path)
    assert report.errors == ()
    assert [(s.path.name, s.reason) for s in report.not_analysed] == [
        ("config.json", "Chalice projects are not analysed (their app is Python code)"),
        ("serverless.ts", "serverless.ts/js is code and is never run"),
        ("zappa_settings.json", "Zappa projects are not analysed"),
    ]


def test_sam_build_output_is_read_only_by_name(tmp_path: Path) -> None:
    built = tmp_path / ".aws-sam" / "build"
    built.mkdir(parents=True)
    for folder in (tmp_path, built):
        (folder / "admin.json").write_text(json.dumps(GOOD), encoding="utf-8")
    assert [f.location.path.name for f in scan_dir(tmp_path).findings] == ["admin.json"]
    assert scan_dir(tmp_path).files == 1
    assert scan_dir(built).files == 1
