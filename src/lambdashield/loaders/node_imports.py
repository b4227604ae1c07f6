"""What each function's JavaScript or TypeScript handler imports, read with tree-sitter;
nothing is imported or run.

The handler file is found as in `loaders.handlers` (`src/app.handler` -> `src/app.js`,
`.mjs`, `.cjs`, or the `.ts`, `.mts`, `.cts` source a build compiles to it). From there each
`require("x")`, `import ... from "x"`, `import "x"`, `import("x")` and `export ... from "x"`
with a string literal is read:

- a relative specifier (`./db`, `../lib/util`) is the function's own module, resolved as
  Node resolves it (the exact file; then with `.js`, `.mjs`, `.cjs`, `.ts`, ..., `.json`,
  `.node` added; the `.ts` source of a `.js` TypeScript names; then a folder's
  `package.json` `main`, when it is a plain path, and its `index.*`) and followed within
  the code folder only, as the Python trace follows its modules;
- a bare specifier is an npm package, named by its first segment, or its first two for a
  scope (`@aws-sdk/client-s3/dist-cjs` -> `@aws-sdk/client-s3`); a name the code folder's
  `package.json` aliases (`"parser": "npm:lsdemo-parser@1.4.0"`) stands for the real one;
- Node's built-in modules (`fs`, `fs/promises`, anything `node:`) are neither.

Type-only imports (`import type`, `export type ... from`, an import of `type` names only)
are erased by the TypeScript compiler and do not count.

What cannot be seen leaves the trace incomplete, so no package is said to be unused: a
`require` or `import()` of anything but a plain string literal, a relative specifier that
leads to no file inside the code folder, a specifier that is neither relative nor a
package name (`#internal`, `/opt/nodejs/x`, a path alias such as `@/lib`), a file that
does not parse (what the parser recovered still counts) or is not text, a file over
`MAX_SOURCE_BYTES`, a bundle (a bundler's runtime, or a line over `MAX_LINE_CHARS`: it may
hold packages inlined rather than imported), more than `MAX_FILES` files or more than
`MAX_TOTAL_BYTES` read for one handler. The syntax tree is walked with a cursor, never by
recursion, so nesting depth costs nothing but time linear in the file's size.

A handler file `loaders.handlers` parsed is not parsed again when its tree is the one the
trace would make (`read_imports`); trees are only read, never edited.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from lambdashield.loaders._tree_sitter import Grammar, node_parser
from lambdashield.loaders.handler_imports import (
    MAX_METADATA_BYTES,
    MAX_SOURCE_BYTES,
    FileWalk,
    HandlerTrace,
    contained_file,
)

if TYPE_CHECKING:
    from tree_sitter import Node, Parser, Tree

    from lambdashield.loaders.handlers import ParsedSource

__all__ = [
    "HANDLER_SUFFIXES",
    "MAX_LINE_CHARS",
    "MAX_TOTAL_BYTES",
    "NODE_BUILTINS",
    "FileImports",
    "npm_aliases",
    "npm_distributions",
    "package_name",
    "read_imports",
    "read_node_handler",
]

MAX_TOTAL_BYTES = 16 * 1024 * 1024
"""Source read for one handler, all its files together; a bigger tree is read that far,
untraced."""
MAX_LINE_CHARS = 50_000
"""A longer line (counted in bytes) is minified or generated code, as in `loaders.handlers`."""

NODE_BUILTINS = frozenset(
    {"_http_agent", "_http_client", "_http_common", "_http_incoming", "_http_outgoing"}
    | {"_http_server", "_stream_duplex", "_stream_passthrough", "_stream_readable"}
    | {"_stream_transform", "_stream_wrap", "_stream_writable", "_tls_common", "_tls_wrap"}
    | {"assert", "assert/strict", "async_hooks", "buffer", "child_process", "cluster"}
    | {"console", "constants", "crypto", "dgram", "diagnostics_channel", "dns"}
    | {"dns/promises", "domain", "events", "fs", "fs/promises", "http", "http2", "https"}
    | {"inspector", "inspector/promises", "module", "net", "os", "path", "path/posix"}
    | {"path/win32", "perf_hooks", "process", "punycode", "querystring", "readline"}
    | {"readline/promises", "repl", "stream", "stream/consumers", "stream/promises"}
    | {"stream/web", "string_decoder", "sys", "timers", "timers/promises", "tls"}
    | {"trace_events", "tty", "url", "util", "util/types", "v8", "vm", "wasi"}
    | {"worker_threads", "zlib"}
)
"""`require("module").builtinModules` of Node.js 20 and 22; the ones only reachable as
`node:x` (`node:test`, `node:sqlite`) are caught by their prefix."""

HANDLER_SUFFIXES = (".js", ".mjs", ".cjs", ".ts", ".mts", ".cts")
"""In the order `loaders.handlers` looks for a handler file."""
_RESOLVED_SUFFIXES = (*HANDLER_SUFFIXES, ".jsx", ".tsx", ".json", ".node")
_TYPESCRIPT_SOURCES = {
    ".js": (".ts", ".tsx"),
    ".jsx": (".tsx",),
    ".mjs": (".mts",),
    ".cjs": (".cts",),
}
"""The sources TypeScript resolves an import of a compiled name to (`./db.js` -> `db.ts`)."""
_NOT_CODE = frozenset({".json", ".node"})
_PACKAGE = re.compile(r"(?:@[a-z0-9~-][a-z0-9._~-]*/)?[a-z0-9~-][a-z0-9._~-]*", re.IGNORECASE)
_BUNDLED = re.compile(rb"__webpack_require__|\b__commonJS\(|\b__toESM\(|\bparcelRequire\b")
"""Runtime helpers webpack, esbuild and Parcel put in a bundle."""
_DEPENDENCY_SECTIONS = (
    "dependencies",
    "optionalDependencies",
    "peerDependencies",
    "devDependencies",
)


def package_name(specifier: str) -> str | None:
    """`lodash/fp` -> `lodash`, `@scope/x/sub` -> `@scope/x`; `None` when the specifier
    cannot name an npm package."""
    parts = specifier.split("/")
    name = "/".join(parts[:2]) if specifier.startswith("@") else parts[0]
    return name if _PACKAGE.fullmatch(name) else None


def npm_distributions(specifier: str, aliases: dict[str, str] | None = None) -> tuple[str, ...]:
    """The npm package a bare specifier loads, through the code folder's aliases."""
    name = package_name(specifier)
    if name is None:
        return ()
    return ((aliases or {}).get(name, name),)


