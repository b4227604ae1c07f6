"""Handler code analysis speed: 2,000 generated handlers, lambdashield vs. bandit.

Generates (deterministically, ``--seed``) a project of ``--files`` handlers, half Python and
half JavaScript, about 25 lines each (50,000 lines for 2,000 files), and a SAM template
naming every one as a function (``CodeUri: py/`` or ``js/``). The Python handlers are built
from a dozen shapes Lambda code takes (API handlers with SQL, S3 processors writing to
``/tmp``, webhooks, loggers, validated and unvalidated events, helpers that build commands),
with names, keys and sanitisers varied at random, so both the sinks and the near misses are
there.

Measures, each the best of ``--repeat`` fresh processes (median beside it):

- lambdashield, in-process timings of one run: importing the loader and the rules, loading
  the template (reported apart: not code analysis), locating, reading and parsing the 2,000
  handlers (``load_handlers``), and lowering, analysing and running every ``LS-CODE``,
  ``LS-LOG`` and ``LS-SEC-003`` rule over both halves, Python and JavaScript. **Budget:
  locate + analyse under 3 s.**
- the process wall-clock of that run, and of ``bandit -r py/ -f json`` (bandit from PyPI,
  pinned, in ``bench/.venvs/bandit``) on the Python half only (bandit reads no JavaScript),
  in the same invocation,
  interleaved; the ratio is bandit / lambdashield. Bandit reads every file for every one of
  its plugins and knows nothing of events, so the two find different things: counts are
  printed for sanity only.

lambdashield runs from this repository's ``src`` (``--lambdashield-python`` picks the
interpreter, by default the one running this script), like ``bench/deps.py``.

    .venv/bin/python bench/code.py
    .venv/bin/python bench/code.py --repeat 5 --json bench/results/code.json
    .venv/bin/python bench/code.py --no-bandit --keep /tmp/handlers

Exit status: 0 measured (and within budget with ``--check-budget``); 1 bandit could not be
installed or a harness failed, or the budget was missed with ``--check-budget``.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from _venvs import REPO_ROOT, Anchor, Samples, SetupError, clean_env, ensure_anchor, machine_summary

BANDIT = Anchor("bandit", "1.9.4")
BUDGET_S = 3.0

HARNESS = r"""
import gc, json, os, sys, time
start = time.perf_counter()
sys.path.insert(0, sys.argv[1])
from pathlib import Path, PurePosixPath
from lambdashield.checks import code, sensitive_logging
from lambdashield.checks._code import HandlerView
from lambdashield.loaders.cloudformation import load_template
from lambdashield.loaders.handlers import load_handlers
imported = time.perf_counter()
gc.set_threshold(50_000, 10, 10)  # as engine.scan does
os.chdir(sys.argv[2])
application, problems = load_template(
    Path("template.yaml"), PurePosixPath("template.yaml"), max_bytes=10**8
)
templated = time.perf_counter()
loaded = load_handlers([application], [], root=Path("."))
located = time.perf_counter()
counts = {}
rules = (*code.RULES, *sensitive_logging.RULES)
for source in loaded.sources:
    view = HandlerView(source)
    for rule in rules:
        for hit in rule(view):
            counts[rule.meta.id] = counts.get(rule.meta.id, 0) + 1
