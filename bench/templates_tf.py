"""Terraform: lambdashield's loader (and scan) against ``checkov -d`` on a generated tree.

The tree (written to a temporary folder) has ``--functions`` functions (default 300) in
``functions.tf``, 13 lines each, so 300 functions make the 3,900-line file the design
names; ``iam.tf`` gives every ten functions a role built from an
``aws_iam_policy_document`` plus a managed-policy attachment, and ``triggers.tf`` puts a
function URL, an SQS mapping or an HTTP API route on each function in turn.

Measured, each as the wall-clock of a fresh process (1 warm-up, then ``--runs`` runs,
interleaved, median reported):

- ``load_terraform``: ``python -c`` importing lambdashield and loading the folder (the
  loader's whole cost, start-up included); the process also reports the in-process time;
- ``lambdashield scan <tree> --format json``: end to end. Until the engine loads Terraform
  it finds no function in the tree; the script says so and leaves the scan out of the
  ratio;
- ``checkov -d <tree> --framework terraform`` (the anchor, from PyPI in
  ``bench/.venvs/checkov``).

The budget (issue 3) is at least 10x faster than checkov end to end.

``--parsers`` instead measures the two HCL parsers on the 3,900-line file: tree-sitter +
tree-sitter-hcl (in lambdashield's Python) and python-hcl2 (checkov's parser, from PyPI in
``bench/.venvs/python-hcl2``): import, first parse and the best of later parses, each in a
fresh process.

    python3 bench/templates_tf.py --lambdashield-python .venv/bin/python
    python3 bench/templates_tf.py --parsers --lambdashield-python .venv/bin/python
    python3 bench/templates_tf.py --functions 1000 --runs 5 --skip-checkov

Exit status: 0 all measured; 1 a command failed or could not be installed (or
``--check-budget`` and the ratio is under 10x).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from _venvs import (
    VENVS_DIR,
    Anchor,
    Samples,
    SetupError,
    clean_env,
    distribution_version,
    ensure_anchor,
    ensure_lambdashield,
    machine_summary,
    venv_executable,
)

BUDGET_RATIO = 10.0
CHECKOV = Anchor("checkov", "3.3.30")
HCL2 = Anchor("python-hcl2", "8.1.4")
COMMAND_TIMEOUT_S = 600.0
MARK = "@@TF-BENCH@@ "

# --- the generated tree -----------------------------------------------------------------


def _function(i: int) -> str:
    return f"""resource "aws_lambda_function" "fn_{i:04d}" {{
  function_name = "${{var.prefix}}-fn-{i:04d}"
  role          = aws_iam_role.group_{i // 10:03d}.arn
  handler       = "app.handler"
  runtime       = "python3.12"
  filename      = "build/fn_{i:04d}.zip"
  environment {{
    variables = {{
      TABLE = "orders-{i:04d}"
    }}
  }}
}}

"""


def _group(g: int) -> str:
    return f"""data "aws_iam_policy_document" "group_{g:03d}" {{
  statement {{
    actions   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"]
    resources = ["arn:aws:dynamodb:eu-west-1:123456789012:table/orders-{g:03d}"]
  }}
  statement {{
    actions   = ["s3:GetObject"]
    resources = ["arn:aws:s3:::orders-{g:03d}/*"]
  }}
}}

resource "aws_iam_role" "group_{g:03d}" {{
  name               = "${{var.prefix}}-group-{g:03d}"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}}

resource "aws_iam_role_policy" "group_{g:03d}" {{
  role   = aws_iam_role.group_{g:03d}.id
  policy = data.aws_iam_policy_document.group_{g:03d}.json
}}

resource "aws_iam_role_policy_attachment" "group_{g:03d}" {{
  role       = aws_iam_role.group_{g:03d}.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
}}

"""


def _trigger(i: int) -> str:
    name = f"fn_{i:04d}"
    if i % 3 == 0:
        return f"""resource "aws_lambda_function_url" "{name}" {{
  function_name      = aws_lambda_function.{name}.function_name
  authorization_type = "{"NONE" if i % 2 else "AWS_IAM"}"
}}

"""
    if i % 3 == 1:
        return f"""resource "aws_sqs_queue" "{name}" {{
  name = "${{var.prefix}}-{name}"
}}

resource "aws_lambda_event_source_mapping" "{name}" {{
  event_source_arn = aws_sqs_queue.{name}.arn
  function_name    = aws_lambda_function.{name}.arn
}}

"""
    return f"""resource "aws_apigatewayv2_integration" "{name}" {{
  api_id           = aws_apigatewayv2_api.http.id
  integration_type = "AWS_PROXY"
  integration_uri  = aws_lambda_function.{name}.invoke_arn
}}

resource "aws_apigatewayv2_route" "{name}" {{
  api_id    = aws_apigatewayv2_api.http.id
  route_key = "GET /{name}"
  target    = "integrations/${{aws_apigatewayv2_integration.{name}.id}}"
}}

"""


def generate(folder: Path, functions: int) -> Path:
    """Write the tree into `folder` and return the path of `functions.tf`."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "variables.tf").write_text(
        'variable "prefix" {\n  type    = string\n  default = "bench"\n}\n', encoding="utf-8"
    )
    main = folder / "functions.tf"
    main.write_text("".join(_function(i) for i in range(functions)), encoding="utf-8")
    assume = """data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

"""
    groups = (functions + 9) // 10
    (folder / "iam.tf").write_text(
        assume + "".join(_group(g) for g in range(groups)), encoding="utf-8"
    )
    api = 'resource "aws_apigatewayv2_api" "http" {\n  name          = "bench"\n'
    api += '  protocol_type = "HTTP"\n}\n\n'
    (folder / "triggers.tf").write_text(
        api + "".join(_trigger(i) for i in range(functions)), encoding="utf-8"
    )
    return main


