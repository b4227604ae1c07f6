"""The scan pipeline: discover, load, check, then filter, fingerprint and sort.

`scan()` is deterministic: the same files give the same report, byte for byte, whatever
the order the file system lists them in.
"""

from __future__ import annotations

import fnmatch
import gc
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from lambdashield import __version__
from lambdashield.checks import ALL_RULES, Hit, Rule, Settings, subjects
from lambdashield.checks.dependencies import known_vulnerabilities
from lambdashield.checks.least_privilege import CodePermissions
from lambdashield.errors import AdvisoryError, ConfigError, LoaderError
from lambdashield.loaders._json import JsonLines, parse_json, read_text
from lambdashield.loaders.discover import Candidate, Kind, discover, display_path
from lambdashield.loaders.policies import is_policy, policy_from_json
from lambdashield.model import (
    Finding,
    Origin,
    RuleMeta,
    ScanError,
    ScanReport,
    SkippedInput,
)
from lambdashield.risk import source_lines, summarise

if TYPE_CHECKING:
    from lambdashield.advisories.store import AdvisoryStore
    from lambdashield.config import Config
    from lambdashield.loaders._deps import DependencyFile
    from lambdashield.loaders.handlers import ParsedSource
    from lambdashield.model import Application, DependencySet, PolicyDocument, Suppression

__all__ = ["apply_suppressions", "fingerprint", "scan", "selected_rules"]


def selected_rules(select: Sequence[str], ignore: Sequence[str]) -> tuple[Rule[Any], ...]:
    """Rules whose ID starts with a `select` entry (all when empty) and no `ignore` entry."""
    known = [r.meta.id for r in ALL_RULES]
    for code in (*select, *ignore):
        if not any(rule_id.startswith(code.upper()) for rule_id in known):
            raise ConfigError(f"unknown rule or prefix {code!r} (see `lambdashield rules`)")
    chosen = [
        r for r in ALL_RULES if not select or any(r.meta.id.startswith(s.upper()) for s in select)
    ]
    return tuple(r for r in chosen if not any(r.meta.id.startswith(i.upper()) for i in ignore))


def fingerprint(
    rule_id: str, path: PurePosixPath, pointer: str, evidence: str, resource: str = ""
) -> str:
    """Identity of a finding across runs: never the line, so moving code keeps it. The
    resource tells apart two functions that share one role's statement."""
    text = "\0".join((rule_id, path.as_posix(), pointer, evidence, resource))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Run the scan without the cyclic garbage collector, then restore the caller's setting.

    A scan allocates hundreds of thousands of small, long-lived, acyclic objects (parsed
    JSON, model values), and the collector would walk each of them for nothing: a policy
    scan leaves no cyclic garbage at all, a code scan a few thousand objects. Reference
    counting frees everything else as usual; what the scan leaves behind goes to the oldest
    generation on the way out, where the next full collection finds any cycle in it.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if gc.get_freeze_count() == 0:
            # Everything the scan allocated would otherwise be walked by the first young
            # collection after it (the allocation count grows while the collector is off):
            # freezing and thawing moves it all to the oldest generation without a walk,
            # where a full collection still finds any cycle. Skipped when the caller froze
            # objects of its own, which thawing would release.
            gc.freeze()
            gc.unfreeze()
        if was_enabled:
            gc.enable()


def scan(paths: Sequence[str | Path], config: Config) -> ScanReport:
    with _no_cycle_collection():
        return _scan(paths, config)


@dataclass
class _Loaded:
    """What the load stage produced, and what it could not use."""

    documents: list[PolicyDocument] = field(default_factory=list)
    applications: list[Application] = field(default_factory=list)
    dependency_sets: list[DependencySet] = field(default_factory=list)
    suppressions: list[Suppression] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)
    skipped: list[SkippedInput] = field(default_factory=list)
    files: int = 0
    roots: dict[PurePosixPath, Path] = field(default_factory=dict)
    """The scanned folder each application came from: handler code is read inside it only."""
    handlers: list[ParsedSource] = field(default_factory=list)
    """Handler source files, parsed, for the code rules."""


