"""What each function's Python handler imports, read with `ast`; nothing is imported or run.

For every dependency set linked to functions, the handler module of each function is found
in its code folder (`app.lambda_handler` -> `app.py`, `src/handlers/orders.main` ->
`src/handlers/orders.py`) and parsed. Imports of the function's own modules are followed,
transitively, within the code folder (absolute imports from the folder's top, as Lambda's
`/var/task` on `sys.path` resolves them, and relative ones from the importing package).
What is neither the function's own code nor the standard library is recorded as a
`HandlerImport`, with the distributions that may provide it:

1. the distributions whose `top_level.txt` (else `RECORD`) lists the module, when the set
   is an installed tree or the code folder holds installed packages (a build folder);
2. a small table of the well-known names that differ (`yaml` -> PyYAML, `PIL` -> Pillow);
3. the module's own name, and its dotted prefixes joined with `-` (`google.cloud.storage`
   -> `google-cloud-storage`), normalised as PEP 503 says.

Only code inside a folder that holds one of the scanned dependency sets is read (those were
found under the scanned root), never a file a link points out of it. A function is
`traced` when its handler and every module of its own it imports could be read and parsed;
otherwise what was found is kept but nothing is claimed about the rest.

`importlib.import_module("x")` and `__import__("x")` with a literal name count as imports,
as does any call named `import_module` or `__import__`, whatever it is called on: the name
is all the source says, and a module counted that is never loaded can make a package look
used, never unused.
`import_module(".x", "pkg")`, both literal, is the absolute `pkg.x` (`"..x"` climbs as
`importlib` does); `__import__` with a literal `fromlist` reads its names as `from x import
a, b` does, and with a literal `level` above 0 it is relative to the calling module's
package. A call that imports a module whose name the source does not spell out as a
literal (`import_module(name)`, `import_module(f"plugins.{x}")`, `__import__(mod)`,
`import_module(".x", __package__)`, a `fromlist` or `level` held in a variable, or arguments
passed as `*args` or `**kwargs`) leaves the trace incomplete, as a dynamic `require` does
in Node.js; what was found is kept. A call that loads nothing (no name, an empty one, a
relative name with no package or beyond its top) is not an import.

A scan parses each file once: the trace takes the syntax trees `loaders.handlers` made of
the handler files (`parsed`, by resolved path) and reads them, never changing them, and
each other module it follows is parsed once however many handlers import it.

Node.js functions' JavaScript and TypeScript handlers are read the same way by
`loaders.node_imports`. A function's imports are added to the linked sets of its own
ecosystem only (a Python handler's to PyPI sets, a Node.js handler's to npm sets), and so is
its name in `traced`: a Python package beside a Node.js handler is not said to be unused.
"""

from __future__ import annotations

import ast
import os
import re
import sys
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from lambdashield.loaders._paths import real_file
from lambdashield.loaders.link import function_code, python_version, set_folders
from lambdashield.model import Application, DependencySet, Function, HandlerImport, Unresolved

if TYPE_CHECKING:
    from lambdashield.loaders.handlers import ParsedSource
    from lambdashield.loaders.node_imports import FileImports

__all__ = [
    "KNOWN_IMPORT_NAMES",
    "FileWalk",
    "HandlerTrace",
    "contained_file",
    "distribution_candidates",
    "installed_top_levels",
    "read_handler",
    "trace_imports",
]

MAX_SOURCE_BYTES = 2 * 1024 * 1024
MAX_FILES = 2_000
"""Modules of its own followed per handler; a bigger tree is read that far, untraced."""
MAX_METADATA_BYTES = 1024 * 1024

