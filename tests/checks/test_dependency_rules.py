"""Every LS-DEP rule against its fixtures: exactly the expected hits, silence on near misses.

Like `test_rules.py`, but a rule's fixtures are folders of dependency files
(`positive/`, `negative/`), matched against a store built from `tests/fixtures/osv/`, and
`expected.json` lists `[file, pointer]` pairs relative to `positive/`. A folder with a
`template.yaml` has its sets linked to the template's functions and their handlers read, as
a scan does; a folder holding `*.dist-info` entries is an installed tree.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import pytest

from lambdashield.advisories.store import AdvisoryStore, import_path
from lambdashield.checks import dependencies
from lambdashield.checks._deps_view import DependencyView
from lambdashield.checks._rule import Hit, Rule
from lambdashield.loaders._deps import DependencyFile
from lambdashield.loaders.cloudformation import load_template
from lambdashield.loaders.handler_imports import trace_imports
from lambdashield.loaders.link import link_dependencies
from lambdashield.loaders.npm_deps import NPM_FILE, load_npm_file
from lambdashield.loaders.python_deps import PYTHON_FILE, load_python_file, load_site_packages
from lambdashield.model import DependencySet, Severity

ROOT = Path(__file__).resolve().parents[1] / "fixtures"
FIXTURES = ROOT / "rules"
RULES = {r.meta.id: r for r in dependencies.RULES}
MAX = 10 * 1024 * 1024


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AdvisoryStore]:
    path = tmp_path_factory.mktemp("rules-store") / "advisories.sqlite3"
    assert import_path(ROOT / "osv", path).errors == []
    with AdvisoryStore(path) as opened:
        yield opened


def load(path: Path, folder: Path) -> DependencyFile:
    display = PurePosixPath(path.relative_to(folder).as_posix())
    loader = load_python_file if PYTHON_FILE.fullmatch(path.name) else load_npm_file
    return loader(path, display, max_bytes=MAX, root=folder)


def sets_in(folder: Path) -> Iterator[DependencySet]:
    found: list[DependencySet] = []
    installed = {p.parent for p in folder.rglob("*.dist-info")}
    for path in sorted(folder.rglob("*")):
        if any(tree in path.parents for tree in installed):
            continue
        if path.is_file() and (PYTHON_FILE.fullmatch(path.name) or NPM_FILE.fullmatch(path.name)):
            result = load(path, folder)
            assert result.errors == (), path
            found.extend(result.sets)
    for tree in sorted(installed):
        result = load_site_packages(tree, PurePosixPath(tree.relative_to(folder).as_posix()))
        assert result.errors == (), tree
        found.extend(result.sets)
    template = folder / "template.yaml"
    if template.is_file():
        application, problems = load_template(
            template, PurePosixPath("template.yaml"), max_bytes=MAX
        )
        assert problems == []
        found = link_dependencies([application], found)
        found = trace_imports([application], found, base=folder)
    yield from found


def run(rule: Rule[DependencyView], folder: Path, store: AdvisoryStore | None) -> list[Hit]:
    return [hit for found in sets_in(folder) for hit in rule(DependencyView(found, store))]


def located(rule: Rule[DependencyView], folder: Path, store: AdvisoryStore) -> set[tuple[str, str]]:
    return {
        (found.origin.path.as_posix(), hit.pointer)
        for found in sets_in(folder)
        for hit in rule(DependencyView(found, store))
    }


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_rule_fixtures(rule_id: str, store: AdvisoryStore) -> None:
    folder = FIXTURES / rule_id
    assert sorted(p.name for p in folder.iterdir()) == ["expected.json", "negative", "positive"]
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    assert expected and len({tuple(e) for e in expected}) == len(expected)
    positive = folder / "positive"
    for file_name, _pointer in expected:
        assert (positive / file_name).exists(), file_name  # a typo fails here
    rule = RULES[rule_id]
    assert located(rule, positive, store) == {(f, p) for f, p in expected}
    fired = [(h.pointer, h.message) for h in run(rule, folder / "negative", store)]
    assert fired == [], f"{rule_id} fired on a near miss"


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_rule_docstring_has_summary_why_and_fix(rule_id: str) -> None:
    rule = RULES[rule_id]
    doc = inspect.getdoc(rule.check) or ""
    assert "\n## Why it matters\n" in doc and "\n## Fix\n" in doc
    assert rule.meta.summary and rule.meta.why and rule.meta.fix
    assert rule.scope is DependencyView


def hits_of(rule_id: str, store: AdvisoryStore | None) -> dict[tuple[str, str], list[Hit]]:
    found: dict[tuple[str, str], list[Hit]] = {}
    for dependency_set in sets_in(FIXTURES / rule_id / "positive"):
        for hit in RULES[rule_id](DependencyView(dependency_set, store)):
            key = (dependency_set.origin.path.as_posix(), hit.pointer)
            found.setdefault(key, []).append(hit)
    return found


def test_known_vulnerability_messages_and_severities(store: AdvisoryStore) -> None:
    found = hits_of("LS-DEP-001", store)
    assert set(found) == {
        tuple(e) for e in json.loads((FIXTURES / "LS-DEP-001" / "expected.json").read_text())
    }
    (grouped,) = found[("requirements.txt", "/lsdemo-http")]
    assert grouped.severity is not None
    assert grouped.message.startswith(
        "`lsdemo-http` 1.0.0 is affected by x_LSTEST-GH-1, x_LSTEST-OTHER-9, x_LSTEST-PY-1 "
        "(CVE-0000-0001), CVSS 9.8, fixed in 2.0.0: Fixture: "
    )
    # x_LSTEST-PY-2 (last_affected 2.1.0) has no fixed event to upgrade to.
    assert grouped.message.endswith(
        "no released fix is recorded for every known advisory of `lsdemo-http`; "
        "replace it or remove what uses it"
    )
    assert grouped.severity is Severity.CRITICAL
    assert grouped.evidence == "PyPI:lsdemo-http:CVE-0000-0001"
    (limit,) = found[("requirements.txt", "/lsdemo-cache")]
    assert "no released fix is recorded for every known advisory" in limit.message
    (unchecked,) = found[("requirements.txt", "/lsdemo-legacy")]
    assert "could not be checked against 1 known advisory (`x_LSTEST-PY-6`)" in unchecked.message
    assert "'0.4m1' is not a version PyPI can order" in unchecked.message
    assert unchecked.lowered_because == "it may not be affected"
    (ranged,) = found[("svc/requirements.txt", "/lsdemo-http")]
    assert ranged.message.startswith("`lsdemo-http` `>=1.0` admits versions affected by 2 known")
    assert ranged.lowered_because == "the range also admits unaffected versions"
    (dev,) = found[("package-lock.json", "/packages/node_modules~1@lsdemo~1router")]
    assert dev.lowered_because == "a development dependency, not deployed"
    assert dev.severity is Severity.MEDIUM
    (npm,) = found[("package-lock.json", "/packages/node_modules~1lsdemo-parser")]
    assert npm.severity is Severity.HIGH  # database severity
    assert "upgrade to 1.4.2" in npm.message


def test_malicious_message(store: AdvisoryStore) -> None:
    found = hits_of("LS-DEP-002", store)
    (hit,) = found[("requirements.txt", "/lsdemo-reqeusts")]
    assert hit.message.startswith("`lsdemo-reqeusts` 1.0.0 is malware (MAL-0000-2)")
    (ranged,) = found[("package.json", "/devDependencies/lsdemo-typo")]
    assert "admits versions published as malware" in ranged.message
    assert ranged.lowered_because is None  # a dev dependency's install script runs too


def test_without_a_store_vulnerability_rules_say_nothing() -> None:
    assert hits_of("LS-DEP-001", None) == {}
    assert hits_of("LS-DEP-002", None) == {}


def test_linked_functions_make_a_library_manifest_deployable(store: AdvisoryStore) -> None:
    (library,) = sets_in(FIXTURES / "LS-DEP-003" / "negative" / "lib")
    assert list(RULES["LS-DEP-003"](DependencyView(library, store))) == []
    linked = DependencySet(
        library.origin, library.kind, library.dependencies, library.locked, functions=("Api",)
    )
    assert [h.pointer for h in RULES["LS-DEP-003"](DependencyView(linked, store))] == [
        "/dependencies/express"
    ]


def test_markers_follow_the_linked_runtime(store: AdvisoryStore) -> None:
    (found,) = sets_in(FIXTURES / "LS-DEP-001" / "positive" / "svc")
    old = found.dependencies[0]
    from dataclasses import replace

    gated = replace(found, dependencies=(replace(old, markers='python_version < "3.8"'),))
    assert list(RULES["LS-DEP-001"](DependencyView(gated, store)))
    for_312 = replace(gated, python_version="3.12")
    assert list(RULES["LS-DEP-001"](DependencyView(for_312, store))) == []


def test_reachable_messages_and_raised_severity(store: AdvisoryStore) -> None:
    found = hits_of("LS-DEP-005", store)
    (api,) = found[("api/requirements.txt", "/lsdemo-http")]
    assert api.message.startswith(
        "`lsdemo-http` 1.0.0 has 1 known vulnerability (`CVE-0000-0001`) and the handler of "
        "`ApiFunction` imports it (`lsdemo_http` at api/app.py:5); "
    )
    assert api.severity is Severity.CRITICAL  # critical already: cannot go higher
    assert api.evidence == "PyPI:lsdemo-http:reachable"
    (worker,) = found[("worker/requirements.txt", "/lsdemo-cache")]
    assert "(`lsdemo_cache` at worker/jobs/helpers.py:5)" in worker.message
    assert worker.severity is Severity.CRITICAL  # unrated advisory: HIGH raised one step
    (vendored,) = found[("vendored", "/lsdemo_cache-2.5.dist-info")]
    assert "(`lscache` at vendored/handler.py:3)" in vendored.message


def test_known_vulnerability_says_whether_handlers_import_it(store: AdvisoryStore) -> None:
    found: dict[tuple[str, str], list[Hit]] = {}
    for dependency_set in sets_in(FIXTURES / "LS-DEP-005" / "positive"):
        for hit in RULES["LS-DEP-001"](DependencyView(dependency_set, store)):
            found.setdefault((dependency_set.origin.path.as_posix(), hit.pointer), []).append(hit)
    (imported,) = found[("api/requirements.txt", "/lsdemo-http")]
    assert imported.message.endswith(
        "; reachable: the handler of `ApiFunction` imports it (LS-DEP-005)"
    )
    (unused,) = found[("api/requirements.txt", "/lsdemo-cache")]
    assert unused.message.endswith(
        "; not imported by the handler of `ApiFunction`, though another package may use it"
    )
    assert unused.lowered_because is None  # another package may still load it
    # Not linked, so nothing is known and nothing is said.
    for dependency_set in sets_in(FIXTURES / "LS-DEP-005" / "negative" / "lib"):
        for hit in RULES["LS-DEP-001"](DependencyView(dependency_set, store)):
            assert "imported" not in hit.message and "reachable" not in hit.message


NODE_TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  NodeFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: node/
      Handler: app.handler
      Runtime: nodejs20.x
"""

