"""Reading what a handler imports with `ast`: own modules followed, nothing run."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

import pytest

from lambdashield.loaders import handler_imports
from lambdashield.loaders.handler_imports import (
    KNOWN_IMPORT_NAMES,
    distribution_candidates,
    installed_top_levels,
    read_handler,
    top_levels_of,
    trace_imports,
)
from lambdashield.loaders.python_deps import load_site_packages
from lambdashield.model import Application, DependencySet, Function, Origin


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
