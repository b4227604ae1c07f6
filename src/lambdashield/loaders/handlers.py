"""Handler source files: found from each function's `CodeUri` + `Handler`, read and parsed.

`orders.app.handler` with `CodeUri: src/` is `src/orders/app.py` (or
`src/orders/app/__init__.py`) beside the template, entry point `handler`;
`src/index.handler` for Node.js is `src/index.js` (`.mjs`, `.cjs`, `.ts`, `.mts`, `.cts`).
Handler files discovery found without any template pointing at them count when they
define a Lambda-shaped entry point at the top level: `def handler(event, context)` or
`def lambda_handler(event, context)`, or, in Node.js, `exports.handler = ...` /
`export const handler = ...` (also `lambdaHandler`).

Nothing is imported or executed: Python is parsed with `ast`, never compiled;
JavaScript and TypeScript with tree-sitter. A file is
read only inside the scanned root (links resolved first), up to `MAX_SOURCE_BYTES`, and
only if it is text. What cannot be analysed is an error entry with its reason (a
handler that does not parse, Python 2, a binary file, nesting too deep to parse) or a
skip (a handler file missing or outside the root, an archive, a language whose front end
is not there yet); the other files go on.

Every source comes back with the template functions it serves; `SourceFile.handlers`
lists its entry points, and each `Function.handler` says which one is its own.
"""

from __future__ import annotations

import ast
import hashlib
import io
import posixpath
import re
import tokenize
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from tree_sitter import Node, Parser, Tree

from lambdashield.loaders._names import HANDLER_FILE
from lambdashield.loaders._paths import real_path
from lambdashield.loaders._suppressions import find_suppressions
from lambdashield.loaders._tree_sitter import node_parser
from lambdashield.model import (
    Application,
    Function,
    ScanError,
    SkippedInput,
    SourceFile,
    Suppression,
    Unresolved,
)

__all__ = [
    "HANDLER_FILE",
    "MAX_LINE_CHARS",
    "MAX_SOURCE_BYTES",
    "HandlerLoad",
    "ParsedSource",
    "entry_point",
    "load_handlers",
]

MAX_SOURCE_BYTES = 1_048_576
"""Handler files larger than this are generated, vendored or minified, not written."""
MAX_LINE_CHARS = 50_000
"""A longer line is data or minified code; it also bounds how deep an expression nests."""


_PYTHON_SUFFIXES = (".py",)
_NODE_SUFFIXES = (".js", ".mjs", ".cjs", ".ts", ".mts", ".cts")
_ARCHIVES = (".zip", ".jar", ".war", ".tar", ".gz", ".tgz")
_IDENTIFIER = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")
_PYTHON_ENTRY = re.compile(rb"^(?:async[ \t]+)?def[ \t]+(?:lambda_)?handler[ \t]*\(", re.MULTILINE)
_FALLBACK_ENTRIES = ("handler", "lambda_handler")
_NODE_ENTRY = re.compile(
    rb"^[ \t]*(?:(?:module\.)?exports\.(?P<assigned>handler|lambdaHandler)[ \t]*=|"
    rb"export[ \t]+(?:const|let|var|async[ \t]+function|function)[ \t]+"
    rb"(?P<exported>handler|lambdaHandler)\b)"
    rb"|^__export\([\w$]+,[ \t]*\{\r?\n(?:[ \t]+[\w$]+:[ \t]*\(\)[ \t]*=>[ \t]*[\w$]+,\r?\n)*"
    rb"[ \t]+(?P<bundled>handler|lambdaHandler):[ \t]*\(\)[ \t]*=>",
    re.MULTILINE,
)
"""A Node.js file that exports a Lambda-shaped entry point: `exports.handler = ...`,
`module.exports.handler = ...`, `export const handler`, `export async function handler`,
or an esbuild bundle's `__export(src_exports, { handler: () => handler2 })`."""
_PYTHON2 = (
    (re.compile(r"^\s*print\s+[^\s(=.,)][^\n]*$", re.MULTILINE), "a `print` statement"),
    (re.compile(r"^\s*exec\s+[\"'\w][^\n(]*$", re.MULTILINE), "an `exec` statement"),
    (re.compile(r"^\s*except\s+[\w.]+\s*,\s*\w+\s*:", re.MULTILINE), "`except X, e:`"),
    (re.compile(r"^\s*raise\s+[\w.]+\s*,", re.MULTILINE), "`raise X, message`"),
    (re.compile(r"\bur[\"']"), 'a `ur"..."` literal'),
    (re.compile(r"(?<![\w.])0[0-7]+\b"), "an old-style octal literal"),
    (re.compile(r"<>"), "the `<>` operator"),
    (re.compile(r"`[^`\n]+`"), "backtick repr"),
)


