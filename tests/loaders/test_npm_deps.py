"""npm dependency files: manifests, every lockfile format, installed trees, bad input."""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath

import pytest

from lambdashield.errors import LoaderError
from lambdashield.loaders._deps import DependencyFile
from lambdashield.loaders.npm_deps import NPM_FILE, load_node_modules, load_npm_file
from lambdashield.model import DependencySet

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "deps" / "npm"
MAX = 10 * 1024 * 1024


def load(relative: str, root: Path | None = None) -> DependencySet:
    result = load_npm_file(FIXTURES / relative, PurePosixPath(relative), max_bytes=MAX, root=root)
    assert result.errors == ()
    (found,) = result.sets
    return found


def rows(found: DependencySet) -> list[tuple[str, str | None, bool, bool]]:
    return [(d.name, d.version, d.direct, d.dev) for d in found.dependencies]


def test_package_json_specifiers() -> None:
    found = load("app/package.json")
    assert (found.kind, found.locked, found.application, found.lockfile) == (
        "package.json",
        False,
        True,
        None,
    )
    deps = {d.pointer: d for d in found.dependencies}
    parser = deps["/dependencies/lsdemo-parser"]
    assert (parser.version, parser.specifier, parser.pinned) == (None, "^1.3.0", False)
    assert deps["/dependencies/express"].version == "4.17.1"
    alias = deps["/dependencies/lodash"]
    assert (alias.name, alias.version, alias.pinned) == ("lsdemo-lodash", "4.17.20", True)
    local = deps["/dependencies/orders-model"]
    assert (local.reference, local.pinned) == ("file:../orders-model", True)
    branch = deps["/dependencies/orders-sdk"]
    assert (branch.reference, branch.pinned) == ("github:example/orders-sdk#main", False)
    assert deps["/dependencies/pinned-fork"].pinned
    tag = deps["/dependencies/next-thing"]
    assert (tag.version, tag.pinned, tag.reference) == (None, False, None)
    assert deps["/devDependencies/jest"].dev
    assert found.origin.lines("/dependencies/express") == (7, 7)


def test_lockfile_beside_or_above_the_manifest(tmp_path: Path) -> None:
    assert load("lock-v1/package.json").lockfile == PurePosixPath("lock-v1/package-lock.json")
    workspace = tmp_path / "packages" / "api"
    workspace.mkdir(parents=True)
    (tmp_path / "pnpm-lock.yaml").write_text("lockfileVersion: '9.0'\n", encoding="utf-8")
    (workspace / "package.json").write_text('{"private": true}', encoding="utf-8")
    shown = PurePosixPath("repo/packages/api/package.json")
    inside = load_npm_file(workspace / "package.json", shown, max_bytes=MAX, root=tmp_path)
    assert inside.sets[0].lockfile == PurePosixPath("repo/pnpm-lock.yaml")
    alone = load_npm_file(workspace / "package.json", shown, max_bytes=MAX)
    assert alone.sets[0].lockfile is None


def test_package_lock_v1() -> None:
    found = load("lock-v1/package-lock.json")
    assert rows(found) == [
        ("lsdemo-parser", "1.4.1", True, False),
        ("lsdemo-util", "2.0.1", False, False),
        ("jest", "29.7.0", False, True),
        ("orders-sdk", None, False, False),
    ]
    assert found.dependencies[1].pointer == "/dependencies/lsdemo-parser/dependencies/lsdemo-util"
    assert found.dependencies[0].hashes == ("sha512-AAAA",)
    assert found.dependencies[3].reference == (
        "github:example/orders-sdk#0123456789abcdef0123456789abcdef01234567"
    )


