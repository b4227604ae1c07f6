"""The JavaScript/TypeScript front end and spec: every code and logging rule at its exact
line on small Node.js handlers, the export and import forms handlers are written in, and
bad input (random text, minified and broken files) that must never crash or hang."""

from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path, PurePosixPath

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambdashield.checks import code, sensitive_logging
from lambdashield.checks._code import HandlerView
from lambdashield.checks._code.javascript import lower
from lambdashield.checks._code.javascript_spec import JAVASCRIPT
from lambdashield.checks._code.taint import analyse
from lambdashield.loaders.cloudformation import load_template
from lambdashield.loaders.handlers import ParsedSource, load_handlers, parse_javascript
from lambdashield.model import ScanError, SourceFile

RULES = (*code.RULES, *sensitive_logging.RULES)
JS = PurePosixPath("src/app.js")
TS = PurePosixPath("src/app.ts")


def view_of(
    source: str, path: PurePosixPath = JS, handlers: tuple[str, ...] = ("handler",)
) -> HandlerView:
    text = textwrap.dedent(source).lstrip("\n")
    tree = parse_javascript(text, path)
    assert not isinstance(tree, ScanError), tree
    language = "typescript" if path.suffix == ".ts" else "javascript"
    return HandlerView(ParsedSource(SourceFile(path, language, (), handlers), text, tree, ()))


def fired(
    source: str, path: PurePosixPath = JS, handlers: tuple[str, ...] = ("handler",)
) -> set[tuple[str, int]]:
    view = view_of(source, path, handlers)
    found = set()
    for rule in RULES:
        for hit in rule(view):
            line = view.locate(hit.pointer).lines(hit.pointer)[0]
            assert line is not None, (rule.meta.id, hit.pointer)
            found.add((rule.meta.id, line))
    return found


def injection(
    source: str, path: PurePosixPath = JS, handlers: tuple[str, ...] = ("handler",)
) -> set[tuple[str, int]]:
    """What fired, without the validation rule most of these handlers trip."""
    return {hit for hit in fired(source, path, handlers) if hit[0] != "LS-CODE-006"}


# --- sinks, each at its line -------------------------------------------------------------

CASES: dict[str, tuple[str, set[tuple[str, int]]]] = {
    "exec with a template string": (
        """
        const cp = require("child_process");
        exports.handler = async (event) => {
          const { name } = JSON.parse(event.body);
          cp.exec(`convert ${name} out.png`);
        };
        """,
        {("LS-CODE-001", 4)},
    ),
    "execSync imported by name, concatenated": (
        """
        import { execSync as run } from "node:child_process";
        export const handler = async (event) => {
          run("ls " + event.queryStringParameters.dir);
        };
        """,
        {("LS-CODE-001", 3)},
    ),
    "spawn with shell: true": (
        """
        const { spawn } = require("child_process");
        exports.handler = async (event) => {
          spawn(event.body, { shell: true });
        };
        """,
        {("LS-CODE-001", 3)},
    ),
    "spawn of a fixed program with event arguments: no shell": (
        """
        const { spawn } = require("child_process");
        exports.handler = async (event) => {
          spawn("convert", [event.body]);
        };
        """,
        set(),
    ),
    "parseInt makes a number": (
        """
        const cp = require("child_process");
        exports.handler = async (event) => {
          const width = parseInt(event.queryStringParameters.width, 10);
          cp.exec(`resize ${width}`);
        };
        """,
        set(),
    ),
    "eval, new Function, vm and node-serialize": (
        """
        const vm = require("vm");
        const serialize = require("node-serialize");
        exports.handler = async (event) => {
          const body = JSON.parse(event.body);
          eval(body.code);
          const f = new Function("x", body.code);
          vm.runInNewContext(body.code, {});
          serialize.unserialize(event.body);
          return f;
        };
        """,
        {("LS-CODE-002", 5), ("LS-CODE-002", 6), ("LS-CODE-002", 7), ("LS-CODE-002", 8)},
    ),
    "SQL from a template and by concatenation": (
        """
        const { Client } = require("pg");
        const client = new Client();
        exports.handler = async (event) => {
          const { id } = event.pathParameters;
          await client.query(`SELECT * FROM orders WHERE id = '${id}'`);
          const sql = "DELETE FROM orders WHERE id = " + id;
          await client.query(sql);
        };
        """,
        {("LS-CODE-003", 5), ("LS-CODE-003", 7)},
    ),
    "parameterised SQL": (
        """
        const mysql = require("mysql");
        const connection = mysql.createConnection({});
        exports.handler = async (event) => {
          const { id } = event.pathParameters;
          connection.query("SELECT * FROM orders WHERE id = ?", [id]);
          connection.query({ sql: "SELECT * FROM orders WHERE id = ?", values: [id] });
        };
        """,
        set(),
    ),
    "a file under /tmp named by the caller": (
        """
        const fs = require("fs");
        const path = require("path");
        exports.handler = async (event) => {
          const file = path.join("/tmp", event.queryStringParameters.name);
          fs.readFileSync(file);
          await fs.promises.writeFile(`/tmp/${event.body}`, "x");
        };
        """,
        {("LS-CODE-004", 5), ("LS-CODE-004", 6)},
    ),
    "basename, or resolve and a startsWith test": (
        """
        const fs = require("fs");
        const path = require("path");
        exports.handler = async (event) => {
          const name = event.queryStringParameters.name;
          fs.readFileSync(path.join("/tmp", path.basename(name)));
          const full = path.resolve("/tmp", name);
          if (!full.startsWith("/tmp/")) {
            return { statusCode: 400 };
          }
          fs.createReadStream(full);
        };
        """,
        set(),
    ),
    "fetch, axios and https.get of a caller's URL": (
        """
        import axios from "axios";
        import https from "https";
        export const handler = async (event) => {
          const { url } = JSON.parse(event.body);
          await fetch(url);
          await axios.get(url);
          https.get(url);
        };
        """,
        {("LS-CODE-005", 5), ("LS-CODE-005", 6), ("LS-CODE-005", 7)},
    ),
    "a fixed host, with the path encoded": (
        """
        import axios from "axios";
        export const handler = async (event) => {
          const { id } = JSON.parse(event.body);
          await fetch(`https://api.example.com/orders/${encodeURIComponent(id)}`);
          await axios.get("https://api.example.com/orders/" + id);
        };
        """,
        set(),
    ),
    "the raw event and the context logged": (
        """
        exports.handler = async (event, context) => {
          console.log(event);
          console.log(JSON.stringify(event));
          console.error("ctx", context);
          console.log(event.headers);
          console.log("id", event.pathParameters.id);
        };
        """,
        {("LS-LOG-001", 2), ("LS-LOG-001", 3), ("LS-LOG-001", 4), ("LS-LOG-001", 5)},
    ),
    "a secret from the environment logged": (
        """
        exports.handler = async (event) => {
          console.log("key", process.env.DB_PASSWORD);
          console.log("region", process.env.AWS_REGION);
        };
        """,
        {("LS-LOG-002", 2)},
    ),
    "an exception's stack returned": (
        """
        exports.handler = async (event) => {
          try {
            return { statusCode: 200, body: JSON.parse(event.body).id };
          } catch (err) {
            return { statusCode: 500, body: err.stack };
          }
        };
        """,
        {("LS-CODE-007", 5)},
    ),
    "a local function on the way": (
        """
        const cp = require("child_process");
        function run(command) {
          return cp.execSync(command);
        }
        const build = (name) => `convert ${name}`;
        exports.handler = async (event) => {
          run(build(event.body));
        };
        """,
        {("LS-CODE-001", 3)},
    ),
    "a callback inside the handler": (
        """
        const cp = require("child_process");
        exports.handler = async (event) => {
          const names = JSON.parse(event.body).names;
          names.forEach((name) => {
            cp.exec("rm " + name);
          });
        };
        """,
        {("LS-CODE-001", 5)},
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_case(name: str) -> None:
    source, expected = CASES[name]
    assert injection(source) == expected


# --- entry points --------------------------------------------------------------------------

ENTRIES = {
    "exports.handler = async (event) => ...": "exports.handler = async (event) => {\n",
    "exports.handler = function": "exports.handler = async function (event) {\n",
    "module.exports.handler": "module.exports.handler = async (event) => {\n",
    "export const": "export const handler = async (event) => {\n",
    "export async function": "export async function handler(event) {\n",
    "a plain function": "async function handler(event) {\n",
}


@pytest.mark.parametrize("form", sorted(ENTRIES))
def test_entry_point_forms(form: str) -> None:
    source = (
        'const cp = require("child_process");\n'
        + ENTRIES[form]
        + "  cp.exec(event.body);\n"
        + ("}\n" if "function" in ENTRIES[form] and "=" not in ENTRIES[form] else "};\n")
    )
    assert injection(source) == {("LS-CODE-001", 3)}


def test_module_exports_object_and_destructured_parameter() -> None:
    source = """
    const cp = require("child_process");
    const main = async ({ body }, context) => {
      cp.exec(body);
    };
    module.exports = { handler: main };
    """
    assert injection(source) == {("LS-CODE-001", 3)}


DEFAULT_EXPORTS = {
    "export default async function handler": (
        "export default async function handler(event) {\n  cp.exec(event.body);\n}\n"
    ),
    "export default async function, anonymous": (
        "export default async function (event) {\n  cp.exec(event.body);\n}\n"
    ),
    "export default async arrow": "export default async (event) => {\n  cp.exec(event.body);\n};\n",
    "export default of a name": (
        "async function main(event) {\n  cp.exec(event.body);\n}\nexport default main;\n"
    ),
    "export { main as default }": (
        "const main = async (event) => {\n  cp.exec(event.body);\n};\nexport { main as default };\n"
    ),
}


@pytest.mark.parametrize("form", sorted(DEFAULT_EXPORTS))
def test_default_exports_are_the_entry_point_named_default(form: str) -> None:
    """Lambda looks the handler up by name among the exports, so a default export is the
    entry point of `Handler: app.default` (and only of it: `app.handler` fails with
    `Runtime.HandlerNotFound`)."""
    source = 'const cp = require("child_process");\n' + DEFAULT_EXPORTS[form]
    assert injection(source, handlers=("default",)) == {("LS-CODE-001", 3)}
    view = view_of(source, handlers=("default",))
    assert [entry.name for entry in view.analysis.entries] == ["default"]
    assert view.analysis.missing == ()


def test_a_default_export_is_not_the_handler_the_template_names() -> None:
    source = """
    const cp = require("child_process");
    export const handler = async (event) => ({ statusCode: 200, body: event.body });
    export default async (event) => {
      cp.exec(event.body);
    };
    """
    assert injection(source) == set()
    assert injection(source, handlers=("default",)) == {("LS-CODE-001", 4)}


def test_a_typescript_default_export() -> None:
    source = """
    import { exec } from "child_process";
    import type { APIGatewayProxyEvent } from "aws-lambda";
    export default async function handler(event: APIGatewayProxyEvent): Promise<void> {
      exec(`echo ${event.body!}`);
    }
    """
    assert fired(source, TS, ("default",)) == {("LS-CODE-001", 4), ("LS-CODE-006", 3)}


def test_typescript_types_are_skipped() -> None:
    source = """
    import { exec } from "child_process";
    import type { APIGatewayProxyEvent } from "aws-lambda";
    interface Order { id: string }
    export const handler = async (event: APIGatewayProxyEvent): Promise<void> => {
      const order = JSON.parse(event.body!) as Order;
      exec(`echo ${order.id}`);
    };
    """
    assert injection(source, TS) == {("LS-CODE-001", 6)}


# --- validation (LS-CODE-006) --------------------------------------------------------------

VALIDATED = {
    "ajv compile": """
        const Ajv = require("ajv");
        const validate = new Ajv().compile({ type: "object" });
        exports.handler = async (event) => {
          if (!validate(event)) return { statusCode: 400 };
          return { statusCode: 200, body: event.body };
        };
        """,
    "ajv validate": """
        import Ajv from "ajv";
        const ajv = new Ajv();
        export const handler = async (event) => {
          if (!ajv.validate({ type: "object" }, event)) return { statusCode: 400 };
          return { statusCode: 200, body: event.body };
        };
        """,
    "joi": """
        const Joi = require("joi");
        const schema = Joi.object({ id: Joi.string() });
        exports.handler = async (event) => {
          const { value } = schema.validate(JSON.parse(event.body));
          return { statusCode: 200, body: value.id };
        };
        """,
    "zod": """
        import { z } from "zod";
        const Order = z.object({ id: z.string() });
        export const handler = async (event) => {
          const order = Order.parse(JSON.parse(event.body));
          return { statusCode: 200, body: order.id };
        };
        """,
}


@pytest.mark.parametrize("name", sorted(VALIDATED))
def test_validation_is_recognised(name: str) -> None:
    assert not {hit for hit in fired(VALIDATED[name]) if hit[0] == "LS-CODE-006"}


def test_an_unvalidated_event_fires_at_the_entry_point() -> None:
    source = """
    exports.handler = async (event) => {
      return { statusCode: 200, body: event.body };
    };
    """
    assert fired(source) == {("LS-CODE-006", 1)}


# --- bad input ----------------------------------------------------------------------------


TOKENS = [
    "event",
    "exports.handler",
    "=>",
    "x",
    "1",
    "const",
    "function",
    "return",
    "if",
    "try",
    "catch",
    "new",
    "async",
    "require(",
    "${",
    "...",
    "class",
    "import",
    "export",
    "cp.exec(",
    "eval(",
    "extends",
    "super(",
    "static",
    ".call(null,",
    ".apply(this,",
    ".bind(",
]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.sampled_from([*"(){}[];,.=+-*/`'\"$!?:<>&|\n ", *TOKENS]),
        max_size=120,
    ).map("".join)
)
def test_random_text_never_raises(text: str) -> None:
    tree = parse_javascript(text, JS)
    if isinstance(tree, ScanError):
        assert "syntax error" in tree.message or "cannot parse" in tree.message
        return
    module = lower(tree)
    analyse(module, JAVASCRIPT, ("handler",))


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_any_unicode_never_raises(text: str) -> None:
    tree = parse_javascript(text, TS)
    if not isinstance(tree, ScanError):
        analyse(lower(tree), JAVASCRIPT, ("handler",))