# --- harness programs (run with -I in the measured interpreter) --------------------------

_LOAD_HARNESS = """
import json, sys, time
from pathlib import Path, PurePosixPath
start = time.perf_counter()
from lambdashield.loaders.terraform import load_terraform
folder = Path(sys.argv[1])
app, errors = load_terraform(folder, PurePosixPath("tree"), sorted(folder.glob("*.tf")),
                             max_bytes=10 * 1024 * 1024)
elapsed = time.perf_counter() - start
triggers = sum(len(f.triggers) for f in app.functions)
print(MARK + json.dumps({"seconds": elapsed, "functions": len(app.functions),
                         "triggers": triggers, "errors": len(errors)}))
"""

_TREE_SITTER_HARNESS = """
import json, sys, time
t0 = time.perf_counter()
import tree_sitter, tree_sitter_hcl
parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_hcl.language()))
t1 = time.perf_counter()
source = open(sys.argv[1], "rb").read()
t2 = time.perf_counter()
tree = parser.parse(source)
t3 = time.perf_counter()
cursor, nodes = tree.walk(), 0
while True:
    nodes += 1
    if cursor.goto_first_child():
        continue
    while not cursor.goto_next_sibling():
        if not cursor.goto_parent():
            break
    else:
        continue
    break
t4 = time.perf_counter()
later = []
for _ in range(10):
    s = time.perf_counter(); parser.parse(source); later.append(time.perf_counter() - s)
from lambdashield.loaders._hcl import parse_hcl
from pathlib import PurePosixPath
text = source.decode()
s = time.perf_counter(); parse_hcl(text, PurePosixPath("f.tf")); convert = time.perf_counter() - s
print(MARK + json.dumps({"import": t1 - t0, "first": t3 - t2, "later": min(later),
                         "walk": t4 - t3, "nodes": nodes, "to_model_input": convert}))
"""

_HCL2_HARNESS = """
import json, sys, time
t0 = time.perf_counter()
import hcl2
t1 = time.perf_counter()
text = open(sys.argv[1], encoding="utf-8").read()
t2 = time.perf_counter()
hcl2.loads(text)
t3 = time.perf_counter()
later = []
for _ in range(3):
    s = time.perf_counter(); hcl2.loads(text); later.append(time.perf_counter() - s)
print(MARK + json.dumps({"import": t1 - t0, "first": t3 - t2, "later": min(later)}))
"""


