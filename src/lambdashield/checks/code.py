"""Handler code: event data reaching dangerous calls, unvalidated events, verbose errors,
and credentials written in the code.

Every rule runs over a `HandlerView` (one handler source file, its entry points and the
template functions it serves). The injection rules follow event data from the handler's
`event` parameter through assignments, string building, calls of the module's own
functions and their returns, and flag it where it reaches a sink without a sanitiser
that protects that sink (see `checks/_code/python_spec.py` for what counts). A finding
points at the sink; its message names the source and the sink, and `Hit.flow` carries
every step in between (SARIF `codeFlows`). The evidence (and so the fingerprint) is the
source and the sink, never a line.
"""

from __future__ import annotations

from collections.abc import Iterator

from lambdashield.checks._code import HandlerView, describe, lines_of
from lambdashield.checks._code.labels import EVENT, EXCEPTION
from lambdashield.checks._rule import Hit, rule
from lambdashield.checks.secrets import (
    connection_password,
    detect,
    is_placeholder,
    known_format,
    mask,
)
from lambdashield.model import Confidence, Severity

__all__ = [
    "RULES",
    "code_evaluation",
    "command_injection",
    "hard_coded_credentials",
    "path_traversal",
    "server_side_request_forgery",
    "sql_injection",
    "unvalidated_event",
    "verbose_errors",
]


def _flow_hits(view: HandlerView, category: str, consequence: str) -> Iterator[Hit]:
    for pointer, hit in view.hits(category, EVENT):
        how = f" {hit.how}" if hit.how else ""
        yield Hit(
            pointer,
            f"event data from {describe(hit.flow.source)} reaches `{hit.sink}`{how} "
            f"(lines {lines_of(hit)}): {consequence}",
            f"{hit.flow.source}->{hit.sink}",
            flow=hit.path(),
        )


@rule(
    id="LS-CODE-001",
    title="Event data reaches command execution",
    severity=Severity.CRITICAL,
    confidence=Confidence.MEDIUM,
    cwe=78,
    since="0.1.0",
    tags=("injection", "taint"),
)
def command_injection(view: HandlerView) -> Iterator[Hit]:
    """Flags event data that reaches a shell or a program to run: `os.system`,
    `os.popen`, `subprocess.*` with `shell=True` (or a command string, or an event value
    as the program of an argument list), `subprocess.getoutput`,
    `asyncio.create_subprocess_shell`. A value passed through `shlex.quote`, converted
    with `int()`, checked against an allow-list, or given as a later element of an
    argument list without a shell is not flagged.

    ## Why it matters
    Whoever sends the event runs commands inside the function, with its IAM role: they
    read its environment and credentials (`env`, `/proc/self/environ`), call AWS with its
    permissions and plant code in `/tmp` that the next invocation of the warm container
    runs.

    ## Fix
    Pass a list of arguments and no shell: `subprocess.run(["convert", name, out],
    check=True)`. If a shell is unavoidable, quote every event value with `shlex.quote`,
    and better, map the input to a fixed set of commands (`COMMANDS[action]`).
    """
    yield from _flow_hits(
        view,
        "command",
        "the caller can run any command with the function's role; pass an argument list "
        "without a shell, or quote with `shlex.quote`",
    )


@rule(
    id="LS-CODE-002",
    title="Event data reaches code evaluation or unsafe deserialisation",
    severity=Severity.CRITICAL,
    confidence=Confidence.MEDIUM,
    cwe=94,
    since="0.1.0",
    tags=("injection", "deserialisation", "taint"),
)
def code_evaluation(view: HandlerView) -> Iterator[Hit]:
    """Flags event data that reaches `eval`, `exec`, `compile`, `__import__` /
    `importlib.import_module`, `pickle.loads` (and `dill`, `marshal`, `shelve`,
    `jsonpickle.decode`, `pandas.read_pickle`), `yaml.load` without a safe loader,
    `yaml.unsafe_load`, or `numpy.load(allow_pickle=True)`.

    ## Why it matters
    Evaluating or unpickling what the caller sent runs the caller's code in the function:
    a pickle can call `os.system` while it loads, and `yaml.load` with the default loader
    builds any Python object. Nothing downstream can make that safe.

    ## Fix
    Parse data, never code: `json.loads`, `yaml.safe_load`, `ast.literal_eval` for
    Python literals. Never unpickle anything that crossed a trust boundary; if objects
    must travel, serialise them as JSON and validate them on arrival.
    """
    yield from _flow_hits(
        view,
        "code",
        "the caller's input runs as code in the function; parse data with `json.loads` or "
        "`yaml.safe_load` instead",
    )