def _scan(paths: Sequence[str | Path], config: Config) -> ScanReport:
    rules = selected_rules(config.select, config.ignore)
    baseline = _read_baseline(config.baseline) if config.baseline else frozenset()
    loaded = _Loaded()
    for given in paths:
        first = len(loaded.applications)
        terraform: list[Candidate] = []
        sources: list[tuple[Path, PurePosixPath]] = []
        for found in discover(
            str(given),
            exclude=config.exclude,
            max_files=config.max_files,
            max_file_bytes=config.max_file_bytes,
            policies_only=config.policies_only,
        ):
            if isinstance(found, ScanError):
                loaded.errors.append(found)
            elif isinstance(found, SkippedInput):
                loaded.skipped.append(found)
            elif found.kind is Kind.HANDLER_SOURCE:
                sources.append((found.path, found.display))
            elif found.kind is Kind.TERRAFORM:
                loaded.files += 1
                terraform.append(found)
            else:
                loaded.files += 1
                _load(found, str(given), config, loaded)
        if terraform:
            _load_terraform(str(given), terraform, config, loaded)
        for application in loaded.applications[first:]:
            loaded.roots.setdefault(application.origin.path, _root(str(given)))
        if not config.policies_only:
            _load_handlers(str(given), loaded.applications[first:], sources, config, loaded)

    _included(loaded)
    if loaded.dependency_sets and loaded.applications:
        from lambdashield.loaders.handler_imports import trace_imports
        from lambdashield.loaders.link import link_dependencies

        loaded.dependency_sets = trace_imports(
            loaded.applications,
            link_dependencies(loaded.applications, loaded.dependency_sets),
            parsed={s.path: s for s in loaded.handlers if s.path is not None},
        )
        _copies(loaded)
    store = _advisories(loaded, config)
    try:
        findings = _check(loaded, rules, config, store)
        vulnerabilities = known_vulnerabilities(loaded.dependency_sets, store)
    finally:
        if store is not None:
            store.close()
    findings = [f for f in findings if f.severity.rank >= config.min_severity.rank]
    findings = [f for f in findings if not _ignored_for_file(f, config)]
    before = len(findings)
    findings = apply_suppressions(findings, loaded.suppressions)
    suppressed = before - len(findings)
    before = len(findings)
    baselined = [f for f in findings if f.fingerprint in baseline]
    findings = [f for f in findings if f.fingerprint not in baseline]
    errors = loaded.errors
    return ScanReport(
        findings=tuple(sorted(findings, key=_finding_order)),
        errors=tuple(sorted(set(errors), key=lambda e: (e.path, e.line or 0, e.message))),
        not_analysed=tuple(sorted(set(loaded.skipped), key=lambda s: (s.path, s.reason))),
        rules=tuple(r.meta for r in rules),
        files=loaded.files,
        functions=sum(len(a.functions) for a in loaded.applications),
        suppressed=suppressed,
        baselined=before - len(findings),
        version=__version__,
        function_risks=summarise(loaded.applications, findings),
        dependency_sets=tuple(loaded.dependency_sets),
        vulnerabilities=vulnerabilities,
        snippets=source_lines(findings, config.max_file_bytes) if config.snippets else (),
        baselined_findings=tuple(sorted(baselined, key=_finding_order)),
    )


def _root(given: str) -> Path:
    root = Path(given)
    return root if root.is_dir() else root.parent


# Loaders are imported where they are used: a scan of policy files should not pay for
# the YAML, HCL, SQLite and packaging machinery it never touches (`lambdashield policy
# check` has a 0.3 s start-up budget).


