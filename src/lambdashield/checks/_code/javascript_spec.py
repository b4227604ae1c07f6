"""JavaScript's (Node.js) sinks, sources, sanitisers, validators and guards.

The same conservative rules as `python_spec.py`, over Node.js names. Globals are named as
written (`eval`, `console.log`, `process.env`), with no prefix, so messages and pointers
show them the way the code does; modules by what `require`/`import`
names (`child_process.exec`, `fs.promises.readFile`, `node-serialize.unserialize`).

- commands: `child_process.exec/execSync` (the command), `spawn/spawnSync/execFile/
  execFileSync` with `{ shell: true }` (the command) and otherwise the program run;
- code: `eval`, `new Function`, `vm.runIn*Context`, `new vm.Script`, `node-serialize`
  `unserialize`;
- SQL: the query text given to `query`/`execute` (mysql, mysql2, pg, ...), knex
  `raw`/`whereRaw`/`orderByRaw`/..., Prisma `$queryRawUnsafe`/`$executeRawUnsafe` and
  the raw escapes of SQL tag libraries (`Prisma.raw`, drizzle and kysely `sql.raw`); a
  parameterised query (`$1` or `?` with a values array or bindings, `{ text, values }`)
  has no event data in its text, so it is safe. A template given to a SQL tag
  (`` sql`... ${id}` `` from `@vercel/postgres`, slonik, drizzle, kysely, Prisma,
  `sql-template-strings`, `sql-template-tag`) is a parameterised query too: the tag
  gets the values apart from the text and binds each `${}` as a parameter. Any other
  tag (`String.raw`, `dedent`) may join them, so its result is text like a template's.
  The clients of postgres.js (`postgres(url)`), Neon (`neon(url)`) and Bun (`sql`,
  `new SQL(url)`) are such tags, with a raw escape, `sql.unsafe(text)`: its text is
  query text, its values array is not;
- paths: `fs.*` (also `fs.promises`, `fs/promises`, `fs-extra`); `path.basename` makes a
  name safe; `path.resolve/normalize` only normalise, and a `startsWith` test on the
  normalised path makes it safe;
- URLs: `fetch`, `node-fetch`, `axios` (and its methods), `got`, `http(s).get/request`,
  `undici`; safe when the scheme and host are fixed text or after a `startsWith` test
  against a fixed origin; `encodeURIComponent` makes a value safe for URLs only;
- logs: `console.*` and loggers (by trait or name);
- `x.length` is a number: no secret, personal data or raw event in it (Python's
  `len(x)`), though a parsed body's `length` is still event data;
- `parseInt`, `parseFloat`, `Number` make event data harmless for every injection sink.

Validation (LS-CODE-006): `ajv` (`ajv.validate`, a compiled validator), `joi` and `zod`
schemas (`validate`, `parse`, `safeParse`, ...), and the `@middy/validator` middleware
of a `middy(...)` handler. The lambdashield runtime has no
JavaScript side.
"""

from __future__ import annotations

from collections.abc import Callable

from lambdashield.checks._code.python_spec import fixed_origin
from lambdashield.checks._code.spec import (
    CallSite,
    DecoratorEffect,
    Guard,
    LanguageSpec,
    Selection,
    Sink,
)
from lambdashield.checks._code.values import (
    CLEAN,
    EVENT,
    LABELS,
    PERSONAL,
    RAW,
    SECRET,
    Flow,
    Value,
    propagate,
)
from lambdashield.checks.secrets import sensitive_name

__all__ = ["JAVASCRIPT"]

_INJECTION = frozenset({EVENT})
_LOGGED = frozenset({RAW, SECRET, PERSONAL})
_NOT_RAW = frozenset(LABELS) - {RAW}
_NO_EVENT = frozenset(LABELS) - {EVENT, RAW}
_SQL_CLIENT = "sql-client"
"""The trait of a postgres.js, Neon or Bun client (`const sql = postgres(url)`): a tag
whose templates are parameterised queries, with a raw `unsafe(text)`."""

Select = Callable[[CallSite], Selection]
Safe = Callable[[Value], bool]

_SINKS: dict[str, tuple[Sink, ...]] = {}
_METHOD_SINKS: dict[str, tuple[Sink, ...]] = {}


def _sink(category: str, select: Select, safe: Safe | None = None) -> Sink:
    labels = _LOGGED if category == "log" else _INJECTION
    return Sink(category, labels, select, safe)


def _add(table: dict[str, tuple[Sink, ...]], sink: Sink, names: str) -> None:
    for name in names.split():
        table[name] = (*table.get(name, ()), sink)


