"""Reading what a handler imports, with `ast` for Python and tree-sitter for JavaScript and
TypeScript: own modules followed, nothing run."""

from __future__ import annotations

import ast
import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from tree_sitter import Parser, Tree

from lambdashield.advisories.store import import_path
from lambdashield.config import Config
from lambdashield.engine import scan
from lambdashield.loaders import handler_imports, node_imports
from lambdashield.loaders.handler_imports import (
    KNOWN_IMPORT_NAMES,
    distribution_candidates,
    installed_top_levels,
    read_handler,
    top_levels_of,
    trace_imports,
)
from lambdashield.loaders.handlers import load_handlers
from lambdashield.loaders.node_imports import (
    npm_aliases,
    npm_distributions,
    package_name,
    read_node_handler,
)
from lambdashield.loaders.npm_deps import load_npm_file
from lambdashield.loaders.python_deps import load_site_packages
from lambdashield.model import (
    Application,
    Dependency,
    DependencySet,
    Function,
    HandlerImport,
    Origin,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def found(root: Path, handler: str = "app.handler") -> dict[str, tuple[str, int]]:
    trace = read_handler(root, PurePosixPath("code"), handler)
    assert trace is not None
    return {module: (path.as_posix(), line) for module, (path, line) in trace.found.items()}


@pytest.mark.parametrize(
    ("module", "first"),
    [
        ("yaml", "pyyaml"),
        ("PIL.Image", "pillow"),
        ("jwt", "pyjwt"),
        ("Crypto.Cipher.AES", "pycryptodome"),
        ("bs4", "beautifulsoup4"),
        ("dateutil.parser", "python-dateutil"),
        ("google.protobuf.json_format", "protobuf"),
        ("requests", "requests"),
        ("Jinja2", "jinja2"),
    ],
)
def test_distribution_candidates(module: str, first: str) -> None:
    assert distribution_candidates(module)[0] == first


def test_dotted_names_try_each_prefix() -> None:
    assert "aws-lambda-powertools" in distribution_candidates("aws_lambda_powertools.logging")


def test_namespace_packages_join_their_prefixes() -> None:
    assert distribution_candidates("google.cloud.storage") == (
        "google-cloud-storage",
        "google-cloud",
        "google",
    )
    assert "ruamel-yaml" in distribution_candidates("ruamel.yaml")


def test_installed_metadata_comes_first() -> None:
    assert distribution_candidates("yaml", {"yaml": ("my-yaml-fork",)})[:2] == (
        "my-yaml-fork",
        "pyyaml",
    )


def test_table_names_are_pep503() -> None:
    for names in KNOWN_IMPORT_NAMES.values():
        assert all(n == n.lower() and "_" not in n and "." not in n for n in names)


def test_top_levels_from_top_level_txt_or_record() -> None:
    assert top_levels_of("yaml\n_yaml\n\n", None) == {"yaml", "_yaml"}
    record = "\n".join(
        [
            "six.py,sha256=x,100",
            "jwt/__init__.py,sha256=x,10",
            "jwt/__pycache__/api.cpython-312.pyc,,",
            "PyJWT-2.8.0.dist-info/METADATA,sha256=x,10",
            "_cffi_backend.cpython-312-x86_64-linux-gnu.so,sha256=x,1",
            "../../bin/tool,sha256=x,1",
        ]
    )
    assert top_levels_of(None, record) == {"six", "jwt", "_cffi_backend"}


def test_installed_top_levels(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "PyYAML-6.0.1.dist-info/top_level.txt": "_yaml\nyaml\n",
            "PyJWT-2.8.0.dist-info/RECORD": "jwt/__init__.py,sha256=x,1\n",
            "not-a-dist/top_level.txt": "nope\n",
        },
    )
    assert installed_top_levels(tmp_path) == {
        "_yaml": ("pyyaml",),
        "yaml": ("pyyaml",),
        "jwt": ("pyjwt",),
    }


def test_own_modules_are_followed_transitively(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "app.py": "import json\nimport orders.service\nfrom lib import util\n",
            "orders/__init__.py": "from . import models\n",
            "orders/models.py": "from ..lib.db import connect\nimport pydantic\n",
            "orders/service.py": "from .models import Order\nimport requests\n",
            "lib/util.py": "import importlib\nmod = importlib.import_module('yaml')\n",
            "lib/db.py": "import psycopg2\n",
            "unused.py": "import never_imported\n",
        },
    )
    assert found(tmp_path) == {
        "pydantic": ("code/orders/models.py", 2),
        "requests": ("code/orders/service.py", 2),
        "yaml": ("code/lib/util.py", 2),
    }


def test_handler_paths(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "src/handlers/orders.py": "import boto3\n",
            "pkg/mod/__init__.py": "import stripe\n",
        },
    )
    assert set(found(tmp_path, "src/handlers/orders.main")) == {"boto3"}
    assert set(found(tmp_path, "pkg.mod.handler")) == {"stripe"}
    assert read_handler(tmp_path, PurePosixPath("code"), "missing.handler") is None
    assert read_handler(tmp_path, PurePosixPath("code"), "nodots") is None


def test_installed_packages_beside_the_code_are_not_followed(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "app.py": "import yaml\n",
            "yaml/__init__.py": "import should_not_be_read\n",
        },
    )
    trace = read_handler(tmp_path, PurePosixPath("code"), "app.handler", {"yaml": ("pyyaml",)})
    assert trace is not None
    assert set(trace.found) == {"yaml"}


def test_nothing_is_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    write(
        tmp_path,
        {"app.py": f"open({str(marker)!r}, 'w').write('x')\nimport helper\n", "helper.py": ""},
    )
    trace = read_handler(tmp_path, PurePosixPath("code"), "app.handler")
    assert trace is not None and trace.complete
    assert not marker.exists()


def test_unreadable_code_is_not_traced(tmp_path: Path) -> None:
    write(tmp_path, {"app.py": "import helper\nimport requests\n", "helper.py": "def (:\n"})
    trace = read_handler(tmp_path, PurePosixPath("code"), "app.handler")
    assert trace is not None
    assert not trace.complete
    assert set(trace.found) == {"requests"}


def test_too_many_files_is_not_traced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"app.py": "import a\n", "a.py": "import b\n", "b.py": "import c\n"})
    monkeypatch.setattr(handler_imports, "MAX_FILES", 2)
    trace = read_handler(tmp_path, PurePosixPath("code"), "app.handler")
    assert trace is not None and not trace.complete


def test_what_the_parser_warns_of_does_not_stop_the_trace(tmp_path: Path) -> None:
    """An invalid escape is a warning, an error under `-W error` (as in this suite): the
    module is read all the same, as the handler loader reads it."""
    write(
        tmp_path,
        {"app.py": "import helper\nP = '\\d+'\n", "helper.py": "import yaml\nP = '\\d+'\n"},
    )
    trace = read_handler(tmp_path, PurePosixPath("code"), "app.handler")
    assert trace is not None and trace.complete
    assert sorted(trace.found) == ["yaml"]


@pytest.mark.skipif(os.name == "nt", reason="symbolic links")
def test_links_out_of_the_code_folder_are_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    write(outside, {"secret.py": "import stolen\n"})
    code = tmp_path / "code"
    write(code, {"app.py": "import secret\nimport requests\n"})
    (code / "secret.py").symlink_to(outside / "secret.py")
    modules = found(code)
    assert "stolen" not in modules
    assert "requests" in modules


def python_trace(root: Path, handler: str = "app.handler") -> handler_imports.HandlerTrace:
    trace = read_handler(root, PurePosixPath("code"), handler)
    assert trace is not None
    return trace


