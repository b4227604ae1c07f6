"""Python's sinks, sources, sanitisers, validators and guards.

Conservative by design: a call the tables do not know passes event data on (from its
arguments and its receiver) and nothing else, a sanitiser clears only the sinks it
really protects, and a guard counts only in the forms listed here:

- `shlex.quote` / `shlex.join` make a value safe for shell commands only;
  `urllib.parse.quote` for commands and SQL (it leaves no quote, space or `;`), never for
  paths (it keeps `/` and `..`) or URLs;
- `int()`, `float()`, `decimal.Decimal()`, `uuid.UUID()` and the `date(time)` ISO parsers
  make event data harmless for every injection sink;
- `os.path.basename` and `werkzeug.utils.secure_filename` make a file name safe for paths;
  `os.path.normpath/realpath/abspath` and `Path.resolve()` only *normalise*: the value is
  safe for paths after a containment test on the normalised value passes
  (`.startswith(base)`, `.is_relative_to(base)`, or `.relative_to(base)`, which raises);
- parameterised SQL is safe because the query text itself carries no event data;
  `psycopg(2).sql.Identifier/Literal` make a value safe for SQL;
- a URL is safe when its scheme and host are fixed text (`f"https://api.example.com/{id}"`,
  `f"{BASE_URL}/orders/{id}"` with `BASE_URL` not from the event), or after
  `url.startswith("https://host/")` is tested true;
- allow-list membership (`x in ALLOWED` with a literal collection or an UPPER_CASE
  constant), equality with a literal, `isinstance(x, int)`, `x.isdigit()` /
  `isdecimal()` / `isnumeric()` / `isalnum()` / `isalpha()`, and `re.fullmatch` with a
  literal pattern made only of letters, digits, `_`, `-`, `\\d`, `\\w` and classes of
  them make the tested variable safe for every injection sink where the test holds.

Validation (LS-CODE-006) is recognised from `lambdashield.runtime`, `jsonschema`,
`fastjsonschema`, Powertools' validator and parser (and `enable_validation=True`
resolvers), pydantic and marshmallow models. Validation is not sanitisation: a
validated string can still carry `; rm -rf /`.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Callable, Iterator

from lambdashield.checks._code.spec import (
    CallSite,
    DecoratorEffect,
    Guard,
    LanguageSpec,
    Selection,
    Sink,
)
from lambdashield.checks._code.values import (
    ALL_CATEGORIES,
    CLEAN,
    EVENT,
    EXCEPTION,
    LABELS,
    PERSONAL,
    RAW,
    SECRET,
    Flow,
    Value,
    propagate,
)
from lambdashield.checks.secrets import sensitive_name

__all__ = ["PYTHON", "fixed_origin", "safe_pattern"]

_INJECTION = frozenset({EVENT})
_LOGGED = frozenset({RAW, SECRET, PERSONAL})
_NOT_RAW = frozenset(LABELS) - {RAW}
_NO_EVENT = frozenset(LABELS) - {EVENT, RAW}

# --- URL and regex tests ----------------------------------------------------------------

_FIXED_ORIGIN = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.\-]*://[^/?#\\@]+|\x00)[/?#](?!/)")
"""`scheme://host/` written out (the host may be a setting, shown as `\\x00`), or a
setting followed by a path (`f"{API_URL}/orders/..."`)."""


def fixed_origin(value: Value) -> bool:
    """A URL whose scheme and host are written in the code (or come from configuration),
    so event data can change only its path or query."""
    return value.text is not None and bool(_FIXED_ORIGIN.match(value.text))


_SAFE_ATOM = r"(?:\\[dw]|[A-Za-z0-9_]|-|\[(?:[A-Za-z0-9_]|\\[dw]|-)+\])"
_SAFE_PATTERN = re.compile(
    rf"^\^?(?:\\A)?(?:{_SAFE_ATOM}(?:[+*?]|\{{\d+(?:,\d*)?\}})?)+\$?(?:\\Z)?$"
)


def safe_pattern(pattern: str) -> bool:
    """A regular expression that, matched in full, admits only letters, digits, `_` and
    `-`: nothing a shell, SQL, a path or a URL gives meaning to."""
    return len(pattern) <= 200 and bool(_SAFE_PATTERN.match(pattern))


# --- selections --------------------------------------------------------------------------


Select = Callable[[CallSite], Selection]
Safe = Callable[[Value], bool]


def _args(*spec: tuple[int | None, tuple[str, ...], str]) -> Select:
    def select(site: CallSite) -> Selection:
        for index, names, how in spec:
            value = site.arg(index, *names)
            if value is not None:
                yield how, value

    return select


def _first(how: str, *names: str) -> Select:
    return _args((0, names, how))


def _subprocess(site: CallSite) -> Selection:
    command = site.arg(0, "args")
    if command is None:
        return
    shell = site.kw("shell")
    if shell is not None and shell.truth is not False:
        yield ("with `shell=True`" if shell.truth else "with a computed `shell`"), command
    elif command.parts is not None:
        if command.parts:
            yield "as the program to run", command.parts[0]
    else:
        yield "as the command", command


_SAFE_YAML_LOADERS = frozenset(
    f"yaml.{name}"
    for name in ("SafeLoader", "CSafeLoader", "BaseLoader", "CBaseLoader", "FullLoader")
) | frozenset({"yaml.loader.SafeLoader", "yaml.cyaml.CSafeLoader", "yaml.CFullLoader"})


def _yaml_load(site: CallSite) -> Selection:
    loader = site.arg(1, "Loader")
    if loader is not None and loader.qualname in _SAFE_YAML_LOADERS:
        return
    stream = site.arg(0, "stream")
    if stream is not None:
        yield "without a safe loader", stream


def _numpy_load(site: CallSite) -> Selection:
    allow = site.kw("allow_pickle")
    if allow is not None and allow.truth is True:
        value = site.arg(0, "file")
        if value is not None:
            yield "with `allow_pickle=True`", value


def _rename(site: CallSite) -> Selection:
    for index, names in ((0, ("src",)), (1, ("dst",))):
        value = site.arg(index, *names)
        if value is not None:
            yield "as a path", value


def _receiver_with(trait: str) -> Select:
    def select(site: CallSite) -> Selection:
        if site.receiver is not None and trait in site.receiver.traits:
            yield "on a path", site.receiver

    return select


def _download_file(site: CallSite) -> Selection:
    """`client.download_file(Bucket, Key, Filename)`, `bucket.download_file(Key, Filename)`,
    `obj.download_file(Filename)`: the local file name is the last positional argument."""
    named = site.kw("Filename")
    if named is not None:
        yield "as the local file", named
    elif site.args:
        yield "as the local file", site.args[min(len(site.args), 3) - 1]


def _http_method(index: int) -> Select:
    def select(site: CallSite) -> Selection:
        if site.receiver is not None and "http" in site.receiver.traits:
            value = site.arg(index, "url")
            if value is not None:
                yield "as the URL", value

    return select


_LOGGER_NAME = re.compile(r"^_*(?:[a-z0-9]+_)*(?:log|logger|logging|logs)$")


def _is_logger(site: CallSite) -> bool:
    """A logger by how it was made, or by its name (`logger`, `LOG`, `self._logger`,
    `audit_log`) when it comes from elsewhere; `logging` itself is matched by name."""
    receiver = site.receiver
    if receiver is None:
        return False
    if "logger" in receiver.traits:
        return True
    name = (site.receiver_name or "").rsplit(".", 1)[-1].lower()
    return bool(_LOGGER_NAME.match(name)) and receiver.qualname != "logging"


def _logged(site: CallSite) -> Selection:
    if not _is_logger(site):
        return
    yield from _everything(site)


def _everything(site: CallSite) -> Selection:
    for value in site.args:
        yield "", value
    for _name, value in site.kwargs:
        yield "", value


def _printed(site: CallSite) -> Selection:
    for value in site.args:
        yield "", value


def _sql(site: CallSite) -> Selection:
    value = site.arg(0, "sql", "query", "operation", "statement")
    if value is not None:
        yield "as the query text", value


def _data_api_sql(site: CallSite) -> Selection:
    for name in ("sql", "Sql", "Statement", "QueryString"):
        value = site.kw(name)
        if value is not None:
            yield f"as `{name}`", value


def _sink(category: str, select: Select, safe: Safe | None = None) -> Sink:
    labels = _LOGGED if category == "log" else _INJECTION
    return Sink(category, labels, select, safe)


_COMMAND_ARG = _first("as the command", "command", "cmd")
_PROGRAM_ARG = _first("as the program to run", "path", "file", "program")
_CODE_ARG = _first("as code", "source", "expression", "object", "name")
_DATA_ARG = _first("as serialised data", "data", "file", "s", "value", "string", "stream")
_PATH_ARG = _first("as a path", "file", "path", "name", "filename", "src", "fileobj")
_URL_ARG = _first("as the URL", "url")
_URL_ARG_1 = _args((1, ("url",), "as the URL"))

_SINKS: dict[str, tuple[Sink, ...]] = {}


def _add(category: str, names: str, select: Select, safe: Safe | None = None) -> None:
    sink = _sink(category, select, safe)
    for name in names.split():
        _SINKS[name] = (*_SINKS.get(name, ()), sink)


_add("command", "os.system os.popen commands.getoutput commands.getstatusoutput", _COMMAND_ARG)
_add("command", "subprocess.getoutput subprocess.getstatusoutput", _COMMAND_ARG)
_add("command", "asyncio.create_subprocess_shell", _COMMAND_ARG)
_add(
    "command",
    "subprocess.run subprocess.call subprocess.check_call subprocess.check_output subprocess.Popen",
    _subprocess,
)
_add(
    "command",
    "asyncio.create_subprocess_exec os.execl os.execle os.execlp os.execlpe os.execv "
    "os.execve os.execvp os.execvpe pty.spawn",
    _PROGRAM_ARG,
)
_add("code", "builtins.eval builtins.exec builtins.compile", _CODE_ARG)
_add("code", "builtins.__import__ importlib.import_module importlib.__import__", _CODE_ARG)
_add(
    "code",
    "pickle.loads pickle.load cPickle.loads cPickle.load _pickle.loads _pickle.load "
    "dill.loads dill.load marshal.loads marshal.load jsonpickle.decode jsonpickle.loads "
    "pandas.read_pickle shelve.open yaml.unsafe_load yaml.unsafe_load_all",
    _DATA_ARG,
)
_add("code", "yaml.load yaml.load_all", _yaml_load)
_add("code", "numpy.load", _numpy_load)
_add("sql", "sqlalchemy.text sqlalchemy.sql.text sqlalchemy.sql.expression.text", _sql)
_add("sql", "pandas.read_sql pandas.read_sql_query", _sql)
_add(
    "path",
    "builtins.open io.open codecs.open os.open os.remove os.unlink os.rmdir os.removedirs "
    "os.mkdir os.makedirs os.listdir os.scandir os.chmod os.chown os.truncate os.utime "
    "shutil.rmtree shutil.make_archive tarfile.open zipfile.ZipFile",
    _PATH_ARG,
)
_add(
    "path",
    "os.rename os.renames os.replace os.link os.symlink shutil.copy shutil.copy2 "
    "shutil.copyfile shutil.copytree shutil.move shutil.unpack_archive",
    _rename,
)
_add("path", "urllib.request.urlretrieve", _args((1, ("filename",), "as the local file")))
_add(
    "url",
    "requests.get requests.post requests.put requests.patch requests.delete requests.head "
    "requests.options httpx.get httpx.post httpx.put httpx.patch httpx.delete httpx.head "
    "httpx.options urllib.request.urlopen urllib.request.Request urllib.request.urlretrieve "
    "urllib2.urlopen",
    _URL_ARG,
    fixed_origin,
)
_add("url", "requests.request httpx.request httpx.stream urllib3.request", _URL_ARG_1, fixed_origin)
_add(
    "url",
    "http.client.HTTPConnection http.client.HTTPSConnection",
    _first("as the host", "host"),
)
_add("log", "builtins.print", _printed)
_add(
    "log",
    "logging.debug logging.info logging.warning logging.warn logging.error "
    "logging.exception logging.critical logging.fatal logging.log sys.stdout.write "
    "sys.stderr.write",
    _everything,
)

_METHOD_SINKS: dict[str, tuple[Sink, ...]] = {}


def _add_method(category: str, names: str, select: Select, safe: Safe | None = None) -> None:
    sink = _sink(category, select, safe)
    for name in names.split():
        _METHOD_SINKS[name] = (*_METHOD_SINKS.get(name, ()), sink)


_add_method("sql", "execute executemany executescript exec_driver_sql raw", _sql)
_add_method("sql", "execute_statement batch_execute_statement start_query_execution", _data_api_sql)
_add_method(
    "path",
    "open read_text read_bytes write_text write_bytes unlink rmdir mkdir touch rename "
    "replace iterdir symlink_to hardlink_to chmod",
    _receiver_with("path"),
)
_add_method("path", "download_file", _download_file)
_add_method("path", "upload_file", _first("as the local file", "Filename"))
_add_method("url", "get post put patch delete head options", _http_method(0), fixed_origin)
_add_method("url", "request urlopen stream", _http_method(1), fixed_origin)
_add_method(
    "log",
    "debug info warning warn error exception critical fatal log append_keys",
    _logged,
)

# --- call results: sources, sanitisers, traits -----------------------------------------

_NUMERIC = frozenset(
    {"builtins.int", "builtins.float", "builtins.complex", "builtins.round", "builtins.abs"}
    | {"decimal.Decimal", "uuid.UUID", "datetime.date.fromisoformat"}
    | {"datetime.datetime.fromisoformat", "datetime.datetime.strptime", "fractions.Fraction"}
)
_OPAQUE = frozenset(
    {"builtins.len", "builtins.bool", "builtins.hash", "builtins.id", "builtins.isinstance"}
    | {"builtins.issubclass", "builtins.type", "builtins.callable", "builtins.hasattr"}
    | {"uuid.uuid4", "uuid.uuid1", "time.time", "time.monotonic", "builtins.range"}
)
_OPAQUE_PREFIXES = ("hashlib.", "hmac.", "secrets.", "random.", "zlib.crc32", "binascii.crc32")
_STRINGIFY = frozenset(
    {"builtins.str", "builtins.repr", "builtins.dict", "builtins.format", "json.dumps"}
    | {"pprint.pformat", "copy.copy", "copy.deepcopy", "simplejson.dumps", "orjson.dumps"}
)
_TRANSPARENT = frozenset(
    {"json.loads", "simplejson.loads", "orjson.loads", "ujson.loads", "json.load"}
    | {"base64.b64decode", "base64.b64encode", "base64.urlsafe_b64decode"}
    | {"base64.urlsafe_b64encode", "base64.decodebytes", "binascii.unhexlify"}
    | {"urllib.parse.unquote", "urllib.parse.unquote_plus", "urllib.parse.parse_qs"}
    | {"urllib.parse.parse_qsl", "urllib.parse.urlparse", "urllib.parse.urlsplit"}
    | {"urllib.parse.urlencode", "urllib.parse.urljoin", "builtins.list", "builtins.tuple"}
    | {"builtins.set", "builtins.frozenset", "builtins.sorted", "builtins.bytes"}
    | {"builtins.min", "builtins.max", "builtins.next", "builtins.iter", "builtins.reversed"}
    | {"builtins.enumerate", "builtins.zip", "builtins.getattr", "os.path.join"}
    | {"posixpath.join", "os.path.dirname", "os.path.splitext", "io.BytesIO", "io.StringIO"}
    | {"gzip.decompress", "zlib.decompress", "textwrap.dedent", "html.unescape"}
)
_TRANSPARENT_METHODS = frozenset(
    {"strip", "lstrip", "rstrip", "lower", "upper", "title", "capitalize", "casefold"}
    | {"decode", "encode", "split", "rsplit", "splitlines", "replace", "join", "copy"}
    | {"items", "values", "pop", "partition", "rpartition", "removeprefix", "removesuffix"}
    | {"zfill", "ljust", "rjust", "center", "translate", "format", "format_map", "read"}
    | {"getvalue", "json", "setdefault", "popitem"}
)
_COMMAND_QUOTE = frozenset({"shlex.quote", "pipes.quote", "shlex.join"})
_URL_QUOTE = frozenset({"urllib.parse.quote", "urllib.parse.quote_plus"})
_BASENAME = frozenset(
    {"os.path.basename", "posixpath.basename", "ntpath.basename"}
    | {"werkzeug.utils.secure_filename", "werkzeug.secure_filename"}
)
_NORMALISE = frozenset(
    {"os.path.normpath", "os.path.realpath", "os.path.abspath", "posixpath.normpath"}
    | {"posixpath.realpath", "posixpath.abspath"}
)
_SQL_QUOTE = frozenset(
    f"{package}.sql.{name}"
    for package in ("psycopg2", "psycopg")
    for name in ("Identifier", "Literal")
)
_PATH_TYPES = frozenset(
    {"pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath", "pathlib.PurePosixPath"}
)
_LOGGERS = frozenset(
    {"logging.getLogger", "logging.Logger", "logging.getLoggerClass", "structlog.get_logger"}
    | {"structlog.getLogger", "structlog.stdlib.get_logger", "aws_lambda_powertools.Logger"}
    | {"aws_lambda_powertools.logging.Logger", "aws_lambda_powertools.logging.logger.Logger"}
)
_HTTP_CLIENTS = frozenset(
    {"requests.Session", "requests.session", "requests.sessions.Session", "httpx.Client"}
    | {"httpx.AsyncClient", "urllib3.PoolManager", "urllib3.ProxyManager"}
    | {"urllib3.HTTPConnectionPool", "urllib3.HTTPSConnectionPool", "aiohttp.ClientSession"}
)
_EXCEPTION_TEXT = frozenset(
    {"traceback.format_exc", "traceback.format_exception", "traceback.format_tb"}
    | {"traceback.format_exception_only", "traceback.format_stack", "sys.exc_info"}
)
_POWERTOOLS_PARAMETERS = "aws_lambda_powertools.utilities.parameters."
_ENVIRON_READS = frozenset({"os.getenv", "os.environ.get", "os.environb.get"})
_CONTAINERS = frozenset({"builtins.frozenset", "builtins.set", "builtins.tuple", "builtins.list"})


def _secret(source: str, line: int) -> Value:
    return Value(flows=(Flow(SECRET, source, line),))


def _environment(site: CallSite, name_value: Value | None) -> Value:
    name = name_value.text if name_value is not None and name_value.whole else None
    if name is not None and sensitive_name(name) is not None:
        return Value(flows=(Flow(SECRET, f'os.environ["{name}"]', site.line),), pure=True)
    default = site.arg(1, "default")
    return propagate([default]) if default is not None else CLEAN


def _result(site: CallSite) -> Value | None:
    name = site.qualname
    method = site.method
    inputs = site.inputs()
    if name is not None:
        if name in _ENVIRON_READS:
            return _environment(site, site.arg(0, "key"))
        if name in _NUMERIC:
            return propagate(inputs, _NO_EVENT)
        if name in _OPAQUE or name.startswith(_OPAQUE_PREFIXES):
            return CLEAN
        if name in _STRINGIFY:
            return propagate(inputs)
        if name in _TRANSPARENT:
            value = propagate(inputs, _NOT_RAW)
            if name in _CONTAINERS and site.args and "constant-collection" in site.args[0].traits:
                return Value(traits=frozenset({"constant-collection"}))
            return value
        if name in _COMMAND_QUOTE:
            return _cleared(propagate(inputs, _NOT_RAW), {"command"})
        if name in _URL_QUOTE:
            return _cleared(propagate(inputs, _NOT_RAW), {"command", "sql"})
        if name in _BASENAME:
            return _cleared(propagate(inputs, _NOT_RAW), {"path"})
        if name in _SQL_QUOTE:
            return _cleared(propagate(inputs, _NOT_RAW), {"sql"})
        if name in _NORMALISE:
            return propagate(inputs, _NOT_RAW, frozenset({"normalised"}))
        if name in _PATH_TYPES:
            return propagate(inputs, _NOT_RAW, frozenset({"path"}))
        if name in _LOGGERS:
            return Value(traits=frozenset({"logger"}))
        if name in _HTTP_CLIENTS:
            return Value(traits=frozenset({"http"}))
        if name in _EXCEPTION_TEXT:
            return Value(flows=(Flow(EXCEPTION, f"{name}()", site.line),))
        if name == "re.compile":
            pattern = site.arg(0, "pattern")
            if pattern is not None and pattern.whole and safe_pattern(pattern.text or ""):
                return Value(traits=frozenset({"safe-regex"}))
            return CLEAN
        if name.startswith(_POWERTOOLS_PARAMETERS):
            function = name.rsplit(".", 1)[-1]
            decrypt = site.kw("decrypt")
            if function in ("get_secret", "get_secrets_by_name") or (
                decrypt is not None and decrypt.truth is True
            ):
                return _secret(f"Powertools `{function}`", site.line)
            return CLEAN
        if name.startswith("aws_lambda_powertools.event_handler.") and name.endswith("Resolver"):
            traits = {"resolver"}
            validation = site.kw("enable_validation")
            if validation is not None and validation.truth is True:
                traits.add("validating")
            return Value(traits=frozenset(traits))
        if name in ("fastjsonschema.compile",) or (
            name.startswith("jsonschema.") and name.endswith("Validator")
        ):
            return Value(traits=frozenset({"validator"}))
    if method is not None:
        receiver = site.receiver if site.receiver is not None else CLEAN
        if method == "get_secret_value":
            return _secret("Secrets Manager `get_secret_value`", site.line)
        if method in ("get_parameter", "get_parameters", "get_parameters_by_path"):
            decrypt = site.kw("WithDecryption")
            if decrypt is not None and decrypt.truth is True:
                return _secret(f"SSM `{method}` with `WithDecryption=True`", site.line)
            return CLEAN
        if method == "decrypt" and site.kw("CiphertextBlob") is not None:
            return _secret("KMS `decrypt`", site.line)
        if method == "resolve":
            return propagate([receiver], _NOT_RAW, frozenset({"path", "normalised"}))
        if method in _TRANSPARENT_METHODS:
            kept = receiver.traits & {"path"}
            return propagate((receiver, *inputs), _NOT_RAW, kept)
        if method in ("hexdigest", "digest", "count", "index", "find", "startswith", "endswith"):
            return CLEAN
        if method in ("isdigit", "isdecimal", "isnumeric", "isalnum", "isalpha", "isidentifier"):
            return CLEAN
    return None


def _cleared(value: Value, categories: set[str]) -> Value:
    return value.with_flows(
        Flow(f.label, f.source, f.line, f.steps, f.cleared | categories) for f in value.flows
    )


def _named(qualname: str, line: int) -> Value:
    if qualname in ("os.environ", "os.environb"):
        return Value(
            flows=(Flow(SECRET, f"{qualname} (every environment variable)", line),),
            qualname=qualname,
            pure=True,
        )
    return Value(qualname=qualname)


def _attribute(receiver: Value, attr: str, line: int) -> Value | None:
    if "resolver" in receiver.traits and attr == "current_event":
        source = "current_event"
        return Value(flows=(Flow(EVENT, source, line), Flow(RAW, source, line)), pure=True)
    return None


def _index(receiver: Value, key: str | None, line: int) -> Value | None:
    if receiver.qualname in ("os.environ", "os.environb"):
        if key is not None and sensitive_name(key) is not None:
            return Value(flows=(Flow(SECRET, f'os.environ["{key}"]', line),), pure=True)
        return CLEAN
    return None


_NUMERIC_TYPES = frozenset(
    {"builtins.int", "builtins.float", "builtins.bool", "decimal.Decimal", "uuid.UUID"}
)
_STR_TESTS = frozenset({"isdigit", "isdecimal", "isnumeric", "isalnum", "isalpha", "isidentifier"})


def _guard(site: CallSite) -> Guard | None:
    name, method = site.qualname, site.method
    if name == "builtins.isinstance" and len(site.args) >= 2:
        kinds = site.args[1]
        types = kinds.parts if kinds.parts is not None else (kinds,)
        if types and all(t.qualname in _NUMERIC_TYPES for t in types):
            return Guard(0, ALL_CATEGORIES)
        return None
    if name in ("re.fullmatch", "re.match") and len(site.args) >= 2:
        pattern = site.args[0]
        text = pattern.text or ""
        if (
            pattern.whole
            and safe_pattern(text)
            and (name == "re.fullmatch" or text.endswith("\\Z"))
        ):
            return Guard(1, ALL_CATEGORIES)
        return None
    if method is None or site.receiver is None:
        return None
    if method in _STR_TESTS:
        return Guard(None, ALL_CATEGORIES)
    if method == "fullmatch" and "safe-regex" in site.receiver.traits:
        return Guard(0, ALL_CATEGORIES)
    if method == "startswith" and site.args:
        prefix = site.args[0]
        if prefix.whole and fixed_origin(prefix):
            return Guard(None, frozenset({"url"}))
        return Guard(None, frozenset({"path"}), requires="normalised")
    if method == "is_relative_to":
        return Guard(None, frozenset({"path"}), requires="normalised")
    if method == "relative_to":
        return Guard(None, frozenset({"path"}), requires="normalised", asserts=True)
    return None


_VALIDATING_CALLS = frozenset(
    {"jsonschema.validate", "fastjsonschema.validate"}
    | {"aws_lambda_powertools.utilities.validation.validate"}
    | {"aws_lambda_powertools.utilities.parser.parse"}
)
_MODEL_METHODS = frozenset(
    {"model_validate", "model_validate_json", "parse_obj", "parse_raw", "validate_python"}
    | {"validate_json", "model_validate_strings"}
)
_VALIDATOR_METHODS = frozenset({"validate", "is_valid", "iter_errors", "load", "loads"})


def _validator(site: CallSite) -> str | None:
    name, method = site.qualname, site.method
    if name is not None:
        if name.startswith("lambdashield.runtime"):
            return f"`{name.rsplit('.', 1)[-1]}` from `lambdashield.runtime`"
        if name in _VALIDATING_CALLS:
            return f"`{name}`"
    receiver = site.receiver
    if method is not None and receiver is not None:
        if method in _MODEL_METHODS:
            return f"`{method}`"
        if method in _VALIDATOR_METHODS and receiver.traits & {"validator", "model-instance"}:
            return f"`{method}` of a schema"
        if method == "resolve" and "validating" in receiver.traits:
            return "a router with `enable_validation=True`"
    return None


_ROUTE_METHODS = frozenset(
    {"get", "post", "put", "patch", "delete", "head", "options", "route", "tool"}
)
_VALIDATING_DECORATORS = frozenset(
    {"aws_lambda_powertools.utilities.validation.validator"}
    | {"aws_lambda_powertools.utilities.parser.event_parser"}
)


def _decorator(value: Value, site: CallSite | None) -> DecoratorEffect:
    name = site.qualname if site is not None else value.qualname
    if name is not None:
        if name.startswith("lambdashield.runtime"):
            return DecoratorEffect(validates=f"`@{name.rsplit('.', 1)[-1]}` from lambdashield")
        if name in _VALIDATING_DECORATORS:
            return DecoratorEffect(validates=f"Powertools `@{name.rsplit('.', 1)[-1]}`")
    if site is not None and site.method is not None and site.receiver is not None:
        if site.method == "inject_lambda_context":
            log_event = site.kw("log_event")
            return DecoratorEffect(logs_event=log_event is not None and log_event.truth is True)
        if site.method in _ROUTE_METHODS and "resolver" in site.receiver.traits:
            return DecoratorEffect(route=True)
    return DecoratorEffect()


def _iter_builtins() -> Iterator[str]:
    yield from (name for name in dir(builtins) if not name.startswith("_"))
    yield "__import__"


PYTHON = LanguageSpec(
    language="python",
    builtins=frozenset(_iter_builtins()),
    builtin_prefix="builtins.",
    sinks=_SINKS,
    method_sinks=_METHOD_SINKS,
    named=_named,
    result=_result,
    attribute=_attribute,
    index=_index,
    guard=_guard,
    validator=_validator,
    decorator=_decorator,
    model_bases=frozenset(
        {"pydantic.BaseModel", "pydantic.main.BaseModel", "marshmallow.Schema"}
        | {"aws_lambda_powertools.utilities.parser.BaseModel", "pydantic.RootModel"}
    ),
    raw_keys=frozenset(
        {"headers", "multiValueHeaders", "requestContext", "cookies", "request_context"}
        | {"multi_value_headers", "raw_event"}
    ),
    constructor="__init__",
)