def _positional(index: int, how: str) -> Select:
    def select(site: CallSite) -> Selection:
        if 0 <= index < len(site.args):
            yield how, site.args[index]

    return select


def _shell_option(site: CallSite) -> bool | None:
    shell = site.kw("shell")
    if shell is None:
        return False
    if shell.truth is False:
        return False
    if shell.truth is True or shell.whole:
        return True  # `shell: true` or `shell: "/bin/sh"`
    return None


def _spawn(site: CallSite) -> Selection:
    if not site.args:
        return
    shell = _shell_option(site)
    if shell is True:
        yield "with `shell: true`", site.args[0]
        if len(site.args) > 1 and site.args[1].parts is not None:
            yield "with `shell: true`", site.args[1]
    elif shell is None:
        yield "with a computed `shell`", site.args[0]
    else:
        yield "as the program to run", site.args[0]


def _sql(site: CallSite) -> Selection:
    """`query(text, values)` or `query({ text, values })` / `query({ sql, values })`; the
    keys of a values object (`query("INSERT INTO t SET ?", { text })`) are values."""
    if len(site.args) == 1:
        for name in ("text", "sql"):
            named = site.kw(name)
            if named is not None:
                yield "as the query text", named
                return
    if site.args and site.args[0].parts is None:
        yield "as the query text", site.args[0]


def _raw_sql(site: CallSite) -> Selection:
    """knex `raw(text, bindings)` and `whereRaw(...)`: the text, never the bindings.
    `String.raw` builds a string, it runs nothing."""
    receiver = site.receiver
    if receiver is not None and receiver.qualname == "String":
        return
    if site.args:
        yield "as raw SQL", site.args[0]


def _unsafe_sql(site: CallSite) -> Selection:
    """`sql.unsafe(text, values)` of postgres.js, Neon's `neon(...)` and Bun's `SQL`: the
    text runs as it is (Neon splices it into the query it is interpolated in). A client
    made in this module is known by its trait; one imported from the project's own
    modules (`import { sql } from "./db"`) by the name every one of their guides gives
    it, `sql`. slonik's `sql.unsafe` is a tag, imported from the package: not this."""
    receiver = site.receiver
    if receiver is None or not site.args:
        return
    if _SQL_CLIENT not in receiver.traits:
        name = (site.receiver_name or "").rsplit(".", 1)[-1]
        local = receiver.qualname is None or receiver.qualname.startswith(".")
        if name != "sql" or not local:
            return
    yield "as raw SQL", site.args[0]


def _url(index: int) -> Select:
    def select(site: CallSite) -> Selection:
        named = site.kw("url")
        if named is not None:
            yield "as the URL", named
        elif 0 <= index < len(site.args):
            yield "as the URL", site.args[index]

    return select


def _http_request(site: CallSite) -> Selection:
    """`http.get(url, ...)` or `http.get({ host, path })`."""
    for name in ("host", "hostname"):
        named = site.kw(name)
        if named is not None:
            yield f"as the `{name}`", named
            return
    if site.args and not site.kwargs:
        yield "as the URL", site.args[0]


def _everything(site: CallSite) -> Selection:
    for value in site.args:
        yield "", value


_LOGGER_NAMES = frozenset({"log", "logger", "logging", "logs", "_logger", "_log"})


def _logged(site: CallSite) -> Selection:
    receiver = site.receiver
    if receiver is None:
        return
    name = (site.receiver_name or "").rsplit(".", 1)[-1].lower()
    if "logger" in receiver.traits or name in _LOGGER_NAMES or name.endswith("logger"):
        yield from _everything(site)


# commands
_add(
    _SINKS,
    _sink("command", _positional(0, "as the command")),
    "child_process.exec child_process.execSync",
)
_add(
    _SINKS,
    _sink("command", _spawn),
    "child_process.spawn child_process.spawnSync child_process.execFile "
    "child_process.execFileSync child_process.fork execa execa.execa execa.command "
    "execa.execaCommand",
)
# code
_add(
    _SINKS,
    _sink("code", _positional(0, "as code")),
    "eval vm.runInNewContext vm.runInThisContext vm.runInContext "
    "vm.Script vm.compileFunction node-serialize.unserialize serialize-javascript.deserialize",
)
_add(_SINKS, _sink("code", _positional(0, "as code")), "setTimeout setInterval")
_add(_SINKS, _sink("code", _everything), "Function")


# paths
def _both(site: CallSite) -> Selection:
    for value in site.args[:2]:
        yield "as a path", value