def _dependencies(found: Candidate, given: str, config: Config) -> DependencyFile:
    if found.kind is Kind.PYTHON_DEPENDENCIES:
        from lambdashield.loaders.python_deps import load_python_file

        return load_python_file(
            found.path, found.display, max_bytes=config.max_file_bytes, root=_root(given)
        )
    if found.kind is Kind.NPM_DEPENDENCIES:
        from lambdashield.loaders.npm_deps import load_npm_file

        return load_npm_file(
            found.path, found.display, max_bytes=config.max_file_bytes, root=_root(given)
        )
    if found.kind is Kind.DEPLOYMENT_ZIP:
        from lambdashield.loaders.deployment_zip import load_deployment_zip

        return load_deployment_zip(found.path, found.display)
    if found.kind is Kind.SITE_PACKAGES:
        from lambdashield.loaders.python_deps import load_site_packages

        return load_site_packages(found.path, found.display)
    from lambdashield.loaders.npm_deps import load_node_modules

    return load_node_modules(found.path, found.display)


_DEPENDENCY_KINDS = frozenset(
    {
        Kind.PYTHON_DEPENDENCIES,
        Kind.NPM_DEPENDENCIES,
        Kind.SITE_PACKAGES,
        Kind.NODE_MODULES,
        Kind.DEPLOYMENT_ZIP,
    }
)


def _advisories(loaded: _Loaded, config: Config) -> AdvisoryStore | None:
    """The advisory store, when dependencies need one, and a plain word when it cannot
    check them all: never a silent "no known vulnerabilities"."""
    used = {d.ecosystem for s in loaded.dependency_sets for d in s.dependencies}
    if not used:
        return None
    from datetime import timedelta

    from lambdashield.advisories.store import AdvisoryStore, default_store_path

    path = config.db or default_store_path()
    store: AdvisoryStore | None = None
    try:
        store = AdvisoryStore(path)
        status = store.status(max_age=timedelta(days=config.advisory_max_age_days))
        missing = sorted(e for e in used if not status.covers(e))
        stale = sorted(e.name for e in status.ecosystems if e.stale and e.name in used)
        problem = (
            f"the advisory store {path} has no {' or '.join(missing)} advisories; run "
            "`lambdashield db sync` or `lambdashield db import PATH`"
            if missing
            else f"the {' and '.join(stale)} advisories in {path} are older than "
            f"{config.advisory_max_age_days} days; run `lambdashield db sync`"
            if stale
            else None
        )
    except AdvisoryError as exc:
        problem = str(exc)
    if problem is not None:
        if config.fail_on_missing_db:
            loaded.errors.append(ScanError(PurePosixPath(path.as_posix()), problem))
        else:
            loaded.skipped.extend(
                SkippedInput(s.origin.path, f"not checked for known vulnerabilities: {problem}")
                for s in loaded.dependency_sets
            )
    return store


def _included(loaded: _Loaded) -> None:
    """A requirements file another one includes with `-r` is read there, not twice."""
    included = {path for s in loaded.dependency_sets for path in s.includes}
    loaded.dependency_sets = [s for s in loaded.dependency_sets if s.origin.path not in included]


def _copies(loaded: _Loaded) -> None:
    """A dependency file no function ships that is a copy of one a function does (the
    source folder beside its `cdk.out` asset) is reported once, on the function's."""
    shipped = {
        (s.kind, s.origin.path.name, s.dependencies): s.origin.path
        for s in loaded.dependency_sets
        if s.functions
    }
    kept = []
    for found in loaded.dependency_sets:
        same = (
            None
            if found.functions
            else shipped.get((found.kind, found.origin.path.name, found.dependencies))
        )
        if same is None:
            kept.append(found)
        else:
            loaded.skipped.append(
                SkippedInput(found.origin.path, f"the same dependencies as {same}; checked there")
            )
    loaded.dependency_sets = kept


