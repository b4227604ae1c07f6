"""Linking dependency sets to functions, and markers evaluated for the function's runtime."""

from __future__ import annotations

from pathlib import PurePosixPath

import pytest

from lambdashield.checks._deps_view import DependencyView
from lambdashield.loaders.link import function_code, link_dependencies, python_version, set_folders
from lambdashield.model import (
    Application,
    Dependency,
    DependencySet,
    Function,
    Layer,
    Origin,
    Unresolved,
)


def app(path: str, kind: str, *functions: Function, layers: tuple[Layer, ...] = ()) -> Application:
    shown = PurePosixPath(path)
    return Application(Origin(shown, shown.name, kind), functions=functions, layers=layers)


def fn(
    name: str,
    code_uri: str | None = "src/",
    runtime: str | Unresolved | None = "python3.12",
    layers: tuple[str, ...] = (),
) -> Function:
    return Function(
        Origin(PurePosixPath("template.yaml"), name, "function"),
        runtime=runtime,
        handler="app.handler",
        code_uri=code_uri,
        layers=layers,
    )


def dep_set(path: str, kind: str = "requirements", *deps: Dependency) -> DependencySet:
    shown = PurePosixPath(path)
    return DependencySet(Origin(shown, shown.name, "dependencies"), kind, deps, locked=False)


def linked(applications: list[Application], *sets: DependencySet) -> dict[str, tuple[str, ...]]:
    return {s.origin.path.as_posix(): s.functions for s in link_dependencies(applications, sets)}


@pytest.mark.parametrize(
    ("runtime", "expected"),
    [
        ("python3.12", "3.12"),
        ("python3.9", "3.9"),
        ("nodejs20.x", None),
        ("provided.al2023", None),
        (Unresolved("${Runtime}"), None),
        (None, None),
    ],
)
def test_python_version_of_runtime(runtime: str | Unresolved | None, expected: str | None) -> None:
    assert python_version(fn("F", runtime=runtime)) == expected


def test_code_folder_relative_to_the_template() -> None:
    sam = app("proj/template.yaml", "sam", fn("Api", "src/"), fn("Other", "other"))
    assert linked(
        [sam],
        dep_set("proj/src/requirements.txt"),
        dep_set("proj/src/sub/requirements.txt"),
        dep_set("proj/other/package.json", "package.json"),
        dep_set("proj/requirements.txt"),
    ) == {
        "proj/src/requirements.txt": ("Api",),
        "proj/src/sub/requirements.txt": (),
        "proj/other/package.json": ("Other",),
        "proj/requirements.txt": (),
    }


def test_sam_build_folder_and_installed_tree() -> None:
    sam = app("template.yaml", "sam", fn("Api", "src/"))
    assert linked(
        [sam],
        dep_set(".aws-sam/build/Api", "site-packages"),
        dep_set(".aws-sam/build/Worker", "site-packages"),
    ) == {".aws-sam/build/Api": ("Api",), ".aws-sam/build/Worker": ()}


def test_serverless_service_folder_and_terraform_root_module() -> None:
    serverless = app("svc/serverless.yml", "serverless", fn("worker", "."))
    terraform = app(
        "infra/app",
        "terraform",
        fn("aws_lambda_function.api", "src/api"),
        fn("module.jobs.aws_lambda_function.this", "../modules/jobs/dist/jobs.zip"),
    )
    assert linked(
        [serverless, terraform],
        dep_set("svc/requirements.txt"),
        dep_set("infra/app/src/api/requirements.txt"),
        dep_set("infra/modules/jobs/dist/jobs.zip", "deployment-zip"),
    ) == {
        "svc/requirements.txt": ("worker",),
        "infra/app/src/api/requirements.txt": ("aws_lambda_function.api",),
        "infra/modules/jobs/dist/jobs.zip": ("module.jobs.aws_lambda_function.this",),
    }


def test_layer_folders() -> None:
    layers = (
        Layer(Origin(PurePosixPath("template.yaml"), "DepsLayer", "layer"), "layers/deps/"),
        Layer(Origin(PurePosixPath("template.yaml"), "NodeLayer", "layer"), "layers/node"),
        Layer(Origin(PurePosixPath("template.yaml"), "Remote", "layer"), None),
    )
    sam = app(
        "template.yaml",
        "sam",
        fn("Api", layers=("${DepsLayer}", "${NodeLayer.Arn}", "${Remote}")),
        fn("Plain"),
        layers=layers,
    )
    assert linked(
        [sam],
        dep_set("layers/deps/python", "site-packages"),
        dep_set("layers/deps/python/lib/python3.12/site-packages", "site-packages"),
        dep_set("layers/deps/requirements.txt"),
        dep_set("layers/node/nodejs/node_modules", "node_modules"),
        dep_set("src/requirements.txt"),
    ) == {
        "layers/deps/python": ("Api",),
        "layers/deps/python/lib/python3.12/site-packages": ("Api",),
        "layers/deps/requirements.txt": ("Api",),
        "layers/node/nodejs/node_modules": ("Api",),
        "src/requirements.txt": ("Api", "Plain"),
    }