def test_deep_nesting_is_summarised_not_a_crash() -> None:
    for text in (
        "exports.handler = (event) => " + "(" * 5000 + "event" + ")" * 5000 + ";",
        "exports.handler = (event) => " + "f(() => { " * 2000 + "g(event)" + "})" * 2000 + ";",
        "exports.handler = (event) => {" + "if (x) {" * 2000 + "g(event)" + "}" * 2000 + "};",
    ):
        tree = parse_javascript(text, JS)
        assert not isinstance(tree, ScanError)
        module = lower(tree)
        assert module.truncated is not None
        analyse(module, JAVASCRIPT, ("handler",))


def test_long_concatenation_does_not_recurse() -> None:
    text = 'const cp = require("child_process");\nexports.handler = (event) => {\n'
    text += "  cp.exec(" + " + ".join(["event.body"] * 5000) + ");\n};\n"
    assert injection(text) == {("LS-CODE-001", 3)}


TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  Minified:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Runtime: nodejs20.x
      Handler: bundle.handler
  Broken:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Runtime: nodejs20.x
      Handler: broken.handler
  Fine:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/
      Runtime: nodejs20.x
      Handler: fine.handler
"""


def test_minified_and_broken_files_are_errors_with_reasons(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    src = tmp_path / "src"
    src.mkdir()
    minified = ";".join(f"var a{i}=function(b){{return b+{i}}}" for i in range(7000))
    minified = "exports.handler=function(e){return e};" + minified
    assert len(minified) > 200_000 and "\n" not in minified
    (src / "bundle.js").write_text(minified, encoding="utf-8")
    (src / "broken.js").write_text(
        "exports.handler = async (event) => {\n  const x = ;\n  if (\n};\n", encoding="utf-8"
    )
    (src / "fine.js").write_text(
        'const cp = require("child_process");\n'
        "exports.handler = async (event) => { cp.exec(event.body); };\n",
        encoding="utf-8",
    )
    (tmp_path / "template.yaml").write_text(TEMPLATE, encoding="utf-8")
    application, problems = load_template(
        Path("template.yaml"), PurePosixPath("template.yaml"), max_bytes=1_000_000
    )
    assert problems == []
    started = time.monotonic()
    loaded = load_handlers([application], root=Path())
    assert time.monotonic() - started < 5
    errors = {e.path.as_posix(): e for e in loaded.errors}
    assert set(errors) == {"src/bundle.js", "src/broken.js"}
    assert "minified" in errors["src/bundle.js"].message
    assert errors["src/broken.js"].message == "JavaScript syntax error; not analysed"
    assert errors["src/broken.js"].line == 2
    # the other file goes on
    (source,) = loaded.sources
    assert source.file.path.as_posix() == "src/fine.js"
    view = HandlerView(source)
    assert [hit.pointer for hit in code.command_injection(view)] == [
        "/handler/child_process.exec/1"
    ]


def test_a_minified_tree_lowers_quickly() -> None:
    """Past the loader's line limit too: the front end itself has no quadratic step."""
    text = ";".join(f"var a{i}=function(b){{return b+{i}}}" for i in range(7000))
    tree = parse_javascript(text, JS)
    assert not isinstance(tree, ScanError)
    started = time.monotonic()
    analyse(lower(tree), JAVASCRIPT, ("handler",))
    assert time.monotonic() - started < 5


