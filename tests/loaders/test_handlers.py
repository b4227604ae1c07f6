"""Finding, reading and parsing handler sources: inside the root only, never run, and
every file that cannot be analysed an error or a skip with its reason."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

import pytest

from lambdashield.loaders.handlers import (
    MAX_LINE_CHARS,
    HandlerLoad,
    entry_point,
    load_handlers,
)
from lambdashield.model import Application, Function, Origin, Unresolved

TEMPLATE = PurePosixPath("template.yaml")


def function(
    name: str,
    handler: str | None,
    code_uri: str | None = "src/",
    runtime: str | Unresolved | None = "python3.12",
    package_type: str = "Zip",
) -> Function:
    return Function(
        origin=Origin(TEMPLATE, name, "function", f"/Resources/{name}"),
        runtime=runtime,
        handler=handler,
        code_uri=code_uri,
        package_type=package_type,
    )


def application(*functions: Function) -> Application:
    return Application(Origin(TEMPLATE, "template.yaml", "sam"), functions=functions)


def write(root: Path, files: dict[str, str | bytes]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    (root / "template.yaml").touch()


def load(
    root: Path, *functions: Function, candidates: bool = False, max_bytes: int | None = None
) -> HandlerLoad:
    """Load as the engine does, from inside `root` so displayed paths are relative."""
    here = Path.cwd()
    os.chdir(root)
    try:
        found = (
            [(p, PurePosixPath(p.as_posix())) for p in sorted(Path().rglob("*.py"))]
            if candidates
            else []
        )
        options = {} if max_bytes is None else {"max_bytes": max_bytes}
        return load_handlers([application(*functions)], found, root=Path(), **options)
    finally:
        os.chdir(here)


HANDLER = "def handler(event, context):\n    return event\n"


@pytest.mark.parametrize(
    ("handler", "expected"),
    [
        ("orders.app.handler", ("orders.app", "handler")),
        ("src/index.handler", ("src/index", "handler")),
        ("app.lambda_handler", ("app", "lambda_handler")),
        ("handler", None),
        ("app.", None),
        (".handler", None),
        ("app.not-a-name", None),
    ],
)
def test_entry_point(handler: str, expected: tuple[str, str] | None) -> None:
    assert entry_point(handler) == expected


@pytest.mark.parametrize(
    ("files", "fn", "path"),
    [
        ({"src/orders/app.py": HANDLER}, function("A", "orders.app.handler"), "src/orders/app.py"),
        (
            {"src/orders/__init__.py": HANDLER},
            function("A", "orders.handler"),
            "src/orders/__init__.py",
        ),
        (
            {"src/orders/app.py": HANDLER},
            function("A", "src/orders/app.handler", code_uri="."),
            "src/orders/app.py",
        ),
        ({"app.py": HANDLER}, function("A", "app.handler", code_uri="app.py"), "app.py"),
        (
            {"src/app.py": HANDLER},
            function("A", "app.handler", runtime=Unresolved("!Ref Runtime")),
            "src/app.py",
        ),
    ],
)
def test_template_handlers_are_found(
    tmp_path: Path, files: dict[str, str | bytes], fn: Function, path: str
) -> None:
    write(tmp_path, files)
    loaded = load(tmp_path, fn)
    assert (loaded.errors, loaded.skipped) == ((), ())
    (source,) = loaded.sources
    assert source.file.path == PurePosixPath(path)
    assert source.file.language == "python"
    assert source.file.functions == ("A",)
    assert source.file.handlers == (fn.handler.rpartition(".")[2],)  # type: ignore[union-attr]
    assert source.functions == (fn,)


def test_one_file_serves_several_functions(tmp_path: Path) -> None:
    write(tmp_path, {"src/api.py": HANDLER + "def other(event, context):\n    return 1\n"})
    loaded = load(
        tmp_path,
        function("Get", "api.handler"),
        function("Put", "api.other"),
        function("Again", "api.handler"),
    )
    (source,) = loaded.sources
    assert source.file.functions == ("Again", "Get", "Put")
    assert source.file.handlers == ("handler", "other")


def test_a_file_found_both_ways_is_read_once_under_discovery_s_name(tmp_path: Path) -> None:
    write(tmp_path, {"src/app.py": HANDLER})
    loaded = load(tmp_path, function("A", "app.handler"), candidates=True)
    assert [(s.file.path.as_posix(), s.file.functions) for s in loaded.sources] == [
        ("src/app.py", ("A",))
    ]


@pytest.mark.parametrize(
    ("files", "fn", "reason"),
    [
        ({}, function("A", "orders.app.handler"), "not found (looked for `src/orders/app.py`)"),
        ({"src/index.js": "exports.handler = async () => 1;\n"}, function("A", "x"), "names no"),
        (
            {},
            function("A", "app.handler", code_uri="build/orders.zip"),
            "code is the archive `build/orders.zip`",
        ),
        (
            {"src/app.py": "x = 1\n"},
            function("A", "app.handler"),
            "handler `handler` is not defined at the top level",
        ),
        (
            {"src/app.py": "handler = make_handler()\n"},
            function("A", "app.handler"),
            "handler `handler` is not a function definition at the top level",
        ),
    ],
)
def test_what_cannot_be_followed_is_skipped_with_its_reason(
    tmp_path: Path, files: dict[str, str | bytes], fn: Function, reason: str
) -> None:
    write(tmp_path, files)
    loaded = load(tmp_path, fn)
    assert loaded.errors == ()
    (skipped,) = loaded.skipped
    assert reason in skipped.reason, skipped.reason


def test_node_handlers_are_located_and_parsed(tmp_path: Path) -> None:
    write(
        tmp_path,
        {"src/index.mjs": "export const handler = async () => 1;\n", "src/api.ts": "export {}\n"},
    )
    loaded = load(
        tmp_path,
        function("Node", "index.handler", runtime="nodejs20.x"),
        function("Typed", "api.handler", runtime="nodejs22.x"),
    )
    assert loaded.errors == ()
    assert loaded.skipped == ()
    assert sorted((s.file.path.as_posix(), s.file.language) for s in loaded.sources) == [
        ("src/api.ts", "typescript"),
        ("src/index.mjs", "javascript"),
    ]


def test_other_runtimes_and_images_are_not_looked_for(tmp_path: Path) -> None:
    write(tmp_path, {"src/app.py": HANDLER})
    loaded = load(
        tmp_path,
        function("Java", "com.example.Handler::handleRequest", runtime="java21"),
        function("Image", "app.handler", code_uri=None, package_type="Image"),
        function("Remote", "app.handler", code_uri=None),
    )
    assert loaded == HandlerLoad()


def test_code_outside_the_root_is_never_read(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write(outside, {"app.py": HANDLER})
    root = tmp_path / "project"
    write(root, {})
    (root / "src").mkdir()
    (root / "src" / "linked.py").symlink_to(outside / "app.py")
    loaded = load(
        root,
        function("Up", "app.handler", code_uri="../outside"),
        function("Linked", "linked.handler"),
        candidates=True,
    )
    assert loaded.sources == ()
    assert sorted(s.reason for s in loaded.skipped) == [
        "`Linked`: handler file leads outside the scanned folder",
        "`Up`: code `../outside` is outside the scanned folder; handler not read",
    ]


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        (
            "def handler(event, context):\n    return (\n",
            2,
            "Python syntax error: '(' was never closed; not analysed",
        ),
        (
            "def handler(event, context):\n    print 'hello'\n",
            2,
            "Python 2 syntax (a `print` statement); Lambda has no Python 2 runtime",
        ),
        (
            "def handler(event, context):\n    try:\n        pass\n    except KeyError, e:\n"
            "        pass\n",
            4,
            "Python 2 syntax (`except X, e:`)",
        ),
        (b"def handler(event, context):\n    x = '\x00\x01\x02'\n", None, "binary file"),
        (b"def handler(event, context):\n    x = 'caf\xe9'\n", 2, "not valid utf-8 text"),
        (
            "def handler(event, context):\n    x = " + "1" * (MAX_LINE_CHARS + 1) + "\n",
            2,
            "line 2 has 50,009 characters (limit 50,000): generated or minified code",
        ),
        (
            "def handler(event, context):\n    x = (a\n" + "    + a\n" * 100_000 + ")\n",
            None,
            "code nested too deeply to parse; not analysed",
        ),
    ],
    ids=["syntax", "print", "except", "binary", "latin-1", "long-line", "deep"],
)
def test_unreadable_handlers_are_located_errors(
    tmp_path: Path, content: str | bytes, line: int | None, message: str
) -> None:
    write(tmp_path, {"src/app.py": content})
    for candidates in (False, True):
        loaded = load(tmp_path, function("A", "app.handler"), candidates=candidates)
        assert loaded.sources == ()
        (error,) = loaded.errors
        assert (error.path.as_posix(), error.line) == ("src/app.py", line)
        assert message in error.message, error.message


def test_size_cap(tmp_path: Path) -> None:
    write(tmp_path, {"src/app.py": HANDLER + "# padding\n" * 200})
    loaded = load(tmp_path, function("A", "app.handler"), max_bytes=1000)
    (error,) = loaded.errors
    assert "over the 1,000-byte limit" in error.message
    loaded = load(tmp_path, function("A", "app.handler"), candidates=True, max_bytes=1000)
    assert loaded.errors != ()


def test_declared_encodings_and_escape_warnings(tmp_path: Path) -> None:
    latin = b"# -*- coding: latin-1 -*-\ndef handler(event, context):\n    return 'caf\xe9 \\d'\n"
    write(tmp_path, {"src/app.py": latin})
    loaded = load(tmp_path, function("A", "app.handler"))  # `\d` warns; warnings are errors
    (source,) = loaded.sources
    assert "café" in source.text


def test_handler_shaped_files_without_a_template(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "jobs/worker.py": "def lambda_handler(event, context):\n    return 1\n",
            "jobs/both.py": HANDLER + "def lambda_handler(event, context):\n    return 2\n",
            "lib/views.py": "def handler(request):\n    return request\n",
            "lib/util.py": "def helper(event, context):\n    return 1\n",
            "legacy/old.py": "print 'python 2, but no handler'\n",
            "data/blob.py": b"\x00\x01binary without a handler",
        },
    )
    here = Path.cwd()
    os.chdir(tmp_path)
    try:
        found = [(p, PurePosixPath(p.as_posix())) for p in sorted(Path().rglob("*.py"))]
        loaded = load_handlers([], found, root=Path())
    finally:
        os.chdir(here)
    assert (loaded.errors, loaded.skipped) == ((), ())
    assert [(s.file.path.as_posix(), s.file.handlers, s.functions) for s in loaded.sources] == [
        ("jobs/both.py", ("handler", "lambda_handler"), ()),
        ("jobs/worker.py", ("lambda_handler",), ()),
    ]


ESBUILD_BUNDLE = """\
var src_exports = {};
__export(src_exports, {
  config: () => config,
  handler: () => handler2
});
module.exports = __toCommonJS(src_exports);
var handler2 = async (event) => event;
"""


def test_node_entry_points_without_a_template(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "dist/bundle.js": ESBUILD_BUNDLE,
            "dist/tsc.js": "exports.handler = handler;\nasync function handler(e) {}\n",
            "src/options.js": "const options = {\n  handler: () => run,\n};\n",
        },
    )
    files = sorted(tmp_path.rglob("*.js"))
    found = [(p, PurePosixPath(p.relative_to(tmp_path).as_posix())) for p in files]
    loaded = load_handlers([], found, root=tmp_path)
    assert [(s.file.path.as_posix(), s.file.handlers) for s in loaded.sources] == [
        ("dist/bundle.js", ("handler",)),
        ("dist/tsc.js", ("handler",)),
    ]


def test_inline_suppressions_are_read(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "src/app.py": "import os\n"
            "def handler(event, context):\n"
            "    # lambdashield: ignore[LS-CODE-001] the command comes from a signed job\n"
            "    os.system(event['cmd'])\n"
            "    os.system(event['x'])  # lambdashield: ignore[LS-CODE-001]\n"
        },
    )
    loaded = load(tmp_path, function("A", "app.handler"))
    assert [(s.line, s.rule_ids) for s in loaded.suppressions] == [(3, ("LS-CODE-001",))]
    assert [(e.line, e.message) for e in loaded.errors] == [
        (5, "suppression without a reason is not applied; add one")
    ]


def test_nothing_is_imported_or_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    code = (
        "import pathlib\n"
        f"pathlib.Path({str(marker)!r}).write_text('imported')\n"
        "raise SystemExit(3)\n"
        "def handler(event, context):\n"
        f"    pathlib.Path({str(marker)!r}).write_text('called')\n"
    )
    write(tmp_path, {"src/app.py": code})
    from lambdashield.checks import code as code_rules
    from lambdashield.checks import sensitive_logging
    from lambdashield.checks._code import HandlerView

    (source,) = load(tmp_path, function("A", "app.handler")).sources
    view = HandlerView(source)
    for rule in (*code_rules.RULES, *sensitive_logging.RULES):
        list(rule(view))
    assert not marker.exists()
