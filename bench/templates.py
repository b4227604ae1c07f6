"""End-to-end scan time of big serverless templates: lambdashield vs. ``checkov -d``.

Generates, in a temporary folder, one input per format:

- ``sam/template.yaml``: a SAM template with ``--functions`` functions (default 1,000), each
  with an API event, an environment, a policy template and an inline policy;
- ``serverless/serverless.yml``: a Serverless Framework service with as many functions, each
  with an ``http`` event, an environment and per-function IAM statements;
- ``terraform/``: a Terraform root module with 300 functions (``templates_tf.generate``).

Each tool scans each folder as a user would (``lambdashield scan DIR --format json``,
``checkov -d DIR --quiet --compact -o json``), from its own venv under ``bench/.venvs``;
wall-clock, best of ``--repeat`` runs. Budget: lambdashield at least 10x faster than checkov
on every input, and under 1 s on the 1,000-function SAM template.

    python3 bench/templates.py
    python3 bench/templates.py --only sam --repeat 5
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from _venvs import (
    Anchor,
    SetupError,
    clean_env,
    ensure_anchor,
    ensure_lambdashield,
    machine_summary,
    venv_executable,
)

CHECKOV = Anchor("checkov", "3.3.30")
BUDGET_RATIO = 10.0
BUDGET_SAM_S = 1.0


def sam_template(functions: int) -> str:
    lines = [
        'AWSTemplateFormatVersion: "2010-09-09"',
        "Transform: AWS::Serverless-2016-10-31",
        "Globals:",
        "  Function:",
        "    Runtime: python3.12",
        "    Timeout: 10",
        "Resources:",
        "  Table:",
        "    Type: AWS::DynamoDB::Table",
    ]
    for i in range(functions):
        lines += [
            f"  Fn{i}:",
            "    Type: AWS::Serverless::Function",
            "    Properties:",
            f"      Handler: app.handler_{i}",
            "      CodeUri: src/",
            "      Environment:",
            "        Variables:",
            "          TABLE: !Ref Table",
            f"          MODE: mode-{i}",
            "      Policies:",
            "        - DynamoDBReadPolicy:",
            "            TableName: !Ref Table",
            "        - Statement:",
            "            - Effect: Allow",
            "              Action: [s3:GetObject, s3:PutObject]",
            f"              Resource: arn:aws:s3:::bucket-{i}/*",
            "      Events:",
            "        Api:",
            "          Type: Api",
            "          Properties:",
            f"            Path: /items/{i}",
            "            Method: get",
        ]
    return "\n".join(lines) + "\n"


def serverless_file(functions: int) -> str:
    lines = [
        "service: bench",
        "frameworkVersion: '3'",
        "provider:",
        "  name: aws",
        "  runtime: python3.12",
        "  iam:",
        "    role:",
        "      statements:",
        "        - Effect: Allow",
        "          Action: [dynamodb:GetItem]",
        "          Resource: arn:aws:dynamodb:us-east-1:123456789012:table/items",
        "functions:",
    ]
    for i in range(functions):
        lines += [
            f"  fn{i}:",
            f"    handler: app.handler_{i}",
            "    environment:",
            f"      MODE: mode-{i}",
            "    events:",
            "      - http:",
            f"          path: items/{i}",
            "          method: get",
        ]
    return "\n".join(lines) + "\n"


def terraform_tree(folder: Path) -> bool:
    spec = importlib.util.spec_from_file_location(
        "templates_tf", Path(__file__).with_name("templates_tf.py")
    )
    if spec is None or spec.loader is None or not Path(spec.origin or "").is_file():
        return False
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while defined
    spec.loader.exec_module(module)
    # templates_tf.py names its writer `generate(folder, functions)`.
    writer: Callable[[Path, int], object] | None = getattr(
        module, "write_tree", getattr(module, "generate", None)
    )
    if writer is None:
        return False
    writer(folder, 300)
    return True


def timed(command: list[str], repeat: int) -> tuple[float, int]:
    best, code = float("inf"), 0
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, env=clean_env(), check=False)
        best = min(best, time.perf_counter() - start)
        code = done.returncode
        if code not in (0, 1):
            sys.stderr.write(done.stderr.decode(errors="replace")[-2000:])
    return best, code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functions", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=("sam", "serverless", "terraform"), action="append")
    parser.add_argument("--no-checkov", action="store_true", help="measure lambdashield only")
    args = parser.parse_args(argv)
    try:
        ours = venv_executable(ensure_lambdashield().parent.parent, "lambdashield")
        theirs = (
            None
            if args.no_checkov
            else venv_executable(ensure_anchor(CHECKOV).parent.parent, "checkov")
        )
    except SetupError as exc:
        print(f"setup failed: {exc}\n{exc.detail}", file=sys.stderr)
        return 1
    print(f"templates benchmark, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"machine: {machine_summary()}")
    print(f"method:  wall-clock of the whole command, best of {args.repeat}\n")
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        inputs: dict[str, Path] = {}
        (root / "sam").mkdir()
        (root / "sam" / "template.yaml").write_text(sam_template(args.functions), encoding="utf-8")
        inputs["sam"] = root / "sam"
        (root / "serverless").mkdir()
        (root / "serverless" / "serverless.yml").write_text(
            serverless_file(args.functions), encoding="utf-8"
        )
        inputs["serverless"] = root / "serverless"
        if terraform_tree(root / "terraform"):
            inputs["terraform"] = root / "terraform"
        print(f"{'input':<12} {'lambdashield s':>15} {'checkov s':>10} {'ratio':>7}  budget")
        for name, folder in inputs.items():
            if args.only and name not in args.only:
                continue
            ours_s, code = timed([str(ours), "scan", str(folder), "--format", "json"], args.repeat)
            if code not in (0, 1):
                print(f"{name:<12} lambdashield exited {code}")
                failed = True
                continue
            theirs_s = (
                timed(
                    [str(theirs), "-d", str(folder), "--quiet", "--compact", "-o", "json"],
                    args.repeat,
                )[0]
                if theirs
                else float("nan")
            )
            ratio = theirs_s / ours_s
            ok = (theirs is None or ratio >= BUDGET_RATIO) and (
                name != "sam" or ours_s < BUDGET_SAM_S
            )
            verdict = "PASS" if ok else "FAIL"
            print(f"{name:<12} {ours_s:>15.3f} {theirs_s:>10.3f} {ratio:>6.1f}x  {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