def _read_json(path: Path) -> object:
    try:
        if path.is_symlink() or not path.is_file():
            return None
        with path.open("rb") as handle:
            data = handle.read(MAX_METADATA_BYTES + 1)
        if len(data) > MAX_METADATA_BYTES:
            return None
        return json.loads(data)
    except (OSError, ValueError, RecursionError):
        return None


def npm_aliases(folder: Path) -> dict[str, str]:
    """Alias -> real package name, from the `npm:` specifiers of `folder/package.json`."""
    manifest = _read_json(folder / "package.json")
    if not isinstance(manifest, dict):
        return {}
    found: dict[str, str] = {}
    for section in _DEPENDENCY_SECTIONS:
        entries = manifest.get(section)
        if not isinstance(entries, dict):
            continue
        for alias, spec in entries.items():
            if not isinstance(spec, str) or not spec.startswith("npm:"):
                continue
            target = spec[4:]
            real, at, _version = target.rpartition("@")
            real = real if at and real else target
            if package_name(real) == real and real != alias:
                found.setdefault(alias, real)
    return found


# --- Reading one file -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FileImports:
    """What one file imports: `(specifier, line)` of each literal import, first occurrence
    only, in source order, and whether nothing in it was out of sight."""

    specifiers: tuple[tuple[str, int], ...]
    complete: bool


_GRAMMARS: dict[str, Grammar] = {
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
}


def _parser(suffix: str) -> Parser:
    return node_parser(_GRAMMARS.get(suffix, "javascript"))


def _literal(node: Node) -> str | None:
    """The value of a string or substitution-free template literal without escapes."""
    if node.type not in ("string", "template_string"):
        return None
    parts: list[str] = []
    for child in node.named_children:
        if child.type != "string_fragment":
            return None  # an escape or a `${...}`: not a name the file spells out
        parts.append((child.text or b"").decode("utf-8", "replace"))
    return "".join(parts)