def test_messages_name_node_calls_as_written() -> None:
    view = view_of(
        """
        exports.handler = async (event) => {
          console.log(event);
        };
        """
    )
    (hit,) = sensitive_logging.RULES[0](view)
    assert hit.pointer == "/handler/console.log/1"
    assert "`console.log`" in hit.message
    assert json.dumps(hit.pointer)


def test_node_handlers_no_template_names_are_found_by_their_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    files = {
        "lib/worker.js": "exports.handler = async (event) => {\n  eval(event.body);\n};\n",
        "lib/typed.ts": (
            "export async function handler(event: { body: string }) {\n"
            "  return new Function(event.body);\n}\n"
        ),
        "lib/util.js": "module.exports.run = (event) => eval(event.body);\n",
    }
    for name, text in files.items():
        Path(name).parent.mkdir(parents=True, exist_ok=True)
        Path(name).write_text(text, encoding="utf-8")
    candidates = [(Path(name), PurePosixPath(name)) for name in sorted(files)]
    loaded = load_handlers([], candidates, root=Path())
    assert loaded.errors == ()
    found = {(s.file.path.as_posix(), s.file.language, s.file.handlers) for s in loaded.sources}
    assert found == {
        ("lib/worker.js", "javascript", ("handler",)),
        ("lib/typed.ts", "typescript", ("handler",)),
    }
    lines = set()
    for source in loaded.sources:
        view = HandlerView(source)
        for hit in code.code_evaluation(view):
            lines.add((source.file.path.as_posix(), view.locate(hit.pointer).lines(hit.pointer)[0]))
    assert lines == {("lib/worker.js", 2), ("lib/typed.ts", 2)}


def test_middy_handlers_and_export_clauses() -> None:
    source = """
    import middy from "@middy/core";
    import validator from "@middy/validator";
    import { exec } from "child_process";
    const base = async (event) => {
      exec(event.body);
    };
    export const handler = middy(base).use(validator({ eventSchema: {} }));
    """
    assert fired(source) == {("LS-CODE-001", 5)}  # validated, but validation is not escaping
    unvalidated = """
    const main = async (event) => {
      return { statusCode: 200, body: event.body };
    };
    export { main as handler };
    """
    assert fired(unvalidated) == {("LS-CODE-006", 1)}


def test_callback_pointers_do_not_hold_lines() -> None:
    source = """
    const cp = require("child_process");
    exports.handler = async (event) => {
      [event.body].forEach((name) => cp.exec(name));
    };
    """
    view = view_of(source)
    assert [hit.pointer for hit in code.command_injection(view)] == [
        "/handler.<locals>.<anonymous1>/child_process.exec/1"
    ]


def test_switch_break_does_not_end_the_handler() -> None:
    source = """
    import type { Handler } from "aws-lambda";
    export const handler: Handler = async (event) => {
      switch (event.httpMethod) {
        case "GET":
          return { statusCode: 200 };
        default:
          break;
      }
      for (const record of event.Records) {
        await fetch(record.body);
      }
      return { statusCode: 404 };
    };
    """
    assert injection(source, TS) == {("LS-CODE-005", 10)}


def test_a_yes_no_answer_about_personal_data_is_not_personal_data() -> None:
    assert fired(
        """
        exports.handler = async (event) => {
          const customer = JSON.parse(event.body);
          console.log(Boolean(customer.phone_number));
          console.log(customer.phone_number);
        };
        """
    ) == {("LS-CODE-006", 1), ("LS-LOG-003", 4)}


# --- what a value's length tells --------------------------------------------------------------


def test_a_length_carries_no_secret_or_personal_data() -> None:
    """`key.length` is JavaScript's `len(key)`: a number, nothing of the key in it."""
    source = """
    exports.handler = async (event) => {
      const apiKey = process.env.STRIPE_API_KEY;
      const customer = JSON.parse(event.body);
      console.log("key loaded", apiKey.length, apiKey.length > 0, typeof apiKey);
      console.log(Boolean(apiKey), `${customer.email.length} characters`);
      console.log(Buffer.from(apiKey).byteLength);
      console.log("prefix", apiKey.slice(0, 4), apiKey.substring(0, 4));
      console.log(apiKey.toString(), "k" + apiKey, `${apiKey}`);
      console.log(customer.email.trim());
    };
    """
    assert fired(source) == {("LS-CODE-006", 1), ("LS-LOG-002", 7), ("LS-LOG-002", 8)} | {
        ("LS-LOG-003", 9)
    }


def test_a_length_the_caller_sent_is_still_event_data() -> None:
    """A parsed body is any object the caller chose: its `length` may be a string."""
    source = """
    const cp = require("child_process");
    exports.handler = async (event) => {
      const lines = JSON.parse(event.body);
      cp.exec("tail -n " + lines.length + " /tmp/orders.log");
      cp.exec(`tail -n ${event.Records.length} /tmp/orders.log`);
    };
    """
    assert injection(source) == {("LS-CODE-001", 4), ("LS-CODE-001", 5)}


# --- credentials compared with a literal (LS-SEC-003) ------------------------------------------


def test_a_credential_compared_with_a_literal() -> None:
    source = """
    exports.handler = async (event, context) => {
      const apiKey = event.headers["x-api-key"];
      if (apiKey === "c3VwZXItc2VjcmV0LWtleS0xMjM0") return { statusCode: 200 };
      if ("Summer-Sale-2024!" !== JSON.parse(event.body).password) return { statusCode: 403 };
      if (event.headers["x-api-key"] == "YW5vdGhlci1zZWNyZXQta2V5") return { statusCode: 200 };
      if (context.headers.get("x-api-key") != "dGhpcmQtc2VjcmV0LWtleQ") return { statusCode: 401 };
      if (apiKey === process.env.API_KEY) return { statusCode: 200 };
      if (event.headers["content-type"] === "application/x-www-form-urlencoded") return {};
      if (event.tokenType === "Bearer" || apiKey === "" || apiKey < "c3VwZXItc2VjcmV0") return {};
      return { statusCode: 401 };
    };
    """
    found = {hit for hit in fired(source) if hit[0] == "LS-SEC-003"}
    assert found == {("LS-SEC-003", 3), ("LS-SEC-003", 4), ("LS-SEC-003", 5), ("LS-SEC-003", 6)}


def test_a_named_literal_is_reported_once() -> None:
    """The name says more than the format alone: one finding, under the name."""
    view = view_of(
        """
        const STRIPE_API_KEY = "sk_live_4eC39HqLyjWDarjtT1zdp7dcEXAMPLE";
        module.exports.githubToken = "ghp_Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAB7c";
        exports.handler = async (event) => {
          if (event.headers.authorization === "sk_live_4eC39HqLyjWDarjtT1zdp7dcEXAMPL2") {
            return {};
          }
          return { token: "ghp_Zb3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAB7c" };
        };
        """
    )
    pointers = sorted(hit.pointer for hit in code.hard_coded_credentials(view))
    assert pointers == [
        "/<module>/literal/STRIPE_API_KEY/1",
        "/<module>/literal/githubToken/1",
        "/handler/literal/authorization/1",
        "/handler/literal/token/1",
    ]


def test_class_fields_are_read_for_credentials() -> None:
    source = """
    class Payments {
      static STRIPE_API_KEY = "sk_live_4eC39HqLyjWDarjtT1zdp7dcEXAMPLE";
      apiKey = "c3VwZXItc2VjcmV0LWtleS0xMjM0";
      headerName = "x-api-key";
      static create = () => new Payments();
    }
    exports.handler = async () => Payments.create();
    """
    assert fired(source) == {("LS-SEC-003", 2), ("LS-SEC-003", 3)}


# --- SQL: tagged templates and raw SQL ---------------------------------------------------------


