"""`lambdashield db`: build and inspect the offline advisory store.

    lambdashield db sync [--ecosystem PyPI --ecosystem npm]
    lambdashield db import PATH [--replace]
    lambdashield db status [--max-age DAYS]
    lambdashield deps snapshot PATH --out FILE [--db PATH]

`--db PATH` (before the subcommand) points at another store than the one in the user
cache directory. Exit codes: 0 done (status: present and fresh); 1 status of a stale
store; 2 an error, an entry that could not be imported, or no usable store.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

if TYPE_CHECKING:
    from lambdashield.advisories.store import ImportReport

__all__ = ["db_group", "deps_group", "snapshot_command"]

EXIT_STALE, EXIT_ERROR = 1, 2
_SHOWN_ERRORS = 20


def _fatal(message: str) -> NoReturn:
    click.echo(f"lambdashield: error: {message}", err=True)
    sys.exit(EXIT_ERROR)


def _store_path(context: click.Context) -> Path:
    from lambdashield.advisories.store import default_store_path

    given = context.obj.get("db") if isinstance(context.obj, dict) else None
    return Path(given) if given else default_store_path()


@click.group("db")
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False),
    help="The advisory store to use [default: in the user cache directory].",
)
@click.pass_context
def db_group(context: click.Context, db_path: str | None) -> None:
    """Build and inspect the offline vulnerability advisory store (OSV)."""
    context.ensure_object(dict)
    context.obj["db"] = db_path


def _report(reports: list[ImportReport]) -> None:
    failed = False
    for report in reports:
        for note in report.notes:
            click.echo(f"note: {note}", err=True)
        click.echo(
            f"{report.source}: {report.imported:,} advisories imported, "
            f"{report.withdrawn:,} withdrawn ones left out"
            + (
                f", {report.skipped_other_ecosystems:,} of other ecosystems skipped"
                if report.skipped_other_ecosystems
                else ""
            )
        )
        for entry, message in report.errors[:_SHOWN_ERRORS]:
            click.echo(f"lambdashield: error: {entry}: {message}", err=True)
        if len(report.errors) > _SHOWN_ERRORS:
            click.echo(
                f"lambdashield: error: ... and {len(report.errors) - _SHOWN_ERRORS:,} more "
                "entries not imported",
                err=True,
            )
        failed = failed or bool(report.errors)
    if failed:
        sys.exit(EXIT_ERROR)


@db_group.command("import")
@click.argument("source", type=click.Path(exists=True))
@click.option("--replace", is_flag=True, help="Start a new store instead of adding to it.")
@click.pass_context
def import_command(context: click.Context, source: str, replace: bool) -> None:
    """Import OSV advisories from a zip, a tarball, a folder or a JSON file."""
    from lambdashield.advisories.store import import_path
    from lambdashield.errors import AdvisoryError

    store = _store_path(context)
    try:
        report = import_path(Path(source), store, replace=replace)
    except AdvisoryError as exc:
        _fatal(str(exc))
    click.echo(f"store: {store}")
    _report([report])


@db_group.command("sync")
@click.option(
    "--ecosystem",
    "ecosystems",
    multiple=True,
    type=click.Choice(["PyPI", "npm"]),
    help="Only these ecosystems [default: PyPI and npm].",
)
@click.pass_context
def sync_command(context: click.Context, ecosystems: tuple[str, ...]) -> None:
    """Download OSV's advisories for PyPI and npm into the store."""
    from lambdashield.advisories.store import sync
    from lambdashield.errors import AdvisoryError

    store = _store_path(context)
    try:
        reports = sync(store, ecosystems or ("PyPI", "npm"))
    except AdvisoryError as exc:
        _fatal(str(exc))
    click.echo(f"store: {store}")
    _report(reports)


def _age(age: timedelta | None) -> str:
    if age is None:
        return "unknown age"
    if age.days >= 1:
        return f"{age.days} day{'s' if age.days != 1 else ''} old"
    hours = age.seconds // 3600
    return f"{hours} hour{'s' if hours != 1 else ''} old"


