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
- any other specifier that is not built in is tried as TypeScript (and a bundler reading
  the tsconfig) tries it, in this order:
  1. `compilerOptions.paths` of the nearest `tsconfig.json` (else `jsconfig.json`) from
     the importing file's folder up to the code folder: the exact pattern, else the one
     with the longest text before its single `*`; its targets, relative to `baseUrl` or
     else to the file that set `paths`, are resolved as relative specifiers are, and the
     first that is a file of the project's own is followed. A target in `node_modules` or a
     type declaration (`.d.ts`) stands for a package, not own code. When no target is own
     code the name is out of sight (the trace is incomplete, no package is recorded),
     except for the catch-all pattern `*`, after which the name goes on down this list;
  2. `compilerOptions.baseUrl`: a file of the project's own under it is followed;
  3. a `#name` is a subpath import: the `imports` of the nearest `package.json` (exact
     key, else the pattern with the longest text before its `*`); a condition object is
     read as Node.js reads it both for `import` and for `require` (`node`, `import`,
     `require`, `default`, in the object's order), and each file chosen is followed; a
     target that names a package records that package;
  4. the package's own name (`my-service/lib/x` in the package named `my-service`) when
     the nearest `package.json` has `exports`: resolved through them, as subpath imports;
  5. otherwise an npm package, named by its first segment, or its first two for a scope
     (`@aws-sdk/client-s3/dist-cjs` -> `@aws-sdk/client-s3`); a name the code folder's
     `package.json` aliases (`"parser": "npm:lsdemo-parser@1.4.0"`) stands for the real one;
- Node's built-in modules (`fs`, `fs/promises`, anything `node:`) are none of these.

A tsconfig is JSON with comments and trailing commas, read as such, never run; its
`extends` (one file, or a list, later ones winning) are read when relative and inside the
code folder, at most `MAX_CONFIG_FILES` of them, and `${configDir}` in `baseUrl` and
`paths` is the folder of the tsconfig found. An `extends` of a package's config
(`@tsconfig/node20/tsconfig.json`) is not read, and says nothing: such shared bases set
compiler targets, and paths in them would be relative to their own folder in
node_modules. No tsconfig or package.json above the code folder is looked for: a path
alias a monorepo's root tsconfig declares is taken for a package. Not read: `rootDirs`,
`moduleSuffixes`, `typesVersions`, project references, custom conditions, and a
package's `exports` other than its own.

Type-only imports (`import type`, `export type ... from`, an import of `type` names only)
are erased by the TypeScript compiler and do not count.

What cannot be seen leaves the trace incomplete, so no package is said to be unused: a
`require` or `import()` of anything but a plain string literal, a relative specifier that
leads to no file inside the code folder, a specifier that is neither relative nor a
package name nor resolved above (`/opt/nodejs/x`, a path alias such as `@/lib` with no
tsconfig saying what it is, a `#name` no `imports` entry maps to a file), a path alias
whose targets are not there, any specifier that is not relative where the tsconfig, or a
relative file it extends (one outside the code folder included) and whose `baseUrl` or
`paths` it does not override, cannot be read or is not valid, a file that does not parse
(what the parser recovered still counts) or is not text, a file over `MAX_SOURCE_BYTES`,
a bundle (a bundler's runtime, or a line over `MAX_LINE_CHARS`: it may hold packages
inlined rather than imported), more than `MAX_FILES` files or more than `MAX_TOTAL_BYTES`
read for one handler. The syntax tree is walked with a cursor, never by
recursion, so nesting depth costs nothing but time linear in the file's size.

A handler file `loaders.handlers` parsed is not parsed again when its tree is the one the
trace would make (`read_imports`); trees are only read, never edited.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, TypeVar

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
    "MAX_CONFIG_FILES",
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


# --- Project settings: tsconfig `paths`, package.json `imports` and `exports` --------


MAX_CONFIG_FILES = 16
"""tsconfig files read for one folder's settings, those it `extends` included; the rest
are not read, and the settings are then not known for sure."""
_CONFIG_NAMES = ("tsconfig.json", "jsconfig.json")
"""In the order TypeScript prefers them in one folder."""
_CONFIG_DIR = "${configDir}"
_DECLARATIONS = (".d.ts", ".d.mts", ".d.cts")
_CONDITIONS = (frozenset({"node", "import"}), frozenset({"node", "require"}))
"""The conditions Node.js matches for an `import` and for a `require` (with `default`)."""
_MAX_CONDITION_DEPTH = 32
_JSONC = re.compile(
    r'"[^"\\]*(?:\\.[^"\\]*)*"|//[^\n]*|/\*.*?\*/|\s+|[^"/,\]}\s]+|.',
    re.DOTALL,
)
"""The tokens of JSON with comments: a string, a comment, blanks, other text, one character."""


@dataclass(frozen=True, slots=True)
class _Aliases:
    """What a tsconfig (or jsconfig) says of the specifiers that are not relative.

    `paths` holds each pattern with its targets, in the file's order; `paths_base` is the
    folder they are relative to and `base_url` the folder the rest are tried in first.
    `known` is false when part of the settings could not be read: then no specifier that
    is not relative is known for sure to name a package."""

    paths: tuple[tuple[str, tuple[str, ...]], ...] = ()
    paths_base: str | None = None
    base_url: str | None = None
    known: bool = True


_NO_ALIASES = _Aliases()
_Found = TypeVar("_Found")
_UNKNOWN_ALIASES = _Aliases(known=False)


def _without_comments(text: str) -> str:
    """JSON text from tsconfig's JSON with comments: `//` and `/* */` comments outside
    strings blanked, and a comma before a closing `]` or `}` dropped. What is still not JSON
    stays, for the decoder to refuse."""
    out: list[str] = []
    comma: int | None = None  # where in `out` a comma that may trail is
    last = ""
    for match in _JSONC.finditer(text):
        piece = match.group()
        if piece.startswith(("//", "/*")):
            out.append(" ")
            continue
        if piece.isspace():
            out.append(piece)
            continue
        if piece in ("]", "}") and comma is not None:
            out[comma] = " "
        # Only a comma after a value may trail: `{,}` and `[1,,]` stay, to be refused.
        comma = len(out) if piece == "," and last not in ("", "{", "[", ",") else None
        last = piece
        out.append(piece)
    return "".join(out)


def _read_jsonc(path: Path) -> dict[str, object] | None:
    """The object a tsconfig file holds; `None` when it is too big, not UTF-8 or not JSON
    with comments."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_METADATA_BYTES + 1)
        if len(data) > MAX_METADATA_BYTES:
            return None
        value = json.loads(_without_comments(data.decode("utf-8-sig")))
    except (OSError, ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _extended(folder: Path, base: str, real_root: Path) -> Path | None:
    """The file a relative `extends` names, as TypeScript finds it (`.json` added when the
    name alone is no file); `None` when it is not a file inside `real_root`."""
    target = Path(os.path.normpath(folder / base))
    if not target.is_relative_to(real_root):
        return None  # not even looked at: nothing outside the code folder is read
    found = contained_file(target, real_root)
    if found is None and not base.endswith(".json"):
        found = contained_file(target.with_name(target.name + ".json"), real_root)
    return found


def _compiler_options(
    path: Path, real_root: Path, chain: frozenset[Path], reads: list[Path]
) -> tuple[dict[str, tuple[object, Path]], bool]:
    """`baseUrl` and `paths` of the tsconfig at `path` (real, inside `real_root`) and of the
    files it extends, each with the folder of the file that set it; and whether every file
    could be read. `chain` holds the files that extend this one; `reads` every file read
    so far, which `MAX_CONFIG_FILES` bounds: bases may extend lists of bases."""
    reads.append(path)
    config = _read_jsonc(path)
    if config is None:
        return {}, False
    options: dict[str, tuple[object, Path]] = {}
    known = bases_known = True
    extends = config.get("extends")
    bases = [extends] if isinstance(extends, str) else extends if isinstance(extends, list) else []
    if extends is not None and not isinstance(extends, str | list):
        bases_known = False
    for base in bases:
        if not isinstance(base, str):
            bases_known = False
        elif base.startswith(("./", "../", "/")) or Path(base).is_absolute():
            target = _extended(path.parent, base, real_root)
            if target is None or target in chain or len(reads) >= MAX_CONFIG_FILES:
                bases_known = False  # outside the code folder, missing, a cycle or too many
                continue
            inherited, read_all = _compiler_options(target, real_root, chain | {target}, reads)
            options.update(inherited)  # a later base wins over an earlier one
            bases_known = bases_known and read_all
        # A package's shared base (`@tsconfig/node20/tsconfig.json`) is not read: its
        # `paths` and `baseUrl` would be relative to its own folder in node_modules, so they
        # cannot name the project's modules, and such bases set compiler targets, not paths.
    own = config.get("compilerOptions")
    if isinstance(own, dict):
        options.update({k: (own[k], path.parent) for k in ("baseUrl", "paths") if k in own})
    elif own is not None:
        known = False
    # A file that sets both says all there is to know: what its bases set is overridden.
    overridden = isinstance(own, dict) and "baseUrl" in own and "paths" in own
    return options, known and (bases_known or overridden)


def _config_path(value: str, origin: Path, top: Path) -> str:
    """A path setting, relative to the file that set it, or to the tsconfig the chain
    started from where it says `${configDir}`."""
    if value.startswith(_CONFIG_DIR):
        return os.path.normpath(str(top) + "/" + value[len(_CONFIG_DIR) :])
    return os.path.normpath(origin / value)


def _tsconfig(path: Path, real_root: Path) -> _Aliases:
    """The aliases the tsconfig at `path` (real, inside `real_root`) gives."""
    options, known = _compiler_options(path, real_root, frozenset({path}), [])
    top = path.parent
    base_url: str | None = None
    if "baseUrl" in options:
        value, origin = options["baseUrl"]
        if isinstance(value, str):
            base_url = _config_path(value, origin, top)
        elif value is not None:
            known = False
    paths: list[tuple[str, tuple[str, ...]]] = []
    paths_base: str | None = None
    if "paths" in options:
        value, origin = options["paths"]
        if isinstance(value, dict):
            paths_base = base_url or str(origin)
            for pattern, targets in value.items():
                if pattern.count("*") > 1 or not isinstance(targets, list):
                    known = False  # TypeScript refuses it: what the build does is unknown
                    continue
                texts = tuple(
                    _config_path(t, Path(paths_base), top)
                    for t in targets
                    if isinstance(t, str) and t.count("*") <= 1
                )
                known = known and len(texts) == len(targets)
                paths.append((pattern, texts))
        elif value is not None:
            known = False
    return _Aliases(tuple(paths), paths_base, base_url, known)


def _best_match(patterns: Iterable[str], name: str, least: int) -> tuple[str, str] | None:
    """The pattern `name` matches, with what its `*` stands for (at least `least`
    characters): the pattern without a `*` equal to it, else the one whose text before the
    `*` is the longest (then the longest pattern), as TypeScript and Node.js choose."""
    best: tuple[str, str] | None = None
    rank = (-1, -1)
    for pattern in patterns:
        if pattern == name and "*" not in pattern:
            return pattern, ""
        prefix, star, suffix = pattern.partition("*")
        if (
            not star
            or "*" in suffix
            or len(name) - len(prefix) - len(suffix) < least
            or not name.startswith(prefix)
            or not name.endswith(suffix)
        ):
            continue
        if (len(prefix), len(pattern)) > rank:
            rank = (len(prefix), len(pattern))
            best = pattern, name[len(prefix) : len(name) - len(suffix)]
    return best


def _package_target(target: str, star: str, bare: bool) -> str | None:
    """A string target of a package.json `imports` or `exports` entry, its `*` replaced, if
    Node.js accepts it: `./` and a path that stays in the package, or (for `imports`) a
    package's name."""
    target = target.replace("*", star)
    if target.startswith("./"):
        parts = target[2:].split("/")
        if any(part in ("", ".", "..") or part.lower() == "node_modules" for part in parts):
            return None
        return target
    if bare and not target.startswith(("../", "/")) and ":" not in target.split("/")[0]:
        return target
    return None


def _condition_target(
    value: object, star: str, conditions: frozenset[str], bare: bool, depth: int = 0
) -> str | None:
    """The target Node.js picks from an entry's value: the first of a list it accepts, in
    an object the first key that is `default` or one of `conditions`."""
    if depth > _MAX_CONDITION_DEPTH:
        return None
    if isinstance(value, str):
        return _package_target(value, star, bare)
    choices: list[object] = []
    if isinstance(value, list):
        choices = value
    elif isinstance(value, dict):
        choices = [v for k, v in value.items() if k == "default" or k in conditions]
    for choice in choices:
        found = _condition_target(choice, star, conditions, bare, depth + 1)
        if found is not None:
            return found
    return None


def _package_targets(entries: dict[str, object], key: str, bare: bool) -> tuple[str, ...] | None:
    """What `key` maps to in an `imports` or `exports` object, for an `import` and for a
    `require` (once each); `None` when no entry matches it."""
    match = _best_match(entries, key, least=1)
    if match is None:
        return None
    pattern, star = match
    found = (_condition_target(entries[pattern], star, c, bare) for c in _CONDITIONS)
    return tuple(dict.fromkeys(t for t in found if t is not None))


def _exports_map(exports: object) -> dict[str, object] | None:
    """`exports` as an object of subpaths; `None` when Node.js would refuse it."""
    if isinstance(exports, dict):
        keys = [key.startswith(".") for key in exports]
        if all(keys):
            return exports
        if any(keys):
            return None  # subpaths and conditions mixed
    return {".": exports}


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
        self.aliases: dict[Path, _Aliases | None] = {}
        self.scopes: dict[Path, tuple[Path, object] | None] = {}

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
            self.follow(self.resolve(folder, specifier))
        elif specifier.startswith("node:") or specifier in NODE_BUILTINS:
            return
        elif specifier.startswith("/"):
            self.trace.complete = False  # an absolute path: a layer's `/opt`, out of sight
        else:
            self.bare(folder, specifier, shown, line)

    def follow(self, target: Path | None) -> None:
        if target is None:
            self.trace.complete = False  # code we cannot read: outside, or not there
        elif target.suffix.lower() not in _NOT_CODE:
            self.add(target)

    def bare(self, folder: Path, specifier: str, shown: PurePosixPath, line: int) -> None:
        """A specifier neither relative nor built in, tried as TypeScript does: the
        tsconfig's `paths`, then its `baseUrl`, then package.json `imports` for `#...`, then
        the package's own name, and only then a package in node_modules."""
        aliases = self.tsconfig(folder)
        if not aliases.known:
            self.trace.complete = False  # a setting we cannot read may make it anything
        match = _best_match((p for p, _ in aliases.paths), specifier, least=0)
        if match is not None:
            pattern, star = match
            for target in dict(aliases.paths)[pattern]:
                found = self.load(os.path.normpath(target.replace("*", star, 1)))
                if found is not None and self.own(found):
                    self.follow(found)
                    return
            if pattern != "*":
                # The project calls this name its own; what it maps to is out of sight.
                self.trace.complete = False
                return
            # `"*"` maps every name, packages included, mostly to type declarations.
        if aliases.base_url is not None:
            found = self.load(os.path.normpath(Path(aliases.base_url, specifier)))
            if found is not None and self.own(found):
                self.follow(found)
                return
        if specifier.startswith("#"):
            self.subpath_import(folder, specifier, shown, line)
        elif not self.self_reference(folder, specifier, shown, line):
            self.package(specifier, shown, line)

    def package(self, specifier: str, shown: PurePosixPath, line: int) -> None:
        if specifier.startswith("node:") or specifier in NODE_BUILTINS:
            return
        if package_name(specifier) is None:
            self.trace.complete = False
        else:
            self.trace.found.setdefault(specifier, (shown, line))

    def own(self, path: Path) -> bool:
        """Whether a file an alias leads to is the project's code: not a package installed in
        node_modules nor a type declaration, both of which stand for a package."""
        if path.name.lower().endswith(_DECLARATIONS):
            return False
        return "node_modules" not in path.relative_to(self.real_root).parts

    def subpath_import(self, folder: Path, specifier: str, shown: PurePosixPath, line: int) -> None:
        """`#db`, through the `imports` of the nearest package.json."""
        scope = self.scope(folder)
        manifest = scope[1] if scope is not None else None
        imports = manifest.get("imports") if isinstance(manifest, dict) else None
        invalid = specifier == "#" or specifier.startswith("#/")  # Node.js refuses them
        if scope is None or not isinstance(imports, dict) or invalid:
            self.trace.complete = False
            return
        targets = _package_targets(imports, specifier, bare=True)
        self.package_targets(scope[0], targets, shown, line)

    def self_reference(self, folder: Path, specifier: str, shown: PurePosixPath, line: int) -> bool:
        """`my-service/lib/x` in the package named `my-service`, through its `exports`;
        false when the nearest package.json has another name or no `exports`."""
        scope = self.scope(folder)
        manifest = scope[1] if scope is not None else None
        if scope is None or not isinstance(manifest, dict):
            return False
        name, exports = manifest.get("name"), manifest.get("exports")
        if not isinstance(name, str) or not name or exports is None:
            return False
        if specifier != name and not specifier.startswith(name + "/"):
            return False
        entries = _exports_map(exports)
        subpath = "." + specifier[len(name) :]
        targets = _package_targets(entries, subpath, bare=False) if entries is not None else None
        self.package_targets(scope[0], targets, shown, line)
        return True

    def package_targets(
        self, folder: Path, targets: tuple[str, ...] | None, shown: PurePosixPath, line: int
    ) -> None:
        """Follow what an `imports` or `exports` entry maps to; none leaves the trace
        incomplete: Node.js would refuse the specifier, or the map is beyond us."""
        if not targets:
            self.trace.complete = False
            return
        for target in targets:
            if target.startswith("./"):
                self.follow(self.load(os.path.normpath(folder / target)))
            else:
                self.package(target, shown, line)

    def tsconfig(self, folder: Path) -> _Aliases:
        """The aliases of the nearest tsconfig.json (or jsconfig.json) from `folder` up to
        the code folder; one above it is never looked for."""
        found = self.nearest(folder, self.aliases, self.config_in)
        return _NO_ALIASES if found is None else found

    def config_in(self, folder: Path) -> _Aliases | None:
        for name in _CONFIG_NAMES:
            candidate = folder / name
            if not os.path.lexists(candidate):
                continue
            real = contained_file(candidate, self.real_root)
            return _UNKNOWN_ALIASES if real is None else _tsconfig(real, self.real_root)
        return None

    def scope(self, folder: Path) -> tuple[Path, object] | None:
        """The folder and contents of the nearest package.json from `folder` up to the code
        folder, as Node.js finds a file's package; `None` when there is none inside it."""
        return self.nearest(folder, self.scopes, self.manifest_in)

    def manifest_in(self, folder: Path) -> tuple[Path, object] | None:
        manifest = folder / "package.json"
        if not os.path.lexists(manifest):
            return None
        real = contained_file(manifest, self.real_root)
        return (folder, _read_json(real) if real is not None else None)

    def nearest(
        self, folder: Path, known: dict[Path, _Found | None], read: Callable[[Path], _Found | None]
    ) -> _Found | None:
        """What `read` finds in `folder` or the nearest folder above it, up to the code
        folder; every folder passed on the way is remembered with the answer."""
        passed: list[Path] = []
        current = folder
        found: _Found | None = None
        while current.is_relative_to(self.real_root):
            if current in known:
                found = known[current]
                break
            passed.append(current)
            found = read(current)
            if found is not None or current == self.real_root:
                break
            current = current.parent
        for seen in passed:
            known[seen] = found
        return found

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
        return self.load(os.path.normpath(folder / specifier), folder_only=specifier.endswith("/"))

    def load(self, target: str, *, folder_only: bool = False) -> Path | None:
        """The file an absolute, normalised `target` loads: LOAD_AS_FILE, then
        LOAD_AS_DIRECTORY; `None` when it is none inside the code folder."""
        if not Path(target).is_relative_to(self.real_root):
            return None  # not even looked at: nothing outside the code folder is read
        if not folder_only:
            found = self.file(target)
            if found is not None:
                return found
        if not Path(target).is_dir():
            return None
        manifest = contained_file(Path(target, "package.json"), self.real_root)
        loaded = _read_json(manifest) if manifest is not None else None
        main = loaded.get("main") if isinstance(loaded, dict) else None
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
