"""CloudFormation and SAM templates into the model: exact functions, roles and triggers."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambdashield.advisories.store import import_path
from lambdashield.config import Config
from lambdashield.engine import scan
from lambdashield.errors import LoaderError
from lambdashield.loaders.cloudformation import load_template, resources_to_model
from lambdashield.model import (
    Application,
    AuthKind,
    Authorization,
    Function,
    GrantSource,
    PublicAccessBlock,
    Suppression,
    TriggerKind,
    Unresolved,
)
from lambdashield.policygen import generate

TEMPLATES = Path(__file__).resolve().parents[1] / "fixtures" / "templates"


def load(name: str) -> Application:
    application, errors = load_template(TEMPLATES / name, PurePosixPath(name), max_bytes=10**7)
    assert errors == []
    return application


def by_name(application: Application) -> dict[str, Function]:
    return {f.origin.resource: f for f in application.functions}


def test_sam_globals_reach_every_function_even_without_properties() -> None:
    functions = by_name(load("sam.yaml"))
    health = functions["HealthFunction"]
    assert (health.runtime, health.runtime_pointer, health.timeout) == (
        "python3.9",
        "/Globals/Function/Runtime",
        10,
    )
    assert [(e.name, e.value, e.pointer) for e in health.environment] == [
        ("STAGE", "prod", "/Globals/Function/Environment/Variables/STAGE")
    ]
    reports = functions["ReportsFunction"]
    assert (reports.runtime, reports.runtime_pointer) == (
        "nodejs20.x",
        "/Resources/ReportsFunction/Properties/Runtime",
    )


def test_sam_environment_merges_globals_and_marks_no_echo_defaults() -> None:
    create = by_name(load("sam.yaml"))["CreateOrderFunction"]
    base = "/Resources/CreateOrderFunction/Properties/Environment/Variables"
    assert [(e.name, e.value, e.pointer, e.no_echo_default) for e in create.environment] == [
        ("STAGE", "prod", "/Globals/Function/Environment/Variables/STAGE", False),
        ("TABLE", "${OrdersTable}", f"{base}/TABLE", False),
        ("DB_PASSWORD", "hunter2-not-a-real-one", f"{base}/DB_PASSWORD", True),
    ]


def test_sam_policies_in_every_form() -> None:
    role = by_name(load("sam.yaml"))["CreateOrderFunction"].role
    assert role is not None
    policies = "/Resources/CreateOrderFunction/Properties/Policies"
    assert [(g.source, g.name, g.pointer, g.document is not None) for g in role.grants] == [
        (
            GrantSource.AWS_MANAGED,
            "AWSLambdaBasicExecutionRole",
            "/Resources/CreateOrderFunction",
            True,
        ),
        (GrantSource.AWS_MANAGED, "AmazonDynamoDBFullAccess", f"{policies}/0", True),
        (
            GrantSource.SAM_TEMPLATE,
            "DynamoDBCrudPolicy",
            f"{policies}/1/DynamoDBCrudPolicy",
            True,
        ),
        (GrantSource.SAM_TEMPLATE, "S3CrudPolicy", f"{policies}/2/S3CrudPolicy", True),
        (GrantSource.INLINE, "CreateOrderFunctionRole", f"{policies}/3", True),
        (
            GrantSource.CUSTOMER_MANAGED,
            "arn:aws:iam::123456789012:policy/team-boundary",
            f"{policies}/4",
            False,
        ),
    ]
    inline = role.grants[4].document
    assert inline is not None
    assert [r.value for r in inline.statements[0].resources] == [
        "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/orders/*"
    ]


def test_sam_events_urls_and_authorisation() -> None:
    create = by_name(load("sam.yaml"))["CreateOrderFunction"]
    events = "/Resources/CreateOrderFunction/Properties/Events"
    assert [(t.kind, t.source, t.pointer, t.auth, t.filters) for t in create.triggers] == [
        (
            TriggerKind.API_REST,
            "POST /orders",
            f"{events}/Create",
            Authorization(AuthKind.AUTHORIZER, "DefaultAuthorizer OrdersAuthorizer"),
            (),
        ),
        (
            TriggerKind.API_REST,
            "GET /health",
            f"{events}/Health",
            Authorization(
                AuthKind.NONE,
                "Authorizer NONE",
                pointer=f"{events}/Health/Properties/Auth/Authorizer",
            ),
            (),
        ),
        (TriggerKind.S3, "Uploads", f"{events}/Upload", None, (("suffix", ".csv"),)),
        (TriggerKind.SCHEDULE, "rate(1 day)", f"{events}/Nightly", None, ()),
        (
            TriggerKind.FUNCTION_URL,
            "function URL",
            "/Resources/CreateOrderFunction/Properties/FunctionUrlConfig/AuthType",
            Authorization(
                AuthKind.NONE,
                "AuthType NONE",
                pointer="/Resources/CreateOrderFunction/Properties/FunctionUrlConfig/AuthType",
            ),
            (),
        ),
    ]


def test_delivery_failures_and_exposure() -> None:
    application = load("delivery.yaml")
    ingest, legacy = application.functions
    events = "/Resources/IngestFunction/Properties/Events"
    queue = "${UndeliverableQueue.Arn}"
    assert ingest.on_failure == "SNS that SAM creates"  # `Type` without `Destination`
    assert [
        (t.kind, t.pointer, t.dead_letter, t.asynchronous, t.is_async) for t in ingest.triggers
    ] == [
        (TriggerKind.S3, f"{events}/Upload", None, None, True),
        (TriggerKind.SNS, f"{events}/Order", queue, None, True),
        # `SqsSubscription`: Lambda polls the queue SAM puts between topic and function.
        (TriggerKind.SNS, f"{events}/Buffered", None, False, False),
        (TriggerKind.EVENTBRIDGE, f"{events}/Changes", queue, None, True),
        (TriggerKind.SCHEDULE, f"{events}/Nightly", "SQS queue that SAM creates", None, True),
        (TriggerKind.API_REST, f"{events}/Lookup", None, None, False),
    ]
    # `Globals.Api.EndpointConfiguration: PRIVATE` reaches the implicit API.
    lookup = ingest.triggers[-1].auth
    assert lookup is not None and (lookup.kind, lookup.private) == (AuthKind.NONE, True)

    assert legacy.on_failure == queue  # from the separate `AWS::Lambda::EventInvokeConfig`
    assert [(t.kind, t.source, t.pointer, t.dead_letter) for t in legacy.triggers] == [
        (
            TriggerKind.SNS,
            "OrderEventsTopic",
            "/Resources/OrderEventsTopic/Properties/Subscription/0",
            None,
        ),
        (
            TriggerKind.EVENTBRIDGE,
            "LegacyRule",
            "/Resources/LegacyRule/Properties/Targets/1",
            queue,
        ),
        (
            TriggerKind.SCHEDULE,
            "cron(0 5 * * ? *)",
            "/Resources/LegacySchedule/Properties/Target",
            "arn:aws:sqs:us-east-1:123456789012:schedule-dlq",
        ),
        (
            TriggerKind.SNS,
            "arn:aws:sns:us-east-1:123456789012:audit",
            "/Resources/LegacySubscription",
            "arn:aws:sqs:us-east-1:123456789012:audit-dlq",
        ),
        (TriggerKind.API_REST, "POST /", "/Resources/JobsPost", None),
    ]
    jobs = legacy.triggers[-1]
    # `X-Amz-Invocation-Type: 'Event'`: an asynchronous API route on a regional API.
    assert (jobs.asynchronous, jobs.is_async) == (True, True)
    assert jobs.auth is not None and not jobs.auth.private

    (permission,) = application.permissions
    assert (permission.principal, permission.principal_org_id) == ("*", "o-a1b2c3d4e5")
    (bucket,) = application.buckets
    assert bucket.notifies == ("IngestFunction",)  # from the SAM `S3` event
    assert bucket.public_access_block == PublicAccessBlock(
        "/Resources/UploadsBucket/Properties/PublicAccessBlockConfiguration",
        block_public_acls=True,
        ignore_public_acls=True,
        block_public_policy=False,
        restrict_public_buckets=True,
    )


def test_sam_s3_event_and_notification_on_one_bucket_name_both_functions(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        "  Thumbs:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties: {Handler: a.h, Runtime: python3.12, CodeUri: .,\n"
        "      Events: {Up: {Type: S3, Properties: {Bucket: !Ref Media, Events: s3:*}}}}\n"
        "  Index:\n"
        "    Type: AWS::Lambda::Function\n"
        "    Properties: {Handler: a.h, Runtime: python3.12, Role: arn:aws:iam::1:role/r}\n"
        "  Media:\n"
        "    Type: AWS::S3::Bucket\n"
        "    Properties:\n"
        "      NotificationConfiguration:\n"
        "        LambdaConfigurations: [{Event: s3:ObjectCreated:*, Function: !GetAtt Index.Arn}]\n"
        "  Elsewhere:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties: {Handler: a.h, Runtime: python3.12, CodeUri: .,\n"
        "      Events: {Up: {Type: S3, Properties: {Bucket: other-bucket, Events: s3:*}}}}\n",
        encoding="utf-8",
    )
    application, errors = load_template(path, PurePosixPath("template.yaml"), max_bytes=10**7)
    assert errors == []
    assert [(b.origin.resource, b.notifies) for b in application.buckets] == [
        ("Media", ("Index", "Thumbs"))
    ]


def test_metadata_suppression_covers_the_resource() -> None:
    application = load("sam.yaml")
    assert application.suppressions == (
        Suppression(PurePosixPath("sam.yaml"), 87, ("LS-FN-001",), "migrating next sprint", 101),
    )
    assert [(v.name, v.no_echo) for v in application.values] == [
        ("Stage", False),
        ("DbPassword", True),
    ]


def test_plain_cloudformation_links_roles_permissions_and_triggers() -> None:
    application = load("cloudformation.yaml")
    (worker,) = application.functions
    assert worker.runtime == "nodejs16.x"
    assert worker.environment[0].value == Unresolved("Ref QueueArn", "parameter without a default")
    assert worker.role is not None
    assert [(g.source, g.name, g.pointer) for g in worker.role.grants] == [
        (
            GrantSource.AWS_MANAGED,
            "arn:aws:iam::aws:policy/AmazonSQSFullAccess",
            "/Resources/WorkerRole/Properties/ManagedPolicyArns/0",
        ),
        (
            GrantSource.CUSTOMER_MANAGED,
            "ReportsPolicy",
            "/Resources/WorkerRole/Properties/ManagedPolicyArns/1",
        ),
        (GrantSource.INLINE, "WorkerExtra", "/Resources/WorkerExtra/Properties/PolicyDocument"),
    ]
    assert [(t.kind, t.source, t.pointer, t.auth and t.auth.kind) for t in worker.triggers] == [
        (
            TriggerKind.FUNCTION_URL,
            "function URL",
            "/Resources/WorkerUrl/Properties/AuthType",
            AuthKind.IAM,
        ),
        (TriggerKind.OTHER, "${Ref QueueArn}", "/Resources/WorkerQueue", None),
        (TriggerKind.API_REST, "POST /jobs", "/Resources/JobsPost", AuthKind.NONE),
        (
            TriggerKind.S3,
            "Reports",
            "/Resources/Reports/Properties/NotificationConfiguration/LambdaConfigurations/0",
            None,
        ),
    ]
    (permission,) = application.permissions
    assert (permission.function, permission.principal, permission.source_arn) == (
        "Worker",
        "*",
        None,
    )
    (bucket,) = application.buckets
    assert (bucket.origin.resource, bucket.public_read, bucket.notifies) == (
        "Reports",
        True,
        ("Worker",),
    )
    assert bucket.policy is not None
    assert bucket.policy.statements[0].principals[0][1].value == "logging.s3.amazonaws.com"


def test_effective_permissions_are_reported_at_the_function(tmp_path: Path) -> None:
    report = scan([str(TEMPLATES / "cloudformation.yaml")], Config(select=("LS-IAM-005",)))
    assert report.errors == ()
    assert {(f.resource, f.location.pointer, f.location.start_line) for f in report.findings} == {
        ("Worker", "/Resources/WorkerExtra/Properties/PolicyDocument/Statement/0/Action", 41),
        ("Worker", "/Resources/WorkerRole/Properties/ManagedPolicyArns/0/Statement/0/Action/0", 19),
    }


def test_json_template_like_cdk_output(tmp_path: Path) -> None:
    template = {
        "Resources": {
            "Fn9270CBC0": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Runtime": "python3.8",
                    "Handler": "index.handler",
                    "Role": "arn:aws:iam::123456789012:role/x",
                },
            }
        }
    }
    folder = tmp_path / "cdk.out"
    folder.mkdir()
    (folder / "Stack.template.json").write_text(json.dumps(template, indent=1), encoding="utf-8")
    report = scan([str(tmp_path)], Config(select=("LS-IAM-013",)))
    assert [(f.resource, f.location.pointer, f.location.start_line) for f in report.findings] == [
        ("Fn9270CBC0", "/Resources/Fn9270CBC0/Properties/Role", 8)
    ]
    assert report.functions == 1


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("Resources:\n  A: [1,\n", 3, "invalid YAML"),
        ("Resources:\n  A:\n    Type: AWS::S3::Bucket\n  A: {}\n", 4, "duplicate key 'A'"),
        ("Resources:\n  A:\n    Type: !Bogus AWS::S3::Bucket\n", 3, "unknown YAML tag !Bogus"),
        (
            "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
            + "".join(
                f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n"
                for i in range(7)
            )
            + "Resources: {}\n",
            1,
            "more than 500,000 YAML nodes",
        ),
        ("Resources:\n" + "  " + "[" * 3000 + "\n", 2, "invalid YAML"),
    ],
)
def test_hostile_yaml_is_a_located_error(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = tmp_path / "template.yaml"
    path.write_text("AWSTemplateFormatVersion: '2010-09-09'\n" + text, encoding="utf-8")
    with pytest.raises(LoaderError) as raised:
        load_template(path, PurePosixPath("template.yaml"), max_bytes=10**7)
    assert raised.value.line == line + 1
    assert message in raised.value.detail


names = st.sampled_from(["Fn", "Role", "Api", "Bucket", "Perm", "Table", "Policy"])
types = st.sampled_from(
    [
        "AWS::Serverless::Function",
        "AWS::Lambda::Function",
        "AWS::IAM::Role",
        "AWS::IAM::Policy",
        "AWS::Lambda::Permission",
        "AWS::Lambda::Url",
        "AWS::Lambda::EventSourceMapping",
        "AWS::ApiGateway::Method",
        "AWS::ApiGatewayV2::Route",
        "AWS::S3::Bucket",
        "AWS::S3::BucketPolicy",
        "AWS::Serverless::Api",
        "AWS::Events::Rule",
        "AWS::Scheduler::Schedule",
        "AWS::SNS::Subscription",
        "AWS::SNS::Topic",
        "AWS::Lambda::EventInvokeConfig",
        "AWS::ApiGateway::RestApi",
    ]
)
leaf = st.one_of(
    st.text(max_size=6),
    st.integers(),
    st.booleans(),
    st.none(),
    names.map(lambda n: {"Ref": n}),
    names.map(lambda n: {"Fn::GetAtt": [n, "Arn"]}),
    st.just({"Fn::Sub": "arn:${AWS::Partition}:s3:::${Bucket}/*"}),
)
values = st.recursive(
    leaf,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "Runtime",
                    "Role",
                    "Policies",
                    "Events",
                    "Type",
                    "Properties",
                    "Auth",
                    "Statement",
                    "Environment",
                    "Variables",
                    "FunctionName",
                    "Bucket",
                    "PolicyDocument",
                    "Roles",
                    "Path",
                    "Targets",
                    "Target",
                    "Arn",
                    "Endpoint",
                    "Protocol",
                    "Subscription",
                    "RedrivePolicy",
                    "DeadLetterConfig",
                    "PublicAccessBlockConfiguration",
                    "EndpointConfiguration",
                    "DestinationConfig",
                    "OnFailure",
                    "Destination",
                    "Integration",
                    "RequestParameters",
                    "SqsSubscription",
                    "ParentId",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=25,
)
resources = st.dictionaries(
    names,
    st.fixed_dictionaries({"Type": types}, optional={"Properties": values, "Metadata": values}),
    max_size=5,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(resources, st.dictionaries(st.sampled_from(["Function", "Api"]), values, max_size=2))
def test_template_model_never_raises(resources: dict[str, Any], globals_: dict[str, Any]) -> None:
    data = {"Transform": "AWS::Serverless-2016-10-31", "Globals": globals_, "Resources": resources}
    resources_to_model(data, PurePosixPath("t.yaml"), lambda _p: (None, None))


def test_layers_link_their_dependencies_to_the_functions_that_use_them(tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        "  DepsLayer:\n"
        "    Type: AWS::Serverless::LayerVersion\n"
        "    Properties:\n"
        "      ContentUri: layers/deps/\n"
        "  Api:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties:\n"
        "      Runtime: python3.12\n"
        "      Handler: app.handler\n"
        "      CodeUri: src/\n"
        "      Layers: [!Ref DepsLayer]\n",
        encoding="utf-8",
    )
    (tmp_path / "layers" / "deps").mkdir(parents=True)
    (tmp_path / "layers" / "deps" / "requirements.txt").write_text(
        "requests==2.32.3\n", encoding="utf-8"
    )
    application = load_template(
        tmp_path / "template.yaml", PurePosixPath("template.yaml"), max_bytes=10**7
    )[0]
    assert [(layer.origin.resource, layer.content_uri) for layer in application.layers] == [
        ("DepsLayer", "layers/deps/")
    ]
    report = scan([str(tmp_path)], Config(select=("LS-DEP-003",), fail_on_missing_db=False))
    (linked,) = report.dependency_sets
    assert (linked.origin.path.name, linked.functions, linked.python_version) == (
        "requirements.txt",
        ("Api",),
        "3.12",
    )


# --- local code and layer paths against the scanned root ------------------------------

OUTSIDE = "is outside the scanned folder, which is never read; scan a folder that holds both"
SAM_APP = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  DepsLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: {layer}
  Api:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: {code}
      Layers: [!Ref DepsLayer]
      Events:
        Get:
          Type: HttpApi
          Properties: {{Path: /orders, Method: get}}
"""


