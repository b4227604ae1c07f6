"""Terraform: a root module folder (its `*.tf` and `*.tf.json` files and local modules), or
a plan's JSON.

Parser choice, measured on a generated 3,900-line file with 300 `aws_lambda_function`
blocks (`python3 bench/templates_tf.py --parsers`; CPython 3.11, 2 cores): tree-sitter-hcl
1.2 imports in 4 ms, parses the file in 18-29 ms on the first call and 19 ms after, and is
walked (30,000 nodes) in 4 ms; python-hcl2 8.1.4 (checkov's parser) imports in 47 ms, takes
1.7 s on its first call after install while lark builds and caches its grammar, 0.43 s on a
first call with that cache and 0.54 s on every later call: about 27x slower per parse. So
tree-sitter it is (docs/decisions.md). This loader reads, evaluates and links the whole
300-function tree in 0.10-0.15 s; `checkov -d` takes 4.5 s on it. Files in Terraform's JSON
syntax (`cdktf synth` writes `cdk.tf.json`) become the same blocks and expressions
(`_tf_json.py`), so everything below reads both.

Nothing is executed: expressions are evaluated only as far as literals, `var.*` defaults
(or a local module's arguments), `local.*`, `path.*`, module outputs and a few pure
functions (`jsonencode`, `file` and `templatefile` inside the scanned root, `merge`,
`concat`, `join`, `format`, `lookup`, `try`, `length`, `keys`, `values`, `contains`,
`flatten`, `distinct`, `compact`, ...) allow. What is left becomes
`Unresolved(expression, reason)`; inside policy JSON it is written `${expression}`, as
Terraform does.

`for` expressions (`[for i, x in coll : value if cond]`, `{for k, v in coll : key =>
value}`, and `key => value...`, whose values of each key make a list) go through a known
list (index and element), map (key and value, in key order) or `toset(...)` (each element
once, in order, its own key); the iterator names are bound in the body only. When the
collection, a key or a condition is not known, the whole expression is unknown, with a
reason that names the part (`` `for` over var.functions: variable has no default``),
never guessed in part. A conditional takes the branch a known bool picks; `==`, `!=`,
`!`, `&&`, `||`, comparisons and `+ - * / %` work on known values (Terraform's `==` sees
a string and a number as different; collections are not compared, their types being
unknown here). A splat (`x[*].a`, `x.*.a`) maps a known list; a resource with `count`
is the list of its instances (`aws_iam_policy.worker[*].arn` is each instance's ARN, in
index order), one with `for_each` a map that `values(...)` lists in key order (a splat
of the map itself is Terraform's error, and unknown here), and one with neither is a
single element. A resource named without an attribute is such an object, read attribute
by attribute: `for r in aws_iam_role.this`, or a `for_each = aws_iam_role.this` whose
`each.value.arn` is each instance's own.

`dynamic "<type>"` blocks are expanded wherever nested blocks are read (a policy
document's `statement`s and their `principals` and `condition`s, a role's
`inline_policy`, a function's `environment`, ...): one block per element of `for_each`
(a list, a set or a map), the iterator (`statement.value`, or the `iterator` argument's
name) replaced by that element. Each generated block is at `<content block>/<key>` (the
list index, map key or set element: `.../dynamic/statement/0/content/admin`), with the
`content` block's lines. A `dynamic` block whose `for_each` is not known here generates
nothing known: a policy that holds one gets an attached policy of unknown permissions,
named after it (`data.aws_iam_policy_document.fn dynamic "statement" (for_each =
var.extra: variable has no default)`), so the role reads as incomplete, never as clean;
in a bucket's policy it is recorded on the bucket (`Bucket.policy_unknown`), which
LS-API-006 reports at the `dynamic` block when the bucket triggers a function.

A resource, data source or local module call whose `count` or `for_each` is known here
(from the same sources, a module's arguments included) is one instance per index or key,
at the address Terraform gives it (`aws_lambda_function.this["orders"]`,
`aws_iam_role.worker[0]`, `module.job["export"].aws_lambda_function.this`), with
`count.index`, `each.key` and `each.value` replaced in its attributes and nested blocks
(as a `dynamic` block's iterator is); `count = 0` or an empty collection makes none. A
resource or data source instance is at its block's pointer and `/<key>`
(`/resource/aws_lambda_function/this/orders`, `/resource/aws_iam_role/worker/0`), with
the block's lines; a module instance's resources keep their own pointers, their
addresses set them apart. A reference with an index (`aws_iam_role.this[each.key].arn`)
is to that instance; one to a resource with instances that names none of them is
Terraform's error, and unknown here, never one instance picked for it. When the
collection is not known here (a variable without a default, a resource attribute, a
`for` expression over either), there is one instance at the plain address, as
Terraform's own `count` and `each` values in it are unknown.

References between resources (`aws_iam_role.lambda.arn`) link the model: function ->
role -> every policy attached to it; triggers, URLs, permissions and notifications ->
function; a function's `layers` -> the `aws_lambda_layer_version`s it uses, whose local
content (`filename`, or an `archive_file`'s `source_dir`) is where their dependencies
are. Resource names are Terraform addresses as the user wrote them
(`aws_lambda_function.orders`, `module.api.aws_lambda_function.this`).

A plan is linked the same way, by the references its `configuration` section lists for
each attribute: the values it plans often are not known until apply (a new layer's ARN).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import posixpath
import re
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any, Protocol

from lambdashield.errors import LoaderError
from lambdashield.loaders._hcl import (
    Block,
    Call,
    Conditional,
    For,
    HclFile,
    HclSyntaxError,
    Opaque,
    Operation,
    Ref,
    Splat,
    Template,
    Traversal,
    parse_hcl,
    rebuilt,
    subexpressions,
)
from lambdashield.loaders._json import JsonLines, escape_pointer, parse_json, read_text
from lambdashield.loaders._suppressions import find_suppressions
from lambdashield.loaders._tf_json import is_tf_json, parse_tf_json
from lambdashield.loaders.policies import policy_from_json
from lambdashield.model import (
    Application,
    AuthKind,
    Authorization,
    Bucket,
    EnvVar,
    Function,
    Grant,
    GrantSource,
    Item,
    Layer,
    LineLookup,
    Origin,
    Permission,
    PolicyDocument,
    PublicAccessBlock,
    Role,
    ScanError,
    Statement,
    Suppression,
    TemplateValue,
    Trigger,
    TriggerKind,
    Unresolved,
)

__all__ = [
    "is_terraform_plan",
    "load_terraform",
    "read_terraform_plan",
    "root_module_folders",
]

MAX_MODULE_DEPTH = 8
MAX_MODULE_INSTANCES = 256
MAX_EVAL_DEPTH = 64
MAX_DYNAMIC_BLOCKS = 10_000
"""Blocks generated from `dynamic` blocks in one root module: a `dynamic` block nested in
another multiplies, and beyond this the rest are reported as not read."""
MAX_INSTANCES = 10_000
"""Instances of resources and data sources made by `count` and `for_each` in one root
module (every instance is a copy of its block): beyond this the rest are an error, not
read."""
MAX_FOR_ELEMENTS = 100_000
"""Elements `for` expressions go through in one root module: nested ones multiply, and
beyond this each one left is not known."""

_META_ARGUMENTS = frozenset(
    {"source", "version", "count", "for_each", "providers", "depends_on", "lifecycle"}
)
_MANAGED_PREFIX = re.compile(r"^arn:aws[a-z-]*:iam::aws:policy/")
_FUNCTION_ARN = re.compile(r"arn:aws[a-z-]*:lambda:[^:]*:[^:]*:function:([^:/]+)")
_LOCAL_SOURCE = re.compile(r"""\bsource\s*=\s*"(\.\.?/[^"]*)\"""")
_LOCAL_SOURCE_JSON = re.compile(r""""source"\s*:\s*"(\.\.?/[^"\\]*)\"""")
_PUBLIC_GROUPS = ("/global/AllUsers", "/global/AuthenticatedUsers")
# Attributes whose value is known from the configuration when it is written literally.
_ID_ATTRIBUTE = {
    "aws_s3_bucket": "bucket",
    "aws_iam_role": "name",
    "aws_iam_policy": "arn",
    "aws_lambda_function": "function_name",
    "aws_sqs_queue": "name",
    "aws_sns_topic": "name",
}
_KNOWN_ATTRIBUTES = frozenset({"name", "function_name", "bucket", "http_method", "path_part"})
_LAYER = "aws_lambda_layer_version"
_NO_SCOPE: Mapping[str, Any] = MappingProxyType({})
_WHOLE = "a whole resource, known only after apply"
_NOT_BOOL = "not a bool"


def _managed_policy(arn: str, origin: Origin) -> PolicyDocument | None:
    """The AWS managed policy's document, when lambdashield knows it."""
    try:
        from lambdashield.loaders.aws_policies import managed_policy
    except ImportError:  # pragma: no cover - the module lands separately
        return None
    return managed_policy(arn, origin)


# --- values the evaluator produces besides plain JSON-like data --------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class _Attr:
    """A reference to an attribute of another resource, e.g. `aws_iam_role.lambda.arn`."""

    address: str
    """Absolute address of the resource (`module.api.aws_iam_role.lambda`)."""
    attr: str
    text: str
    known: Any = None
    """The attribute's value when the configuration writes it literally."""


@dataclasses.dataclass(frozen=True, slots=True)
class _Encoded:
    """`jsonencode(value)`: kept as the value so a policy's pointers follow its structure."""

    value: Any
    text: str


@dataclasses.dataclass(frozen=True, slots=True)
class _Object:
    """A resource or data source instance as a whole value: `aws_iam_role.this` (each of
    its instances, in a list for `count` and a map for `for_each`), an element of
    `aws_iam_role.this[*]`, `each.value` of a `for_each` over a resource. Its attributes
    are read one at a time, each an `_Attr`."""

    address: str
    text: str
    """The instance as the module that holds it names it (`aws_iam_role.this[0]`)."""
    read: Callable[[str], _Attr] = dataclasses.field(compare=False, repr=False)


@dataclasses.dataclass(frozen=True, slots=True)
class _Bound:
    """A `dynamic` block's iterator reference (`statement.value.actions`), replaced in a
    generated block by what it evaluates to for that block's element."""

    value: Any
    text: str
    missing: bool = False
    """The element has no such attribute or index. Terraform fails there, unless the
    variable's type declares the attribute optional (then it is null): so it is null,
    except as an argument of `try()`, which goes on to the next argument."""


@dataclasses.dataclass(frozen=True, slots=True)
class _Unread:
    """A `dynamic` block whose blocks are not known here (its `for_each` is not)."""

    name: str
    """`<address> dynamic "<type>" (for_each = <expression>: <why it is not known>)`."""
    path: PurePosixPath
    pointer: str
    lines: LineLookup


def _unknown_text(value: Any) -> str:
    """How an unresolved part is written inside a string: `${expression}`."""
    if isinstance(value, _Attr):
        return value.known if isinstance(value.known, str) else _placeholder(value.text)
    if isinstance(value, Unresolved):
        if "${" in value.expression:
            return value.expression
        return _placeholder(value.expression)
    if isinstance(value, (_Encoded, _Object)):
        return _placeholder(value.text)
    return _placeholder(str(value))


def _placeholder(expression: str) -> str:
    """`${expression}`, without colons: the IAM rules split ARNs into fields at colons."""
    return "${" + " ".join(expression.replace(":", " ").split()) + "}"


def _as_string(value: Any) -> str | None:
    """The value as a string where one is needed (handler, layer, ARN); `None` if absent."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    if isinstance(value, _Attr):
        return value.known if isinstance(value.known, str) else value.text
    if isinstance(value, Unresolved):
        return value.expression
    if isinstance(value, (_Encoded, _Object)):
        return value.text
    return json.dumps(_policy_ready(value), sort_keys=True)


def _plain(value: Any) -> Any:
    """A value for the model: JSON-like data, with `Unresolved` for what is not known."""
    if isinstance(value, _Attr):
        if isinstance(value.known, (str, int, float, bool)):
            return value.known
        return Unresolved(value.text, "resource attribute known only after apply")
    if isinstance(value, _Object):
        return Unresolved(value.text, _WHOLE)
    if isinstance(value, _Encoded):
        ready = _plain(value.value)
        if _has_unknown(ready):
            return Unresolved(value.text, "jsonencode of values not known here")
        return json.dumps(ready, separators=(",", ":"))
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _has_unknown(value: Any) -> bool:
    if isinstance(value, Unresolved):
        return True
    if isinstance(value, list):
        return any(_has_unknown(v) for v in value)
    if isinstance(value, dict):
        return any(_has_unknown(v) for v in value.values())
    return False


def _policy_ready(value: Any) -> Any:
    """Policy JSON: unresolved parts written `${expression}` so rules see them as unknown."""
    if isinstance(value, _Encoded):
        return _policy_ready(value.value)
    if isinstance(value, (_Attr, Unresolved, _Object)):
        return _unknown_text(value)
    if isinstance(value, list):
        return [_policy_ready(v) for v in value]
    if isinstance(value, dict):
        return {k: _policy_ready(v) for k, v in value.items()}
    return value


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list):
        return tuple(s for s in (_as_string(v) for v in value) if s is not None)
    text = _as_string(value)
    return (text,) if text is not None else ()


# --- the view the linker reads: one resource or nested block, HCL or plan ----------------


class _View(Protocol):
    address: str
    type: str
    path: PurePosixPath
    pointer: str
    lines: LineLookup

    def get(self, key: str) -> Any: ...

    def has(self, key: str) -> bool: ...

    def at(self, key: str) -> str: ...

    def blocks(self, key: str) -> list[_View]: ...

    def unread(self, key: str) -> list[_Unread]:
        """The `dynamic` blocks of type `key` that `blocks(key)` could not generate."""
        ...

    def refs(self, key: str) -> list[str]:
        """Addresses of the resources the attribute's expression refers to."""
        ...


# --- HCL: modules, evaluation ----------------------------------------------------------


class _Module:
    def __init__(
        self,
        key: str,
        folder: Path,
        rel: str,
        files: list[HclFile],
        parent: _Module | None,
        inputs: dict[str, Any],
    ) -> None:
        self.key = key
        """Address prefix: `""` for the root, `"module.api."` below it."""
        self.folder = folder
        self.rel = rel
        """Folder relative to the root module's (`path.module`)."""
        self.files = files
        self.parent = parent
        self.inputs = inputs
        self.variables: dict[str, tuple[Block, HclFile]] = {}
        self.locals: dict[str, tuple[Any, HclFile, str]] = {}
        self.outputs: dict[str, Any] = {}
        self.calls: dict[str, tuple[Block, HclFile]] = {}
        self.children: dict[str, _Module] = {}
        self.keyed: dict[str, dict[str | int, _Module]] = {}
        """Module calls whose `count` or `for_each` is known: instance key -> instance."""
        self.resources: dict[str, tuple[Block, HclFile]] = {}
        """`type.name` or `data.type.name` -> block."""
        for file in files:
            for block in file.body.blocks:
                kind, labels = block.type, block.labels
                if kind == "variable" and len(labels) == 1:
                    self.variables[labels[0]] = (block, file)
                elif kind == "locals":
                    for name, expr in block.attributes.items():
                        self.locals[name] = (expr, file, f"/locals/{escape_pointer(name)}")
                elif kind == "output" and len(labels) == 1:
                    self.outputs[labels[0]] = block.attributes.get("value")
                elif kind == "module" and len(labels) == 1:
                    self.calls[labels[0]] = (block, file)
                elif kind == "resource" and len(labels) == 2:
                    self.resources[f"{labels[0]}.{labels[1]}"] = (block, file)
                elif kind == "data" and len(labels) == 2:
                    self.resources[f"data.{labels[0]}.{labels[1]}"] = (block, file)