@db_group.command("status")
@click.option(
    "--max-age",
    type=click.IntRange(min=1),
    default=7,
    show_default=True,
    help="Days after which the data counts as stale.",
)
@click.pass_context
def status_command(context: click.Context, max_age: int) -> None:
    """Show what the store holds and how old it is."""
    from lambdashield.advisories.store import AdvisoryStore
    from lambdashield.errors import AdvisoryError

    path = _store_path(context)
    try:
        with AdvisoryStore(path) as store:
            status = store.status(max_age=timedelta(days=max_age))
    except AdvisoryError as exc:
        _fatal(str(exc))
    click.echo(f"store: {path}")
    if not status.ecosystems:
        click.echo("no advisories loaded; run `lambdashield db sync`")
        sys.exit(EXIT_ERROR)
    for ecosystem in status.ecosystems:
        newest = (
            ecosystem.newest_modified.strftime("%Y-%m-%d %H:%M UTC")
            if ecosystem.newest_modified
            else "unknown"
        )
        state = "STALE" if ecosystem.stale else "fresh"
        click.echo(
            f"{ecosystem.name}: {ecosystem.advisories:,} advisories, newest modified {newest}, "
            f"{_age(ecosystem.age)} ({state}; limit {max_age} days), from {ecosystem.origin}"
        )
    if status.stale:
        click.echo(
            "the store is stale: scans will say so; refresh it with `lambdashield db sync`",
            err=True,
        )
        sys.exit(EXIT_STALE)


@click.group("deps")
def deps_group() -> None:
    """Dependencies of deployment packages."""


@deps_group.command("snapshot")
@click.argument("path", type=click.Path(exists=True))
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False),
    help="Where to write the snapshot (ship it as lambdashield-snapshot.json).",
)
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False),
    help="The advisory store to use [default: in the user cache directory].",
)
@click.option(
    "--max-age",
    type=click.IntRange(min=1),
    default=7,
    show_default=True,
    help="Days after which the advisories count as stale (the snapshot is written anyway).",
)
def snapshot_command(path: str, out: str, db_path: str | None, max_age: int) -> None:
    """Write the advisories of the packages in a deployment package (a folder, a
    `.aws-sam/build/<Function>` folder or a `.zip`), for `lambdashield.runtime.selfscan`."""
    from lambdashield.advisories.snapshot import build_snapshot, installed_names, write_snapshot
    from lambdashield.advisories.store import AdvisoryStore, default_store_path
    from lambdashield.errors import AdvisoryError

    store_path = Path(db_path) if db_path else default_store_path()
    source = Path(path)
    try:
        installed = installed_names(source)
        with AdvisoryStore(store_path) as store:
            status = store.status(max_age=timedelta(days=max_age))
            if not status.covers("PyPI"):
                _fatal(
                    f"the advisory store {store_path} has no PyPI advisories; run "
                    "`lambdashield db sync` or `lambdashield db import PATH`"
                )
            document = build_snapshot(installed, store, source=source.name)
        write_snapshot(document, Path(out))
    except AdvisoryError as exc:
        _fatal(str(exc))
    if any(e.stale for e in status.ecosystems if e.name == "PyPI"):
        click.echo(
            f"note: the PyPI advisories in {store_path} are older than {max_age} days; "
            "refresh them with `lambdashield db sync`",
            err=True,
        )
    packages: dict[str, dict[str, list[dict[str, object]]]] = document["packages"]
    vulnerable = sorted(
        f"{name} {version}"
        for name, versions in packages.items()
        for version, found in versions.items()
        if found
    )
    click.echo(
        f"{source}: {len(installed):,} installed distributions, {len(vulnerable):,} with known "
        f"vulnerabilities{': ' + ', '.join(vulnerable[:10]) if vulnerable else ''}"
        f"{' ...' if len(vulnerable) > 10 else ''}"
    )
    click.echo(f"snapshot: {out}")