analysed = time.perf_counter()
print(json.dumps({
    "import": imported - start,
    "template": templated - imported,
    "locate": located - templated,
    "analyse": analysed - located,
    "sources": len(loaded.sources),
    "skipped": len(loaded.skipped),
    "errors": len(loaded.errors),
    "findings": dict(sorted(counts.items())),
}))
"""


# --- the generated project -------------------------------------------------------------

_PY_SHAPES: list[str] = [
    '''"""Order lookup by id: {note}."""

import json
import os

import psycopg2

CONN = psycopg2.connect(os.environ["DB_DSN"])


def handler(event, context):
    {id} = event["pathParameters"]["{key}"]
    cursor = CONN.cursor()
    {query}
    rows = cursor.fetchall()
    if not rows:
        return {{"statusCode": 404, "body": json.dumps({{"error": "not found"}})}}
    return {{"statusCode": 200, "body": json.dumps(rows[0], default=str)}}
''',
    '''"""Receipt processor for uploads: {note}."""

import os

import boto3

s3 = boto3.client("s3")
TABLE = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


def handler(event, context):
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        {id} = record["s3"]["object"]["key"]
        local = os.path.join("/tmp", {path})
        s3.download_file(bucket, {id}, local)
        with open(local, "rb") as handle:
            size = len(handle.read())
        TABLE.put_item(Item={{"key": {id}, "size": size}})
    return {{"processed": len(event["Records"])}}
''',
    '''"""Webhook relay: {note}."""

import json

import requests

BASE_URL = "https://partner.example.com/api/"


def deliver(url, payload):
    response = requests.post(url, json=payload, timeout=5)
    return response.status_code


def handler(event, context):
    body = json.loads(event["body"])
    {id} = body["{key}"]
    status = deliver({url}, {{"order": body.get("order_id")}})
    return {{"statusCode": 202, "body": json.dumps({{"status": status}})}}
''',
    '''"""Thumbnail builder: {note}."""

import shlex
import subprocess


def build_command(name, width):
    return {command}


def handler(event, context):
    params = event.get("queryStringParameters") or {{}}
    {id} = params.get("{key}", "default.png")
    width = int(params.get("width", "128"))
    result = subprocess.run({call}, capture_output=True, check=False)
    return {{"statusCode": 200 if result.returncode == 0 else 500}}
''',
    '''"""Customer sign-up: {note}."""

import json
import logging
import os

logger = logging.getLogger()
logger.setLevel(os.environ.get("LOG_LEVEL", "INFO"))


def handler(event, context):
    {log_event}
    customer = json.loads(event["body"])
    {id} = customer.get("{key}")
    logger.info("sign-up for %s", {logged})
    logger.info("request %s", context.aws_request_id)
    return {{"statusCode": 201, "body": json.dumps({{"ok": True}})}}
''',
    '''"""Order creation with validation: {note}."""

import json

from pydantic import BaseModel, ValidationError


class Order(BaseModel):
    item: str
    quantity: int


def handler(event, context):
    try:
        order = Order.model_validate_json(event["body"])
    except ValidationError as {id}:
        return {{"statusCode": 400, "body": {error}}}
    return {{"statusCode": 201, "body": json.dumps({{"item": order.item}})}}
''',
    '''"""Payments: {note}."""

import json
import os

import boto3

secrets = boto3.client("secretsmanager")
API_KEY = os.environ["{secret_env}"]
{literal}


def handler(event, context):
    {id} = secrets.get_secret_value(SecretId=os.environ["SECRET_ARN"])["SecretString"]
    {secret_log}
    amount = int(json.loads(event["body"])["amount"])
    return {{"statusCode": 200, "body": json.dumps({{"charged": amount}})}}
''',
    '''"""Report runner: {note}."""

import json
import os

ALLOWED = {{"daily", "weekly", "monthly"}}


def handler(event, context):
    {id} = event["queryStringParameters"]["{key}"]
    if {id} not in ALLOWED:
        return {{"statusCode": 400}}
    os.system("report --period " + {id})
    {eval_line}
    return {{"statusCode": 200, "body": json.dumps({{"period": {id}}})}}
''',
]


_PY_HELPERS = '''

def _response(status, body=None, headers=None):
    """An API Gateway proxy response with JSON body and default headers."""
    merged = {{"Content-Type": "application/json"}}
    merged.update(headers or {{}})
    return {{"statusCode": status, "headers": merged, "body": json.dumps(body or {{}})}}
'''


def _py_handler(rng: random.Random, index: int) -> str:
    shape = index % len(_PY_SHAPES)
    name = rng.choice(["order_id", "key", "item", "value", "ref", "token_id", "name"])
    safe = rng.random() < 0.5
    fields = {
        "note": f"generated handler {index}, {'safe' if safe else 'unsafe'} variant",
        "id": name,
        "key": rng.choice(["id", "orderId", "name", "file", "period", "callback"]),
        "query": (
            f'cursor.execute("SELECT * FROM orders WHERE id = %s", ({name},))'  # noqa: S608 - generated handler text
            if safe
            else f"cursor.execute(f\"SELECT * FROM orders WHERE id = '{{{name}}}'\")"  # noqa: S608 - generated handler text
        ),
        "path": f"os.path.basename({name})" if safe else name,
        "url": f"BASE_URL + 'hooks/' + {name}" if safe else name,
        "command": (
            '["convert", name, "-resize", str(width), "/tmp/out.png"]'
            if safe
            else 'f"convert {name} -resize {width} /tmp/out.png"'
        ),
        "call": (
            f"build_command({name}, width)" if safe else f"build_command({name}, width), shell=True"
        ),
        "log_event": "" if safe else "print(json.dumps(event))",
        "logged": "context.aws_request_id" if safe else f'customer["email"], {name}',
        "error": '"invalid order"' if safe else f"str({name})",
        "secret_env": rng.choice(["STRIPE_API_KEY", "PAYMENT_TOKEN", "SERVICE_PASSWORD"]),
        "literal": (
            'REGION = "us-east-1"' if safe else 'WEBHOOK_SECRET = "whsec-Kd81mZq0PlX4nVb7TcR2"'
        ),
        "secret_log": ('print("secret loaded")' if safe else f'print("secret:", {name}, API_KEY)'),
        "eval_line": "pass" if safe else "eval(event['body'])",
    }
    text = _PY_SHAPES[shape].format(**fields) + _PY_HELPERS.format()
    return text if "import json" in text else "import json\n" + text


_JS_HANDLER = """// Generated Node.js handler {index}.
const {{ DynamoDBClient, GetItemCommand }} = require("@aws-sdk/client-dynamodb");
const {{ exec }} = require("child_process");

