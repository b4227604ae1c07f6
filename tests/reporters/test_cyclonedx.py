"""`--format cyclonedx`: valid CycloneDX 1.6, byte-stable, packages with their vulnerabilities."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from checks.test_dependency_rules import FIXTURES, ROOT, sets_in
from lambdashield.advisories.store import AdvisoryStore, import_path
from lambdashield.checks._deps_view import known_vulnerabilities
from lambdashield.model import DependencySet, ScanReport
from lambdashield.reporters import reporter_for
from lambdashield.reporters.cyclonedx import CycloneDxReporter, package_url


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AdvisoryStore]:
    path = tmp_path_factory.mktemp("cyclonedx-store") / "advisories.sqlite3"
    assert import_path(ROOT / "osv", path).errors == []
    with AdvisoryStore(path) as opened:
        yield opened


def scanned() -> list[DependencySet]:
    return [
        *sets_in(FIXTURES / "LS-DEP-005" / "positive"),
        *sets_in(FIXTURES / "LS-DEP-001" / "positive"),
        *sets_in(FIXTURES / "LS-DEP-003" / "negative" / "locked"),
    ]


def sbom_report(sets: list[DependencySet], store: AdvisoryStore | None) -> ScanReport:
    return ScanReport(
        findings=(),
        errors=(),
        not_analysed=(),
        rules=(),
        files=len(sets),
        version="9.9.9",
        dependency_sets=tuple(sets),
        vulnerabilities=known_vulnerabilities(sets, store),
    )


@pytest.fixture(scope="module")
def document(store: AdvisoryStore) -> dict[str, Any]:
    rendered = CycloneDxReporter().render(sbom_report(scanned(), store))
    loaded: dict[str, Any] = json.loads(rendered)
    return loaded


def test_valid_against_the_bundled_schema(store: AdvisoryStore) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    rendered = CycloneDxReporter().render(sbom_report(scanned(), store))
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(rendered) is None
    empty = CycloneDxReporter().render(sbom_report([], None))
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(empty) is None


def test_byte_stable_whatever_the_order(store: AdvisoryStore) -> None:
    sets = scanned()
    first = CycloneDxReporter().render(sbom_report(sets, store))
    again = CycloneDxReporter().render(sbom_report(list(reversed(sets)), store))
    assert first == again
    assert first.endswith("}\n")
    assert "timestamp" not in first
    document = json.loads(first)
    assert document["serialNumber"].startswith("urn:uuid:")
    assert document["serialNumber"] != "urn:uuid:00000000-0000-0000-0000-000000000000"
    other = CycloneDxReporter().render(sbom_report(sets[:1], store))
    assert json.loads(other)["serialNumber"] != document["serialNumber"]


def test_header_and_tool(document: dict[str, Any]) -> None:
    assert document["bomFormat"] == "CycloneDX"
    assert document["specVersion"] == "1.6"
    (tool,) = document["metadata"]["tools"]["components"]
    assert (tool["name"], tool["version"]) == ("lambdashield", "9.9.9")
    assert "dependencies" not in document


def component(document: dict[str, Any], ref: str) -> dict[str, Any]:
    (found,) = [c for c in document["components"] if c["bom-ref"] == ref]
    return found


def properties(item: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted((p["name"], p["value"]) for p in item.get("properties", []))


def test_components(document: dict[str, Any]) -> None:
    refs = sorted(c["bom-ref"] for c in document["components"])
    assert "pkg:pypi/lsdemo-http@1.0.0" in refs
    assert "pkg:npm/%40lsdemo/router@3.2.0" in refs
    cache = component(document, "pkg:pypi/lsdemo-cache@2.5")
    assert cache["purl"] == "pkg:pypi/lsdemo-cache@2.5"
    assert cache["scope"] == "required"
    assert properties(cache) == [
        ("lambdashield:function", "ApiFunction"),
        ("lambdashield:function", "VendoredFunction"),
        ("lambdashield:function", "WorkerFunction"),
    ]
    assert sorted(o["location"] for o in cache["evidence"]["occurrences"]) == [
        "api/requirements.txt",
        "requirements.txt",
        "vendored",
        "worker/requirements.txt",
    ]
    ranged = component(document, "pkg:pypi/lsdemo-http#>=1.0")
    assert "version" not in ranged
    assert ("lambdashield:specifier", ">=1.0") in properties(ranged)


def test_dev_only_packages_are_excluded_scope(document: dict[str, Any]) -> None:
    dev = [c for c in document["components"] if c.get("scope") == "excluded"]
    assert [c["name"] for c in dev] == ["@lsdemo/router"]


def test_superseded_manifests_are_left_out(store: AdvisoryStore) -> None:
    locked = list(sets_in(FIXTURES / "LS-DEP-003" / "negative" / "locked"))
    kinds = sorted(s.kind for s in locked)
    assert kinds == ["package-lock.json", "package.json"]
    document = json.loads(CycloneDxReporter().render(sbom_report(locked, store)))
    manifest = next(s for s in locked if s.kind == "package.json")
    assert manifest.lockfile is not None
    for item in document["components"]:
        assert [o["location"] for o in item["evidence"]["occurrences"]] == ["package-lock.json"]


def test_vulnerabilities(document: dict[str, Any]) -> None:
    found = {(v["id"], v["affects"][0]["ref"]): v for v in document["vulnerabilities"]}
    http = found[("CVE-0000-0001", "pkg:pypi/lsdemo-http@1.0.0")]
    assert http["source"]["name"] == "NVD"
    assert sorted(r["id"] for r in http["references"]) == [
        "x_LSTEST-GH-1",
        "x_LSTEST-OTHER-9",
        "x_LSTEST-PY-1",
    ]
    assert http["ratings"] == [{"score": 9.8, "severity": "critical"}]
    assert http["recommendation"] == "Upgrade to 2.0.0."
    assert http["affects"][0]["versions"] == [{"status": "affected", "version": "1.0.0"}]
    assert properties(http) == [("lambdashield:reachable", "true")]
    cache = found[("x_LSTEST-PY-4", "pkg:pypi/lsdemo-cache@2.5")]
    assert cache["source"] == {"name": "OSV", "url": "https://osv.dev/vulnerability/x_LSTEST-PY-4"}
    # Imported by two functions' handlers, not by ApiFunction's: reachable somewhere.
    assert properties(cache) == [("lambdashield:reachable", "true")]
    ranged = found[("CVE-0000-0001", "pkg:pypi/lsdemo-http#>=1.0")]
    assert ranged["affects"][0].get("versions", []) == []
    assert all(
        v["affects"][0]["ref"] in {c["bom-ref"] for c in document["components"]}
        for v in document["vulnerabilities"]
    )


def test_malicious_packages_are_marked(store: AdvisoryStore) -> None:
    sets = list(sets_in(FIXTURES / "LS-DEP-002" / "positive"))
    document = json.loads(CycloneDxReporter().render(sbom_report(sets, store)))
    marked = [
        v
        for v in document["vulnerabilities"]
        if ("lambdashield:malicious", "true") in properties(v)
    ]
    assert marked


def test_package_urls() -> None:
    assert package_url("PyPI", "PyYAML", "5.3") == "pkg:pypi/pyyaml@5.3"
    assert package_url("PyPI", "zope.interface", None) == "pkg:pypi/zope-interface"
    assert package_url("npm", "@scope/lib", "1.0.0") == "pkg:npm/%40scope/lib@1.0.0"
    assert package_url("npm", "lodash", "4.17.21") == "pkg:npm/lodash@4.17.21"


def test_registered() -> None:
    assert isinstance(reporter_for("cyclonedx"), CycloneDxReporter)


def test_library_imported_only_when_rendering() -> None:
    import subprocess
    import sys

    code = (
        "import sys, lambdashield.reporters.cyclonedx\n"
        "print(sorted(m for m in sys.modules if m.startswith(('cyclonedx', 'packageurl'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