_FS_ONE = (
    "readFile readFileSync writeFile writeFileSync appendFile appendFileSync "
    "createReadStream createWriteStream unlink unlinkSync rm rmSync rmdir rmdirSync mkdir "
    "mkdirSync readdir readdirSync open openSync access accessSync stat statSync "
    "truncate truncateSync chmod chmodSync outputFile outputFileSync remove removeSync "
    "readJson readJsonSync writeJson writeJsonSync"
)
_FS_TWO = "copyFile copyFileSync rename renameSync symlink symlinkSync link linkSync cp cpSync"
for _prefix in ("fs.", "fs.promises.", "fs/promises.", "fs-extra."):
    _add(
        _SINKS,
        _sink("path", _positional(0, "as a path")),
        " ".join(_prefix + name for name in _FS_ONE.split()),
    )
    _add(_SINKS, _sink("path", _both), " ".join(_prefix + name for name in _FS_TWO.split()))
# URLs
_add(
    _SINKS,
    _sink("url", _url(0), fixed_origin),
    "fetch node-fetch axios axios.get axios.post axios.put axios.patch axios.delete "
    "axios.head axios.options axios.request got got.get got.post got.put got.patch "
    "got.delete got.head undici.request undici.fetch needle superagent.get "
    "superagent.post request request.get request.post",
)
_add(
    _SINKS,
    _sink("url", _http_request, fixed_origin),
    "http.get http.request https.get https.request",
)
# logs
_add(
    _SINKS,
    _sink("log", _everything),
    "console.log console.info console.error console.warn "
    "console.debug console.trace console.dir process.stdout.write "
    "process.stderr.write",
)
_add(_METHOD_SINKS, _sink("sql", _sql), "query execute")
_add(
    _METHOD_SINKS,
    _sink("sql", _raw_sql),
    "raw whereRaw orWhereRaw andWhereRaw havingRaw orHavingRaw orderByRaw groupByRaw "
    "joinRaw fromRaw $queryRawUnsafe $executeRawUnsafe",
)
_add(
    _SINKS,
    _sink("sql", _positional(0, "as raw SQL")),
    "@prisma/client.Prisma.raw drizzle-orm.sql.raw kysely.sql.raw sql-template-tag.raw "
    "bun.sql.unsafe",
)
_add(_METHOD_SINKS, _sink("sql", _unsafe_sql), "unsafe")
_add(_METHOD_SINKS, _sink("log", _logged), "debug info warn error trace fatal log")


def _http_instance(site: CallSite) -> Selection:
    if site.receiver is not None and "http" in site.receiver.traits:
        yield from _url(0)(site)


_add(
    _METHOD_SINKS,
    _sink("url", _http_instance, fixed_origin),
    "get post put patch delete head options request",
)

# --- call results -----------------------------------------------------------------------

