"""`--format cyclonedx`: a CycloneDX 1.6 JSON bill of materials of the scanned dependencies,
with their known vulnerabilities. Written with `cyclonedx-python-lib`, imported on first use.

- One `library` component per package and version (or range, when only a range is known),
  with its package URL, `scope: excluded` when only development needs it, every file that
  declares it as an evidence occurrence, and `lambdashield:function` properties naming the
  functions that ship it.
- One vulnerability per vulnerability and package: its CVE (else its own ID) as `id`, the
  other IDs and aliases as references, the CVSS score and rating, the versions that fix it
  as the recommendation, and `lambdashield:reachable` when the handlers' imports tell.
- A manifest whose lockfile was scanned too is left out: the lockfile's exact versions are
  what gets installed. The project's own local packages are left out.

Byte-stable: sorted keys, a fixed indent, no timestamp, and a serial number derived from the
content itself, so the same scan gives the same file. No dependency graph is written: the
model knows which packages a set holds, not which package needs which, and CycloneDX reads
a component listed without dependencies as one that has none.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lambdashield.model import Dependency, DependencySet, KnownVulnerability, ScanReport

if TYPE_CHECKING:
    from cyclonedx.model.bom import Bom

__all__ = ["SPEC_VERSION", "CycloneDxReporter", "package_url"]

SPEC_VERSION = "1.6"
_PLACEHOLDER = uuid.UUID(int=0)
_PEP503 = re.compile(r"[-_.]+")
_LOCAL = re.compile(r"^(?:file:|link:|portal:|workspace:|\.{0,2}/)")
_PURL_TYPES = {"PyPI": "pypi", "npm": "npm"}
_SOURCES = (
    ("CVE-", "NVD", "https://nvd.nist.gov/vuln/detail/{}"),
    ("GHSA-", "GitHub Advisories", "https://github.com/advisories/{}"),
)


def _key_name(ecosystem: str, name: str) -> str:
    return _PEP503.sub("-", name).lower() if ecosystem == "PyPI" else name


def package_url(ecosystem: str, name: str, version: str | None) -> str:
    """`pkg:pypi/pyyaml@5.3`, `pkg:npm/%40scope/lib@1.0.0`; other ecosystems as `generic`."""
    from packageurl import PackageURL

    kind = _PURL_TYPES.get(ecosystem, "generic")
    namespace = None
    if kind == "npm" and name.startswith("@") and "/" in name:
        namespace, name = name.split("/", 1)
    return str(PackageURL(kind, namespace, _key_name(ecosystem, name), version))


@dataclass
class _Package:
    dependency: Dependency
    ref: str
    purl: str
    paths: set[str] = field(default_factory=set)
    functions: set[str] = field(default_factory=set)
    dev_only: bool = True


def _shipped(dependency_set: DependencySet) -> Iterator[Dependency]:
    if not dependency_set.locked and dependency_set.lockfile is not None:
        return
    for dependency in dependency_set.dependencies:
        if dependency.reference is not None and _LOCAL.match(dependency.reference):
            continue
        yield dependency


def _identity(dependency: Dependency) -> tuple[str, str, str]:
    wanted = dependency.version or f"range:{dependency.specifier or '*'}"
    return (dependency.ecosystem, _key_name(dependency.ecosystem, dependency.name), wanted)


def _packages(report: ScanReport) -> dict[tuple[str, str, str], _Package]:
    packages: dict[tuple[str, str, str], _Package] = {}
    ordered = sorted(report.dependency_sets, key=lambda s: (s.origin.path, s.kind))
    for dependency_set in ordered:
        for dependency in _shipped(dependency_set):
            key = _identity(dependency)
            package = packages.get(key)
            if package is None:
                purl = package_url(dependency.ecosystem, dependency.name, dependency.version)
                ref = purl if dependency.version else f"{purl}#{dependency.specifier or '*'}"
                package = packages[key] = _Package(dependency, ref, purl)
            package.paths.add(dependency_set.origin.path.as_posix())
            package.functions.update(dependency_set.functions)
            package.dev_only = package.dev_only and dependency.dev
    return packages


def _reference_source(ident: str) -> tuple[str, str]:
    for prefix, name, url in _SOURCES:
        if ident.startswith(prefix):
            return name, url.format(ident)
    return "OSV", f"https://osv.dev/vulnerability/{ident}"


class CycloneDxReporter:
    def render(self, report: ScanReport) -> str:
        from cyclonedx.output.json import JsonV1Dot6

        bom = _bom(report)
        draft = JsonV1Dot6(bom).output_as_string()
        document: dict[str, Any] = json.loads(draft)
        # Every component was added without dependencies; listing them would claim none.
        document.pop("dependencies", None)
        for item in document.get("components", []):
            # The library orders occurrences by their (absent) bom-ref first: not stable.
            item.get("evidence", {}).get("occurrences", []).sort(key=lambda o: o["location"])
        body = json.dumps(document, indent=2, sort_keys=True)
        digest = hashlib.sha256(body.encode("utf-8")).digest()
        serial = uuid.UUID(bytes=digest[:16], version=5)
        return body.replace(str(_PLACEHOLDER), str(serial)) + "\n"


def _bom(report: ScanReport) -> Bom:
    from cyclonedx.model import Property
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component, ComponentScope, ComponentType
    from cyclonedx.model.component_evidence import ComponentEvidence, Occurrence
    from packageurl import PackageURL

    bom = Bom(serial_number=_PLACEHOLDER)
    bom.metadata.timestamp = None  # type: ignore[assignment] # byte-stable: no timestamp
    bom.metadata.tools.components.add(
        Component(
            type=ComponentType.APPLICATION,
            name="lambdashield",
            version=report.version or None,
            bom_ref="lambdashield",
        )
    )
    packages = _packages(report)
    by_ref: dict[str, Component] = {}
    for package in packages.values():
        dependency = package.dependency
        properties = [
            Property(name="lambdashield:function", value=f) for f in sorted(package.functions)
        ]
        if dependency.version is None:
            properties.append(
                Property(name="lambdashield:specifier", value=dependency.specifier or "*")
            )
        if dependency.markers:
            properties.append(Property(name="lambdashield:markers", value=dependency.markers))
        component = Component(
            type=ComponentType.LIBRARY,
            name=dependency.name,
            version=dependency.version,
            purl=PackageURL.from_string(package.purl),
            bom_ref=package.ref,
            scope=ComponentScope.EXCLUDED if package.dev_only else ComponentScope.REQUIRED,
            properties=properties,
            evidence=ComponentEvidence(
                occurrences=[Occurrence(location=path) for path in sorted(package.paths)]
            ),
        )
        by_ref[package.ref] = component
        bom.components.add(component)
    for vulnerability in _vulnerabilities(report.vulnerabilities, packages):
        bom.vulnerabilities.add(vulnerability)
    return bom


def _vulnerabilities(
    known: tuple[KnownVulnerability, ...], packages: dict[tuple[str, str, str], _Package]
) -> Iterator[Any]:
    from decimal import Decimal

    from cyclonedx.model import Property
    from cyclonedx.model.impact_analysis import ImpactAnalysisAffectedStatus
    from cyclonedx.model.vulnerability import (
        BomTarget,
        BomTargetVersionRange,
        Vulnerability,
        VulnerabilityRating,
        VulnerabilityReference,
        VulnerabilitySeverity,
        VulnerabilitySource,
    )

    grouped: dict[tuple[str, tuple[str, ...]], list[KnownVulnerability]] = {}
    for item in known:
        key = _identity(Dependency(item.ecosystem, item.name, item.version, item.specifier))
        package = packages.get(key)
        if package is not None:
            grouped.setdefault((package.ref, item.ids), []).append(item)
    for (ref, _ids), items in sorted(grouped.items()):
        first = items[0]
        names = sorted({*first.ids, *first.aliases})
        cves = [n for n in names if n.startswith("CVE-")]
        ident = cves[0] if cves else first.ids[0]
        source_name, source_url = _reference_source(ident)
        reachable = {i.reachable for i in items} - {None}
        properties = []
        if reachable:
            properties.append(
                Property(name="lambdashield:reachable", value=str(True in reachable).lower())
            )
        if first.malicious:
            properties.append(Property(name="lambdashield:malicious", value="true"))
        ratings = []
        if first.rating is not None or first.score is not None:
            ratings.append(
                VulnerabilityRating(
                    score=Decimal(str(first.score)) if first.score is not None else None,
                    severity=VulnerabilitySeverity(first.rating) if first.rating else None,
                )
            )
        yield Vulnerability(
            bom_ref=f"{ref}|{ident}",
            id=ident,
            source=VulnerabilitySource(name=source_name, url=_url(source_url)),
            references=[
                VulnerabilityReference(
                    id=other,
                    source=VulnerabilitySource(
                        name=_reference_source(other)[0], url=_url(_reference_source(other)[1])
                    ),
                )
                for other in names
                if other != ident
            ],
            ratings=ratings,
            description=first.summary or None,
            recommendation=f"Upgrade to {', '.join(first.fixed)}." if first.fixed else None,
            affects=[
                BomTarget(
                    ref=ref,
                    versions=[
                        BomTargetVersionRange(
                            version=first.version, status=ImpactAnalysisAffectedStatus.AFFECTED
                        )
                    ]
                    if first.version is not None
                    else [],
                )
            ],
            properties=properties,
        )


def _url(text: str) -> Any:
    from cyclonedx.model import XsUri

    return XsUri(text)