KNOWN_IMPORT_NAMES: dict[str, tuple[str, ...]] = {
    "Crypto": ("pycryptodome", "pycrypto"),
    "Cryptodome": ("pycryptodomex",),
    "Levenshtein": ("python-levenshtein", "levenshtein"),
    "MySQLdb": ("mysqlclient",),
    "OpenSSL": ("pyopenssl",),
    "PIL": ("pillow",),
    "attr": ("attrs",),
    "bs4": ("beautifulsoup4",),
    "cv2": ("opencv-python", "opencv-python-headless", "opencv-contrib-python"),
    "dateutil": ("python-dateutil",),
    "docx": ("python-docx",),
    "dotenv": ("python-dotenv",),
    "git": ("gitpython",),
    "google.protobuf": ("protobuf",),
    "jose": ("python-jose",),
    "jwt": ("pyjwt",),
    "ldap": ("python-ldap",),
    "magic": ("python-magic",),
    "multipart": ("python-multipart",),
    "nacl": ("pynacl",),
    "pkg_resources": ("setuptools",),
    "pptx": ("python-pptx",),
    "psycopg2": ("psycopg2", "psycopg2-binary"),
    "serial": ("pyserial",),
    "skimage": ("scikit-image",),
    "sklearn": ("scikit-learn",),
    "slugify": ("python-slugify",),
    "socks": ("pysocks",),
    "websocket": ("websocket-client",),
    "yaml": ("pyyaml",),
    "zmq": ("pyzmq",),
}
"""Import names whose distribution is not named like them (PEP 503 names)."""

_STDLIB = frozenset(sys.stdlib_module_names) | {"__future__", "__main__"}
_PEP503 = re.compile(r"[-_.]+")


def _normalise(name: str) -> str:
    return _PEP503.sub("-", name).lower()


# --- Installed distributions ------------------------------------------------------------


def _distribution_name(entry: str) -> str:
    """`PyYAML-6.0.1.dist-info` -> `pyyaml`."""
    stem = entry.rsplit(".", 1)[0]
    return _normalise(stem.split("-", 1)[0])


def _read_small(path: Path) -> str | None:
    try:
        if path.is_symlink() or not path.is_file():
            return None
        with path.open("rb") as handle:
            return handle.read(MAX_METADATA_BYTES).decode("utf-8", "replace")
    except OSError:
        return None


def top_levels_of(top_level: str | None, record: str | None) -> set[str]:
    """Top-level import names from a `top_level.txt`, else from a `RECORD`'s paths."""
    if top_level is not None:
        return {line.strip() for line in top_level.splitlines() if line.strip().isidentifier()}
    names: set[str] = set()
    for line in (record or "").splitlines():
        first = line.split(",", 1)[0].strip().strip('"').split("/", 1)
        head = first[0]
        if not head or head.startswith(".") or head.endswith((".dist-info", ".data")):
            continue
        if len(first) == 1:
            if head.endswith(".py"):
                names.add(head[:-3])
            elif head.endswith((".so", ".pyd")):
                names.add(head.split(".", 1)[0])
        elif head != "__pycache__" and head.isidentifier():
            names.add(head)
    return {n for n in names if n.isidentifier()}


def installed_top_levels(folder: Path) -> dict[str, tuple[str, ...]]:
    """Top-level import name -> normalised names of the installed distributions in `folder`
    (its `*.dist-info` entries) that provide it."""
    found: dict[str, list[str]] = {}
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return {}
    for entry in entries:
        if not entry.name.endswith(".dist-info") or not entry.is_dir(follow_symlinks=False):
            continue
        base = Path(entry.path)
        top_level = _read_small(base / "top_level.txt")
        record = None if top_level is not None else _read_small(base / "RECORD")
        distribution = _distribution_name(entry.name)
        for name in top_levels_of(top_level, record):
            owners = found.setdefault(name, [])
            if distribution not in owners:
                owners.append(distribution)
    return {name: tuple(owners) for name, owners in found.items()}


def distribution_candidates(
    module: str, installed: dict[str, tuple[str, ...]] | None = None
) -> tuple[str, ...]:
    """The distributions (PEP 503 names) that may provide `module`, best first."""
    parts = module.split(".")
    prefixes = [".".join(parts[:end]) for end in range(len(parts), 0, -1)]
    found: list[str] = list((installed or {}).get(parts[0], ()))
    for prefix in prefixes:
        found.extend(KNOWN_IMPORT_NAMES.get(prefix, ()))
    found.extend(_normalise(prefix) for prefix in prefixes)
    return tuple(dict.fromkeys(found))