@pytest.mark.parametrize(
    "line",
    [
        "importlib.import_module(name)",
        'importlib.import_module(f"plugins.{name}")',
        'importlib.import_module("plugins." + name)',
        "importlib.import_module(name='x' if debug else 'y')",
        'importlib.import_module(".s3", __package__)',
        "importlib.import_module(*names)",
        "importlib.import_module(**options)",
        "registry.import_module(name)",
        '__import__(f"x.{name}")',
        "__import__(mod)",
        '__import__("x", fromlist=names)',
        '__import__("x", fromlist=[name])',
        '__import__("x", globals(), None, [], level)',
    ],
)
def test_a_python_import_of_a_name_not_spelled_out_leaves_the_trace_incomplete(
    tmp_path: Path, line: str
) -> None:
    write(tmp_path, {"app.py": f"import importlib\nimport requests\n{line}\n"})
    trace = python_trace(tmp_path)
    assert not trace.complete
    assert found(tmp_path) == {"requests": ("code/app.py", 2)}


@pytest.mark.parametrize(
    "line",
    [
        "importlib.import_module()",
        "registry.import_module(path=p)",
        'importlib.import_module("")',
        'importlib.import_module(".s3")',
        'importlib.import_module("..s3", "plugins")',
        'importlib.import_module(".s3", "")',
        "__import__()",
        '__import__(".x")',
        "obj.load_module(name)",
    ],
)
def test_a_python_call_that_loads_nothing_is_no_import(tmp_path: Path, line: str) -> None:
    write(tmp_path, {"app.py": f"import importlib\nimport requests\n{line}\n"})
    trace = python_trace(tmp_path)
    assert trace.complete
    assert found(tmp_path) == {"requests": ("code/app.py", 2)}


def test_python_imports_by_call_with_literal_names(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "app.py": "\n".join(
                [
                    "import importlib",
                    'importlib.import_module("requests")',
                    'importlib.import_module(name="yaml")',
                    'importlib.import_module("jwt", package)',
                    'registry.import_module("stripe")',
                    '__import__("boto3.session")',
                    '__import__(f"pydantic")',
                    "",
                ]
            ),
        },
    )
    trace = python_trace(tmp_path)
    assert trace.complete
    assert found(tmp_path) == {
        "requests": ("code/app.py", 2),
        "yaml": ("code/app.py", 3),
        "jwt": ("code/app.py", 4),
        "stripe": ("code/app.py", 5),
        "boto3.session": ("code/app.py", 6),
        "pydantic": ("code/app.py", 7),
    }


def test_python_relative_imports_by_call_with_literal_names(tmp_path: Path) -> None:
    """`import_module(".s3", "plugins")` is `plugins.s3`, `"..db"` climbs one package, and
    `__import__` reads a literal `fromlist` and `level` as `from ... import` does."""
    write(
        tmp_path,
        {
            "app.py": "\n".join(
                [
                    "import importlib",
                    'importlib.import_module(".s3", "plugins")',
                    'importlib.import_module("..db", package="plugins.sub")',
                    'importlib.import_module(".backends", "django.db")',
                    '__import__("lib", fromlist=["cache"])',
                    "import orders",
                    "",
                ]
            ),
            "plugins/__init__.py": "",
            "plugins/s3.py": "import boto3\n",
            "plugins/db.py": "import psycopg2\n",
            "lib/__init__.py": "",
            "lib/cache.py": "import redis\n",
            "orders/__init__.py": '__import__("models", globals(), None, ("Order",), 1)\n',
            "orders/models.py": "import pydantic\n",
        },
    )
    trace = python_trace(tmp_path)
    assert trace.complete
    assert found(tmp_path) == {
        "django.db.backends": ("code/app.py", 4),
        "boto3": ("code/plugins/s3.py", 1),
        "psycopg2": ("code/plugins/db.py", 1),
        "redis": ("code/lib/cache.py", 1),
        "pydantic": ("code/orders/models.py", 1),
    }


def function(name: str, code_uri: str, handler: str, runtime: str = "python3.12") -> Function:
    origin = Origin(PurePosixPath("template.yaml"), name, "function")
    return Function(origin, runtime=runtime, handler=handler, code_uri=code_uri)


def test_trace_imports_fills_linked_sets(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "src/app.py": "import yaml\nimport jwt\n",
            "src/requirements.txt": "PyYAML==5.3\n",
            ".aws-sam/build/Api/app.py": "import yaml\nimport jwt\n",
            ".aws-sam/build/Api/PyJWT-1.0.dist-info/METADATA": "Name: PyJWT\nVersion: 1.0\n",
            ".aws-sam/build/Api/PyJWT-1.0.dist-info/top_level.txt": "jwt\n",
            "js/index.js": "",
            "js/requirements.txt": "PyYAML==5.3\n",
        },
    )
    sam = Application(
        Origin(PurePosixPath("template.yaml"), "template.yaml", "sam"),
        functions=(
            function("Api", "src/", "app.handler"),
            function("Web", "js", "index.h", "nodejs20.x"),
        ),
    )
    requirements = DependencySet(
        Origin(PurePosixPath("src/requirements.txt"), "requirements.txt", "dependencies"),
        "requirements",
        load_site_packages(tmp_path / ".aws-sam/build/Api", PurePosixPath("x"))
        .sets[0]
        .dependencies,
        locked=False,
        functions=("Api",),
    )
    (built,) = load_site_packages(
        tmp_path / ".aws-sam/build/Api", PurePosixPath(".aws-sam/build/Api")
    ).sets
    js = DependencySet(
        Origin(PurePosixPath("js/requirements.txt"), "requirements.txt", "dependencies"),
        "requirements",
        requirements.dependencies,
        locked=False,
        functions=("Web",),
    )
    built = DependencySet(built.origin, built.kind, built.dependencies, True, functions=("Api",))
    source, installed, web = trace_imports([sam], [requirements, built, js], base=tmp_path)
    assert source.traced == ("Api",)
    assert [(i.module, i.distributions[0], i.path.as_posix()) for i in source.imports] == [
        ("jwt", "pyjwt", "src/app.py"),
        ("yaml", "pyyaml", "src/app.py"),
    ]
    assert installed.traced == ("Api",)
    assert installed.imports[0].path.as_posix() == "src/app.py"
    assert web.traced == () and web.imports == ()


def test_a_python_dynamic_import_leaves_its_function_untraced(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "py/literal.py": 'import importlib\nimportlib.import_module("requests")\n',
            "py/plugin.py": "import importlib\nimport yaml\nimportlib.import_module(name)\n",
            "py/dunder.py": 'import helper\n__import__(f"x.{y}")\n',
            "py/helper.py": "import jwt\n",
        },
    )
    application = Application(
        Origin(PurePosixPath("template.yaml"), "template.yaml", "sam"),
        functions=(
            function("Literal", "py", "literal.handler"),
            function("Plugin", "py", "plugin.handler"),
            function("Dunder", "py", "dunder.handler"),
        ),
    )
    requirements = DependencySet(
        Origin(PurePosixPath("py/requirements.txt"), "requirements.txt", "dependencies"),
        "requirements",
        (Dependency("PyPI", "requests", "2.31.0", "==2.31.0", pinned=True),),
        locked=True,
        functions=("Literal", "Plugin", "Dunder"),
    )
    (traced,) = trace_imports([application], [requirements], base=tmp_path)
    assert traced.traced == ("Literal",)
    assert [(i.function, i.module, i.path.as_posix(), i.line) for i in traced.imports] == [
        ("Literal", "requests", "py/literal.py", 2),
        ("Plugin", "yaml", "py/plugin.py", 2),
        ("Dunder", "jwt", "py/helper.py", 1),
    ]


# --- Node.js handlers -------------------------------------------------------------------


def node_trace(root: Path, handler: str = "app.handler") -> handler_imports.HandlerTrace:
    trace = read_node_handler(root, PurePosixPath("code"), handler)
    assert trace is not None
    assert trace.ecosystem == "npm"
    return trace