def _harness(python: Path, program: str, args: list[str]) -> dict[str, float]:
    code = f"MARK = {MARK!r}\n" + program
    done = subprocess.run(
        [str(python), "-I", "-c", code, *args],
        capture_output=True,
        text=True,
        check=False,
        env=clean_env(),
        timeout=COMMAND_TIMEOUT_S,
    )
    for out_line in done.stdout.splitlines():
        if out_line.startswith(MARK):
            result: dict[str, float] = json.loads(out_line[len(MARK) :])
            return result
    tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-10:])
    raise SetupError(f"harness failed (exit {done.returncode})", tail)


# --- timing commands --------------------------------------------------------------------


@dataclass
class Command(Samples):
    label: str
    argv: list[str]
    ok_codes: tuple[int, ...] = (0,)
    values: list[float] = field(default_factory=list)
    failure: str | None = None
    output: str = ""


def _run(command: Command) -> float | None:
    start = time.perf_counter()
    try:
        done = subprocess.run(
            command.argv,
            capture_output=True,
            text=True,
            check=False,
            env=clean_env(),
            timeout=COMMAND_TIMEOUT_S,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        command.failure = str(exc)
        return None
    elapsed = time.perf_counter() - start
    if done.returncode not in command.ok_codes:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-10:])
        command.failure = f"exited {done.returncode}:\n{tail}"
        return None
    command.output = done.stdout
    return elapsed


def _lambdashield_python(args: argparse.Namespace) -> Path:
    if args.lambdashield_python is not None:
        return Path(args.lambdashield_python)
    return ensure_lambdashield(reinstall=not args.no_reinstall)