def _type_only(statement: Node) -> bool:
    """`import type ...`, `export type ... from`, or `import { type A, type B } from`."""
    if any(child.type == "type" and not child.is_named for child in statement.children):
        return True
    clause = next((c for c in statement.named_children if c.type == "import_clause"), None)
    if clause is None or [c.type for c in clause.named_children] != ["named_imports"]:
        return False
    names = [c for c in clause.named_children[0].named_children if c.type == "import_specifier"]
    return bool(names) and all(spec.children and spec.children[0].type == "type" for spec in names)


def _call_source(call: Node) -> Node | None:
    """The argument `require(...)` or `import(...)` loads; `None` for other calls."""
    function = call.child_by_field_name("function")
    if function is None or not (
        function.type == "import" or (function.type == "identifier" and function.text == b"require")
    ):
        return None
    arguments = call.child_by_field_name("arguments")
    if arguments is None or arguments.type != "arguments":
        return None  # require`x` is a tagged template, not a load
    return next((a for a in arguments.named_children if a.type != "comment"), None)


def _statement_source(statement: Node) -> Node | None:
    """The `from "x"` of an import or export that the compiled code keeps."""
    if _type_only(statement):
        return None
    source = statement.child_by_field_name("source")
    if source is None:
        clause = next(
            (c for c in statement.named_children if c.type == "import_require_clause"), None
        )
        source = clause.child_by_field_name("source") if clause is not None else None
    return source


def _source(node: Node) -> Node | None:
    """The specifier `node` loads, when it is an import, a `require` or an `import()`."""
    if node.type == "call_expression":
        return _call_source(node)
    if node.type in ("import_statement", "export_statement"):
        return _statement_source(node)
    return None


def _specifiers(root: Node) -> tuple[dict[str, int], bool]:
    """Each specifier with the line it is first loaded on, and whether every load names a
    literal."""
    found: dict[str, int] = {}
    complete = True
    cursor = root.walk()
    while True:
        node = cursor.node
        source = _source(node) if node is not None else None
        if source is not None and node is not None:
            value = _literal(source)
            if value is None:
                complete = False  # require(name): anything may be loaded
            else:
                found.setdefault(value, node.start_point[0] + 1)
        if cursor.goto_first_child():
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return found, complete


def _loaded_tree(parsed: ParsedSource | None, data: bytes, parser: Parser) -> Tree | None:
    """The handler loader's tree of the file, when it is the tree `parser` makes of `data`.

    The grammar must be the same: the loader picks JavaScript or TypeScript by the name the
    template or discovery gave (`app.js` may be a link to `app.ts`; `.TS` is JavaScript to
    it, TypeScript here) and never TSX, while this trace picks by the real file's suffix,
    lower-cased; so the tree's own language is compared with the parser's. The bytes must
    be the same too: the loader parses its decoded text re-encoded as UTF-8, which drops a
    BOM and differs for a file it decoded from another encoding.
    """
    if parsed is None:
        return None
    from tree_sitter import Tree  # loaded already, with the parser

    tree = parsed.syntax
    if not isinstance(tree, Tree) or tree.language != parser.language:
        return None
    return tree if parsed.text.encode("utf-8", "surrogatepass") == data else None


def read_imports(path: Path, parsed: ParsedSource | None = None) -> FileImports:
    """The imports of one JavaScript or TypeScript file (by its suffix); nothing is run.
    `parsed` is what the handler loader made of the file, if anything: its tree is read
    instead of parsing the file again when it is the same."""
    try:
        if path.stat().st_size > MAX_SOURCE_BYTES:
            return FileImports((), complete=False)
        with path.open("rb") as handle:
            data = handle.read(MAX_SOURCE_BYTES + 1)
    except OSError:
        return FileImports((), complete=False)
    if len(data) > MAX_SOURCE_BYTES or b"\0" in data:
        return FileImports((), complete=False)
    longest = max(len(line) for line in data.split(b"\n"))
    complete = longest <= MAX_LINE_CHARS and not _BUNDLED.search(data)
    try:
        parser = _parser(path.suffix.lower())
        tree = _loaded_tree(parsed, data, parser)
        if tree is None:
            tree = parser.parse(data)
    except (ValueError, MemoryError):
        return FileImports((), complete=False)
    root = tree.root_node
    found, seen_all = _specifiers(root)
    return FileImports(tuple(found.items()), complete and seen_all and not root.has_error)


