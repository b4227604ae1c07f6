"""Command line: argument parsing, file I/O and exit codes, nothing else.

Exit codes: 0 nothing at or above `--fail-on`; 1 findings at or above it; 2 a usage or
configuration error, or an input that should have been analysed and could not be.
Heavy modules are imported inside the commands, so `--version` starts instantly.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from lambdashield import __version__
from lambdashield.reporters import FORMATS

if TYPE_CHECKING:
    from lambdashield.config import Config
    from lambdashield.model import ScanReport

__all__ = ["main"]

PROGRESS_AFTER = 1.0
"""Seconds a scan runs before a progress bar appears (on a terminal only)."""
DEFAULT_BASELINE = "lambdashield-baseline.json"
SEVERITIES = ("low", "medium", "high", "critical")
EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def fatal(message: str) -> NoReturn:
    click.echo(f"lambdashield: error: {message}", err=True)
    sys.exit(EXIT_ERROR)


def _codes(values: tuple[str, ...]) -> tuple[str, ...] | None:
    codes = tuple(c.strip() for v in values for c in v.split(",") if c.strip())
    return codes or None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="lambdashield")
def main() -> None:
    """Find what makes an AWS Lambda application insecure."""


def _settings(
    paths: Sequence[str],
    config_file: str | None,
    *,
    select: tuple[str, ...] = (),
    ignore: tuple[str, ...] = (),
    fail_on: str | None = None,
    baseline: str | None = None,
    policies_only: bool = False,
    db: str | None = None,
    fail_on_missing_db: bool | None = None,
) -> Config:
    """The config file's settings (given, or the nearest one), overridden by the flags."""
    from lambdashield.config import Config, find_config, load_config
    from lambdashield.model import Severity

    found = Path(config_file) if config_file else find_config(Path(paths[0]))
    config: Config = load_config(found) if found else Config()
    return config.merged(
        select=_codes(select),
        ignore=_codes(ignore),
        fail_on=Severity.parse(fail_on) if fail_on else None,
        baseline=Path(baseline) if baseline else None,
        policies_only=policies_only or None,
        db=Path(db) if db else None,
        fail_on_missing_db=fail_on_missing_db,
    )


def _run(
    paths: tuple[str, ...],
    *,
    fmt: str,
    output: str | None,
    fail_on: str | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    baseline: str | None,
    config_file: str | None,
    policies_only: bool,
    db: str | None = None,
    fail_on_missing_db: bool | None = None,
) -> NoReturn:
    from lambdashield.errors import LambdashieldError

    try:
        config = _settings(
            paths,
            config_file,
            select=select,
            ignore=ignore,
            fail_on=fail_on,
            baseline=baseline,
            policies_only=policies_only,
            db=db,
            fail_on_missing_db=fail_on_missing_db,
        ).merged(snippets=fmt == "html")
        started = time.perf_counter()
        report = _scan(list(paths), config)
        scanned = time.perf_counter()
        _write(report, fmt, output)
        written = time.perf_counter()
    except LambdashieldError as exc:
        fatal(str(exc))
    if _stderr_is_terminal():
        click.echo(_timings(report, scanned - started, written - scanned), err=True)
    if report.errors:
        sys.exit(EXIT_ERROR)
    failing = any(f.severity.rank >= config.fail_on.rank for f in report.findings)
    sys.exit(EXIT_FINDINGS if failing else EXIT_CLEAN)


def _stderr_is_terminal() -> bool:
    """Progress and timings go to stderr, and only when a person watches it."""
    return sys.stderr.isatty()


def _scan(paths: list[str], config: Config) -> ScanReport:
    """The scan; on a terminal, a progress bar on stderr once it has run `PROGRESS_AFTER`
    seconds. Short scans, and every scan whose stderr is not a terminal, pay nothing."""
    from lambdashield.engine import scan

    if not _stderr_is_terminal():
        return scan(paths, config)
    import threading

    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["report"] = scan(paths, config)
        except BaseException as exc:  # handed to the caller's thread below
            outcome["error"] = exc

    worker = threading.Thread(target=work, name="lambdashield-scan", daemon=True)
    worker.start()
    worker.join(PROGRESS_AFTER)
    if worker.is_alive():
        _show_progress(worker, paths)
    if "error" in outcome:
        raise outcome["error"]
    report: ScanReport = outcome["report"]
    return report


