"""The offline advisory store: OSV advisories indexed by ecosystem and normalised name.

One SQLite file, read-only during scans. A lookup of a few hundred packages is one query;
only the advisories of those packages are decompressed and parsed. The file is never
written in place: `import_path` and `sync` build a copy next to it and `os.replace` it, so
a crash or a bad download leaves the previous store as it was.

    import_path(PATH)   a zip, tarball, folder or JSON file of OSV documents (air-gapped
                        use, tests); bad entries are reported and skipped
    sync(ecosystems)    downloads OSV's per-ecosystem export (`<ecosystem>/all.zip`) and
                        replaces that ecosystem's advisories
    AdvisoryStore(path) lookups and `status()`: what is loaded, and how old it is

Age is the age of the data: the newest `modified` time among an ecosystem's advisories,
or the time of import when that is earlier. A store older than `max_age` (7 days by
default) is stale; callers must say so, never report "no known vulnerabilities" from it.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from lambdashield._cache_dir import user_cache_dir
from lambdashield.advisories.osv import (
    SUPPORTED_ECOSYSTEMS,
    Advisory,
    OsvError,
    normalize_name,
    parse_advisory,
)
from lambdashield.errors import AdvisoryError

if TYPE_CHECKING:
    from lambdashield.advisories._archive import Limits

# Building a store needs archives, temporary files and the network; scans only read one,
# so those modules are imported where they are used.

__all__ = [
    "DEFAULT_MAX_AGE",
    "OSV_EXPORT_URL",
    "AdvisoryStore",
    "EcosystemStatus",
    "ImportReport",
    "StoreStatus",
    "default_store_path",
    "download",
    "import_path",
    "sync",
]

SCHEMA_VERSION = "2"
DEFAULT_MAX_AGE = timedelta(days=7)
OSV_EXPORT_URL = "https://osv-vulnerabilities.storage.googleapis.com/{ecosystem}/all.zip"
MAX_DOWNLOAD_BYTES = 2 * 1024 * 1024 * 1024
_SQLITE_MAGIC = b"SQLite format 3\x00"
_LOOKUP_CHUNK = 500

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE advisory (id TEXT PRIMARY KEY, modified TEXT NOT NULL, record TEXT NOT NULL);
CREATE TABLE package (
    ecosystem TEXT NOT NULL, name TEXT NOT NULL, advisory TEXT NOT NULL,
    PRIMARY KEY (ecosystem, name, advisory)
) WITHOUT ROWID;
CREATE INDEX package_by_advisory ON package (advisory);
CREATE TABLE ecosystem (
    name TEXT PRIMARY KEY, imported_at TEXT NOT NULL, origin TEXT NOT NULL,
    withdrawn INTEGER NOT NULL DEFAULT 0
);
"""


def default_store_path() -> Path:
    """`advisories.sqlite3` in the user cache directory (`~/.cache/lambdashield` on Linux,
    `$LAMBDASHIELD_CACHE_DIR` when set)."""
    return user_cache_dir() / "advisories.sqlite3"


def _writable_by_others(path: Path) -> str:
    """Who besides the user (and root) could have written the store, or "" for no one.

    A store decides which vulnerabilities a scan reports, and `LAMBDASHIELD_CACHE_DIR` or
    `--db` may name a shared folder. A file root owns is accepted: images bake the store
    in at build time and run the scan as another user.
    """
    if not hasattr(os, "getuid"):
        return ""  # Windows: the user's profile folder is the user's
    found = path.stat()
    if found.st_uid not in (os.getuid(), 0):
        return f"it belongs to user id {found.st_uid}"
    if found.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return f"its mode {stat.filemode(found.st_mode)} lets others write it"
    return ""


def _utc(now: datetime | None) -> datetime:
    return (now or datetime.now(timezone.utc)).astimezone(timezone.utc)


