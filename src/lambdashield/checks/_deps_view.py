"""A dependency set with what the advisory store says about it, worked out once per set
and shared by the `LS-DEP` rules.

The store is optional: without one the vulnerability rules have nothing to say, and saying
so is the engine's job (a scan must never read as "no known vulnerabilities" when nothing
was checked). A manifest with a lockfile beside it is checked through the lockfile, which
is loaded as a set of its own, so the same package is not reported twice.
"""

from __future__ import annotations

from collections.abc import Iterator

from lambdashield.advisories.osv import Verdict, evaluate, normalize_name
from lambdashield.advisories.store import AdvisoryStore
from lambdashield.loaders._deps import anchor, is_local_reference
from lambdashield.loaders.python_deps import applies
from lambdashield.model import Dependency, DependencySet

__all__ = ["DependencyView", "anchor"]

INSTALLED_TREES = frozenset({"site-packages", "node_modules"})


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
        python = self.dependency_set.python_version
        for dependency in self.dependency_set.dependencies:
            if dependency.reference is not None and is_local_reference(dependency.reference):
                continue
            if dependency.ecosystem == "PyPI" and not applies(dependency, python):
                continue
            yield dependency

    def verdicts(self) -> tuple[tuple[Dependency, Verdict], ...]:
        """Each dependency the store has advisories for, with what they say about it."""
        if self._verdicts is None:
            store = self.store
            self._verdicts = () if store is None or self.superseded else self._match(store)
        return self._verdicts

    def _match(self, store: AdvisoryStore) -> tuple[tuple[Dependency, Verdict], ...]:
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