class _HclView:
    """A resource (or one of its nested blocks), its attributes evaluated on demand."""

    def __init__(
        self,
        loader: _HclLoader,
        module: _Module,
        address: str,
        kind: str,
        block: Block,
        file: HclFile,
    ) -> None:
        self.loader = loader
        self.module = module
        self.address = address
        self.type = kind
        self.block = block
        self.file = file
        self.path = file.path
        self.pointer = block.pointer
        self.lines: LineLookup = file.lines
        self._cache: dict[str, Any] = {}
        self._blocks: dict[str, tuple[list[_View], list[_Unread]]] = {}

    def get(self, key: str) -> Any:
        if key in self._cache:
            return self._cache[key]
        raw = self.block.attributes.get(key)
        value = self.loader.value(raw, self.module, 0) if key in self.block.attributes else None
        if isinstance(raw, Template) and raw.line:
            # A heredoc with interpolations keeps its lines once rendered: JSON inside it
            # is located by its own structure.
            rendered = value.expression if isinstance(value, Unresolved) else value
            if isinstance(rendered, str):
                self.file.embedded.setdefault(self.at(key), (rendered, raw.line))
        self._cache[key] = value
        return value

    def has(self, key: str) -> bool:
        return key in self.block.attributes

    def at(self, key: str) -> str:
        return f"{self.block.pointer}/{escape_pointer(key)}"

    def blocks(self, key: str) -> list[_View]:
        return self._nested(key)[0]

    def unread(self, key: str) -> list[_Unread]:
        return self._nested(key)[1]

    def _nested(self, key: str) -> tuple[list[_View], list[_Unread]]:
        # Kept: a block generated from a `dynamic` block is made once, however often asked.
        found = self._blocks.get(key)
        if found is None:
            blocks, unread = self.loader.nested(self, key)
            views: list[_View] = [
                _HclView(self.loader, self.module, self.address, self.type, b, self.file)
                for b in blocks
            ]
            found = self._blocks[key] = (views, unread)
        return found

    def refs(self, key: str) -> list[str]:
        found: list[str] = []
        for ref in _refs_in(self.block.attributes.get(key)):
            value = self.loader.value(ref, self.module, 0)
            if isinstance(value, (_Attr, _Object)):
                found.append(value.address)
            elif isinstance(value, (list, dict)):
                # A whole resource with instances: each of them.
                items = value.values() if isinstance(value, dict) else value
                found.extend(v.address for v in items if isinstance(v, _Object))
        return found


def _refs_in(node: Any) -> Iterator[Ref | _Bound]:
    if isinstance(node, (Ref, _Bound)):
        yield node
        return
    for part in subexpressions(node):
        yield from _refs_in(part)