@dataclass(frozen=True, slots=True)
class ParsedSource:
    """A handler file ready for the code rules."""

    file: SourceFile
    text: str
    syntax: object
    """The language's syntax tree: an `ast.Module` for Python, a tree-sitter `Tree` for
    JavaScript and TypeScript."""
    functions: tuple[Function, ...] = ()
    """The template functions whose handler is in this file."""
    path: Path | None = None
    """The file on disk, resolved: the SDK readers of the same scan reuse `syntax` by it."""


@dataclass(frozen=True, slots=True)
class HandlerLoad:
    sources: tuple[ParsedSource, ...] = ()
    errors: tuple[ScanError, ...] = ()
    skipped: tuple[SkippedInput, ...] = ()
    suppressions: tuple[Suppression, ...] = ()


def entry_point(handler: str) -> tuple[str, str] | None:
    """`(module path, function name)` of a `Handler` setting: `("orders.app", "handler")`."""
    module, dot, name = handler.strip().rpartition(".")
    if not dot or not module or not _IDENTIFIER.match(name):
        return None
    return module, name


def _language(function: Function) -> tuple[str, ...]:
    runtime = function.runtime
    if isinstance(runtime, Unresolved) or runtime is None:
        return ("python", "node")
    if runtime.startswith("python"):
        return ("python",)
    if runtime.startswith("nodejs"):
        return ("node",)
    return ()


def _module_candidates(module: str, languages: tuple[str, ...]) -> list[str]:
    """Relative file paths a handler module may be, in the order Lambda tries them."""
    folder, _, last = module.rpartition("/")
    prefix = f"{folder}/" if folder else ""
    found: list[str] = []
    if "python" in languages:
        dotted = last.replace(".", "/")
        found += [f"{prefix}{dotted}.py", f"{prefix}{dotted}/__init__.py"]
    if "node" in languages:
        found += [f"{prefix}{last}{suffix}" for suffix in _NODE_SUFFIXES]
    return found


def _language_of(path: str) -> str:
    if path.endswith(_PYTHON_SUFFIXES):
        return "python"
    return "typescript" if path.endswith((".ts", ".mts", ".cts")) else "javascript"


@dataclass
class _Claim:
    real: Path
    display: PurePosixPath
    language: str
    functions: list[Function] = field(default_factory=list)
    handlers: set[str] = field(default_factory=set)


@dataclass
class _Result:
    sources: list[ParsedSource] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)
    skipped: list[SkippedInput] = field(default_factory=list)
    suppressions: list[Suppression] = field(default_factory=list)
    claimed: dict[bytes, str] = field(default_factory=dict)
    """What each handler file a template names holds (a digest of its bytes), with how a
    copy of it is told where it was analysed."""