def load_project(
    template: Path, text: str, root: Path
) -> tuple[Application, list[tuple[PurePosixPath, int | None, str]]]:
    template.parent.mkdir(parents=True, exist_ok=True)
    template.write_text(text, encoding="utf-8")
    display = PurePosixPath(template.relative_to(root).as_posix())
    application, errors = load_template(template, display, max_bytes=10**7, root=root)
    return application, [(e.path, e.line, e.message) for e in errors]


def code_and_layers(application: Application) -> tuple[list[str | None], list[str | None]]:
    return (
        [f.code_uri for f in application.functions],
        [layer.content_uri for layer in application.layers],
    )


@pytest.mark.parametrize("code", ["../outside", "../outside/app.zip", "{elsewhere}"])
def test_sam_code_uri_outside_the_root_is_an_error_at_its_line(tmp_path: Path, code: str) -> None:
    project = tmp_path / "project"
    written = code.format(elsewhere=tmp_path / "elsewhere")
    text = SAM_APP.format(layer="layers/deps/", code=written)
    application, errors = load_project(project / "template.yaml", text, project)
    assert errors == [
        (PurePosixPath("template.yaml"), 12, f"function `Api`: `CodeUri` {written} {OUTSIDE}")
    ]
    assert code_and_layers(application) == ([None], ["layers/deps/"])
    # The function is still modelled: its other settings and triggers are checked as usual.
    (api,) = application.functions
    assert (api.runtime, api.handler, api.layers) == (
        "python3.12",
        "app.handler",
        ("${DepsLayer}",),
    )
    assert [(t.kind, t.pointer) for t in api.triggers] == [
        (TriggerKind.API_HTTP, "/Resources/Api/Properties/Events/Get")
    ]
    assert api.role is not None and api.role.origin.resource == "ApiRole"