def node_found(root: Path, handler: str = "app.handler") -> dict[str, tuple[str, int]]:
    trace = node_trace(root, handler)
    return {module: (path.as_posix(), line) for module, (path, line) in trace.found.items()}


@pytest.mark.parametrize(
    ("specifier", "package"),
    [
        ("lodash", "lodash"),
        ("lodash/fp", "lodash"),
        ("@aws-sdk/client-s3", "@aws-sdk/client-s3"),
        ("@lsdemo/router/lib/match.js", "@lsdemo/router"),
        ("JSONStream", "JSONStream"),
        ("punycode/", "punycode"),
        ("@/lib/db", None),
        ("@scope", None),
        ("#internal/db", None),
        ("/opt/nodejs/util", None),
        ("https://example.com/x.js", None),
        ("", None),
    ],
)
def test_package_name(specifier: str, package: str | None) -> None:
    assert package_name(specifier) == package


def test_every_import_form_and_no_builtins(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "app.js": "\n".join(
                [
                    'const a = require("pkg-require");',
                    "const b = require(`pkg-template`);",
                    'import c from "pkg-default";',
                    'import "pkg-side-effect";',
                    'import * as d from "@scope/pkg-namespace/sub";',
                    'export { e } from "pkg-reexport";',
                    'export * from "pkg-star";',
                    'const f = await import(/* lazy */ "pkg-dynamic-literal");',
                    'require("fs"); require("node:crypto"); require("fs/promises");',
                    'require("node:test"); require("punycode/");',
                    'require.resolve("pkg-resolve-only");',
                    'const note = "require(\'pkg-in-a-string\')"; // require("pkg-comment")',
                    'const again = require("pkg-require");',
                ]
            )
        },
    )
    trace = node_trace(tmp_path)
    assert trace.complete
    assert {m: line for m, (_, line) in trace.found.items()} == {
        "pkg-require": 1,
        "pkg-template": 2,
        "pkg-default": 3,
        "pkg-side-effect": 4,
        "@scope/pkg-namespace/sub": 5,
        "pkg-reexport": 6,
        "pkg-star": 7,
        "pkg-dynamic-literal": 8,
        "punycode/": 10,
    }


def test_typescript_type_only_imports_are_erased(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "app.ts": "\n".join(
                [
                    'import type { A } from "ts-type";',
                    'import { type B } from "ts-type-names";',
                    'import { type C, D } from "ts-mixed";',
                    'import E = require("ts-import-require");',
                    'export type { F } from "ts-export-type";',
                    'import type G = require("ts-type-require");',
                    'import type from "ts-default-named-type";',
                    "export const handler = async (event: A): Promise<B> => D(event as C, E);",
                ]
            )
        },
    )
    trace = node_trace(tmp_path)
    assert trace.complete
    assert node_found(tmp_path) == {
        "ts-mixed": ("code/app.ts", 3),
        "ts-import-require": ("code/app.ts", 4),
        "ts-default-named-type": ("code/app.ts", 7),
    }


def test_own_modules_are_resolved_as_node_does(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "src/app.js": "\n".join(
                [
                    'require("./lib");',
                    'require("./db.js");',
                    'require("./util/");',
                    'require("./config");',
                    'require("./esm.mjs");',
                    'require("../shared/strings");',
                ]
            ),
            "src/lib/package.json": '{"main": "entry"}',
            "src/lib/entry.js": 'require("pkg-main");',
            "src/lib/index.js": 'require("pkg-not-main");',
            "src/db.ts": 'import { Client } from "pkg-ts-source";',
            "src/util/index.cjs": 'module.exports = require("pkg-index");',
            "src/config.json": '{"require": "pkg-json"}',
            "src/esm.mjs": 'export { x } from "pkg-esm";',
            "shared/strings.js": 'require("pkg-shared");',
            "unused.js": 'require("pkg-never-loaded");',
        },
    )
    trace = node_trace(tmp_path, "src/app.handler")
    assert trace.complete
    assert trace.files == 6
    assert node_found(tmp_path, "src/app.handler") == {
        "pkg-main": ("code/src/lib/entry.js", 1),
        "pkg-ts-source": ("code/src/db.ts", 1),
        "pkg-index": ("code/src/util/index.cjs", 1),
        "pkg-esm": ("code/src/esm.mjs", 1),
        "pkg-shared": ("code/shared/strings.js", 1),
    }


def test_handler_file_order_and_missing_handlers(tmp_path: Path) -> None:
    write(tmp_path, {"app.js": 'require("from-js");', "app.ts": 'import "from-ts";'})
    assert set(node_found(tmp_path)) == {"from-js"}
    write(tmp_path, {"v2/app.beta.mjs": 'import "from-dotted";'})
    assert set(node_found(tmp_path, "v2/app.beta.handler")) == {"from-dotted"}
    assert read_node_handler(tmp_path, PurePosixPath("code"), "missing.handler") is None
    assert read_node_handler(tmp_path, PurePosixPath("code"), "nodots") is None


def test_require_cycles_are_walked_once(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "app.js": 'require("./a");',
            "a.js": 'require("./b");\nrequire("pkg-a");',
            "b.js": 'require("./a");\nrequire("./app");\nrequire("pkg-b");',
        },
    )
    trace = node_trace(tmp_path)
    assert trace.complete and trace.files == 3
    assert node_found(tmp_path) == {"pkg-a": ("code/a.js", 2), "pkg-b": ("code/b.js", 3)}


@pytest.mark.parametrize(
    "line",
    [
        "require(name);",
        'require("./plugins/" + name);',
        "import(`./plugins/${name}.js`);",
        'require("pkg-\\x61");',
        'require("#internal/db");',
        'import db from "@/lib/db";',
        'require("/opt/nodejs/util");',
        'require("./missing");',
    ],
)
def test_what_cannot_be_seen_leaves_the_trace_incomplete(tmp_path: Path, line: str) -> None:
    write(tmp_path, {"app.js": f'require("pkg-seen");\n{line}\n'})
    trace = node_trace(tmp_path)
    assert not trace.complete
    assert node_found(tmp_path) == {"pkg-seen": ("code/app.js", 1)}


def test_relative_imports_out_of_the_code_folder_are_not_followed(tmp_path: Path) -> None:
    write(tmp_path / "outside", {"secret.js": 'require("stolen");'})
    code = tmp_path / "code"
    write(code, {"app.js": 'require("../outside/secret");\nrequire("pkg-own");'})
    trace = node_trace(code)
    assert not trace.complete
    assert node_found(code) == {"pkg-own": ("code/app.js", 2)}


@pytest.mark.skipif(os.name == "nt", reason="symbolic links")
def test_links_out_of_the_code_folder_are_not_followed_from_node(tmp_path: Path) -> None:
    write(tmp_path / "outside", {"secret.js": 'require("stolen");'})
    code = tmp_path / "code"
    write(code, {"app.js": 'require("./secret");\nrequire("pkg-own");'})
    (code / "secret.js").symlink_to(tmp_path / "outside" / "secret.js")
    trace = node_trace(code)
    assert not trace.complete
    assert node_found(code) == {"pkg-own": ("code/app.js", 2)}


def test_a_handler_that_does_not_parse_keeps_what_the_parser_recovered(tmp_path: Path) -> None:
    write(tmp_path, {"app.js": 'const p = require("pkg-before");\nfunction (\n'})
    trace = node_trace(tmp_path)
    assert not trace.complete
    assert node_found(tmp_path) == {"pkg-before": ("code/app.js", 1)}