SQL_CASES: dict[str, tuple[str, set[tuple[str, int]]]] = {
    "SQL tags parameterise every ${}": (
        """
        import { sql } from "@vercel/postgres";
        import { sql as slonikSql, createPool } from "slonik";
        import { Prisma, PrismaClient } from "@prisma/client";
        const prisma = new PrismaClient();
        const pool = await createPool(process.env.DATABASE_URL);
        export const handler = async (event) => {
          const { id } = JSON.parse(event.body);
          await sql`SELECT * FROM orders WHERE id = ${id}`;
          await pool.query(slonikSql`SELECT * FROM orders WHERE id = ${id}`);
          await prisma.$queryRaw`SELECT * FROM orders WHERE id = ${id}`;
          await prisma.$queryRaw(Prisma.sql`SELECT * FROM orders WHERE id = ${id}`);
        };
        """,
        set(),
    ),
    "other tags and raw escapes are text": (
        """
        import { Prisma, PrismaClient } from "@prisma/client";
        import { sql } from "drizzle-orm";
        import { Client } from "pg";
        const prisma = new PrismaClient();
        const client = new Client();
        export const handler = async (event) => {
          const { id, sort } = JSON.parse(event.body);
          await client.query(String.raw`SELECT * FROM orders WHERE id = ${id}`);
          await prisma.$queryRawUnsafe(`SELECT * FROM orders WHERE id = ${id}`);
          await prisma.$executeRawUnsafe("DELETE FROM orders WHERE id = " + id);
          await prisma.$queryRaw(Prisma.raw(`SELECT * FROM orders ORDER BY ${sort}`));
          await client.query(sql`SELECT * FROM orders ORDER BY ${sql.raw(sort)}`);
        };
        """,
        {("LS-CODE-003", 8), ("LS-CODE-003", 9), ("LS-CODE-003", 10)}
        | {("LS-CODE-003", 11), ("LS-CODE-003", 12)},
    ),
    "a tag of the module's own is followed": (
        """
        const { Client } = require("pg");
        const client = new Client();
        const q = (strings, ...values) => strings.reduce((text, s, i) => text + values[i - 1] + s);
        exports.handler = async (event) => {
          await client.query(q`SELECT * FROM orders WHERE id = ${event.body}`);
        };
        """,
        {("LS-CODE-003", 5)},
    ),
    "knex raw with bindings, and raw text": (
        """
        const knex = require("knex")({ client: "pg" });
        exports.handler = async (event) => {
          const { id, sort } = event.queryStringParameters;
          await knex.raw("SELECT * FROM orders WHERE id = ?", [id]);
          await knex.raw("SELECT * FROM orders WHERE id = :id", { id, sql: sort });
          await knex("orders").orderByRaw("?? DESC", [sort]).havingRaw("count(*) > ?", [id]);
          await knex.raw(`SELECT * FROM orders WHERE id = ${id}`);
          await knex("orders").where("id", id).orderByRaw(sort);
          return String.raw`${id}`;
        };
        """,
        {("LS-CODE-003", 7), ("LS-CODE-003", 8)},
    ),
}


@pytest.mark.parametrize("name", sorted(SQL_CASES))
def test_sql_case(name: str) -> None:
    source, expected = SQL_CASES[name]
    assert injection(source) == expected


# --- instance state: `this` -----------------------------------------------------------------


def test_a_class_handler_bound_with_bind_reads_its_fields() -> None:
    """Powertools' class handler: `export const handler = lambda.handler.bind(lambda)`."""
    source = """
    import axios from "axios";
    import { Logger } from "@aws-lambda-powertools/logger";
    const logger = new Logger();
    class Lambda {
      http = axios.create();
      static instances = 0;
      constructor() {
        this.table = process.env.TABLE_NAME;
        this.partner = process.env.PARTNER_API_TOKEN;
      }
      async handler(event, context) {
        logger.info("reading", { table: this.table, tokenLength: this.partner.length });
        const { url } = JSON.parse(event.body);
        await this.http.get(url);
        return this.notify(url);
      }
      notify = async (url) => {
        logger.info("calling partner", { token: this.partner, url });
      };
    }
    const lambda = new Lambda();
    export const handler = lambda.handler.bind(lambda);
    """
    view = view_of(source)
    assert injection(source) == {("LS-CODE-005", 14), ("LS-LOG-002", 18)}
    (hit,) = sensitive_logging.secret_logged(view)
    assert "process.env.PARTNER_API_TOKEN" in hit.message
    assert [entry.name for entry in view.analysis.entries] == ["handler"]


def test_a_method_called_on_an_instance_knows_this() -> None:
    source = """
    const cp = require("child_process");
    class Converter {
      constructor(tool) {
        this.tool = tool;
        this.out = "/tmp/out.png";
      }
      run(name) {
        cp.execSync(`${this.tool} ${name} ${this.out}`);
        return this.log(name);
      }
      log(name) {
        cp.exec(`logger converted ${name}`);
      }
    }
    exports.handler = async (event) => {
      new Converter("convert").run("input.png");
      return new Converter(event.queryStringParameters.tool).run(event.body);
    };
    """
    assert injection(source) == {("LS-CODE-001", 8), ("LS-CODE-001", 12)}


def test_constructors_that_build_themselves_end() -> None:
    source = """
    class Node {
      constructor(depth) {
        this.child = new Node(depth + 1);
        this.self = this;
        this.run = this.run.bind(this);
      }
      run(event) {
        return this.child.run(event);
      }
    }
    const node = new Node(0);
    exports.handler = node.run.bind(node);
    """
    tree = parse_javascript(textwrap.dedent(source), JS)
    assert not isinstance(tree, ScanError)
    analyse(lower(tree), JAVASCRIPT, ("handler",))


# --- Function.prototype.call / apply / bind ----------------------------------------------------


FORWARDED: dict[str, tuple[str, set[tuple[str, int]]]] = {
    "call, apply and bind reach a local function's parameters": (
        """
        const cp = require("child_process");
        const { Client } = require("pg");
        const db = new Client();
        function handle(body) {
          cp.exec(body);
        }
        function run(q) {
          return db.query(q);
        }
        function query(sql) {
          return db.execute(sql);
        }
        exports.handler = async (event) => {
          handle.call(null, event.body);
          run.apply(this, [event.queryStringParameters.q]);
          const f = query.bind(db);
          f(event.pathParameters.sql);
        };
        """,
        {("LS-CODE-001", 5), ("LS-CODE-003", 8), ("LS-CODE-003", 11)},
    ),
    "call and apply take the arguments after `this`, each at its position": (
        """
        const cp = require("child_process");
        function pick(command, name) {
          cp.exec(command);
          return name;
        }
        exports.handler = async (event) => {
          pick.call(null, "ls /tmp", event.body);
          pick.apply(null, ["ls /tmp", event.body]);
          pick.call(event.body, "ls /tmp");
          Reflect.apply(pick, null, ["ls /tmp", event.body]);
          pick.bind(null)("ls /tmp", event.body);
        };
        """,
        set(),
    ),
    "a sink called through call, apply, Reflect.apply or bind": (
        """
        const cp = require("child_process");
        const child_process = require("child_process");
        const { exec } = require("child_process");
        const { Client } = require("pg");
        const db = new Client();
        exports.handler = async (event) => {
          db.query.call(db, event.body);
          exec.apply(null, [event.queryStringParameters.cmd]);
          child_process.exec.call(cp, event.pathParameters.cmd);
          Reflect.apply(exec, undefined, [event.body]);
          const run = cp.exec.bind(cp);
          run(event.body);
        };
        """,
        {("LS-CODE-003", 7), ("LS-CODE-001", 8), ("LS-CODE-001", 9)}
        | {("LS-CODE-001", 10), ("LS-CODE-001", 12)},
    ),
    "a sink called through call or apply with safe arguments": (
        """
        const { exec, spawn } = require("child_process");
        const { Client } = require("pg");
        const db = new Client();
        exports.handler = async (event) => {
          db.query.call(db, "SELECT * FROM orders WHERE id = $1", [event.body]);
          db.query.apply(db, ["SELECT * FROM orders WHERE id = $1", [event.body]]);
          exec.apply(null, ["ls /tmp"]);
          spawn.apply(null, ["convert", [event.body]]);
          spawn.call(null, "convert", [event.body], { shell: false });
          const run = exec.bind(null);
          run("ls /tmp", { cwd: event.body });
        };
        """,
        set(),
    ),
    "options of a sink called through call or apply": (
        """
        const { spawn } = require("child_process");
        exports.handler = async (event) => {
          spawn.call(null, event.body, [], { shell: true });
          spawn.apply(null, [event.body, [], { shell: true }]);
        };
        """,
        {("LS-CODE-001", 3), ("LS-CODE-001", 4)},
    ),
    "apply with an array built elsewhere: each argument at its position": (
        """
        const { exec } = require("child_process");
        const { Client } = require("pg");
        const db = new Client();
        function second(name, command) {
          exec(command);
        }
        exports.handler = async (event) => {
          const args = ["x", event.body];
          second.apply(null, args);
          const query = [`SELECT * FROM orders WHERE id = ${event.body}`, []];
          db.query.apply(db, query);
          exec.apply(null, JSON.parse(event.body).args);
          second.apply(null, event.multiValueQueryStringParameters.args);
        };
        """,
        {("LS-CODE-001", 5), ("LS-CODE-003", 11), ("LS-CODE-001", 12)},
    ),
    "apply with an array of the code's own, the event in another position": (
        """
        const { exec } = require("child_process");
        const { Client } = require("pg");
        const db = new Client();
        function second(name, command) {
          exec(command);
        }
        exports.handler = async (event) => {
          const args = [event.body, "ls /tmp"];
          second.apply(null, args);
          exec.apply(null, ["ls /tmp", { cwd: event.body }]);
          const query = ["SELECT * FROM orders WHERE id = $1", [event.body]];
          db.query.apply(db, query);
        };
        """,
        set(),
    ),
    "a method taken from a prototype works on the `this` it is given": (
        """
        const cp = require("child_process");
        exports.handler = async (event) => {
          const records = Array.prototype.slice.call(event.Records);
          cp.exec(records[0]);
          const name = String.prototype.trim.call(event.body);
          cp.exec(name);
          const names = [].map.call(event.multiValueHeaders.name, (n) => n.trim());
          cp.exec(names.join(" "));
          if (Object.prototype.hasOwnProperty.call(event, "x")) cp.exec("ls /tmp");
        };
        """,
        {("LS-CODE-001", 4), ("LS-CODE-001", 6), ("LS-CODE-001", 8)},
    ),
    "an object's own `call` method is not Function.prototype.call": (
        """
        const { exec } = require("child_process");
        const rpc = require("./rpc");
        exports.handler = async (event) => {
          const answer = await rpc.call("convert", event.body);
          await exec.call("ls /tmp");
          return answer;
        };
        """,
        set(),
    ),
}


