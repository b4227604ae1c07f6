"""The handler code analysis on small sources: exactly which (rule, line) pairs fire.

Each case is a handler module and the `(rule id, line)` set every code and logging rule
yields on it together; near misses sit beside the hits they resemble, so a sanitiser
that stops working or a sink that stops firing both fail.
"""

from __future__ import annotations

import textwrap
from pathlib import PurePosixPath

import pytest

from lambdashield.checks import code, sensitive_logging
from lambdashield.checks._code import HandlerView
from lambdashield.loaders.handlers import ParsedSource, parse_python
from lambdashield.model import SourceFile

RULES = (*code.RULES, *sensitive_logging.RULES)
PATH = PurePosixPath("src/app.py")


def view_of(source: str, handlers: tuple[str, ...] = ("handler",)) -> HandlerView:
    text = textwrap.dedent(source).lstrip("\n")
    tree = parse_python(text, PATH)
    assert not isinstance(tree, Exception), tree
    return HandlerView(ParsedSource(SourceFile(PATH, "python", (), handlers), text, tree, ()))


def fired(source: str, handlers: tuple[str, ...] = ("handler",)) -> set[tuple[str, int]]:
    view = view_of(source, handlers)
    found = set()
    for rule in RULES:
        for hit in rule(view):
            line = view.locate(hit.pointer).lines(hit.pointer)[0]
            assert line is not None, (rule.meta.id, hit.pointer)
            found.add((rule.meta.id, line))
    return found


ENTRIES = {
    "validation by model, schema, guard or validating router": (
        "by_model",
        "by_constructor",
        "by_schema",
        "by_compiled",
        "by_guard",
        "by_router",
        "unchecked",
        "unused",
    ),
}
"""Entry points of the cases that have more than `handler`."""