class _HclLoader:
    def __init__(self, root: Path, folder: Path, display: PurePosixPath, max_bytes: int) -> None:
        self.root = root
        self.real_root = root.resolve()
        self.folder = folder
        self.display = display
        self.max_bytes = max_bytes
        self.errors: list[ScanError] = []
        self.suppressions: list[Suppression] = []
        self.parsed: dict[Path, HclFile | None] = {}
        self.instances = 0
        self.modules: list[_Module] = []
        self.views: dict[str, _HclView] = {}
        self._busy: set[tuple[str, str]] = set()
        self._cycles: set[tuple[str, str]] = set()
        """Local values already reported as part of a reference cycle."""
        self.generated = 0
        """Blocks generated from `dynamic` blocks so far (`MAX_DYNAMIC_BLOCKS`)."""
        self.expanded = 0
        """Resource and data source instances made so far (`MAX_INSTANCES`)."""
        self._expansions: dict[tuple[str, str], dict[str | int, tuple[str, Block]] | None] = {}
        self._expanding: set[tuple[str, str]] = set()
        self._locals: dict[tuple[str, str], Any] = {}
        """Local values evaluated in full: every reference gets the same value."""
        self.incomplete = 0
        """Values cut short so far by a cycle or by a limit: a local value evaluated while
        this grows may be unknown only where it was reached from, so it is not kept."""
        self.iterated = 0
        """Elements `for` expressions went through so far (`MAX_FOR_ELEMENTS`)."""

    # --- reading -----------------------------------------------------------------------

    def display_of(self, path: Path) -> PurePosixPath:
        rel = os.path.relpath(path, self.folder).replace(os.sep, "/")
        return PurePosixPath(posixpath.normpath(posixpath.join(self.display.as_posix(), rel)))

    def parse(self, path: Path) -> HclFile | None:
        key = path.resolve()
        if key in self.parsed:
            return self.parsed[key]
        shown = self.display_of(path)
        found: HclFile | None = None
        try:
            text = read_text(path, shown, self.max_bytes)
            if is_tf_json(path.name):
                found, problems = parse_tf_json(text, shown)
                self.errors.extend(ScanError(shown, p.message, p.line) for p in problems)
            else:
                found = parse_hcl(text, shown)
                marks, comments = find_suppressions(text, shown)
                self.suppressions.extend(marks)
                self.errors.extend(comments)
        except LoaderError as exc:
            self.errors.append(ScanError(exc.path, exc.detail, exc.line))
        except HclSyntaxError as exc:
            self.errors.append(ScanError(shown, exc.message, exc.line))
        self.parsed[key] = found
        return found

    def load(self, files: Sequence[Path]) -> _Module:
        parsed = [self.parse(f) for f in sorted(files, key=lambda p: p.name)]
        root = _Module("", self.folder, ".", [f for f in parsed if f], None, {})
        self.modules.append(root)
        self.instantiate(root, [self.folder.resolve()])
        return root

    def instantiate(self, module: _Module, chain: list[Path]) -> None:
        for name, (block, file) in sorted(module.calls.items()):
            source = block.attributes.get("source")
            if not isinstance(source, str) or not source.startswith(("./", "../")):
                continue  # registry and remote modules are not fetched
            line = file.lines(f"{block.pointer}/source")[0]
            target = _resolved(module.folder / source)
            if target is None:
                continue
            if target != self.real_root and self.real_root not in target.parents:
                self.errors.append(
                    ScanError(
                        file.path, f"module source {source!r} is outside the scanned folder", line
                    )
                )
                continue
            if target in chain or len(chain) > MAX_MODULE_DEPTH:
                problem = "includes itself" if target in chain else "nests too deeply"
                self.errors.append(ScanError(file.path, f"module {name!r} {problem}", line))
                continue
            # One instance per key of a `count` or `for_each` known here (none for
            # `count = 0`); one at the plain address when there is neither or it is not known.
            repeated = self.repetitions(block, module, MAX_MODULE_INSTANCES + 1, 0)
            iterations: list[_Iteration | None] = [None]
            if repeated is not None:
                iterations = list(repeated[0])
                module.keyed[name] = {}
            files: list[HclFile] | None = None
            for iteration in iterations:
                self.instances += 1
                if self.instances > MAX_MODULE_INSTANCES:
                    self.errors.append(ScanError(file.path, "too many module instances", line))
                    return
                if files is None:
                    try:
                        paths = sorted(
                            p for p in target.iterdir() if _configuration(p.name) and p.is_file()
                        )
                    except OSError:
                        self.errors.append(
                            ScanError(file.path, f"module source {source!r} is not a folder", line)
                        )
                        module.keyed.pop(name, None)
                        break
                    files = [f for f in (self.parse(p) for p in paths) if f]
                rel = posixpath.normpath(posixpath.join(module.rel, source))
                inputs = {
                    k: v if iteration is None else _bind(v, iteration)
                    for k, v in block.attributes.items()
                    if k not in _META_ARGUMENTS
                }
                key = "" if iteration is None else f"[{_key_text(iteration.key)}]"
                prefix = f"{module.key}module.{name}{key}."
                child = _Module(prefix, target, rel, files, module, inputs)
                if iteration is None:
                    module.children[name] = child
                else:
                    module.keyed[name][iteration.key] = child
                self.modules.append(child)
                self.instantiate(child, [*chain, target])

    def collect_views(self) -> None:
        for module in self.modules:
            for local, (block, file) in module.resources.items():
                kind = local.split(".")[-2]
                address = module.key + local
                instances = self.expansion(module, local, 0)
                if instances is None:
                    self.views[address] = _HclView(self, module, address, kind, block, file)
                    continue
                for at, copy in instances.values():
                    self.views[at] = _HclView(self, module, at, kind, copy, file)

    # --- `count` and `for_each`: instances ----------------------------------------------

    def expansion(
        self, module: _Module, local: str, depth: int
    ) -> dict[str | int, tuple[str, Block]] | None:
        """`key -> (address, block)` of each instance of the resource or data source
        `local` of `module` (its `count` or `for_each` known here), in Terraform's order;
        `None` when it has one instance, at its plain address: it has neither, or its
        collection is not known here (its `each` and `count` values then stay unknown)."""
        memo = (module.key, local)
        if memo in self._expansions:
            if memo in self._expanding:
                self.incomplete += 1
            return self._expansions[memo]
        # A `count` or `for_each` that refers to its own resource sees one instance.
        self._expansions[memo] = None
        block, file = module.resources[local]
        address = module.key + local
        self._expanding.add(memo)
        try:
            repeated = self.repetitions(block, module, MAX_INSTANCES - self.expanded, depth)
        finally:
            self._expanding.discard(memo)
        if repeated is None:
            return None
        iterations, total = repeated
        self.expanded += len(iterations)
        if total > len(iterations):
            meta = "count" if "count" in block.attributes else "for_each"
            self.errors.append(
                ScanError(
                    file.path,
                    f"`{address}`: {meta} = {_for_each_text(block.attributes[meta])} makes "
                    f"{total:,} instances, more than the {MAX_INSTANCES:,} lambdashield reads "
                    f"in one root module; {total - len(iterations):,} are not read",
                    file.lines(f"{block.pointer}/{meta}")[0],
                )
            )
        instances: dict[str | int, tuple[str, Block]] = {}
        for iteration in iterations:
            # The block's own pointer and `/<key>`, as a `dynamic` block's are its content's
            # and `/<key>`: every instance's findings are apart, on the block's lines.
            pointer = f"{block.pointer}/{escape_pointer(str(iteration.key))}"
            file.alias(pointer, block.pointer)
            instances[iteration.key] = (
                f"{address}[{_key_text(iteration.key)}]",
                _rebased(block, block.pointer, pointer, iteration),
            )
        self._expansions[memo] = instances
        return instances

    def repetitions(
        self, block: Block, module: _Module, limit: int, depth: int
    ) -> tuple[list[_Iteration], int] | None:
        """The iteration (`count.index`, or `each.key` and `each.value`) of each instance
        the `count` or `for_each` of a resource, data source or module call makes, at most
        `limit` of them, and how many it makes; `None` when it has neither or when what it
        makes is not known here."""
        attributes = block.attributes
        if "count" in attributes:
            count = _count(self.value(attributes["count"], module, depth + 1))
            if count is None:
                return None
            made = range(min(count, max(limit, 0)))
            return [_Iteration("count", i, i, index=True) for i in made], count
        if "for_each" in attributes:
            elements = _instance_elements(self.value(attributes["for_each"], module, depth + 1))
            if elements is None:
                return None
            kept = elements[: max(limit, 0)]
            return [_Iteration("each", k, v) for k, v in kept], len(elements)
        return None

    # --- `dynamic` blocks --------------------------------------------------------------

    def nested(self, view: _HclView, key: str) -> tuple[list[Block], list[_Unread]]:
        """The nested blocks of type `key` of a view's block, in the order written, those
        its `dynamic "<key>"` blocks generate included; and those dynamic blocks whose
        blocks are not known."""
        found: list[Block] = []
        unread: list[_Unread] = []
        for block in view.block.blocks:
            if block.type == key:
                found.append(block)
            elif block.type == "dynamic" and block.labels[:1] == (key,):
                self.expand(view, block, found, unread)
        return found, unread

    def expand(
        self, view: _HclView, dynamic: Block, found: list[Block], unread: list[_Unread]
    ) -> None:
        kind = dynamic.labels[0]
        content = dynamic.children("content")
        if not content:
            return  # Terraform refuses it; it generates nothing
        raw = dynamic.attributes.get("for_each")
        elements, why = self.iterations(raw, view.module)
        if not why and self.generated + len(elements) > MAX_DYNAMIC_BLOCKS:
            elements = elements[: max(MAX_DYNAMIC_BLOCKS - self.generated, 0)]
            why = (
                f"for_each = {_for_each_text(raw)}: more blocks than the "
                f"{MAX_DYNAMIC_BLOCKS:,} lambdashield generates"
            )
        if why:
            unread.append(
                _Unread(
                    f'{view.address} dynamic "{kind}" ({why})',
                    view.path,
                    dynamic.pointer,
                    view.lines,
                )
            )
        self.generated += len(elements)
        name = _iterator_name(dynamic.attributes.get("iterator"), kind)
        base = content[0]
        for i, (key, element) in enumerate(elements):
            segment = key if isinstance(key, (str, int, float)) else i
            pointer = f"{base.pointer}/{escape_pointer(_as_string(segment) or str(i))}"
            view.file.alias(pointer, base.pointer)
            found.append(_generated(base, kind, pointer, _Iteration(name, key, element)))

    def iterations(self, raw: Any, module: _Module) -> tuple[list[tuple[Any, Any]], str]:
        """`(key, value)` of each element of a `for_each`, in Terraform's order; or none,
        and why they are not known: `for_each = var.x = var.y: variable has no default`,
        the unknown value's own expression after the one written when they differ."""
        if raw is None:
            return [], "it has no for_each"
        value = self.value(raw, module, 0)
        elements, problem = _elements(raw, value)
        if not problem:
            return elements, ""
        written = _for_each_text(raw)
        if isinstance(value, (Unresolved, _Attr)):
            found = _for_each_text(
                value.expression if isinstance(value, Unresolved) else value.text
            )
            if found != written:
                written = f"{written} = {found}"
        return [], f"for_each = {written}: {problem}"

    # --- evaluation --------------------------------------------------------------------
    #
    # The names a `for` expression binds are in `scope`, passed down to what is written
    # inside it: a local value, a variable or a module output is evaluated with none, as
    # Terraform scopes them. (`each`, `count` and a `dynamic` block's iterator are bound
    # once per block instead, when the block is copied: `_bind`.)

    def value(
        self, node: Any, module: _Module, depth: int, scope: Mapping[str, Any] = _NO_SCOPE
    ) -> Any:
        if depth > MAX_EVAL_DEPTH:
            self.incomplete += 1
            return Unresolved(_node_text(node), "expression nests too deeply")
        if node is None or isinstance(node, (str, int, float, bool)):
            return node
        if isinstance(node, list):
            return [self.value(item, module, depth + 1, scope) for item in node]
        if isinstance(node, dict):
            return {k: self.value(v, module, depth + 1, scope) for k, v in node.items()}
        if isinstance(node, Ref):
            return self.reference(node, module, depth + 1, scope)
        if isinstance(node, Template):
            return self.template(node, module, depth + 1, scope)
        if isinstance(node, Call):
            return self.call(node, module, depth + 1, scope)
        if isinstance(node, _Bound):
            return node.value
        if isinstance(node, For):
            return self.iterate(node, module, depth + 1, scope)
        if isinstance(node, Conditional):
            return self.conditional(node, module, depth + 1, scope)
        if isinstance(node, Operation):
            return self.operation(node, module, depth + 1, scope)
        if isinstance(node, Splat):
            source = self.value(node.source, module, depth + 1, scope)
            return self.spread(source, node, module, depth + 1, scope)
        if isinstance(node, Traversal):
            source = self.value(node.source, module, depth + 1, scope)
            return self.follow(source, node.steps, node.text, module, depth + 1, scope)
        if isinstance(node, Opaque):
            return Unresolved(node.text, "expression is not evaluated")
        return Unresolved(_node_text(node), "expression is not evaluated")

    def reference(
        self, ref: Ref, module: _Module, depth: int, scope: Mapping[str, Any] = _NO_SCOPE
    ) -> Any:
        if not all(isinstance(p, (str, int)) for p in ref.parts):
            keyed = self.keyed(ref, module, depth, scope)
            if keyed is None:
                # An index not known here leaves the whole reference unknown, as it was
                # when such an index was not read at all.
                return Unresolved(ref.text, "expression is not evaluated")
            ref = keyed
        head, rest = ref.parts[0], ref.parts[1:]
        if scope and head in scope:
            return self.follow(scope[str(head)], rest, ref.text, module, depth, scope)
        if not rest or not isinstance(rest[0], str):
            return Unresolved(ref.text, "not a value")
        name = rest[0]
        if head == "var":
            return _traverse(self.variable(module, name, ref, depth), rest[1:], ref)
        if head == "local":
            return _traverse(self.local(module, name, ref, depth), rest[1:], ref)
        if head == "path":
            if name == "module":
                return module.rel
            if name in ("root", "cwd"):
                return "."
            return Unresolved(ref.text, "unknown path value")
        if head == "module":
            child = module.children.get(name)
            after = rest[1:]
            if child is None and name in module.keyed:
                index = _instance_key(after[0], module.keyed[name]) if after else None
                if index is None:
                    return Unresolved(ref.text, _NO_SUCH)
                child, after = module.keyed[name][index], after[1:]
            if child is None or not after or not isinstance(after[0], str):
                return Unresolved(ref.text, "module not loaded")
            output = after[0]
            if output not in child.outputs:
                return Unresolved(ref.text, "no such module output")
            busy = (child.key, "output." + output)
            if busy in self._busy:
                self.incomplete += 1
                return Unresolved(ref.text, "module output refers to itself")
            self._busy.add(busy)
            try:
                found = self.value(child.outputs[output], child, depth + 1)
            finally:
                self._busy.discard(busy)
            return _traverse(found, after[1:], ref)
        if head == "data":
            if len(rest) < 2 or not isinstance(rest[1], str):
                return Unresolved(ref.text, "not a value")
            return self.resource(ref, module, f"data.{name}.{rest[1]}", rest[2:], depth)
        head = str(head)
        if head in ("each", "count", "self", "terraform") or head.startswith("provider::"):
            return Unresolved(ref.text, f"`{head}` values are not known here")
        if f"{head}.{name}" not in module.resources:
            if len(rest) < 2:
                return Unresolved(ref.text, "resource attribute not named")
            return Unresolved(ref.text, "no such resource in this configuration")
        return self.resource(ref, module, f"{head}.{name}", rest[1:], depth)

    def local(self, module: _Module, name: str, ref: Ref, depth: int) -> Any:
        if name not in module.locals:
            return Unresolved(ref.text, "no such local value")
        key = (module.key, "local." + name)
        if key in self._locals:
            return self._locals[key]
        if key in self._busy:
            if key not in self._cycles:
                # Every local value on the way is in the cycle (or leads into it).
                self._cycles.update(k for k in self._busy if k[1].startswith("local."))
                _, file, pointer = module.locals[name]
                self.errors.append(
                    ScanError(
                        file.path,
                        f"circular reference: local value `{name}` depends on itself",
                        file.lines(pointer)[0],
                    )
                )
            self.incomplete += 1
            return Unresolved(ref.text, "local value refers to itself")
        self._busy.add(key)
        before = self.incomplete
        try:
            found = self.value(module.locals[name][0], module, depth + 1)
        finally:
            self._busy.discard(key)
        if self.incomplete == before:
            # Evaluated in full, it is the same wherever it is used: a `for` in it is
            # gone through once, not once per reference.
            self._locals[key] = found
        return found

    def keyed(
        self, ref: Ref, module: _Module, depth: int, scope: Mapping[str, Any] = _NO_SCOPE
    ) -> Ref | None:
        """The reference with each index expression (`[each.key]`) replaced by the key it
        evaluates to; `None` when one is not known here."""
        parts: list[str | int] = []
        text = ref.text
        for part in ref.parts:
            if not isinstance(part, (str, int)):
                written = _node_text(part)
                part = self.value(part, module, depth + 1, scope)
                if isinstance(part, float) and part.is_integer():
                    part = int(part)
                if isinstance(part, bool) or not isinstance(part, (str, int)):
                    return None
                # Written as Terraform names the instance (`aws_sqs_queue.in["jobs"].arn`):
                # each instance's triggers and placeholders then say which it is.
                text = text.replace(f"[{written}]", f"[{_key_text(part)}]", 1)
            parts.append(part)
        return Ref(tuple(parts), text)

    def resource(
        self, ref: Ref, module: _Module, local: str, after: Sequence[str | int], depth: int
    ) -> Any:
        """An attribute of the resource or data source `local` of `module`: of the instance
        `after` names first when its `count` or `for_each` is known here. Without an
        attribute, the resource as a value: an `_Object`, or a list (`count`) or map
        (`for_each`) of one per instance."""
        kind = local.split(".")[-2]
        declared = module.resources.get(local)
        instances = self.expansion(module, local, depth) if declared is not None else None
        if instances is None:
            names = [p for p in after if isinstance(p, str)]
            if declared is None or names or after:
                if not names:
                    data = local.startswith("data.")
                    return Unresolved(
                        ref.text, "not a value" if data else "resource attribute not named"
                    )
                holder = (module, declared[0]) if declared is not None else None
                return self.attribute(module.key + local, kind, names[0], ref.text, depth, holder)
            block = declared[0]
            meta = next((m for m in ("count", "for_each") if m in block.attributes), None)
            if meta is not None:
                raw = block.attributes[meta]
                found = self.value(raw, module, depth + 1)
                why = _because(raw, found, f"not a usable {meta}")
                return Unresolved(ref.text, f"{meta} = {why}")
            return self.whole(module, module.key + local, kind, block, depth)
        if not after:
            objects = {
                key: self.whole(module, address, kind, block, depth)
                for key, (address, block) in instances.items()
            }
            if declared is not None and "count" in declared[0].attributes:
                return list(objects.values())
            return objects
        # With a key it has no instance for, the reference is Terraform's error, never one
        # instance picked for it.
        key = _instance_key(after[0], instances)
        if key is None:
            return Unresolved(ref.text, _NO_SUCH)
        address, block = instances[key]
        names = [p for p in after[1:] if isinstance(p, str)]
        if not names:
            if len(after) == 1:
                return self.whole(module, address, kind, block, depth)
            return Unresolved(ref.text, "resource attribute not named")
        return self.attribute(address, kind, names[0], ref.text, depth, (module, block))

    def whole(self, module: _Module, address: str, kind: str, block: Block, depth: int) -> _Object:
        """One instance of a resource or data source, as a value."""
        text = address[len(module.key) :]
        holder = (module, block)

        def read(attr: str) -> _Attr:
            # As deep as where the object was made: a chain of references stays bounded.
            return self.attribute(address, kind, attr, f"{text}.{attr}", depth + 1, holder)

        return _Object(address, text, read)

    def attribute(
        self,
        address: str,
        kind: str,
        attr: str,
        text: str,
        depth: int,
        holder: tuple[_Module, Block] | None,
    ) -> _Attr:
        known = None
        source = _ID_ATTRIBUTE.get(kind) if attr == "id" else attr
        if source in _KNOWN_ATTRIBUTES and holder is not None:
            if (address, source) in self._busy:
                self.incomplete += 1
            else:
                owner, block = holder
                self._busy.add((address, source))
                try:
                    found = self.value(block.attributes.get(source), owner, depth + 1)
                finally:
                    self._busy.discard((address, source))
                if isinstance(found, (str, int, float)) and not isinstance(found, bool):
                    known = found
        return _Attr(address, attr, text, known)

    def variable(self, module: _Module, name: str, ref: Ref, depth: int) -> Any:
        if name in module.inputs and module.parent is not None:
            key = (module.key, "var." + name)
            if key in self._busy:
                self.incomplete += 1
                return Unresolved(ref.text, "module argument refers to itself")
            self._busy.add(key)
            try:
                return self.value(module.inputs[name], module.parent, depth + 1)
            finally:
                self._busy.discard(key)
        declared = module.variables.get(name)
        if declared is None:
            return Unresolved(ref.text, "variable not declared")
        block, _ = declared
        if "default" not in block.attributes:
            return Unresolved(ref.text, "variable has no default")
        return self.value(block.attributes["default"], module, depth + 1)

    def template(
        self, node: Template, module: _Module, depth: int, scope: Mapping[str, Any] = _NO_SCOPE
    ) -> Any:
        values = [
            p if isinstance(p, str) else self.value(p, module, depth, scope) for p in node.parts
        ]
        if len(values) == 1 and not isinstance(node.parts[0], str):
            return values[0]  # "${x}" is x itself, whatever its type
        out: list[str] = []
        unknown = False
        for value in values:
            if isinstance(value, str):
                out.append(value)
            elif isinstance(value, bool):
                out.append("true" if value else "false")
            elif isinstance(value, (int, float)):
                out.append(str(value))
            elif isinstance(value, _Attr) and isinstance(value.known, (str, int, float)):
                out.append(str(value.known))
            else:
                unknown = True
                out.append(_unknown_text(value))
        text = "".join(out)
        return Unresolved(text, "interpolation not resolved") if unknown else text

    # --- `for`, conditionals, operators, splats ------------------------------------------

    def iterate(
        self, node: For, module: _Module, depth: int, scope: Mapping[str, Any] = _NO_SCOPE
    ) -> Any:
        """A `for` expression: its list or map when the collection, and every key and
        condition it needs, are known here; otherwise unknown as a whole, never in part."""
        source = self.value(node.collection, module, depth, scope)
        elements, problem = _elements(node.collection, source)
        if source is None:
            problem = "null is not a collection"
        if problem:
            return Unresolved(node.text, f"`for` over {_because(node.collection, source, problem)}")
        self.iterated += len(elements)
        if self.iterated > MAX_FOR_ELEMENTS:
            self.incomplete += 1
            return Unresolved(
                node.text,
                f"more elements than the {MAX_FOR_ELEMENTS:,} lambdashield goes through in "
                "`for` expressions of one root module",
            )
        items: list[Any] = []
        pairs: dict[str, Any] = {}
        inner = dict(scope)
        for key, element in elements:
            inner[node.names[-1]] = element
            if len(node.names) == 2:
                inner[node.names[0]] = key
            if node.condition is not True:
                test = self.value(node.condition, module, depth, inner)
                kept = _truth(test)
                if kept is None:
                    return Unresolved(
                        node.text, f"`for` condition {_because(node.condition, test, _NOT_BOOL)}"
                    )
                if not kept:
                    continue
            if not node.mapping:
                items.append(self.value(node.value, module, depth, inner))
                continue
            found = self.value(node.key, module, depth, inner)
            name = _map_key(found)
            if name is None:
                why = _because(node.key, found, "not a string")
                return Unresolved(node.text, f"`for` key {why}")
            value = self.value(node.value, module, depth, inner)
            if node.grouped:
                pairs.setdefault(name, []).append(value)
            elif name in pairs:
                return Unresolved(
                    node.text,
                    f"`for` makes the key {_key_text(name)} twice, Terraform's error (`...` "
                    "after the value groups them)",
                )
            else:
                pairs[name] = value
        return dict(sorted(pairs.items())) if node.mapping else items

    def conditional(
        self, node: Conditional, module: _Module, depth: int, scope: Mapping[str, Any] = _NO_SCOPE
    ) -> Any:
        test = self.value(node.condition, module, depth, scope)
        chosen = _truth(test)
        if chosen is None:
            return Unresolved(node.text, f"condition {_because(node.condition, test, _NOT_BOOL)}")
        return self.value(node.true if chosen else node.false, module, depth, scope)

    def operation(
        self, node: Operation, module: _Module, depth: int, scope: Mapping[str, Any] = _NO_SCOPE
    ) -> Any:
        values = [self.value(o, module, depth, scope) for o in node.operands]
        found = _operate(node.operator, values)
        if not isinstance(found, _Failed):
            return found
        if found.operand is not None:
            raw, value = node.operands[found.operand], values[found.operand]
            return Unresolved(node.text, f"operand {_because(raw, value, found.reason)}")
        return Unresolved(node.text, found.reason)

    def spread(
        self,
        source: Any,
        node: Splat,
        module: _Module,
        depth: int,
        scope: Mapping[str, Any] = _NO_SCOPE,
    ) -> Any:
        """A splat's list: its steps applied to each element of `source`."""
        if isinstance(source, (Unresolved, _Attr, _Encoded)):
            written = node.source if node.source is not None else node.text
            return Unresolved(node.text, f"splat over {_because(written, source, '')}")
        if source is None:
            return []
        if (
            isinstance(source, dict)
            and source
            and all(isinstance(v, _Object) for v in source.values())
        ):
            return Unresolved(
                node.text,
                "a resource with for_each is a map, which a splat does not go through "
                "(Terraform's error; `values(...)[*]` does)",
            )
        items = source if isinstance(source, list) else [source]
        return [self.follow(item, node.steps, node.text, module, depth, scope) for item in items]

    def follow(
        self,
        value: Any,
        steps: Sequence[Any],
        text: str,
        module: _Module,
        depth: int,
        scope: Mapping[str, Any] = _NO_SCOPE,
    ) -> Any:
        """`value` through attribute and index steps (an index written as an expression is
        evaluated first) and the splats among them."""
        for i, step in enumerate(steps):
            if isinstance(step, Splat):
                spread = self.spread(value, step, module, depth + 1, scope)
                return self.follow(spread, steps[i + 1 :], text, module, depth + 1, scope)
            if not isinstance(step, (str, int)):
                step = self.value(step, module, depth + 1, scope)
                if isinstance(step, float) and step.is_integer():
                    step = int(step)
                if isinstance(step, bool) or not isinstance(step, (str, int)):
                    return Unresolved(text, "index not known here")
            if _indexable(value, step):
                value = value[step]
            elif isinstance(value, _Object) and isinstance(step, str):
                value = value.read(step)
            elif isinstance(value, (_Attr, Unresolved)):
                return value
            else:
                return Unresolved(text, _NO_SUCH)
        return value

    # --- functions -----------------------------------------------------------------------

    def call(
        self, node: Call, module: _Module, depth: int, scope: Mapping[str, Any] = _NO_SCOPE
    ) -> Any:
        if node.name == "try":
            return self.attempt(node, module, depth, scope)
        args = [self.value(a, module, depth, scope) for a in node.args]
        if node.expand and args and isinstance(args[-1], list):
            args = [*args[:-1], *args[-1]]
        name = node.name
        unknown = Unresolved(node.text, f"{name}() is not evaluated here")
        if name == "jsonencode" and len(args) == 1:
            return _Encoded(args[0], node.text)
        if name in ("tolist", "toset", "tomap", "tostring", "sensitive", "nonsensitive"):
            return args[0] if len(args) == 1 else unknown
        if any(isinstance(a, (Unresolved, _Attr, _Encoded, _Object)) for a in args):
            return Unresolved(node.text, f"{name}() of values not known here")
        if name in _COLLECTION_FUNCTIONS:
            found = _COLLECTION_FUNCTIONS[name](args)
            if isinstance(found, _Failed):
                return Unresolved(node.text, f"{name}() {found.reason}")
            return found
        if name == "jsondecode" and len(args) == 1 and isinstance(args[0], str):
            try:
                return json.loads(args[0])
            except (ValueError, RecursionError):
                return unknown
        if name in ("file", "templatefile") and args and isinstance(args[0], str):
            return self.read_file(node, module, args)
        if name in _STRING_FUNCTIONS and len(args) == 1 and isinstance(args[0], str):
            return _STRING_FUNCTIONS[name](args[0])
        if name == "concat" and all(isinstance(a, list) for a in args):
            return [item for a in args for item in a]
        if name == "merge" and all(isinstance(a, dict) for a in args):
            merged: dict[str, Any] = {}
            for a in args:
                merged.update(a)
            return merged
        if name == "join" and len(args) == 2 and isinstance(args[0], str):
            items = args[1]
            if isinstance(items, list) and all(isinstance(i, str) for i in items):
                return args[0].join(items)
        if name == "coalesce":
            return next((a for a in args if a not in (None, "")), unknown)
        if name == "lookup" and len(args) in (2, 3) and isinstance(args[0], dict):
            if isinstance(args[1], str) and args[1] in args[0]:
                return args[0][args[1]]
            return args[2] if len(args) == 3 else unknown
        if name == "format" and args and isinstance(args[0], str):
            return _format(args[0], args[1:]) or unknown
        return unknown

    def attempt(
        self, node: Call, module: _Module, depth: int, scope: Mapping[str, Any] = _NO_SCOPE
    ) -> Any:
        """`try(a, b, ...)`: the first argument that evaluates without an error. Only a
        missing attribute or element is known to be an error here; any other unknown
        value might be a good one, so it is the result."""
        for arg in node.args:
            if isinstance(arg, _Bound) and arg.missing:
                continue
            value = self.value(arg, module, depth, scope)
            if not (isinstance(value, Unresolved) and value.reason == _NO_SUCH):
                return value
        return Unresolved(node.text, "try() has no argument without an error")

    def read_file(self, node: Call, module: _Module, args: list[Any]) -> Any:
        given = args[0]
        target = _resolved(self.folder / given)
        if target is None:
            return Unresolved(node.text, "not a usable path")
        if target != self.real_root and self.real_root not in target.parents:
            if node.path is not None:
                # As for a module source: the scan cannot see what the file would give.
                self.errors.append(
                    ScanError(
                        node.path,
                        f"{node.name}({given!r}) reads a file outside the scanned folder, which "
                        "is never read; scan a folder that holds both",
                        node.line,
                    )
                )
            return Unresolved(node.text, "file outside the scanned folder is never read")
        try:
            if not target.is_file() or target.stat().st_size > self.max_bytes:
                return Unresolved(node.text, "file not found or too large")
            text = target.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return Unresolved(node.text, "file not readable")
        if node.name == "file":
            return text
        variables = args[1] if len(args) > 1 and isinstance(args[1], dict) else {}
        unknown = False

        def fill(match: re.Match[str]) -> str:
            nonlocal unknown
            value = variables.get(match.group(1))
            if isinstance(value, (str, int, float)) and not isinstance(value, bool):
                return str(value)
            unknown = True
            return match.group()

        rendered = re.sub(r"\$\{\s*([A-Za-z_][\w-]*)\s*\}", fill, text)
        if unknown or "%{" in rendered:
            return Unresolved(rendered, "template values not known here")
        return rendered


