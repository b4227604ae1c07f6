"""Serverless Framework variables, resolved as far as the files themselves allow.

`${self:...}`, `${sls:stage}`, `${param:...}`, `${file(...)}` for YAML and JSON inside the
scanned folder, and the fallbacks of `${opt:...}` resolve here. Nothing is ever run and
nothing is read from AWS or from the scanning machine: `${env:...}` reads only the mapping
the caller passes, JavaScript files are never loaded, and `${ssm:...}`, `${cf:...}`,
`${s3:...}` and `${aws:accountId}` become `Unresolved` values with the reason, so rules see
them as unknown rather than as safe.

Resolution is lazy and memoised per node, so each part of the configuration is worked out
once however often it is referenced. A reference back to a node still being resolved is a
circular reference: it becomes `Unresolved` and an error naming the chain, and the rest of
the file still resolves. Nesting, included files and the length of built strings are
capped, so no input can make resolution hang or explode.

Mappings and lists written in the scanned file remember where (`pointer_of`): one reached
through `${self:custom.env}` points at `/custom/env`. Those read from other files have no
place in the scanned file, so callers point at where they reached them.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from lambdashield.errors import LoaderError
from lambdashield.loaders._json import JsonLines, escape_pointer, parse_json, read_text
from lambdashield.loaders._paths import real_path
from lambdashield.loaders._yaml import load_yaml
from lambdashield.model import ScanError, Unresolved

__all__ = ["MAX_DEPTH", "MAX_FILES", "MAX_TEXT", "Resolver", "unescape_pointer"]

MAX_DEPTH = 64
"""Variables inside variables (or references chained through each other) this deep."""
MAX_FILES = 100
"""Distinct `${file(...)}` targets read for one configuration."""
MAX_TEXT = 1_000_000
"""Characters in one string built by interpolation."""

Lines = Callable[[str], "tuple[int | None, int | None]"]

# `${source:` or `${source(`; `${AWS::Region}` and `${Bucket.Arn}` are CloudFormation's.
_SOURCE = re.compile(r"\s*([A-Za-z][A-Za-z0-9]*)(?:\(|:(?!:))")
_REFERENCE = re.compile(r"([A-Za-z][A-Za-z0-9]*)(?:\(([^)]*)\))?(?::(.*))?", re.DOTALL)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_AWS_VARIABLES = frozenset({"accountId", "region"})
# IAM policy variables (`${aws:username}`, `${saml:sub}`) are left for IAM to evaluate.
_POLICY_VARIABLE_SOURCES = frozenset({"saml", "ec2", "iot", "sts"})
_REMOTE = {
    "ssm": "read from SSM Parameter Store at deploy time",
    "cf": "read from another CloudFormation stack's outputs at deploy time",
    "s3": "read from an S3 object at deploy time",
    "secretsmanager": "read from Secrets Manager at deploy time",
    "vault": "read from Vault at deploy time",
    "terraform": "read from Terraform state at deploy time",
    "doppler": "read from Doppler at deploy time",
    "git": "read from the git checkout when Serverless runs",
}
_SCRIPTS = frozenset({".js", ".cjs", ".mjs", ".ts", ".cts", ".mts"})
_DATA_FILES = frozenset({".yml", ".yaml", ".json"})


def unescape_pointer(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


@dataclass(frozen=True, slots=True)
class _Missing:
    """A variable source had no value: the next fallback applies, if there is one."""

    reason: str


@dataclass(frozen=True, slots=True)
class _Var:
    text: str
    """The whole `${...}` as written."""
    inner: str


@dataclass(frozen=True, slots=True)
class _Source:
    data: Any
    display: PurePosixPath
    lines: Lines


_Key = tuple[int, str]


class _Cycle(Exception):
    """Control flow inside the resolver, caught where the circular reference is written."""

    def __init__(self, chain: list[_Key]) -> None:
        super().__init__(chain)
        self.chain = chain


_ABSENT = object()


class Resolver:
    """Resolves one Serverless configuration; `errors` collects what went wrong."""

    def __init__(
        self,
        data: Any,
        display: PurePosixPath,
        lines: Lines,
        *,
        base_dir: Path,
        root: Path,
        max_bytes: int,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.display = display
        self.base_dir = base_dir
        self.root = real_path(root)
        self.max_bytes = max_bytes
        self.env = env
        self.errors: list[ScanError] = []
        self._sources = [_Source(data, display, lines)]
        self._files: dict[Path, int | Unresolved] = {}
        self._memo: dict[_Key, Any] = {}
        self._active: dict[_Key, None] = {}
        self._where: dict[int, str] = {}
        self._depth = 0
        self._stage: str | None = None
        self._region: str | None = None

    # --- public ------------------------------------------------------------------------

    def value(self, pointer: str = "") -> Any:
        """The fully resolved value at a pointer of the main file (`None` when absent)."""
        tokens = [unescape_pointer(t) for t in pointer.split("/")[1:]] if pointer else []
        found = self._walk(0, tokens)
        return None if isinstance(found, _Missing) else found

    def pointer_of(self, container: object, default: str) -> str:
        """Where a resolved mapping or list was written, or `default` when unknown."""
        return self._where.get(id(container), default)

    def stage(self) -> str:
        """`${sls:stage}`: `provider.stage` (CLI options are never known), else `dev`."""
        if self._stage is None:
            self._stage = self._setting("stage", "dev")
        return self._stage

    def region(self) -> str:
        """`${aws:region}`: `provider.region`, else Serverless's default `us-east-1`."""
        if self._region is None:
            self._region = self._setting("region", "us-east-1")
        return self._region

    # --- nodes -------------------------------------------------------------------------

    def _setting(self, name: str, default: str) -> str:
        try:
            found = self._walk(0, ["provider", name])
        except _Cycle:
            found = None
        return found if isinstance(found, str) and found else default

    def _walk(self, src: int, tokens: list[str], seen: tuple[_Key, ...] = ()) -> Any:
        """Follow `tokens` from a source's root, resolving only what lies on the way.

        A reference on the way (`custom: ${file(custom.yml)}`) is followed, not resolved
        whole, so `${self:custom.a}` inside `custom.yml` is not a circular reference."""
        raw = self._sources[src].data
        pointer = ""
        for index, token in enumerate(tokens):
            if isinstance(raw, str) and "${" in raw:
                rest = tokens[index:]
                target = self._redirect(src, pointer, raw) if len(seen) < MAX_DEPTH else None
                if target is not None:
                    key = (src, pointer)
                    if key in seen:
                        raise _Cycle([*seen[seen.index(key) :], key])
                    found = self._walk(target[0], [*target[1], *rest], (*seen, key))
                    if not isinstance(found, _Missing):
                        return found
                current = self._node(src, pointer, raw)
                return _descend(current, rest, ".".join(tokens[:index]))
            child = _child(raw, token)
            if child is _ABSENT:
                return _Missing(f"`{'.'.join(tokens[: index + 1])}` is not set")
            raw = child
            pointer = f"{pointer}/{escape_pointer(token)}"
        return self._node(src, pointer, raw)

    def _redirect(self, src: int, pointer: str, raw: str) -> tuple[int, list[str]] | None:
        """Where a string that is one `${self:...}` or `${file(...)}` reference points."""
        segments = _split(raw)
        if len(segments) != 1 or not isinstance(segments[0], _Var):
            return None
        first: Any = _operands(segments[0].inner)[0].strip()
        if "${" in first:
            first = self._string(src, pointer, first)
            if not isinstance(first, str):
                return None
        match = _REFERENCE.fullmatch(first)
        if match is None:
            return None
        source, param, address = match[1], match[2], (match[3] or "").strip()
        if source == "self":
            return 0, _tokens(address)
        if source == "file" and param is not None:
            loaded = self._file_source(param, segments[0].text, src, pointer)
            if isinstance(loaded, int):
                return loaded, _tokens(address)
        return None

    def _node(self, src: int, pointer: str, raw: Any) -> Any:
        if isinstance(raw, str):
            if "${" not in raw:
                return raw
        elif not isinstance(raw, (dict, list)):
            return raw
        key = (src, pointer)
        found = self._memo.get(key, _ABSENT)
        if found is not _ABSENT:
            return found
        if key in self._active:
            chain = list(self._active)
            raise _Cycle([*chain[chain.index(key) :], key])
        self._active[key] = None
        try:
            out: Any
            if isinstance(raw, dict):
                out = {}
                if src == 0:
                    self._where[id(out)] = pointer
                for k, v in raw.items():
                    out[k] = self._node(src, f"{pointer}/{escape_pointer(str(k))}", v)
            elif isinstance(raw, list):
                out = []
                if src == 0:
                    self._where[id(out)] = pointer
                for i, v in enumerate(raw):
                    out.append(self._node(src, f"{pointer}/{i}", v))
            else:
                out = self._string(src, pointer, raw)
        finally:
            del self._active[key]
        self._memo[key] = out
        return out

    # --- strings and variables ---------------------------------------------------------

    def _string(self, src: int, pointer: str, text: str) -> Any:
        segments = _split(text)
        if not any(isinstance(s, _Var) for s in segments):
            return text
        if len(segments) == 1 and isinstance(segments[0], _Var):
            return self._variable(src, pointer, segments[0])
        parts: list[str] = []
        reasons: list[str] = []
        size = 0
        for segment in segments:
            if isinstance(segment, str):
                piece = segment
            else:
                value = self._variable(src, pointer, segment)
                piece, reason = _as_text(segment, value)
                if reason:
                    reasons.append(reason)
            size += len(piece)
            if size > MAX_TEXT:
                return Unresolved(
                    text[:200], f"interpolation builds more than {MAX_TEXT:,} characters"
                )
            parts.append(piece)
        joined = "".join(parts)
        if reasons:
            return Unresolved(joined, "; ".join(dict.fromkeys(reasons)))
        return joined

    def _variable(self, src: int, pointer: str, var: _Var, *, missing_ok: bool = False) -> Any:
        """One `${...}`: its value, `Unresolved`, or (`missing_ok`) `_Missing`."""
        if self._depth >= MAX_DEPTH:
            self._error(src, pointer, f"variables nest more than {MAX_DEPTH} levels deep")
            return Unresolved(var.text, f"variables nest more than {MAX_DEPTH} levels deep")
        self._depth += 1
        try:
            missing = _Missing("the variable is empty")
            for operand in _operands(var.inner):
                try:
                    value = self._operand(src, pointer, operand)
                except _Cycle as cycle:
                    chain = " -> ".join(self._describe(k) for k in cycle.chain)
                    self._error(src, pointer, f"circular variable reference: {chain}")
                    return Unresolved(var.text, f"circular reference: {chain}")
                if isinstance(value, _Missing):
                    missing = value
                    continue
                return value
            return missing if missing_ok else Unresolved(var.text, missing.reason)
        finally:
            self._depth -= 1

    def _operand(self, src: int, pointer: str, text: str) -> Any:
        text = text.strip()
        if not text:
            return _Missing("the fallback is empty")
        segments = _split(text)
        if len(segments) == 1 and isinstance(segments[0], _Var):
            return self._variable(src, pointer, segments[0], missing_ok=True)
        if len(text) >= 2 and text[0] in "'\"" and text[-1] == text[0]:
            return text[1:-1]
        if _NUMBER.fullmatch(text):
            return float(text) if "." in text else int(text)
        literals: dict[str, Any] = {"null": None, "true": True, "false": False}
        if text in literals:
            return literals[text]
        if "${" in text:
            address = self._string(src, pointer, text)
            if not isinstance(address, str):
                return _unknown(address, "${" + text + "}", "the address depends on ")
            text = address
        match = _REFERENCE.fullmatch(text)
        if match is None or (match[2] is None and match[3] is None):
            return Unresolved(
                "${" + text + "}", f"`{text}` is neither a quoted string nor a variable"
            )
        return self._reference(src, pointer, match[1], match[2], match[3] or "", text)

    def _reference(
        self, src: int, pointer: str, source: str, param: str | None, address: str, text: str
    ) -> Any:
        expression = "${" + text + "}"
        address = address.strip()
        if source == "self":
            found = self._walk(0, _tokens(address))
            if found is None:
                return _Missing(f"`{address}` is null")
            return found
        if source == "opt":
            return _Missing("command-line options are not known when scanning")
        if source == "sls":
            if address == "stage":
                return self.stage()
            return Unresolved(expression, "known only when Serverless runs")
        if source == "env":
            if self.env is None:
                return _Missing(
                    "environment variables of the scanning machine are not read "
                    "unless they are passed to the scan"
                )
            if address in self.env:
                return self.env[address]
            return _Missing(f"`{address}` is not in the environment passed to the scan")
        if source == "param":
            return self._param(address)
        if source == "file":
            return self._file(src, pointer, param or "", address, expression)
        if source == "strToBool":
            flag = (param or "").strip().strip("'\"").lower()
            if flag in ("true", "1"):
                return True
            if flag in ("false", "0"):
                return False
            return Unresolved(expression, "strToBool needs true, false, 1 or 0")
        if source == "aws":
            if address == "region":
                return self.region()
            return Unresolved(expression, "the AWS account is known only at deploy time")
        remote = _REMOTE.get(source)
        if remote is not None:
            return Unresolved(expression, remote)
        return Unresolved(
            expression, f"unknown variable source `{source}` (plugin sources are not resolved)"
        )

    def _param(self, name: str) -> Any:
        stage = self.stage()
        for tokens in (
            ["stages", stage, "params", name],
            ["params", stage, name],
            ["stages", "default", "params", name],
            ["params", "default", name],
        ):
            found = self._walk(0, tokens)
            if found is not None and not isinstance(found, _Missing):
                return found
        return _Missing(
            f"parameter `{name}` has no value for stage `{stage}` or `default` in the file"
        )

    # --- files -------------------------------------------------------------------------

    def _file(self, src: int, pointer: str, param: str, address: str, expression: str) -> Any:
        loaded = self._file_source(param, expression, src, pointer)
        if not isinstance(loaded, int):
            return loaded
        return self._walk(loaded, _tokens(address))

    def _file_source(
        self, param: str, expression: str, src: int, pointer: str
    ) -> int | Unresolved | _Missing:
        """The source index of a `${file(...)}` target, or why it cannot be read."""
        name = param.strip().strip("'\"")
        suffix = PurePosixPath(name).suffix.lower()
        if suffix in _SCRIPTS:
            return Unresolved(expression, "JavaScript and TypeScript files are never run")
        if suffix not in _DATA_FILES:
            return Unresolved(expression, "only YAML and JSON files are read")
        # Serverless resolves every `file(...)` against the service folder.
        target = real_path(self.base_dir / name)
        if not target.is_relative_to(self.root):
            # An error entry, not only an unknown value: the configuration depends on a
            # file the scan was not allowed to read, so its result is incomplete.
            self._error(
                src,
                pointer,
                f"`{expression}` reads {name}, outside the scanned folder, which is never "
                "read; scan a folder that holds both",
            )
            return Unresolved(expression, f"{name} is outside the scanned folder and is not read")
        if not target.is_file():
            return _Missing(f"{name} does not exist")
        return self._load(target, src, pointer, expression)

    def _load(self, target: Path, src: int, pointer: str, expression: str) -> int | Unresolved:
        cached = self._files.get(target)
        if cached is not None:
            return cached
        if len(self._files) >= MAX_FILES:
            self._error(src, pointer, f"more than {MAX_FILES} files included with ${{file()}}")
            return Unresolved(expression, f"more than {MAX_FILES} files included")
        relative = os.path.relpath(target, real_path(self.base_dir))
        display = PurePosixPath(
            posixpath.normpath(self.display.parent / PurePosixPath(*Path(relative).parts))
        )
        loaded: int | Unresolved
        try:
            text = read_text(target, display, self.max_bytes)
            if target.suffix.lower() == ".json":
                data = parse_json(text, display)
                lines: Lines = JsonLines(text)
            else:
                document = load_yaml(text, display)
                data, lines = document.data, document.lines
        except LoaderError as exc:
            self.errors.append(ScanError(exc.path, exc.detail, exc.line))
            loaded = Unresolved(expression, f"{display} cannot be read: {exc.detail}")
        else:
            self._sources.append(_Source(data, display, lines))
            loaded = len(self._sources) - 1
        self._files[target] = loaded
        return loaded

    # --- errors ------------------------------------------------------------------------

    def _error(self, src: int, pointer: str, message: str) -> None:
        source = self._sources[src]
        self.errors.append(ScanError(source.display, message, source.lines(pointer)[0]))

    def _describe(self, key: _Key) -> str:
        src, pointer = key
        dotted = ".".join(unescape_pointer(t) for t in pointer.split("/")[1:]) or "(root)"
        return dotted if src == 0 else f"{self._sources[src].display}:{dotted}"