def test_huge_minified_and_bundled_files(tmp_path: Path) -> None:
    minified = "".join(f'var a{i}=require("pkg-huge-{i % 7}");' for i in range(200_000))
    assert len(minified) > 5_000_000
    write(
        tmp_path,
        {
            "app.js": 'require("./vendor.min");\nrequire("pkg-own");',
            "vendor.min.js": minified,
        },
    )
    started = time.perf_counter()
    trace = node_trace(tmp_path)
    assert time.perf_counter() - started < 5
    assert not trace.complete
    assert node_found(tmp_path) == {"pkg-own": ("code/app.js", 2)}

    write(
        tmp_path, {"vendor.min.js": minified[:100_000] + ";", "app.js": 'require("./vendor.min");'}
    )
    trace = node_trace(tmp_path)
    assert not trace.complete  # one 100 kB line: generated code, which may inline packages
    assert set(trace.found) == {f"pkg-huge-{i}" for i in range(7)}

    write(tmp_path, {"app.js": 'var m = __webpack_require__(12);\nrequire("pkg-external");'})
    trace = node_trace(tmp_path)
    assert not trace.complete
    assert set(trace.found) == {"pkg-external"}


def test_deep_nesting_is_walked_without_recursion(tmp_path: Path) -> None:
    depth = 100_000
    nested = "x = " + "[\n" * depth + 'require("pkg-deep")' + "\n]" * depth + ";\n"
    calls = "f(\n" * depth + 'require("pkg-call")' + "\n)" * depth + ";\n"
    write(tmp_path, {"app.js": 'require("./calls");\n' + nested, "calls.js": calls})
    trace = node_trace(tmp_path)
    assert trace.complete
    assert node_found(tmp_path) == {
        "pkg-deep": ("code/app.js", depth + 2),
        "pkg-call": ("code/calls.js", depth + 1),
    }


def test_node_limits_leave_the_trace_incomplete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, {"app.js": 'require("./a");', "a.js": 'require("pkg-a");'})
    assert node_trace(tmp_path).complete
    monkeypatch.setattr(handler_imports, "MAX_FILES", 1)  # shared by both traces
    trace = node_trace(tmp_path)
    assert not trace.complete and trace.found == {}
    monkeypatch.setattr(handler_imports, "MAX_FILES", 10)
    monkeypatch.setattr(node_imports, "MAX_TOTAL_BYTES", 20)  # app.js fits, a.js does not
    trace = node_trace(tmp_path)
    assert not trace.complete and trace.found == {}


def test_node_code_is_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    write(
        tmp_path,
        {
            "app.js": f'require("fs").writeFileSync({str(marker)!r}, "x");\nrequire("./lib");',
            "lib.js": "process.exit(1);",
        },
    )
    assert node_trace(tmp_path).complete
    assert not marker.exists()


def test_npm_aliases(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "package.json": (
                '{"dependencies": {"parser": "npm:lsdemo-parser@1.4.0", "plain": "1.0.0",'
                ' "bare": "npm:lsdemo-bare"}, "devDependencies": {"@my/router":'
                ' "npm:@lsdemo/router@^3.2.0"}, "optionalDependencies": "not an object"}'
            )
        },
    )
    aliases = npm_aliases(tmp_path)
    assert aliases == {
        "parser": "lsdemo-parser",
        "bare": "lsdemo-bare",
        "@my/router": "@lsdemo/router",
    }
    assert npm_distributions("parser/lib/strict", aliases) == ("lsdemo-parser",)
    assert npm_distributions("@my/router", aliases) == ("@lsdemo/router",)
    assert npm_distributions("plain", aliases) == ("plain",)
    assert npm_aliases(tmp_path / "missing") == {}


# --- Node.js: tsconfig aliases, package.json `imports` and `exports` -----------------------


def test_tsconfig_paths_are_the_projects_own_modules(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "tsconfig.json": (
                '{"compilerOptions": {"baseUrl": ".", "paths": {"@app/*": ["src/*"],'
                ' "@lib": ["lib/index.ts"], "@gen/*": ["generated/*", "src/fallback/*"],'
                ' "@app/special/*": ["special/*"]}}}'
            ),
            "src/app.ts": "\n".join(
                [
                    'import { db } from "@app/db";',
                    'import lib from "@lib";',
                    'import { schema } from "@gen/schema";',
                    'import { x } from "@app/special/x";',
                    'import lodash from "lodash";',
                ]
            ),
            "src/db.ts": 'import { Client } from "pkg-db";',
            "lib/index.ts": 'export * from "pkg-lib";',
            "src/fallback/schema.ts": 'import "pkg-fallback";',
            "special/x/index.ts": 'import "pkg-longest-prefix";',
            "src/special/x.ts": 'import "pkg-shorter-prefix";',
        },
    )
    trace = node_trace(tmp_path, "src/app.handler")
    assert trace.complete
    assert node_found(tmp_path, "src/app.handler") == {
        "lodash": ("code/src/app.ts", 5),
        "pkg-db": ("code/src/db.ts", 1),
        "pkg-lib": ("code/lib/index.ts", 1),
        "pkg-fallback": ("code/src/fallback/schema.ts", 1),
        "pkg-longest-prefix": ("code/special/x/index.ts", 1),
    }


def test_tsconfig_base_url_and_config_dir(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "services/tsconfig.json": (
                '{"extends": "./base.json", "compilerOptions": {"baseUrl": "./src"}}'
            ),
            "services/base.json": '{"compilerOptions": {"paths": {"~/*": ["${configDir}/*"]}}}',
            "services/src/app.ts": 'import "users/repo";\nimport "lodash";\nimport "~/shared";',
            "services/src/users/repo.ts": 'import "pkg-repo";',
            "services/shared.ts": 'import "pkg-config-dir";',
        },
    )
    trace = node_trace(tmp_path, "services/src/app.handler")
    assert trace.complete
    assert node_found(tmp_path, "services/src/app.handler") == {
        "pkg-repo": ("code/services/src/users/repo.ts", 1),
        "lodash": ("code/services/src/app.ts", 2),
        "pkg-config-dir": ("code/services/shared.ts", 1),
    }


def test_a_path_alias_is_looked_up_from_the_importing_file(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "app.js": 'require("./other/entry");\nrequire("@x/y");',
            "other/jsconfig.json": '{"compilerOptions": {"paths": {"@x/*": ["./x/*"]}}}',
            "other/tsconfig.json": '{"compilerOptions": {"paths": {"@x/*": ["./lib/*"]}}}',
            "other/entry.js": 'require("@x/y");',
            "other/lib/y.js": 'require("pkg-tsconfig-wins");',
            "other/x/y.js": 'require("pkg-jsconfig");',
        },
    )
    trace = node_trace(tmp_path)
    assert trace.complete
    assert node_found(tmp_path) == {
        "@x/y": ("code/app.js", 2),  # no tsconfig above app.js: a package, as before
        "pkg-tsconfig-wins": ("code/other/lib/y.js", 1),
    }


@pytest.mark.parametrize(
    ("paths", "files", "found", "complete"),
    [
        pytest.param({"@app/*": ["src/*"]}, {}, {}, False, id="no target there"),
        pytest.param(
            {"@app/*": ["node_modules/@app/*"]},
            {"node_modules/@app/db/index.js": 'require("pkg-inside-a-package");'},
            {},
            False,
            id="target in node_modules",
        ),
        pytest.param(
            {"@app/*": ["../outside/*"]}, {}, {}, False, id="target outside the code folder"
        ),
        pytest.param(
            {"*": ["types/*"]},
            {"types/@app/db.d.ts": "export declare const db: unknown;"},
            {"@app/db": ("code/app.ts", 1)},
            True,
            id="catch-all to a declaration",
        ),
        pytest.param(
            {"*": ["node_modules/*", "src/*"]},
            {"node_modules/@app/db/index.js": 'require("pkg-inside-a-package");'},
            {"@app/db": ("code/app.ts", 1)},
            True,
            id="catch-all to node_modules",
        ),
    ],
)
def test_a_path_alias_that_leads_to_no_own_module(
    tmp_path: Path,
    paths: dict[str, list[str]],
    files: dict[str, str],
    found: dict[str, tuple[str, int]],
    complete: bool,
) -> None:
    code = tmp_path / "code"
    write(tmp_path, {"outside/db.ts": 'import "stolen";'})
    write(
        code,
        {
            "tsconfig.json": json.dumps({"compilerOptions": {"paths": paths}}),
            "app.ts": 'import { db } from "@app/db";\nimport "pkg-seen";',
            **files,
        },
    )
    trace = node_trace(code)
    assert trace.complete is complete
    assert node_found(code) == {**found, "pkg-seen": ("code/app.ts", 2)}


