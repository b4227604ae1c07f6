"""`lambdashield policy generate`: the least-privilege policy each function's code needs.

Reads the templates under PATH as `scan` does, finds each function's handler source, reads
the AWS SDK calls it makes (`checks/_sdk/`) and writes the smallest policy that allows them:
one statement per set of resources, actions and resources sorted, byte-stable for the same
input. Each policy says how sure the extraction was and why.

This is a command-line module beside `cli.py`: it parses options, reads files through the
loaders and prints. `generate()` and `render()` hold the logic and are what tests call.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import click

from lambdashield.checks._sdk import (
    Extraction,
    Requirements,
    SourceCache,
    extract,
    minimal_policy,
    requirements,
    sdk_data,
)
from lambdashield.config import Config
from lambdashield.errors import LoaderError
from lambdashield.loaders._json import JsonLines, parse_json, read_text
from lambdashield.loaders.cloudformation import is_template, load_template, resources_to_model
from lambdashield.loaders.discover import Kind, discover, display_path
from lambdashield.loaders.serverless import UnsupportedProvider, load_serverless
from lambdashield.loaders.terraform import load_terraform, root_module_folders
from lambdashield.model import Application, Function, ScanError, SkippedInput

__all__ = ["FORMATS", "Generated", "generate", "generate_command", "render"]

FORMATS = ("json", "yaml", "sam", "terraform")


@dataclass(frozen=True, slots=True)
class Generated:
    """The policy of one function, or why there is none."""

    function: Function
    extraction: Extraction
    requirements: Requirements
    policy: dict[str, Any] | None

    @property
    def name(self) -> str:
        return self.function.origin.resource

    def confidence(self) -> tuple[str, str]:
        extra = self.requirements.notes
        return (
            self.extraction.confidence(extra).value,
            self.extraction.confidence_reason(extra),
        )


def load_applications(path: str, config: Config) -> tuple[list[Application], list[ScanError]]:
    """Every application under `path`, loaded as `scan` loads them."""
    applications: list[Application] = []
    errors: list[ScanError] = []
    root = Path(path)
    folder = root if root.is_dir() else root.parent
    terraform: list[Path] = []
    for found in discover(
        path,
        exclude=config.exclude,
        max_files=config.max_files,
        max_file_bytes=config.max_file_bytes,
    ):
        if isinstance(found, ScanError):
            errors.append(found)
            continue
        if isinstance(found, SkippedInput):
            continue
        try:
            if found.kind is Kind.TEMPLATE:
                application, problems = load_template(
                    found.path, found.display, max_bytes=config.max_file_bytes, root=folder
                )
            elif found.kind is Kind.SERVERLESS:
                try:
                    application, problems = load_serverless(
                        found.path, found.display, root=folder, max_bytes=config.max_file_bytes
                    )
                except UnsupportedProvider:
                    continue
            elif found.kind is Kind.JSON:
                text = read_text(found.path, found.display, config.max_file_bytes)
                data = parse_json(text, found.display)
                if not is_template(data):
                    continue
                application, problems = resources_to_model(
                    data, found.display, JsonLines(text), base_dir=found.path.parent, root=folder
                )
            elif found.kind is Kind.TERRAFORM:
                terraform.append(found.path)
                continue
            else:
                continue
        except LoaderError as exc:
            errors.append(ScanError(exc.path, exc.detail, exc.line))
            continue
        applications.append(application)
        errors.extend(problems)
    if terraform:
        for files in root_module_folders(folder, terraform):
            relative = files[0].parent.relative_to(folder) if files[0].parent != folder else None
            given = path if root.is_dir() else str(PurePosixPath(path).parent)
            display = display_path(given, PurePosixPath(relative.as_posix()) if relative else None)
            application, problems = load_terraform(
                folder, display, files, max_bytes=config.max_file_bytes
            )
            applications.append(application)
            errors.extend(problems)
    return applications, errors


def generate(
    path: str, function: str | None = None, config: Config | None = None
) -> tuple[list[Generated], list[ScanError]]:
    """The policy of every function under `path` (or of the one named `function`)."""
    config = config or Config()
    applications, errors = load_applications(path, config)
    root = Path(path) if Path(path).is_dir() else Path(path).parent
    data = sdk_data()
    cache = SourceCache()
    found: list[Generated] = []
    for application in applications:
        for fn in application.functions:
            if function is not None and fn.origin.resource != function:
                continue
            extraction = extract(fn, root, data, max_bytes=config.max_file_bytes, cache=cache)
            needed = requirements(extraction, fn.environment, data)
            policy = minimal_policy(needed.needs) if extraction.complete else None
            found.append(Generated(fn, extraction, needed, policy))
            errors.extend(extraction.errors)
    found.sort(key=lambda g: (g.function.origin.path.as_posix(), g.name))
    unique = sorted(set(errors), key=lambda e: (e.path.as_posix(), e.line or 0, e.message))
    return found, unique


# --- rendering -------------------------------------------------------------------------


def render(generated: Sequence[Generated], fmt: str) -> str:
    if fmt == "json":
        return _json(generated)
    if fmt == "yaml":
        return _yaml(generated, sam=False)
    if fmt == "sam":
        return _yaml(generated, sam=True)
    if fmt == "terraform":
        return _terraform(generated)
    raise ValueError(f"unknown format {fmt!r}")


def _entry(item: Generated) -> dict[str, Any]:
    level, reason = item.confidence()
    notes = [
        {"path": n.path.as_posix(), "line": n.line, "kind": n.kind.value, "message": n.message}
        for n in (*item.extraction.notes, *item.requirements.notes)
    ]
    calls = [
        {
            "path": c.path.as_posix(),
            "line": c.line,
            "method": c.method,
            "service": c.service,
            "operations": list(c.operations),
        }
        for c in item.extraction.calls
    ]
    return {
        "function": item.name,
        "defined_in": item.function.origin.path.as_posix(),
        "source": item.extraction.entry.as_posix() if item.extraction.entry else None,
        "not_analysed": item.extraction.missing or None,
        "confidence": level,
        "confidence_reason": reason,
        "calls": calls,
        "notes": sorted(notes, key=lambda n: (n["path"], n["line"], n["message"])),
        "policy": item.policy,
    }


def _json(generated: Sequence[Generated]) -> str:
    document = {"schema_version": 1, "functions": [_entry(g) for g in generated]}
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _header(item: Generated) -> list[str]:
    where = f"# {item.name} ({item.function.origin.path.as_posix()})"
    if item.policy is None:
        return [f"{where}: no policy, {item.confidence()[1]}"]
    level, reason = item.confidence()
    lines = [f"{where}: extraction confidence {level}"]
    if reason:
        lines.append(f"#   {reason}")
    return lines


_PSEUDO = re.compile(r"\$\{AWS::[A-Za-z]+\}")


# An empty `Statement` list is not a valid policy; say what it means instead.
_NOTHING = "# no AWS SDK calls found: nothing to grant beyond the execution role"


def _yaml(generated: Sequence[Generated], *, sam: bool) -> str:
    out: list[str] = []
    for item in generated:
        out.extend(_header(item))
        if item.policy is None:
            out.append("")
            continue
        if not item.policy["Statement"]:
            out.extend([_NOTHING, ""])
            continue
        indent = "      " if sam else "  "
        if sam:
            out.append(f"{item.name}:")
            out.append("  Properties:")
            out.append("    Policies:")
            out.append(f"      - Version: {_quote(item.policy['Version'])}")
            out.append("        Statement:")
            indent = "          "
        else:
            out.append(f"{item.name}:")
            out.append(f"  Version: {_quote(item.policy['Version'])}")
            out.append("  Statement:")
            indent = "    "
        for statement in item.policy["Statement"]:
            out.append(f"{indent}- Effect: Allow")
            out.append(f"{indent}  Action:")
            out.extend(f"{indent}    - {_quote(a)}" for a in statement["Action"])
            out.append(f"{indent}  Resource:")
            for resource in statement["Resource"]:
                tagged = sam and "${" in resource
                out.append(f"{indent}    - {'!Sub ' if tagged else ''}{_quote(resource)}")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


_TERRAFORM_PSEUDO = {
    "${AWS::Partition}": "${data.aws_partition.current.partition}",
    "${AWS::Region}": "${data.aws_region.current.name}",
    "${AWS::AccountId}": "${data.aws_caller_identity.current.account_id}",
}


def _hcl_string(text: str) -> str:
    parts = re.split(r"(\$\{[^}]*\})", text)
    out = []
    for part in parts:
        if part in _TERRAFORM_PSEUDO:
            out.append(_TERRAFORM_PSEUDO[part])
        elif part.startswith("${"):
            out.append("$" + part)
        else:
            out.append(part.replace("\\", "\\\\").replace('"', '\\"').replace("%{", "%%{"))
    return '"' + "".join(out) + '"'


def _identifier(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_]", "_", re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)).lower()
    return cleaned if cleaned[:1].isalpha() else f"fn_{cleaned}"


def _terraform(generated: Sequence[Generated]) -> str:
    out = [
        'data "aws_partition" "current" {}',
        'data "aws_region" "current" {}',
        'data "aws_caller_identity" "current" {}',
        "",
    ]
    for item in generated:
        out.extend(_header(item))
        if item.policy is None:
            out.append("")
            continue
        if not item.policy["Statement"]:
            out.extend([_NOTHING, ""])
            continue
        written = [r for s in item.policy["Statement"] for r in s["Resource"]]
        if any("${" in _PSEUDO.sub("", r) for r in written):
            out.append(
                "#   `$${Name}` is a CloudFormation reference: replace it with the resource's name"
            )
        out.append(f'data "aws_iam_policy_document" "{_identifier(item.name)}" {{')
        for statement in item.policy["Statement"]:
            actions = ", ".join(_quote(a) for a in statement["Action"])
            resources = ", ".join(_hcl_string(r) for r in statement["Resource"])
            out.append("  statement {")
            out.append('    effect    = "Allow"')
            out.append(f"    actions   = [{actions}]")
            out.append(f"    resources = [{resources}]")
            out.append("  }")
        out.append("}")
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


# --- command ---------------------------------------------------------------------------


@click.command("generate")
@click.argument("path", type=click.Path(exists=True))
@click.option("--function", "function", help="Only this function (its logical name).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="json", show_default=True)
def generate_command(path: str, function: str | None, fmt: str) -> None:
    """Print the least-privilege policy each function's handler code needs."""
    generated, errors = generate(path, function)
    if function is not None and not generated:
        click.echo(f"lambdashield: error: no function named {function!r} under {path}", err=True)
        sys.exit(2)
    if not generated:
        click.echo(f"lambdashield: error: no functions found under {path}", err=True)
        sys.exit(2)
    click.echo(render(generated, fmt), nl=False)
    for error in errors:
        where = f"{error.path}:{error.line}" if error.line else str(error.path)
        click.echo(f"lambdashield: error: {where}: {error.message}", err=True)
    unanalysed = function is not None and any(g.policy is None for g in generated)
    sys.exit(2 if errors or unanalysed else 0)