def load_handlers(
    applications: Iterable[Application],
    candidates: Sequence[tuple[Path, PurePosixPath]] = (),
    *,
    root: Path,
    max_bytes: int = MAX_SOURCE_BYTES,
) -> HandlerLoad:
    """The handler sources of `applications`, then the handler-shaped files among
    `candidates` (`(path, display)` pairs from discovery) that no template claimed."""
    real_root = root.resolve()
    result = _Result()
    claims: dict[Path, _Claim] = {}
    shown = {real_path(path): display for path, display in candidates}
    for application in applications:
        for function in application.functions:
            _claim(application, function, real_root, shown, claims, result)
    for claim in sorted(claims.values(), key=lambda c: c.display):
        _load_claimed(claim, max_bytes, result)
    for path, display in sorted(candidates, key=lambda c: c[1]):
        real = real_path(path)
        if real in claims or not display.name.endswith(tuple(_SHAPED)):
            continue
        if not _inside(real, real_root):
            continue
        _load_unclaimed(real, display, max_bytes, result)
    return HandlerLoad(
        sources=tuple(result.sources),
        errors=tuple(result.errors),
        skipped=tuple(sorted(set(result.skipped), key=lambda s: (s.path, s.reason))),
        suppressions=tuple(result.suppressions),
    )


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _template_folder(application: Application) -> tuple[Path, PurePosixPath]:
    display = application.origin.path
    path = Path(display.as_posix())
    if path.is_dir():
        return path, display
    return path.parent, display.parent


def _claim(
    application: Application,
    function: Function,
    real_root: Path,
    shown: dict[Path, PurePosixPath],
    claims: dict[Path, _Claim],
    result: _Result,
) -> None:
    if function.package_type != "Zip" or not function.code_uri or not function.handler:
        return
    languages = _language(function)
    if not languages:
        return
    name = function.origin.resource
    where = function.origin.path
    entry = entry_point(function.handler)
    if entry is None:
        result.skipped.append(
            SkippedInput(where, f"`{name}`: handler `{function.handler}` names no function")
        )
        return
    module, entry_name = entry
    folder, display_folder = _template_folder(application)
    code = posixpath.normpath(function.code_uri.strip().rstrip("/") or ".")
    if code.lower().endswith(_ARCHIVES):
        result.skipped.append(
            SkippedInput(where, f"`{name}`: code is the archive `{code}`; handler not analysed")
        )
        return
    base = folder / code
    real_base = real_path(base)
    if not _inside(real_base, real_root):
        result.skipped.append(
            SkippedInput(
                where, f"`{name}`: code `{code}` is outside the scanned folder; handler not read"
            )
        )
        return
    if real_base.is_file():
        relative = [""] if real_base.suffix in (*_PYTHON_SUFFIXES, *_NODE_SUFFIXES) else []
    else:
        relative = _module_candidates(module, languages)
    for rel in relative:
        candidate = base / rel if rel else base
        # A stat is far cheaper than resolving a path that is not there.
        if not candidate.is_file():
            continue
        real = real_path(candidate)
        if not real.is_file():
            continue
        if not _inside(real, real_root):
            result.skipped.append(
                SkippedInput(where, f"`{name}`: handler file leads outside the scanned folder")
            )
            return
        joined = posixpath.normpath(posixpath.join(display_folder.as_posix(), code, rel or "."))
        display = shown.get(real, PurePosixPath(joined))
        claim = claims.get(real)
        if claim is None:
            claim = claims[real] = _Claim(real, display, _language_of(real.name))
        claim.functions.append(function)
        claim.handlers.add(entry_name)
        return
    expected = posixpath.normpath(posixpath.join(code, relative[0])) if relative else code
    result.skipped.append(
        SkippedInput(
            where,
            f"`{name}`: handler `{function.handler}` not found (looked for `{expected}`); "
            "its code is not analysed",
        )
    )


def _read(real: Path, display: PurePosixPath, max_bytes: int) -> bytes | ScanError:
    try:
        size = real.stat().st_size
        if size > max_bytes:
            return ScanError(
                display, f"handler file is {size:,} bytes, over the {max_bytes:,}-byte limit"
            )
        with real.open("rb") as handle:
            return handle.read(max_bytes + 1)
    except OSError as exc:
        return ScanError(display, f"cannot read handler file: {exc.strerror or exc}")


