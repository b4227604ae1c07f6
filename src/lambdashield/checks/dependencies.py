"""Dependencies: known vulnerabilities, malicious packages, and builds that cannot be
reproduced or verified."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from lambdashield.checks._deps_view import DependencyView, anchor, known_vulnerabilities
from lambdashield.checks._rule import Hit, rule
from lambdashield.model import Confidence, Dependency, Severity

if TYPE_CHECKING:
    # Matching and its version libraries load with the first dependency set, not with
    # every scan: a scan of policies or templates never needs them.
    from lambdashield.advisories.osv import Verdict, Vulnerability

__all__ = ["RULES", "known_vulnerabilities"]

_SEVERITIES = {
    "critical": Severity.CRITICAL,
    "high": Severity.HIGH,
    "medium": Severity.MEDIUM,
    "low": Severity.LOW,
}
_SUMMARY_CHARS = 120


def _listed(names: Iterable[str], limit: int = 6) -> str:
    shown = list(dict.fromkeys(names))
    text = ", ".join(f"`{n}`" for n in shown[:limit])
    more = len(shown) - limit
    return f"{text} and {more} more" if more > 0 else text


def _named(vulnerability: Vulnerability) -> str:
    """`PYSEC-2018-28 (CVE-2018-18074, GHSA-x84v-xcm2-53pg)`."""
    own = ", ".join(vulnerability.ids)
    return f"{own} ({', '.join(vulnerability.aliases)})" if vulnerability.aliases else own


def _what(dependency: Dependency) -> str:
    if dependency.version is not None:
        return f"`{dependency.name}` {dependency.version}"
    if dependency.specifier:
        return f"`{dependency.name}` `{dependency.specifier}`"
    return f"`{dependency.name}` (any version)"


def _severity(vulnerabilities: Iterable[Vulnerability]) -> Severity | None:
    found = [_SEVERITIES[v.rating] for v in vulnerabilities if v.rating in _SEVERITIES]
    return max(found, key=lambda s: s.rank) if found else None


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _SUMMARY_CHARS else text[: _SUMMARY_CHARS - 3].rstrip() + "..."


def _upgrade(dependency: Dependency, verdict: Verdict) -> str:
    if verdict.fix is not None:
        return (
            f"upgrade to {verdict.fix}, the lowest version no known advisory of "
            f"`{dependency.name}` affects"
        )
    return (
        f"no released fix is recorded for every known advisory of `{dependency.name}`; "
        "replace it or remove what uses it"
    )


def _dev_reason(dependency: Dependency) -> str | None:
    return "a development dependency, not deployed" if dependency.dev else None


def _functions(names: Iterable[str], verb: str = "") -> str:
    """`the handler of `Api` imports it`, `the handlers of `Api`, `Worker` import it`."""
    shown = list(dict.fromkeys(names))
    text = _listed(shown, limit=3)
    if len(shown) == 1:
        return f"the handler of {text}{f' {verb}s it' if verb else ''}"
    return f"the handlers of {text}{f' {verb} it' if verb else ''}"


def _reach(view: DependencyView, dependency: Dependency) -> str:
    """What is known of whether the linked handlers import the package, as a suffix."""
    reachable = view.reachable(dependency)
    if reachable:
        found = view.importers(dependency)
        return f"; reachable: {_functions((i.function for i in found), 'import')} (LS-DEP-005)"
    if reachable is False:
        return (
            f"; not imported by {_functions(view.dependency_set.functions)}, though another "
            "package may use it"
        )
    return ""


_RAISED = {
    Severity.LOW: Severity.MEDIUM,
    Severity.MEDIUM: Severity.HIGH,
    Severity.HIGH: Severity.CRITICAL,
    Severity.CRITICAL: Severity.CRITICAL,
}


@rule(
    id="LS-DEP-001",
    title="Dependency has a known vulnerability",
    severity=Severity.HIGH,
    confidence=Confidence.HIGH,
    cwe=1395,
    since="0.2.0",
    tags=("vulnerability", "supply-chain"),
)
def known_vulnerability(view: DependencyView) -> Iterator[Hit]:
    """Flags packages whose version (or whose range of allowed versions) is affected by a
    published advisory in the offline OSV store.

    ## Why it matters
    A Lambda function ships its dependencies inside its deployment package or its layers,
    where no host scanner looks at them again. A known vulnerability in one of them is the
    easiest way in: the exploit is public, and the event reaching the handler is often
    attacker-controlled. A range such as `requests>=2.0` is reported too, because it lets a
    build install an affected version.

    ## Fix
    Upgrade to the version the message names, the lowest one that no known advisory of the
    package affects, e.g. `requests==2.31.0` instead of `requests==2.19.0`, then rebuild
    and redeploy. When no fixed version exists, replace the package or remove the code
    path that uses it. Keep the store current with `lambdashield db sync`.
    """
    for dependency, verdict in view.verdicts():
        plain = [v for v in verdict.vulnerabilities if not v.malicious]
        where = anchor(dependency)
        key = f"{dependency.ecosystem}:{dependency.name.lower()}"
        if plain and not verdict.ranged:
            for vulnerability in plain:
                fixed = f", fixed in {vulnerability.fixed[0]}" if vulnerability.fixed else ""
                score = f", CVSS {vulnerability.score}" if vulnerability.score is not None else ""
                summary = f": {_short(vulnerability.summary)}" if vulnerability.summary else ""
                yield Hit(
                    where,
                    f"{_what(dependency)} is affected by {_named(vulnerability)}{score}{fixed}"
                    f"{summary}; {_upgrade(dependency, verdict)}{_reach(view, dependency)}",
                    f"{key}:{vulnerability.key}",
                    lowered_because=_dev_reason(dependency),
                    severity=_severity([vulnerability]),
                )
        elif plain:
            certain = all(v.certain for v in plain)
            reasons = [r for r in (_dev_reason(dependency),) if r]
            if not certain:
                reasons.insert(0, "the range also admits unaffected versions")
            advice = (
                f"pin {verdict.fix}, the lowest version no known advisory affects"
                if verdict.fix
                else f"no released fix is recorded for every advisory of `{dependency.name}`"
            )
            yield Hit(
                where,
                f"{_what(dependency)} admits versions affected by {len(plain)} known "
                f"vulnerabilit{'y' if len(plain) == 1 else 'ies'}: "
                f"{'; '.join(_named(v) for v in plain[:6])}"
                f"{f' and {len(plain) - 6} more' if len(plain) > 6 else ''}; {advice}"
                f"{_reach(view, dependency)}",
                f"{key}:range:{dependency.specifier}",
                lowered_because="; ".join(reasons) or None,
                severity=_severity(plain),
            )
        unchecked = [v for v in verdict.unchecked if not v.malicious]
        if unchecked and verdict.reason:
            yield Hit(
                where,
                f"{_what(dependency)} could not be checked against "
                f"{len(unchecked)} known advisor{'y' if len(unchecked) == 1 else 'ies'} "
                f"({_listed(v.ids[0] for v in unchecked)}): {verdict.reason}; "
                "pin a released version so it can be checked",
                f"{key}:unchecked",
                lowered_because="it may not be affected",
                severity=_severity(unchecked),
            )


@rule(
    id="LS-DEP-002",
    title="Dependency is a known malicious package",
    severity=Severity.CRITICAL,
    confidence=Confidence.HIGH,
    cwe=506,
    since="0.2.0",
    tags=("malware", "supply-chain"),
)
def malicious_package(view: DependencyView) -> Iterator[Hit]:
    """Flags packages that OSV lists as malicious (`MAL-` advisories): typosquats,
    hijacked releases, dependency-confusion uploads.

    ## Why it matters
    Malicious packages run their payload when they are installed or imported: on the
    developer's laptop, on the build machine and in the function, with its role's
    credentials in the environment. They steal cloud keys and tokens within seconds, so
    even a development dependency is an incident.

    ## Fix
    Remove the package and correct the name you meant (`requests`, not `request`), then
    rebuild the deployment package from a clean environment. Rotate every credential the
    machines that installed it and the function's role could reach, and review the account's
    CloudTrail for use of them.
    """
    for dependency, verdict in view.verdicts():
        for vulnerability in verdict.vulnerabilities + verdict.unchecked:
            if not vulnerability.malicious:
                continue
            admits = "admits versions published as malware" if verdict.ranged else "is malware"
            yield Hit(
                anchor(dependency),
                f"{_what(dependency)} {admits} ({_named(vulnerability)}): remove it, rebuild "
                "from a clean environment and rotate every credential it could reach",
                f"{dependency.ecosystem}:{dependency.name.lower()}:{vulnerability.key}",
            )


@rule(
    id="LS-DEP-003",
    title="Deployed dependency is not pinned",
    severity=Severity.MEDIUM,
    confidence=Confidence.HIGH,
    cwe=1357,
    since="0.2.0",
    tags=("pinning", "supply-chain"),
)
def unpinned_dependency(view: DependencyView) -> Iterator[Hit]:
    """Flags dependencies of a deployable manifest without a lockfile that name a range
    (`boto3>=1.20`, `^4.17.1`), no version at all, or a branch of a repository.

    ## Why it matters
    Each build then installs whatever is newest that day. Two deployments of the same
    commit can ship different code, a compromised release is picked up by the next build
    without anyone changing a line, and a vulnerability scan of the manifest cannot say
    what actually runs.

    ## Fix
    Pin exact versions (`boto3==1.34.0`, `"lodash": "4.17.21"`) or commit the lockfile
    your tool writes (`poetry.lock`, `uv.lock`, `package-lock.json`) next to the manifest.
    For a repository, pin a full commit hash instead of a branch or tag.
    """
    dependency_set = view.dependency_set
    if not view.deployable or dependency_set.locked or dependency_set.lockfile is not None:
        return
    for dependency in view.dependencies():
        if dependency.pinned or dependency.dev:
            continue
        if dependency.reference is not None:
            message = (
                f"`{dependency.name}` is installed from `{dependency.reference}`, which can "
                "change under the same name; pin a full commit hash or a released version"
            )
        else:
            wanted = dependency.specifier or "any version"
            message = (
                f"`{dependency.name}` is not pinned (`{wanted}`): each build may install a "
                f"different version; pin an exact version or commit a lockfile for "
                f"{dependency_set.origin.path.name}"
            )
        yield Hit(
            anchor(dependency),
            message,
            f"{dependency.ecosystem}:{dependency.name.lower()}:{dependency.specifier}",
        )


_HASH_ADVICE = {
    "PyPI": "generate them with `pip-compile --generate-hashes` or `uv pip compile "
    "--generate-hashes`, and install with `--require-hashes`",
    "npm": "regenerate the lockfile with a current npm, yarn or pnpm so every entry "
    "carries its integrity hash",
}


@rule(
    id="LS-DEP-004",
    title="Dependencies are not locked with hashes",
    severity=Severity.LOW,
    confidence=Confidence.HIGH,
    cwe=494,
    since="0.2.0",
    tags=("integrity", "supply-chain"),
)
def unverified_dependencies(view: DependencyView) -> Iterator[Hit]:
    """Flags a deployable dependency set that has no lockfile, or whose packages carry no
    hashes for the installer to verify.

    ## Why it matters
    Without a lockfile the transitive dependencies are resolved anew by every build. Without
    hashes the installer accepts whatever the index or a mirror serves under a name and
    version, so a tampered upload or a compromised mirror goes straight into the deployment
    package.

    ## Fix
    Commit a lockfile with hashes: `uv pip compile --generate-hashes requirements.in -o
    requirements.txt` (installed with `pip install --require-hashes`), `poetry lock`,
    `uv lock`, or `npm install` for `package-lock.json` with `integrity` fields.
    """
    dependency_set = view.dependency_set
    if not view.deployable or view.installed:
        return
    shipped = [d for d in view.dependencies() if not d.dev]
    if not shipped:
        return
    name = dependency_set.origin.path.name
    if not dependency_set.locked and dependency_set.kind != "requirements":
        if dependency_set.lockfile is None:
            yield Hit(
                "",
                f"{name} has no lockfile: every build resolves its {len(shipped)} "
                "dependencies and their dependencies again; commit the lockfile your tool "
                "writes",
                f"{dependency_set.kind}:no-lockfile",
            )
        return
    missing = [d for d in shipped if not d.hashes and d.reference is None]
    if missing:
        ecosystem = missing[0].ecosystem
        yield Hit(
            "",
            f"{len(missing)} of the {len(shipped)} packages in {name} have no hashes "
            f"({_listed(d.name for d in missing)}): the installer cannot check that what it "
            f"downloads is what was locked; {_HASH_ADVICE.get(ecosystem, '')}".rstrip("; "),
            f"{dependency_set.kind}:no-hashes",
        )


@rule(
    id="LS-DEP-005",
    title="Handler imports a package with a known vulnerability",
    severity=Severity.HIGH,
    confidence=Confidence.MEDIUM,
    cwe=1395,
    since="0.2.0",
    tags=("vulnerability", "reachability", "supply-chain"),
)
def reachable_vulnerability(view: DependencyView) -> Iterator[Hit]:
    """Flags a vulnerable package that a function's handler code imports, directly or
    through the function's own modules, once per package. Its severity is one step above
    the package's most severe advisory. Imports are read from the handler file onwards,
    within the function's code folder: Python's with `ast`, JavaScript's and TypeScript's
    (`require`, `import`, `export ... from`) with tree-sitter; nothing is run. An npm copy
    installed inside another package's own `node_modules` is not what a handler's
    `require` loads, so it is not reported here; `LS-DEP-001` still reports it.

    ## Why it matters
    A vulnerable package the handler imports is loaded on every invocation, and the event
    that reaches the handler is often attacker-controlled: of all the known vulnerabilities
    in a deployment package, these are the likeliest to be exploitable and the first to fix.
    `LS-DEP-001` reports each advisory and says whether the package is imported; this rule
    picks out the imported ones.

    ## Fix
    Upgrade the package to the version the message names (e.g. `PyYAML==6.0.1` instead of
    `PyYAML==5.3.1`, `"lodash": "4.17.21"` instead of `4.17.15`), rebuild and redeploy. If
    no fixed version exists, replace the package or remove the import, and check that the
    handler never passes event data to the vulnerable call.
    """
    for dependency, verdict in view.verdicts():
        plain = [v for v in verdict.vulnerabilities if not v.malicious]
        importers = view.importers(dependency) if plain else ()
        if not importers:
            continue
        first = importers[0]
        where = f"`{first.module}` at {first.path.as_posix()}:{first.line}"
        count = f"{len(plain)} known vulnerabilit{'y' if len(plain) == 1 else 'ies'}"
        reasons = [r for r in (_dev_reason(dependency),) if r]
        if verdict.ranged and not all(v.certain for v in plain):
            reasons.insert(0, "the range also admits unaffected versions")
        admits = "admits versions with" if verdict.ranged else "has"
        yield Hit(
            anchor(dependency),
            f"{_what(dependency)} {admits} {count} ({_listed((v.key for v in plain), 4)}) "
            f"and {_functions((i.function for i in importers), 'import')} ({where}); "
            f"{_upgrade(dependency, verdict)}",
            f"{dependency.ecosystem}:{dependency.name.lower()}:reachable",
            severity=_RAISED[_severity(plain) or Severity.HIGH],
            lowered_because="; ".join(reasons) or None,
        )


RULES = (
    known_vulnerability,
    malicious_package,
    unpinned_dependency,
    unverified_dependencies,
    reachable_vulnerability,
)