def test_sam_layer_content_uri_outside_the_root_is_an_error_at_its_line(tmp_path: Path) -> None:
    project = tmp_path / "project"
    text = SAM_APP.format(layer="../shared/deps", code="src/")
    application, errors = load_project(project / "template.yaml", text, project)
    assert errors == [
        (
            PurePosixPath("template.yaml"),
            6,
            f"layer `DepsLayer`: `ContentUri` ../shared/deps {OUTSIDE}",
        )
    ]
    assert code_and_layers(application) == (["src/"], [None])


def test_cloudformation_code_and_content_outside_the_root_are_errors(tmp_path: Path) -> None:
    project = tmp_path / "project"
    text = (
        "AWSTemplateFormatVersion: '2010-09-09'\n"
        "Resources:\n"
        "  Deps:\n"
        "    Type: AWS::Lambda::LayerVersion\n"
        "    Properties:\n"
        "      Content: ../deps.zip\n"
        "  Worker:\n"
        "    Type: AWS::Lambda::Function\n"
        "    Properties:\n"
        "      Runtime: python3.12\n"
        "      Handler: app.handler\n"
        "      Role: arn:aws:iam::123456789012:role/worker\n"
        "      Code: ../../worker\n"
        "      Layers: [!Ref Deps]\n"
    )
    application, errors = load_project(project / "template.yaml", text, project)
    assert errors == [
        (PurePosixPath("template.yaml"), 6, f"layer `Deps`: `Content` ../deps.zip {OUTSIDE}"),
        (PurePosixPath("template.yaml"), 13, f"function `Worker`: `Code` ../../worker {OUTSIDE}"),
    ]
    assert code_and_layers(application) == ([None], [None])
    (worker,) = application.functions
    assert (
        worker.role is not None and worker.role.external == "arn:aws:iam::123456789012:role/worker"
    )