def _load_handlers(
    given: str,
    applications: Sequence[Application],
    sources: Sequence[tuple[Path, PurePosixPath]],
    config: Config,
    loaded: _Loaded,
) -> None:
    """The handler code of the applications just loaded, and handler files that no
    template names; read inside the scanned root only, never run."""
    if not applications and not sources:
        return
    # Imported here: handler parsing (tree-sitter and its grammars) is not for scans of
    # policy files, which have neither.
    from lambdashield.loaders.handlers import MAX_SOURCE_BYTES, load_handlers

    result = load_handlers(
        applications,
        sources,
        root=_root(given),
        max_bytes=min(config.max_file_bytes, MAX_SOURCE_BYTES),
    )
    loaded.files += len(result.sources)
    loaded.handlers.extend(result.sources)
    loaded.errors.extend(result.errors)
    loaded.skipped.extend(result.skipped)
    loaded.suppressions.extend(result.suppressions)


def _load_serverless(found: Candidate, given: str, config: Config, loaded: _Loaded) -> None:
    from lambdashield.loaders.serverless import UnsupportedProvider, load_serverless

    try:
        application, problems = load_serverless(
            found.path,
            found.display,
            root=_root(given),
            max_bytes=config.max_file_bytes,
        )
    except UnsupportedProvider as exc:
        loaded.skipped.append(SkippedInput(exc.path, exc.detail))
        return
    _add(loaded, application, problems)


def _load(found: Candidate, given: str, config: Config, loaded: _Loaded) -> None:
    try:
        if found.kind is Kind.JSON:
            _load_json(found, given, config, loaded)
        elif found.kind in _DEPENDENCY_KINDS:
            result = _dependencies(found, given, config)
            loaded.dependency_sets.extend(result.sets)
            loaded.errors.extend(result.errors)
        elif found.kind is Kind.SERVERLESS:
            _load_serverless(found, given, config, loaded)
        elif found.kind is Kind.TEMPLATE:
            from lambdashield.loaders.cloudformation import load_template

            application, problems = load_template(
                found.path, found.display, max_bytes=config.max_file_bytes, root=_root(given)
            )
            _add(loaded, application, problems)
    except LoaderError as exc:
        loaded.errors.append(ScanError(exc.path, exc.detail, exc.line))


def _load_terraform(
    given: str, found: Sequence[Candidate], config: Config, loaded: _Loaded
) -> None:
    """Each Terraform root module folder, with its local modules, is one application."""
    from lambdashield.loaders.terraform import load_terraform, root_module_folders

    root = Path(given)
    if root.is_file():
        root = root.parent
        given = str(PurePosixPath(given).parent)
    for files in root_module_folders(root, [c.path for c in found]):
        relative = files[0].parent.relative_to(root) if files[0].parent != root else None
        display = display_path(given, PurePosixPath(relative.as_posix()) if relative else None)
        application, problems = load_terraform(
            root, display, files, max_bytes=config.max_file_bytes
        )
        _add(loaded, application, problems)


def _load_json(found: Candidate, given: str, config: Config, loaded: _Loaded) -> None:
    """A JSON file is a policy, a template (CDK output included), or not ours."""
    text = read_text(found.path, found.display, config.max_file_bytes)
    data = parse_json(text, found.display)
    if is_policy(data):
        origin = Origin(found.display, found.display.name, "policy", "", JsonLines(text))
        loaded.documents.append(policy_from_json(data, origin))
        return
    if config.policies_only:
        kind = "object without Statement" if isinstance(data, dict) else type(data).__name__
        raise LoaderError(found.display, f"not an IAM policy document (JSON {kind})", 1)
    from lambdashield.loaders.cloudformation import is_template, resources_to_model
    from lambdashield.loaders.terraform import is_terraform_plan, read_terraform_plan

    if is_terraform_plan(data):
        application, problems = read_terraform_plan(
            found.path, found.display, max_bytes=config.max_file_bytes, root=_root(given)
        )
        _add(loaded, application, problems)
    elif is_template(data):
        application, problems = resources_to_model(
            data, found.display, JsonLines(text), base_dir=found.path.parent, root=_root(given)
        )
        _add(loaded, application, problems)