def _show_progress(worker: Any, paths: list[str]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = Console(stderr=True, highlight=False)
    columns = (
        SpinnerColumn(),
        TextColumn("scanning {task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        progress.add_task(escape(", ".join(paths)), total=None)
        while worker.is_alive():
            worker.join(0.1)


def _timings(report: ScanReport, scan_seconds: float, report_seconds: float) -> str:
    findings = len(report.findings)
    return (
        f"lambdashield: {findings} finding{'s' if findings != 1 else ''}, "
        f"{len(report.errors)} error{'s' if len(report.errors) != 1 else ''} in "
        f"{report.files} file{'s' if report.files != 1 else ''} and "
        f"{report.functions} function{'s' if report.functions != 1 else ''}; "
        f"scanned in {scan_seconds:.2f} s, reported in {report_seconds:.2f} s"
    )


def _write(report: ScanReport, fmt: str, output: str | None) -> None:
    from lambdashield.reporters import reporter_for

    to_terminal = output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    text = reporter_for(fmt, color=to_terminal).render(report)
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    _write_file(output, text)


def _write_file(output: str, text: str) -> None:
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        fatal(f"cannot write {output}: {exc.strerror or exc}")


_format = click.option(
    "--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True
)
_output = click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write here.")
_fail_on = click.option(
    "--fail-on",
    type=click.Choice(SEVERITIES, case_sensitive=False),
    help="Exit 1 when a finding is at or above this severity [default: high].",
)
_select = click.option("--select", multiple=True, help="Only these rules or prefixes.")
_ignore = click.option("--ignore", multiple=True, help="Skip these rules or prefixes.")
_baseline = click.option(
    "--baseline",
    type=click.Path(exists=True, dir_okay=False),
    help="A previous JSON report; its findings are not reported again.",
)
_config = click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Settings file (default: nearest .lambdashield.toml or pyproject.toml).",
)


@main.command("scan")
@click.argument("paths", nargs=-1, type=click.Path())
@_format
@_output
@_fail_on
@_select
@_ignore
@_baseline
@_config
@click.option(
    "--db",
    type=click.Path(dir_okay=False),
    help="Advisory store to check dependencies against [default: in the user cache].",
)
@click.option(
    "--offline",
    is_flag=True,
    help="Never use the network (scans never do; kept for scripts that say so).",
)
@click.option(
    "--fail-on-missing-db/--no-fail-on-missing-db",
    default=None,
    help="Exit 2 when dependencies cannot be checked for lack of advisories [default: on].",
)
def scan_command(
    paths: tuple[str, ...],
    fmt: str,
    output: str | None,
    fail_on: str | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    baseline: str | None,
    config_file: str | None,
    db: str | None,
    offline: bool,
    fail_on_missing_db: bool | None,
) -> None:
    """Scan serverless projects (default: the current directory)."""
    del offline  # a scan reads only local files and the local advisory store
    _run(
        paths or (".",),
        fmt=fmt,
        output=output,
        fail_on=fail_on,
        select=select,
        ignore=ignore,
        baseline=baseline,
        config_file=config_file,
        policies_only=False,
        db=db,
        fail_on_missing_db=fail_on_missing_db,
    )


class _LazyGroup(click.Group):
    """A group whose heavier commands are imported only when they are run or listed, so
    `lambdashield --version` and `policy check` stay quick."""

    lazy: dict[str, str] = {}  # noqa: RUF012 - replaced per group, never mutated
    """Command name -> `module:attribute`."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.lazy and name not in self.commands:
            module, _, attribute = self.lazy[name].partition(":")
            command = getattr(importlib.import_module(module), attribute)
            self.add_command(command, name)
        return super().get_command(ctx, name)


class _PolicyGroup(_LazyGroup):
    lazy = {"generate": "lambdashield.policygen:generate_command"}  # noqa: RUF012


@main.group("policy", cls=_PolicyGroup)
def policy_group() -> None:
    """Work with IAM policy documents."""


@policy_group.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path())
@_format
@_output
@_fail_on
@_select
@_ignore
@_config
def policy_check(
    files: tuple[str, ...],
    fmt: str,
    output: str | None,
    fail_on: str | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    config_file: str | None,
) -> None:
    """Check IAM policy JSON files; each one must be a policy document."""
    _run(
        files,
        fmt=fmt,
        output=output,
        fail_on=fail_on,
        select=select,
        ignore=ignore,
        baseline=None,
        config_file=config_file,
        policies_only=True,
    )


def _register_commands() -> None:
    """Commands defined beside what they work on; their modules import only click."""
    from lambdashield.advisories.cli import db_group, deps_group

    main.add_command(db_group)
    main.add_command(deps_group)


_register_commands()


@main.group("baseline")
def baseline_group() -> None:
    """Accept today's findings, so that scans report only new ones."""


@baseline_group.command("create")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False),
    default=DEFAULT_BASELINE,
    show_default=True,
    help="Write the baseline here.",
)
@_select
@_ignore
@_config
@click.option(
    "--db",
    type=click.Path(dir_okay=False),
    help="Advisory store to check dependencies against [default: in the user cache].",
)
def baseline_create(
    paths: tuple[str, ...],
    output: str,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    config_file: str | None,
    db: str | None,
) -> None:
    """Scan and write every finding's fingerprint to a baseline file.

    The file is a JSON report: review it like code. `lambdashield scan --baseline FILE`
    (or `baseline = "FILE"` in the settings) then reports only findings that are not in
    it; fingerprints leave out line numbers, so findings keep matching when code moves.
    """
    from dataclasses import replace

    from lambdashield.errors import LambdashieldError
    from lambdashield.reporters.json import JsonReporter

    paths = paths or (".",)
    try:
        config = _settings(paths, config_file, select=select, ignore=ignore, db=db)
        # A configured baseline would leave its own findings out of the new one.
        report = _scan(list(paths), replace(config, baseline=None))
    except LambdashieldError as exc:
        fatal(str(exc))
    _write_file(output, JsonReporter().render(report))
    count = len(report.findings)
    click.echo(f"wrote {count} fingerprint{'s' if count != 1 else ''} to {output}")
    for error in report.errors:
        where = error.path.as_posix() + (f":{error.line}" if error.line is not None else "")
        click.echo(f"lambdashield: error: {where}: {error.message}", err=True)
    if report.errors:
        fatal("some inputs could not be analysed; their findings are not in the baseline")