@pytest.mark.parametrize("name", sorted(FORWARDED))
def test_forwarded_calls(name: str) -> None:
    source, expected = FORWARDED[name]
    assert injection(source) == expected


def test_a_method_called_through_call_keeps_its_receiver() -> None:
    source = """
    const cp = require("child_process");
    class Converter {
      constructor(tool) {
        this.tool = tool;
      }
      run(name) {
        cp.execSync(`${this.tool} ${name}`);
      }
    }
    exports.handler = async (event) => {
      const converter = new Converter(event.queryStringParameters.tool);
      converter.run.call(converter, "input.png");
      new Converter("convert").run.apply(null, ["input.png"]);
    };
    """
    assert injection(source) == {("LS-CODE-001", 7)}
    view = view_of(source)
    (hit,) = code.command_injection(view)
    assert hit.pointer == "/Converter.run/child_process.execSync/1"


# --- inherited constructors and methods: `extends` and `super` ---------------------------------


INHERITED: dict[str, tuple[str, set[tuple[str, int]]]] = {
    "super(...) reaches the parent's constructor, inherited methods see its fields": (
        """
        const { Client } = require("pg");
        const db = new Client();
        class Base {
          constructor(sql) {
            this.sql = sql;
          }
          run() {
            return db.query(this.sql);
          }
        }
        class Repo extends Base {
          constructor(e) {
            super(e.body);
          }
        }
        exports.handler = async (event) => new Repo(event).run();
        """,
        {("LS-CODE-003", 8)},
    ),
    "super(...) with the code's own text, event data in another field": (
        """
        const { Client } = require("pg");
        const db = new Client();
        class Base {
          constructor(sql) {
            this.sql = sql;
          }
          run(id) {
            return db.query(this.sql, [id]);
          }
        }
        class Repo extends Base {
          constructor(e) {
            super("SELECT * FROM orders WHERE id = $1");
            this.id = e.body;
          }
          find() {
            return super.run(this.id);
          }
        }
        exports.handler = async (event) => {
          await new Base("SELECT * FROM orders WHERE id = $1").run(event.body);
          return new Repo(event).find();
        };
        """,
        set(),
    ),
    "a subclass without a constructor runs its parent's with its arguments": (
        """
        const cp = require("child_process");
        class Job {
          constructor(name, command) {
            this.command = command;
          }
          start() {
            cp.exec(this.command);
          }
        }
        class Nightly extends Job {}
        class Hourly extends Job {
          schedule = "rate(1 hour)";
        }
        exports.handler = async (event) => {
          new Nightly(event.body, "backup.sh").start();
          new Hourly("hourly", event.queryStringParameters.cmd).start();
        };
        """,
        {("LS-CODE-001", 7)},
    ),
    "a subclass without a constructor, the event in the argument not used": (
        """
        const cp = require("child_process");
        class Job {
          constructor(name, command) {
            this.command = command;
          }
          start() {
            cp.exec(this.command);
          }
        }
        class Nightly extends Job {}
        class Hourly extends Job {
          schedule = "rate(1 hour)";
        }
        exports.handler = async (event) => {
          new Nightly(event.body, "backup.sh").start();
          new Hourly(event.queryStringParameters.name, "hourly.sh").start();
        };
        """,
        set(),
    ),
    "super.method(...) runs the parent's method on the same instance": (
        """
        const cp = require("child_process");
        class Base {
          convert(name) {
            cp.exec(`${this.tool} ${name}`);
          }
        }
        class Thumbnails extends Base {
          constructor(tool) {
            super();
            this.tool = tool;
          }
          convert(name) {
            return super.convert(name.slice(0, 10));
          }
        }
        exports.handler = async (event) => {
          new Thumbnails(event.queryStringParameters.tool).convert("in.png");
        };
        """,
        {("LS-CODE-001", 4)},
    ),
    "a class of another module is not followed": (
        """
        const cp = require("child_process");
        const { Base } = require("./base");
        class Repo extends Base {
          constructor(e) {
            super(e.body);
          }
          start() {
            cp.exec("ls /tmp");
          }
        }
        exports.handler = async (event) => new Repo(event).start();
        """,
        set(),
    ),
}


@pytest.mark.parametrize("name", sorted(INHERITED))
def test_inherited_members(name: str) -> None:
    source, expected = INHERITED[name]
    assert injection(source) == expected


def test_typescript_abstract_base_and_parameter_properties() -> None:
    source = """
    import { Client } from "pg";
    const db = new Client();
    abstract class BaseRepo<T> {
      constructor(protected readonly sql: string, private limit = 10) {}
      abstract map(row: unknown): T;
      async all(): Promise<T[]> {
        const { rows } = await db.query(`${this.sql} LIMIT ${this.limit}`);
        return rows.map((row: unknown) => this.map(row));
      }
    }
    class Orders extends BaseRepo<string> implements Iterable<string> {
      map(row: unknown): string {
        return String(row);
      }
    }
    export const handler = async (event: { body: string }) => {
      await new Orders("SELECT * FROM orders").all();
      return new Orders(`SELECT * FROM orders WHERE id = '${event.body}'`).all();
    };
    """
    assert injection(source, TS) == {("LS-CODE-003", 7)}
    safe = source.replace("`SELECT * FROM orders WHERE id = '${event.body}'`", '"SELECT 1"')
    assert injection(safe, TS) == set()


# --- static members --------------------------------------------------------------------------


def test_static_methods_and_fields_are_members_of_the_class() -> None:
    source = """
    import axios from "axios";
    import { Client } from "pg";
    import { exec } from "child_process";
    const db = new Client();
    class Repo {
      static table = "orders";
      static http = axios.create();
      static settings = process.env.DB_PASSWORD;
      static find(where) {
        return db.query(`SELECT * FROM ${this.table} WHERE ${where}`);
      }
      static run = (command) => exec(command);
    }
    export const handler = async (event) => {
      await Repo.find(event.queryStringParameters.where);
      await Repo.http.get(event.body);
      Repo.run(event.pathParameters.command);
      console.log("connecting", Repo.settings);
    };
    """
    assert injection(source) == {
        ("LS-CODE-003", 10),
        ("LS-CODE-005", 16),
        ("LS-CODE-001", 12),
        ("LS-LOG-002", 18),
    }