_NUMERIC = frozenset(
    {"parseInt", "parseFloat", "Number", "Number.parseInt"}
    | {"Number.parseFloat", "Math.floor", "Math.round", "BigInt"}
    | {"Math.abs", "Math.min", "Math.max"}
)
_OPAQUE = frozenset(
    {
        "Date.now",
        "Math.random",
        "crypto.randomUUID",
        "uuid.v4",
        "Array.isArray",
        # A yes/no answer carries none of the value's data, as Python's `bool` does not.
        "Boolean",
    }
    | {"Number.isInteger", "isNaN", "Number.isNaN", "Number.isFinite"}
)
_STRINGIFY = frozenset({"JSON.stringify", "String", "util.inspect", "util.format"})
_TRANSPARENT = frozenset(
    {"JSON.parse", "decodeURIComponent", "decodeURI", "atob"}
    | {"Buffer.from", "Object.assign", "Object.values", "path.join"}
    | {"Object.entries", "Object.keys", "Array.from", "path.dirname"}
    | {"querystring.parse", "URL", "URLSearchParams", "path.posix.join"}
    | {"path.extname", "structuredClone"}
)
_TRANSPARENT_METHODS = frozenset(
    {"trim", "trimStart", "trimEnd", "toLowerCase", "toUpperCase", "slice", "substring"}
    | {"substr", "concat", "padStart", "padEnd", "toString", "split", "join", "replace"}
    | {"replaceAll", "map", "filter", "find", "at", "flat", "reduce", "text", "json"}
    | {"normalize", "repeat", "valueOf", "then", "toJSON"}
)
_BASENAME = frozenset({"path.basename", "path.posix.basename", "sanitize-filename"})
_NORMALISE = frozenset(
    {"path.resolve", "path.normalize", "path.posix.resolve", "path.posix.normalize"}
    | {"fs.realpathSync", "fs.promises.realpath", "fs/promises.realpath"}
)
_URL_QUOTE = frozenset({"encodeURIComponent", "escape"})
_SQL_QUOTE = frozenset({"mysql.escape", "mysql2.escape", "pg-format", "sqlstring.escape"})
_SQL_TAGS = frozenset(
    {"@vercel/postgres.sql", "slonik.sql", "slonik.sql.unsafe", "drizzle-orm.sql", "kysely.sql"}
    | {"bun.sql"}
    | {"@prisma/client.Prisma.sql", "@databases/pg.sql", "@databases/mysql.sql"}
    | {"sql-template-strings", "sql-template-strings.SQL", "sql-template-tag"}
    | {"sql-template-tag.sqltag", "sql-template-tag.default"}
)
"""Tags that make a parameterised query of a template: each `${}` becomes a bind
parameter (`$1`), never query text. What a tag does with the values is up to it (it
gets them apart from the text), so any other tag (`String.raw`, `dedent`) is a call
like any other, whose result carries the event data into the query text."""
_SQL_CLIENTS = frozenset(
    {"postgres", "postgres.default", "@neondatabase/serverless.neon", "bun.SQL"}
)
_COMMAND_QUOTE = frozenset({"shell-quote.quote", "shell-escape", "shescape.quote"})
_LOGGERS = frozenset(
    {"pino", "winston.createLogger", "bunyan.createLogger", "@aws-lambda-powertools/logger.Logger"}
    | {"log4js.getLogger"}
)
_HTTP_CLIENTS = frozenset({"axios.create", "got.extend"})
_SCHEMA_PREFIXES = ("joi.", "zod.", "yup.", "@hapi/joi.", "superstruct.")
_SCHEMA_METHODS = frozenset(
    {"validate", "validateAsync", "parse", "safeParse", "parseAsync", "safeParseAsync"}
    | {"assert", "attempt", "validateSync", "cast"}
)


def _cleared(value: Value, categories: set[str]) -> Value:
    return value.with_flows(
        Flow(f.label, f.source, f.line, f.steps, f.cleared | categories) for f in value.flows
    )


def _result(site: CallSite) -> Value | None:
    name = site.qualname
    method = site.method
    inputs = site.inputs()
    if name is not None:
        if name in _NUMERIC:
            return propagate(inputs, _NO_EVENT)
        if name in _OPAQUE:
            return CLEAN
        if name in _STRINGIFY:
            return propagate(inputs)
        if name in _TRANSPARENT:
            return propagate(inputs, _NOT_RAW)
        if name in _BASENAME:
            return _cleared(propagate(inputs, _NOT_RAW), {"path"})
        if name in _NORMALISE:
            return propagate(inputs, _NOT_RAW, frozenset({"normalised"}))
        if name in _URL_QUOTE:
            return _cleared(propagate(inputs, _NOT_RAW), {"url"})
        if name in _SQL_QUOTE or name in _SQL_TAGS:
            return _cleared(propagate(inputs, _NOT_RAW), {"sql"})
        if name in _COMMAND_QUOTE:
            return _cleared(propagate(inputs, _NOT_RAW), {"command"})
        if name in _LOGGERS:
            return Value(traits=frozenset({"logger"}))
        if name in _HTTP_CLIENTS:
            return Value(traits=frozenset({"http"}))
        if name in _SQL_CLIENTS:
            return Value(traits=frozenset({_SQL_CLIENT}))
        if name in ("ajv", "ajv.default", "ajv.Ajv"):
            return Value(traits=frozenset({"ajv"}))
        if name.startswith(_SCHEMA_PREFIXES) or name in ("joi", "zod", "yup"):
            if name.rsplit(".", 1)[-1] in _SCHEMA_METHODS:
                return propagate(inputs, _NOT_RAW)
            return Value(traits=frozenset({"schema"}))
    if method is not None:
        receiver = site.receiver if site.receiver is not None else CLEAN
        if "ajv" in receiver.traits:
            if method in ("compile", "getSchema"):
                return Value(traits=frozenset({"validator"}))
            return CLEAN
        if "schema" in receiver.traits:
            if method in _SCHEMA_METHODS:
                return propagate(inputs, _NOT_RAW)
            return Value(traits=frozenset({"schema"}))
        if "logger" in receiver.traits and method == "child":
            return Value(traits=frozenset({"logger"}))
        if _SQL_CLIENT in receiver.traits and method == "reserve":
            return Value(traits=frozenset({_SQL_CLIENT}))
        if method in _TRANSPARENT_METHODS:
            return propagate((receiver, *inputs), _NOT_RAW)
        if method in ("includes", "startsWith", "endsWith", "indexOf", "test", "has"):
            return CLEAN
    return None