def test_package_lock_v3_with_aliases_links_and_workspaces() -> None:
    found = load("lock-v3/package-lock.json")
    assert rows(found) == [
        ("lsdemo-parser", "1.4.1", True, False),
        ("@lsdemo/router", "3.2.0", False, False),
        ("lsdemo-lodash", "4.17.20", False, False),
        ("jest", "29.7.0", True, True),
    ]
    pointer = "/packages/node_modules~1lsdemo-parser~1node_modules~1@lsdemo~1router"
    assert found.dependencies[1].pointer == pointer
    assert found.origin.lines(pointer) == (18, 22)


def test_yarn_classic() -> None:
    found = load("yarn-classic/yarn.lock")
    assert [(d.name, d.version, d.pointer) for d in found.dependencies] == [
        ("@lsdemo/router", "3.2.0", "/@lsdemo~1router@^3.1.0"),
        ("lsdemo-parser", "1.4.1", "/lsdemo-parser@^1.3.0"),
        ("lsdemo-lodash", "4.17.20", "/lodash@npm:lsdemo-lodash@4.17.20"),
    ]
    assert found.origin.lines("/lsdemo-parser@^1.3.0") == (12, 12)
    assert found.dependencies[0].hashes == ("sha512-DDDD",)
    assert found.dependencies[2].hashes == ()


def test_yarn_berry() -> None:
    found = load("yarn-berry/yarn.lock")
    assert [(d.name, d.version, d.reference is not None) for d in found.dependencies] == [
        ("@lsdemo/router", "3.2.0", False),
        ("lsdemo-parser", "1.4.1", False),
        ("orders-sdk", None, True),
    ]
    # YAML block mappings start on the line after their key.
    assert found.origin.lines("/lsdemo-parser@npm:^1.3.0, lsdemo-parser@npm:^1.4.0")[0] == 16


@pytest.mark.parametrize("folder", ["pnpm-v5", "pnpm-v6", "pnpm-v9"])
def test_pnpm_lockfiles(folder: str) -> None:
    found = load(f"{folder}/pnpm-lock.yaml")
    named = {d.name: d for d in found.dependencies}
    assert named["lsdemo-parser"].version == "1.4.1"
    assert named["lsdemo-parser"].direct
    assert named["lsdemo-parser"].hashes == ("sha512-AAAA",)
    assert named["@lsdemo/router"].version == "3.2.0"
    assert not named["@lsdemo/router"].direct
    if "jest" in named:
        assert named["jest"].dev
    if folder == "pnpm-v9":
        assert named["orders-sdk"].version == "0.3.0"
        assert named["orders-sdk"].reference is not None


def test_node_modules_tree(tmp_path: Path) -> None:
    root = tmp_path / "node_modules"

    def install(relative: str, name: str, version: str) -> None:
        folder = root / relative
        folder.mkdir(parents=True)
        (folder / "package.json").write_text(json.dumps({"name": name, "version": version}))

    install("lsdemo-parser", "lsdemo-parser", "1.4.1")
    install("lsdemo-parser/node_modules/lsdemo-util", "lsdemo-util", "1.0.0")
    install("@lsdemo/router", "@lsdemo/router", "3.2.0")
    install(".pnpm/lsdemo-util@2.0.1/node_modules/lsdemo-util", "lsdemo-util", "2.0.1")
    install("dup", "lsdemo-util", "2.0.1")
    (root / ".bin").mkdir()
    (root / "broken").mkdir()
    (root / "broken" / "package.json").write_text("{", encoding="utf-8")
    (root / "linked").symlink_to(root / "lsdemo-parser")
    result = load_node_modules(root, PurePosixPath("app/node_modules"))
    (found,) = result.sets
    assert sorted((d.name, d.version, d.direct) for d in found.dependencies) == [
        ("@lsdemo/router", "3.2.0", True),
        ("lsdemo-parser", "1.4.1", True),
        ("lsdemo-util", "1.0.0", False),
        ("lsdemo-util", "2.0.1", False),
    ]
    assert [e.path.as_posix() for e in result.errors] == ["app/node_modules/broken/package.json"]