@rule(
    id="LS-CODE-003",
    title="Event data reaches SQL built by string formatting",
    severity=Severity.HIGH,
    confidence=Confidence.MEDIUM,
    cwe=89,
    since="0.1.0",
    tags=("injection", "sql", "taint"),
)
def sql_injection(view: HandlerView) -> Iterator[Hit]:
    """Flags event data in the text of a SQL statement (built by an f-string, `+`,
    `%` or `.format`) passed to `execute`, `executemany`, `executescript`, SQLAlchemy
    `text()`, `pandas.read_sql`, Django `raw()`, the RDS / Redshift Data API
    `execute_statement`, DynamoDB PartiQL, or Athena `start_query_execution`; in
    Node.js (a template literal or `+`), to `query` / `execute` (mysql, pg), knex
    `raw()` and `whereRaw()`-style methods, Prisma `$queryRawUnsafe`, or the raw escape
    `sql.unsafe(text)` of a postgres.js, Neon or Bun SQL client. A parameterised query
    (`cursor.execute(sql, (order_id,))`, `knex.raw("... where id = ?", [id])`) is not
    flagged, nor is a template literal tagged with a SQL tag (the `sql` of
    `@vercel/postgres` or slonik, a postgres.js or Neon client's template,
    `sql-template-strings`), which binds each `${...}` as a parameter.

    ## Why it matters
    The caller rewrites the query: reads other customers' rows, bypasses a `WHERE`
    clause, or with stacked statements changes and deletes data, with the database
    user's rights.

    ## Fix
    Keep the query text constant and pass values as parameters:
    `cursor.execute("SELECT * FROM orders WHERE id = %s", (order_id,))`; the Data API
    takes `parameters=[...]`, PartiQL `Parameters=[...]`. For identifiers, use an
    allow-list or `psycopg.sql.Identifier`. In Node.js, pass bindings
    (`pool.query("... where id = $1", [id])`) or use a SQL tag.
    """
    yield from _flow_hits(
        view,
        "sql",
        "the caller can rewrite the query; keep the SQL constant and pass values as parameters",
    )


@rule(
    id="LS-CODE-004",
    title="Event data reaches a file path without normalisation",
    severity=Severity.HIGH,
    confidence=Confidence.MEDIUM,
    cwe=22,
    since="0.1.0",
    tags=("injection", "path-traversal", "taint"),
)
def path_traversal(view: HandlerView) -> Iterator[Hit]:
    """Flags event data in a file path opened, written, removed, copied or extracted
    (`open`, `os.remove`, `shutil.*`, `pathlib.Path(...)` read/write methods, an S3
    `download_file`/`upload_file` local file name). A path reduced to its last part
    (`os.path.basename`), or normalised (`os.path.realpath`, `Path.resolve()`) and then
    checked to stay under its folder (`startswith`, `is_relative_to`, `relative_to`), is
    not flagged.

    ## Why it matters
    With `../` in the name the caller reads or overwrites any file the function can
    reach: `/proc/self/environ` holds its credentials, and a file written under `/tmp`
    survives into later invocations of the same warm container. Object keys from S3
    events are caller-chosen too.

    ## Fix
    Use only the file name (`os.path.basename(key)`), or resolve the joined path and
    reject it unless it stays under the folder:
    `full = os.path.realpath(os.path.join(BASE, name))`, then
    `if not full.startswith(BASE + os.sep): raise ...`.
    """
    yield from _flow_hits(
        view,
        "path",
        "`../` lets the caller reach any file the function can; keep only the file name "
        "(`os.path.basename`) or check the resolved path stays under its folder",
    )