def test_static_members_with_the_code_s_own_values() -> None:
    source = """
    import axios from "axios";
    import { Client } from "pg";
    const db = new Client();
    class Repo {
      static table = "orders";
      static api = "https://api.example.com";
      static http = axios.create();
      static find(id) {
        return db.query(`SELECT * FROM ${Repo.table} WHERE id = $1`, [id]);
      }
    }
    export const handler = async (event) => {
      await Repo.find(event.queryStringParameters.id);
      await Repo.http.get(`${Repo.api}/orders/${encodeURIComponent(event.body)}`);
      console.log("table", Repo.table);
    };
    """
    assert injection(source) == set()


def test_a_static_field_does_not_hide_the_instance_field_of_its_name() -> None:
    source = """
    const { Client } = require("pg");
    const db = new Client();
    class Repo {
      static sql = "SELECT 1";
      constructor(e) {
        this.sql = e.body;
      }
      run() {
        return db.query(this.sql);
      }
    }
    exports.handler = async (event) => new Repo(event).run();
    """
    assert injection(source) == {("LS-CODE-003", 9)}


# --- postgres.js, Neon and Bun clients ----------------------------------------------------------


SQL_CLIENTS: dict[str, tuple[str, set[tuple[str, int]]]] = {
    "the raw escape of postgres.js, Neon and Bun clients": (
        """
        import postgres from "postgres";
        import { neon } from "@neondatabase/serverless";
        import { sql as bunSql, SQL } from "bun";
        const sql = postgres(process.env.DATABASE_URL);
        const neonSql = neon(process.env.DATABASE_URL);
        const other = new SQL(process.env.DATABASE_URL);
        export const handler = async (event) => {
          const { sort, table } = JSON.parse(event.body);
          await sql.unsafe(`SELECT * FROM orders ORDER BY ${sort}`);
          await neonSql`SELECT * FROM ${neonSql.unsafe(table)}`;
          await bunSql.unsafe("SELECT * FROM " + table);
          await other.unsafe(sort);
          await sql.begin(async (tx) => {
            await tx.unsafe("UPDATE orders SET sort = " + sort);
          });
          const reserved = await sql.reserve();
          await reserved.unsafe(sort);
          await sql.unsafe.call(sql, sort);
        };
        """,
        {("LS-CODE-003", 9), ("LS-CODE-003", 10), ("LS-CODE-003", 11), ("LS-CODE-003", 12)}
        | {("LS-CODE-003", 14), ("LS-CODE-003", 17), ("LS-CODE-003", 18)},
    ),
    "their templates and parameterised queries": (
        """
        const postgres = require("postgres");
        const { neon } = require("@neondatabase/serverless");
        const { sql: slonikSql } = require("slonik");
        const { sql: bunSql } = require("bun");
        const { sql: shared } = require("./db");
        const sql = postgres(process.env.DATABASE_URL);
        const neonSql = neon(process.env.DATABASE_URL);
        exports.handler = async (event) => {
          const { id, sort } = JSON.parse(event.body);
          await sql`SELECT * FROM orders WHERE id = ${id} ORDER BY ${sql(sort)}`;
          await sql.unsafe("SELECT * FROM orders WHERE id = $1", [id]);
          await neonSql`SELECT * FROM orders WHERE id = ${id}`;
          await neonSql.query("SELECT * FROM orders WHERE id = $1", [id]);
          await bunSql`SELECT * FROM orders WHERE id = ${id}`;
          await slonikSql.unsafe`SELECT * FROM orders WHERE id = ${id}`;
          await shared`SELECT * FROM orders WHERE id = ${id}`;
          await sql.begin(async (tx) => tx`UPDATE orders SET seen = true WHERE id = ${id}`);
          const cache = { unsafe: (key) => key };
          return cache.unsafe(sort);
        };
        """,
        set(),
    ),
}


@pytest.mark.parametrize("name", sorted(SQL_CLIENTS))
def test_sql_clients(name: str) -> None:
    source, expected = SQL_CLIENTS[name]
    assert injection(source) == expected


def test_a_client_of_the_project_s_own_module_is_known_by_its_name() -> None:
    """`db.js` makes the client (`export const sql = postgres(url)`); the handler imports
    it under the name every guide of these libraries gives it."""
    source = """
    import { sql } from "./db.js";
    import { sql as reports } from "../lib/reports";
    import { sql as kyselySql } from "kysely";
    export const handler = async (event) => {
      await sql.unsafe(`SELECT * FROM orders ORDER BY ${event.queryStringParameters.sort}`);
      await reports.unsafe(event.body);
      await kyselySql.unsafe(event.body);
    };
    """
    assert injection(source) == {("LS-CODE-003", 5)}


# --- a project: classes, forwarded calls and postgres.js through the loader ---------------------

NODE_CLASSES = Path(__file__).resolve().parents[1] / "fixtures" / "node_classes"


def project_hits(folder: Path, monkeypatch: pytest.MonkeyPatch) -> set[tuple[str, str, int]]:
    monkeypatch.chdir(folder)
    application, problems = load_template(
        Path("template.yaml"), PurePosixPath("template.yaml"), max_bytes=1_000_000
    )
    assert problems == []
    loaded = load_handlers([application], root=Path())
    assert loaded.errors == ()
    assert len(loaded.sources) == 2
    found = set()
    for source in loaded.sources:
        view = HandlerView(source)
        for rule in RULES:
            if rule.meta.id == "LS-CODE-006":
                continue
            for hit in rule(view):
                origin = view.locate(hit.pointer)
                line = origin.lines(hit.pointer)[0]
                assert line is not None
                found.add((rule.meta.id, origin.path.as_posix(), line))
    return found


def test_node_classes_fixture(monkeypatch: pytest.MonkeyPatch) -> None:
    listed = json.loads((NODE_CLASSES / "expected.json").read_text(encoding="utf-8"))
    expected = {(rule_id, path, line) for rule_id, path, line in listed}
    assert project_hits(NODE_CLASSES / "positive", monkeypatch) == expected
    assert project_hits(NODE_CLASSES / "negative", monkeypatch) == set()


# --- compiled output: tsc CommonJS, esbuild bundles, Babel interop --------------------------
# Handlers written in TypeScript or modern JavaScript are deployed compiled: each sample
# below is the shape tsc or esbuild writes, by hand. `DATA` is event data in the positive
# case and safe data of the same shape in the near miss.