def test_tsconfig_extends_chain(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            # A list, a package's base (not read) and a name without `.json`.
            "tsconfig.json": (
                '{"extends": ["@tsconfig/node20/tsconfig.json", "./config/paths"],'
                ' "compilerOptions": {"strict": true}}'
            ),
            "config/paths.json": (
                '{"extends": "./base.json", "compilerOptions": {"paths": {"@app/*": ["app/*"]}}}'
            ),
            # `baseUrl` from the base, relative to it; `paths` from the file between.
            "config/base.json": (
                '{"compilerOptions": {"baseUrl": "../src", "paths": {"@old/*": ["old/*"]}}}'
            ),
            "app.ts": 'import "@app/db";\nimport "@old/db";',
            "src/app/db.ts": 'import "pkg-db";',
            "src/old/db.ts": 'import "pkg-overridden";',
        },
    )
    trace = node_trace(tmp_path)
    assert trace.complete
    assert node_found(tmp_path) == {
        "pkg-db": ("code/src/app/db.ts", 1),
        "@old/db": ("code/app.ts", 2),
    }


@pytest.mark.parametrize(
    "configs",
    [
        pytest.param({"tsconfig.json": '{"extends": "./tsconfig.json"}'}, id="extends itself"),
        pytest.param(
            {"tsconfig.json": '{"extends": "./a"}', "a.json": '{"extends": "./tsconfig.json"}'},
            id="a cycle",
        ),
        pytest.param({"tsconfig.json": '{"extends": "./missing"}'}, id="missing base"),
        pytest.param({"tsconfig.json": '{"extends": "../tsconfig.json"}'}, id="base outside"),
        pytest.param({"tsconfig.json": '{"extends": 3}'}, id="extends a number"),
    ],
)
def test_an_extends_that_cannot_be_read(tmp_path: Path, configs: dict[str, str]) -> None:
    write(tmp_path, {"tsconfig.json": '{"compilerOptions": {"paths": {"@x/*": ["src/*"]}}}'})
    code = tmp_path / "code"
    write(code, {**configs, "app.ts": 'import "@x/db";\nimport "./local";', "local.ts": ""})
    trace = node_trace(code)
    assert not trace.complete  # what the base says of `@x/db` is unknown
    assert node_found(code) == {"@x/db": ("code/app.ts", 1)}

    # A file that sets both `baseUrl` and `paths` overrides whatever its bases set.
    config = json.loads(configs["tsconfig.json"])
    config["compilerOptions"] = {"baseUrl": ".", "paths": {}}
    write(code, {"tsconfig.json": json.dumps(config)})
    trace = node_trace(code)
    assert trace.complete
    assert node_found(code) == {"@x/db": ("code/app.ts", 1)}


def test_extends_reads_a_bounded_number_of_files(tmp_path: Path) -> None:
    # Each base extends all the others: without a bound, a tree of 9 ** 8 reads.
    names = [f"b{i}" for i in range(10)]
    files = {
        f"{name}.json": json.dumps({"extends": [f"./{other}" for other in names]}) for name in names
    }
    files["tsconfig.json"] = json.dumps({"extends": [f"./{name}" for name in names]})
    write(tmp_path, {**files, "app.ts": 'import "pkg-a";'})
    started = time.perf_counter()
    trace = node_trace(tmp_path)
    assert time.perf_counter() - started < 5
    assert not trace.complete
    assert node_found(tmp_path) == {"pkg-a": ("code/app.ts", 1)}


def test_tsconfig_is_json_with_comments(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "tsconfig.json": "\n".join(
                [
                    "\ufeff// The service's settings",
                    "{",
                    '  "compilerOptions": { /* aliases: "@app/*" */',
                    '    "baseUrl": "./", // "./lib" once',
                    '    "paths": {',
                    '      "@app/*": ["src/*",],  // a string holding /* and //',
                    '      "@url//x": ["./src/url.ts"],',
                    '      "@quote\\"/*": ["src/quote/*"],',
                    "    },",
                    "  },",
                    '  "include": ["src/**/*.ts", /* "x", */],',
                    "}",
                ]
            ),
            "app.ts": 'import "@app/db";\nimport "@url//x";\nimport \'@quote"/q\';',
            "src/db.ts": 'import "pkg-db";',
            "src/url.ts": 'import "pkg-url";',
            "src/quote/q.ts": 'import "pkg-quote";',
        },
    )
    trace = node_trace(tmp_path)
    assert trace.complete
    assert node_found(tmp_path) == {
        "pkg-db": ("code/src/db.ts", 1),
        "pkg-url": ("code/src/url.ts", 1),
        "pkg-quote": ("code/src/quote/q.ts", 1),
    }


@pytest.mark.parametrize(
    "config",
    [
        pytest.param(b'{"compilerOptions": {"paths": {"@app/*": ["src/*"]}}', id="unclosed"),
        pytest.param(b'{"compilerOptions": {/* "paths": {} }}', id="unclosed comment"),
        pytest.param(b'{"compilerOptions": {"paths": {"@app/*": "src/*"}}}', id="not a list"),
        pytest.param(b'{"compilerOptions": {"paths": {"@*/*": ["src/*"]}}}', id="two stars"),
        pytest.param(b'{"compilerOptions": {"baseUrl": 1}}', id="baseUrl a number"),
        pytest.param(b'{"compilerOptions": []}', id="options a list"),
        pytest.param(b'["compilerOptions"]', id="a list"),
        pytest.param(b'{"compilerOptions": {"baseUrl": "\xe9"}}', id="not UTF-8"),
        pytest.param(b"{,}", id="a lone comma"),
    ],
)
def test_an_invalid_tsconfig_leaves_the_trace_incomplete(tmp_path: Path, config: bytes) -> None:
    write(tmp_path, {"app.ts": 'import "@app/db";\nimport "./local";', "local.ts": ""})
    (tmp_path / "tsconfig.json").write_bytes(config)
    trace = node_trace(tmp_path)
    assert not trace.complete  # `@app/db` may be the project's, or a package
    assert node_found(tmp_path) == {"@app/db": ("code/app.ts", 1)}
    # Relative imports do not depend on it.
    write(tmp_path, {"app.ts": 'import "./local";'})
    assert node_trace(tmp_path).complete


def test_a_tsconfig_outside_the_code_folder_is_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The code folder is the boundary: the scanned root holds it, and holds no code of its
    # own the function ships.
    aliases = '{"compilerOptions": {"paths": {"@app/*": ["code/src/*"]}}}'
    write(tmp_path, {"tsconfig.json": aliases, "jsconfig.json": aliases})
    code = tmp_path / "code"
    write(code, {"app.ts": 'import "@app/db";', "src/db.ts": 'import "pkg-db";'})
    opened: list[Path] = []
    real_read = node_imports._read_jsonc

    def reading(path: Path) -> dict[str, object] | None:
        opened.append(path)
        return real_read(path)

    monkeypatch.setattr(node_imports, "_read_jsonc", reading)
    trace = node_trace(code)
    assert trace.complete
    assert node_found(code) == {"@app/db": ("code/app.ts", 1)}  # as before: a package
    assert opened == []

    write(code, {"tsconfig.json": '{"extends": "../tsconfig.json"}'})
    trace = node_trace(code)
    assert not trace.complete
    assert node_found(code) == {"@app/db": ("code/app.ts", 1)}
    assert set(opened) == {(code / "tsconfig.json").resolve()}

    if os.name != "nt":
        (code / "tsconfig.json").unlink()
        (code / "tsconfig.json").symlink_to(tmp_path / "tsconfig.json")
        opened.clear()
        trace = node_trace(code)
        assert not trace.complete
        assert opened == []