# The project's own copy of lsdemo-parser is fixed (1.4.2); lsdemo-fmt carries an affected
# one (1.4.0) in its own node_modules, which only lsdemo-fmt can load.
NESTED_LOCKS = {
    "v3": {
        "lockfileVersion": 3,
        "packages": {
            "": {"dependencies": {"lsdemo-fmt": "1.0.0", "lsdemo-parser": "1.4.2"}},
            "node_modules/lsdemo-fmt": {"version": "1.0.0"},
            "node_modules/lsdemo-fmt/node_modules/lsdemo-parser": {"version": "1.4.0"},
            "node_modules/lsdemo-parser": {"version": "1.4.2"},
        },
    },
    "v1": {
        "lockfileVersion": 1,
        "dependencies": {
            "lsdemo-fmt": {
                "version": "1.0.0",
                "dependencies": {"lsdemo-parser": {"version": "1.4.0"}},
            },
            "lsdemo-parser": {"version": "1.4.2"},
        },
    },
}
NESTED_POINTERS = {
    "v3": "/packages/node_modules~1lsdemo-fmt~1node_modules~1lsdemo-parser",
    "v1": "/dependencies/lsdemo-fmt/dependencies/lsdemo-parser",
}


@pytest.mark.parametrize("version", sorted(NESTED_LOCKS))
def test_a_nested_npm_copy_is_not_what_the_handler_imports(
    tmp_path: Path, store: AdvisoryStore, version: str
) -> None:
    (tmp_path / "template.yaml").write_text(NODE_TEMPLATE, encoding="utf-8")
    code = tmp_path / "node"
    code.mkdir()
    (code / "app.js").write_text(
        'const parser = require("lsdemo-parser");\nexports.handler = async (e) => parser(e);\n',
        encoding="utf-8",
    )
    (code / "package-lock.json").write_text(json.dumps(NESTED_LOCKS[version]), encoding="utf-8")
    (found,) = sets_in(tmp_path)
    view = DependencyView(found, store)
    assert list(RULES["LS-DEP-005"](view)) == []
    (hit,) = RULES["LS-DEP-001"](view)
    assert hit.pointer == NESTED_POINTERS[version]
    assert hit.message.endswith(
        "; not imported by the handler of `NodeFunction`, though another package may use it"
    )