@rule(
    id="LS-CODE-005",
    title="Event data chooses the host of an outbound request (SSRF)",
    severity=Severity.HIGH,
    confidence=Confidence.MEDIUM,
    cwe=918,
    since="0.1.0",
    tags=("injection", "ssrf", "taint"),
)
def server_side_request_forgery(view: HandlerView) -> Iterator[Hit]:
    """Flags event data in the URL or host of an outbound request (`requests`, `httpx`,
    `urllib.request`, `urllib3`, `aiohttp`, `http.client`) when the scheme and host are
    not fixed. `f"https://api.example.com/orders/{order_id}"` and
    `f"{API_URL}/orders/{order_id}"` (with `API_URL` from configuration) are not
    flagged: the caller then chooses only the path.

    ## Why it matters
    The function becomes the caller's proxy inside your network: it fetches internal
    services, VPC endpoints and other accounts' resources its security groups can
    reach, and returns or acts on what they answer.

    ## Fix
    Fix the scheme and host in the code or configuration and let the event choose only
    a path segment or query value; if the host must vary, check
    `urlparse(url).hostname in ALLOWED_HOSTS` (an allow-list, not a deny-list) before the
    request.
    """
    yield from _flow_hits(
        view,
        "url",
        "the caller chooses where the function sends requests; fix the scheme and host, or "
        "check the host against an allow-list",
    )


def _not_over_http(view: HandlerView, entry: str, consequence: str) -> str | None:
    """Why a hit matters less when every trigger of the entry point's functions is an AWS
    service (a queue, a bucket, a schedule) rather than an HTTP caller; `None` otherwise,
    or when the template does not say (no functions, no triggers)."""
    functions = view.functions_of(entry) if entry else view.functions
    triggers = [t for f in functions for t in f.triggers]
    if not functions or not triggers or any(t.kind.is_http for t in triggers):
        return None
    kinds = ", ".join(sorted({t.kind.value for t in triggers}))
    return f"invoked only by AWS services ({kinds}), {consequence}"


@rule(
    id="LS-CODE-006",
    title="Handler uses the event without validating it",
    severity=Severity.MEDIUM,
    confidence=Confidence.MEDIUM,
    cwe=20,
    since="0.1.0",
    tags=("validation",),
)
def unvalidated_event(view: HandlerView) -> Iterator[Hit]:
    """Flags handler entry points that read the event (or pass it on) without any
    validation: no `lambdashield.runtime` guard or `validate`, no `jsonschema` /
    `fastjsonschema` validation, no Powertools `@validator`, `@event_parser`, `parse` or
    validating router, no pydantic or marshmallow model, and no type, pattern or
    allow-list check on an event value. One step lower when every trigger of the
    function is an AWS service rather than an HTTP caller.

    ## Why it matters
    A handler that trusts the event's shape fails on the first malformed request with a
    stack trace, and every field it passes on is whatever the caller chose: the
    injection rules find some of the sinks, validation closes all of them at once.

    ## Fix
    Validate at the door: `@guard(...)` or `validate(event, ...)` from
    `lambdashield.runtime`, Powertools `@event_parser(model=Order)`, or
    `Order.model_validate_json(event["body"])` with a pydantic model; in Node.js, an ajv
    schema, a zod or joi schema, or `@middy/validator`. Answer invalid input with a 400
    and no stack trace.
    """
    python = view.file.language == "python"
    how = (
        "lambdashield.runtime, a JSON Schema, a Powertools parser or a pydantic model"
        if python
        else "an ajv JSON Schema, a zod or joi schema, or @middy/validator"
    )
    for pointer, entry in view.entries():
        if entry.route or entry.reads_event is None or entry.validation is not None:
            continue
        lowered = _not_over_http(view, entry.name, "not by HTTP callers")
        yield Hit(
            pointer,
            f"handler `{entry.name}` reads the event (first at line {entry.reads_event}) "
            f"without validating it; validate it first ({how})",
            entry.name,
            lowered_because=lowered,
        )