def test_package_json_subpath_imports(tmp_path: Path) -> None:
    imports = {
        "#db": "./src/db.js",
        "#lib/*": "./lib/*.js",
        "#lib/special": "./lib/exact.js",
        "#parser": "lsdemo-parser",
        "#fs": "fs",
        "#loader": {
            "types": "./types/loader.d.ts",
            "import": "./src/loader.mjs",
            "require": "./src/loader.cjs",
            "default": "./src/loader-default.js",
        },
        "#platform": {"node": ["./src/node.js"], "default": "./src/browser.js"},
        "#nested": {"browser": "./src/browser.js", "default": {"node": "./src/nested.js"}},
    }
    write(
        tmp_path,
        {
            "package.json": json.dumps({"name": "svc", "imports": imports}),
            "src/app.ts": "\n".join(
                [
                    'import { db } from "#db";',
                    'import { a } from "#lib/util";',
                    'import { b } from "#lib/special";',
                    'import parser from "#parser";',
                    'import { readFile } from "#fs";',
                    'import { load } from "#loader";',
                    'import { platform } from "#platform";',
                    'import { nested } from "#nested";',
                ]
            ),
            "src/db.ts": 'import "pkg-db";',  # the source of `db.js`
            "lib/util.js": 'require("pkg-util");',
            "lib/exact.js": 'require("pkg-exact");',
            "src/loader.mjs": 'import "pkg-esm";',
            "src/loader.cjs": 'require("pkg-cjs");',
            "src/loader-default.js": 'require("pkg-loader-default");',
            "src/node.js": 'require("pkg-node");',
            "src/browser.js": 'require("pkg-browser");',
            "src/nested.js": 'require("pkg-nested");',
        },
    )
    trace = node_trace(tmp_path, "src/app.handler")
    assert trace.complete
    assert node_found(tmp_path, "src/app.handler") == {
        "pkg-db": ("code/src/db.ts", 1),
        "pkg-util": ("code/lib/util.js", 1),
        "pkg-exact": ("code/lib/exact.js", 1),
        "lsdemo-parser": ("code/src/app.ts", 4),
        "pkg-esm": ("code/src/loader.mjs", 1),
        "pkg-cjs": ("code/src/loader.cjs", 1),
        "pkg-node": ("code/src/node.js", 1),
        "pkg-nested": ("code/src/nested.js", 1),
    }


@pytest.mark.parametrize(
    "line",
    [
        'require("#missing");',
        'require("#gone");',
        'require("#up");',
        'require("#modules/x");',
        'require("#blocked");',
        'require("#browser");',
        'require("#url");',
        'require("#/root");',
        'require("#");',
    ],
)
def test_an_unresolved_subpath_import_leaves_the_trace_incomplete(
    tmp_path: Path, line: str
) -> None:
    imports = {
        "#gone": "./gone.js",
        "#up": "../outside.js",
        "#modules/*": "./node_modules/*.js",
        "#blocked": None,
        "#browser": {"browser": "./browser.js"},
        "#url": "https://example.com/x.js",
        "#/*": "./*.js",
        "#": "./app.js",
    }
    write(
        tmp_path,
        {
            "package.json": json.dumps({"imports": imports}),
            "app.js": f'require("pkg-seen");\n{line}\n',
            "browser.js": 'require("pkg-browser");',
            "root.js": 'require("pkg-root");',
            "node_modules/x.js": 'require("pkg-inside");',
        },
    )
    trace = node_trace(tmp_path)
    assert not trace.complete
    assert node_found(tmp_path) == {"pkg-seen": ("code/app.js", 1)}


@pytest.mark.parametrize(
    "manifest",
    [
        pytest.param(None, id="no package.json"),
        pytest.param('{"name": "svc"}', id="no imports"),
        pytest.param('{"imports": ["#x"]}', id="imports a list"),
        pytest.param('{"imports": ', id="not JSON"),
    ],
)
def test_a_subpath_import_without_imports(tmp_path: Path, manifest: str | None) -> None:
    # The nearest package.json decides, as in Node.js: one above it is not looked at.
    write(tmp_path, {"package.json": json.dumps({"imports": {"#x": "./code/x.js"}})})
    code = tmp_path / "code"
    write(code, {"app.js": 'require("#x");', "x.js": 'require("pkg-x");'})
    if manifest is not None:
        write(code, {"package.json": manifest})
    trace = node_trace(code)
    assert not trace.complete
    assert node_found(code) == {}


def test_a_tsconfig_alias_comes_before_subpath_imports(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "tsconfig.json": '{"compilerOptions": {"paths": {"#db": ["./src/alias.ts"]}}}',
            "package.json": '{"imports": {"#db": "./src/imports.js"}}',
            "app.ts": 'import "#db";',
            "src/alias.ts": 'import "pkg-alias";',
            "src/imports.js": 'import "pkg-imports";',
        },
    )
    trace = node_trace(tmp_path)
    assert trace.complete
    assert node_found(tmp_path) == {"pkg-alias": ("code/src/alias.ts", 1)}


def test_a_package_imports_itself_by_name_through_its_exports(tmp_path: Path) -> None:
    exports = {
        ".": {"import": "./index.mjs", "require": "./index.cjs"},
        "./lib/*": "./src/lib/*.js",
        "./lib/private/*": None,
    }
    write(
        tmp_path,
        {
            "package.json": json.dumps({"name": "my-service", "exports": exports}),
            "app.js": 'require("my-service");\nrequire("my-service/lib/x");',
            "index.mjs": 'import "pkg-esm";',
            "index.cjs": 'require("pkg-cjs");',
            "src/lib/x.js": 'require("pkg-x");',
        },
    )
    trace = node_trace(tmp_path)
    assert trace.complete
    assert node_found(tmp_path) == {
        "pkg-esm": ("code/index.mjs", 1),
        "pkg-cjs": ("code/index.cjs", 1),
        "pkg-x": ("code/src/lib/x.js", 1),
    }

    for line in ('require("my-service/lib/private/y");', 'require("my-service/other");'):
        write(tmp_path, {"app.js": line})
        trace = node_trace(tmp_path)
        assert not trace.complete  # not exported: Node.js refuses it
        assert trace.found == {}

    # A string `exports` is the package's `.`; a mixed one is refused.
    write(tmp_path, {"package.json": '{"name": "my-service", "exports": "./index.cjs"}'})
    write(tmp_path, {"app.js": 'require("my-service");'})
    assert node_found(tmp_path) == {"pkg-cjs": ("code/index.cjs", 1)}
    write(tmp_path, {"package.json": '{"name": "my-service", "exports": {".": "./a", "b": 1}}'})
    trace = node_trace(tmp_path)
    assert not trace.complete and trace.found == {}


def test_a_package_name_without_exports_is_a_package(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "package.json": '{"name": "my-service", "main": "app.js"}',
            "app.js": 'require("my-service/lib/x");\nrequire("my-service-extra");',
            "lib/x.js": 'require("pkg-x");',
        },
    )
    trace = node_trace(tmp_path)
    assert trace.complete
    assert node_found(tmp_path) == {
        "my-service/lib/x": ("code/app.js", 1),
        "my-service-extra": ("code/app.js", 2),
    }