def _format(spec: str, args: Sequence[Any]) -> str | None:
    values = iter(args)
    out: list[str] = []
    i = 0
    while i < len(spec):
        char = spec[i]
        if char == "%" and i + 1 < len(spec):
            verb = spec[i + 1]
            i += 2
            if verb == "%":
                out.append("%")
                continue
            value = next(values, None)
            if verb not in "sd" or not isinstance(value, (str, int)) or isinstance(value, bool):
                return None
            out.append(str(value))
            continue
        out.append(char)
        i += 1
    return "".join(out)


_STRING_FUNCTIONS: dict[str, Callable[[str], str]] = {
    "lower": str.lower,
    "upper": str.upper,
    "trimspace": str.strip,
}


_NO_SUCH = "not known"
"""Reason of a traversal into a known value that has no such attribute or element."""


@dataclasses.dataclass(frozen=True, slots=True)
class _Failed:
    """Why an operator or a function gives no value here; `operand`: the one to blame."""

    reason: str
    operand: int | None = None


def _because(raw: Any, value: Any, problem: str) -> str:
    """`<expression as written>: <why its value is not usable>`: for a value not known
    here, its own reason, and the unknown part's expression after the one written when
    they differ (`local.fns = var.functions: variable has no default`); for a known
    value, `problem`."""
    written = "null" if raw is None else _for_each_text(raw)
    if isinstance(value, Unresolved):
        found, why = value.expression, value.reason or "not evaluated here"
    elif isinstance(value, _Attr):
        found, why = value.text, "resource attribute known only after apply"
    elif isinstance(value, _Object):
        found, why = value.text, _WHOLE
    else:
        return f"{written}: {problem}"
    found = _for_each_text(found)
    return f"{written} = {found}: {why}" if found != written else f"{written}: {why}"


def _truth(value: Any) -> bool | None:
    """A condition's value; `None` when it is not a known bool (Terraform reads the
    strings `"true"` and `"false"` as bools)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value in ("true", "false"):
        return value == "true"
    return None


def _map_key(value: Any) -> str | None:
    """A key a `for` expression makes, as Terraform converts it to a string."""
    if isinstance(value, _Attr):
        value = value.known
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return str(int(value))
    if isinstance(value, float):
        return repr(value)
    return None


_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")


def _number(value: Any) -> int | float | None:
    """A number, or a string Terraform converts to one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        text = value.strip()
        try:
            return int(text) if text.lstrip("-").isdigit() else float(text)
        except ValueError:  # more digits than Python converts
            return None
    return None


def _same(a: Any, b: Any) -> bool:
    """Terraform's `==` of two known scalars: a string is never equal to a number or a
    bool, whatever they spell."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    return bool(a == b)


def _scalar(value: Any) -> Any:
    """The value an operator works on: a resource attribute the configuration writes
    literally is that literal, a fully known `jsonencode` its text."""
    if isinstance(value, _Attr) and value.known is not None:
        return value.known
    if isinstance(value, _Encoded):
        return _plain(value)
    return value


def _operate(operator: str, values: list[Any]) -> Any:
    """`operator` applied to known values: the result, or `_Failed`."""
    operands = [_scalar(v) for v in values]
    for i, value in enumerate(operands):
        if isinstance(value, (Unresolved, _Attr, _Object)):
            return _Failed("not known here", i)
    if operator in ("==", "!="):
        a, b = operands
        if a is None or b is None:
            equal = a is None and b is None
        elif isinstance(a, (list, dict)) or isinstance(b, (list, dict)):
            # Terraform compares the types of collections too (a list is never a tuple),
            # which are not known here.
            return _Failed(f"`{operator}` of collections is not evaluated here")
        else:
            equal = _same(a, b)
        return equal if operator == "==" else not equal
    if operator in ("!", "&&", "||"):
        flags = [_truth(v) for v in operands]
        for i, flag in enumerate(flags):
            if flag is None:
                return _Failed(_NOT_BOOL, i)
        if operator == "!":
            return not flags[0]
        return (flags[0] and flags[1]) if operator == "&&" else (flags[0] or flags[1])
    numbers: list[int | float] = []
    for i, value in enumerate(operands):
        number = _number(value)
        if number is None:
            return _Failed("not a number", i)
        numbers.append(number)
    if len(numbers) == 1:
        return -numbers[0] if operator == "-" else _Failed(f"`{operator}` is not evaluated here")
    a, b = numbers
    if operator in _COMPARISONS:
        return _COMPARISONS[operator](a, b)
    if operator in ("/", "%") and b == 0:
        return _Failed("division by zero")
    try:
        found = _arithmetic(operator, a, b)
    except (OverflowError, ValueError):
        return _Failed("a number too large to evaluate here")
    if isinstance(found, int) and found.bit_length() > _MAX_BITS:
        # Each operation may double a number's size: a chain of them must not be
        # allowed to fill the memory.
        return _Failed("a number too large to evaluate here")
    return found


_MAX_BITS = 256


def _arithmetic(operator: str, a: float, b: float) -> Any:
    if operator == "+":
        return a + b
    if operator == "-":
        return a - b
    if operator == "*":
        return a * b
    whole = isinstance(a, int) and isinstance(b, int)
    if operator == "/":
        return int(a) // int(b) if whole and a % b == 0 else a / b
    if operator == "%":
        # The remainder takes the dividend's sign, as Terraform's does.
        if whole:
            remainder = abs(int(a)) % abs(int(b))
            return remainder if a >= 0 else -remainder
        return math.fmod(a, b)
    return _Failed(f"`{operator}` is not evaluated here")


_COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "<": lambda x, y: x < y,
    ">": lambda x, y: x > y,
    "<=": lambda x, y: x <= y,
    ">=": lambda x, y: x >= y,
}


def _length(args: list[Any]) -> Any:
    if len(args) == 1 and isinstance(args[0], (list, dict, str)):
        return len(args[0])
    return _Failed("of a value that is not a collection or a string")


def _keys(args: list[Any]) -> Any:
    if len(args) == 1 and isinstance(args[0], dict):
        return sorted(args[0])
    return _Failed("of a value that is not a map")


def _values(args: list[Any]) -> Any:
    if len(args) == 1 and isinstance(args[0], dict):
        return [value for _, value in sorted(args[0].items())]  # in the keys' order
    return _Failed("of a value that is not a map")


def _known_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _contains(args: list[Any]) -> Any:
    if len(args) != 2 or not isinstance(args[0], list) or not _known_scalar(args[1]):
        return _Failed("is evaluated here for a list and a string, number or bool only")
    wanted, unknown = args[1], False
    for item in args[0]:
        item = _scalar(item)
        if not _known_scalar(item):
            unknown = True
        elif (item is None and wanted is None) or (
            item is not None and wanted is not None and _same(item, wanted)
        ):
            return True
    return _Failed("of values not known here") if unknown else False


def _flatten(args: list[Any]) -> Any:
    if len(args) != 1 or not isinstance(args[0], list):
        return _Failed("of a value that is not a list")
    flat: list[Any] = []
    stack: list[Any] = list(reversed(args[0]))
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, (Unresolved, _Attr)):
            return _Failed("of values not known here")  # each might be a list
        else:
            flat.append(item)
    return flat


def _distinct(args: list[Any]) -> Any:
    if len(args) != 1 or not isinstance(args[0], list):
        return _Failed("of a value that is not a list")
    kept: dict[tuple[str, Any], Any] = {}
    for item in (_scalar(i) for i in args[0]):
        if not _known_scalar(item):
            return _Failed("of values not known here")
        # Apart by type as `_same` is: "1", 1 and true are three values.
        kind = "b" if isinstance(item, bool) else "s" if isinstance(item, str) else "n"
        kept.setdefault((kind, item), item)
    return list(kept.values())


def _compact(args: list[Any]) -> Any:
    if len(args) != 1 or not isinstance(args[0], list):
        return _Failed("of a value that is not a list")
    kept: list[str] = []
    for item in (_scalar(i) for i in args[0]):
        if item is None or item == "":
            continue
        if not isinstance(item, str):
            return _Failed("of values not known here to be strings")
        kept.append(item)
    return kept


_COLLECTION_FUNCTIONS: dict[str, Callable[[list[Any]], Any]] = {
    "length": _length,
    "keys": _keys,
    "values": _values,
    "contains": _contains,
    "flatten": _flatten,
    "distinct": _distinct,
    "compact": _compact,
}


def _traverse(value: Any, rest: Sequence[str | int], ref: Ref) -> Any:
    for step in rest:
        if _indexable(value, step):
            value = value[step]
        elif isinstance(value, _Object) and isinstance(step, str):
            value = value.read(step)
        elif isinstance(value, _Attr):
            return value
        else:
            return value if isinstance(value, Unresolved) else Unresolved(ref.text, _NO_SUCH)
    return value


def _indexable(value: Any, step: str | int) -> bool:
    if isinstance(value, dict):
        return isinstance(step, str) and step in value
    return isinstance(value, list) and isinstance(step, int) and 0 <= step < len(value)


def _configuration(name: str) -> bool:
    """A file Terraform reads as configuration: `*.tf`, or `*.tf.json` in its JSON syntax."""
    return name.endswith(".tf") or is_tf_json(name)


def _resolved(path: Path) -> Path | None:
    """The real path, or `None` for one that cannot be a path (a NUL byte, a link loop)."""
    try:
        return path.resolve()
    except (OSError, ValueError, RuntimeError):
        return None


def _node_text(node: Any) -> str:
    return str(getattr(node, "text", node))


# --- `dynamic` blocks: one block per element of `for_each` -------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class _Iteration:
    name: str
    """The iterator: the block type or the `iterator` argument of a `dynamic` block;
    `each` or `count` of a resource, data source or module call."""
    key: Any
    value: Any
    index: bool = False
    """`count`, whose one attribute is `count.index` (the key)."""


def _iterator_name(node: Any, default: str) -> str:
    if isinstance(node, Ref) and len(node.parts) == 1 and isinstance(node.parts[0], str):
        return node.parts[0]
    if isinstance(node, str) and node:  # `"iterator": "rule"` in a `*.tf.json` file
        return node
    return default


def _single(node: Any) -> Any:
    """`"${x}"` of a `*.tf.json` file is `x`."""
    if isinstance(node, Template) and len(node.parts) == 1:
        return node.parts[0]
    return node


def _is_set(node: Any) -> bool:
    found = _single(node)
    return isinstance(found, Call) and found.name == "toset"


def _for_each_text(node: Any) -> str:
    text = " ".join(_node_text(_single(node)).split())
    return text if len(text) <= 80 else text[:77] + "..."


def _elements(raw: Any, value: Any) -> tuple[list[tuple[Any, Any]], str]:
    """`(key, value)` of each element of the collection `value` that the `for_each`
    expression `raw` evaluates to, in Terraform's order; or why there are none known."""
    if isinstance(value, dict):
        return sorted(value.items()), ""  # a map's elements go in key order
    if isinstance(value, list):
        if not _is_set(raw):
            return list(enumerate(value)), ""
        # A set's key is its element; strings and numbers go in order, once each.
        unique = list({json.dumps(_policy_ready(v), sort_keys=True): v for v in value}.values())
        if all(isinstance(v, str) for v in unique) or all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in unique
        ):
            unique.sort()
        return [(v, v) for v in unique], ""
    if isinstance(value, Unresolved):
        return [], value.reason or "not evaluated here"
    if isinstance(value, _Attr):
        return [], "resource attribute known only after apply"
    if value is None:
        return [], "for_each is null"
    return [], "not a list, set or map"