def test_globals_code_uri_outside_the_root_is_an_error_at_the_globals_line(tmp_path: Path) -> None:
    project = tmp_path / "project"
    text = (
        "Transform: AWS::Serverless-2016-10-31\n"
        "Globals:\n"
        "  Function:\n"
        "    CodeUri: ../shared-src\n"
        "Resources:\n"
        "  A:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties: {Runtime: python3.12, Handler: a.handler}\n"
        "  B:\n"
        "    Type: AWS::Serverless::Function\n"
        "    Properties: {Runtime: python3.12, Handler: b.handler, CodeUri: b/}\n"
    )
    application, errors = load_project(project / "template.yaml", text, project)
    assert errors == [
        (PurePosixPath("template.yaml"), 4, f"function `A`: `CodeUri` ../shared-src {OUTSIDE}")
    ]
    assert code_and_layers(application) == ([None, "b/"], [])


@pytest.mark.parametrize(
    ("code", "layer", "expected"),
    [
        ("s3://artifacts/api.zip", "s3://artifacts/deps.zip", ([None], [None])),
        (
            "{Bucket: artifacts, Key: api.zip}",
            "{Bucket: artifacts, Key: deps.zip}",
            ([None], [None]),
        ),
        ("!Sub 's3://${Bucket}/api.zip'", "!Sub '../${Folder}'", ([None], [None])),
        ("src/", "layers/deps/", (["src/"], ["layers/deps/"])),
        (".", "./layers/deps", (["."], ["./layers/deps"])),
        ("{project}/src", "{project}/layers/deps", (["{project}/src"], ["{project}/layers/deps"])),
    ],
)
def test_remote_code_and_code_inside_the_root_are_as_written(
    tmp_path: Path, code: str, layer: str, expected: tuple[list[str | None], list[str | None]]
) -> None:
    project = tmp_path / "project"
    text = SAM_APP.format(code=code, layer=layer).replace("{project}", str(project))
    application, errors = load_project(project / "template.yaml", text, project)
    assert errors == []
    codes, layers = expected
    assert code_and_layers(application) == (
        [c.replace("{project}", str(project)) if c else c for c in codes],
        [c.replace("{project}", str(project)) if c else c for c in layers],
    )