def _add(loaded: _Loaded, application: Application, problems: Sequence[ScanError]) -> None:
    loaded.applications.append(application)
    loaded.suppressions.extend(application.suppressions)
    loaded.errors.extend(problems)


def _check(
    loaded: _Loaded, rules: Sequence[Rule[Any]], config: Config, store: AdvisoryStore | None
) -> list[Finding]:
    by_scope: dict[type[Any], list[Rule[Any]]] = defaultdict(list)
    for r in rules:
        by_scope[r.scope].append(r)
    findings: list[Finding] = []
    settings = Settings(
        public_routes=config.public_routes, runtime_warning_days=config.runtime_warning_days
    )
    for scope, subject, locate in subjects(
        loaded.documents,
        loaded.applications,
        settings=settings,
        dependency_sets=loaded.dependency_sets,
        store=store,
        code_roots=loaded.roots,
        handlers=loaded.handlers,
    ):
        if scope is CodePermissions:
            loaded.errors.extend(subject.extraction.errors)
        for r in by_scope.get(scope, ()):
            try:
                findings.extend(_finding(r.meta, locate(hit.pointer), hit) for hit in r(subject))
            except Exception as exc:  # noqa: PERF203 - zero-cost try since Python 3.11
                # One broken rule must not hide the others; the scan still fails closed.
                detail = f"internal error in {r.meta.id}: {exc!r}; please report"
                path = locate("").path
                loaded.errors.append(ScanError(path, detail))
    return findings


def _finding(meta: RuleMeta, origin: Origin, hit: Hit) -> Finding:
    severity, message = hit.severity or meta.severity, hit.message
    if hit.lowered_because:
        severity = severity.lowered()
        message = f"{message} (severity lowered: {hit.lowered_because})"
    return Finding(
        rule=meta,
        severity=severity,
        confidence=meta.confidence,
        location=origin.locate(hit.pointer),
        message=message,
        resource=origin.resource,
        resource_type=origin.resource_type,
        fingerprint=fingerprint(meta.id, origin.path, hit.pointer, hit.evidence, origin.resource),
        flow=hit.flow,
    )


def _finding_order(f: Finding) -> tuple[str, int, str, str, str]:
    loc = f.location
    return (loc.path.as_posix(), loc.start_line or 0, f.rule.id, loc.pointer, f.message)


def _ignored_for_file(finding: Finding, config: Config) -> bool:
    path = finding.location.path.as_posix()
    return any(
        fnmatch.fnmatchcase(path, pattern) and any(finding.rule.id.startswith(c) for c in codes)
        for pattern, codes in config.per_file_ignores.items()
    )


def apply_suppressions(
    findings: Iterable[Finding], suppressions: Iterable[Suppression]
) -> list[Finding]:
    """Drop findings an inline comment ignores on their first line or the line above."""
    index: dict[tuple[PurePosixPath, int], list[str]] = defaultdict(list)
    for s in suppressions:
        for line in range(s.line, (s.last_line or s.line + 1) + 1):
            index[(s.path, line)].extend(s.rule_ids)
    kept = []
    for f in findings:
        codes = index.get((f.location.path, f.location.start_line or 0), [])
        if not any(f.rule.id.startswith(code) for code in codes):
            kept.append(f)
    return kept


def _read_baseline(path: Path) -> frozenset[str]:
    """Fingerprints from a previous `--format json` report (or a bare list of them)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read baseline: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: baseline is not valid JSON: {exc}") from None
    if isinstance(data, dict) and isinstance(data.get("findings"), list):
        prints = [f.get("fingerprint") for f in data["findings"] if isinstance(f, dict)]
    elif isinstance(data, list):
        prints = data
    else:
        raise ConfigError(f"{path}: baseline must be a lambdashield JSON report")
    if not all(isinstance(p, str) for p in prints):
        raise ConfigError(f"{path}: baseline fingerprints must be strings")
    return frozenset(str(p) for p in prints)
