"""Walking the scanned paths and deciding what each file is.

Never follows a link out of the scanned root, never enters a link loop, skips what
`.gitignore` and the `exclude` setting exclude, and names every recognised format it
cannot analyse yet instead of passing it by.
"""

from __future__ import annotations

import contextlib
import enum
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from lambdashield.loaders._names import HANDLER_FILE, NPM_FILE, PYTHON_FILE
from lambdashield.model import ScanError, SkippedInput

__all__ = ["Candidate", "Kind", "discover", "display_path"]

SKIPPED_DIRS = frozenset(
    {".git", ".hg", ".svn", ".venv", "venv", "__pycache__", ".tox", ".nox"}
    | {".mypy_cache", ".ruff_cache", ".pytest_cache", ".serverless", ".terraform"}
    # `sam build` output: a second copy of the application the source template describes,
    # which would report every finding twice. Scanned by name, it is read.
    | {".aws-sam"}
)


class Kind(enum.Enum):
    JSON = "json"
    """A JSON file that may be an IAM policy or a template; its content decides."""
    TEMPLATE = "template"
    """A YAML CloudFormation or SAM template."""
    SERVERLESS = "serverless"
    """A Serverless Framework `serverless.yml|yaml|json`."""
    PYTHON_DEPENDENCIES = "python-dependencies"
    """A requirements file, `pyproject.toml`, `Pipfile` or a Python lockfile."""
    NPM_DEPENDENCIES = "npm-dependencies"
    """`package.json` or an npm, Yarn or pnpm lockfile."""
    SITE_PACKAGES = "site-packages"
    """A folder of installed Python distributions (`*.dist-info`): a build or a layer."""
    NODE_MODULES = "node-modules"
    """An installed `node_modules` tree."""
    DEPLOYMENT_ZIP = "deployment-zip"
    """A deployment package (`*.zip`): its installed packages are read in place."""
    HANDLER_SOURCE = "handler-source"
    """A `*.py`, `*.js` or `*.ts` file: the engine reads those a template names as a
    handler, and those that define one (`loaders/handlers.py`)."""
    TERRAFORM = "terraform"
    """A `*.tf` or `*.tf.json` file; the engine loads each root module folder as one
    application. `cdktf synth` output (`cdktf.out/stacks/<stack>/cdk.tf.json`) is read like
    any other; its provider cache (`.terraform`) is skipped."""


@dataclass(frozen=True, slots=True)
class Candidate:
    path: Path
    display: PurePosixPath
    kind: Kind


_NOT_YET = (
    (re.compile(r"serverless\.(ts|js|cjs|mjs)$"), "serverless.ts/js is code and is never run"),
    (re.compile(r"zappa_settings\.(json|ya?ml|toml)$"), "Zappa projects are not analysed"),
)
_SERVERLESS = re.compile(r"serverless\.(ya?ml|json)")
_NOT_POLICY_JSON = frozenset(
    {"tsconfig.json", "jsconfig.json", "composer.json", ".eslintrc.json"}
    | {"cdk.json", "cdktf.json", "tslint.json", ".babelrc.json", "launch.json", "settings.json"}
)
_COMPILER_CONFIG = re.compile(r"[tj]sconfig\.[^/]+\.json")
"""`tsconfig.base.json`, `tsconfig.build.json`: JSON with comments, never a policy."""
_TEMPLATE_MARKERS = ("AWSTemplateFormatVersion", "AWS::Serverless", "AWS::Lambda::", "AWS::IAM::")


def display_path(given: str, relative: PurePosixPath | None = None) -> PurePosixPath:
    """A path as the user typed it, joined with the part found below it."""
    base = PurePosixPath(given.replace(os.sep, "/"))
    return base / relative if relative is not None else base


def discover(
    given: str,
    *,
    exclude: Sequence[str] = (),
    max_files: int,
    max_file_bytes: int,
    policies_only: bool = False,
) -> Iterator[Candidate | SkippedInput | ScanError]:
    root = Path(given)
    display_root = display_path(given)
    if root.is_symlink() and not root.exists():
        yield ScanError(display_root, "link target does not exist")
        return
    if not root.exists():
        yield ScanError(display_root, "no such file or directory")
        return
    if root.is_file():
        if policies_only:
            yield Candidate(root, display_root, Kind.JSON)
        else:
            yield from _classify(root, display_root, max_file_bytes, explicit=True)
        return
    real_root = root.resolve()
    ignore = _Ignore.from_root(real_root, exclude)
    seen = 0
    stack = [(root, PurePosixPath())]
    while stack:
        directory, rel = stack.pop()
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            yield ScanError(display_path(given, rel), f"cannot list directory: {exc.strerror}")
            continue
        subdirs = []
        if any(e.name.endswith((".dist-info", ".egg-info")) for e in entries):
            # Installed distributions: read their metadata as one set, never their code.
            seen += 1
            yield Candidate(Path(directory), display_path(given, rel), Kind.SITE_PACKAGES)
            continue
        for entry in entries:
            rel_path = rel / entry.name
            shown = display_path(given, rel_path)
            is_dir = entry.is_dir(follow_symlinks=False)
            if ignore.matches(rel_path, is_dir):
                continue
            if entry.is_symlink():
                problem = _link_problem(Path(entry.path), real_root)
                if problem:
                    yield SkippedInput(shown, problem)
                    continue
                if Path(entry.path).is_dir():
                    # The target is inside the root, so it is scanned under its real name.
                    continue
            if is_dir:
                if entry.name == "node_modules":
                    seen += 1
                    yield Candidate(Path(entry.path), shown, Kind.NODE_MODULES)
                elif entry.name not in SKIPPED_DIRS:
                    subdirs.append((Path(entry.path), rel_path))
                continue
            if not entry.is_file():
                continue
            seen += 1
            if seen > max_files:
                yield ScanError(display_root, f"more than {max_files:,} files; the rest skipped")
                return
            yield from _classify(Path(entry.path), shown, max_file_bytes, explicit=False)
        stack.extend(reversed(subdirs))