CASES: dict[str, tuple[str, set[tuple[str, int]]]] = {
    "argument list without a shell is safe, an event program is not": (
        """
        import subprocess
        def handler(event, context):
            name = event["name"]
            subprocess.run(["convert", name, "out.png"], check=True)
            subprocess.run([event["program"], "-x"])
        """,
        {("LS-CODE-001", 5), ("LS-CODE-006", 2)},
    ),
    "imports under other names": (
        """
        import subprocess as sp
        from os import system as sh
        def handler(event, context):
            sp.check_output(event["cmd"], shell=True)
            sh(event["cmd"])
        """,
        {("LS-CODE-001", 4), ("LS-CODE-001", 5), ("LS-CODE-006", 3)},
    ),
    "allow-list with early return": (
        """
        import os
        ALLOWED = {"ls", "pwd"}
        def handler(event, context):
            cmd = event["cmd"]
            if cmd not in ALLOWED:
                return {"statusCode": 400}
            os.system(cmd)
        """,
        set(),
    ),
    "allow-list protects only its branch": (
        """
        import os
        def handler(event, context):
            cmd = event["cmd"]
            if cmd in ("ls", "pwd"):
                os.system(cmd)
            os.system(cmd)
        """,
        {("LS-CODE-001", 6)},
    ),
    "a test on one field does not vouch for another": (
        """
        import os
        def handler(event, context):
            if event["action"] == "start":
                os.system(event["cmd"])
            mode = event["mode"]
            if mode == "fast":
                os.system(mode)
        """,
        {("LS-CODE-001", 4)},
    ),
    "sanitisers by sink": (
        """
        import os, shlex
        def handler(event, context):
            v = shlex.quote(event["v"])
            os.system("ls " + v)
            n = int(event["n"])
            os.system(f"seq {n}")
            w = event["w"]
            if w.isdigit():
                os.system("seq " + w)
            os.popen("seq " + w)
            open("/tmp/" + v)
        """,
        {("LS-CODE-001", 10), ("LS-CODE-004", 11)},
    ),
    "regular expressions and type checks": (
        """
        import os, re
        ID = re.compile(r"[a-z0-9-]+")
        def handler(event, context):
            a = event["a"]
            if re.fullmatch(r"[A-Za-z0-9_-]{1,64}", a):
                os.system("echo " + a)
            b = event["b"]
            if ID.fullmatch(b):
                os.system("echo " + b)
            c = event["c"]
            if re.match(r"^[a-z]+$", c):
                os.system("echo " + c)
            d = event["d"]
            if isinstance(d, int):
                os.system(f"seq {d}")
            e = event["e"]
            if re.fullmatch(r".+", e):
                os.system("echo " + e)
        """,
        {("LS-CODE-001", 12), ("LS-CODE-001", 18)},
    ),
    "secrets from parameters, decrypted or not": (
        """
        import boto3
        from aws_lambda_powertools.utilities import parameters
        ssm = boto3.client("ssm")
        kms = boto3.client("kms")
        def handler(event, context):
            print(parameters.get_secret("orders/db"))
            print(parameters.get_parameter("/orders/table"))
            print(parameters.get_parameter("/orders/key", decrypt=True))
            print(ssm.get_parameter(Name="/orders/table"))
            print(kms.decrypt(CiphertextBlob=b"...")["Plaintext"])
        """,
        {("LS-LOG-002", 6), ("LS-LOG-002", 8), ("LS-LOG-002", 10)},
    ),
    "SQL: parameters are safe, formatting is not": (
        """
        import psycopg2
        conn = psycopg2.connect()
        def handler(event, context):
            cur = conn.cursor()
            oid = event["pathParameters"]["id"]
            cur.execute("SELECT * FROM orders WHERE id = %s", (oid,))
            cur.execute(f"SELECT * FROM orders WHERE id = '{oid}'")
            q = "SELECT * FROM t WHERE x = '" + oid + "'"
            cur.execute(q)
            cur.execute("SELECT * FROM t WHERE x = '%s'" % oid)
            cur.execute("SELECT * FROM t WHERE x = '{}'".format(oid))
        """,
        {
            ("LS-CODE-003", 7),
            ("LS-CODE-003", 9),
            ("LS-CODE-003", 10),
            ("LS-CODE-003", 11),
            ("LS-CODE-006", 3),
        },
    ),
    "paths: basename and resolved containment are safe": (
        """
        import os
        from pathlib import Path
        BASE = "/tmp/uploads"
        def handler(event, context):
            key = event["Records"][0]["s3"]["object"]["key"]
            open(os.path.join("/tmp", key), "w")
            open(os.path.join("/tmp", os.path.basename(key)), "w")
            full = os.path.realpath(os.path.join(BASE, key))
            if not full.startswith(BASE + "/"):
                raise ValueError("outside")
            open(full).read()
            p = os.path.join(BASE, key)
            if p.startswith(BASE):
                open(p)
            Path("/tmp", key).read_text()
            s3.download_file("bucket", key, f"/tmp/{key}")
        """,
        {("LS-CODE-004", 6), ("LS-CODE-004", 14), ("LS-CODE-004", 15), ("LS-CODE-004", 16)},
    ),
    "SSRF only where the host is not fixed": (
        """
        import requests, os, urllib.request
        API = os.environ["API_URL"]
        HOST = os.environ["HOST"]
        def handler(event, context):
            url = event["queryStringParameters"]["url"]
            requests.get(url)
            requests.get(f"https://api.example.com/items/{url}")
            requests.get(f"{API}/items/{url}")
            requests.get(f"https://{HOST}/items/{url}")
            requests.get("https://api.example.com" + url)
            requests.post(API, json={"u": url})
            urllib.request.urlopen(url)
            s = requests.Session()
            s.get(url)
            if url.startswith("https://api.example.com/"):
                requests.get(url)
        """,
        {
            ("LS-CODE-005", 6),
            ("LS-CODE-005", 10),
            ("LS-CODE-005", 12),
            ("LS-CODE-005", 14),
        },
    ),
    "code evaluation and deserialisation": (
        """
        import pickle, base64, yaml
        def handler(event, context):
            body = event["body"]
            eval(body)
            pickle.loads(base64.b64decode(body))
            yaml.load(body, Loader=yaml.SafeLoader)
            yaml.safe_load(body)
            yaml.load(body, Loader=yaml.Loader)
            yaml.load(body)
        """,
        {
            ("LS-CODE-002", 4),
            ("LS-CODE-002", 5),
            ("LS-CODE-002", 8),
            ("LS-CODE-002", 9),
            ("LS-CODE-006", 2),
        },
    ),
    "through local functions and back": (
        """
        import os
        def get_name(evt):
            return evt["queryStringParameters"]["name"]
        def build(n):
            return "echo " + n
        def handler(event, context):
            cmd = build(get_name(event))
            os.system(cmd)
            os.system(build("fixed"))
        """,
        {("LS-CODE-001", 8), ("LS-CODE-006", 6)},
    ),
    "unpacking, comprehensions and f-strings": (
        """
        import os, json
        def handler(event, context):
            body = json.loads(event["body"])
            a, b = body["a"], "safe"
            os.system(b)
            os.system(a)
            names = [r["name"] for r in body["items"]]
            os.system(" ".join(names))
            for n in names:
                os.system(f"touch {n}")
            x, *rest = event["args"]
            os.system(x)
        """,
        {
            ("LS-CODE-001", 6),
            ("LS-CODE-001", 8),
            ("LS-CODE-001", 10),
            ("LS-CODE-001", 12),
            ("LS-CODE-006", 2),
        },
    ),
    "walrus, match and loops": (
        """
        import os
        def handler(event, context):
            if (c := event.get("cmd")):
                os.system(c)
            match event["action"]:
                case "a":
                    os.system("ls")
                case other:
                    os.system(other)
            v = event["v"]
            for i in range(3):
                os.system(v)
                v = "safe"
        """,
        {("LS-CODE-001", 4), ("LS-CODE-001", 9), ("LS-CODE-001", 12), ("LS-CODE-006", 2)},
    ),
    "fields set in __init__ are known to the methods": (
        """
        import logging, os, subprocess
        logger = logging.getLogger()
        class Client:
            def __init__(self, tool):
                self.tool = tool
                self.partner = os.environ["PARTNER_API_TOKEN"]
                self.table = os.environ["TABLE_NAME"]
            def run(self, name):
                logger.info("table %s, token of %d", self.table, len(self.partner))
                logger.info("calling with %s", self.partner)
                subprocess.run(f"{self.tool} {name}", shell=True)
        def handler(event, context):
            Client("convert").run("in.png")
            Client(event["tool"]).run("in.png")
        """,
        {("LS-LOG-002", 10), ("LS-CODE-001", 11), ("LS-CODE-006", 12)},
    ),
    "closures, recursion and methods": (
        """
        import os
        class Runner:
            def run(self, c):
                os.system(c)
        def again(x, n):
            if n:
                return again(x, n - 1)
            os.popen(x)
        def handler(event, context):
            cmd = event["cmd"]
            def inner():
                os.system("sh -c " + cmd)
            inner()
            Runner().run(cmd)
            again(cmd, 3)
        """,
        {
            ("LS-CODE-001", 4),
            ("LS-CODE-001", 8),
            ("LS-CODE-001", 12),
            ("LS-CODE-006", 9),
        },
    ),
    "Powertools routes and the router's event": (
        """
        import os, requests
        from aws_lambda_powertools.event_handler import APIGatewayRestResolver
        app = APIGatewayRestResolver()
        @app.get("/orders/<order_id>")
        def get_order(order_id: str):
            os.system("cat " + order_id)
            body = app.current_event.json_body
            requests.get(body["url"])
            return {"id": order_id}
        def handler(event, context):
            return app.resolve(event, context)
        """,
        {("LS-CODE-001", 6), ("LS-CODE-005", 8), ("LS-CODE-006", 10)},
    ),
    "validation by model, schema, guard or validating router": (
        """
        import json, jsonschema, fastjsonschema
        from pydantic import BaseModel
        from lambdashield.runtime import guard
        from aws_lambda_powertools.event_handler import APIGatewayRestResolver
        class Order(BaseModel):
            id: str
        check = fastjsonschema.compile({})
        app = APIGatewayRestResolver(enable_validation=True)
        def by_model(event, context):
            return Order.model_validate_json(event["body"])
        def by_constructor(event, context):
            return Order(**json.loads(event["body"]))
        def by_schema(event, context):
            jsonschema.validate(instance=json.loads(event["body"]), schema={})
        def by_compiled(event, context):
            return check(json.loads(event["body"]))
        @guard()
        def by_guard(request, context):
            return request.body
        def by_router(event, context):
            return app.resolve(event, context)
        def unchecked(event, context):
            return {"statusCode": 200, "body": json.dumps(event.get("x"))}
        def unused(event, context):
            return {"statusCode": 204}
        """,
        {("LS-CODE-006", 22)},
    ),
    "verbose errors": (
        """
        import json, traceback
        from pydantic import ValidationError
        def error(code, message):
            return {"statusCode": code, "body": json.dumps({"error": message})}
        def handler(event, context):
            try:
                pass
            except ValueError as e:
                return error(400, str(e))
            except ValidationError as e:
                return error(400, str(e))
            except KeyError as e:
                return error(400, type(e).__name__)
            except Exception:
                return {"statusCode": 500, "body": traceback.format_exc()}
        """,
        {("LS-CODE-007", 9), ("LS-CODE-007", 11), ("LS-CODE-007", 15)},
    ),
    "logging the event, headers, context, secrets and personal data": (
        """
        import json, logging, os, boto3
        from aws_lambda_powertools import Logger
        logger = Logger()
        log = logging.getLogger(__name__)
        sm = boto3.client("secretsmanager")
        @logger.inject_lambda_context(log_event=True)
        def handler(event, context):
            logger.info(json.dumps(event))
            log.debug("headers %s", event["headers"])
            log.info("auth %s", event["headers"]["Authorization"])
            print(context)
            print(context.aws_request_id)
            secret = sm.get_secret_value(SecretId="x")["SecretString"]
            print(f"secret is {secret}")
            print(os.environ)
            print(os.environ.get("TABLE_NAME"))
            print(os.getenv("STRIPE_API_KEY"))
            body = json.loads(event["body"])
            logger.info("user", extra={"email": body["email"]})
            print(body["order_id"])
            print(len(secret), hashlib.sha256(body["email"].encode()).hexdigest())
        """,
        {
            ("LS-CODE-006", 7),
            ("LS-LOG-001", 6),
            ("LS-LOG-001", 8),
            ("LS-LOG-001", 9),
            ("LS-LOG-001", 11),
            ("LS-LOG-002", 10),
            ("LS-LOG-002", 14),
            ("LS-LOG-002", 15),
            ("LS-LOG-002", 17),
            ("LS-LOG-003", 19),
        },
    ),
    "hard-coded credentials": (
        """
        import os, psycopg2
        PASSWORD = "Tr0ub4dor&3horse"
        AWS_KEY = "AKIAIOSFODNN7EXAMPLE"
        TOKEN_TTL = "3600"
        SECRET_NAME = "prod/db"
        DB = "postgres://app:s3cretpw@db:5432/orders"
        TEST_PASSWORD = "test-password"
        def handler(event, context):
            conn = psycopg2.connect(host="db", password="hunter2-prod-1")
            if event.get("token") == "letmein-please-123":
                return 1
            api_key = os.environ["API_KEY"]
            placeholder = "changeme"
        """,
        {
            ("LS-SEC-003", 2),
            ("LS-SEC-003", 3),
            ("LS-SEC-003", 6),
            ("LS-SEC-003", 9),
            ("LS-SEC-003", 10),
            ("LS-CODE-006", 8),
        },
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_case(name: str) -> None:
    source, expected = CASES[name]
    assert fired(source, ENTRIES.get(name, ("handler",))) == expected