COMPILED: dict[str, tuple[str, str, str, set[tuple[str, int]]]] = {
    "tsc: a named import called as (0, child_process_1.execSync)": (
        """
        "use strict";
        Object.defineProperty(exports, "__esModule", { value: true });
        exports.handler = void 0;
        const child_process_1 = require("child_process");
        const handler = async (event) => {
            (0, child_process_1.execSync)(`ls ${DATA}`);
        };
        exports.handler = handler;
        """,
        "event.queryStringParameters.dir",
        "parseInt(event.queryStringParameters.dir, 10)",
        {("LS-CODE-001", 6)},
    ),
    "tsc: a class from a module object, new pg_1.Client()": (
        """
        "use strict";
        Object.defineProperty(exports, "__esModule", { value: true });
        exports.handler = void 0;
        const pg_1 = require("pg");
        const handler = async (event) => {
            const client = new pg_1.Client();
            await client.connect();
            return client.query(DATA);
        };
        exports.handler = handler;
        """,
        "`SELECT * FROM orders WHERE id = '${event.pathParameters.id}'`",
        '"SELECT * FROM orders WHERE id = $1", [event.pathParameters.id]',
        {("LS-CODE-003", 8)},
    ),
    "tsc: a default import through __importDefault": (
        """
        "use strict";
        const axios_1 = __importDefault(require("axios"));
        exports.handler = async (event) => {
            return axios_1.default.get(DATA);
        };
        """,
        "event.body",
        "`https://api.example.com/items/${encodeURIComponent(event.body)}`",
        {("LS-CODE-005", 4)},
    ),
    "tsc: a namespace import through __importStar": (
        """
        "use strict";
        const fs = __importStar(require("fs"));
        const path_1 = __importDefault(require("path"));
        exports.handler = async (event) => {
            return fs.readFileSync(DATA);
        };
        """,
        "`/tmp/${event.body}`",
        "`/tmp/${path_1.default.basename(event.body)}`",
        {("LS-CODE-004", 5)},
    ),
    "tsc below ES2017: __awaiter, yield, the export before the function": (
        """
        "use strict";
        Object.defineProperty(exports, "__esModule", { value: true });
        exports.handler = handler;
        const child_process_1 = require("child_process");
        function handler(event) {
            return __awaiter(this, void 0, void 0, function* () {
                var _a;
                const dir = (_a = event.queryStringParameters) === null || _a === void 0
                    ? void 0 : _a.dir;
                const listing = yield run(DATA);
                return { statusCode: 200, body: listing };
            });
        }
        function run(command) {
            return (0, child_process_1.execSync)(command).toString();
        }
        """,
        "`ls ${dir}`",
        '"ls /tmp"',
        {("LS-CODE-001", 15)},
    ),
    "tsc below ES2017: __awaiter passing the arguments on": (
        """
        "use strict";
        const child_process_1 = require("child_process");
        function handler(event_1) {
            return __awaiter(this, arguments, void 0, function* (event, context = {}) {
                (0, child_process_1.execSync)(DATA);
            });
        }
        exports.handler = handler;
        """,
        "event.body",
        "context.functionName",
        {("LS-CODE-001", 5)},
    ),
    "tsc below ES2017: an arrow passing its destructured parameter as [_a]": (
        """
        "use strict";
        const child_process_1 = require("child_process");
        const handler = (_a) => __awaiter(void 0, [_a], void 0, function* ({ body, version }) {
            (0, child_process_1.execSync)(DATA);
        });
        exports.handler = handler;
        """,
        "`convert ${body}`",
        "`convert ${Number(version)}`",
        {("LS-CODE-001", 4)},
    ),
    "tsc below ES2017: a method's generator keeps its this": (
        """
        "use strict";
        const pg_1 = require("pg");
        class Orders {
            constructor(db) {
                this.db = db;
            }
            find(id) {
                return __awaiter(this, void 0, void 0, function* () {
                    return this.db.query(DATA);
                });
            }
        }
        const orders = new Orders(new pg_1.Pool());
        exports.handler = (event) => __awaiter(void 0, void 0, void 0, function* () {
            return orders.find(event.pathParameters.id);
        });
        """,
        "`SELECT * FROM orders WHERE id = '${id}'`",
        '"SELECT * FROM orders WHERE id = $1", [id]',
        {("LS-CODE-003", 9)},
    ),
    "tsc for ES5: __generator's state machine": (
        """
        "use strict";
        var child_process_1 = require("child_process");
        function handler(event) {
            return __awaiter(this, void 0, void 0, function () {
                var command;
                return __generator(this, function (_a) {
                    switch (_a.label) {
                        case 0:
                            command = "ls ".concat(DATA);
                            return [4 /*yield*/, (0, child_process_1.execSync)(command)];
                        case 1:
                            _a.sent();
                            return [2 /*return*/];
                    }
                });
            });
        }
        exports.handler = handler;
        """,
        "event.body",
        "parseInt(event.body, 10)",
        {("LS-CODE-001", 10)},
    ),
    "esbuild: __toESM, a default import, the export under another local name": (
        """
        "use strict";
        var src_exports = {};
        __export(src_exports, {
          handler: () => handler2
        });
        module.exports = __toCommonJS(src_exports);
        var import_node_child_process = require("node:child_process");
        var import_axios = __toESM(require("axios"));
        var handler = (message) => message.trim();
        var handler2 = async (event) => {
          const target = DATA;
          (0, import_node_child_process.execSync)(`ping -c 1 ${target}`);
          return import_axios.default.get(`https://${target}/health`);
        };
        0 && (module.exports = {
          handler
        });
        """,
        "event.queryStringParameters.host",
        'handler(" example.com ")',
        {("LS-CODE-001", 12), ("LS-CODE-005", 13)},
    ),
    "esbuild below ES2017: __async": (
        """
        "use strict";
        var import_child_process = require("child_process");
        var handler = (event) => __async(void 0, null, function* () {
          const output = yield Promise.resolve((0, import_child_process.execSync)(DATA));
          return output.toString();
        });
        module.exports = __toCommonJS(src_exports);
        """,
        "`ls ${event.body}`",
        '"ls"',
        {("LS-CODE-001", 4)},
    ),
    "esbuild keepNames: __name around the handler": (
        """
        "use strict";
        var import_child_process = require("child_process");
        var handler = /* @__PURE__ */ __name(async (event) => {
          (0, import_child_process.execSync)(DATA);
        }, "handler");
        """,
        "event.body",
        '"uptime"',
        {("LS-CODE-001", 4)},
    ),
    "Babel: _interopRequireDefault and a comma call": (
        """
        "use strict";
        var _child_process = require("child_process");
        var _nodeFetch = _interopRequireDefault(require("node-fetch"));
        const handler = async (event) => {
          (0, _child_process.exec)(DATA);
          return (0, _nodeFetch.default)(DATA);
        };
        exports.handler = handler;
        """,
        "event.body",
        '"https://api.example.com/status"',
        {("LS-CODE-001", 5), ("LS-CODE-005", 6)},
    ),
    "a comma call of a plain function: indirect eval": (
        """
        exports.handler = async (event) => {
          return (0, eval)(DATA);
        };
        """,
        "event.body",
        '"1 + 1"',
        {("LS-CODE-002", 2)},
    ),
    "a comma call of a property: (0, obj.m)": (
        """
        const vm = require("vm");
        exports.handler = async (event) => {
          return (0, vm.runInNewContext)(DATA, {});
        };
        """,
        "event.body",
        '"1 + 1"',
        {("LS-CODE-002", 3)},
    ),
}


@pytest.mark.parametrize("name", sorted(COMPILED))
def test_compiled_output(name: str) -> None:
    source, unsafe, safe, expected = COMPILED[name]
    assert injection(source.replace("DATA", unsafe)) == expected
    assert injection(source.replace("DATA", safe)) == set()
    assert view_of(source.replace("DATA", unsafe)).analysis.missing == ()


TSC_HELPERS = """
"use strict";
var __createBinding = (this && this.__createBinding) || (Object.create ? (function(o, m, k, k2) {
    if (k2 === undefined) k2 = k;
    var desc = Object.getOwnPropertyDescriptor(m, k);
    if (!desc || ("get" in desc ? !m.__esModule : desc.writable || desc.configurable)) {
      desc = { enumerable: true, get: function() { return m[k]; } };
    }
    Object.defineProperty(o, k2, desc);
}) : (function(o, m, k, k2) {
    if (k2 === undefined) k2 = k;
    o[k2] = m[k];
}));
var __setModuleDefault = (this && this.__setModuleDefault) || (Object.create ? (function(o, v) {
    Object.defineProperty(o, "default", { enumerable: true, value: v });
}) : function(o, v) {
    o["default"] = v;
});
var __importStar = (this && this.__importStar) || function (mod) {
    if (mod && mod.__esModule) return mod;
    var result = {};
    if (mod != null) for (var k in mod)
        if (k !== "default" && Object.prototype.hasOwnProperty.call(mod, k))
            __createBinding(result, mod, k);
    __setModuleDefault(result, mod);
    return result;
};
var __importDefault = (this && this.__importDefault) || function (mod) {
    return (mod && mod.__esModule) ? mod : { "default": mod };
};
var __awaiter = (this && this.__awaiter) || function (thisArg, _arguments, P, generator) {
    function adopt(value) {
        return value instanceof P ? value : new P(function (resolve) { resolve(value); });
    }
    return new (P || (P = Promise))(function (resolve, reject) {
        function fulfilled(value) { try { step(generator.next(value)); } catch (e) { reject(e); } }
        function rejected(value) {
            try { step(generator["throw"](value)); } catch (e) { reject(e); }
        }
        function step(result) {
            result.done ? resolve(result.value) : adopt(result.value).then(fulfilled, rejected);
        }
        step((generator = generator.apply(thisArg, _arguments || [])).next());
    });
};
Object.defineProperty(exports, "__esModule", { value: true });
"""

