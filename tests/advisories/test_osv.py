"""OSV reading and matching: the schema's evaluation rules, alias groups, what cannot be decided."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from lambdashield.advisories import osv

from .conftest import OSV_FIXTURES


def load(name: str) -> osv.Advisory:
    return osv.parse_advisory(json.loads((OSV_FIXTURES / name).read_text(encoding="utf-8")))


def fixtures() -> list[osv.Advisory]:
    return [load(p.name) for p in sorted(OSV_FIXTURES.glob("*.json"))]


def verdict(ecosystem: str, name: str, version: str | None, spec: str = "") -> osv.Verdict:
    return osv.evaluate(ecosystem, name, version, spec, fixtures())


def ids(result: osv.Verdict) -> list[tuple[str, ...]]:
    return [v.ids for v in result.vulnerabilities]


def test_fixtures_follow_the_osv_schema(shared_dir: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((shared_dir / "data" / "osv-schema" / "schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    for path in sorted(OSV_FIXTURES.glob("*.json")):
        errors = [e.message for e in validator.iter_errors(json.loads(path.read_text()))]
        assert errors == [], path.name


def test_names_are_normalised_per_ecosystem() -> None:
    assert osv.normalize_name("PyPI", "LSDemo_HTTP") == "lsdemo-http"
    assert osv.normalize_name("PyPI", "zope.interface") == "zope-interface"
    assert osv.normalize_name("npm", "@LSDemo/Router") == "@LSDemo/Router"
    assert load("pypi-basic.json").affected[0].name == "lsdemo-http"


def test_fixed_range_and_versions_list() -> None:
    assert ids(verdict("PyPI", "lsdemo-http", "1.0.0")) == [
        ("x_LSTEST-GH-1", "x_LSTEST-OTHER-9", "x_LSTEST-PY-1")
    ]
    assert ids(verdict("PyPI", "LSDemo.Http", "1.9.9")) != []
    assert ids(verdict("PyPI", "lsdemo-http", "2.2.0")) == []


def test_pep440_equality_not_string_equality() -> None:
    # `1.0` and `1.0.0` are one version; the versions list says `1.0.0`.
    result = osv.evaluate("PyPI", "lsdemo-http", "1.0", "", [load("pypi-basic.json")])
    assert ids(result) == [("x_LSTEST-PY-1",)]


def test_aliases_are_grouped_transitively() -> None:
    (group,) = verdict("PyPI", "lsdemo-http", "1.0.0").vulnerabilities
    assert group.ids == ("x_LSTEST-GH-1", "x_LSTEST-OTHER-9", "x_LSTEST-PY-1")
    assert group.aliases == ("CVE-0000-0001",)
    assert group.key == "CVE-0000-0001"
    assert group.score == 9.8
    assert group.rating == "critical"


def test_last_affected_is_inclusive() -> None:
    last = [load("pypi-last-affected.json")]
    assert ids(osv.evaluate("PyPI", "lsdemo-http", "2.1.0", "", last)) == [("x_LSTEST-PY-2",)]
    assert ids(osv.evaluate("PyPI", "lsdemo-http", "2.1.1", "", last)) == []
    assert ids(osv.evaluate("PyPI", "lsdemo-http", "1.4.9", "", last)) == []


def test_limit_caps_the_range() -> None:
    limit = [load("pypi-limit.json")]
    assert ids(osv.evaluate("PyPI", "lsdemo-cache", "2.9.9", "", limit)) == [("x_LSTEST-PY-4",)]
    assert ids(osv.evaluate("PyPI", "lsdemo-cache", "3.0.0", "", limit)) == []
    assert ids(osv.evaluate("PyPI", "lsdemo-cache", "4.0", "", limit)) == []


def test_withdrawn_advisories_never_match() -> None:
    withdrawn = load("pypi-withdrawn.json")
    assert withdrawn.withdrawn
    assert osv.evaluate("PyPI", "lsdemo-http", "9.9.9", "", [withdrawn]) == osv.Verdict()


def test_unorderable_version_listed_is_affected_otherwise_unchecked() -> None:
    legacy = [load("pypi-invalid-versions.json")]
    listed = osv.evaluate("PyPI", "lsdemo-legacy", "0.3m1", "", legacy)
    assert ids(listed) == [("x_LSTEST-PY-6",)]
    unknown = osv.evaluate("PyPI", "lsdemo-legacy", "0.4m1", "", legacy)
    assert unknown.vulnerabilities == ()
    assert [v.ids for v in unknown.unchecked] == [("x_LSTEST-PY-6",)]
    assert unknown.reason == "'0.4m1' is not a version PyPI can order"


def test_unreadable_range_bound_is_unchecked_not_safe() -> None:
    data: dict[str, Any] = json.loads((OSV_FIXTURES / "pypi-basic.json").read_text())
    data["affected"][0]["ranges"][0]["events"][1] = {"fixed": "2.0-final!!"}
    data["affected"][0]["versions"] = []
    result = osv.evaluate("PyPI", "lsdemo-http", "3.0.0", "", [osv.parse_advisory(data)])
    assert result.vulnerabilities == ()
    assert [v.ids for v in result.unchecked] == [("x_LSTEST-PY-1",)]


def test_semver_ranges_and_prereleases() -> None:
    assert ids(verdict("npm", "lsdemo-parser", "1.4.1")) == [("x_LSTEST-NPM-1",)]
    assert ids(verdict("npm", "lsdemo-parser", "1.4.2")) == []
    assert ids(verdict("npm", "lsdemo-parser", "2.0.0-beta.1")) == [("x_LSTEST-NPM-2",)]
    assert ids(verdict("npm", "lsdemo-parser", "2.0.0-rc.1")) == [("x_LSTEST-NPM-2",)]
    assert ids(verdict("npm", "lsdemo-parser", "2.0.0-rc.2")) == []
    assert ids(verdict("npm", "lsdemo-parser", "2.0.0-alpha")) == []
    assert ids(verdict("npm", "lsdemo-parser", "2.0.0")) == []


def test_npm_ecosystem_ranges_use_semver_and_scoped_names() -> None:
    assert ids(verdict("npm", "@lsdemo/router", "3.3.9")) == [("x_LSTEST-NPM-3",)]
    assert ids(verdict("npm", "@lsdemo/router", "3.10.0")) == []  # not string order
    result = verdict("npm", "@lsdemo/router", "3.2.0")
    assert result.vulnerabilities[0].score == 6.1
    assert result.vulnerabilities[0].rating == "medium"


def test_database_severity_when_no_cvss() -> None:
    (vulnerability,) = verdict("npm", "lsdemo-parser", "1.0.0").vulnerabilities
    assert vulnerability.score is None
    assert vulnerability.rating == "high"


def test_malicious_entries() -> None:
    (vulnerability,) = verdict("npm", "lsdemo-typo", "0.0.1").vulnerabilities
    assert vulnerability.malicious
    assert verdict("PyPI", "lsdemo-reqeusts", "1.0.0").vulnerabilities[0].malicious
    assert verdict("PyPI", "lsdemo-reqeusts", "1.0.1").vulnerabilities == ()


def test_other_ecosystems_are_dropped() -> None:
    assert load("go-other-ecosystem.json").affected == ()


def test_fix_that_clears_every_advisory() -> None:
    # 2.0.0 fixes PY-1 but 1.5.0..2.1.0 is PY-2: the first version clearing both is none
    # of the fixed events above 2.1.0, since PY-2 has no fix.
    assert verdict("PyPI", "lsdemo-http", "1.0.0").fix is None
    only_fixed = [load("pypi-basic.json")]
    assert osv.evaluate("PyPI", "lsdemo-http", "1.0.0", "", only_fixed).fix == "2.0.0"
    assert verdict("npm", "lsdemo-parser", "1.0.0").fix == "1.4.2"


def test_specifiers_are_checked_against_the_range_they_admit() -> None:
    admits = verdict("PyPI", "lsdemo-http", None, ">=1.0")
    assert admits.ranged
    assert {v.ids[0] for v in admits.vulnerabilities} == {"x_LSTEST-GH-1", "x_LSTEST-PY-2"}
    assert not any(v.certain for v in admits.vulnerabilities)
    below = verdict("PyPI", "lsdemo-http", None, "<1.4")
    assert [v.certain for v in below.vulnerabilities] == [True]
    assert verdict("PyPI", "lsdemo-http", None, ">=2.2").vulnerabilities == ()
    assert verdict("PyPI", "lsdemo-http", None, "~=2.1.1").vulnerabilities == ()
    assert verdict("PyPI", "lsdemo-http", None, "==2.1.*").vulnerabilities != ()
    assert verdict("npm", "lsdemo-parser", None, "^1.4.2").vulnerabilities == ()
    assert ids(verdict("npm", "lsdemo-parser", None, "^1.3.0")) == [("x_LSTEST-NPM-1",)]
    assert ids(verdict("npm", "lsdemo-parser", None, "*")) != []


def test_unreadable_specifier_is_unchecked() -> None:
    result = verdict("npm", "lsdemo-parser", None, "latest")
    assert result.vulnerabilities == ()
    assert result.unchecked != ()
    assert result.reason == "`latest` is not a version range lambdashield can read"


@pytest.mark.parametrize(
    ("vector", "kind", "score"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSS_V3", 9.8),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", "CVSS_V3", 6.1),
        ("CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N", "CVSS_V3", 5.5),
        ("CVSS:3.1/AV:N/AC:L/PR:H/UI:N/S:C/C:H/I:H/A:H", "CVSS_V3", 9.1),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", "CVSS_V3", 0.0),
        ("AV:N/AC:L/Au:N/C:P/I:P/A:P", "CVSS_V2", 7.5),
        ("AV:N/AC:M/Au:N/C:N/I:P/A:N", "CVSS_V2", 4.3),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "CVSS_V4", None),
        ("CVSS:3.1/AV:X", "CVSS_V3", None),
    ],
)
def test_cvss_base_scores(vector: str, kind: str, score: float | None) -> None:
    assert osv.cvss_score(kind, vector) == score


BASE = json.loads((OSV_FIXTURES / "pypi-basic.json").read_text(encoding="utf-8"))


def broken(path: str, value: Any) -> dict[str, Any]:
    """BASE with the value at a `/`-separated path replaced (or deleted when `...`)."""
    data = copy.deepcopy(BASE)
    *parents, last = path.split("/")
    target: Any = data
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    if value is ...:
        del target[last]
    elif isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return data


SCHEMA_BREAKS: list[tuple[dict[str, Any], str]] = [
    (broken("id", ...), "`id` is required"),
    (broken("id", "has space"), "id: 'has space' is not an advisory ID"),
    (broken("modified", ...), "`modified` is required"),
    (broken("modified", "yesterday"), "modified: 'yesterday' is not an RFC 3339 timestamp"),
    (broken("aliases", "CVE-0000-0001"), "aliases: must be a list of strings"),
    (broken("affected", {}), "affected: must be a list"),
    (broken("affected/0/package", ...), "affected/0/package: must be an object"),
    (broken("affected/0/package/name", ...), "affected/0/package: `name` is required"),
    (broken("affected/0/ranges/0/type", "RANGE"), "affected/0/ranges/0/type: must be one of"),
    (broken("affected/0/ranges/0/events", []), "affected/0/ranges/0/events: must be a non-empty"),
    (
        broken("affected/0/ranges/0/events/0", {"introduced": "0", "fixed": "1"}),
        "affected/0/ranges/0/events/0: each event must have exactly one key",
    ),
    (
        broken("affected/0/ranges/0/events/0", {"fixed": "1.0"}),
        "affected/0/ranges/0/events: must contain an `introduced` event",
    ),
    (broken("affected/0/versions", [1, 2]), "affected/0/versions: must be a list of strings"),
    (broken("severity/0/type", "CVSS_V9"), "severity/0/type: unknown severity type"),
    (broken("references/0/type", "BLOG"), "references/0/type: unknown reference type"),
]


@pytest.mark.parametrize(("document", "message"), SCHEMA_BREAKS)
def test_schema_breaks_are_named(document: dict[str, Any], message: str) -> None:
    with pytest.raises(osv.OsvError, match=re.escape(message)):
        osv.parse_advisory(document)


def test_fixed_and_last_affected_together_break_the_schema() -> None:
    data = broken("affected/0/ranges/0/events", [{"introduced": "0"}, {"fixed": "1"}])
    data["affected"][0]["ranges"][0]["events"].append({"last_affected": "2"})
    with pytest.raises(osv.OsvError, match="mutually exclusive"):
        osv.parse_advisory(data)


def test_git_ranges_need_a_repo_and_are_not_evaluated() -> None:
    data = copy.deepcopy(BASE)
    data["affected"][0]["ranges"].append({"type": "GIT", "events": [{"introduced": "0"}]})
    with pytest.raises(osv.OsvError, match="GIT ranges require a repo"):
        osv.parse_advisory(data)
    data["affected"][0]["ranges"][-1]["repo"] = "https://example.com/repo.git"
    assert [r.type for r in osv.parse_advisory(data).affected[0].ranges] == ["ECOSYSTEM"]


def test_stored_records_give_the_same_answers() -> None:
    """The store keeps only the listed versions no range covers; nothing else changes."""
    for advisory in fixtures():
        if advisory.withdrawn:
            continue
        stored = osv.Advisory.from_record(advisory.to_record())
        assert stored.id == advisory.id and stored.aliases == advisory.aliases
        for before, after in zip(advisory.affected, stored.affected, strict=True):
            assert after.ranges == before.ranges and after.versions <= before.versions
            probes = set(before.versions) | {v for r in before.ranges for _, v in r.events}
            for version in sorted(probes - {"0"}):
                args = (before.ecosystem, before.name, version, "")
                assert osv.evaluate(*args, [advisory]) == osv.evaluate(*args, [stored])
    basic = load("pypi-basic.json").to_record()
    assert basic["affected"][0]["versions"] == []  # all inside the range


@pytest.mark.parametrize(("document", "message"), SCHEMA_BREAKS)
def test_the_osv_schema_rejects_them_too(
    shared_dir: Path, document: dict[str, Any], message: str
) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((shared_dir / "data" / "osv-schema" / "schema.json").read_text())
    if message == "affected/0/package: must be an object":
        pytest.skip("the schema leaves `package` optional; matching needs it")
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(document)), message