def _env(name: str, line: int) -> Value:
    if sensitive_name(name) is not None:
        return Value(flows=(Flow(SECRET, f"process.env.{name}", line),), pure=True)
    return CLEAN


def _named(qualname: str, line: int) -> Value:
    if qualname.endswith(".default") and not qualname.startswith("process.env."):
        # A module's `default` is what `import x from "x"` binds, the module itself: so
        # compiled interop (`axios_1.default.get`, `import_axios.default.get`) and
        # `require("x").default` name the calls the source makes (`axios.get`).
        qualname = qualname.removesuffix(".default")
    if qualname == "process.env":
        return Value(
            flows=(Flow(SECRET, "process.env (every environment variable)", line),),
            qualname=qualname,
            pure=True,
        )
    if qualname.startswith("process.env."):
        return _env(qualname.removeprefix("process.env."), line)
    return Value(qualname=qualname)


_SIZES = frozenset({"length", "byteLength"})


def _attribute(receiver: Value, attr: str, _line: int) -> Value | None:
    """`secret.length` tells only how long the secret is, like Python's `len(secret)`:
    no secret, personal data, raw event or exception text in it. Event data stays: a
    parsed body is any object the caller sent, `{"length": "; rm -rf /"}` included."""
    if attr in _SIZES:
        return propagate([receiver], _INJECTION)
    return None


def _index(receiver: Value, key: str | None, line: int) -> Value | None:
    if receiver.qualname == "process.env":
        return _env(key, line) if key is not None else CLEAN
    return None


def _guard(site: CallSite) -> Guard | None:
    name, method = site.qualname, site.method
    if name in ("Number.isInteger", "Number.isSafeInteger", "validator.isUUID"):
        return Guard(0, frozenset({"command", "code", "sql", "path", "url"}))
    if method is None or site.receiver is None:
        return None
    if method == "test" and site.args and "safe-regex" in site.receiver.traits:
        return Guard(0, frozenset({"command", "code", "sql", "path", "url"}))
    if method == "startsWith" and site.args:
        prefix = site.args[0]
        if prefix.whole and fixed_origin(prefix):
            return Guard(None, frozenset({"url"}))
        return Guard(None, frozenset({"path"}), requires="normalised")
    if method == "includes" and site.args and "constant-collection" in site.receiver.traits:
        return Guard(0, frozenset({"command", "code", "sql", "path", "url"}))
    return None


def _validator(site: CallSite) -> str | None:
    name, method = site.qualname, site.method
    receiver = site.receiver
    if (
        name is not None
        and name.startswith(_SCHEMA_PREFIXES)
        and name.rsplit(".", 1)[-1] in _SCHEMA_METHODS
    ):
        return f"`{name}`"
    if method is not None and receiver is not None:
        if "ajv" in receiver.traits and method == "validate":
            return "`ajv.validate`"
        if "schema" in receiver.traits and method in _SCHEMA_METHODS:
            return f"a schema's `{method}`"
    return None


_MIDDY_VALIDATORS = frozenset(
    {"@middy/validator", "@middy/validator.default", "@middy/validator.validator"}
)


def _decorator(value: Value, site: CallSite | None) -> DecoratorEffect:
    """Middlewares of a `middy(...)` entry point (the front end passes them as decorators)."""
    name = site.qualname if site is not None else value.qualname
    if name in _MIDDY_VALIDATORS:
        return DecoratorEffect(validates="the middy `validator` middleware")
    return DecoratorEffect()


JAVASCRIPT = LanguageSpec(
    language="javascript",
    builtins=frozenset(
        {"eval", "Function", "fetch", "console", "JSON", "parseInt", "parseFloat", "Number"}
        | {"String", "Boolean", "encodeURIComponent", "encodeURI", "decodeURIComponent"}
        | {"decodeURI", "escape", "process", "Buffer", "Object", "Array", "Math", "Date"}
        | {"URL", "URLSearchParams", "setTimeout", "setInterval", "atob", "btoa", "isNaN"}
        | {"BigInt", "structuredClone"}
    ),
    builtin_prefix="",
    sinks=_SINKS,
    method_sinks=_METHOD_SINKS,
    named=_named,
    result=_result,
    attribute=_attribute,
    index=_index,
    guard=_guard,
    validator=_validator,
    decorator=_decorator,
    model_bases=frozenset(),
    raw_keys=frozenset({"headers", "multiValueHeaders", "requestContext", "cookies"}),
    this="this",
    constructor="constructor",
)
