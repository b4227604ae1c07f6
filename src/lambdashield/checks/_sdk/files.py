"""Finding and reading a function's handler source, inside the scanned root only.

`Function.code_uri` is relative to the folder of the file that defines the function and
`Function.handler` names the module and function (`orders.app.handler`,
`src/handlers/get.handler`). Nothing found here is ever imported or executed; a path that
resolves outside the scanned root (a `..` or a link) is treated as not there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, TypeVar

from lambdashield.loaders._paths import real_file
from lambdashield.model import Function, ScanError

if TYPE_CHECKING:
    from lambdashield.checks._sdk.calls import Extraction
    from lambdashield.loaders.handlers import ParsedSource

__all__ = ["Source", "SourceCache", "SourceTree", "locate_handler", "read_source"]

PYTHON_SUFFIXES = (".py",)
JAVASCRIPT_SUFFIXES = (".js", ".mjs", ".cjs", ".ts", ".mts", ".cts")
DEFAULT_MAX_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class SourceTree:
    """Where a function's code lives on disk and how its paths are displayed."""

    root: Path
    """The scanned root, resolved; nothing outside it is read."""
    code_dir: Path
    """The function's code folder, resolved (Lambda's `/var/task`)."""
    display_base: PurePosixPath
    """How `code_dir` is displayed in reports."""

    def display(self, path: Path) -> PurePosixPath:
        try:
            return self.display_base / PurePosixPath(path.relative_to(self.code_dir).as_posix())
        except ValueError:
            return PurePosixPath(path.as_posix())


@dataclass(frozen=True, slots=True)
class Source:
    """The handler file of one function."""

    tree: SourceTree
    path: Path
    display: PurePosixPath
    language: str
    """`python` or `javascript` (TypeScript included)."""
    function: str
    """The handler function's name inside the file."""


_Syntax = TypeVar("_Syntax")


@dataclass
class SourceCache:
    """What has been found of handler code, so that nothing is looked for, parsed or
    analysed twice; the files are taken not to change meanwhile (one scan, one `policy
    generate`).

    Syntax trees are shared: by every function and module that reads a file, and, seeded
    with `of`, with the code rules. That is sound because no reader changes a tree: no
    `ast` node is written to (scopes and memos are kept apart, keyed by `id`), no
    tree-sitter tree is edited.
    """

    found: dict[tuple[Path, str], Extraction] = field(default_factory=dict)
    """Extractions by handler file and language."""
    trees: dict[tuple[Path, type], object] = field(default_factory=dict)
    """Syntax trees (or the `ScanError` saying why there is none) by resolved path and
    tree type: `ast.Module`, or tree-sitter's `Tree`."""
    files: dict[Path, Path | None] = field(default_factory=dict)
    """Paths looked for: resolved, or `None` when there is no file."""
    folders: dict[Path, Path | None] = field(default_factory=dict)
    """Folders resolved, or `None` when that failed."""

    @classmethod
    def of(cls, sources: Iterable[ParsedSource]) -> SourceCache:
        """A cache holding the trees the loader made of handler files. A link may give a
        file another suffix, and each side picks the grammar by the name it sees: a tree is
        shared only when both names agree."""
        cache = cls()
        for source in sources:
            if source.path is not None and source.path.suffix == source.file.path.suffix:
                cache.trees[source.path, type(source.syntax)] = source.syntax
        return cache

    def file(self, path: Path, root: Path) -> Path | None:
        """`path` resolved, when it is a file inside `root`."""
        if path not in self.files:
            self.files[path] = real_file(path)
        found = self.files[path]
        return found if found is not None and found.is_relative_to(root) else None

    def folder(self, path: Path) -> Path | None:
        if path not in self.folders:
            self.folders[path] = _resolve(path)
        return self.folders[path]

    def syntax(
        self,
        path: Path,
        kind: type[_Syntax],
        display: PurePosixPath,
        parse: Callable[[], _Syntax | ScanError],
    ) -> _Syntax | ScanError:
        """The `kind` tree of the file at `path` (resolved), parsed the first time."""
        key = (path, kind)
        found = self.trees.get(key)
        if isinstance(found, ScanError):
            return found if found.path == display else replace(found, path=display)
        if isinstance(found, kind):
            return found
        made = parse()
        self.trees[key] = made
        return made


def _resolve(path: Path) -> Path | None:
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return None


def _language(runtime: object) -> str | None:
    if isinstance(runtime, str):
        if runtime.startswith("python"):
            return "python"
        if runtime.startswith("nodejs"):
            return "javascript"
        return "other"
    return None


def locate_handler(function: Function, root: Path | None, cache: SourceCache) -> Source | str:
    """The handler source of `function`, or why it cannot be analysed."""
    if function.package_type.lower() == "image":
        return "the function is a container image"
    if not function.handler:
        return "the function has no handler"
    if function.code_uri is None:
        return "the function's code is not in a local folder"
    language = _language(function.runtime)
    if language == "other":
        return f"the {function.runtime} runtime is not analysed"
    template_dir = Path(function.origin.path.parent)
    base = cache.folder(template_dir)
    scanned = cache.folder(root or template_dir)
    code_dir = cache.folder(template_dir / function.code_uri)
    if base is None or scanned is None or code_dir is None:
        return "the function's code folder cannot be read"
    if not code_dir.is_relative_to(scanned):
        return f"the code folder {function.code_uri} is outside the scanned folder"
    if not code_dir.is_dir():
        return f"the code {function.code_uri} is not a folder (a built archive is not analysed)"
    relative = code_dir.relative_to(base) if code_dir.is_relative_to(base) else None
    display_base = (
        function.origin.path.parent / PurePosixPath(relative.as_posix())
        if relative is not None
        else PurePosixPath(function.code_uri)
    )
    tree = SourceTree(scanned, code_dir, PurePosixPath(str(display_base).rstrip("/") or "."))
    module, _, name = function.handler.rpartition(".")
    if not module or not name:
        return f"the handler {function.handler!r} does not name a module and a function"
    head, _, last = module.rpartition("/")
    languages = [language] if language else ["python", "javascript"]
    for lang in languages:
        for candidate in _candidates(head, last, lang):
            found = cache.file(code_dir / candidate, scanned)
            if found is not None:
                return Source(tree, found, tree.display(found), lang, name)
    return f"the handler file for {function.handler!r} was not found in {tree.display_base}"


def _candidates(head: str, last: str, language: str) -> Iterator[str]:
    prefix = f"{head}/" if head else ""
    if language == "python":
        dotted = last.replace(".", "/")
        yield f"{prefix}{dotted}.py"
        yield f"{prefix}{dotted}/__init__.py"
    else:
        for suffix in JAVASCRIPT_SUFFIXES:
            yield f"{prefix}{last}{suffix}"


def read_source(path: Path, display: PurePosixPath, max_bytes: int) -> str | ScanError:
    """A source file's text, or the error entry that says why it cannot be read."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            return ScanError(display, f"source file larger than {max_bytes:,} bytes; not read")
        data = path.read_bytes()
    except OSError as exc:
        return ScanError(display, f"cannot read source: {exc.strerror or exc}")
    if b"\0" in data:
        return ScanError(display, "not a text file (contains NUL bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return ScanError(display, f"not UTF-8 text (byte {exc.start})")