# --- Reading one handler ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Import:
    module: str
    """Absolute dotted name, or the relative target resolved against the package."""
    level: int
    names: tuple[str, ...]
    """For `from module import a, b`: `a`, `b` (they may be submodules)."""
    line: int


@dataclass(frozen=True, slots=True)
class _FileImports:
    imports: tuple[_Import, ...]
    complete: bool
    """False when a call imports a module whose name the source does not spell out."""


class _Unseen(Exception):
    """A call imports a module whose name is not a literal."""


def _text(node: ast.expr) -> str | None:
    """The value of a string literal, or of an f-string without placeholders."""
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.JoinedStr):
        parts = [
            v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
        ]
        return "".join(parts) if len(parts) == len(node.values) else None
    return None


def _argument(call: ast.Call, position: int, keyword: str) -> ast.expr | None:
    """What `call` passes as the parameter at `position` or named `keyword`; `None` when it
    passes nothing there. A `*args` or `**kwargs` that may hold it is returned in its place:
    not being a literal, it reads as unseen."""
    for index, argument in enumerate(call.args[: position + 1]):
        if isinstance(argument, ast.Starred) or index == position:
            return argument
    spread: ast.expr | None = None
    for given in call.keywords:
        if given.arg == keyword:
            return given.value
        if given.arg is None:
            spread = given.value
    return spread


def _resolve(name: str, package: str) -> str | None:
    """`import_module(name, package)`'s absolute name for a relative `name`, as `importlib`
    resolves it; `None` where it refuses (no package, or climbing beyond its top)."""
    level = len(name) - len(name.lstrip("."))
    bits = package.rsplit(".", level - 1)
    if not package or len(bits) < level:
        return None
    rest = name[level:]
    return f"{bits[0]}.{rest}" if rest else bits[0]


def _import_module(call: ast.Call) -> _Import | None:
    name = _argument(call, 0, "name")
    if name is None:
        return None  # no name: a TypeError (or another object's method), nothing loaded
    text = _text(name)
    if text is None:
        raise _Unseen
    if not text.startswith("."):
        return _Import(text, 0, (), call.lineno) if text else None
    package = _argument(call, 1, "package")
    if package is None:
        return None  # importlib refuses a relative name without a package
    anchor = _text(package)
    if anchor is None:
        raise _Unseen  # `__package__` included: it can be reassigned
    resolved = _resolve(text, anchor)
    return _Import(resolved, 0, (), call.lineno) if resolved else None


def _dunder_import(call: ast.Call) -> _Import | None:
    name = _argument(call, 0, "name")
    if name is None:
        return None
    text = _text(name)
    if text is None:
        raise _Unseen
    # Own submodules named in `fromlist` are loaded too, so an unknown list hides code.
    fromlist = _argument(call, 3, "fromlist")
    names: tuple[str, ...] = ()
    if isinstance(fromlist, ast.List | ast.Tuple):
        texts = [_text(element) for element in fromlist.elts]
        if any(t is None for t in texts):
            raise _Unseen
        names = tuple(t for t in texts if t and t != "*")
    elif fromlist is not None and not (
        isinstance(fromlist, ast.Constant) and fromlist.value is None
    ):
        raise _Unseen
    given = _argument(call, 4, "level")
    level = 0
    if given is not None:
        if not (isinstance(given, ast.Constant) and type(given.value) is int):
            raise _Unseen
        level = given.value
    if level == 0 and (not text or text.startswith(".")):
        return None  # Python refuses an empty or a dotted absolute name
    return _Import(text, level, names, call.lineno)


_CALLS: dict[str, Callable[[ast.Call], _Import | None]] = {
    "import_module": _import_module,
    "__import__": _dunder_import,
}


