"""Command line: argument parsing, file I/O and exit codes, nothing else.

Exit codes: 0 nothing at or above `--fail-on`; 1 findings at or above it; 2 a usage or
configuration error, or an input that should have been analysed and could not be.
Heavy modules are imported inside the commands, so `--version` starts instantly.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from lambdashield import __version__

if TYPE_CHECKING:
    from lambdashield.config import Config
    from lambdashield.model import ScanReport

__all__ = ["main"]

FORMATS = ("text", "json", "sarif")
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
    from lambdashield.config import Config, find_config, load_config
    from lambdashield.engine import scan
    from lambdashield.errors import LambdashieldError
    from lambdashield.model import Severity

    try:
        found = Path(config_file) if config_file else find_config(Path(paths[0]))
        config: Config = load_config(found) if found else Config()
        config = config.merged(
            select=_codes(select),
            ignore=_codes(ignore),
            fail_on=Severity.parse(fail_on) if fail_on else None,
            baseline=Path(baseline) if baseline else None,
            policies_only=policies_only or None,
            db=Path(db) if db else None,
            fail_on_missing_db=fail_on_missing_db,
        )
        report = scan(list(paths), config)
        _write(report, fmt, output)
    except LambdashieldError as exc:
        fatal(str(exc))
    if report.errors:
        sys.exit(EXIT_ERROR)
    failing = any(f.severity.rank >= config.fail_on.rank for f in report.findings)
    sys.exit(EXIT_FINDINGS if failing else EXIT_CLEAN)


def _write(report: ScanReport, fmt: str, output: str | None) -> None:
    from lambdashield.reporters import reporter_for

    to_terminal = output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    text = reporter_for(fmt, color=to_terminal).render(report)
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
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


@main.group("policy")
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


def _register_db() -> None:
    from lambdashield.advisories.cli import db_group

    main.add_command(db_group)


_register_db()


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


if __name__ == "__main__":
    main()
