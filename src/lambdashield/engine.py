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
from pathlib import Path, PurePosixPath
from typing import Any

from lambdashield import __version__
from lambdashield.checks import ALL_RULES, Hit, Rule, subjects
from lambdashield.config import Config
from lambdashield.errors import ConfigError, LoaderError
from lambdashield.loaders.discover import Candidate, discover
from lambdashield.loaders.policies import load_policy_file
from lambdashield.model import (
    Finding,
    Origin,
    PolicyDocument,
    RuleMeta,
    ScanError,
    ScanReport,
    SkippedInput,
    Suppression,
)

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


def fingerprint(rule_id: str, path: PurePosixPath, pointer: str, evidence: str) -> str:
    """Identity of a finding across runs: never the line, so moving code keeps it."""
    text = "\0".join((rule_id, path.as_posix(), pointer, evidence))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


@contextmanager
def _few_collections() -> Iterator[None]:
    """Run the scan with rare cyclic-GC passes, then restore the caller's settings.

    A scan allocates hundreds of thousands of small, acyclic objects (parsed JSON, model
    values); with the default thresholds the collector keeps re-walking all of them and
    takes a fifth of the run. Reference counting still frees them as usual.
    """
    old = gc.get_threshold()
    gc.set_threshold(max(old[0], 50_000), old[1], old[2])
    try:
        yield
    finally:
        gc.set_threshold(*old)


def scan(paths: Sequence[str | Path], config: Config) -> ScanReport:
    with _few_collections():
        return _scan(paths, config)


def _scan(paths: Sequence[str | Path], config: Config) -> ScanReport:
    rules = selected_rules(config.select, config.ignore)
    baseline = _read_baseline(config.baseline) if config.baseline else frozenset()
    errors: list[ScanError] = []
    skipped: list[SkippedInput] = []
    documents: list[PolicyDocument] = []
    # Inline `lambdashield: ignore[...]` comments; JSON policies cannot carry any, the
    # comment-bearing formats (YAML, HCL, Python, JS) hand theirs over as they load.
    suppressions: list[Suppression] = []
    files = 0
    for given in paths:
        for found in discover(
            str(given),
            exclude=config.exclude,
            max_files=config.max_files,
            max_file_bytes=config.max_file_bytes,
        ):
            if isinstance(found, ScanError):
                errors.append(found)
            elif isinstance(found, SkippedInput):
                skipped.append(found)
            else:
                files += 1
                document = _load(found, config, errors)
                if document is not None:
                    documents.append(document)

    findings = _check(documents, rules, errors)
    findings = [f for f in findings if f.severity.rank >= config.min_severity.rank]
    findings = [f for f in findings if not _ignored_for_file(f, config)]
    before = len(findings)
    findings = apply_suppressions(findings, suppressions)
    suppressed = before - len(findings)
    before = len(findings)
    findings = [f for f in findings if f.fingerprint not in baseline]
    return ScanReport(
        findings=tuple(sorted(findings, key=_finding_order)),
        errors=tuple(sorted(set(errors), key=lambda e: (e.path, e.line or 0, e.message))),
        not_analysed=tuple(sorted(set(skipped), key=lambda s: (s.path, s.reason))),
        rules=tuple(r.meta for r in rules),
        files=files,
        suppressed=suppressed,
        baselined=before - len(findings),
        version=__version__,
    )


def _load(found: Candidate, config: Config, errors: list[ScanError]) -> PolicyDocument | None:
    try:
        return load_policy_file(found.path, found.display, max_bytes=config.max_file_bytes)
    except LoaderError as exc:
        if config.policies_only or _meant_as_policy(exc):
            errors.append(ScanError(exc.path, exc.detail, exc.line))
        return None


def _meant_as_policy(exc: LoaderError) -> bool:
    # In a directory scan, JSON that parses but has no Statement is some other file;
    # JSON that cannot be read at all might have been a policy, so it fails the scan.
    return not exc.detail.startswith("not an IAM policy document")


def _check(
    documents: Sequence[PolicyDocument], rules: Sequence[Rule[Any]], errors: list[ScanError]
) -> list[Finding]:
    by_scope: dict[type[Any], list[Rule[Any]]] = defaultdict(list)
    for r in rules:
        by_scope[r.scope].append(r)
    findings: list[Finding] = []
    for origin, scope, subject in subjects(documents):
        for r in by_scope.get(scope, ()):
            try:
                findings.extend(_finding(r.meta, origin, hit) for hit in r(subject))
            except Exception as exc:  # noqa: PERF203 - zero-cost try since Python 3.11
                # One broken rule must not hide the others; the scan still fails closed.
                detail = f"internal error in {r.meta.id}: {exc!r}; please report"
                errors.append(ScanError(origin.path, detail))
    return findings


def _finding(meta: RuleMeta, origin: Origin, hit: Hit) -> Finding:
    severity, message = meta.severity, hit.message
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
        fingerprint=fingerprint(meta.id, origin.path, hit.pointer, hit.evidence),
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
        for line in (s.line, s.line + 1):
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