const client = new DynamoDBClient({{}});

function respond(statusCode, body) {{
  return {{ statusCode, body: JSON.stringify(body) }};
}}

exports.handler = async (event) => {{
  const body = JSON.parse(event.body || "{{}}");
  const {key} = body.{key} || "default";
  const result = await client.send(
    new GetItemCommand({{ TableName: process.env.TABLE_NAME, Key: {{ id: {{ S: {key} }} }} }})
  );
  if (!result.Item) {{
    return respond(404, {{ error: "not found" }});
  }}
  if (body.convert) {{
    exec("convert " + {key} + " /tmp/out.png", () => {{}});
  }}
  console.log("served", {key});
  return respond(200, result.Item);
}};
"""


def generate(folder: Path, files: int, seed: int) -> tuple[int, int]:
    """Write the project; returns (Python lines, JavaScript lines)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    half = files // 2
    (folder / "py").mkdir(parents=True, exist_ok=True)
    (folder / "js").mkdir(parents=True, exist_ok=True)
    template = [
        'AWSTemplateFormatVersion: "2010-09-09"',
        "Transform: AWS::Serverless-2016-10-31",
        "Resources:",
    ]
    py_lines = js_lines = 0
    for index in range(half):
        text = _py_handler(rng, index)
        (folder / "py" / f"handler_{index:04d}.py").write_text(text, encoding="utf-8")
        py_lines += text.count("\n")
        template += _function(f"Py{index:04d}", "py/", f"handler_{index:04d}.handler", "python3.12")
    for index in range(files - half):
        key = rng.choice(["orderId", "item", "ref"])
        text = _JS_HANDLER.format(index=index, key=key)
        (folder / "js" / f"handler_{index:04d}.js").write_text(text, encoding="utf-8")
        js_lines += text.count("\n")
        template += _function(f"Js{index:04d}", "js/", f"handler_{index:04d}.handler", "nodejs20.x")
    (folder / "template.yaml").write_text("\n".join(template) + "\n", encoding="utf-8")
    return py_lines, js_lines


def _function(name: str, code: str, handler: str, runtime: str) -> list[str]:
    return [
        f"  {name}:",
        "    Type: AWS::Serverless::Function",
        "    Properties:",
        f"      CodeUri: {code}",
        f"      Handler: {handler}",
        f"      Runtime: {runtime}",
        "      Events:",
        "        Api:",
        "          Type: Api",
        "          Properties:",
        f"            Path: /{name.lower()}",
        "            Method: post",
    ]


# --- measuring -------------------------------------------------------------------------


@dataclass
class Runs(Samples):
    values: list[float] = field(default_factory=list)


def run_lambdashield(python: str, folder: Path) -> tuple[float, dict[str, object]]:
    started = time.perf_counter()
    done = subprocess.run(
        [python, "-I", "-c", HARNESS, str(REPO_ROOT / "src"), str(folder)],
        capture_output=True,
        text=True,
        check=False,
        env=clean_env(),
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"lambdashield harness failed:\n{done.stderr.strip()[-2000:]}")
    figures: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return wall, figures