@main.command("init")
@click.argument(
    "directory", default=".", type=click.Path(file_okay=False, exists=True, writable=True)
)
def init_command(directory: str) -> None:
    """Write a commented .lambdashield.toml with every setting and its default."""
    from lambdashield.config import CONFIG_FILES

    target = Path(directory) / CONFIG_FILES[0]
    pyproject = Path(directory) / "pyproject.toml"
    if target.exists():
        fatal(f"{target} already exists; not overwritten")
    try:
        has_section = pyproject.is_file() and "[tool.lambdashield" in pyproject.read_text(
            encoding="utf-8", errors="replace"
        )
    except OSError:
        has_section = False
    if has_section:
        fatal(
            f"{pyproject} already has [tool.lambdashield] settings, which a "
            f"{CONFIG_FILES[0]} would silently override; edit them there"
        )
    try:
        with target.open("x", encoding="utf-8") as handle:
            handle.write(CONFIG_TEMPLATE)
    except FileExistsError:
        fatal(f"{target} already exists; not overwritten")
    except OSError as exc:
        fatal(f"cannot write {target}: {exc.strerror or exc}")
    click.echo(f"wrote {target}; every setting is commented out at its default")


@main.command("rules")
def rules_command() -> None:
    """List every rule."""
    from lambdashield.checks import ALL_RULES

    for r in ALL_RULES:
        meta = r.meta
        click.echo(f"{meta.id:<12} {meta.severity.label:<9} {meta.title}")


@main.command("explain")
@click.argument("rule_id")
def explain_command(rule_id: str) -> None:
    """Print the documentation page of one rule."""
    from lambdashield.checks import rule_by_id
    from lambdashield.reporters.rule_docs import render_rule_page

    found = rule_by_id(rule_id)
    if found is None:
        fatal(f"unknown rule {rule_id!r} (see `lambdashield rules`)")
    click.echo(render_rule_page(found.meta), nl=False)


CONFIG_TEMPLATE = """\
# lambdashield settings, written by `lambdashield init`.
#
# Every setting is optional and shown commented out at its default: uncomment a line to
# change it. The same keys work under [tool.lambdashield] in pyproject.toml, and
# command-line flags override them. Paths are relative to this file. An unknown key or
# a wrong type is an error, never ignored. Guide: docs/guide.md#configuration

# Rule IDs or prefixes to run (`lambdashield rules` lists them); empty runs every rule.
# select = ["LS-IAM", "LS-API-001"]

# Rule IDs or prefixes never to run.
# ignore = ["LS-FN-003"]

# Exit with 1 when a finding is at or above this severity: low, medium, high or critical.
# fail-on = "high"

# Findings below this severity are not reported at all.
# min-severity = "low"

# A baseline written by `lambdashield baseline create`: its findings are not reported
# again, so scans show only new ones.
# baseline = "lambdashield-baseline.json"

# Paths not to scan, as gitignore-style patterns relative to each scanned folder
# (.gitignore is honoured too).
# exclude = ["tests/fixtures/", "*.generated.json"]

# The largest file read, in bytes; a larger one is reported as an error.
# max-file-size = 10485760

# Routes that are public by design (METHOD /path or /path, with * wildcards): LS-API-002
# does not report them. Attack path scores still count them as reachable from the internet.
# public-routes = ["GET /health", "/public/*"]

# How many days before a runtime's deprecation date LS-FN-001 starts warning.
# runtime-warning-days = 180

# The advisory store that dependencies are checked against (built by `lambdashield db
# sync`); by default it lives in the user cache directory.
# db = ".lambdashield/advisories.sqlite3"

# Advisories older than this many days count as stale.
# advisory-max-age-days = 7

# Exit with 2 when dependencies cannot be checked (no store, a stale one, or one without
# the ecosystem); false lists the dependency files as not checked instead.
# fail-on-missing-db = true

# Rules to skip in some files only: path patterns to lists of rule IDs or prefixes.
# [per-file-ignores]
# "policies/legacy-*.json" = ["LS-IAM-003"]
"""


if __name__ == "__main__":
    main()