def test_code_beside_a_nested_template_is_checked_against_the_root(tmp_path: Path) -> None:
    project = tmp_path / "project"
    text = SAM_APP.format(code="../src/", layer="../../layers/deps")
    application, errors = load_project(project / "infra" / "template.yaml", text, project)
    assert errors == [
        (
            PurePosixPath("infra/template.yaml"),
            6,
            f"layer `DepsLayer`: `ContentUri` ../../layers/deps {OUTSIDE}",
        )
    ]
    assert code_and_layers(application) == (["../src/"], [None])


@pytest.mark.parametrize(("target", "inside"), [("../elsewhere", False), ("vendor/src", True)])
def test_a_link_in_the_root_is_followed_before_the_check(
    tmp_path: Path, target: str, inside: bool
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    real = (project / target).resolve()
    real.mkdir(parents=True)
    (real / "requirements.txt").write_text("requests==2.19.0\n", encoding="utf-8")
    (project / "src").symlink_to(real, target_is_directory=True)
    (project / "deps").symlink_to(real, target_is_directory=True)
    text = SAM_APP.format(code="src/", layer="deps")
    application, errors = load_project(project / "template.yaml", text, project)
    if inside:
        assert errors == []
        assert code_and_layers(application) == (["src/"], ["deps"])
    else:
        assert errors == [
            (PurePosixPath("template.yaml"), 6, f"layer `DepsLayer`: `ContentUri` deps {OUTSIDE}"),
            (PurePosixPath("template.yaml"), 12, f"function `Api`: `CodeUri` src/ {OUTSIDE}"),
        ]
        assert code_and_layers(application) == ([None], [None])


def test_without_a_root_code_paths_are_taken_as_written(tmp_path: Path) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(SAM_APP.format(code="../outside", layer="/opt/deps"), encoding="utf-8")
    application, errors = load_template(template, PurePosixPath("template.yaml"), max_bytes=10**7)
    assert errors == []
    assert code_and_layers(application) == (["../outside"], ["/opt/deps"])


def test_a_scan_fails_closed_on_code_outside_the_root(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (tmp_path / "shared" / "deps").mkdir(parents=True)
    (tmp_path / "shared" / "deps" / "requirements.txt").write_text(
        "requests==2.19.0\n", encoding="utf-8"
    )
    text = SAM_APP.format(code="../shared/deps", layer="../shared/deps").replace(
        "Runtime: python3.12", "Runtime: python3.8"
    )
    load_project(project / "template.yaml", text, project)
    report = scan([str(project)], Config(select=("LS-FN-001",), fail_on_missing_db=False))
    assert [(e.path.name, e.line, e.message) for e in report.errors] == [
        ("template.yaml", 6, f"layer `DepsLayer`: `ContentUri` ../shared/deps {OUTSIDE}"),
        ("template.yaml", 12, f"function `Api`: `CodeUri` ../shared/deps {OUTSIDE}"),
    ]
    # The template's other findings still come out, and nothing outside is read.
    assert [(f.rule.id, f.resource) for f in report.findings] == [("LS-FN-001", "Api")]
    assert report.dependency_sets == ()


# --- CDK output: local code named by asset metadata ------------------------------------

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CDK_APP = FIXTURES / "cdk_app"
ORDERS_ASSET = "asset.415effce5b11fea765cef7216ea32088348375d94f88ffd2d22b3dfa6ee0e695"
REPORTS_ASSET = "asset.ea8b36ebac85b07c90c9d16444170e12c85d69b49dd71730f677b2106be0cc76"
DEPS_ASSET = "asset.f7299a10c2049956bdd5583f88951228e03e07337f06de97895e63cd0c9749e7"
S3_CODE = {"S3Bucket": "cdk-hnb659fds-assets-123456789012-eu-west-1", "S3Key": "0a1b.zip"}


def cdk_function(metadata: dict[str, Any] | None, code: Any = None) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "Code": S3_CODE if code is None else code,
            "Handler": "index.handler",
            "Runtime": "python3.12",
            "Role": "arn:aws:iam::123456789012:role/fn",
        },
    }
    if metadata is not None:
        resource["Metadata"] = metadata
    return resource