ESBUILD_HELPERS = """
"use strict";
var __create = Object.create;
var __defProp = Object.defineProperty;
var __getOwnPropDesc = Object.getOwnPropertyDescriptor;
var __getOwnPropNames = Object.getOwnPropertyNames;
var __getProtoOf = Object.getPrototypeOf;
var __hasOwnProp = Object.prototype.hasOwnProperty;
var __export = (target, all) => {
  for (var name in all)
    __defProp(target, name, { get: all[name], enumerable: true });
};
var __copyProps = (to, from, except, desc) => {
  if (from && typeof from === "object" || typeof from === "function") {
    for (let key of __getOwnPropNames(from))
      if (!__hasOwnProp.call(to, key) && key !== except)
        __defProp(to, key, {
          get: () => from[key],
          enumerable: !(desc = __getOwnPropDesc(from, key)) || desc.enumerable
        });
  }
  return to;
};
var __toESM = (mod, isNodeMode, target) => (
  target = mod != null ? __create(__getProtoOf(mod)) : {},
  __copyProps(
    isNodeMode || !mod || !mod.__esModule
      ? __defProp(target, "default", { value: mod, enumerable: true })
      : target,
    mod
  )
);
var __toCommonJS = (mod) => __copyProps(__defProp({}, "__esModule", { value: true }), mod);
"""

ORDERS_SOURCE = """
import { execSync } from "child_process";
import { Client } from "pg";
import axios from "axios";
import * as fs from "fs";
import { query } from "./db";

const client = new Client();

export const handler = async (event: { body: string }) => {
  const id = event.body;
  execSync(`ls ${id}`);
  await client.query(`SELECT * FROM orders WHERE id = '${id}'`);
  await axios.get(`https://${id}/x`);
  fs.readFileSync(`/tmp/${id}`);
  await query(`SELECT ${id}`);
  return { statusCode: 200 };
};
"""

ORDERS_TSC = """
exports.handler = void 0;
const child_process_1 = require("child_process");
const pg_1 = require("pg");
const axios_1 = __importDefault(require("axios"));
const fs = __importStar(require("fs"));
const db_1 = require("./db");
const client = new pg_1.Client();
const handler = (event) => __awaiter(void 0, void 0, void 0, function* () {
    const id = event.body;
    (0, child_process_1.execSync)(`ls ${id}`);
    yield client.query(`SELECT * FROM orders WHERE id = '${id}'`);
    yield axios_1.default.get(`https://${id}/x`);
    fs.readFileSync(`/tmp/${id}`);
    yield (0, db_1.query)(`SELECT ${id}`);
    return { statusCode: 200 };
});
exports.handler = handler;
"""

ORDERS_ESBUILD = """
// src/index.ts
var src_exports = {};
__export(src_exports, {
  handler: () => handler
});
module.exports = __toCommonJS(src_exports);
var import_child_process = require("child_process");
var import_pg = require("pg");
var import_axios = __toESM(require("axios"));
var fs = __toESM(require("fs"));

// src/db.ts
var import_pg2 = require("pg");
var pool = new import_pg2.Pool();
var query = (text) => pool.query(text);

// src/index.ts
var client = new import_pg.Client();
var handler = async (event) => {
  const id = event.body;
  (0, import_child_process.execSync)(`ls ${id}`);
  await client.query(`SELECT * FROM orders WHERE id = '${id}'`);
  await import_axios.default.get(`https://${id}/x`);
  fs.readFileSync(`/tmp/${id}`);
  await query(`SELECT ${id}`);
  return { statusCode: 200 };
};
// Annotate the CommonJS export names for ESM import in node:
0 && (module.exports = {
  handler
});
"""
COMPILED_ORDERS = {"tsc": TSC_HELPERS + ORDERS_TSC, "esbuild": ESBUILD_HELPERS + ORDERS_ESBUILD}
"""The orders handler as tsc (ES2015, so `__awaiter`) and esbuild (a bundle) compile it."""


def pointers(source: str, path: PurePosixPath) -> set[tuple[str, str]]:
    view = view_of(source, path)
    return {(rule.meta.id, hit.pointer) for rule in RULES for hit in rule(view)}


def test_compiled_handlers_get_the_findings_of_their_source() -> None:
    """tsc's output names each finding as the TypeScript does (pointers hold no lines), down
    to the project's own `query` it calls as `(0, db_1.query)`: no receiver, so not a
    client's `query` method, as `query(...)` in the source is not."""
    expected = {
        ("LS-CODE-001", "/handler/child_process.execSync/1"),
        ("LS-CODE-003", "/handler/client.query/1"),
        ("LS-CODE-004", "/handler/fs.readFileSync/1"),
        ("LS-CODE-005", "/handler/axios.get/1"),
        ("LS-CODE-006", "/handler"),
    }
    assert pointers(ORDERS_SOURCE, TS) == expected
    assert pointers(COMPILED_ORDERS["tsc"], JS) == expected
    # A bundle holds the project's modules too: its `query` is followed into `pool.query`.
    bundled = {*expected, ("LS-CODE-003", "/query/pool.query/1")}
    assert pointers(COMPILED_ORDERS["esbuild"], JS) == bundled


def test_compiled_helpers_alone_find_nothing() -> None:
    for helpers in (TSC_HELPERS, ESBUILD_HELPERS):
        source = helpers + "exports.handler = async (event) => ({ statusCode: 200 });\n"
        assert injection(source) == set()


def test_a_compiled_middy_handler_is_validated() -> None:
    source = """
    "use strict";
    const core_1 = __importDefault(require("@middy/core"));
    const validator_1 = __importDefault(require("@middy/validator"));
    const base = async (event) => {
        return { statusCode: 200, body: event.body };
    };
    exports.handler = (0, core_1.default)(base).use((0, validator_1.default)({ eventSchema: {} }));
    """
    assert fired(source) == set()
    bundled = """
    var import_core = __toESM(require("@middy/core"));
    var base = async (event) => ({ statusCode: 200, body: event.body });
    var handler = (0, import_core.default)(base).use(logged());
    """
    assert fired(bundled) == {("LS-CODE-006", 3)}


def test_a_compiled_default_export_declared_after_its_export() -> None:
    """tsc writes `exports.default = default_1;` above `async function default_1(event)`,
    which JavaScript binds first: `Handler: index.default` runs it."""
    source = """
    "use strict";
    Object.defineProperty(exports, "__esModule", { value: true });
    exports.default = default_1;
    const child_process_1 = require("child_process");
    async function default_1(event) {
        (0, child_process_1.exec)(event.body);
    }
    """
    assert injection(source, handlers=("default",)) == {("LS-CODE-001", 6)}
    later = source.replace("async function default_1", "const other = async function default_1")
    assert view_of(later, handlers=("default",)).analysis.missing == ("default",)


def test_compiled_handlers_through_a_template(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The template names the compiled file (`CodeUri: dist/`, `Handler: index.handler`);
    the loader finds it, and the analysis its exported handler, tsc's or esbuild's."""
    monkeypatch.chdir(tmp_path)
    functions = ""
    for name, folder in (("Tsc", "dist"), ("Bundled", "bundle")):
        functions += (
            f"  {name}:\n    Type: AWS::Serverless::Function\n    Properties:\n"
            f"      Runtime: nodejs20.x\n      CodeUri: {folder}/\n      Handler: index.handler\n"
        )
    Path("template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n" + functions, encoding="utf-8"
    )
    for folder, text in (("dist", COMPILED_ORDERS["tsc"]), ("bundle", COMPILED_ORDERS["esbuild"])):
        Path(folder).mkdir()
        Path(folder, "index.js").write_text(text.lstrip("\n"), encoding="utf-8")
    application, problems = load_template(
        Path("template.yaml"), PurePosixPath("template.yaml"), max_bytes=1_000_000
    )
    assert problems == []
    loaded = load_handlers([application], root=Path())
    assert loaded.errors == () and loaded.skipped == ()
    found = set()
    for source in loaded.sources:
        view = HandlerView(source)
        assert view.analysis.missing == ()
        for rule in RULES:
            for hit in rule(view):
                line = view.locate(hit.pointer).lines(hit.pointer)[0]
                found.add((rule.meta.id, source.file.path.as_posix(), line))
    lines = {
        folder: text.lstrip("\n").splitlines().index(call) + 1
        for folder, text, call in (
            ("dist", COMPILED_ORDERS["tsc"], "    (0, child_process_1.execSync)(`ls ${id}`);"),
            (
                "bundle",
                COMPILED_ORDERS["esbuild"],
                "  (0, import_child_process.execSync)(`ls ${id}`);",
            ),
        )
    }
    commands = {(path, line) for rule_id, path, line in found if rule_id == "LS-CODE-001"}
    assert commands == {("dist/index.js", lines["dist"]), ("bundle/index.js", lines["bundle"])}
    assert {rule_id for rule_id, _, _ in found} == {
        "LS-CODE-001",
        "LS-CODE-003",
        "LS-CODE-004",
        "LS-CODE-005",
        "LS-CODE-006",
    }
