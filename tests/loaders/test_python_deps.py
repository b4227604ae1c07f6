"""Python dependency files: every format, the pip rules for requirements, and bad input."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

import pytest

from lambdashield.errors import LoaderError
from lambdashield.loaders._deps import DependencyFile, anchor
from lambdashield.loaders.python_deps import (
    PYTHON_FILE,
    applies,
    load_python_file,
    load_site_packages,
    poetry_to_pep440,
)
from lambdashield.model import Dependency, DependencySet

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "deps" / "python"
MAX = 10 * 1024 * 1024


def load(relative: str, root: Path | None = None) -> DependencyFile:
    path = FIXTURES / relative
    return load_python_file(path, PurePosixPath(relative), max_bytes=MAX, root=root)


def only(result: DependencyFile) -> DependencySet:
    assert result.errors == ()
    (found,) = result.sets
    return found


def by_name(dependency_set: DependencySet) -> dict[str, Dependency]:
    return {d.name: d for d in dependency_set.dependencies}


def test_requirements_with_includes_hashes_markers_and_references() -> None:
    found = only(load("app/requirements.txt", root=FIXTURES))
    deps = by_name(found)
    assert (found.kind, found.locked, found.application) == ("requirements", False, True)
    assert found.includes == (
        PurePosixPath("app/requirements-base.txt"),
        PurePosixPath("app/constraints.txt"),
    )
    assert list(deps) == [
        "certifi",
        "requests",
        "boto3",
        "PyJWT",
        "urllib3",
        "orders-common",
        "orders-model",
        "lsdemo-http",
    ]
    requests = deps["requests"]
    assert (requests.version, requests.pinned, requests.line) == ("2.19.0", True, 5)
    assert len(requests.hashes) == 2
    assert (deps["boto3"].version, deps["boto3"].specifier, deps["boto3"].pinned) == (
        None,
        ">=1.20",
        False,
    )
    assert deps["PyJWT"].markers == 'python_version >= "3.8"'
    assert (deps["urllib3"].version, deps["urllib3"].pinned) == ("1.26.5", True)  # constraint
    assert deps["certifi"].source == PurePosixPath("app/requirements-base.txt")
    common = deps["orders-common"]
    assert (common.reference, common.pinned, common.version) == (
        "git+https://github.com/example/orders-common@main",
        False,
        None,
    )
    assert deps["orders-model"].reference == "./libs/orders-model"
    wheel = deps["lsdemo-http"]
    assert (wheel.version, wheel.pinned) == ("1.0.0", False)
    lines = found.origin.lines
    assert lines(anchor(requests)) == (5, 5)
    assert lines(anchor(deps["certifi"])) == (2, 2)  # the `-r` line that brought it in


def write(tmp_path: Path, text: str, name: str = "requirements.txt") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load_text(tmp_path: Path, text: str, name: str = "requirements.txt") -> DependencyFile:
    path = write(tmp_path, text, name)
    return load_python_file(path, PurePosixPath(name), max_bytes=MAX, root=tmp_path)


# A line pip rejects: (line, expected message); every other line is still read.
REJECTED = [
    ("requests=2.0", "not a valid requirement"),
    ("requests==2.0;;", "not a valid requirement"),
    ("--frobnicate", "unknown option `--frobnicate`"),
    ("requests==2.0 --index-url https://x", "cannot follow a requirement"),
    ("-r", "option `-r` needs a value"),
    ("--hash=sha256:abc", "must follow a requirement"),
    ("-r ../outside.txt", "outside the scanned folder"),
    ("-r https://example.com/r.txt", "remote include"),
    ("-r missing.txt", "does not exist"),
    ("-r requirements.txt", "is a cycle"),
]


@pytest.mark.parametrize(("line", "message"), REJECTED)
def test_rejected_line_is_an_error_with_file_and_line(
    tmp_path: Path, line: str, message: str
) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "outside.txt").write_text("evil==1.0\n", encoding="utf-8")
    result = load_text(root, f"boto3==1.34.0\n# a comment\n{line}\nrequests==2.31.0\n")
    assert [(e.path.as_posix(), e.line) for e in result.errors] == [("requirements.txt", 3)]
    assert message in result.errors[0].message
    assert [d.name for d in result.sets[0].dependencies] == ["boto3", "requests"]
    assert "evil" not in {d.name for d in result.sets[0].dependencies}


def test_continuations_comments_and_options(tmp_path: Path) -> None:
    result = load_text(
        tmp_path,
        "--index-url https://pypi.org/simple\n"
        "--require-hashes\n"
        "#requests==1.0 \\\n"
        "flask==2.0.1 \\\n"
        "  --hash=sha256:aa \\\n"
        "  # not a comment inside a continuation? pip joins first\n"
        "six==1.16.0 # trailing comment\n"
        "-e git+https://github.com/example/orders.git@0123456789abcdef0123456789abcdef01234567#egg=orders\n",
    )
    assert result.errors == ()
    deps = by_name(result.sets[0])
    assert list(deps) == ["flask", "six", "orders"]
    assert deps["flask"].hashes == ("sha256:aa",)
    assert deps["flask"].line == 4
    assert deps["orders"].pinned  # a full commit hash


def test_markers_follow_the_target_runtime_not_this_machine() -> None:
    old = Dependency("PyPI", "x", "1", markers='python_version < "3.8"')
    linux = Dependency("PyPI", "x", "1", markers='sys_platform == "win32"')
    arm = Dependency("PyPI", "x", "1", markers='platform_machine == "aarch64"')
    assert not applies(old, "3.12")
    assert applies(old, "3.7")
    assert applies(old, None)  # not linked to a runtime yet: it counts
    assert not applies(linux, "3.12")
    assert applies(arm, "3.12")


def test_pyproject_pep621_and_groups() -> None:
    found = only(load("pyproject.toml"))
    deps = {(d.name, d.pointer): d for d in found.dependencies}
    assert list(deps) == [
        ("requests", "/project/dependencies/0"),
        ("pydantic", "/project/dependencies/1"),
        ("tomli", "/project/dependencies/2"),
        ("boto3", "/project/optional-dependencies/aws/0"),
        ("pytest", "/dependency-groups/test/0"),
    ]
    assert not found.application  # a library: its ranges are for its users
    assert deps[("pydantic", "/project/dependencies/1")].version == "2.5.3"
    assert deps[("pytest", "/dependency-groups/test/0")].dev
    assert found.origin.lines("/project/dependencies/1") == (10, 10)


def test_poetry_project_and_its_lockfile() -> None:
    found = only(load("poetry-app/pyproject.toml"))
    assert found.application
    assert found.lockfile == PurePosixPath("poetry-app/poetry.lock")
    deps = by_name(found)
    assert deps["requests"].specifier == ">=2.19.0,<3"
    assert deps["aws-lambda-powertools"].version == "2.30.2"
    assert deps["orders-common"].reference == (
        "git+https://github.com/example/orders-common.git@main"
    )
    assert deps["pytest"].dev and deps["pytest"].specifier == ">=8.0,<8.1"
    assert found.origin.lines("/tool/poetry/dependencies/requests") == (8, 8)

    lock = only(load("poetry-app/poetry.lock"))
    locked = by_name(lock)
    assert (lock.kind, lock.locked) == ("poetry.lock", True)
    assert locked["requests"].version == "2.19.0" and locked["requests"].hashes
    assert locked["pytest"].dev and not locked["pytest"].hashes
    assert locked["orders-common"].reference == (
        "git+https://github.com/example/orders-common.git@0123456789abcdef0123456789abcdef01234567"
    )
    assert lock.origin.lines("/package/2") == (22, 22)


@pytest.mark.parametrize(
    ("constraint", "pep440"),
    [
        ("^1.2.3", ">=1.2.3,<2"),
        ("^0.2.3", ">=0.2.3,<0.3"),
        ("^0.0.3", ">=0.0.3,<0.0.4"),
        ("^0", ">=0,<1"),
        ("~1.2.3", ">=1.2.3,<1.3"),
        ("~1.2", ">=1.2,<1.3"),
        ("~1", ">=1,<2"),
        ("1.2.3", "==1.2.3"),
        ("==1.2.3", "==1.2.3"),
        (">=1.2,<2.0", ">=1.2,<2.0"),
        ("1.2.*", "==1.2.*"),
        ("*", ""),
        ("^1.0 || ^2.0", None),
    ],
)
def test_poetry_constraints(constraint: str, pep440: str | None) -> None:
    assert poetry_to_pep440(constraint) == pep440


def test_pipfile_and_its_lock() -> None:
    manifest = only(load("Pipfile"))
    assert manifest.lockfile == PurePosixPath("Pipfile.lock")
    deps = by_name(manifest)
    assert deps["requests"].pinned and not deps["flask"].pinned
    assert deps["pytest"].dev
    assert deps["orders-common"].reference == "https://github.com/example/orders-common.git@v1.2"
    lock = only(load("Pipfile.lock"))
    locked = {d.pointer: d for d in lock.dependencies}
    assert locked["/default/requests"].version == "2.19.0"
    assert locked["/develop/pytest"].dev
    assert locked["/default/orders-common"].reference is not None
    assert lock.origin.lines("/default/requests")[0] == 9


def test_uv_pdm_and_pylock() -> None:
    uv = by_name(only(load("uv.lock")))
    assert list(uv) == ["requests", "orders-common"]  # the project itself is skipped
    assert len(uv["requests"].hashes) == 2
    assert uv["orders-common"].reference is not None
    assert uv["orders-common"].reference.startswith("git+https://")
    pdm = by_name(only(load("pdm.lock")))
    assert pdm["pytest"].dev and not pdm["requests"].dev
    pylock = by_name(only(load("pylock.toml")))
    assert pylock["requests"].hashes == (
        "sha256:421cfc8b9ff6bcf1f2d4e4a4c0a4d8f4e6b0a3c2e2b3a1f1d2c3b4a5e6f7a8b9",
    )
    assert pylock["orders-common"].version is None
    assert pylock["orders-common"].markers == "sys_platform == 'linux'"


def test_installed_tree_reads_metadata_and_imports_nothing(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    (site / "requests-2.19.0.dist-info").mkdir(parents=True)
    (site / "requests-2.19.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: requests\nVersion: 2.19.0\n\nName: not-this\n"
    )
    (site / "legacy_pkg-0.9.egg-info").mkdir()
    (site / "legacy_pkg-0.9.egg-info" / "PKG-INFO").write_text("Name: legacy-pkg\nVersion: 0.9\n")
    (site / "six-1.16.0.egg-info").write_text("Name: six\nVersion: 1.16.0\n")
    (site / "broken-1.0.dist-info").mkdir()
    (site / "requests").mkdir()
    (site / "requests" / "__init__.py").write_text("raise SystemExit('imported!')\n")
    result = load_site_packages(site, PurePosixPath("build/site-packages"))
    (found,) = result.sets
    assert [(d.name, d.version, d.pointer) for d in found.dependencies] == [
        ("legacy-pkg", "0.9", "/legacy_pkg-0.9.egg-info"),
        ("requests", "2.19.0", "/requests-2.19.0.dist-info"),
        ("six", "1.16.0", "/six-1.16.0.egg-info"),
    ]
    assert (found.kind, found.locked) == ("site-packages", True)
    assert [e.path.as_posix() for e in result.errors] == [
        "build/site-packages/broken-1.0.dist-info"
    ]


# Broken files: (name, content, line, message).
BROKEN = [
    ("poetry.lock", "[[package]]\nname = 'x'\nversion = \n", 3, "invalid TOML"),
    ("poetry.lock", "[[package]]\nname = 'requests'\n", 1, "has no version"),
    ("poetry.lock", "package = 'oops'\n", None, "must be an array of tables"),
    ("uv.lock", "version = 1\n[[package]]\nversion = '1.0'\n", 2, "without a name"),
    ("pylock.toml", "[[packages]]\nname = 'x'\n", 1, "`lock-version` is missing"),
    ("Pipfile.lock", '{"default": {}}', 1, "`_meta` is missing"),
    ("Pipfile.lock", '{"_meta": {}, "default": []}', 1, "`default` must be an object"),
    ("Pipfile.lock", '{"_meta": {},\n "default": {', 2, "invalid JSON"),
]


@pytest.mark.parametrize(("name", "content", "line", "message"), BROKEN)
def test_malformed_files_are_located_errors(
    tmp_path: Path, name: str, content: str, line: int | None, message: str
) -> None:
    with pytest.raises(LoaderError, match=message) as caught:
        load_text(tmp_path, content, name)
    assert caught.value.path == PurePosixPath(name)
    assert caught.value.line == line


def test_invalid_pyproject_entry_is_an_error_and_the_rest_is_read(tmp_path: Path) -> None:
    result = load_text(
        tmp_path,
        '[project]\ndependencies = [\n  "boto3==1.34.0",\n  "requests=2",\n]\n',
        "pyproject.toml",
    )
    (error,) = result.errors
    assert (error.path, error.line) == (PurePosixPath("pyproject.toml"), 4)
    assert error.message.startswith("/project/dependencies/1: not a valid requirement (")
    assert [d.name for d in result.sets[0].dependencies] == ["boto3"]


def test_file_names() -> None:
    names = ["requirements.txt", "requirements-dev.txt", "pyproject.toml", "Pipfile"]
    names += ["Pipfile.lock", "poetry.lock", "uv.lock", "pylock.toml", "pylock.lambda.toml"]
    assert all(PYTHON_FILE.fullmatch(n) for n in [*names, "pdm.lock"])
    assert not any(PYTHON_FILE.fullmatch(n) for n in ["setup.py", "requirements.in"])