def cdk_asset(path: str, prop: str = "Code") -> dict[str, Any]:
    return {
        "aws:cdk:path": "Stack/Fn/Resource",
        "aws:asset:path": path,
        "aws:asset:is-bundled": False,
        "aws:asset:property": prop,
    }


def load_cdk(
    project: Path, resources: dict[str, Any]
) -> tuple[Application, list[tuple[PurePosixPath, int | None, str]]]:
    """`project/cdk.out/Stack.template.json`, written with CDK's one-space indent."""
    return load_project(
        project / "cdk.out" / "Stack.template.json",
        json.dumps({"Resources": resources}, indent=1),
        project,
    )


def test_cdk_asset_metadata_names_the_code_and_layer_folders() -> None:
    application, errors = load_template(
        CDK_APP / "cdk.out" / "OrdersStack.template.json",
        PurePosixPath("cdk.out/OrdersStack.template.json"),
        max_bytes=10**7,
        root=CDK_APP,
    )
    assert errors == []
    assert [
        (f.origin.resource, f.runtime, f.handler, f.code_uri) for f in application.functions
    ] == [
        ("OrdersFn8A4C2B19", "python3.12", "index.handler", ORDERS_ASSET),
        ("ReportsFn5B7F0E28", "nodejs22.x", "index.handler", REPORTS_ASSET),
    ]
    assert [(layer.origin.resource, layer.content_uri) for layer in application.layers] == [
        ("DepsLayer7A3B1C52", DEPS_ASSET)
    ]
    orders = application.functions[0]
    assert orders.layers == ("${DepsLayer7A3B1C52}",)
    assert orders.role is not None
    assert [(g.name, g.pointer) for g in orders.role.grants][-1] == (
        "OrdersFnServiceRoleDefaultPolicy4C2A6D1E",
        "/Resources/OrdersFnServiceRoleDefaultPolicy4C2A6D1E/Properties/PolicyDocument",
    )


