"""CloudFormation and SAM templates into the model: exact functions, roles and triggers."""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
    Suppression,
    TriggerKind,
    Unresolved,
)

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