@rule(
    id="LS-CODE-007",
    title="Exception text or stack trace returned to the caller",
    severity=Severity.MEDIUM,
    confidence=Confidence.MEDIUM,
    cwe=209,
    since="0.1.0",
    tags=("errors", "information-disclosure", "taint"),
)
def verbose_errors(view: HandlerView) -> Iterator[Hit]:
    """Flags a handler (or router route) that returns the text of a caught exception
    (`str(e)`, `repr(e)`, `e.args`) or a formatted stack trace
    (`traceback.format_exc()`) in its response, directly or through a helper that builds
    the response. One step lower when the exception caught is a validation error, whose
    text is meant for the caller, or when only AWS services invoke the function.

    ## Why it matters
    Exception text carries what attackers look for: SQL fragments and table names,
    file paths, library versions, internal host names, sometimes the values of secrets
    that were being used; a stack trace maps the code.

    ## Fix
    Log the exception (with `logger.exception`), and return a generic message with a
    correlation ID the caller can quote:
    `{"statusCode": 500, "body": json.dumps({"error": "internal error", "id": request_id})}`.
    """
    # Imported here, as `HandlerView` imports the analysis: not for scans without code.
    from lambdashield.checks._code.taint import VALIDATION_MESSAGE

    for pointer, hit in view.hits("response", EXCEPTION):
        lowered = None
        if VALIDATION_MESSAGE in hit.flow.cleared:
            lowered = "the exception is a validation error, whose text is meant for the caller"
        else:
            lowered = _not_over_http(view, hit.entry, "no HTTP caller receives the response")
        yield Hit(
            pointer,
            f"the response returned at line {hit.line} carries {describe(hit.flow.source)} "
            f"(lines {lines_of(hit)}); log the error and return a generic message",
            f"{hit.flow.source}->response",
            lowered_because=lowered,
            flow=hit.path(),
        )


_WEAK_NAMES = frozenset({"example", "test", "dummy", "sample", "fake", "mock"})


@rule(
    id="LS-SEC-003",
    title="Hard-coded credential in handler code",
    severity=Severity.HIGH,
    confidence=Confidence.MEDIUM,
    cwe=798,
    since="0.1.0",
    tags=("secrets", "code"),
)
def hard_coded_credentials(view: HandlerView) -> Iterator[Hit]:
    """Flags string literals in handler code that are credentials: a known token format
    (AWS access keys, GitHub, GitLab, Slack, Stripe, Google, npm, SendGrid, JWTs,
    private keys), a connection string with a password, or a value stored under a
    secret's name (`PASSWORD = "..."`, `api_key="..."`, `{"token": "..."}`,
    `if secret == "..."`). Placeholders, references (ARNs, SSM paths) and values read at
    run time are not flagged; random-looking strings without a secret's name are not
    either (in code they are usually identifiers).

    ## Why it matters
    The credential is in the repository, its history, every clone and every deployment
    package (`lambda:GetFunction` hands the code to anyone allowed to read it). It stays
    valid until rotated, and nobody rotates what they do not know has leaked.

    ## Fix
    Keep it in AWS Secrets Manager or SSM Parameter Store (`SecureString`) and read it
    at run time (Powertools `parameters.get_secret`, the Parameters and Secrets Lambda
    extension, or `get_secret_value`); pass only the secret's name in an environment
    variable. Rotate the exposed value: it is in the repository history.
    """
    seen: set[str] = set()
    for literal in view.analysis.literals:
        value = literal.value.strip()
        if not value or ("\n" in value and "PRIVATE KEY" not in value):
            continue
        hint = None
        if literal.name is not None:
            found = detect(literal.name, value)
            by_name = found is not None and found.code.startswith("name:")
            if found is not None and not found.weak and not (by_name and _example(value)):
                hint = (found.label, found.code)
        else:
            fmt = known_format(value)
            if fmt is not None:
                hint = (fmt[1], fmt[0])
            elif connection_password(value):
                hint = ("connection string with a password", "connection-string")
        if hint is None or is_placeholder(value):
            continue
        pointer = view.literal_pointer(literal)
        if pointer in seen:
            continue
        seen.add(pointer)
        label, code = hint
        where = f"`{literal.name}`" if literal.name is not None else "a string"
        article = "an" if label[:1].lower() in "aeiou" else "a"
        yield Hit(
            pointer,
            f"{where} holds {article} {label} written in the code ({mask(value)}); store it "
            "in Secrets Manager or SSM Parameter Store and read it at run time",
            f"{literal.scope}:{literal.name or '-'}:{code}",
        )


def _example(value: str) -> bool:
    """A short value that says it is a stand-in (`test-password`, `dummy-token`)."""
    lowered = value.lower()
    return any(word in lowered for word in _WEAK_NAMES) and len(value) < 24


RULES = (
    command_injection,
    code_evaluation,
    sql_injection,
    path_traversal,
    server_side_request_forgery,
    unvalidated_event,
    verbose_errors,
    hard_coded_credentials,
)
