"""Scaffold a rule: its function in the family module, its fixtures and its docs page.

    python scripts/new_rule.py LS-IAM-013 passrole-to-any-service

Writes a check that yields nothing, with a docstring to fill in, appends it to the family's
`RULES` tuple, creates `tests/fixtures/rules/<ID>/` with an empty expectation, and
regenerates `docs/rules/`. The fixture test fails until the positive fixture and the check
agree, which is the point.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECKS = ROOT / "src" / "lambdashield" / "checks"
FIXTURES = ROOT / "tests" / "fixtures" / "rules"

# Family -> (module in checks/, model type its rules take, fixture suffix).
FAMILIES = {"IAM": ("iam", "PolicyView", "json")}

TEMPLATE = '''

@rule(
    id="{rule_id}",
    title="TODO: name the problem",
    severity=Severity.MEDIUM,
    confidence=Confidence.MEDIUM,
    cwe=0,
    since="{version}",
    lifecycle=Lifecycle.PREVIEW,
)
def {function}(policy: {scope}) -> Iterator[Hit]:
    """TODO: what the rule flags.

    ## Why it matters
    TODO

    ## Fix
    TODO
    """
    yield from ()
'''


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rule_id", help="LS-<FAMILY>-<NNN>")
    parser.add_argument("name", help="kebab-case name, e.g. passrole-to-any-service")
    args = parser.parse_args(argv)
    match = re.fullmatch(r"LS-([A-Z]+)-(\d{3})", args.rule_id)
    if not match or match[1] not in FAMILIES:
        parser.error(f"{args.rule_id}: expected LS-<{'|'.join(FAMILIES)}>-<NNN>")
    if not re.fullmatch(r"[a-z][a-z0-9-]*", args.name):
        parser.error(f"{args.name}: expected a kebab-case name")
    module_name, scope, suffix = FAMILIES[match[1]]
    module = CHECKS / f"{module_name}.py"
    source = module.read_text(encoding="utf-8")
    if f'id="{args.rule_id}"' in source:
        parser.error(f"{args.rule_id} already exists in {module.relative_to(ROOT)}")
    function = args.name.replace("-", "_")
    version = re.search(r'__version__ = "([^"]+)"', (CHECKS.parent / "__init__.py").read_text())
    head, sep, tail = source.rpartition("\n\nRULES = (")
    if not sep:
        parser.error(f"{module.relative_to(ROOT)} has no RULES tuple")
    tail = tail.replace("\n)", f"\n    {function},\n)", 1)
    rule_source = TEMPLATE.format(
        rule_id=args.rule_id,
        version=version[1] if version else "0.0.0",
        function=function,
        scope=scope,
    )
    if "Lifecycle" not in head:
        head = re.sub(
            r"from lambdashield\.model import ([^\n]+)",
            lambda m: f"from lambdashield.model import Lifecycle, {m[1]}",
            head,
            count=1,
        )
    module.write_text(head + rule_source + sep + tail, encoding="utf-8")

    folder = FIXTURES / args.rule_id
    folder.mkdir(parents=True, exist_ok=False)
    for name in (f"positive.{suffix}", f"negative.{suffix}"):
        (folder / name).write_text('{"Version": "2012-10-17", "Statement": []}\n', "utf-8")
    (folder / "expected.json").write_text("[]\n", encoding="utf-8")

    # The docs come from this checkout's source, not from whatever copy is installed.
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_rule_docs.py")], check=True, env=env
    )
    print(f"added {args.rule_id} to {module.relative_to(ROOT)} and {folder.relative_to(ROOT)}/")
    print("next: write the check, its fixtures, and a CHANGELOG line under Rules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