def _parse_time(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


# --- Reading ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EcosystemStatus:
    name: str
    advisories: int
    withdrawn: int
    """Withdrawn advisories seen at import and left out."""
    newest_modified: datetime | None
    imported_at: datetime | None
    origin: str
    """Where the data came from: the export URL or the imported path."""
    age: timedelta | None
    stale: bool


@dataclass(frozen=True, slots=True)
class StoreStatus:
    path: Path
    ecosystems: tuple[EcosystemStatus, ...]
    max_age: timedelta

    @property
    def stale(self) -> bool:
        return any(e.stale for e in self.ecosystems)

    def covers(self, ecosystem: str) -> bool:
        return any(e.name == ecosystem and e.advisories for e in self.ecosystems)


class AdvisoryStore:
    """A read-only view of one store file. Raises `AdvisoryError` when it is missing,
    truncated, corrupt or of another schema version, naming the path and the fix."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._cache: dict[str, Advisory] = {}
        self._connection = self._open()

    def _corrupt(self, detail: str) -> AdvisoryError:
        return AdvisoryError(
            f"advisory store {self.path} is unusable ({detail}); rebuild it with "
            "`lambdashield db sync` or `lambdashield db import PATH`"
        )

    def _open(self) -> sqlite3.Connection:
        try:
            with self.path.open("rb") as handle:
                head = handle.read(100)
            size = self.path.stat().st_size
        except FileNotFoundError:
            raise AdvisoryError(
                f"no advisory store at {self.path}; run `lambdashield db sync` "
                "(or `lambdashield db import PATH` without network)"
            ) from None
        except OSError as exc:
            raise self._corrupt(f"cannot read: {exc.strerror or exc}") from None
        stranger = _writable_by_others(self.path)
        if stranger:
            raise AdvisoryError(
                f"advisory store {self.path} is not used: {stranger}, who could remove "
                "advisories from it and hide vulnerabilities; rebuild it as your own with "
                "`lambdashield db sync` or `lambdashield db import PATH`, or `chmod go-w` it"
            )
        if len(head) < 100 or not head.startswith(_SQLITE_MAGIC):
            raise self._corrupt("not an advisory store")
        page_size = int.from_bytes(head[16:18], "big")
        page_size = 65536 if page_size == 1 else page_size
        pages = int.from_bytes(head[28:32], "big")
        if page_size < 512 or size != pages * page_size:
            raise self._corrupt(f"truncated: {size:,} bytes of {pages * page_size:,}")
        connection = sqlite3.connect(
            f"{self.path.resolve().as_uri()}?mode=ro&immutable=1",
            uri=True,
            check_same_thread=False,
        )
        try:
            rows = dict(connection.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.Error as exc:
            connection.close()
            raise self._corrupt(str(exc)) from None
        if rows.get("schema") != SCHEMA_VERSION:
            connection.close()
            raise self._corrupt(f"schema {rows.get('schema')!r}, expected {SCHEMA_VERSION}")
        return connection

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> AdvisoryStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def advisories(self, ecosystem: str, names: Iterable[str]) -> dict[str, tuple[Advisory, ...]]:
        """The advisories of each package (names as written; keys normalised) that has any."""
        wanted = sorted({normalize_name(ecosystem, n) for n in names})
        found: dict[str, list[Advisory]] = {}
        try:
            for start in range(0, len(wanted), _LOOKUP_CHUNK):
                chunk = wanted[start : start + _LOOKUP_CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = self._connection.execute(
                    "SELECT p.name, a.id, a.record FROM package p "  # noqa: S608 - only ?s
                    f"JOIN advisory a ON a.id = p.advisory "
                    f"WHERE p.ecosystem = ? AND p.name IN ({marks}) ORDER BY p.name, a.id",
                    (ecosystem, *chunk),
                )
                for name, ident, record in rows:
                    found.setdefault(name, []).append(self._advisory(ident, record))
        except sqlite3.Error as exc:
            raise self._corrupt(str(exc)) from None
        return {name: tuple(items) for name, items in found.items()}

    def _advisory(self, ident: str, record: str) -> Advisory:
        cached = self._cache.get(ident)
        if cached is None:
            try:
                cached = Advisory.from_record(json.loads(record))
            except (ValueError, KeyError, TypeError) as exc:
                raise self._corrupt(f"advisory {ident} unreadable: {exc}") from None
            self._cache[ident] = cached
        return cached

    def status(
        self, *, now: datetime | None = None, max_age: timedelta = DEFAULT_MAX_AGE
    ) -> StoreStatus:
        current = _utc(now)
        try:
            counts = dict(
                self._connection.execute(
                    "SELECT ecosystem, COUNT(DISTINCT advisory) FROM package GROUP BY ecosystem"
                ).fetchall()
            )
            newest = dict(
                self._connection.execute(
                    "SELECT p.ecosystem, MAX(a.modified) FROM package p "
                    "JOIN advisory a ON a.id = p.advisory GROUP BY p.ecosystem"
                ).fetchall()
            )
            rows = self._connection.execute(
                "SELECT name, imported_at, origin, withdrawn FROM ecosystem ORDER BY name"
            ).fetchall()
        except sqlite3.Error as exc:
            raise self._corrupt(str(exc)) from None
        ecosystems = []
        for name, imported_text, origin, withdrawn in rows:
            imported = _parse_time(imported_text)
            modified = _parse_time(newest[name]) if newest.get(name) else None
            data_time = min((t for t in (modified, imported) if t is not None), default=None)
            age = current - data_time if data_time is not None else None
            ecosystems.append(
                EcosystemStatus(
                    name=name,
                    advisories=counts.get(name, 0),
                    withdrawn=withdrawn,
                    newest_modified=modified,
                    imported_at=imported,
                    origin=origin,
                    age=age,
                    stale=age is None or age > max_age,
                )
            )
        return StoreStatus(self.path, tuple(ecosystems), max_age)


# --- Building ---------------------------------------------------------------------------


@dataclass
class ImportReport:
    """What one import or sync did; `errors` are `(entry, message)` pairs."""

    source: str
    imported: int = 0
    withdrawn: int = 0
    skipped_other_ecosystems: int = 0
    errors: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def import_path(
    source: Path,
    store: Path,
    *,
    replace: bool = False,
    limits: Limits | None = None,
    now: datetime | None = None,
) -> ImportReport:
    """Add the OSV documents of `source` to the store (or start afresh with `replace`).

    Advisories are upserted by ID; a withdrawn one removes any earlier copy. The store is
    rebuilt in a temporary file and swapped in only when every entry has been handled.
    """
    report = ImportReport(str(source))
    with _building(store, fresh=replace, report=report) as connection:
        touched = _load_entries(connection, source, report, limits)
        _mark_ecosystems(connection, touched, str(source), now)
    return report


def sync(
    store: Path,
    ecosystems: Sequence[str] = SUPPORTED_ECOSYSTEMS,
    *,
    fetch: Callable[[str, Path], None] | None = None,
    limits: Limits | None = None,
    now: datetime | None = None,
) -> list[ImportReport]:
    """Download each ecosystem's OSV export and replace its advisories, in one swap."""
    for ecosystem in ecosystems:
        if ecosystem not in SUPPORTED_ECOSYSTEMS:
            names = ", ".join(SUPPORTED_ECOSYSTEMS)
            raise AdvisoryError(f"unsupported ecosystem {ecosystem!r} (supported: {names})")
    import tempfile

    fetch = fetch or download
    reports = []
    store.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=store.parent, prefix=".lambdashield-sync-") as tmp:
        archives = []
        for ecosystem in ecosystems:
            archive = Path(tmp) / f"{ecosystem}.zip"
            fetch(ecosystem, archive)
            archives.append((ecosystem, archive))
        placeholder = ImportReport("sync")
        with _building(store, fresh=False, report=placeholder) as connection:
            for ecosystem, archive in archives:
                report = ImportReport(OSV_EXPORT_URL.format(ecosystem=ecosystem))
                _forget_ecosystem(connection, ecosystem)
                touched = _load_entries(connection, archive, report, limits)
                touched.setdefault(ecosystem, 0)
                _mark_ecosystems(connection, touched, report.source, now)
                reports.append(report)
        if reports:
            reports[0].notes[:0] = placeholder.notes
    return reports