def _generated(content: Block, kind: str, pointer: str, iteration: _Iteration) -> Block:
    """The block one element makes of a `content` block: a `kind` block at `pointer`,
    its iterator references replaced by that element's values."""
    block = _rebased(content, content.pointer, pointer, iteration)
    block.type, block.labels = kind, ()
    return block


def _rebased(block: Block, old: str, new: str, iteration: _Iteration | None) -> Block:
    """A copy of `block` whose pointer (and its blocks') starts with `new` for `old`: each
    element's blocks are apart, so their findings are."""
    copy = Block(block.type, block.labels, new + block.pointer[len(old) :], block.line)
    if iteration is None:
        copy.attributes = dict(block.attributes)
    else:
        copy.attributes = {k: _bind(v, iteration) for k, v in block.attributes.items()}
    inner = iteration
    if (
        iteration is not None
        and block.type == "dynamic"
        and block.labels
        and _iterator_name(block.attributes.get("iterator"), block.labels[0]) == iteration.name
    ):
        inner = None  # the same name inside is that block's own iterator
    copy.blocks = [_rebased(b, old, new, inner) for b in block.blocks]
    return copy


def _bind(node: Any, iteration: _Iteration) -> Any:
    return rebuilt(
        node,
        lambda n: (
            _bound(n, iteration) if isinstance(n, Ref) and n.parts[0] == iteration.name else n
        ),
        # Inside a `for` whose iterator has the same name, the name is the `for`'s.
        lambda f: iteration.name in f.names,
    )


def _bound(ref: Ref, iteration: _Iteration) -> _Bound:
    rest = ref.parts[1:]
    names = ("index",) if iteration.index else ("key", "value")
    if not rest or not isinstance(rest[0], str) or rest[0] not in names:
        return _Bound(Unresolved(ref.text, "not a value"), ref.text)
    value = iteration.value if rest[0] == "value" else iteration.key
    for step in rest[1:]:
        if isinstance(value, (Unresolved, _Attr)):
            break
        if isinstance(step, _Bound):  # `each.value[each.key]`: bound first
            step = step.value
        if isinstance(step, bool) or not isinstance(step, (str, int)):
            return _Bound(Unresolved(ref.text, "expression is not evaluated"), ref.text)
        if isinstance(value, _Object) and isinstance(step, str):
            value = value.read(step)  # `each.value.arn` of a `for_each` over a resource
            continue
        if not _indexable(value, step):
            return _Bound(None, ref.text, missing=True)
        value = value[step]
    return _Bound(value, ref.text)


def _count(value: Any) -> int | None:
    """A `count` known here: a whole number, 0 or more."""
    if value is False:
        return 0  # not a number to Terraform, but it has always made no instance here
    count = None if isinstance(value, bool) else _as_int(value)
    return count if count is not None and count >= 0 else None


def _instance_elements(value: Any) -> list[tuple[str, Any]] | None:
    """`(each.key, each.value)` of each instance a `for_each` of `value` makes, in
    Terraform's order (by key), or `None` when that is not known here. Terraform takes a
    map or a set of strings; a list of strings is a set (`toset`, or a variable typed
    `set(string)`: Terraform refuses any other list, so nothing of it is deployed)."""
    if isinstance(value, dict):
        return sorted(value.items())
    if isinstance(value, list):
        strings = [v.known if isinstance(v, _Attr) else v for v in value]
        if all(isinstance(s, str) for s in strings):
            return [(s, s) for s in sorted(set(strings))]
    return None


def _instance_key(step: Any, instances: dict[str | int, Any]) -> str | int | None:
    """The key of `instances` an index step names: Terraform converts a number to a
    string for `for_each` keys and a string of digits to a number for `count`."""
    if isinstance(step, bool):
        return None
    if isinstance(step, int):
        return step if step in instances else (str(step) if str(step) in instances else None)
    if isinstance(step, str):
        if step in instances:
            return step
        if step.isascii() and step.isdigit() and int(step) in instances:
            return int(step)
    return None


def _key_text(key: str | int) -> str:
    """An instance key as Terraform writes it in an address: `0`, `"orders"`."""
    if isinstance(key, int):
        return str(key)
    escaped = (
        key.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
        .replace("${", "$${")
        .replace("%{", "%%{")
    )
    return f'"{escaped}"'


def _unkeyed(address: str) -> str:
    """The address without the instance key it ends with: `x.y["a.b"]` is `x.y`. Inside
    a quoted key every `"` is escaped, so the last `["` opens it."""
    if address.endswith('"]'):
        return address[: address.rfind('["')]
    if address.endswith("]"):
        return address[: address.rfind("[")]
    return address


# --- the linker: views -> model ---------------------------------------------------------