# --- parsing ---------------------------------------------------------------------------


def _split(text: str) -> list[str | _Var]:
    """Literal text and `${...}` variables; CloudFormation's `${...}` stays literal."""
    out: list[str | _Var] = []
    start = search = 0
    while True:
        begin = text.find("${", search)
        if begin < 0:
            break
        end = _closing(text, begin + 2)
        if end < 0:
            break
        inner = text[begin + 2 : end]
        if not _is_variable(inner):
            search = begin + 2
            continue
        if begin > start:
            out.append(text[start:begin])
        out.append(_Var(text[begin : end + 1], inner))
        start = search = end + 1
    if start < len(text) or not out:
        out.append(text[start:])
    return out


def _closing(text: str, index: int) -> int:
    """Index of the `}` closing a `${` whose content starts at `index`, or -1."""
    depth = 1
    length = len(text)
    while index < length:
        char = text[index]
        if char in "'\"":
            quote_end = text.find(char, index + 1)
            if quote_end < 0:
                return -1
            index = quote_end
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    return -1


def _is_variable(inner: str) -> bool:
    match = _SOURCE.match(inner)
    if match is None:
        return False
    source = match[1]
    if source == "aws":
        address = inner[match.end() :].split(",", 1)[0].strip()
        return address in _AWS_VARIABLES
    return source not in _POLICY_VARIABLE_SOURCES