def download(ecosystem: str, destination: Path) -> None:
    """Fetch OSV's export archive of one ecosystem to `destination` (at most 2 GiB)."""
    import urllib.request

    url = OSV_EXPORT_URL.format(ecosystem=ecosystem)
    request = urllib.request.Request(url, headers={"User-Agent": "lambdashield"})  # noqa: S310 - fixed https URL
    written = 0
    try:
        with urllib.request.urlopen(request, timeout=60) as response, destination.open("wb") as out:  # noqa: S310 - fixed https URL
            while chunk := response.read(1024 * 1024):
                written += len(chunk)
                if written > MAX_DOWNLOAD_BYTES:
                    raise AdvisoryError(f"{url}: larger than {MAX_DOWNLOAD_BYTES:,} bytes; stopped")
                out.write(chunk)
    except OSError as exc:
        raise AdvisoryError(f"cannot download {url}: {exc}") from None


@contextlib.contextmanager
def _building(store: Path, *, fresh: bool, report: ImportReport) -> Iterator[sqlite3.Connection]:
    """A writable copy of the store (or a new one) that replaces `store` on success."""
    import shutil
    import tempfile

    store.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=store.parent, prefix=f".{store.name}.", suffix=".tmp")
    os.close(handle)
    temporary = Path(name)
    try:
        reused = False
        if not fresh and store.exists():
            try:
                AdvisoryStore(store).close()
                shutil.copyfile(store, temporary)
                reused = True
            except AdvisoryError as exc:
                report.notes.append(f"{exc}; building a new store")
        if not reused:
            temporary.unlink()
        connection = sqlite3.connect(temporary, isolation_level=None)
        try:
            connection.execute("PRAGMA journal_mode = OFF")
            connection.execute("PRAGMA synchronous = OFF")
            if not reused:
                connection.executescript(_SCHEMA)
                connection.execute(
                    "INSERT INTO meta (key, value) VALUES ('schema', ?)", (SCHEMA_VERSION,)
                )
            connection.execute("BEGIN")
            yield connection
            connection.execute("COMMIT")
        finally:
            connection.close()
        with temporary.open("rb+") as synced:
            os.fsync(synced.fileno())
        # Not left to the umask: a group-writable store (umask 002) would be refused.
        temporary.chmod(0o644)
        temporary.replace(store)  # os.replace: atomic on POSIX and Windows
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