def test_layer_zips_and_layers_of_modules() -> None:
    main = PurePosixPath("infra/main.tf")
    layers = (
        Layer(Origin(main, "aws_lambda_layer_version.pdf", "layer"), "layers/pdf.zip"),
        Layer(Origin(main, "module.jobs.aws_lambda_layer_version.this", "layer"), "jobs/layer"),
    )
    terraform = app(
        "infra",
        "terraform",
        fn(
            "aws_lambda_function.export",
            "build/export.zip",
            layers=("aws_lambda_layer_version.pdf.arn",),
        ),
        fn(
            "module.jobs.aws_lambda_function.this",
            "jobs/build/jobs.zip",
            layers=("module.jobs.aws_lambda_layer_version.this.arn",),
        ),
        # Inside the module it is written `aws_lambda_layer_version.this.arn`: not this layer.
        fn(
            "aws_lambda_function.other",
            "build/other.zip",
            layers=("aws_lambda_layer_version.this.arn",),
        ),
        layers=layers,
    )
    assert linked(
        [terraform],
        dep_set("infra/layers/pdf.zip", "deployment-zip"),
        dep_set("infra/jobs/layer/python", "site-packages"),
    ) == {
        "infra/layers/pdf.zip": ("aws_lambda_function.export",),
        "infra/jobs/layer/python": ("module.jobs.aws_lambda_function.this",),
    }


def test_set_folders() -> None:
    assert set_folders(dep_set("a/b/requirements.txt")) == ("a/b",)
    assert set_folders(dep_set("a/node_modules", "node_modules")) == ("a",)
    assert set_folders(dep_set("python", "site-packages")) == ("python", ".")
    assert set_folders(dep_set("build/fn.zip", "deployment-zip")) == ("build/fn.zip",)


def test_function_code_without_local_code() -> None:
    code = function_code(app("template.yaml", "cloudformation", fn("F", None)), fn("F", None))
    assert code.code is None
    assert code.build == ".aws-sam/build/F"
    assert function_code(app("serverless.yml", "serverless"), fn("F", ".")).build is None


def test_runtime_versions_decide_the_marker_version() -> None:
    shared = dep_set("src/requirements.txt")
    cases = {
        ("python3.12", "python3.12"): "3.12",
        ("python3.12", "nodejs20.x"): "3.12",
        ("python3.11", "python3.12"): None,
    }
    for runtimes, expected in cases.items():
        sam = app("template.yaml", "sam", *(fn(f"F{i}", runtime=r) for i, r in enumerate(runtimes)))
        (result,) = link_dependencies([sam], [shared])
        assert result.python_version == expected, runtimes
    unknown = app("template.yaml", "sam", fn("A"), fn("B", runtime=Unresolved("${Runtime}")))
    assert link_dependencies([unknown], [shared])[0].python_version is None


def test_unlinked_sets_are_returned_unchanged() -> None:
    alone = dep_set("lib/requirements.txt")
    assert link_dependencies([], [alone]) == [alone]
    assert link_dependencies([app("template.yaml", "sam", fn("F"))], [alone])[0] is alone


def test_marker_is_evaluated_for_the_function_runtime_not_the_machine() -> None:
    old_only = Dependency(
        "PyPI", "lsdemo-http", "1.0.0", "==1.0.0", pinned=True, markers='python_version < "3.10"'
    )
    everywhere = Dependency("PyPI", "lsdemo-cache", "2.5", "==2.5", pinned=True)
    requirements = dep_set("src/requirements.txt", "requirements", old_only, everywhere)
    for runtime, names in (
        ("python3.12", ["lsdemo-cache"]),
        ("python3.9", ["lsdemo-http", "lsdemo-cache"]),
    ):
        (result,) = link_dependencies(
            [app("template.yaml", "sam", fn("F", runtime=runtime))], [requirements]
        )
        assert result.functions == ("F",)
        assert [d.name for d in DependencyView(result).dependencies()] == names, runtime
    # Unlinked: no runtime is known, so the dependency may be installed and counts.
    assert len(list(DependencyView(requirements).dependencies())) == 2