def test_scan_reports_packages_reached_through_aliases(
    fixture_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(FIXTURES)
    config = Config(
        select=("LS-DEP-001", "LS-DEP-005"), db=fixture_store, advisory_max_age_days=100_000
    )
    report = scan(["node_aliases"], config)
    assert report.errors == ()
    lock = "node_aliases/api/package-lock.json"
    code = PurePosixPath("node_aliases/api/src")
    sets = {s.origin.path.as_posix(): s for s in report.dependency_sets}
    assert sets[lock].traced == ("ApiFunction",)
    assert sets[lock].imports == (
        HandlerImport("ApiFunction", "@lsdemo/router", ("@lsdemo/router",), code / "routes.ts", 1),
        HandlerImport("ApiFunction", "lsdemo-parser", ("lsdemo-parser",), code / "lib/parse.ts", 1),
    )
    found = {
        (f.rule.id, f.location.path.as_posix(), f.location.pointer): f.message
        for f in report.findings
    }
    router = "/packages/node_modules~1@lsdemo~1router"
    parser = "/packages/node_modules~1lsdemo-parser"
    assert {key for key in found if key[1] == lock} == {
        ("LS-DEP-001", lock, router),
        ("LS-DEP-001", lock, parser),
        ("LS-DEP-005", lock, router),
        ("LS-DEP-005", lock, parser),
    }
    assert (
        "(`lsdemo-parser` at node_aliases/api/src/lib/parse.ts:1)"
        in (found["LS-DEP-005", lock, parser])
    )
    assert (
        "(`@lsdemo/router` at node_aliases/api/src/routes.ts:1)"
        in (found["LS-DEP-005", lock, router])
    )


def npm_set(root: Path, folder: str, functions: tuple[str, ...]) -> DependencySet:
    display = PurePosixPath(folder, "package-lock.json")
    (found,) = load_npm_file(root / display, display, max_bytes=1 << 20).sets
    return DependencySet(found.origin, found.kind, found.dependencies, True, functions=functions)


LOCK = (
    '{"lockfileVersion": 3, "packages": {"": {"dependencies": {"lsdemo-parser": "1.4.0"}},'
    ' "node_modules/lsdemo-parser": {"version": "1.4.0"}}}'
)


def test_trace_imports_fills_npm_sets_from_node_handlers(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "web/app.js": 'const p = require("parser");\nrequire("./lib");',
            "web/lib.js": 'require("lsdemo-http");',
            "web/package.json": '{"dependencies": {"parser": "npm:lsdemo-parser@1.4.0"}}',
            "web/package-lock.json": LOCK,
            "py/app.py": "import lsdemo_parser\n",
            "py/package-lock.json": LOCK,
            "any/app.js": 'require("lsdemo-parser");',
            "any/package-lock.json": LOCK,
        },
    )
    sam = Application(
        Origin(PurePosixPath("template.yaml"), "template.yaml", "sam"),
        functions=(
            function("Web", "web", "app.handler", "nodejs20.x"),
            function("Py", "py", "app.handler"),
            Function(
                Origin(PurePosixPath("template.yaml"), "Any", "function"),
                handler="app.handler",
                code_uri="any",
            ),
        ),
    )
    requirements = DependencySet(
        Origin(PurePosixPath("web/requirements.txt"), "requirements.txt", "dependencies"),
        "requirements",
        (Dependency("PyPI", "lsdemo-http", "1.0.0", "==1.0.0", pinned=True),),
        locked=False,
        functions=("Web",),
    )
    web, python_for_node, py, any_runtime = trace_imports(
        [sam],
        [
            npm_set(tmp_path, "web", ("Web",)),
            requirements,
            npm_set(tmp_path, "py", ("Py",)),
            npm_set(tmp_path, "any", ("Any",)),
        ],
        base=tmp_path,
    )
    assert web.traced == ("Web",)
    assert web.imports == (
        HandlerImport("Web", "lsdemo-http", ("lsdemo-http",), PurePosixPath("web/lib.js"), 1),
        HandlerImport("Web", "parser", ("lsdemo-parser",), PurePosixPath("web/app.js"), 1),
    )
    assert python_for_node == requirements  # a PyPI set: the Node.js handler says nothing
    assert py.traced == () and py.imports == ()  # a Python handler says nothing of npm
    assert any_runtime.traced == ("Any",)
    assert [i.module for i in any_runtime.imports] == ["lsdemo-parser"]


@pytest.fixture(scope="module")
def fixture_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("node-reachability-store") / "advisories.sqlite3"
    assert import_path(FIXTURES / "osv", path).errors == []
    yield path