def _load_entries(
    connection: sqlite3.Connection, source: Path, report: ImportReport, limits: Limits | None
) -> dict[str, int]:
    """Upsert every advisory of `source`; returns the ecosystems they cover, each with the
    number of withdrawn advisories seen for it."""
    from lambdashield.advisories._archive import read_entries

    touched: dict[str, int] = {}
    for entry in read_entries(source, limits):
        where = f"{source.name}:{entry.name}"
        if entry.data is None:
            report.errors.append((where, entry.problem or "not read"))
            continue
        try:
            advisory = parse_advisory(json.loads(entry.data))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            report.errors.append((where, f"invalid JSON: {exc}"))
            continue
        except RecursionError:
            report.errors.append((where, "JSON nested too deeply"))
            continue
        except OsvError as exc:
            report.errors.append((where, f"breaks the OSV schema: {exc}"))
            continue
        _remove(connection, advisory.id)
        if advisory.withdrawn:
            report.withdrawn += 1
            for ecosystem in {a.ecosystem for a in advisory.affected}:
                touched[ecosystem] = touched.get(ecosystem, 0) + 1
            continue
        if not advisory.affected:
            report.skipped_other_ecosystems += 1
            continue
        # Plain JSON: once `to_record` drops the versions the ranges cover, an advisory is
        # ~500 bytes and zlib saved a third of that at a tenth of the lookup time.
        record = json.dumps(advisory.to_record(), separators=(",", ":"))
        connection.execute(
            "INSERT INTO advisory (id, modified, record) VALUES (?, ?, ?)",
            (advisory.id, _sortable_time(advisory.modified), record),
        )
        connection.executemany(
            "INSERT OR IGNORE INTO package (ecosystem, name, advisory) VALUES (?, ?, ?)",
            [(a.ecosystem, a.name, advisory.id) for a in advisory.affected],
        )
        for ecosystem in {a.ecosystem for a in advisory.affected}:
            touched.setdefault(ecosystem, 0)
        report.imported += 1
    return touched


def _sortable_time(text: str) -> str:
    parsed = _parse_time(text)
    return parsed.astimezone(timezone.utc).isoformat() if parsed else text


def _remove(connection: sqlite3.Connection, ident: str) -> None:
    connection.execute("DELETE FROM package WHERE advisory = ?", (ident,))
    connection.execute("DELETE FROM advisory WHERE id = ?", (ident,))


def _forget_ecosystem(connection: sqlite3.Connection, ecosystem: str) -> None:
    connection.execute("DELETE FROM package WHERE ecosystem = ?", (ecosystem,))
    connection.execute(
        "DELETE FROM advisory WHERE id NOT IN (SELECT DISTINCT advisory FROM package)"
    )
    connection.execute("DELETE FROM ecosystem WHERE name = ?", (ecosystem,))


def _mark_ecosystems(
    connection: sqlite3.Connection,
    ecosystems: dict[str, int],
    origin: str,
    now: datetime | None,
) -> None:
    stamp = _utc(now).isoformat()
    for ecosystem, withdrawn in sorted(ecosystems.items()):
        connection.execute(
            "INSERT INTO ecosystem (name, imported_at, origin, withdrawn) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET imported_at = excluded.imported_at, "
            "origin = excluded.origin, withdrawn = withdrawn + excluded.withdrawn",
            (ecosystem, stamp, origin, withdrawn),
        )
    connection.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('updated_at', ?)", (stamp,)
    )