def run_bandit(bandit: Path, folder: Path) -> tuple[float, int]:
    started = time.perf_counter()
    done = subprocess.run(
        [str(bandit), "-r", str(folder / "py"), "-f", "json", "-q"],
        capture_output=True,
        text=True,
        check=False,
        env=clean_env(),
    )
    wall = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise RuntimeError(f"bandit failed ({done.returncode}):\n{done.stderr.strip()[-2000:]}")
    issues = len(json.loads(done.stdout).get("results", []))
    return wall, issues


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=2000, help="handlers (half Python)")
    parser.add_argument("--repeat", type=int, default=3, help="processes per tool (default 3)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-bandit", action="store_true", help="measure lambdashield only")
    parser.add_argument("--keep", type=Path, help="write the project here and keep it")
    parser.add_argument("--lambdashield-python", default=sys.executable)
    parser.add_argument("--json", type=Path, help="also write every measurement to this file")
    parser.add_argument("--check-budget", action="store_true", help="exit 1 over budget")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    bandit: Path | None = None
    if not args.no_bandit:
        try:
            bandit = ensure_anchor(BANDIT).parent / "bandit"
        except SetupError as exc:
            print(f"bandit not measurable: {exc}\n{exc.detail}", file=sys.stderr)
            return 1
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch) / "project"
        py_lines, js_lines = generate(folder, args.files, args.seed)
        ours, theirs = Runs(), Runs()
        phases: dict[str, Runs] = {}
        figures: dict[str, object] = {}
        issues = 0
        for _ in range(args.repeat):
            wall, figures = run_lambdashield(args.lambdashield_python, folder)
            ours.values.append(wall)
            for phase in ("import", "template", "locate", "analyse"):
                phases.setdefault(phase, Runs()).values.append(float(str(figures[phase])))
            phases.setdefault("code", Runs()).values.append(
                float(str(figures["locate"])) + float(str(figures["analyse"]))
            )
            if bandit is not None:
                wall, issues = run_bandit(bandit, folder)
                theirs.values.append(wall)
    print(f"# {machine_summary()}")
    print(
        f"project: {args.files:,} handlers ({args.files // 2:,} Python, {py_lines:,} lines; "
        f"{args.files - args.files // 2:,} JavaScript handlers, {js_lines:,} lines)"
    )
    print(
        f"lambdashield: {figures['sources']} handlers analysed (Python and JavaScript), "
        f"{figures['skipped']} reported as not analysed, "
        f"{figures['errors']} errors"
    )
    print(f"findings: {figures['findings']}")
    print(f"\n{'figure (s)':<44} {'best':>8} {'median':>8}")
    labels = {
        "import": "import loader + rules",
        "template": "load the template (not code analysis)",
        "locate": "locate, read, parse 2,000 handlers",
        "analyse": "lower, analyse, 11 rules (both halves)",
        "code": f"code analysis total (budget < {BUDGET_S:.0f} s)",
    }
    for phase, label in labels.items():
        runs = phases[phase]
        print(f"{label:<44} {runs.best:>8.3f} {runs.median:>8.3f}")
    print(f"{'lambdashield process, wall':<44} {ours.best:>8.3f} {ours.median:>8.3f}")
    ratio = None
    if bandit is not None:
        label = f"bandit {BANDIT.version} -r py/, wall"
        print(f"{label:<44} {theirs.best:>8.3f} {theirs.median:>8.3f}")
        ratio = theirs.best / ours.best
        print(f"bandit / lambdashield (best wall): {ratio:.1f}x; bandit issues: {issues}")
    lines_per_s = (py_lines + js_lines) / phases["code"].best
    print(f"code analysis: {lines_per_s:,.0f} lines/s over the whole project")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        record = {
            "machine": machine_summary(),
            "files": args.files,
            "python_lines": py_lines,
            "javascript_lines": js_lines,
            "phases": {k: v.values for k, v in phases.items()},
            "lambdashield_wall": ours.values,
            "bandit_wall": theirs.values,
            "bandit_version": BANDIT.version,
            "findings": figures["findings"],
            "bandit_issues": issues,
        }
        args.json.write_text(json.dumps(record, indent=2), encoding="utf-8")
    if args.check_budget and phases["code"].best > BUDGET_S:
        print(f"over budget: {phases['code'].best:.2f} s > {BUDGET_S} s", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