def test_scan_reports_reachable_npm_packages(
    fixture_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(FIXTURES)  # paths in the report are as typed: "node_reachability/..."
    config = Config(
        select=("LS-DEP-001", "LS-DEP-005"), db=fixture_store, advisory_max_age_days=100_000
    )
    report = scan(["node_reachability"], config)
    assert report.errors == ()
    orders = "node_reachability/orders/package-lock.json"
    plugins = "node_reachability/plugins/package-lock.json"
    router = "/packages/node_modules~1@lsdemo~1router"
    parser = "/packages/node_modules~1lsdemo-parser"
    found = {
        (f.rule.id, f.location.path.as_posix(), f.location.pointer): f.message
        for f in report.findings
    }
    assert set(found) == {
        ("LS-DEP-001", orders, router),
        ("LS-DEP-001", orders, parser),
        ("LS-DEP-005", orders, parser),
        ("LS-DEP-001", plugins, router),
        ("LS-DEP-001", plugins, parser),
        ("LS-DEP-005", plugins, parser),
    }
    assert found["LS-DEP-001", orders, router].endswith(
        "; not imported by the handler of `OrdersFunction`, though another package may use it"
    )
    assert found["LS-DEP-001", orders, parser].endswith(
        "; reachable: the handler of `OrdersFunction` imports it (LS-DEP-005)"
    )
    assert found["LS-DEP-005", orders, parser].startswith(
        "`lsdemo-parser` 1.4.0 has 1 known vulnerability (`CVE-0000-0101`) and the handler of "
        "`OrdersFunction` imports it (`lsdemo-parser` at node_reachability/orders/src/app.js:3)"
    )
    # `import()` of a computed name: nothing is said of what PluginsFunction does not import.
    assert found["LS-DEP-001", plugins, router].endswith(
        "upgrade to 3.4.0, the lowest version no known advisory of `@lsdemo/router` affects"
    )
    assert found["LS-DEP-001", plugins, parser].endswith(
        "; reachable: the handler of `PluginsFunction` imports it (LS-DEP-005)"
    )
    assert (
        "(`lsdemo-parser` at node_reachability/plugins/index.mjs:1)"
        in (found["LS-DEP-005", plugins, parser])
    )

    sets = {s.origin.path.as_posix(): s for s in report.dependency_sets}
    assert sorted(sets) == [
        "node_reachability/orders/package-lock.json",
        "node_reachability/orders/package.json",
        plugins,
    ]
    code = PurePosixPath("node_reachability/orders/src")
    assert sets[orders].traced == ("OrdersFunction",)
    assert sets[orders].imports == (
        HandlerImport(
            "OrdersFunction", "lsdemo-mailer/smtp", ("lsdemo-mailer",), code / "lib/notify.js", 1
        ),
        HandlerImport("OrdersFunction", "lsdemo-parser", ("lsdemo-parser",), code / "app.js", 3),
    )
    assert sets["node_reachability/orders/package.json"].imports == sets[orders].imports
    assert sets[plugins].traced == ()
    assert sets[plugins].imports == (
        HandlerImport(
            "PluginsFunction",
            "lsdemo-parser",
            ("lsdemo-parser",),
            PurePosixPath("node_reachability/plugins/index.mjs"),
            1,
        ),
    )
    vulnerable = {(v.location.path.as_posix(), v.name): v.reachable for v in report.vulnerabilities}
    assert vulnerable == {
        (orders, "@lsdemo/router"): False,
        (orders, "lsdemo-parser"): True,
        (plugins, "@lsdemo/router"): None,
        (plugins, "lsdemo-parser"): True,
    }


# --- The handler loader's trees ---------------------------------------------------------

PYPI = (Dependency("PyPI", "requests", "2.31.0", "==2.31.0", pinned=True),)
NPM = (Dependency("npm", "lsdemo-parser", "1.4.0", "1.4.0", pinned=True),)


def traced_both_ways(
    root: Path, monkeypatch: pytest.MonkeyPatch, functions: tuple[Function, ...], ecosystem: str
) -> tuple[list[DependencySet], Counter[bytes]]:
    """The sets traced with the trees `load_handlers` made of the handler files, and without;
    and the files parsed (by their bytes, as read) by the trace with those trees."""
    monkeypatch.chdir(root)
    application = Application(
        Origin(PurePosixPath("template.yaml"), "template.yaml", "sam"), functions=functions
    )
    names = tuple(f.origin.resource for f in functions)
    folders = sorted({f.code_uri or "" for f in functions})
    sets = [
        DependencySet(
            Origin(PurePosixPath(folder, "deps"), "deps", "dependencies"),
            "requirements" if ecosystem == "PyPI" else "package-lock",
            PYPI if ecosystem == "PyPI" else NPM,
            locked=True,
            functions=names,
        )
        for folder in folders
    ]
    loaded = load_handlers([application], root=root)
    parsed = {s.path: s for s in loaded.sources if s.path is not None}
    without = trace_imports([application], sets)

    counts: Counter[bytes] = Counter()
    parse = ast.parse

    def counting_ast(source: str | bytes, *args: Any, **kwargs: Any) -> Any:
        counts[source if isinstance(source, bytes) else source.encode()] += 1
        return parse(source, *args, **kwargs)

    class CountingParser:
        def __init__(self, parser: Parser) -> None:
            self.parser = parser
            self.language = parser.language

        def parse(self, data: bytes) -> Tree:
            counts[data] += 1
            return self.parser.parse(data)

    real_parser = node_imports._parser
    monkeypatch.setattr(ast, "parse", counting_ast)
    monkeypatch.setattr(node_imports, "_parser", lambda suffix: CountingParser(real_parser(suffix)))
    with_trees = trace_imports([application], sets, parsed=parsed)
    assert with_trees == without
    return with_trees, counts


def test_the_trace_reads_the_loaders_python_trees_and_each_module_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = b"import boto3\nimport yaml\n"
    write(
        tmp_path,
        {
            "py/a.py": "from shared import get\nimport requests\n\ndef handler(e, c): pass\n",
            "py/b.py": "import shared\n\ndef handler(e, c): pass\n",
            "py/shared.py": shared.decode(),
        },
    )
    functions = (function("A", "py", "a.handler"), function("B", "py", "b.handler"))
    (traced,), counts = traced_both_ways(tmp_path, monkeypatch, functions, "PyPI")
    assert traced.traced == ("A", "B")
    assert {(i.function, i.module) for i in traced.imports} == {
        ("A", "requests"),
        ("A", "boto3"),
        ("A", "yaml"),
        ("B", "boto3"),
        ("B", "yaml"),
    }
    assert counts == Counter({shared: 1})  # the handlers not again, the module once


@pytest.mark.parametrize(
    ("source", "reused"),
    [
        pytest.param(
            b"# -*- coding: latin-1 -*-\nNAME = '\xe9t\xe9'  # \xe0\nimport requests\n",
            True,
            id="latin-1 declared",
        ),
        pytest.param(
            b"# vim: set fileencoding=cp1252 :\n'\x80'\nimport requests\n", True, id="cp1252"
        ),
        pytest.param(b"\xef\xbb\xbfimport requests\n", True, id="BOM"),
        pytest.param(b"import os\r\nimport requests\r\n", True, id="CRLF"),
        pytest.param(b"import requests\nx = '\xe9'\n", False, id="not UTF-8, undeclared"),
        pytest.param(b"# coding: no-such-codec\nimport requests\n", False, id="unknown codec"),
        pytest.param(
            b"\xef\xbb\xbf# coding: latin-1\nimport requests\n", False, id="BOM and latin-1"
        ),
    ],
)
def test_a_python_handler_in_any_encoding_traces_as_it_did(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: bytes, reused: bool
) -> None:
    """The loader decodes a handler as the compiler does (PEP 263): its tree is the one the
    trace would make of the bytes, and where it made none the trace parses the file, as it
    did before; either way the result is the same as without the loader's trees."""
    (tmp_path / "py").mkdir()
    (tmp_path / "py/app.py").write_bytes(source + b"\ndef handler(event, context):\n    pass\n")
    (traced,), counts = traced_both_ways(
        tmp_path, monkeypatch, (function("Api", "py", "app.handler"),), "PyPI"
    )
    assert sum(counts.values()) == (0 if reused else 1)
    assert traced.traced == (("Api",) if reused else ())


NODE_SOURCE = 'const p = require("lsdemo-parser");\nexports.handler = async () => p;\n'


@pytest.mark.parametrize(
    ("name", "target", "prefix", "reused"),
    [
        pytest.param("app.js", None, "", True, id="js"),
        pytest.param("app.mjs", None, "", True, id="mjs"),
        pytest.param("app.cjs", None, "", True, id="cjs"),
        pytest.param("app.ts", None, "", True, id="ts"),
        pytest.param("app.mts", None, "", True, id="mts"),
        pytest.param("app.js", None, "\ufeff", False, id="js with a BOM"),
        # The loader takes the grammar from the name the template leads to, the trace from
        # the real file's: each tree is made with the grammar of its reader.
        pytest.param("app.js", "impl.ts", "", False, id="js link to ts"),
        pytest.param("app.ts", "impl.js", "", False, id="ts link to js"),
        pytest.param("app.ts", "impl.tsx", "", False, id="ts link to tsx"),
        pytest.param("app.js", "impl.mjs", "", True, id="js link to mjs"),
        pytest.param("app.ts", "impl.TS", "", True, id="ts link to TS"),
        pytest.param("app.js", "impl.TS", "", False, id="js link to TS"),
    ],
)
def test_a_node_handler_tree_is_read_when_made_with_the_traces_grammar(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    target: str | None,
    prefix: str,
    reused: bool,
) -> None:
    code = tmp_path / "js"
    code.mkdir()
    if target is None:
        (code / name).write_text(prefix + NODE_SOURCE, encoding="utf-8")
    else:
        if os.name == "nt":
            pytest.skip("symbolic links")
        (code / target).write_text(prefix + NODE_SOURCE, encoding="utf-8")
        (code / name).symlink_to(code / target)
    functions = (function("Web", "js", "app.handler", "nodejs20.x"),)
    (traced,), counts = traced_both_ways(tmp_path, monkeypatch, functions, "npm")
    assert traced.traced == ("Web",)
    assert [(i.module, i.line) for i in traced.imports] == [("lsdemo-parser", 1)]
    assert sum(counts.values()) == (0 if reused else 1)


@pytest.mark.skipif(os.name == "nt", reason="symbolic links")
def test_a_tree_of_another_grammar_is_not_taken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`app.js` is a link to `impl.ts` holding JSX: JavaScript to the loader, which parses
    it, TypeScript to the trace, whose grammar has no JSX. Taking the loader's tree would
    call the handler traced."""
    code = tmp_path / "js"
    code.mkdir()
    (code / "impl.ts").write_text(
        'const p = require("lsdemo-parser");\nconst view = <p>{p.name}</p>;\n'
        "exports.handler = async () => view;\n",
        encoding="utf-8",
    )
    (code / "app.js").symlink_to(code / "impl.ts")
    functions = (function("Web", "js", "app.handler", "nodejs20.x"),)
    (traced,), counts = traced_both_ways(tmp_path, monkeypatch, functions, "npm")
    assert traced.traced == ()
    assert [i.module for i in traced.imports] == ["lsdemo-parser"]
    assert sum(counts.values()) == 1