BROKEN = [
    ("package.json", "[1, 2]", 1, "must be a JSON object"),
    ("package.json", '{"dependencies": ["lodash"]}', 1, "`dependencies` must be an object"),
    ("package.json", '{"dependencies": {"lodash": 4}}', 1, "/dependencies/lodash must be a string"),
    ("package-lock.json", '{"lockfileVersion": 7}', 1, "unsupported lockfileVersion 7"),
    (
        "package-lock.json",
        '{"lockfileVersion": 1,\n"dependencies": {"a": {}}}',
        1,
        "version must be",
    ),
    ("package-lock.json", '{"lockfileVersion": 2,\n "packages": {', 2, "invalid JSON"),
    ("yarn.lock", '# yarn lockfile v1\n\na@^1:\n  resolved "x"\n', 3, "has no version"),
    ("yarn.lock", '# yarn lockfile v1\n\n  version "1.0.0"\n', 3, "outside any entry"),
    ("yarn.lock", "# yarn lockfile v1\n\nnot a header\n", 3, "entry header"),
    ("yarn.lock", 'a@^1:\n  version "1"\n', 1, "no `# yarn lockfile v1` header"),
    ("yarn.lock", '__metadata:\n  version: 8\n"a@npm:1": [1\n', 4, "invalid YAML"),
    ("yarn.lock", '__metadata:\n  version: 8\n"a@npm:1":\n  version: 1.0.0\n', 4, "resolution"),
    ("pnpm-lock.yaml", "packages: {}\n", 1, "`lockfileVersion` is missing"),
    (
        "pnpm-lock.yaml",
        "lockfileVersion: '9.0'\npackages:\n  a@1.0.0: [x]\n",
        3,
        "must be a mapping",
    ),
    (
        "pnpm-lock.yaml",
        "lockfileVersion: '9.0'\na: &a [x, x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n"
            for i in range(6)
        ),
        None,
        "YAML nodes",
    ),
]


@pytest.mark.parametrize(("name", "content", "line", "message"), BROKEN)
def test_malformed_files_are_located_errors(
    tmp_path: Path, name: str, content: str, line: int | None, message: str
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(LoaderError, match=message) as caught:
        load_npm_file(path, PurePosixPath(name), max_bytes=MAX)
    assert caught.value.path == PurePosixPath(name)
    if line is not None:
        assert caught.value.line == line


def test_file_names() -> None:
    names = ["package.json", "package-lock.json", "npm-shrinkwrap.json", "yarn.lock"]
    assert all(NPM_FILE.fullmatch(n) for n in [*names, "pnpm-lock.yaml"])
    assert not NPM_FILE.fullmatch("tsconfig.json")


def test_result_type() -> None:
    assert DependencyFile(()).errors == ()


def test_node_modules_tree_marks_nested_copies_and_keeps_the_one_a_handler_loads(
    tmp_path: Path,
) -> None:
    root = tmp_path / "node_modules"
    for relative, version in [
        ("a/node_modules/shared", "1.0.0"),  # read first: `a` sorts before `shared`
        ("a", "1.0.0"),
        ("shared", "1.0.0"),
        ("b/node_modules/only-nested", "2.0.0"),
        ("b", "1.0.0"),
        (".pnpm/stored@3.0.0/node_modules/stored", "3.0.0"),
    ]:
        folder = root / relative
        folder.mkdir(parents=True, exist_ok=True)
        name = relative.rsplit("/", 1)[-1]
        (folder / "package.json").write_text(json.dumps({"name": name, "version": version}))
    (found,) = load_node_modules(root, PurePosixPath("node_modules")).sets
    assert sorted((d.name, d.pointer, d.nested) for d in found.dependencies) == [
        ("a", "/a", False),
        ("b", "/b", False),
        ("only-nested", "/b~1node_modules~1only-nested", True),
        ("shared", "/shared", False),
        ("stored", "/.pnpm~1stored@3.0.0~1node_modules~1stored", False),
    ]