def test_cdk_asset_outside_the_root_is_an_error_at_the_metadata_line(tmp_path: Path) -> None:
    project = tmp_path / "project"
    elsewhere = tmp_path / "elsewhere" / "asset.1f2e"
    layer = cdk_asset(str(elsewhere), "Content")
    application, errors = load_cdk(
        project,
        {
            "Deps": {
                "Type": "AWS::Lambda::LayerVersion",
                "Properties": {"Content": S3_CODE},
                "Metadata": layer,
            },
            "Fn": cdk_function(cdk_asset("../../asset.9c8d")),
            # A local `Code` outside the root is its own error; the metadata is not a fallback.
            "Local": cdk_function(cdk_asset("asset.7b6a"), code="../../src"),
        },
    )
    shown = PurePosixPath("cdk.out/Stack.template.json")
    assert errors == [
        (shown, 13, f"layer `Deps`: `aws:asset:path` {elsewhere} {OUTSIDE}"),
        (shown, 31, f"function `Fn`: `aws:asset:path` ../../asset.9c8d {OUTSIDE}"),
        (shown, 39, f"function `Local`: `Code` ../../src {OUTSIDE}"),
    ]
    assert code_and_layers(application) == ([None, None], [None])


@pytest.mark.parametrize(
    "metadata",
    [
        None,
        {"aws:cdk:path": "Stack/Fn/Resource"},
        # A container image's asset fills `Code.ImageUri`, never a code folder.
        cdk_asset("asset.5e4f", "Code.ImageUri"),
        {"aws:cdk:path": "Stack/Fn/Resource", "aws:asset:path": "asset.5e4f"},
        cdk_asset("", "Code"),
        cdk_asset("asset.5e4f", "Content"),
    ],
)
def test_s3_code_without_a_code_asset_has_no_local_code(
    tmp_path: Path, metadata: dict[str, Any] | None
) -> None:
    (tmp_path / "cdk.out" / "asset.5e4f").mkdir(parents=True)
    application, errors = load_cdk(tmp_path, {"Fn": cdk_function(metadata)})
    assert errors == []
    assert code_and_layers(application) == ([None], [])