def _decode(data: bytes, display: PurePosixPath) -> str | ScanError:
    if b"\0" in data[:65536]:
        return ScanError(display, "binary file, not source code; not analysed")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        return ScanError(display, f"cannot tell the file's encoding: {exc.msg}", exc.lineno)
    try:
        text = data.decode("utf-8-sig" if encoding == "utf-8-sig" else encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        start = getattr(exc, "start", 0)
        line = data.count(b"\n", 0, start) + 1
        return ScanError(display, f"not valid {encoding} text; not analysed", line)
    for number, line_text in enumerate(text.splitlines(), start=1):
        if len(line_text) > MAX_LINE_CHARS:
            return ScanError(
                display,
                f"line {number} has {len(line_text):,} characters (limit {MAX_LINE_CHARS:,}): "
                "generated or minified code; not analysed",
                number,
            )
    return text


def parse_python(text: str, display: PurePosixPath) -> ast.Module | ScanError:
    """The syntax tree, or a located error that says why there is none. Warnings the
    parser raises about the scanned code (invalid escapes) are not ours to raise."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(text, filename=display.as_posix())
    except SyntaxError as exc:
        old = _python2(text)
        if old is not None:
            return ScanError(
                display,
                f"Python 2 syntax ({old}); Lambda has no Python 2 runtime, so the file is "
                "not analysed",
                exc.lineno,
            )
        detail = exc.msg or "invalid syntax"
        return ScanError(display, f"Python syntax error: {detail}; not analysed", exc.lineno)
    except (RecursionError, MemoryError):
        return ScanError(display, "code nested too deeply to parse; not analysed")
    except ValueError as exc:
        return ScanError(display, f"cannot parse: {exc}; not analysed")


def _python2(text: str) -> str | None:
    for pattern, label in _PYTHON2:
        if pattern.search(text):
            return label
    return None


def _top_level_names(tree: ast.Module) -> dict[str, ast.stmt]:
    """What each top-level name is bound to last; an alias of a function
    (`handler = lambda_handler`) counts as that function."""
    names: dict[str, ast.stmt] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names[node.name] = node
        elif isinstance(node, ast.Assign):
            aliased = names.get(node.value.id) if isinstance(node.value, ast.Name) else None
            for target in node.targets:
                if isinstance(target, ast.Name):
                    names[target.id] = aliased if aliased is not None else node
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                names[(alias.asname or alias.name).split(".")[0]] = node
    return names


def _load_claimed(claim: _Claim, max_bytes: int, result: _Result) -> None:
    display = claim.display
    parse = _PARSERS.get(claim.language)
    if parse is None:
        names = ", ".join(sorted(f.origin.resource for f in claim.functions))
        result.skipped.append(
            SkippedInput(
                display,
                f"{claim.language.capitalize()} handler of {names}: code analysis for "
                f"{claim.language} is not available yet",
            )
        )
        return
    data = _read(claim.real, display, max_bytes)
    if isinstance(data, ScanError):
        result.errors.append(data)
        return
    names = ", ".join(f"`{n}`" for n in sorted({f.origin.resource for f in claim.functions}))
    result.claimed.setdefault(
        hashlib.sha256(data).digest(), f"{display.as_posix()}, the handler of {names}"
    )
    text = _decode(data, display)
    if isinstance(text, ScanError):
        result.errors.append(text)
        return
    tree = parse(text, display)
    if isinstance(tree, ScanError):
        result.errors.append(tree)
        return
    defined = _top_level_names(tree) if isinstance(tree, ast.Module) else {}
    for entry in sorted(claim.handlers) if isinstance(tree, ast.Module) else ():
        node = defined.get(entry)
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            what = "is not defined" if node is None else "is not a function definition"
            result.skipped.append(
                SkippedInput(
                    display,
                    f"handler `{entry}` {what} at the top level; how its event flows is "
                    "not analysed",
                )
            )
    functions = tuple(sorted(claim.functions, key=lambda f: (f.origin.path, f.origin.resource)))
    source = SourceFile(
        path=display,
        language=claim.language,
        functions=tuple(f.origin.resource for f in functions),
        handlers=tuple(sorted(claim.handlers)),
    )
    _add(result, ParsedSource(source, text, tree, functions, claim.real))


def _load_unclaimed(real: Path, display: PurePosixPath, max_bytes: int, result: _Result) -> None:
    try:
        with real.open("rb") as handle:
            head = handle.read(max_bytes + 1)
    except OSError:
        return
    if not _SHAPED[display.suffix].search(head):
        return
    if len(head) > max_bytes:
        result.skipped.append(
            SkippedInput(display, f"handler file over the {max_bytes:,}-byte limit; not analysed")
        )
        return
    # A copy of a handler a template names (the source beside its `cdk.out` asset, a
    # build folder's copy) is analysed once, as that function's handler.
    same = result.claimed.get(hashlib.sha256(head).digest())
    if same is not None:
        result.skipped.append(SkippedInput(display, f"the same code as {same}; analysed there"))
        return
    text = _decode(head, display)
    if isinstance(text, ScanError):
        result.errors.append(text)
        return
    if display.suffix in _NODE_SUFFIXES:
        _load_unclaimed_node(text, real, display, result)
        return
    tree = parse_python(text, display)
    if isinstance(tree, ScanError):
        result.errors.append(tree)
        return
    entries = tuple(
        node.name
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.name in _FALLBACK_ENTRIES
        and len(node.args.posonlyargs) + len(node.args.args) == 2
    )
    if not entries:
        return
    source = SourceFile(path=display, language="python", functions=(), handlers=entries)
    _add(result, ParsedSource(source, text, tree, (), real))


def _node_parser(typescript: bool) -> Parser:
    return node_parser("typescript" if typescript else "javascript")


def parse_javascript(text: str, display: PurePosixPath) -> Tree | ScanError:
    """A tree-sitter tree of JavaScript or TypeScript (by the file's suffix), or a located
    error when the parser had to recover from a syntax error. Parsing runs nothing."""
    typescript = display.suffix in (".ts", ".mts", ".cts")
    name = "TypeScript" if typescript else "JavaScript"
    try:
        tree = _node_parser(typescript).parse(text.encode("utf-8", "surrogatepass"))
    except (ValueError, UnicodeError, MemoryError) as exc:
        return ScanError(display, f"cannot parse: {exc}; not analysed")
    root = tree.root_node
    if root.has_error:
        line = _first_error(root)
        return ScanError(display, f"{name} syntax error; not analysed", line)
    return tree


def _first_error(root: Node) -> int | None:
    """The line of the first node the parser could not make sense of, found without
    recursion."""
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            return node.start_point[0] + 1
        stack.extend(reversed([c for c in node.children if c.has_error or c.is_missing]))
    return None


def _load_unclaimed_node(text: str, real: Path, display: PurePosixPath, result: _Result) -> None:
    encoded = text.encode("utf-8", "surrogatepass")
    entries = tuple(
        sorted(
            {
                (m.group("assigned") or m.group("exported") or m.group("bundled")).decode("ascii")
                for m in _NODE_ENTRY.finditer(encoded)
            }
        )
    )
    if not entries:
        return
    tree = parse_javascript(text, display)
    if isinstance(tree, ScanError):
        result.errors.append(tree)
        return
    language = _language_of(display.as_posix())
    source = SourceFile(path=display, language=language, functions=(), handlers=entries)
    _add(result, ParsedSource(source, text, tree, (), real))


_PARSERS: dict[str, Callable[[str, PurePosixPath], object]] = {
    "python": parse_python,
    "javascript": parse_javascript,
    "typescript": parse_javascript,
}
"""Per language: source text -> syntax tree, or a `ScanError` saying why there is none.
JavaScript and TypeScript (tree-sitter) plug in here; a language without a parser is
located and reported as not analysed."""

_SHAPED: dict[str, re.Pattern[bytes]] = {
    ".py": _PYTHON_ENTRY,
    **dict.fromkeys(_NODE_SUFFIXES, _NODE_ENTRY),
}
"""Per suffix: how a file no template names shows it defines a handler (checked on the raw
bytes, before anything is decoded or parsed)."""


def _add(result: _Result, parsed: ParsedSource) -> None:
    result.sources.append(parsed)
    found, problems = find_suppressions(parsed.text, parsed.file.path)
    result.suppressions.extend(found)
    result.errors.extend(problems)
