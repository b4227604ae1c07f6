"""A dependency set with what the advisory store says about it, worked out once per set
and shared by the `LS-DEP` rules.

The store is optional: without one the vulnerability rules have nothing to say, and saying
so is the engine's job (a scan must never read as "no known vulnerabilities" when nothing
was checked). A manifest with a lockfile beside it is checked through the lockfile, which
is loaded as a set of its own, so the same package is not reported twice.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from lambdashield.model import (
    Dependency,
    DependencySet,
    HandlerImport,
    KnownVulnerability,
    Location,
)

if TYPE_CHECKING:
    # Matching and its version libraries load with the first dependency set, not with
    # every scan: a scan of policies or templates never needs them.
    from lambdashield.advisories.osv import Verdict
    from lambdashield.advisories.store import AdvisoryStore

    _Matched = tuple[tuple[Dependency, Verdict], ...]

__all__ = ["DependencyView", "anchor", "known_vulnerabilities"]

# The dependency loaders' helpers (and the TOML parser they bring) are imported where they
# are used: the rules over a `DependencyView` are registered by every scan, but only a
# scan that loaded dependency sets runs them, and by then the loaders are imported.

INSTALLED_TREES = frozenset({"site-packages", "node_modules", "deployment-zip"})

_MATCHED: weakref.WeakKeyDictionary[AdvisoryStore, dict[int, tuple[DependencySet, _Matched]]] = (
    weakref.WeakKeyDictionary()
)
"""Verdicts per store and set (by identity; the set is kept so its id is not reused)."""


class DependencyView:
    __slots__ = ("_verdicts", "dependency_set", "store")

    def __init__(self, dependency_set: DependencySet, store: AdvisoryStore | None = None) -> None:
        self.dependency_set = dependency_set
        self.store = store
        self._verdicts: tuple[tuple[Dependency, Verdict], ...] | None = None

    @property
    def deployable(self) -> bool:
        """What it declares ends up in a deployment package (an application's manifest, a
        lockfile, a set linked to a function), not a library's ranges for its users."""
        return self.dependency_set.application or bool(self.dependency_set.functions)

    @property
    def superseded(self) -> bool:
        """A manifest whose lockfile fixes the versions: the lockfile is what gets checked."""
        return not self.dependency_set.locked and self.dependency_set.lockfile is not None

    @property
    def installed(self) -> bool:
        return self.dependency_set.kind in INSTALLED_TREES

    def dependencies(self) -> Iterator[Dependency]:
        """The dependencies that are installed for the target runtime (markers evaluated
        when the set is linked to a runtime), without the project's own local packages."""
        from lambdashield.loaders._deps import is_local_reference
        from lambdashield.loaders.python_deps import applies

        python = self.dependency_set.python_version
        for dependency in self.dependency_set.dependencies:
            if dependency.reference is not None and is_local_reference(dependency.reference):
                continue
            if dependency.ecosystem == "PyPI" and not applies(dependency, python):
                continue
            yield dependency

    def importers(self, dependency: Dependency) -> tuple[HandlerImport, ...]:
        """The imports in the linked functions' handler code that may load `dependency`
        (a set holds the imports of the handlers written for its ecosystem only)."""
        if dependency.nested:
            return ()
        from lambdashield.advisories.osv import normalize_name

        key = normalize_name(dependency.ecosystem, dependency.name)
        return tuple(i for i in self.dependency_set.imports if key in i.distributions)

    def reachable(self, dependency: Dependency) -> bool | None:
        """`True` when a linked handler imports it, `False` when every linked function's
        code was read and none does, `None` when that is not known."""
        if self.importers(dependency):
            return True
        linked = self.dependency_set.functions
        traced = set(self.dependency_set.traced)
        if linked and traced.issuperset(linked):
            return False
        return None

    def verdicts(self) -> tuple[tuple[Dependency, Verdict], ...]:
        """Each dependency the store has advisories for, with what they say about it.

        Worked out once per set and store: the rules share one view, and the engine's
        `known_vulnerabilities` (for the SBOM) finds the answer here instead of matching
        the set again.
        """
        if self._verdicts is None:
            store = self.store
            if store is None or self.superseded:
                self._verdicts = ()
            else:
                shared = _MATCHED.setdefault(store, {})
                earlier = shared.get(id(self.dependency_set))
                if earlier is not None and earlier[0] is self.dependency_set:
                    self._verdicts = earlier[1]
                else:
                    self._verdicts = self._match(store)
                    shared[id(self.dependency_set)] = (self.dependency_set, self._verdicts)
        return self._verdicts

    def _match(self, store: AdvisoryStore) -> tuple[tuple[Dependency, Verdict], ...]:
        from lambdashield.advisories.osv import evaluate, normalize_name

        wanted = list(self.dependencies())
        by_ecosystem: dict[str, set[str]] = {}
        for dependency in wanted:
            by_ecosystem.setdefault(dependency.ecosystem, set()).add(dependency.name)
        known = {
            ecosystem: store.advisories(ecosystem, names)
            for ecosystem, names in sorted(by_ecosystem.items())
        }
        found = []
        for dependency in wanted:
            key = normalize_name(dependency.ecosystem, dependency.name)
            advisories = known[dependency.ecosystem].get(key)
            if not advisories:
                continue
            verdict = evaluate(
                dependency.ecosystem,
                dependency.name,
                dependency.version,
                dependency.specifier if dependency.version is None else "",
                advisories,
            )
            if verdict.vulnerabilities or verdict.unchecked:
                found.append((dependency, verdict))
        return tuple(found)


def anchor(dependency: Dependency) -> str:
    """The pointer findings on `dependency` use: its own, else `/<name>`."""
    from lambdashield.loaders._deps import anchor

    return anchor(dependency)


def known_vulnerabilities(
    dependency_sets: Iterable[DependencySet], store: AdvisoryStore | None
) -> tuple[KnownVulnerability, ...]:
    """Every vulnerability the store knows for the dependencies of `dependency_sets`, one
    per package and vulnerability (malicious packages included), in a stable order."""
    if store is None:
        return ()
    found: list[KnownVulnerability] = []
    for dependency_set in dependency_sets:
        view = DependencyView(dependency_set, store)
        for dependency, verdict in view.verdicts():
            reachable = view.reachable(dependency)
            location = Location(dependency_set.origin.path, anchor(dependency))
            found.extend(
                KnownVulnerability(
                    ecosystem=dependency.ecosystem,
                    name=dependency.name,
                    version=dependency.version,
                    specifier=dependency.specifier,
                    location=location,
                    ids=vulnerability.ids,
                    aliases=vulnerability.aliases,
                    summary=vulnerability.summary,
                    fixed=vulnerability.fixed,
                    score=vulnerability.score,
                    rating=vulnerability.rating,
                    malicious=vulnerability.malicious,
                    reachable=reachable,
                )
                for vulnerability in verdict.vulnerabilities
            )
    return tuple(
        sorted(
            found,
            key=lambda v: (v.location.path, v.location.pointer, v.ecosystem, v.name, v.ids),
        )
    )