class _Linker:
    """Turns resource views (from HCL or a plan) into linked model objects."""

    def __init__(
        self,
        views: dict[str, _View],
        data_policy: Callable[[str], PolicyDocument | None],
        data_unread: Callable[[str], list[_Unread]] | None = None,
    ) -> None:
        self.views = views
        self.data_policy = data_policy
        self.data_unread = data_unread
        """The `dynamic` blocks of a `data "aws_iam_policy_document"` whose statements
        are not known (a plan has none)."""
        self.by_type: dict[str, list[_View]] = defaultdict(list)
        for view in views.values():
            self.by_type[view.type].append(view)
        self.function_names: dict[str, str] = {}
        for view in self.by_type["aws_lambda_function"]:
            name = view.get("function_name")
            if isinstance(name, str):
                self.function_names[name] = view.address
        self.roles: dict[str, Role] = {}
        self.errors: list[ScanError] = []

    # --- resolving references ---

    def target(self, value: Any, kinds: tuple[str, ...]) -> _View | None:
        if isinstance(value, _Attr):
            view = self.views.get(value.address)
            if view is not None and view.type in kinds:
                return view
            return None
        if isinstance(value, str):
            for view in (v for kind in kinds for v in self.by_type[kind]):
                if value in (view.get("name"), view.get("bucket"), view.get("arn")):
                    return view
                if view.type == "aws_iam_role" and value.endswith(f":role/{view.get('name')}"):
                    return view
        return None

    def function_of(self, value: Any, depth: int = 0) -> str | None:
        """Logical name of the function a `function_name`, ARN or reference points at."""
        if isinstance(value, _Attr):
            view = self.views.get(value.address)
            if view is None:
                return None
            if view.type == "aws_lambda_function":
                return view.address
            if view.type == "aws_lambda_alias" and depth < 4:
                return self.function_of(view.get("function_name"), depth + 1)
            return None
        if isinstance(value, Unresolved):
            value = value.expression
        if isinstance(value, str):
            if value in self.function_names:
                return self.function_names[value]
            match = _FUNCTION_ARN.search(value)
            if match:
                return self.function_names.get(match.group(1))
        return None

    def written_in(self, view: _View, owner: str, owner_type: str) -> Origin | None:
        """The file `view` is written in, when it is not the file of its owner (a function,
        a role): `None` otherwise, which the model reads as "the owner's file". A plan is
        one file, so everything in it is `None`."""
        home = self.views.get(owner)
        if home is not None and home.path == view.path:
            return None
        return Origin(view.path, owner, owner_type, view.pointer, view.lines)

    def same(self, a: Any, b: Any) -> bool:
        if isinstance(a, _Attr) and isinstance(b, _Attr):
            return a.address == b.address
        if isinstance(a, _Attr) or isinstance(b, _Attr):
            ref, other = (a, b) if isinstance(a, _Attr) else (b, a)
            return isinstance(ref.known, str) and ref.known == other
        return a is not None and a == b and not isinstance(a, Unresolved)

    # --- policies ---

    def policy(self, view: _View, key: str, owner: str) -> PolicyDocument | None:
        value = view.get(key)
        origin = Origin(view.path, owner, "policy", view.at(key), view.lines)
        return self.policy_value(value, origin)

    def policy_value(self, value: Any, origin: Origin) -> PolicyDocument | None:
        if isinstance(value, _Attr):
            if _unkeyed(value.address).split(".")[-3:-1] == ["data", "aws_iam_policy_document"]:
                document = self.data_policy(value.address)
                if document is not None or not isinstance(value.known, str):
                    return document
            if isinstance(value.known, str):
                value = value.known
            else:
                return None
        if isinstance(value, _Encoded):
            return _policy_document(_policy_ready(value.value), origin)
        if isinstance(value, Unresolved):
            value = value.expression
        if isinstance(value, dict):
            return _policy_document(_policy_ready(value), origin)
        if isinstance(value, str) and value.lstrip().startswith("{"):
            try:
                data = json.loads(value)
            except (ValueError, RecursionError):
                return PolicyDocument(origin, None, (), (Item("policy is not valid JSON", ""),))
            return _policy_document(data, origin)
        return None

    def unread_grants(
        self, holder: _View, key: str, source: GrantSource, role: _View
    ) -> list[Grant]:
        """A policy with unknown permissions for each `dynamic` block that the policy
        document `holder.<key>` refers to could not generate: what is known of the
        document is checked, and what is not is said (LS-IAM-013), never taken as empty."""
        return [_unknown_grant(u, source, role) for u in self.policy_unread(holder, key)]

    def policy_unread(self, holder: _View, key: str) -> list[_Unread]:
        """The `dynamic` blocks the policy document `holder.<key>` refers to could not
        generate (none from a plan, whose documents are rendered)."""
        value = holder.get(key)
        if self.data_unread is None or not isinstance(value, _Attr):
            return []
        if _unkeyed(value.address).split(".")[-3:-1] != ["data", "aws_iam_policy_document"]:
            return []
        return self.data_unread(value.address)

    # --- roles ---

    def grants_by_role(self) -> dict[str, list[Grant]]:
        found: dict[str, list[Grant]] = defaultdict(list)
        for view in self.by_type["aws_iam_role_policy"]:
            role = self.target(view.get("role"), ("aws_iam_role",))
            if role is not None:
                name = view.get("name")
                found[role.address].append(
                    Grant(
                        GrantSource.INLINE,
                        name if isinstance(name, str) else view.address,
                        view.at("policy"),
                        self.policy(view, "policy", view.address),
                        self.written_in(view, role.address, "role"),
                    )
                )
                found[role.address].extend(
                    self.unread_grants(view, "policy", GrantSource.INLINE, role)
                )
        for view in self.by_type["aws_iam_role_policy_attachment"]:
            role = self.target(view.get("role"), ("aws_iam_role",))
            if role is not None:
                grants = self.attached(view, view.get("policy_arn"), view.at("policy_arn"), role)
                found[role.address].extend(grants)
        for view in self.by_type["aws_iam_policy_attachment"]:
            roles = view.get("roles")
            for item in roles if isinstance(roles, list) else []:
                role = self.target(item, ("aws_iam_role",))
                if role is not None:
                    arn = view.get("policy_arn")
                    grants = self.attached(view, arn, view.at("policy_arn"), role)
                    found[role.address].extend(grants)
        return found

    def attached(self, view: _View, arn: Any, pointer: str, role: _View) -> list[Grant]:
        """The policy `arn` attached to `role`, the attachment written in `view` at `pointer`
        (and what of it is not known)."""
        where = self.written_in(view, role.address, "role")
        policy = self.target(arn, ("aws_iam_policy",))
        if policy is not None:
            return [
                Grant(
                    GrantSource.CUSTOMER_MANAGED,
                    policy.address,
                    pointer,
                    self.policy(policy, "policy", policy.address),
                    where,
                ),
                *self.unread_grants(policy, "policy", GrantSource.CUSTOMER_MANAGED, role),
            ]
        text = _as_string(arn) or ""
        if _MANAGED_PREFIX.match(text):
            origin = Origin(view.path, view.address, "policy", pointer, view.lines)
            document = _managed_policy(text, origin)
            return [Grant(GrantSource.AWS_MANAGED, text, pointer, document, where)]
        return [Grant(GrantSource.CUSTOMER_MANAGED, text, pointer, None, where)]

    def role(self, view: _View, attached: dict[str, list[Grant]]) -> Role:
        cached = self.roles.get(view.address)
        if cached is not None:
            return cached
        grants: list[Grant] = []
        for i, block in enumerate(view.blocks("inline_policy")):
            name = block.get("name")
            grants.append(
                Grant(
                    GrantSource.INLINE,
                    name if isinstance(name, str) else f"inline_policy[{i}]",
                    block.at("policy"),
                    self.policy(block, "policy", view.address),
                )
            )
            grants.extend(self.unread_grants(block, "policy", GrantSource.INLINE, view))
        grants.extend(
            _unknown_grant(u, GrantSource.INLINE, view) for u in view.unread("inline_policy")
        )
        arns = view.get("managed_policy_arns")
        for i, arn in enumerate(arns if isinstance(arns, list) else []):
            grants.extend(self.attached(view, arn, f"{view.at('managed_policy_arns')}/{i}", view))
        grants.extend(attached.get(view.address, ()))
        role = Role(
            Origin(view.path, view.address, "role", view.pointer, view.lines), tuple(grants)
        )
        self.roles[view.address] = role
        return role

    # --- triggers ---

    def triggers(self) -> dict[str, list[Trigger]]:
        found: dict[str, list[Trigger]] = defaultdict(list)
        for fn, view, trigger in self._triggers():
            if fn is not None:
                where = self.written_in(view, fn, "function")
                if where is not None:
                    trigger = dataclasses.replace(trigger, origin=where)
                found[fn].append(trigger)
        return found

    def _triggers(self) -> Iterator[tuple[str | None, _View, Trigger]]:
        """Each trigger, the function it invokes and the resource (or block) it is written in."""
        yield from self._function_urls()
        yield from self._rest_methods()
        yield from self._http_routes()
        yield from self._event_sources()
        yield from self._notifications()
        for view in self.by_type["aws_sns_topic_subscription"]:
            if view.get("protocol") == "lambda":
                topic = _as_string(view.get("topic_arn")) or ""
                yield (
                    self.function_of(view.get("endpoint")),
                    view,
                    Trigger(
                        TriggerKind.SNS,
                        topic,
                        view.pointer,
                        view.address,
                        dead_letter=_redrive_target(view.get("redrive_policy")),
                    ),
                )
        for view in self.by_type["aws_cloudwatch_event_target"]:
            rule = self.target(view.get("rule"), ("aws_cloudwatch_event_rule",))
            schedule = rule.get("schedule_expression") if rule is not None else None
            kind = TriggerKind.SCHEDULE if schedule is not None else TriggerKind.EVENTBRIDGE
            source = _as_string(schedule) or (
                rule.address if rule else _as_string(view.get("rule"))
            )
            yield (
                self.function_of(view.get("arn")),
                view,
                Trigger(
                    kind,
                    source or "",
                    view.pointer,
                    view.address,
                    dead_letter=_dead_letter_arn(view),
                ),
            )
        for view in self.by_type["aws_scheduler_schedule"]:
            for block in view.blocks("target"):
                yield (
                    self.function_of(block.get("arn")),
                    view,
                    Trigger(
                        TriggerKind.SCHEDULE,
                        _as_string(view.get("schedule_expression")) or "",
                        view.pointer,
                        view.address,
                        dead_letter=_dead_letter_arn(block),
                    ),
                )

    def _function_urls(self) -> Iterator[tuple[str | None, _View, Trigger]]:
        for view in self.by_type["aws_lambda_function_url"]:
            value = view.get("authorization_type")
            kind = {"NONE": AuthKind.NONE, "AWS_IAM": AuthKind.IAM}.get(
                value if isinstance(value, str) else "", AuthKind.UNKNOWN
            )
            auth = Authorization(
                kind,
                f"authorization_type = {_as_string(value)}",
                pointer=view.at("authorization_type"),
            )
            trigger = Trigger(
                TriggerKind.FUNCTION_URL, "function URL", view.pointer, view.address, auth
            )
            yield (self.function_of(view.get("function_name")), view, trigger)

    def _rest_path(self, value: Any, depth: int = 0) -> str | None:
        view = self.target(value, ("aws_api_gateway_resource",))
        if view is None:
            if isinstance(value, _Attr) and value.attr == "root_resource_id":
                return ""
            return None
        part = _as_string(view.get("path_part")) or "?"
        parent = self._rest_path(view.get("parent_id"), depth + 1) if depth < 32 else None
        return f"{parent if parent is not None else '/?'}/{part}".replace("//", "/")

    def _rest_methods(self) -> Iterator[tuple[str | None, _View, Trigger]]:
        methods = self.by_type["aws_api_gateway_method"]
        for integration in self.by_type["aws_api_gateway_integration"]:
            fn = self.function_of(integration.get("uri"))
            if fn is None:
                continue
            linked = self.target(integration.get("http_method"), ("aws_api_gateway_method",))
            candidates = (
                [linked]
                if linked is not None
                else [
                    m
                    for m in methods
                    if self.same(m.get("rest_api_id"), integration.get("rest_api_id"))
                    and self.same(m.get("resource_id"), integration.get("resource_id"))
                    and self.same(m.get("http_method"), integration.get("http_method"))
                ]
            )
            for method in candidates[:1]:
                verb = _as_string(method.get("http_method")) or "?"
                path = self._rest_path(method.get("resource_id"))
                value = method.get("authorization")
                kind = {
                    "NONE": AuthKind.NONE,
                    "AWS_IAM": AuthKind.IAM,
                    "CUSTOM": AuthKind.AUTHORIZER,
                    "COGNITO_USER_POOLS": AuthKind.AUTHORIZER,
                }.get(value if isinstance(value, str) else "", AuthKind.UNKNOWN)
                detail = f"authorization = {_as_string(value)}"
                if kind is AuthKind.AUTHORIZER and method.has("authorizer_id"):
                    detail += f", authorizer_id = {_as_string(method.get('authorizer_id'))}"
                api = self.target(method.get("rest_api_id"), ("aws_api_gateway_rest_api",))
                auth = Authorization(
                    kind,
                    detail,
                    api_key_required=method.get("api_key_required") is True,
                    pointer=method.at("authorization"),
                    private=api is not None and _private_endpoint(api),
                )
                source = f"{verb} {path if path else '/'}" if path is not None else verb
                trigger = Trigger(
                    TriggerKind.API_REST,
                    source,
                    method.pointer,
                    method.address,
                    auth,
                    asynchronous=True if _invokes_as_event(integration) else None,
                )
                yield (fn, method, trigger)

    def _http_routes(self) -> Iterator[tuple[str | None, _View, Trigger]]:
        for route in self.by_type["aws_apigatewayv2_route"]:
            integration = next(
                (
                    self.views[a]
                    for a in route.refs("target")
                    if a in self.views and self.views[a].type == "aws_apigatewayv2_integration"
                ),
                None,
            )
            if integration is None:
                continue
            fn = self.function_of(integration.get("integration_uri"))
            api = self.target(route.get("api_id"), ("aws_apigatewayv2_api",))
            websocket = api is not None and api.get("protocol_type") == "WEBSOCKET"
            value = route.get("authorization_type")
            kind = {
                "NONE": AuthKind.NONE,
                "AWS_IAM": AuthKind.IAM,
                "JWT": AuthKind.AUTHORIZER,
                "CUSTOM": AuthKind.AUTHORIZER,
            }.get(value if isinstance(value, str) else "", AuthKind.UNKNOWN)
            if not route.has("authorization_type"):
                auth = Authorization(AuthKind.NONE, "no authorization_type (defaults to NONE)")
            else:
                auth = Authorization(
                    kind,
                    f"authorization_type = {_as_string(value)}",
                    api_key_required=route.get("api_key_required") is True,
                    pointer=route.at("authorization_type"),
                )
            trigger = Trigger(
                TriggerKind.API_WEBSOCKET if websocket else TriggerKind.API_HTTP,
                _as_string(route.get("route_key")) or "",
                route.pointer,
                route.address,
                auth,
            )
            yield (fn, route, trigger)
        for api in self.by_type["aws_apigatewayv2_api"]:
            if api.has("target"):
                auth = Authorization(AuthKind.NONE, "quick-create API has no authorization")
                yield (
                    self.function_of(api.get("target")),
                    api,
                    Trigger(TriggerKind.API_HTTP, "$default", api.at("target"), api.address, auth),
                )

    def _event_sources(self) -> Iterator[tuple[str | None, _View, Trigger]]:
        kinds = {
            "aws_sqs_queue": TriggerKind.SQS,
            "aws_kinesis_stream": TriggerKind.KINESIS,
            "aws_dynamodb_table": TriggerKind.DYNAMODB_STREAM,
            "aws_msk_cluster": TriggerKind.KAFKA,
            "aws_msk_serverless_cluster": TriggerKind.KAFKA,
            "aws_mq_broker": TriggerKind.MQ,
        }
        services = {
            "sqs": TriggerKind.SQS,
            "kinesis": TriggerKind.KINESIS,
            "dynamodb": TriggerKind.DYNAMODB_STREAM,
            "kafka": TriggerKind.KAFKA,
            "mq": TriggerKind.MQ,
        }
        for view in self.by_type["aws_lambda_event_source_mapping"]:
            source = view.get("event_source_arn")
            kind = TriggerKind.OTHER
            if isinstance(source, _Attr):
                resource = self.views.get(source.address)
                if resource is not None:
                    kind = kinds.get(resource.type, TriggerKind.OTHER)
            text = _as_string(source)
            if text and text.startswith("arn:"):
                kind = services.get(text.split(":")[2], kind)
            if source is None and view.blocks("self_managed_event_source"):
                kind, text = TriggerKind.KAFKA, "self-managed Kafka"
            yield (
                self.function_of(view.get("function_name")),
                view,
                Trigger(kind, text or "", view.pointer, view.address),
            )

    def _notifications(self) -> Iterator[tuple[str | None, _View, Trigger]]:
        for view in self.by_type["aws_s3_bucket_notification"]:
            bucket = view.get("bucket")
            source = _as_string(bucket) or ""
            for block in view.blocks("lambda_function"):
                filters = tuple(
                    (name, text)
                    for name, key in (("prefix", "filter_prefix"), ("suffix", "filter_suffix"))
                    if (text := _as_string(block.get(key)))
                )
                yield (
                    self.function_of(block.get("lambda_function_arn")),
                    block,
                    Trigger(TriggerKind.S3, source, block.pointer, view.address, filters=filters),
                )

    # --- the rest ---

    def on_failure(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for view in self.by_type["aws_lambda_function_event_invoke_config"]:
            fn = self.function_of(view.get("function_name"))
            for config in view.blocks("destination_config"):
                for failure in config.blocks("on_failure"):
                    target = _as_string(failure.get("destination"))
                    if fn is not None and target:
                        found[fn] = target
        return found

    def function(
        self, view: _View, triggers: list[Trigger], attached: dict[str, list[Grant]], code: str
    ) -> Function:
        role_value = view.get("role")
        role_view = self.target(role_value, ("aws_iam_role",))
        role: Role | None = None
        if role_view is not None:
            role = self.role(role_view, attached)
        elif role_value is not None:
            role = Role(
                Origin(view.path, view.address, "role", view.at("role"), view.lines),
                external=_as_string(role_value),
            )
        environment: list[EnvVar] = []
        for block in view.blocks("environment")[:1]:
            variables = block.get("variables")
            if isinstance(variables, dict):
                base = block.at("variables")
                environment.extend(
                    EnvVar(name, _plain(value), f"{base}/{escape_pointer(name)}")
                    for name, value in variables.items()
                )
        runtime = _plain(view.get("runtime"))
        reserved = _as_int(view.get("reserved_concurrent_executions"))
        vpc = False
        for block in view.blocks("vpc_config")[:1]:
            subnets = block.get("subnet_ids")
            vpc = not (isinstance(subnets, list) and not subnets)
        image = view.get("package_type") == "Image" or view.get("image_uri") is not None
        return Function(
            origin=Origin(view.path, view.address, "function", view.pointer, view.lines),
            runtime=runtime if isinstance(runtime, (str, Unresolved)) else None,
            runtime_pointer=view.at("runtime") if view.has("runtime") else "",
            handler=_as_string(view.get("handler")),
            code_uri=code or None,
            package_type="Image" if image else "Zip",
            environment=tuple(environment),
            memory=_as_int(view.get("memory_size")),
            timeout=_as_int(view.get("timeout")),
            reserved_concurrency=None if reserved == -1 else reserved,
            dead_letter=next(
                (_as_string(b.get("target_arn")) for b in view.blocks("dead_letter_config")), None
            ),
            tracing=next((_as_string(b.get("mode")) for b in view.blocks("tracing_config")), None),
            kms_key=_as_string(view.get("kms_key_arn")),
            layers=self.layer_references(view.get("layers")),
            vpc=vpc,
            architectures=_strings(view.get("architectures")),
            role=role,
            triggers=tuple(triggers),
        )

    def local_code(self, view: _View) -> tuple[str, _View, str] | None:
        """The local folder or zip a function or layer is built from, as written (relative
        to the root module's folder, which a plan's paths are relative to as well), with
        the view and attribute that write it."""
        holder, key = view, "filename"
        value = view.get("filename")
        if isinstance(value, _Attr) and ".archive_file." in f".{value.address}":
            archive = self.views.get(value.address)
            if archive is not None:
                holder = archive
                key = "source_dir" if archive.get("source_dir") else "source_file"
                value = archive.get(key)
        if isinstance(value, _Attr):
            # A plan holds the value the reference gave; `.tf` files only a literal.
            value = value.known
        if isinstance(value, str) and "://" not in value and not value.startswith("/"):
            return posixpath.normpath(value), holder, key
        return None

    def code_uri(self, view: _View) -> str:
        found = self.local_code(view)
        return found[0] if found else ""

    def layer_references(self, value: Any) -> tuple[str, ...]:
        """Each layer as written, except that a reference to a layer of this configuration
        is its absolute address (`module.api.aws_lambda_layer_version.deps.arn`): inside a
        module, the reference as written names the layer relative to that module."""
        found: list[str] = []
        for item in value if isinstance(value, list) else [value]:
            view = self.views.get(item.address) if isinstance(item, _Attr) else None
            if isinstance(item, _Attr) and view is not None and view.type == _LAYER:
                found.append(f"{item.address}.{item.attr}" if item.attr else item.address)
            else:
                found.extend(_strings(item))
        return tuple(found)

    def layers(self, content: Callable[[_View], str | None]) -> tuple[Layer, ...]:
        return tuple(
            Layer(
                Origin(view.path, view.address, "layer", view.pointer, view.lines),
                content_uri=content(view),
            )
            for view in sorted(self.by_type[_LAYER], key=lambda v: v.address)
        )

    def permissions(self) -> list[Permission]:
        return [
            Permission(
                origin=Origin(view.path, view.address, "permission", view.pointer, view.lines),
                function=self.function_of(view.get("function_name")),
                principal=_as_string(view.get("principal")) or "",
                action=_as_string(view.get("action")) or "",
                source_arn=_as_string(view.get("source_arn")),
                source_account=_as_string(view.get("source_account")),
                function_url_auth_type=_as_string(view.get("function_url_auth_type")),
                principal_org_id=_as_string(view.get("principal_org_id")),
            )
            for view in self.by_type["aws_lambda_permission"]
        ]

    def buckets(self, notified: dict[str, set[str]]) -> list[Bucket]:
        found = []
        account = self.by_type["aws_s3_account_public_access_block"]
        for view in self.by_type["aws_s3_bucket"]:
            acls: list[tuple[_View, str]] = [(view, "")]
            policies: list[tuple[_View, str]] = [(view, view.address)] if view.has("policy") else []
            acls.extend((other, "") for other in self.for_bucket("aws_s3_bucket_acl", view))
            policies.extend(
                (other, other.address) for other in self.for_bucket("aws_s3_bucket_policy", view)
            )
            blocks = [*self.for_bucket("aws_s3_bucket_public_access_block", view), *account]
            read = write = False
            for holder, _ in acls:
                r, w = _acl_public(holder)
                read, write = read or r, write or w
            document = None
            unknown: dict[tuple[PurePosixPath, str], tuple[str, Origin]] = {}
            for holder, owner in policies:
                document = self.policy(holder, "policy", owner)
                for unread in self.policy_unread(holder, "policy"):
                    # The bucket's `policy` and an `aws_s3_bucket_policy` may both name
                    # the same document: one block, one finding.
                    unknown.setdefault(
                        (unread.path, unread.pointer), _unknown_bucket_policy(unread, view)
                    )
            bucket_name = view.get("bucket")
            found.append(
                Bucket(
                    origin=Origin(view.path, view.address, "bucket", view.pointer, view.lines),
                    name=bucket_name if isinstance(bucket_name, str) else None,
                    public_read=read,
                    public_write=write,
                    policy=document,
                    policy_unknown=tuple(unknown[k] for k in sorted(unknown)),
                    notifies=tuple(sorted(notified.get(view.address, ()))),
                    public_access_block=_public_access_block(blocks),
                )
            )
        return found

    def for_bucket(self, kind: str, bucket: _View) -> list[_View]:
        return [
            other
            for other in self.by_type[kind]
            if self.target(other.get("bucket"), ("aws_s3_bucket",)) is bucket
        ]

    def stage_values(self, application: Origin) -> list[TemplateValue]:
        """Stage variables; each carries its file unless that is `application`'s own (a plan)."""
        found: list[TemplateValue] = []
        for kind in ("aws_api_gateway_stage", "aws_api_gateway_deployment"):
            for view in self.by_type[kind]:
                variables = view.get("variables")
                if not isinstance(variables, dict):
                    continue
                where = None
                if view.path != application.path:
                    where = Origin(
                        view.path,
                        application.resource,
                        application.resource_type,
                        view.pointer,
                        view.lines,
                    )
                found.extend(
                    TemplateValue(
                        "stage-variable",
                        f"{view.address}.variables.{name}",
                        _plain(value),
                        f"{view.at('variables')}/{escape_pointer(name)}",
                        origin=where,
                    )
                    for name, value in variables.items()
                )
        return found

    def link(self, code_uri: Callable[[_View], str]) -> dict[str, Any]:
        attached = self.grants_by_role()
        triggers = self.triggers()
        failures = self.on_failure()
        functions = []
        for view in self.by_type["aws_lambda_function"]:
            fn = self.function(view, triggers.get(view.address, []), attached, code_uri(view))
            if view.address in failures:
                fn = dataclasses.replace(fn, on_failure=failures[view.address])
            functions.append(fn)
        for view in self.by_type["aws_iam_role"]:
            self.role(view, attached)
        notified: dict[str, set[str]] = defaultdict(set)
        for view in self.by_type["aws_s3_bucket_notification"]:
            bucket = self.target(view.get("bucket"), ("aws_s3_bucket",))
            if bucket is None:
                continue
            for block in view.blocks("lambda_function"):
                target = self.function_of(block.get("lambda_function_arn"))
                if target is not None:
                    notified[bucket.address].add(target)
        return {
            "functions": tuple(sorted(functions, key=lambda f: f.origin.resource)),
            "roles": tuple(sorted(self.roles.values(), key=lambda r: r.origin.resource)),
            "permissions": tuple(sorted(self.permissions(), key=lambda p: p.origin.resource)),
            "buckets": tuple(sorted(self.buckets(notified), key=lambda b: b.origin.resource)),
        }


def _unknown_grant(unread: _Unread, source: GrantSource, role: _View) -> Grant:
    # The origin is set even in the role's file: the finding is located by it, and the
    # role's own documents do not hold the dynamic block's pointer.
    origin = Origin(unread.path, role.address, "role", unread.pointer, unread.lines)
    return Grant(source, unread.name, unread.pointer, None, origin)


def _unknown_bucket_policy(unread: _Unread, bucket: _View) -> tuple[str, Origin]:
    # As for a role's unknown grant, the origin is the block's own file: a data source is
    # often written in another file than the bucket.
    origin = Origin(unread.path, bucket.address, "bucket", unread.pointer, unread.lines)
    return unread.name, origin


def _acl_public(view: _View) -> tuple[bool, bool]:
    acl = view.get("acl")
    read = acl in ("public-read", "public-read-write", "authenticated-read")
    write = acl == "public-read-write"
    grants = [g for holder in view.blocks("access_control_policy") for g in holder.blocks("grant")]
    grants.extend(view.blocks("grant"))
    for grant in grants:
        permissions = set(_strings(grant.get("permission") or grant.get("permissions")))
        uris = [_as_string(g.get("uri")) or "" for g in grant.blocks("grantee")]
        uris.append(_as_string(grant.get("uri")) or "")
        if any(uri.endswith(_PUBLIC_GROUPS) for uri in uris):
            read = read or bool(permissions & {"READ", "FULL_CONTROL"})
            write = write or bool(permissions & {"WRITE", "FULL_CONTROL"})
    return read, write


def _public_access_block(blocks: Sequence[_View]) -> PublicAccessBlock | None:
    """The settings of a bucket's `aws_s3_bucket_public_access_block` and the account's
    `aws_s3_account_public_access_block`: a setting holds when either turns it on."""
    if not blocks:
        return None

    def on(key: str) -> bool:
        return any(b.get(key) is True for b in blocks)

    return PublicAccessBlock(
        blocks[0].pointer,
        block_public_acls=on("block_public_acls"),
        ignore_public_acls=on("ignore_public_acls"),
        block_public_policy=on("block_public_policy"),
        restrict_public_buckets=on("restrict_public_buckets"),
    )


def _dead_letter_arn(view: _View) -> str | None:
    """`dead_letter_config { arn = ... }` of an EventBridge or Scheduler target."""
    return next((_as_string(b.get("arn")) for b in view.blocks("dead_letter_config")), None)


def _redrive_target(value: Any) -> str | None:
    """`deadLetterTargetArn` of an SNS subscription's `redrive_policy` (JSON text or
    `jsonencode`)."""
    if isinstance(value, _Encoded):
        value = value.value
    elif isinstance(value, str):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            return None
    target = value.get("deadLetterTargetArn") if isinstance(value, dict) else None
    return _as_string(target)


def _private_endpoint(api: _View) -> bool:
    """A REST API whose `endpoint_configuration` types include `PRIVATE`."""
    return any(
        "PRIVATE" in (t.upper() for t in _strings(b.get("types")))
        for b in api.blocks("endpoint_configuration")
    )


def _invokes_as_event(integration: _View) -> bool:
    """An integration that asks Lambda for an asynchronous invocation."""
    parameters = integration.get("request_parameters")
    value = (
        parameters.get("integration.request.header.X-Amz-Invocation-Type")
        if isinstance(parameters, dict)
        else None
    )
    return isinstance(value, str) and value.strip().strip("'\"").lower() == "event"


def _policy_document(data: Any, origin: Origin) -> PolicyDocument:
    document = policy_from_json(data, origin)
    return _without_placeholder_errors(document)


def _without_placeholder_errors(document: PolicyDocument) -> PolicyDocument:
    """Grammar errors about `${...}` values are about what is unknown, not invalid IAM:
    two `Sid`s not known here (`sid = try(x.sid, statement.key)`) are not known to be the
    same."""
    unknown = {
        item.pointer
        for s in document.statements
        for item in (*s.actions, *s.not_actions, *s.resources, *s.not_resources)
        if "${" in item.value
    }
    unknown.update(f"{s.pointer}/Sid" for s in document.statements if s.sid and "${" in s.sid)
    if not unknown or not document.grammar_errors:
        return document
    kept = tuple(e for e in document.grammar_errors if e.pointer not in unknown)
    return dataclasses.replace(document, grammar_errors=kept)


# --- data "aws_iam_policy_document" -----------------------------------------------------

_STATEMENT_LISTS = (
    ("actions", "Action"),
    ("not_actions", "NotAction"),
    ("resources", "Resource"),
    ("not_resources", "NotResource"),
)


@dataclasses.dataclass(slots=True)
class _Statements:
    """The statements of a `data "aws_iam_policy_document"`, each as its JSON and a table
    from its JSON pointers (relative to the statement) to absolute HCL pointers; and the
    `dynamic` blocks in it whose blocks are not known."""

    entries: list[tuple[dict[str, Any], dict[str, str]]] = dataclasses.field(default_factory=list)
    unread: list[_Unread] = dataclasses.field(default_factory=list)


def _document_statements(view: _View, resolve: Callable[[str], _Statements]) -> _Statements:
    """The document's statements, with those of the documents it merges."""
    found: list[tuple[dict[str, Any], dict[str, str]]] = []
    unread: list[_Unread] = []
    sources = view.get("source_policy_documents")
    for value in sources if isinstance(sources, list) else []:
        if isinstance(value, _Attr):
            merged_in = resolve(value.address)
            found.extend(merged_in.entries)
            unread.extend(merged_in.unread)
    own: list[tuple[dict[str, Any], dict[str, str]]] = []
    unread.extend(view.unread("statement"))
    for block in view.blocks("statement"):
        own.append(_statement(block))
        for hcl in ("principals", "not_principals", "condition"):
            unread.extend(block.unread(hcl))
    overrides: list[tuple[dict[str, Any], dict[str, str]]] = []
    values = view.get("override_policy_documents")
    for value in values if isinstance(values, list) else []:
        if isinstance(value, _Attr):
            merged_in = resolve(value.address)
            overrides.extend(merged_in.entries)
            unread.extend(merged_in.unread)
    merged = found + own
    for statement, table in overrides:
        sid = statement.get("Sid")
        index = next((i for i, (s, _) in enumerate(merged) if sid and s.get("Sid") == sid), None)
        if index is None:
            merged.append((statement, table))
        else:
            merged[index] = (statement, table)
    return _Statements(merged, unread)


def _statement(block: _View) -> tuple[dict[str, Any], dict[str, str]]:
    # An argument set to null is an argument not set (`effect = try(x.effect, null)`).
    statement: dict[str, Any] = {}
    table = {"": block.pointer}
    sid = block.get("sid")
    if sid is not None:
        sid = _policy_ready(sid)
        statement["Sid"] = _as_string(sid) if isinstance(sid, (int, float)) else sid
        table["/Sid"] = block.at("sid")
    effect = block.get("effect")
    statement["Effect"] = _policy_ready(effect) if effect is not None else "Allow"
    if effect is not None:
        table["/Effect"] = block.at("effect")
    for hcl, key in _STATEMENT_LISTS:
        listed = block.get(hcl)
        if listed is None:
            continue
        value = _policy_ready(listed)
        statement[key] = value if isinstance(value, list) else [value]
        table[f"/{key}"] = block.at(hcl)
        for i in range(len(statement[key])):
            table[f"/{key}/{i}"] = f"{block.at(hcl)}/{i}"
    for hcl, key in (("principals", "Principal"), ("not_principals", "NotPrincipal")):
        for principal in block.blocks(hcl):
            kind = _as_string(principal.get("type")) or "?"
            identifiers = _policy_ready(principal.get("identifiers"))
            listed = identifiers if isinstance(identifiers, list) else [identifiers]
            table.setdefault(f"/{key}", principal.pointer)
            if kind == "*":
                statement[key] = "*"
                continue
            holder = statement.setdefault(key, {})
            if not isinstance(holder, dict):
                continue
            members = holder.setdefault(kind, [])
            table.setdefault(f"/{key}/{escape_pointer(kind)}", principal.pointer)
            for i, member in enumerate(listed):
                table[f"/{key}/{escape_pointer(kind)}/{len(members)}"] = (
                    f"{principal.at('identifiers')}/{i}"
                )
                members.append(member)
    for condition in block.blocks("condition"):
        test = _as_string(condition.get("test")) or "?"
        variable = _as_string(condition.get("variable")) or "?"
        values = _policy_ready(condition.get("values"))
        conditions = statement.setdefault("Condition", {})
        conditions.setdefault(test, {})[variable] = values
        table.setdefault("/Condition", condition.pointer)
        table.setdefault(f"/Condition/{escape_pointer(test)}", condition.pointer)
        table[f"/Condition/{escape_pointer(test)}/{escape_pointer(variable)}"] = condition.pointer
    return statement, table


def _rewrite(document: PolicyDocument, tables: list[dict[str, str]]) -> PolicyDocument:
    base = document.origin.pointer

    def move(pointer: str) -> str:
        prefix = f"{base}/Statement/"
        if not pointer.startswith(prefix):
            return pointer
        index_text, _, rest = pointer[len(prefix) :].partition("/")
        if not index_text.isdigit() or int(index_text) >= len(tables):
            return pointer
        table = tables[int(index_text)]
        rest = f"/{rest}" if rest else ""
        probe = rest
        while True:
            if probe in table:
                return table[probe] + rest[len(probe) :]
            if not probe:
                return pointer
            probe = probe.rsplit("/", 1)[0]

    def items(values: tuple[Item, ...]) -> tuple[Item, ...]:
        return tuple(Item(i.value, move(i.pointer)) for i in values)

    statements: list[Statement] = [
        dataclasses.replace(
            s,
            pointer=move(s.pointer),
            actions=items(s.actions),
            not_actions=items(s.not_actions),
            resources=items(s.resources),
            not_resources=items(s.not_resources),
            principals=tuple((k, Item(i.value, move(i.pointer))) for k, i in s.principals),
        )
        for s in document.statements
    ]
    return dataclasses.replace(
        document, statements=tuple(statements), grammar_errors=items(document.grammar_errors)
    )


# --- entry points -----------------------------------------------------------------------


def root_module_folders(root: Path, files: Sequence[Path]) -> list[list[Path]]:
    """Group `*.tf` and `*.tf.json` files by folder and drop folders that another folder
    uses as a local module (`source = "./modules/x"`): those are loaded with their caller
    instead."""
    by_folder: dict[Path, list[Path]] = defaultdict(list)
    for path in files:
        by_folder[path.parent].append(path)
    used: set[Path] = set()
    real_root = _resolved(root)
    for folder, paths in by_folder.items():
        for path in paths:
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            pattern = _LOCAL_SOURCE_JSON if is_tf_json(path.name) else _LOCAL_SOURCE
            for source in pattern.findall(text):
                target = _resolved(folder / source)
                if target is None or target == folder.resolve() or real_root is None:
                    continue
                if target == real_root or real_root in target.parents:
                    used.add(target)
    return [
        sorted(paths) for folder, paths in sorted(by_folder.items()) if folder.resolve() not in used
    ]


def load_terraform(
    root: Path, display: PurePosixPath, files: Sequence[Path], *, max_bytes: int
) -> tuple[Application, list[ScanError]]:
    """One root module: `files` are the `*.tf` and `*.tf.json` files of one folder below the
    scanned `root`, `display` that folder as reports show it. Local modules are read from
    inside `root` only. Problems (a file that does not parse, a module outside the root)
    are returned as errors and the rest of the folder is still loaded."""
    folder = files[0].parent if files else root
    loader = _HclLoader(root, folder, display, max_bytes)
    loader.load(files)
    loader.collect_views()
    views: dict[str, _View] = dict(loader.views)
    documents: dict[str, PolicyDocument | None] = {}
    statements_cache: dict[str, _Statements] = {}

    def statements_of(address: str) -> _Statements:
        if address in statements_cache:
            return statements_cache[address]
        # A document that includes itself adds nothing.
        statements_cache[address] = _Statements()
        view = views.get(address)
        if view is not None and view.type == "aws_iam_policy_document":
            statements_cache[address] = _document_statements(view, statements_of)
        return statements_cache[address]

    def data_unread(address: str) -> list[_Unread]:
        view = views.get(address)
        if view is None or view.type != "aws_iam_policy_document":
            return []
        return statements_of(address).unread

    def data_policy(address: str) -> PolicyDocument | None:
        if address in documents:
            return documents[address]
        view = views.get(address)
        document = None
        if view is not None and view.type == "aws_iam_policy_document":
            merged = statements_of(address).entries
            version = view.get("version")
            data = {
                "Version": version if isinstance(version, str) else "2012-10-17",
                "Statement": [s for s, _ in merged],
            }
            origin = Origin(view.path, address, "policy", view.pointer, view.lines)
            document = _rewrite(_policy_document(data, origin), [t for _, t in merged])
            if not merged and any(b.type == "dynamic" for b in _hcl_blocks(view)):
                document = dataclasses.replace(document, grammar_errors=())
        documents[address] = document
        return document

    linker = _Linker(views, data_policy, data_unread)
    linked = linker.link(linker.code_uri)
    layers = linker.layers(
        lambda view: _layer_content(
            view, linker.local_code(view), folder, loader.real_root, loader.errors
        )
    )
    loader.errors.extend(linker.errors)
    origin = Origin(display, display.name or display.as_posix(), "terraform")
    values = _variable_values(loader, origin) + linker.stage_values(origin)
    application = Application(
        origin=origin,
        functions=linked["functions"],
        roles=linked["roles"],
        permissions=linked["permissions"],
        buckets=linked["buckets"],
        values=tuple(values),
        suppressions=tuple(sorted(set(loader.suppressions), key=lambda s: (s.path, s.line))),
        layers=layers,
    )
    errors = sorted(set(loader.errors), key=lambda e: (e.path, e.line or 0, e.message))
    return application, errors


def _layer_content(
    view: _View,
    found: tuple[str, _View, str] | None,
    base: Path,
    root: Path | None,
    errors: list[ScanError],
) -> str | None:
    """A layer's local content as `_Linker.local_code` found it (relative to `base`), or
    `None` and an error where the path is written when it resolves outside the resolved
    `root`: the layer's dependencies are then not known, and nothing may read them."""
    if found is None:
        return None
    path, holder, key = found
    if root is None:
        return path
    target = _resolved(base / path)
    if target is None or (target != root and root not in target.parents):
        errors.append(
            ScanError(
                holder.path,
                f"layer `{view.address}`: `{key}` {path} is outside the scanned folder, "
                "which is never read; scan a folder that holds both",
                holder.lines(holder.at(key))[0],
            )
        )
        return None
    return path


def _hcl_blocks(view: _View) -> list[Block]:
    return view.block.blocks if isinstance(view, _HclView) else []


def _variable_values(loader: _HclLoader, application: Origin) -> list[TemplateValue]:
    """Variable defaults and locals, each with the file it is written in: the application's
    origin is the folder, never a file."""

    def written_in(file: HclFile, pointer: str) -> Origin:
        resource, kind = application.resource, application.resource_type
        return Origin(file.path, resource, kind, pointer, file.lines)

    found: dict[tuple[PurePosixPath, str], TemplateValue] = {}
    for module in loader.modules:
        for name, (block, file) in module.variables.items():
            if "default" not in block.attributes:
                continue
            pointer = f"{block.pointer}/default"
            value = _plain(loader.value(block.attributes["default"], module, 0))
            found.setdefault(
                (file.path, pointer),
                TemplateValue(
                    "parameter-default",
                    f"{module.key}var.{name}",
                    value,
                    pointer,
                    no_echo=block.attributes.get("sensitive") is True,
                    origin=written_in(file, block.pointer),
                ),
            )
        for name, (expr, file, pointer) in module.locals.items():
            value = _plain(loader.value(expr, module, 0))
            if isinstance(value, (str, int, float)) and not isinstance(value, bool):
                found.setdefault(
                    (file.path, pointer),
                    TemplateValue(
                        "local",
                        f"{module.key}local.{name}",
                        value,
                        pointer,
                        origin=written_in(file, pointer),
                    ),
                )
    return [found[k] for k in sorted(found)]


# --- plans: `terraform show -json` ------------------------------------------------------


def is_terraform_plan(data: Any) -> bool:
    """Whether parsed JSON is the output of `terraform show -json <plan>`."""
    return (
        isinstance(data, dict)
        and "format_version" in data
        and ("planned_values" in data or "resource_changes" in data)
    )


class _AncestorLines:
    """JSON lines of a pointer, or of its nearest ancestor the file has."""

    __slots__ = ("_lines",)

    def __init__(self, text: str) -> None:
        self._lines = JsonLines(text)

    def __call__(self, pointer: str) -> tuple[int | None, int | None]:
        while True:
            found = self._lines(pointer)
            if found[0] is not None or not pointer:
                return found
            pointer = pointer.rsplit("/", 1)[0]


_INDEX = re.compile(r"\[[^\]]*\]")


class _PlanView:
    def __init__(
        self,
        plan: _Plan,
        module: str,
        address: str,
        kind: str,
        values: dict[str, Any],
        expressions: dict[str, Any],
        pointer: str,
        attributes: str,
    ) -> None:
        self.plan = plan
        self.module = module
        self.address = address
        self.type = kind
        self.values = values
        self.expressions = expressions
        self.pointer = pointer
        self._attributes = attributes
        self.path = plan.display
        self.lines: LineLookup = plan.lines

    def get(self, key: str) -> Any:
        value = self.values.get(key)
        references = list(self._references(key))
        if references and isinstance(value, list):
            return self._listed(value, references)
        for address, attr, text in references:
            known = value if isinstance(value, (str, int, float)) else None
            return _Attr(address, attr, text, known)
        return value

    def _listed(self, value: list[Any], references: list[tuple[str, str, str]]) -> list[Any]:
        """A list attribute's elements, those a reference gives as that reference.

        The configuration lists an expression's references, not which element holds
        which: an element known at plan time that equals a referenced attribute's planned
        value is that reference, and the elements not known until apply (`null` here)
        are the references whose value is not known either, in the order written."""
        linked: dict[str, _Attr] = {}
        for address, attr, text in references:
            if address in linked and (linked[address].attr or not attr):
                continue  # `x.arn` comes before the bare `x` Terraform also lists
            target = self.plan.views.get(address)
            planned = target.values.get(attr) if target is not None and attr else None
            known = planned if isinstance(planned, str) else None
            linked[address] = _Attr(address, attr, text, known)
        pending = [a for a in linked.values() if a.known is None]
        by_value = {a.known: a for a in linked.values() if a.known is not None}
        found: list[Any] = []
        for item in value:
            if item is None and pending:
                found.append(pending.pop(0))
            elif isinstance(item, str) and item in by_value:
                found.append(by_value[item])
            else:
                found.append(item)
        return found

    def has(self, key: str) -> bool:
        return self.values.get(key) is not None or key in self.expressions

    def at(self, key: str) -> str:
        return f"{self._attributes}/{escape_pointer(key)}"

    def blocks(self, key: str) -> list[_View]:
        listed = self.values.get(key)
        configured = self.expressions.get(key)
        configs = configured if isinstance(configured, list) else [configured]
        found: list[_View] = []
        for i, item in enumerate(listed if isinstance(listed, list) else []):
            if not isinstance(item, dict):
                continue
            config = configs[i] if i < len(configs) else None
            exprs: dict[str, Any] = config if isinstance(config, dict) else {}
            pointer = f"{self.at(key)}/{i}"
            found.append(
                _PlanView(
                    self.plan, self.module, self.address, self.type, item, exprs, pointer, pointer
                )
            )
        return found

    def unread(self, key: str) -> list[_Unread]:
        return []  # a plan's values hold the blocks `dynamic` blocks generated

    def refs(self, key: str) -> list[str]:
        return [address for address, _, _ in self._references(key)]

    def _references(self, key: str) -> Iterator[tuple[str, str, str]]:
        expression = self.expressions.get(key)
        if not isinstance(expression, dict):
            return
        references = expression.get("references")
        for reference in references if isinstance(references, list) else []:
            if isinstance(reference, str):
                found = self.plan.resolve(self.module, reference, 0)
                if found is not None:
                    yield (found[0], found[1], reference)


class _Plan:
    def __init__(self, data: dict[str, Any], display: PurePosixPath, text: str) -> None:
        self.display = display
        self.lines: LineLookup = _AncestorLines(text)
        self.views: dict[str, _PlanView] = {}
        self.first: dict[str, str] = {}
        """Address without instance keys -> the first instance's address."""
        self.configs: dict[str, dict[str, Any]] = {}
        configuration = data.get("configuration")
        if isinstance(configuration, dict):
            self._configs(configuration.get("root_module"), "", 0)
        planned = data.get("planned_values")
        if isinstance(planned, dict):
            self._walk(planned.get("root_module"), "/planned_values/root_module", 0)
        prior = data.get("prior_state")
        values = prior.get("values") if isinstance(prior, dict) else None
        if isinstance(values, dict):
            self._walk(values.get("root_module"), "/prior_state/values/root_module", 0)

    def _configs(self, module: Any, prefix: str, depth: int) -> None:
        if not isinstance(module, dict) or depth > MAX_MODULE_DEPTH:
            return
        self.configs[prefix] = module
        calls = module.get("module_calls")
        for name, call in (calls if isinstance(calls, dict) else {}).items():
            if isinstance(call, dict):
                self._configs(call.get("module"), f"{prefix}module.{name}.", depth + 1)

    def _walk(self, module: Any, pointer: str, depth: int) -> None:
        if not isinstance(module, dict) or depth > MAX_MODULE_DEPTH:
            return
        prefix = module.get("address")
        prefix = _INDEX.sub("", prefix) + "." if isinstance(prefix, str) and prefix else ""
        config = self.configs.get(prefix, {})
        configured = {
            f"{'data.' if r.get('mode') == 'data' else ''}{r.get('type')}.{r.get('name')}": r
            for r in config.get("resources", [])
            if isinstance(r, dict)
        }
        resources = module.get("resources")
        for i, resource in enumerate(resources if isinstance(resources, list) else []):
            if not isinstance(resource, dict):
                continue
            address, kind = resource.get("address"), resource.get("type")
            values = resource.get("values")
            if not isinstance(address, str) or not isinstance(kind, str) or address in self.views:
                continue
            local = _INDEX.sub("", address).removeprefix(prefix)
            expressions = configured.get(local, {}).get("expressions")
            at = f"{pointer}/resources/{i}"
            self.views[address] = _PlanView(
                self,
                prefix,
                address,
                kind,
                values if isinstance(values, dict) else {},
                expressions if isinstance(expressions, dict) else {},
                at,
                f"{at}/values",
            )
            self.first.setdefault(_INDEX.sub("", address), address)
        children = module.get("child_modules")
        for i, child in enumerate(children if isinstance(children, list) else []):
            self._walk(child, f"{pointer}/child_modules/{i}", depth + 1)

    def resolve(self, module: str, reference: str, depth: int) -> tuple[str, str] | None:
        """`(resource address, attribute)` a configuration reference names, if any."""
        parts = _INDEX.sub("", reference).split(".")
        head = parts[0]
        if head == "var" and len(parts) >= 2 and module and depth < MAX_MODULE_DEPTH:
            parent, _, name = module[:-1].rpartition("module.")
            call = self.configs.get(parent, {}).get("module_calls", {}).get(name.rstrip("."))
            expression = call.get("expressions", {}).get(parts[1]) if call else None
            references = expression.get("references") if isinstance(expression, dict) else None
            for ref in references if isinstance(references, list) else []:
                if isinstance(ref, str):
                    found = self.resolve(parent, ref, depth + 1)
                    if found is not None:
                        return found
            return None
        if head in ("var", "local", "module", "each", "count", "path", "self", "terraform"):
            return None
        if head == "data":
            if len(parts) < 3:
                return None
            base, attr = ".".join(parts[:3]), parts[3] if len(parts) > 3 else ""
        else:
            if len(parts) < 2:
                return None
            base, attr = ".".join(parts[:2]), parts[2] if len(parts) > 2 else ""
        address = self.first.get(module + base)
        return (address, attr) if address is not None else None


def read_terraform_plan(
    path: Path, display: PurePosixPath, *, max_bytes: int, root: Path | None = None
) -> tuple[Application, list[ScanError]]:
    """One plan file; raises `LoaderError` when it cannot be read or is not a plan.

    A plan's paths (`filename`, an `archive_file`'s `source_dir`) are relative to the
    folder Terraform ran in, which the plan does not record: they are taken as relative
    to the plan file's folder, where `terraform show -json` output is usually saved.
    `root` is the scanned folder: a layer's local content outside it is an error where
    the path is written and is left out. Without it, paths are taken as written.
    """
    text = read_text(path, display, max_bytes)
    data = parse_json(text, display)
    if not is_terraform_plan(data):
        raise LoaderError(display, "not a Terraform plan (`terraform show -json` output)", 1)
    plan = _Plan(data, display, text)
    views: dict[str, _View] = dict(plan.views)

    def data_policy(address: str) -> PolicyDocument | None:
        view = views.get(address)
        if view is None:
            return None
        value = view.get("json")
        origin = Origin(view.path, address, "policy", view.at("json"), view.lines)
        return _Linker.policy_value(linker, value, origin) if isinstance(value, str) else None

    linker = _Linker(views, data_policy)
    linked = linker.link(linker.code_uri)
    errors: list[ScanError] = []
    real_root = _resolved(root) if root is not None else None
    layers = linker.layers(
        lambda view: _layer_content(view, linker.local_code(view), path.parent, real_root, errors)
    )
    values: list[TemplateValue] = []
    root_config = plan.configs.get("", {})
    variables = root_config.get("variables")
    for name, spec in sorted((variables if isinstance(variables, dict) else {}).items()):
        if isinstance(spec, dict) and "default" in spec:
            values.append(
                TemplateValue(
                    "parameter-default",
                    f"var.{name}",
                    spec["default"],
                    f"/configuration/root_module/variables/{escape_pointer(name)}/default",
                    no_echo=spec.get("sensitive") is True,
                )
            )
    origin = Origin(display, display.name, "terraform-plan", lines=plan.lines)
    values.extend(linker.stage_values(origin))
    application = Application(
        origin=origin,
        functions=linked["functions"],
        roles=linked["roles"],
        permissions=linked["permissions"],
        buckets=linked["buckets"],
        values=tuple(values),
        layers=layers,
    )
    errors.extend(linker.errors)
    return application, sorted(set(errors), key=lambda e: (e.path, e.line or 0, e.message))