def _imports(tree: ast.AST) -> _FileImports:
    found: list[_Import] = []
    complete = True
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(_Import(alias.name, 0, (), node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names = tuple(a.name for a in node.names if a.name != "*")
            found.append(_Import(node.module or "", node.level, names, node.lineno))
        elif isinstance(node, ast.Call):
            func = node.func
            called = (
                func.attr
                if isinstance(func, ast.Attribute)
                else func.id
                if isinstance(func, ast.Name)
                else ""
            )
            read = _CALLS.get(called)
            if read is None:
                continue
            try:
                call = read(node)
            except _Unseen:
                complete = False
                continue
            if call is not None:
                found.append(call)
    return _FileImports(tuple(found), complete)


@dataclass
class HandlerTrace:
    """What one handler imports: `(module, file, line)` for each outside module, first
    occurrence only, and whether the whole of its own code could be read."""

    found: dict[str, tuple[PurePosixPath, int]] = field(default_factory=dict)
    complete: bool = True
    files: int = 0
    ecosystem: str = "PyPI"
    """Where the modules it found come from: `PyPI` for Python code, `npm` for Node.js."""


class _PythonFiles:
    """The imports of each Python file, read once: a module several handlers import is
    parsed once, and a handler file the handler loader parsed is not parsed again."""

    def __init__(self, parsed: Mapping[Path, ParsedSource] | None = None) -> None:
        self.parsed = parsed or {}
        self.read: dict[Path, _FileImports | None] = {}

    def imports(self, path: Path) -> _FileImports | None:
        """Those of the file at `path` (resolved); `None` when it cannot be read or parsed."""
        if path not in self.read:
            self.read[path] = self._imports(path)
        return self.read[path]

    def _imports(self, path: Path) -> _FileImports | None:
        try:
            if path.stat().st_size > MAX_SOURCE_BYTES:
                return None
            # The loader's tree is the one `ast.parse` makes of the bytes: the loader decodes
            # them as the compiler does (a BOM, else a PEP 263 `coding:` line, else UTF-8,
            # by `tokenize.detect_encoding`), then parses that text. A file it could not
            # decode, or refused (over its size or line limits), has no tree and is parsed
            # here, as before. A link may give a `.py` name to a file the loader took for
            # JavaScript: its tree-sitter tree is not taken.
            source = self.parsed.get(path)
            tree = source.syntax if source is not None else None
            if not isinstance(tree, ast.Module):
                with warnings.catch_warnings():
                    # As the loader: what the parser warns of in the scanned code (an
                    # invalid escape) is not ours to raise, nor, raised as an error, to
                    # stop the trace.
                    warnings.simplefilter("ignore")
                    tree = ast.parse(path.read_bytes(), filename=path.name)
        except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
            return None
        return _imports(tree)


def contained_file(path: Path, real_root: Path) -> Path | None:
    """The real path of `path` when it is a file inside `real_root` (itself resolved), links
    followed: a function's own code is read only from its code folder."""
    real = real_file(path)
    return real if real is not None and real.is_relative_to(real_root) else None


def _module_path(handler: str) -> str | None:
    """`orders.app.create` -> `orders/app`; `src/handlers/orders.main` -> `src/handlers/orders`."""
    module = handler.rsplit(".", 1)[0] if "." in handler else None
    if not module:
        return None
    folder, _, name = module.rpartition("/")
    name = name.replace(".", "/")
    return f"{folder}/{name}" if folder else name


class FileWalk:
    """One handler's trace over its own files: each file read once, breadth first, until
    `MAX_FILES`, beyond which the trace is incomplete. A language's reader supplies
    `read`, which records imports and `add`s the modules it follows."""

    def __init__(self, trace: HandlerTrace) -> None:
        self.trace = trace
        self.seen: set[Path] = set()
        self.queue: deque[Path] = deque()

    def add(self, path: Path) -> None:
        if path not in self.seen:
            self.seen.add(path)
            self.queue.append(path)

    def run(self, start: Path) -> HandlerTrace:
        self.add(start)
        while self.queue:
            path = self.queue.popleft()
            if self.trace.files >= MAX_FILES:
                self.trace.complete = False
                break
            self.trace.files += 1
            self.read(path)
        return self.trace

    def read(self, path: Path) -> None:
        raise NotImplementedError


class _Reader(FileWalk):
    def __init__(
        self,
        root: Path,
        display: PurePosixPath,
        installed: dict[str, tuple[str, ...]],
        files: _PythonFiles,
    ) -> None:
        self.root = root
        self.real_root = root.resolve()
        self.display = display
        self.installed = installed
        self.files = files
        super().__init__(HandlerTrace())

    def inside(self, path: Path) -> Path | None:
        """The real path of `path` when it is a file inside the code folder."""
        return contained_file(path, self.real_root)

    def local(self, relative: str) -> list[Path]:
        """The files of the function's own module `relative` (`orders/app`), if it is one:
        `orders/app.py` or `orders/app/__init__.py`; `[]` for a namespace folder."""
        base = self.root / relative
        for candidate in (base.with_name(base.name + ".py"), base / "__init__.py"):
            real = self.inside(candidate)
            if real is not None:
                return [real]
        return []

    def is_own(self, top: str) -> bool:
        """A top-level name the code folder itself provides (a module, a package or a
        namespace folder), unless an installed distribution there owns it."""
        if top in self.installed:
            return False
        if self.local(top):
            return True
        base = self.root / top
        return base.is_dir() and not base.is_symlink()

    def read(self, path: Path) -> None:
        imports = self.files.imports(path)
        if imports is None:
            self.trace.complete = False
            return
        if not imports.complete:
            self.trace.complete = False
        relative = path.relative_to(self.real_root)
        shown = self.display / relative.as_posix()
        package = relative.parent.as_posix()
        package = "" if package == "." else package
        for found in imports.imports:
            if found.level:
                self.relative(package, found)
            else:
                self.absolute(found.module, found.names, shown, found.line)

    def relative(self, package: str, found: _Import) -> None:
        parts = package.split("/") if package else []
        up = found.level - 1
        if up >= len(parts):
            return  # beyond the top-level package: Python refuses it too
        base = parts[: len(parts) - up] if up else parts
        target = [*base, *found.module.split(".")] if found.module else base
        self.follow("/".join(target), found.names)

    def follow(self, relative: str, names: Iterable[str]) -> None:
        """Queue an own module, its parent packages' `__init__`, and named submodules."""
        parts = relative.split("/") if relative else []
        for end in range(1, len(parts) + 1):
            for path in self.local("/".join(parts[:end])):
                self.add(path)
        for name in names:
            for path in self.local("/".join([*parts, name])):
                self.add(path)

    def absolute(
        self, module: str, names: tuple[str, ...], shown: PurePosixPath, line: int
    ) -> None:
        top = module.split(".", 1)[0]
        if not top or top in _STDLIB:
            return
        if self.is_own(top):
            self.follow(module.replace(".", "/"), names)
            return
        self.trace.found.setdefault(module, (shown, line))


def read_handler(
    root: Path,
    display: PurePosixPath,
    handler: str,
    installed: dict[str, tuple[str, ...]] | None = None,
) -> HandlerTrace | None:
    """The imports of `handler` with code folder `root` (shown as `display`); `None` when the
    handler's module is not a readable file inside `root`."""
    return _read_python(root, display, handler, installed or {}, _PythonFiles())


def _read_python(
    root: Path,
    display: PurePosixPath,
    handler: str,
    installed: dict[str, tuple[str, ...]],
    files: _PythonFiles,
) -> HandlerTrace | None:
    module = _module_path(handler)
    if module is None:
        return None
    reader = _Reader(root, display, installed, files)
    start = reader.local(module)
    if not start:
        return None
    return reader.run(start[0])


# --- Every linked function --------------------------------------------------------------

_TRACED_ECOSYSTEMS = frozenset({"PyPI", "npm"})


def _languages(function: Function) -> tuple[str, ...]:
    """Which handler files to look for: a Python or Node.js runtime's, both (Python first,
    as `loaders.handlers` looks) when the runtime is not known, none for other runtimes."""
    runtime = function.runtime
    if runtime is None or isinstance(runtime, Unresolved):
        return ("python", "node")
    if python_version(function) is not None:
        return ("python",)
    return ("node",) if runtime.strip().lower().startswith("nodejs") else ()


def trace_imports(
    applications: Sequence[Application],
    dependency_sets: Sequence[DependencySet],
    *,
    base: Path | None = None,
    parsed: Mapping[Path, ParsedSource] | None = None,
) -> list[DependencySet]:
    """Each linked PyPI or npm set with `imports` and `traced` filled from the handlers of
    its functions written for that ecosystem. Display paths are the paths as given, so they
    open from the working folder, or from `base` when given. `parsed` holds the handler
    files `loaders.handlers` parsed, by resolved path: their trees are read, not made again."""
    where = base or Path()
    readable = {folder for s in dependency_sets for folder in set_folders(s)}
    functions: dict[str, list[tuple[Application, Function]]] = {}
    for application in applications:
        for function in application.functions:
            functions.setdefault(function.origin.resource, []).append((application, function))
    installed_cache: dict[str, dict[str, tuple[str, ...]]] = {}
    aliases_cache: dict[str, dict[str, str]] = {}

    def installed(folder: str) -> dict[str, tuple[str, ...]]:
        if folder not in installed_cache:
            installed_cache[folder] = installed_top_levels(where / folder)
        return installed_cache[folder]

    def aliases(folder: str) -> dict[str, str]:
        if folder not in aliases_cache:
            # Imported where used, here and below: `node_imports` builds on this module.
            from lambdashield.loaders.node_imports import npm_aliases

            aliases_cache[folder] = npm_aliases(where / folder)
        return aliases_cache[folder]

    tracer = _Tracer(readable, installed, where, parsed or {})
    result: list[DependencySet] = []
    for dependency_set in dependency_sets:
        ecosystems = {d.ecosystem for d in dependency_set.dependencies} & _TRACED_ECOSYSTEMS
        if not dependency_set.functions or not ecosystems:
            result.append(dependency_set)
            continue
        own = (
            installed(set_folders(dependency_set)[0])
            if dependency_set.kind == "site-packages"
            else {}
        )
        imports: list[HandlerImport] = []
        traced: list[str] = []
        for name in dependency_set.functions:
            for application, function in functions.get(name, []):
                trace, folder = tracer.trace(application, function)
                if trace is None or trace.ecosystem not in ecosystems:
                    continue
                if trace.ecosystem == "npm":
                    from lambdashield.loaders.node_imports import npm_distributions

                    renamed = aliases(folder)
                    imports.extend(
                        HandlerImport(name, module, npm_distributions(module, renamed), path, line)
                        for module, (path, line) in sorted(trace.found.items())
                    )
                else:
                    names = {**installed(folder), **own}
                    imports.extend(
                        HandlerImport(
                            name, module, distribution_candidates(module, names), path, line
                        )
                        for module, (path, line) in sorted(trace.found.items())
                    )
                if trace.complete and name not in traced:
                    traced.append(name)
        result.append(
            replace(
                dependency_set,
                imports=tuple(dict.fromkeys(imports)),
                traced=tuple(traced),
            )
        )
    return result


class _Tracer:
    """Each function's handler read once per code folder, and each file once."""

    def __init__(
        self,
        readable: set[str],
        installed: Callable[[str], dict[str, tuple[str, ...]]],
        where: Path,
        parsed: Mapping[Path, ParsedSource],
    ) -> None:
        self.readable = readable
        self.installed = installed
        self.where = where
        self.parsed = parsed
        self.traces: dict[tuple[str, str, str], HandlerTrace | None] = {}
        self.python_files = _PythonFiles(parsed)
        self.node_files: dict[Path, FileImports] = {}

    def trace(
        self, application: Application, function: Function
    ) -> tuple[HandlerTrace | None, str]:
        languages = _languages(function)
        if function.handler is None or not languages:
            return None, ""
        code = function_code(application, function)
        for folder in (code.code, code.build):
            if folder is None or folder not in self.readable:
                continue
            if not (self.where / folder).is_dir():
                continue
            for language in languages:
                key = (folder, function.handler, language)
                if key not in self.traces:
                    self.traces[key] = self.read(folder, function.handler, language)
                if self.traces[key] is not None:
                    return self.traces[key], folder
        return None, ""

    def read(self, folder: str, handler: str, language: str) -> HandlerTrace | None:
        root, display = self.where / folder, PurePosixPath(folder)
        if language == "python":
            return _read_python(root, display, handler, self.installed(folder), self.python_files)
        from lambdashield.loaders.node_imports import read_node_handler

        return read_node_handler(root, display, handler, self.node_files, parsed=self.parsed)
