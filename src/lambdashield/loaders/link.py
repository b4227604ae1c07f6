"""Linking dependency sets to the functions that ship them.

A set belongs to a function when it sits where the function's code is built from:

    code folder     `CodeUri` (SAM), `Code` (CloudFormation), the service folder (Serverless),
                    `filename` or an `archive_file`'s `source_dir` (Terraform), relative to
                    the template's folder (the root module's folder for Terraform); a zip
                    given there links the deployment zip of that path
    build folder    `.aws-sam/build/<LogicalId>/` next to the template
    layer folder    the local folder (or zip) of a layer the function uses: SAM
                    `ContentUri` (CloudFormation `Content`), Serverless `path` or
                    `package.artifact`, Terraform `filename` or its `archive_file`'s
                    `source_dir`

Installed trees count for the folder that holds them: a `python/` or
`python/lib/python3.X/site-packages/` folder for its layer, a `node_modules` for its parent.

The functions' runtime decides which environment markers apply: a set linked only to
`python3.12` functions is evaluated for Python 3.12. When its functions run different Python
versions the set keeps no version, so every dependency counts (it may be installed for one
of them). Pure: the model in, the model out, no file is read.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import PurePosixPath

from lambdashield.model import Application, DependencySet, Function, Layer, Unresolved

__all__ = [
    "FunctionCode",
    "application_folder",
    "function_code",
    "link_dependencies",
    "python_version",
    "set_folders",
]

_PYTHON_RUNTIME = re.compile(r"python(\d+\.\d+)")
_ARCHIVES = (".zip", ".jar")
_SITE_PACKAGES = re.compile(r"python/lib/python\d+\.\d+/site-packages$|python$")
_NODE_LAYER = re.compile(r"nodejs(?:/node\d+)?$")


def python_version(function: Function) -> str | None:
    """`3.12` for a `python3.12` function; `None` for other or unknown runtimes."""
    runtime = function.runtime
    if not isinstance(runtime, str):
        return None
    found = _PYTHON_RUNTIME.fullmatch(runtime.strip().lower())
    return found.group(1) if found else None


def _normal(path: PurePosixPath | str) -> str:
    return posixpath.normpath(str(path))


def application_folder(application: Application) -> PurePosixPath:
    """The folder relative paths in the application are written against."""
    origin = application.origin
    return origin.path if origin.resource_type == "terraform" else origin.path.parent


@dataclass(frozen=True, slots=True)
class FunctionCode:
    """Where one function's code and the things it ships may be found (normalised paths)."""

    function: Function
    code: str | None
    """The code folder (or archive), when local."""
    build: str | None
    """`.aws-sam/build/<LogicalId>` for SAM and CloudFormation templates."""
    layers: tuple[str, ...]
    """The local folders of the layers it uses."""


def _layer_names(reference: str) -> set[str]:
    """What a layer reference may name: `${DepsLayer}`, `${DepsLayer.Arn}`,
    `aws_lambda_layer_version.deps.arn`, `module.api.aws_lambda_layer_version.deps.arn`,
    `DepsLayer`."""
    text = reference.strip()
    if text.startswith("${") and text.endswith("}"):
        text = text[2:-1]
    names = {text}
    parts = text.split(".")
    for end in range(1, len(parts)):
        names.add(".".join(parts[:end]))
    return names


def function_code(application: Application, function: Function) -> FunctionCode:
    base = application_folder(application)
    code = _normal(base / function.code_uri) if function.code_uri else None
    build = None
    if application.origin.resource_type in ("sam", "cloudformation"):
        build = _normal(base / ".aws-sam" / "build" / function.origin.resource)
    layers_by_name: dict[str, Layer] = {
        layer.origin.resource: layer for layer in application.layers
    }
    layers: list[str] = []
    for reference in function.layers:
        for name in sorted(_layer_names(reference)):
            layer = layers_by_name.get(name)
            if layer is not None and layer.content_uri:
                layers.append(_normal(base / layer.content_uri))
    return FunctionCode(function, code, build, tuple(dict.fromkeys(layers)))


def _strip(text: str, pattern: re.Pattern[str]) -> str | None:
    """`text` without a trailing folder sequence matching `pattern`, if it ends with one."""
    found = pattern.search(text)
    if found is None or (found.start() > 0 and text[found.start() - 1] != "/"):
        return None
    return _normal(text[: found.start()] or ".")


def set_folders(dependency_set: DependencySet) -> tuple[str, ...]:
    """The folders (or archive) a set may describe: a manifest's folder, the folder holding
    an installed tree, the layer folder of a layer's `python/` or `nodejs/` tree, a
    deployment zip itself."""
    path = dependency_set.origin.path
    kind = dependency_set.kind
    if kind == "site-packages":
        own = _normal(path)
        layer = _strip(path.as_posix(), _SITE_PACKAGES)
    elif kind == "node_modules":
        own = _normal(path.parent)
        layer = _strip(path.parent.as_posix(), _NODE_LAYER)
    elif kind == "deployment-zip" or path.suffix.lower() in _ARCHIVES:
        own, layer = _normal(path), None
    else:
        own, layer = _normal(path.parent), None
    return (own,) if layer is None or layer == own else (own, layer)


def _marker_version(functions: Iterable[Function], current: str | None) -> str | None:
    """The one Python version every linked function runs; `None` when they differ or one
    is unknown (an unresolved runtime), so that every dependency counts."""
    versions = {current} if current else set()
    for function in functions:
        if isinstance(function.runtime, Unresolved):
            return None
        version = python_version(function)
        if version is not None:
            versions.add(version)
    return versions.pop() if len(versions) == 1 else None


def link_dependencies(
    applications: Sequence[Application], dependency_sets: Sequence[DependencySet]
) -> list[DependencySet]:
    """Each set with `functions` (logical names, in template order) and `python_version`
    filled from the functions that ship it; sets no function ships are returned as given."""
    by_folder: dict[str, list[Function]] = {}
    for application in applications:
        for function in application.functions:
            code = function_code(application, function)
            for folder in (code.code, code.build, *code.layers):
                if folder is not None:
                    owners = by_folder.setdefault(folder, [])
                    if function not in owners:
                        owners.append(function)
    linked: list[DependencySet] = []
    for dependency_set in dependency_sets:
        functions: list[Function] = []
        for folder in set_folders(dependency_set):
            functions.extend(f for f in by_folder.get(folder, []) if f not in functions)
        if not functions:
            linked.append(dependency_set)
            continue
        names = tuple(
            dict.fromkeys((*dependency_set.functions, *(f.origin.resource for f in functions)))
        )
        version = _marker_version(functions, dependency_set.python_version)
        linked.append(replace(dependency_set, functions=names, python_version=version))
    return linked