def _parsers(args: argparse.Namespace, tree: Path) -> int:
    main = generate(tree, args.functions)
    lines = main.read_text(encoding="utf-8").count("\n")
    print(f"parsers on {main.name}: {lines:,} lines, {args.functions} functions")
    print(f"machine: {machine_summary()}")
    ours = _lambdashield_python(args)
    rows = [("tree-sitter-hcl", _harness(ours, _TREE_SITTER_HARNESS, [str(main)]))]
    try:
        hcl2_python = ensure_anchor(HCL2)
        version = distribution_version(hcl2_python, HCL2.name)
        rows.append((f"python-hcl2 {version}", _harness(hcl2_python, _HCL2_HARNESS, [str(main)])))
    except SetupError as exc:
        print(f"python-hcl2: {exc}\n{exc.detail}", file=sys.stderr)
        return 1
    print(f"{'parser':<22} {'import ms':>10} {'first parse ms':>15} {'later parse ms':>15}")
    for name, row in rows:
        print(
            f"{name:<22} {row['import'] * 1e3:>10.1f} {row['first'] * 1e3:>15.1f} "
            f"{row['later'] * 1e3:>15.1f}"
        )
    sitter = rows[0][1]
    print(
        f"tree-sitter walk: {int(sitter['nodes']):,} nodes in {sitter['walk'] * 1e3:.1f} ms; "
        f"lambdashield's HCL reader (parse + conversion): {sitter['to_model_input'] * 1e3:.1f} ms"
    )
    if len(rows) == 2:
        ratio = rows[1][1]["later"] / sitter["later"]
        print(f"ratio python-hcl2/tree-sitter, later parse: {ratio:.0f}x")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--functions", type=int, default=300, metavar="N")
    parser.add_argument("--runs", type=int, default=3, metavar="N")
    parser.add_argument("--parsers", action="store_true", help="compare the HCL parsers only")
    parser.add_argument("--skip-checkov", action="store_true")
    parser.add_argument("--no-reinstall", action="store_true")
    parser.add_argument(
        "--lambdashield-python",
        metavar="PYTHON",
        help="interpreter with lambdashield installed (default: bench/.venvs/lambdashield)",
    )
    parser.add_argument("--keep", type=Path, metavar="DIR", help="write the tree here and keep it")
    parser.add_argument("--check-budget", action="store_true")
    args = parser.parse_args(argv)
    if args.functions < 1 or args.runs < 1:
        parser.error("--functions and --runs must be at least 1")

    with tempfile.TemporaryDirectory(prefix="tf-bench-") as tmp:
        tree = args.keep or Path(tmp) / "tree"
        if args.parsers:
            return _parsers(args, tree)
        generate(tree, args.functions)
        try:
            python = _lambdashield_python(args)
        except SetupError as exc:
            print(f"lambdashield: {exc}\n{exc.detail}", file=sys.stderr)
            return 1
        loaded = _harness(python, _LOAD_HARNESS, [str(tree)])
        commands = [
            Command(
                "load_terraform (fresh process)",
                [str(python), "-I", "-c", f"MARK = {MARK!r}\n" + _LOAD_HARNESS, str(tree)],
            ),
        ]
        scan = venv_executable(python.parent.parent, "lambdashield")
        if scan.exists():
            commands.append(
                Command(
                    "lambdashield scan",
                    [str(scan), "scan", str(tree), "--format", "json"],
                    ok_codes=(0, 1, 2),
                )
            )
        if not args.skip_checkov:
            try:
                ensure_anchor(CHECKOV)
                checkov = venv_executable(VENVS_DIR / CHECKOV.name, "checkov")
                commands.append(
                    Command(
                        "checkov -d (anchor)",
                        [
                            str(checkov),
                            "-d",
                            str(tree),
                            "--framework",
                            "terraform",
                            "--quiet",
                            "--compact",
                            "-o",
                            "json",
                        ],
                        ok_codes=(0, 1),
                    )
                )
            except SetupError as exc:
                print(f"checkov: {exc}\n{exc.detail}", file=sys.stderr)
                return 1
        print("warm-up", file=sys.stderr, flush=True)
        for command in commands:
            _run(command)
        for round_no in range(1, args.runs + 1):
            print(f"round {round_no}/{args.runs}", file=sys.stderr, flush=True)
            for command in commands:
                if command.failure is None:
                    elapsed = _run(command)
                    if elapsed is not None:
                        command.values.append(elapsed)

    print()
    print(f"Terraform benchmark, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {machine_summary()}")
    print(f"tree: {args.functions} functions ({args.functions * 13:,}-line functions.tf)")
    print(
        f"load_terraform in process: {loaded['seconds'] * 1e3:.0f} ms for "
        f"{int(loaded['functions'])} functions, {int(loaded['triggers'])} triggers, "
        f"{int(loaded['errors'])} errors"
    )
    for command in commands:
        if command.values:
            print(f"{command.label:<34} {command.median:>8.3f} s median of {len(command.values)}")
        else:
            print(f"{command.label:<34} FAILED: {command.failure}")
    by_label = {c.label: c for c in commands}
    anchor = by_label.get("checkov -d (anchor)")
    verdict_ratio: float | None = None
    scanned = by_label.get("lambdashield scan")
    if scanned is not None and scanned.values:
        try:
            functions = json.loads(scanned.output)["summary"]["functions"]
        except (ValueError, KeyError, TypeError):
            functions = 0
        if not functions:
            print("lambdashield scan found no function: the engine does not load Terraform yet")
            scanned = None
    for label in ("load_terraform (fresh process)", "lambdashield scan"):
        ours = by_label.get(label)
        if ours is None or not ours.values or anchor is None or not anchor.values:
            continue
        if label == "lambdashield scan" and scanned is None:
            continue
        ratio = anchor.median / ours.median
        print(f"ratio checkov / {label}: {ratio:.1f}x (budget >= {BUDGET_RATIO:.0f}x)")
        verdict_ratio = ratio
    if any(c.failure for c in commands):
        return 1
    if args.check_budget and verdict_ratio is not None and verdict_ratio < BUDGET_RATIO:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