# --- Following one handler --------------------------------------------------------------


class _NodeReader(FileWalk):
    def __init__(
        self,
        root: Path,
        display: PurePosixPath,
        cache: dict[Path, FileImports],
        parsed: Mapping[Path, ParsedSource],
    ) -> None:
        self.real_root = root.resolve()
        self.display = display
        self.cache = cache
        self.parsed = parsed
        super().__init__(HandlerTrace(ecosystem="npm"))
        self.bytes = 0

    def read(self, path: Path) -> None:
        try:
            size = path.stat().st_size
        except OSError:
            self.trace.complete = False
            return
        if self.bytes + size > MAX_TOTAL_BYTES:
            self.trace.complete = False
            return
        self.bytes += size
        imports = self.cache.get(path)
        if imports is None:
            imports = self.cache[path] = read_imports(path, self.parsed.get(path))
        if not imports.complete:
            self.trace.complete = False
        shown = self.display / path.relative_to(self.real_root).as_posix()
        for specifier, line in imports.specifiers:
            self.specifier(path.parent, specifier, shown, line)

    def specifier(self, folder: Path, specifier: str, shown: PurePosixPath, line: int) -> None:
        if specifier in (".", "..") or specifier.startswith(("./", "../")):
            target = self.resolve(folder, specifier)
            if target is None:
                self.trace.complete = False  # code we cannot read: outside, or not there
            elif target.suffix.lower() not in _NOT_CODE:
                self.add(target)
        elif specifier.startswith("node:") or specifier in NODE_BUILTINS:
            return
        elif package_name(specifier) is not None:
            self.trace.found.setdefault(specifier, (shown, line))
        else:
            self.trace.complete = False

    def file(self, target: str) -> Path | None:
        """LOAD_AS_FILE: the exact file, then with each suffix, then TypeScript's source."""
        candidates = [target, *(target + suffix for suffix in _RESOLVED_SUFFIXES)]
        suffix = Path(target).suffix
        stem = target[: len(target) - len(suffix)]
        candidates += [stem + source for source in _TYPESCRIPT_SOURCES.get(suffix, ())]
        for candidate in candidates:
            real = contained_file(Path(candidate), self.real_root)
            if real is not None:
                return real
        return None

    def index(self, target: str) -> Path | None:
        for suffix in _RESOLVED_SUFFIXES:
            real = contained_file(Path(target, "index" + suffix), self.real_root)
            if real is not None:
                return real
        return None

    def resolve(self, folder: Path, specifier: str) -> Path | None:
        # Lexically first, as Node's `path.resolve`, then through links (`contained_file`).
        target = os.path.normpath(folder / specifier)
        if not specifier.endswith("/"):
            found = self.file(target)
            if found is not None:
                return found
        if not Path(target).is_dir():
            return None
        manifest = _read_json(Path(target, "package.json"))
        main = manifest.get("main") if isinstance(manifest, dict) else None
        if isinstance(main, str) and main.strip() and not PurePosixPath(main).is_absolute():
            entry = os.path.normpath(Path(target, main))
            found = self.file(entry) or self.index(entry)
            if found is not None:
                return found
        return self.index(target)


def read_node_handler(
    root: Path,
    display: PurePosixPath,
    handler: str,
    cache: dict[Path, FileImports] | None = None,
    *,
    parsed: Mapping[Path, ParsedSource] | None = None,
) -> HandlerTrace | None:
    """The imports of the Node.js `handler` with code folder `root` (shown as `display`);
    `None` when its file is not inside `root`. `cache` keeps each file's reading for the
    next handler that imports it; `parsed` holds the handler loader's files, by resolved
    path, whose trees may be read rather than made again (`read_imports`)."""
    module = handler.strip().rsplit(".", 1)[0] if "." in handler else ""
    if not module:
        return None
    reader = _NodeReader(root, display, {} if cache is None else cache, parsed or {})
    for suffix in HANDLER_SUFFIXES:
        real = contained_file(root / (module + suffix), reader.real_root)
        if real is not None:
            return reader.run(real)
    return None
