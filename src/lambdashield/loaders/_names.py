"""File names each loader reads, apart from the loaders themselves.

Discovery classifies every file it walks; importing a loader (and its dependencies) only
to ask whether a name is one of its files would put that cost on every scan.
"""

from __future__ import annotations

import re

__all__ = ["HANDLER_FILE", "NPM_FILE", "PYTHON_FILE"]

PYTHON_FILE = re.compile(
    r"requirements.*\.txt|pyproject\.toml|Pipfile|Pipfile\.lock|poetry\.lock|uv\.lock"
    r"|pylock(\.[^.]+)?\.toml|pdm\.lock"
)
"""File names `load_python_file` reads."""

NPM_FILE = re.compile(
    r"package\.json|package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml"
)
"""File names `load_npm_file` reads."""

HANDLER_FILE = re.compile(r"[^/]+\.(?:py|js|mjs|cjs|ts|mts|cts)")
"""File names discovery passes to `load_handlers` as possible handler sources."""