def _operands(inner: str) -> list[str]:
    """Split `a, b, 'c'` at top-level commas (not inside quotes, `${}` or `()`)."""
    parts: list[str] = []
    depth = 0
    start = 0
    index = 0
    length = len(inner)
    while index < length:
        char = inner[index]
        if char in "'\"":
            quote_end = inner.find(char, index + 1)
            index = length if quote_end < 0 else quote_end
        elif char in "{(":
            depth += 1
        elif char in "})":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(inner[start:index])
            start = index + 1
        index += 1
    parts.append(inner[start:])
    return parts


def _tokens(address: str) -> list[str]:
    return [t for t in address.split(".") if t] if address else []


def _child(container: Any, token: str) -> Any:
    if isinstance(container, dict):
        return container.get(token, _ABSENT)
    if isinstance(container, list) and token.isdigit():
        index = int(token)
        return container[index] if index < len(container) else _ABSENT
    return _ABSENT


def _descend(value: Any, tokens: list[str], prefix: str) -> Any:
    """Walk an already resolved value; unknown values stay unknown."""
    for index, token in enumerate(tokens):
        if isinstance(value, (Unresolved, _Missing)):
            return value
        value = _child(value, token)
        if value is _ABSENT:
            path = ".".join(filter(None, [prefix, *tokens[: index + 1]]))
            return _Missing(f"`{path}` is not set")
    return value


def _as_text(var: _Var, value: Any) -> tuple[str, str]:
    """A variable's value inside a larger string, and why it is unknown (if it is)."""
    if isinstance(value, Unresolved):
        return var.text, value.reason or f"{value.expression} is unknown"
    if isinstance(value, (dict, list)):
        return var.text, f"{var.text} is a mapping or a list and cannot be part of a string"
    if value is None:
        return var.text, f"{var.text} is null"
    if isinstance(value, bool):
        return ("true" if value else "false"), ""
    return str(value), ""


def _unknown(value: Any, expression: str, prefix: str) -> Unresolved:
    if isinstance(value, Unresolved):
        return Unresolved(expression, prefix + (value.reason or value.expression))
    return Unresolved(expression, prefix + "a value that is not a string")