def test_cdk_zip_asset_is_the_deployment_zip(tmp_path: Path) -> None:
    name = "asset.3c2b1a.zip"
    application, errors = load_cdk(tmp_path, {"Fn": cdk_function(cdk_asset(name))})
    assert errors == []
    assert code_and_layers(application) == ([name], [])
    with zipfile.ZipFile(tmp_path / "cdk.out" / name, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return None\n")
        archive.writestr(
            "lsdemo_cache-2.5.dist-info/METADATA",
            "Metadata-Version: 2.1\nName: lsdemo-cache\nVersion: 2.5\n",
        )
    report = scan([str(tmp_path)], Config(select=("LS-CODE-001",), fail_on_missing_db=False))
    assert report.errors == ()
    (linked,) = report.dependency_sets
    assert (linked.kind, linked.origin.path.name, linked.functions) == (
        "deployment-zip",
        name,
        ("Fn",),
    )
    assert f"`Fn`: code is the archive `{name}`; handler not analysed" in [
        s.reason for s in report.not_analysed
    ]


def test_absolute_cdk_asset_path_inside_the_root_is_read_from_the_template_folder(
    tmp_path: Path,
) -> None:
    code = tmp_path / "lambda" / "orders"
    code.mkdir(parents=True)
    (code / "requirements.txt").write_text("requests\n", encoding="utf-8")
    application, errors = load_cdk(tmp_path, {"Fn": cdk_function(cdk_asset(str(code)))})
    assert errors == []
    assert code_and_layers(application) == (["../lambda/orders"], [])
    report = scan([str(tmp_path)], Config(select=("LS-DEP-003",), fail_on_missing_db=False))
    (linked,) = report.dependency_sets
    assert (linked.origin.path.parent.name, linked.functions) == ("orders", ("Fn",))


def test_sam_function_and_layer_honour_cdk_asset_metadata(tmp_path: Path) -> None:
    resources = {
        "Deps": {
            "Type": "AWS::Serverless::LayerVersion",
            "Properties": {"ContentUri": {"Bucket": "assets", "Key": "deps.zip"}},
            "Metadata": cdk_asset("asset.d1e2", "ContentUri"),
        },
        "Fn": {
            "Type": "AWS::Serverless::Function",
            "Properties": {
                "CodeUri": {"Bucket": "assets", "Key": "fn.zip"},
                "Handler": "index.handler",
                "Runtime": "python3.12",
            },
            "Metadata": cdk_asset("asset.f3a4", "CodeUri"),
        },
        # The property a Lambda function's asset fills is `Code`, never `CodeUri`.
        "Plain": cdk_function(cdk_asset("asset.b5c6", "CodeUri")),
    }
    application, errors = load_cdk(tmp_path, resources)
    assert errors == []
    assert code_and_layers(application) == (["asset.f3a4", None], ["asset.d1e2"])


@pytest.fixture(scope="module")
def advisories(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("cdk-store") / "advisories.sqlite3"
    assert import_path(FIXTURES / "osv", path).errors == []
    yield path


def test_scan_of_cdk_output_reads_each_function_s_asset(
    advisories: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(FIXTURES)
    rules = ("LS-CODE-001", "LS-CODE-006", "LS-DEP-001", "LS-DEP-005")
    config = Config(select=rules, db=advisories, advisory_max_age_days=100_000)
    report = scan(["cdk_app"], config)
    assert report.errors == ()
    assert report.functions == 2
    orders, reports, deps = (
        f"cdk_app/cdk.out/{a}" for a in (ORDERS_ASSET, REPORTS_ASSET, DEPS_ASSET)
    )
    found = {
        (f.rule.id, f.resource, f.location.path.as_posix(), f.location.start_line)
        for f in report.findings
    }
    assert found == {
        ("LS-CODE-001", "OrdersFn8A4C2B19", f"{orders}/index.py", 16),
        ("LS-CODE-006", "OrdersFn8A4C2B19", f"{orders}/index.py", 13),
        ("LS-CODE-001", "ReportsFn5B7F0E28", f"{reports}/index.js", 6),
        ("LS-CODE-006", "ReportsFn5B7F0E28", f"{reports}/index.js", 4),
        ("LS-DEP-001", "requirements.txt", f"{orders}/requirements.txt", 1),
        ("LS-DEP-005", "requirements.txt", f"{orders}/requirements.txt", 1),
        # The layer's installed tree: vulnerable, but no handler imports it.
        ("LS-DEP-001", "python", f"{deps}/python", None),
    }
    assert {
        (s.origin.path.as_posix(), s.functions, s.python_version) for s in report.dependency_sets
    } == {
        (f"{orders}/requirements.txt", ("OrdersFn8A4C2B19",), "3.12"),
        (f"{deps}/python", ("OrdersFn8A4C2B19",), "3.12"),
    }


def test_policy_generate_reads_the_handlers_in_cdk_assets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES)
    generated, errors = generate("cdk_app")
    assert errors == []
    assert [
        (g.name, str(g.extraction.entry), g.policy and g.policy["Statement"]) for g in generated
    ] == [
        (
            "OrdersFn8A4C2B19",
            f"cdk_app/cdk.out/{ORDERS_ASSET}/index.py",
            [
                {
                    "Action": ["dynamodb:PutItem"],
                    "Effect": "Allow",
                    "Resource": [
                        "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}"
                        ":table/${OrdersTable315BB997}"
                    ],
                }
            ],
        ),
        ("ReportsFn5B7F0E28", f"cdk_app/cdk.out/{REPORTS_ASSET}/index.js", []),
    ]