def _link_problem(link: Path, real_root: Path) -> str | None:
    try:
        target = link.resolve(strict=True)
    except RuntimeError:
        return "symbolic link loop; not followed"
    except OSError as exc:
        if exc.errno == 40:  # ELOOP
            return "symbolic link loop; not followed"
        return "link target does not exist"
    if target != real_root and real_root not in target.parents:
        return "link points outside the scanned folder; not followed"
    return None


def _classify(
    path: Path, shown: PurePosixPath, max_file_bytes: int, *, explicit: bool
) -> Iterator[Candidate | SkippedInput]:
    name = path.name
    if name == "config.json" and path.parent.name == ".chalice":
        yield SkippedInput(shown, "Chalice projects are not analysed (their app is Python code)")
        return
    for pattern, reason in _NOT_YET:
        if pattern.fullmatch(name):
            yield SkippedInput(shown, reason)
            return
    lower = name.lower()
    if PYTHON_FILE.fullmatch(name):
        yield Candidate(path, shown, Kind.PYTHON_DEPENDENCIES)
    elif NPM_FILE.fullmatch(name):
        yield Candidate(path, shown, Kind.NPM_DEPENDENCIES)
    elif _SERVERLESS.fullmatch(name):
        yield Candidate(path, shown, Kind.SERVERLESS)
    elif lower.endswith(".zip"):
        yield Candidate(path, shown, Kind.DEPLOYMENT_ZIP)
    elif lower.endswith((".tf", ".tf.json")):
        # Before `.json`: Terraform's JSON syntax is configuration, never a policy or plan.
        yield Candidate(path, shown, Kind.TERRAFORM)
    elif lower.endswith(".json"):
        if (name in _NOT_POLICY_JSON or _COMPILER_CONFIG.fullmatch(name)) and not explicit:
            return
        yield Candidate(path, shown, Kind.JSON)
    elif lower.endswith((".yaml", ".yml")) and _looks_like_template(path, max_file_bytes):
        yield Candidate(path, shown, Kind.TEMPLATE)
    elif HANDLER_FILE.fullmatch(name):
        yield Candidate(path, shown, Kind.HANDLER_SOURCE)


def _looks_like_template(path: Path, max_file_bytes: int) -> bool:
    try:
        with path.open("rb") as handle:
            head = handle.read(min(max_file_bytes, 65536)).decode("utf-8", "replace")
    except OSError:
        return False
    return any(marker in head for marker in _TEMPLATE_MARKERS)


_SYNTH_OUTPUT = frozenset({"cdk.out", "cdktf.out"})
"""What `cdk synth` and `cdktf synth` write: the templates that are deployed. Projects list
them in `.gitignore` (`cdk init` does), and a scan of the project must still read them."""


class _Ignore:
    """The subset of gitignore that repositories use: globs, `**`, anchors, `dir/`, `!`.

    `.gitignore` does not apply inside synth output folders (`_SYNTH_OUTPUT`); the
    configured `exclude` patterns apply everywhere.
    """

    def __init__(self, rules: list[tuple[re.Pattern[str], bool, bool, bool]]) -> None:
        self._rules = rules

    @classmethod
    def from_root(cls, root: Path, extra: Sequence[str]) -> _Ignore:
        lines: list[str] = []
        with contextlib.suppress(OSError):
            lines = (root / ".gitignore").read_text(encoding="utf-8", errors="replace").splitlines()
        rules = []
        for number, raw in enumerate((*lines, *extra)):
            from_gitignore = number < len(lines)
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            negate = line.startswith("!")
            line = line.lstrip("!")
            dir_only = line.endswith("/")
            line = line.strip("/") if dir_only else line
            anchored = "/" in line.lstrip("/") or raw.strip().lstrip("!").startswith("/")
            body = _glob_to_regex(line.lstrip("/"))
            regex = re.compile(body if anchored else f"(?:.*/)?{body}")
            rules.append((regex, negate, dir_only, from_gitignore))
        return cls(rules)

    def matches(self, rel: PurePosixPath, is_dir: bool) -> bool:
        text = rel.as_posix()
        synth = not _SYNTH_OUTPUT.isdisjoint(rel.parts)
        ignored = False
        for regex, negate, dir_only, from_gitignore in self._rules:
            if (dir_only and not is_dir) or (synth and from_gitignore):
                continue
            if regex.fullmatch(text):
                ignored = not negate
        return ignored


def _glob_to_regex(glob: str) -> str:
    out = []
    i = 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return "".join(out)
