"""Terraform loader: folders of `*.tf` and `*.tf.json` files, local modules and
`terraform show -json` plans."""

from __future__ import annotations

import dataclasses
import datetime
import json
import shutil
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambdashield.checks import functions as functions_module
from lambdashield.cli import main
from lambdashield.config import Config
from lambdashield.engine import scan
from lambdashield.errors import LoaderError
from lambdashield.loaders import terraform
from lambdashield.loaders._hcl import (
    Call,
    Conditional,
    For,
    HclSyntaxError,
    Opaque,
    Operation,
    Ref,
    Splat,
    Template,
    Traversal,
    parse_hcl,
)
from lambdashield.loaders._tf_json import parse_tf_json
from lambdashield.loaders.discover import Candidate, Kind, discover
from lambdashield.loaders.link import function_code
from lambdashield.loaders.terraform import (
    load_terraform,
    read_terraform_plan,
    root_module_folders,
)
from lambdashield.model import (
    Application,
    AuthKind,
    Authorization,
    Function,
    GrantSource,
    Location,
    Origin,
    PolicyDocument,
    PublicAccessBlock,
    Role,
    ScanError,
    Trigger,
    TriggerKind,
    Unresolved,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "terraform"
BIG = 10 * 1024 * 1024


def load(case: str, folder: str = "") -> tuple[Application, list[ScanError]]:
    root = FIXTURES / case
    where = root / folder if folder else root
    display = PurePosixPath("tf", case, folder) if folder else PurePosixPath("tf", case)
    return load_terraform(root, display, sorted(where.glob("*.tf")), max_bytes=BIG)


def line(path: Path, needle: str, after: str = "") -> int:
    """1-based line of the first `needle` (after the first `after`) in a fixture file."""
    text = path.read_text(encoding="utf-8")
    start = text.index(after) if after else 0
    return text.count("\n", 0, text.index(needle, start)) + 1


def function(app: Application, name: str) -> Function:
    return next(f for f in app.functions if f.origin.resource == name)


def role_of(fn: Function) -> Role:
    assert fn.role is not None
    return fn.role


# --- functions and their configuration ---------------------------------------------------


def test_function_configuration() -> None:
    app, errors = load("orders")
    assert errors == []
    assert [f.origin.resource for f in app.functions] == [
        "aws_lambda_function.legacy",
        "aws_lambda_function.orders",
    ]
    fn = function(app, "aws_lambda_function.orders")
    main = FIXTURES / "orders" / "main.tf"
    assert fn.origin.path == PurePosixPath("tf/orders/main.tf")
    assert fn.origin.resource_type == "function"
    assert fn.origin.pointer == "/resource/aws_lambda_function/orders"
    first = line(main, 'resource "aws_lambda_function" "orders"')
    assert fn.origin.lines(fn.origin.pointer) == (first, line(main, "data ") - 2)
    assert fn.runtime == "python3.12"
    assert fn.runtime_pointer == "/resource/aws_lambda_function/orders/runtime"
    assert fn.origin.lines(fn.runtime_pointer) == (line(main, '"python3.12"'),) * 2
    assert fn.handler == "orders.app.handler"
    assert fn.code_uri == "build/orders.zip"
    assert fn.package_type == "Zip"
    assert (fn.memory, fn.timeout, fn.reserved_concurrency) == (512, 30, 20)
    assert fn.dead_letter == "aws_sqs_queue.dlq.arn"
    assert fn.tracing == "Active"
    assert fn.kms_key == "var.kms_key_arn"
    assert fn.layers == (
        "arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV2:68",
    )
    assert fn.vpc is True
    assert fn.architectures == ("arm64",)
    assert fn.triggers == ()


def test_environment_values_pointers_and_lines() -> None:
    app, _ = load("orders")
    fn = function(app, "aws_lambda_function.orders")
    main = FIXTURES / "orders" / "main.tf"
    base = "/resource/aws_lambda_function/orders/environment/variables"
    assert [(e.name, e.value, e.pointer) for e in fn.environment] == [
        ("TABLE_NAME", "orders-table", f"{base}/TABLE_NAME"),
        ("DB_PASSWORD", "Tr0ub4dor&3-orders", f"{base}/DB_PASSWORD"),
        (
            "API_TOKEN",
            Unresolved(
                "orders-${data.aws_ssm_parameter.token.value}", "interpolation not resolved"
            ),
            f"{base}/API_TOKEN",
        ),
        ("LOG_LEVEL", "INFO", f"{base}/LOG_LEVEL"),
    ]
    password = line(main, "DB_PASSWORD = var.db_password")
    assert fn.origin.locate(f"{base}/DB_PASSWORD").start_line == password
    assert fn.origin.locate(f"{base}/DB_PASSWORD").end_line == password


def test_external_role_and_unreserved_concurrency() -> None:
    app, _ = load("orders")
    fn = function(app, "aws_lambda_function.legacy")
    assert fn.runtime == "nodejs14.x"
    assert fn.code_uri is None  # code in S3 is not local
    assert fn.reserved_concurrency is None  # -1 means no reservation
    role = role_of(fn)
    assert role.external == "arn:aws:iam::123456789012:role/shared-lambda-role"
    assert role.grants == ()
    assert role.origin.pointer == "/resource/aws_lambda_function/legacy/role"


def test_suppression_comment() -> None:
    app, _ = load("orders")
    [mark] = app.suppressions
    assert mark.path == PurePosixPath("tf/orders/main.tf")
    assert mark.line == line(FIXTURES / "orders" / "main.tf", "# lambdashield: ignore")
    assert mark.rule_ids == ("LS-FN-001",)
    assert mark.reason == "retired in Q3, tracked in ORD-118"


def test_variable_defaults_and_locals_are_template_values() -> None:
    app, _ = load("orders")
    assert [(v.kind, v.name, v.value, v.pointer, v.no_echo) for v in app.values] == [
        ("local", "local.log_group", "/aws/lambda/orders-api", "/locals/log_group", False),
        ("local", "local.table_name", "orders-table", "/locals/table_name", False),
        (
            "parameter-default",
            "var.db_password",
            "Tr0ub4dor&3-orders",
            "/variable/db_password/default",
            True,
        ),
        ("parameter-default", "var.prefix", "orders", "/variable/prefix/default", False),
    ]


# --- roles and policies ------------------------------------------------------------------


def test_role_built_from_policy_document_and_jsonencode() -> None:
    app, _ = load("orders")
    role = role_of(function(app, "aws_lambda_function.orders"))
    iam = FIXTURES / "orders" / "iam.tf"
    assert role.origin.resource == "aws_iam_role.orders"
    assert role.origin.path == PurePosixPath("tf/orders/iam.tf")
    assert [(g.source, g.name, g.pointer) for g in role.grants] == [
        (GrantSource.INLINE, "logs", "/resource/aws_iam_role/orders/inline_policy/0/policy"),
        (GrantSource.INLINE, "orders-table", "/resource/aws_iam_role_policy/orders/policy"),
        (
            GrantSource.CUSTOMER_MANAGED,
            "aws_iam_policy.reports",
            "/resource/aws_iam_role_policy_attachment/reports/policy_arn",
        ),
        (
            GrantSource.AWS_MANAGED,
            "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
            "/resource/aws_iam_role_policy_attachment/basic/policy_arn",
        ),
        (
            GrantSource.AWS_MANAGED,
            "arn:aws:iam::aws:policy/NoSuchManagedPolicyForTests",
            "/resource/aws_iam_role_policy_attachment/unknown_managed/policy_arn",
        ),
    ]
    # jsonencode({...}) inside inline_policy: pointers follow the HCL object.
    inline = role.grants[0].document
    assert inline is not None and inline.grammar_errors == ()
    [statement] = inline.statements
    base = "/resource/aws_iam_role/orders/inline_policy/0/policy/Statement/0"
    assert statement.pointer == base
    assert [(a.value, a.pointer) for a in statement.actions] == [
        ("logs:CreateLogStream", f"{base}/Action/0"),
        ("logs:PutLogEvents", f"{base}/Action/1"),
    ]
    assert [r.value for r in statement.resources] == [
        "arn:aws:logs:*:*:log-group:/aws/lambda/orders-api:*"
    ]
    action_line = line(iam, '["logs:CreateLogStream"')
    assert inline.origin.lines(f"{base}/Action/1") == (action_line, action_line)

    # data "aws_iam_policy_document": statement blocks, pointers into the HCL.
    document = role.grants[1].document
    assert document is not None and document.grammar_errors == ()
    assert document.origin.resource == "data.aws_iam_policy_document.orders"
    assert document.origin.pointer == "/data/aws_iam_policy_document/orders"
    table, rest = document.statements
    doc = "/data/aws_iam_policy_document/orders"
    assert (table.sid, table.effect and table.effect.value) == ("Table", "Allow")
    assert table.pointer == f"{doc}/statement/0"
    assert [(a.value, a.pointer) for a in table.actions] == [
        ("dynamodb:GetItem", f"{doc}/statement/0/actions/0"),
        ("dynamodb:PutItem", f"{doc}/statement/0/actions/1"),
        ("dynamodb:Query", f"{doc}/statement/0/actions/2"),
    ]
    assert [(r.value, r.pointer) for r in table.resources] == [
        ("${aws_dynamodb_table.orders.arn}", f"{doc}/statement/0/resources/0"),
        ("${aws_dynamodb_table.orders.arn}/index/*", f"{doc}/statement/0/resources/1"),
    ]
    assert [(a.value, a.pointer) for a in rest.not_actions] == [
        ("iam:*", f"{doc}/statement/1/not_actions/0")
    ]
    assert rest.conditions == (("StringEquals", "aws:RequestedRegion", ("eu-west-1",)),)
    sid_line = line(iam, 'sid       = "Table"')
    assert document.origin.lines(table.pointer) == (sid_line - 1, sid_line + 3)
    resources_line = line(iam, "resources = [aws_dynamodb_table")
    assert document.origin.lines(table.resources[1].pointer) == (resources_line, resources_line)


def test_heredoc_policy_with_interpolation() -> None:
    app, _ = load("orders")
    role = role_of(function(app, "aws_lambda_function.orders"))
    document = role.grants[2].document
    iam = FIXTURES / "orders" / "iam.tf"
    assert document is not None and document.grammar_errors == ()
    assert document.origin.resource == "aws_iam_policy.reports"
    [statement] = document.statements
    base = "/resource/aws_iam_policy/reports/policy/Statement/0"
    assert statement.sid == "ReadReports"
    assert [(a.value, a.pointer) for a in statement.actions] == [("s3:GetObject", f"{base}/Action")]
    assert [r.value for r in statement.resources] == ["arn:aws:s3:::orders-reports/*"]
    action = line(iam, '"Action": "s3:GetObject"')
    assert document.origin.lines(f"{base}/Action") == (action, action)
    assert document.origin.lines(base) == (action - 3, action + 2)


def test_managed_policy_by_arn() -> None:
    pytest.importorskip("lambdashield.loaders.aws_policies")
    app, _ = load("orders")
    role = role_of(function(app, "aws_lambda_function.orders"))
    basic, unknown = role.grants[3], role.grants[4]
    assert basic.document is not None
    assert basic.document.origin.pointer == basic.pointer
    assert basic.document.origin.path == PurePosixPath("tf/orders/iam.tf")
    assert [a.value for s in basic.document.statements for a in s.actions] == [
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    ]
    assert unknown.document is None  # unknown, never assumed harmless


def test_unattached_role_is_listed() -> None:
    app, _ = load("orders")
    assert [r.origin.resource for r in app.roles] == ["aws_iam_role.orders"]


# --- entry points and triggers -----------------------------------------------------------


def test_function_url_with_auth_none() -> None:
    app, _ = load("entrypoints")
    api = function(app, "aws_lambda_function.api")
    url = next(t for t in api.triggers if t.kind is TriggerKind.FUNCTION_URL)
    assert url == Trigger(
        TriggerKind.FUNCTION_URL,
        "function URL",
        "/resource/aws_lambda_function_url/api",
        "aws_lambda_function_url.api",
        Authorization(
            AuthKind.NONE,
            "authorization_type = NONE",
            pointer="/resource/aws_lambda_function_url/api/authorization_type",
        ),
        origin=Origin(
            PurePosixPath("tf/entrypoints/url.tf"),
            "aws_lambda_function.api",
            "function",
            "/resource/aws_lambda_function_url/api",
        ),
    )
    worker = function(app, "aws_lambda_function.worker")
    [iam_url] = [t for t in worker.triggers if t.kind is TriggerKind.FUNCTION_URL]
    assert iam_url.auth is not None and iam_url.auth.kind is AuthKind.IAM


def test_rest_api_methods_linked_through_integrations() -> None:
    app, _ = load("entrypoints")
    api = function(app, "aws_lambda_function.api")
    rest = [t for t in api.triggers if t.kind is TriggerKind.API_REST]
    api_tf = PurePosixPath("tf/entrypoints/api.tf")
    method = "/resource/aws_api_gateway_method"
    assert rest == [
        Trigger(
            TriggerKind.API_REST,
            "POST /orders",
            "/resource/aws_api_gateway_method/create_order",
            "aws_api_gateway_method.create_order",
            Authorization(
                AuthKind.NONE,
                "authorization = NONE",
                pointer="/resource/aws_api_gateway_method/create_order/authorization",
            ),
            origin=Origin(api_tf, "aws_lambda_function.api", "function", f"{method}/create_order"),
        ),
        Trigger(
            TriggerKind.API_REST,
            "GET /orders/{id}",
            "/resource/aws_api_gateway_method/get_order",
            "aws_api_gateway_method.get_order",
            Authorization(
                AuthKind.AUTHORIZER,
                "authorization = COGNITO_USER_POOLS, "
                "authorizer_id = aws_api_gateway_authorizer.cognito.id",
                api_key_required=True,
                pointer="/resource/aws_api_gateway_method/get_order/authorization",
            ),
            origin=Origin(api_tf, "aws_lambda_function.api", "function", f"{method}/get_order"),
        ),
    ]


def test_http_api_routes() -> None:
    app, _ = load("entrypoints")
    worker = function(app, "aws_lambda_function.worker")
    routes = [
        (t.source, t.name, t.auth and (t.auth.kind, t.auth.pointer))
        for t in worker.triggers
        if t.kind is TriggerKind.API_HTTP
    ]
    route = "/resource/aws_apigatewayv2_route"
    assert routes == [
        (
            "GET /jobs",
            "aws_apigatewayv2_route.list_jobs",
            (AuthKind.AUTHORIZER, f"{route}/list_jobs/authorization_type"),
        ),
        ("GET /health", "aws_apigatewayv2_route.health", (AuthKind.NONE, "")),
        (
            "POST /admin",
            "aws_apigatewayv2_route.admin",
            (AuthKind.IAM, f"{route}/admin/authorization_type"),
        ),
    ]


def test_event_sources_and_async_triggers() -> None:
    app, _ = load("entrypoints")
    worker = function(app, "aws_lambda_function.worker")
    others = [
        (t.kind, t.source, t.pointer)
        for t in worker.triggers
        if t.kind not in (TriggerKind.API_HTTP, TriggerKind.FUNCTION_URL, TriggerKind.S3)
    ]
    esm = "/resource/aws_lambda_event_source_mapping"
    assert others == [
        (TriggerKind.SQS, "aws_sqs_queue.jobs.arn", f"{esm}/jobs"),
        (TriggerKind.KINESIS, "aws_kinesis_stream.clicks.arn", f"{esm}/clicks"),
        (TriggerKind.DYNAMODB_STREAM, "aws_dynamodb_table.carts.stream_arn", f"{esm}/carts"),
        (
            TriggerKind.KAFKA,
            "arn:aws:kafka:eu-west-1:123456789012:cluster/payments/"
            "6f8b1a2c-3d4e-5f60-7182-93a4b5c6d7e8-2",
            f"{esm}/payments",
        ),
        (
            TriggerKind.MQ,
            "arn:aws:mq:eu-west-1:123456789012:broker:invoices:"
            "b-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
            f"{esm}/invoices",
        ),
        (
            TriggerKind.SNS,
            "arn:aws:sns:eu-west-1:123456789012:shop-alerts",
            "/resource/aws_sns_topic_subscription/alerts",
        ),
        (
            TriggerKind.SCHEDULE,
            "cron(0 3 * * ? *)",
            "/resource/aws_cloudwatch_event_target/nightly",
        ),
    ]
    assert worker.on_failure == "aws_sqs_queue.jobs.arn"


def test_s3_notifications_with_and_without_filters() -> None:
    app, _ = load("entrypoints")
    notification = "/resource/aws_s3_bucket_notification/uploads/lambda_function"
    thumbnails = function(app, "aws_lambda_function.thumbnails")
    assert thumbnails.triggers == (
        Trigger(
            TriggerKind.S3,
            "shop-uploads-eu-west-1",
            f"{notification}/0",
            "aws_s3_bucket_notification.uploads",
            filters=(("prefix", "images/"), ("suffix", ".jpg")),
            origin=Origin(
                PurePosixPath("tf/entrypoints/events.tf"),
                "aws_lambda_function.thumbnails",
                "function",
                f"{notification}/0",
            ),
        ),
    )
    worker = function(app, "aws_lambda_function.worker")
    [unfiltered] = [t for t in worker.triggers if t.kind is TriggerKind.S3]
    assert (unfiltered.pointer, unfiltered.filters) == (f"{notification}/1", ())
    # The notification is in events.tf, the function in main.tf: the trigger's origin is
    # events.tf and locates its block there.
    events = FIXTURES / "entrypoints" / "events.tf"
    first = line(events, "lambda_function {")
    [s3] = thumbnails.triggers
    assert s3.origin is not None
    assert s3.origin.locate(s3.pointer) == Location(
        PurePosixPath("tf/entrypoints/events.tf"), s3.pointer, first, first + 5
    )
    uploads = next(b for b in app.buckets if b.origin.resource == "aws_s3_bucket.uploads")
    assert uploads.origin.path == PurePosixPath("tf/entrypoints/events.tf")


def test_code_location_from_archive_and_image() -> None:
    app, _ = load("entrypoints")
    assert function(app, "aws_lambda_function.api").code_uri == "src/api"
    image = function(app, "aws_lambda_function.thumbnails")
    assert (image.package_type, image.code_uri, image.runtime) == ("Image", None, None)


def test_permissions() -> None:
    app, _ = load("entrypoints")
    assert [
        (
            p.origin.resource,
            p.origin.path.name,
            p.function,
            p.principal,
            p.action,
            p.source_arn,
            p.function_url_auth_type,
        )
        for p in app.permissions
    ] == [
        (
            "aws_lambda_permission.public_url",
            "url.tf",
            "aws_lambda_function.api",
            "*",
            "lambda:InvokeFunctionUrl",
            None,
            "NONE",
        ),
        (
            "aws_lambda_permission.uploads",
            "url.tf",
            "aws_lambda_function.thumbnails",
            "s3.amazonaws.com",
            "lambda:InvokeFunction",
            "aws_s3_bucket.uploads.arn",
            None,
        ),
    ]


def test_buckets_acl_policy_and_public_access_block() -> None:
    app, _ = load("entrypoints")
    # `public_read` / `public_write` are what the ACL grants; policies are read by the rule.
    assert [
        (b.origin.resource, b.name, b.public_read, b.public_write, b.notifies) for b in app.buckets
    ] == [
        ("aws_s3_bucket.drop", "shop-drop-eu-west-1", False, False, ()),
        ("aws_s3_bucket.exports", "shop-exports-eu-west-1", False, False, ()),
        ("aws_s3_bucket.logs", "shop-access-logs-eu-west-1", False, False, ()),
        (
            "aws_s3_bucket.uploads",
            "shop-uploads-eu-west-1",
            True,
            False,
            ("aws_lambda_function.thumbnails", "aws_lambda_function.worker"),
        ),
    ]
    # Public by its policy, but the public access block restricts it.
    assert [b.public_access_block for b in app.buckets] == [
        None,
        PublicAccessBlock(
            "/resource/aws_s3_bucket_public_access_block/exports",
            block_public_acls=True,
            ignore_public_acls=True,
            block_public_policy=True,
            restrict_public_buckets=True,
        ),
        None,
        None,
    ]
    drop = app.buckets[0]
    assert drop.policy is not None
    [statement] = drop.policy.statements
    assert statement.pointer == "/resource/aws_s3_bucket_policy/drop/policy/Statement/0"
    assert [(k, i.value) for k, i in statement.principals] == [("AWS", "*")]


def test_stage_variables_are_template_values() -> None:
    app, _ = load("entrypoints")
    assert [(v.kind, v.name, v.value, v.pointer) for v in app.values] == [
        (
            "stage-variable",
            "aws_api_gateway_stage.prod.variables.backendKey",
            "sk_live_51HqLyjWDarjtT1zdp7dcXmplE",
            "/resource/aws_api_gateway_stage/prod/variables/backendKey",
        )
    ]


# --- triggers, attachments and values written in another file than their owner ----------


def test_attachment_in_another_file_carries_that_file() -> None:
    app, errors = load("orders")
    assert errors == []
    grants = role_of(function(app, "aws_lambda_function.orders")).grants
    # The inline policy, the role policy and two attachments are in iam.tf with the role.
    assert [(g.name, g.origin) for g in grants[:4]] == [
        ("logs", None),
        ("orders-table", None),
        ("aws_iam_policy.reports", None),
        ("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole", None),
    ]
    # The last attachment is in policies.tf.
    unknown = grants[4]
    attachment = "/resource/aws_iam_role_policy_attachment/unknown_managed"
    shown = PurePosixPath("tf/orders/policies.tf")
    assert (unknown.name, unknown.pointer, unknown.document) == (
        "arn:aws:iam::aws:policy/NoSuchManagedPolicyForTests",
        f"{attachment}/policy_arn",
        None,
    )
    assert unknown.origin == Origin(shown, "aws_iam_role.orders", "role", attachment)
    policies = FIXTURES / "orders" / "policies.tf"
    arn = line(policies, "NoSuchManagedPolicyForTests")
    first = line(policies, 'resource "aws_iam_role_policy_attachment" "unknown_managed"')
    assert unknown.origin.locate(unknown.pointer) == Location(shown, unknown.pointer, arn, arn)
    assert unknown.origin.locate(attachment) == Location(shown, attachment, first, first + 3)


def test_triggers_in_other_files_carry_their_file_and_lines() -> None:
    app, _ = load("entrypoints")
    folder = FIXTURES / "entrypoints"
    api, events, url = folder / "api.tf", folder / "events.tf", folder / "url.tf"

    def at(path: Path, address: str) -> int:
        """First line of the resource `type.name` in `path`."""
        kind, name = address.split(".")
        return line(path, f'resource "{kind}" "{name}"')

    found = [
        (
            fn.origin.resource,
            t.name,
            t.origin.path.name,
            (t.origin.resource, t.origin.resource_type),
            t.origin.locate(t.pointer).start_line,
        )
        for fn in app.functions
        for t in fn.triggers
        if t.origin is not None
    ]
    assert all(f.origin.path.name == "main.tf" for f in app.functions)
    assert len(found) == sum(len(f.triggers) for f in app.functions)  # none in main.tf
    fn_api, thumbnails, worker = (
        "aws_lambda_function.api",
        "aws_lambda_function.thumbnails",
        "aws_lambda_function.worker",
    )
    esm = "aws_lambda_event_source_mapping"
    assert found == [
        (
            fn_api,
            "aws_lambda_function_url.api",
            "url.tf",
            (fn_api, "function"),
            at(url, "aws_lambda_function_url.api"),
        ),
        (
            fn_api,
            "aws_api_gateway_method.create_order",
            "api.tf",
            (fn_api, "function"),
            at(api, "aws_api_gateway_method.create_order"),
        ),
        (
            fn_api,
            "aws_api_gateway_method.get_order",
            "api.tf",
            (fn_api, "function"),
            at(api, "aws_api_gateway_method.get_order"),
        ),
        (
            thumbnails,
            "aws_s3_bucket_notification.uploads",
            "events.tf",
            (thumbnails, "function"),
            line(events, "lambda_function {"),
        ),
        (
            worker,
            "aws_lambda_function_url.worker",
            "url.tf",
            (worker, "function"),
            at(url, "aws_lambda_function_url.worker"),
        ),
        *(
            (
                worker,
                f"aws_apigatewayv2_route.{name}",
                "api.tf",
                (worker, "function"),
                at(api, f"aws_apigatewayv2_route.{name}"),
            )
            for name in ("list_jobs", "health", "admin")
        ),
        *(
            (
                worker,
                f"{esm}.{name}",
                "events.tf",
                (worker, "function"),
                at(events, f"{esm}.{name}"),
            )
            for name in ("jobs", "clicks", "carts", "payments", "invoices")
        ),
        (
            worker,
            "aws_s3_bucket_notification.uploads",
            "events.tf",
            (worker, "function"),
            line(events, "lambda_function {", after="images/"),
        ),
        (
            worker,
            "aws_sns_topic_subscription.alerts",
            "events.tf",
            (worker, "function"),
            at(events, "aws_sns_topic_subscription.alerts"),
        ),
        (
            worker,
            "aws_cloudwatch_event_target.nightly",
            "events.tf",
            (worker, "function"),
            at(events, "aws_cloudwatch_event_target.nightly"),
        ),
    ]
    # The authorization a trigger carries is located in the trigger's file too.
    get_order = next(t for t in function(app, fn_api).triggers if t.name.endswith("get_order"))
    assert get_order.origin is not None and get_order.auth is not None
    assert get_order.origin.locate(get_order.auth.pointer) == Location(
        PurePosixPath("tf/entrypoints/api.tf"),
        "/resource/aws_api_gateway_method/get_order/authorization",
        line(api, '"COGNITO_USER_POOLS"'),
        line(api, '"COGNITO_USER_POOLS"'),
    )


def test_trigger_on_a_module_function_carries_the_callers_file() -> None:
    app, _ = load("modules", "app")
    invoices = function(app, "module.invoices.aws_lambda_function.this")
    assert invoices.origin.path == PurePosixPath("tf/modules/modules/function/main.tf")
    [url] = invoices.triggers
    shown = PurePosixPath("tf/modules/app/main.tf")
    assert url.origin == Origin(
        shown, invoices.origin.resource, "function", "/resource/aws_lambda_function_url/invoices"
    )
    first = line(FIXTURES / "modules" / "app" / "main.tf", 'resource "aws_lambda_function_url"')
    assert url.origin.locate(url.pointer) == Location(shown, url.pointer, first, first + 3)


def test_values_carry_the_file_they_are_written_in() -> None:
    app, _ = load("orders")
    variables = FIXTURES / "orders" / "variables.tf"
    main = FIXTURES / "orders" / "main.tf"
    assert [
        (
            v.name,
            v.origin and (v.origin.path, v.origin.pointer),
            v.origin and v.origin.locate(v.pointer),
        )
        for v in app.values
    ] == [
        (
            "local.log_group",
            (PurePosixPath("tf/orders/main.tf"), "/locals/log_group"),
            Location(
                PurePosixPath("tf/orders/main.tf"),
                "/locals/log_group",
                line(main, "log_group  ="),
                line(main, "log_group  ="),
            ),
        ),
        (
            "local.table_name",
            (PurePosixPath("tf/orders/main.tf"), "/locals/table_name"),
            Location(
                PurePosixPath("tf/orders/main.tf"),
                "/locals/table_name",
                line(main, "table_name ="),
                line(main, "table_name ="),
            ),
        ),
        (
            "var.db_password",
            (PurePosixPath("tf/orders/variables.tf"), "/variable/db_password"),
            Location(
                PurePosixPath("tf/orders/variables.tf"),
                "/variable/db_password/default",
                line(variables, '"Tr0ub4dor&3-orders"'),
                line(variables, '"Tr0ub4dor&3-orders"'),
            ),
        ),
        (
            "var.prefix",
            (PurePosixPath("tf/orders/variables.tf"), "/variable/prefix"),
            Location(
                PurePosixPath("tf/orders/variables.tf"),
                "/variable/prefix/default",
                line(variables, '"orders"'),
                line(variables, '"orders"'),
            ),
        ),
    ]
    assert {(v.origin.resource, v.origin.resource_type) for v in app.values if v.origin} == {
        ("orders", "terraform")
    }
    # A stage variable, and a module's variable default, in their own files.
    app, _ = load("entrypoints")
    [stage] = app.values
    api = FIXTURES / "entrypoints" / "api.tf"
    secret = line(api, "sk_live_")
    assert stage.origin is not None
    assert stage.origin.locate(stage.pointer) == Location(
        PurePosixPath("tf/entrypoints/api.tf"), stage.pointer, secret, secret
    )
    app, _ = load("modules", "app")
    runtime = next(v for v in app.values if v.name == "module.invoices.var.runtime")
    shown = PurePosixPath("tf/modules/modules/function/variables.tf")
    assert runtime.origin is not None and runtime.origin.path == shown
    default = line(
        FIXTURES / "modules" / "modules" / "function" / "variables.tf",
        "default",
        'variable "runtime"',
    )
    assert runtime.origin.locate(runtime.pointer) == Location(
        shown, runtime.pointer, default, default
    )


def test_origin_only_where_the_file_differs(tmp_path: Path) -> None:
    (tmp_path / "function.tf").write_text(
        """
resource "aws_iam_role" "r" {
  name = "r"
}
resource "aws_lambda_function" "f" {
  function_name = "f"
  role          = aws_iam_role.r.arn
}
resource "aws_lambda_function_url" "same_file" {
  function_name      = aws_lambda_function.f.function_name
  authorization_type = "AWS_IAM"
}
""",
        encoding="utf-8",
    )
    (tmp_path / "wiring.tf").write_text(
        """
resource "aws_iam_policy_attachment" "shared" {
  name       = "shared"
  roles      = [aws_iam_role.r.name]
  policy_arn = "arn:aws:iam::123456789012:policy/elsewhere"
}

resource "aws_iam_role_policy" "inline" {
  role   = aws_iam_role.r.id
  policy = jsonencode({ Statement = [{ Effect = "Allow", Action = "sqs:*", Resource = "*" }] })
}

resource "aws_sqs_queue" "q" {
  name = "q"
}

resource "aws_lambda_event_source_mapping" "q" {
  event_source_arn = aws_sqs_queue.q.arn
  function_name    = aws_lambda_function.f.arn
}
""",
        encoding="utf-8",
    )
    app, errors = load_terraform(
        tmp_path,
        PurePosixPath("t"),
        [tmp_path / "function.tf", tmp_path / "wiring.tf"],
        max_bytes=BIG,
    )
    assert errors == []
    [fn] = app.functions
    wiring = PurePosixPath("t/wiring.tf")
    assert [(t.name, t.origin) for t in fn.triggers] == [
        ("aws_lambda_function_url.same_file", None),
        (
            "aws_lambda_event_source_mapping.q",
            Origin(
                wiring,
                "aws_lambda_function.f",
                "function",
                "/resource/aws_lambda_event_source_mapping/q",
            ),
        ),
    ]
    sqs = fn.triggers[1]
    assert sqs.origin is not None
    assert sqs.origin.locate(sqs.pointer) == Location(wiring, sqs.pointer, 17, 20)
    grants = role_of(fn).grants
    assert [(g.name, g.pointer, g.origin) for g in grants] == [
        (
            "aws_iam_role_policy.inline",
            "/resource/aws_iam_role_policy/inline/policy",
            Origin(wiring, "aws_iam_role.r", "role", "/resource/aws_iam_role_policy/inline"),
        ),
        (
            "arn:aws:iam::123456789012:policy/elsewhere",
            "/resource/aws_iam_policy_attachment/shared/policy_arn",
            Origin(wiring, "aws_iam_role.r", "role", "/resource/aws_iam_policy_attachment/shared"),
        ),
    ]
    assert [g.origin.locate(g.pointer).start_line for g in grants if g.origin] == [10, 5]


def test_plan_leaves_origins_unset() -> None:
    path = FIXTURES / "plan" / "orders.tfplan.json"
    app, _ = read_terraform_plan(path, PurePosixPath("plan.json"), max_bytes=BIG)
    [fn] = app.functions
    assert fn.triggers and all(t.origin is None for t in fn.triggers)
    assert role_of(fn).grants and all(g.origin is None for g in role_of(fn).grants)
    assert app.values and all(v.origin is None for v in app.values)


def test_unknown_attachment_finding_points_at_the_attachments_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from lambdashield.config import Config
    from lambdashield.engine import scan

    monkeypatch.chdir(FIXTURES.parents[2])
    report = scan(["tests/fixtures/terraform/orders"], Config(select=("LS-IAM-013",)))
    assert report.errors == ()
    policies = FIXTURES / "orders" / "policies.tf"
    arn = line(policies, "NoSuchManagedPolicyForTests")
    found = [
        (f.rule.id, f.location, f.resource, f.resource_type)
        for f in report.findings
        if "NoSuchManagedPolicyForTests" in f.message
    ]
    assert found == [
        (
            "LS-IAM-013",
            Location(
                PurePosixPath("tests/fixtures/terraform/orders/policies.tf"),
                "/resource/aws_iam_role_policy_attachment/unknown_managed/policy_arn",
                arn,
                arn,
            ),
            "aws_lambda_function.orders",
            "function",
        )
    ]


# --- modules, files and errors -----------------------------------------------------------


def test_local_modules_inside_the_root() -> None:
    app, errors = load("modules", "app")
    module_file = PurePosixPath("tf/modules/modules/function/main.tf")
    assert [(f.origin.resource, f.origin.path, f.runtime, f.code_uri) for f in app.functions] == [
        (
            "module.invoices.aws_lambda_function.this",
            module_file,
            "python3.9",
            "../modules/function/dist/invoices-prod.zip",
        ),
        (
            "module.refunds.aws_lambda_function.this",
            module_file,
            "python3.12",
            "../modules/function/dist/refunds-prod.zip",
        ),
    ]
    invoices, refunds = app.functions
    assert [(e.name, e.value) for e in invoices.environment] == [("FUNCTION", "invoices-prod")]
    assert invoices.memory is None  # var.memory_size has no default and is not passed
    # The role is passed in as `var.role_arn` and still links to the caller's role.
    assert role_of(invoices) is role_of(refunds)
    assert [g.name for g in role_of(invoices).grants] == [
        "aws_iam_role_policy.shared",
        "aws_iam_role_policy.secrets",
    ]
    # A URL on `module.invoices.function_name` (a module output) finds the function.
    assert [(t.kind, t.name) for t in invoices.triggers] == [
        (TriggerKind.FUNCTION_URL, "aws_lambda_function_url.invoices")
    ]
    assert refunds.triggers == ()
    # Outside the scanned root: reported with its line, never read.
    main = FIXTURES / "modules" / "app" / "main.tf"
    assert errors == [
        ScanError(
            PurePosixPath("tf/modules/app/main.tf"),
            "module source '../../../outside-the-root' is outside the scanned folder",
            line(main, 'source = "../../../outside-the-root"'),
        ),
        ScanError(
            PurePosixPath("tf/modules/app/main.tf"),
            "file('/etc/lambdashield-never-read.json') reads a file outside the scanned folder, "
            "which is never read; scan a folder that holds both",
            line(main, 'policy = file("/etc/lambdashield-never-read.json")'),
        ),
    ]


def test_templatefile_inside_root_and_file_outside_root() -> None:
    app, _ = load("modules", "app")
    shared, secrets = role_of(app.functions[0]).grants
    assert shared.document is not None
    [statement] = shared.document.statements
    assert [r.value for r in statement.resources] == [
        "arn:aws:dynamodb:eu-west-1:123456789012:table/billing-prod"
    ]
    assert secrets.document is None  # file("/etc/...") is outside the root: unknown


def test_broken_file_is_a_located_error_and_the_rest_loads() -> None:
    app, errors = load("broken")
    bad = FIXTURES / "broken" / "bad.tf"
    assert [(e.path, e.line) for e in errors] == [
        (PurePosixPath("tf/broken/bad.tf"), line(bad, "jsonencode({ Statement = [ }"))
    ]
    assert errors[0].message.startswith("HCL syntax error")
    assert [f.origin.resource for f in app.functions] == ["aws_lambda_function.still_loaded"]


def test_unresolvable_values(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        """
variable "runtime" {}
locals {
  a = local.b
  b = local.a
}
resource "aws_lambda_function" "fn" {
  function_name = "fn"
  runtime       = var.runtime
  handler       = local.a
  environment {
    variables = {
      PICKED = var.enabled ? "x" : "y"
      TOKEN  = each.value
      FILE   = file("../../secret.txt")
      JSON   = jsonencode({ a = 1, b = [true, null] })
      MIXED  = jsonencode({ a = aws_sqs_queue.q.arn })
    }
  }
}
""",
        encoding="utf-8",
    )
    app, errors = load_terraform(
        tmp_path, PurePosixPath("t"), [tmp_path / "main.tf"], max_bytes=BIG
    )
    # The cycle is invalid Terraform, and the file outside the root cannot be seen: each a
    # located error, and the rest still loads.
    assert errors == [
        ScanError(
            PurePosixPath("t/main.tf"), "circular reference: local value `a` depends on itself", 4
        ),
        ScanError(
            PurePosixPath("t/main.tf"),
            "file('../../secret.txt') reads a file outside the scanned folder, which is never "
            "read; scan a folder that holds both",
            15,
        ),
    ]
    [fn] = app.functions
    assert fn.runtime == Unresolved("var.runtime", "variable has no default")
    assert fn.handler == "local.a"
    assert {e.name: e.value for e in fn.environment} == {
        # The condition is evaluated, and it is not known: the reason names it.
        "PICKED": Unresolved(
            'var.enabled ? "x" : "y"', "condition var.enabled: variable not declared"
        ),
        "TOKEN": Unresolved("each.value", "`each` values are not known here"),
        "FILE": Unresolved(
            'file("../../secret.txt")', "file outside the scanned folder is never read"
        ),
        "JSON": '{"a":1,"b":[true,null]}',
        "MIXED": Unresolved(
            "jsonencode({ a = aws_sqs_queue.q.arn })", "jsonencode of values not known here"
        ),
    }


def test_oversized_and_non_utf8_files(tmp_path: Path) -> None:
    (tmp_path / "big.tf").write_text("# padding\n" * 200, encoding="utf-8")
    (tmp_path / "latin.tf").write_bytes(b'locals {\n  a = "caf\xe9"\n}\n')
    _, errors = load_terraform(
        tmp_path,
        PurePosixPath("t"),
        [tmp_path / "big.tf", tmp_path / "latin.tf"],
        max_bytes=1000,
    )
    assert [(e.path.name, e.line) for e in errors] == [("big.tf", None), ("latin.tf", 2)]
    assert "over the 1,000-byte limit" in errors[0].message


def test_module_cycle_is_bounded(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text('module "self" {\n  source = "./"\n}\n', encoding="utf-8")
    app, errors = load_terraform(
        tmp_path, PurePosixPath("t"), [tmp_path / "main.tf"], max_bytes=BIG
    )
    assert app.functions == ()
    assert errors == [ScanError(PurePosixPath("t/main.tf"), "module 'self' includes itself", 2)]


def test_root_module_folders_skip_local_modules() -> None:
    root = FIXTURES / "modules"
    files = sorted(root.rglob("*.tf"))
    assert root_module_folders(root, files) == [sorted((root / "app").glob("*.tf"))]


# --- plans -------------------------------------------------------------------------------


def test_plan_json() -> None:
    path = FIXTURES / "plan" / "orders.tfplan.json"
    app, _ = read_terraform_plan(path, PurePosixPath("plan.json"), max_bytes=BIG)
    assert app.origin.resource_type == "terraform-plan"
    [fn] = app.functions
    base = "/planned_values/root_module/resources/3"
    assert fn.origin.resource == "aws_lambda_function.orders"
    assert fn.origin.pointer == base
    assert (fn.runtime, fn.runtime_pointer) == ("python3.8", f"{base}/values/runtime")
    assert fn.origin.lines(fn.runtime_pointer) == (line(path, '"runtime": "python3.8"'),) * 2
    assert (fn.handler, fn.memory, fn.timeout, fn.reserved_concurrency) == (
        "orders.app.handler",
        256,
        15,
        None,
    )
    assert [(e.name, e.value, e.pointer) for e in fn.environment] == [
        (
            "STRIPE_KEY",
            "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
            f"{base}/values/environment/0/variables/STRIPE_KEY",
        ),
        ("LOG_LEVEL", "INFO", f"{base}/values/environment/0/variables/LOG_LEVEL"),
    ]
    [url] = fn.triggers
    assert (url.kind, url.auth and url.auth.kind) == (TriggerKind.FUNCTION_URL, AuthKind.NONE)
    role = role_of(fn)
    assert role.origin.resource == "aws_iam_role.orders"
    assert [(g.source, g.name) for g in role.grants] == [
        (GrantSource.INLINE, "orders-table"),
        (
            GrantSource.AWS_MANAGED,
            "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        ),
    ]
    inline = role.grants[0].document
    assert inline is not None
    assert [a.value for s in inline.statements for a in s.actions] == ["dynamodb:*"]
    [permission] = app.permissions
    assert (permission.function, permission.principal) == (
        "aws_lambda_function.orders",
        "sns.amazonaws.com",
    )
    assert [(v.name, v.no_echo) for v in app.values] == [
        ("var.db_password", True),
        ("var.prefix", False),
    ]


def test_not_a_plan(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"Statement": []}', encoding="utf-8")
    with pytest.raises(LoaderError, match="not a Terraform plan"):
        read_terraform_plan(path, PurePosixPath("x.json"), max_bytes=BIG)


# --- the HCL reader ----------------------------------------------------------------------


def test_hcl_strings_escapes_and_heredocs() -> None:
    text = (
        'a = "tab\\there \\"q\\" \\u00e9 $${literal} %%{x}"\n'
        'b = "pre-${var.x}-post"\n'
        "c = <<-EOT\n"
        "    {\n"
        '      "k": "v"\n'
        "    }\n"
        "  EOT\n"
        'd = local.m["key"][0].name\n'
    )
    body = parse_hcl(text, PurePosixPath("x.tf")).body
    assert body.attributes["a"] == 'tab\there "q" \u00e9 ${literal} %{x}'
    assert body.attributes["b"] == Template(
        ("pre-", Ref(("var", "x"), "var.x"), "-post"), '"pre-${var.x}-post"'
    )
    assert body.attributes["c"] == '{\n  "k": "v"\n}\n'
    assert body.attributes["d"] == Ref(("local", "m", "key", 0, "name"), 'local.m["key"][0].name')


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ('resource "x" "y" {\n  a = 1\n', 3, "HCL syntax error: missing `}`"),
        ("a = {\n  b = [1,\n", 1, "HCL syntax error near"),
        ("a = " + "[" * 400 + "]" * 400 + "\n", None, "HCL is nested too deeply to analyse"),
    ],
)
def test_hcl_syntax_errors(text: str, line: int | None, message: str) -> None:
    with pytest.raises(HclSyntaxError) as caught:
        parse_hcl(text, PurePosixPath("x.tf"))
    assert caught.value.line == line
    assert caught.value.message.startswith(message)


# --- property: nothing escapes but ScanError values ------------------------------------

_TOKENS = st.sampled_from(
    [
        'resource "aws_lambda_function" "f" {',
        'resource "aws_iam_role" "r" {',
        'resource "aws_iam_role_policy_attachment" "a" {',
        'resource "aws_lambda_function_url" "u" {',
        'resource "aws_s3_bucket_notification" "n" {',
        'data "aws_iam_policy_document" "d" {',
        'module "m" {',
        'variable "v" {',
        "locals {",
        "statement {",
        "environment {",
        "lambda_function {",
        "}",
        "{",
        "]",
        "[",
        "(",
        ")",
        "=",
        ",",
        "\n",
        " ",
        "role = aws_iam_role.r.arn",
        "function_name = aws_lambda_function.f.arn",
        "policy = data.aws_iam_policy_document.d.json",
        "policy_arn = var.v",
        'source = "./"',
        'source = "../.."',
        "default = local.x",
        "x = local.x",
        'actions = ["s3:*", var.v]',
        "policy = jsonencode({ Statement = [{ Effect = var.v }] })",
        'policy = file("${path.module}/../../etc/passwd")',
        "<<EOF\n",
        "EOF\n",
        '"${',
        '"',
        "#",
        "// lambdashield: ignore[LS-API-001]",
        "# lambdashield: ignore[LS-IAM-001] reason",
        "/*",
        "*/",
        "true ? 1 : 2",
        "a ? b : c ? d : e",
        "x = [for k, v in local.x : v.a if v.b]",
        "for_each = { for k, v in var.v : v.name => k... if v != null }",
        "count = var.v ? 1 : 0",
        "managed_policy_arns = aws_iam_role.r[*].arn",
        "x = values(aws_iam_role.r).*.name[0]",
        "x = !var.v && 1 + 2 * 3 >= length(var.v) || -x % 0 == 1 / 0",
        "[*]",
        ".*",
        "...",
        "=>",
        "for x in y : x",
        "module.m.out",
        "count = 0",
        "\\u00e9",
        "\x00",
        "é",
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.one_of(_TOKENS, st.text(max_size=6)), max_size=60),
    st.lists(_TOKENS, max_size=30),
)
def test_random_hcl_never_raises(first: list[str], second: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "a.tf").write_text(" ".join(first), encoding="utf-8")
        (root / "b.tf").write_text("\n".join(second), encoding="utf-8")
        app, errors = load_terraform(
            root, PurePosixPath("t"), [root / "a.tf", root / "b.tf"], max_bytes=BIG
        )
    assert isinstance(app, Application)
    assert all(isinstance(e, ScanError) for e in errors)


_RESOURCE_TYPES = [
    "aws_lambda_function",
    "aws_iam_role",
    "aws_iam_role_policy",
    "aws_iam_policy",
    "aws_iam_role_policy_attachment",
    "aws_iam_policy_attachment",
    "aws_lambda_permission",
    "aws_lambda_function_url",
    "aws_lambda_alias",
    "aws_lambda_event_source_mapping",
    "aws_lambda_function_event_invoke_config",
    "aws_api_gateway_method",
    "aws_api_gateway_integration",
    "aws_api_gateway_resource",
    "aws_api_gateway_stage",
    "aws_apigatewayv2_api",
    "aws_apigatewayv2_route",
    "aws_apigatewayv2_integration",
    "aws_s3_bucket",
    "aws_s3_bucket_acl",
    "aws_s3_bucket_policy",
    "aws_s3_bucket_public_access_block",
    "aws_s3_bucket_notification",
    "aws_sns_topic_subscription",
    "aws_cloudwatch_event_target",
    "aws_cloudwatch_event_rule",
    "aws_lambda_layer_version",
]
_NAMES = st.sampled_from(["a", "b"])
_REFERENCES = st.builds(
    lambda t, n, attr: f"{t}.{n}.{attr}",
    st.sampled_from(_RESOURCE_TYPES),
    _NAMES,
    st.sampled_from(["arn", "name", "id", "function_name", "invoke_arn", "bucket"]),
)
_EXPRESSIONS = st.one_of(
    _REFERENCES,
    st.sampled_from(
        [
            '"NONE"',
            '"AWS_IAM"',
            '"POST"',
            '"a"',
            '"arn:aws:iam::aws:policy/AdministratorAccess"',
            '"arn:aws:lambda:eu-west-1:1:function:a"',
            "-1",
            "0",
            "true",
            "null",
            "var.a",
            "var.b",
            "local.a",
            "local.b",
            "module.m.out",
            "data.aws_iam_policy_document.a.json",
            "data.aws_iam_policy_document.b.json",
            "data.archive_file.a.output_path",
            '"${var.a}-${local.b}"',
            '["s3:*", var.a, local.b]',
            "{ A = var.a, B = [1, local.a] }",
            "jsonencode({ Statement = [{ Effect = var.a, Action = local.b }] })",
            'jsonencode({ Statement = { Principal = "*", Action = "s3:*" } })',
            "jsonencode(local.a)",
            'file("${path.module}/x.json")',
            'templatefile("../../x", { a = 1 })',
            'merge({ a = 1 }, var.a, { b = "c" })',
            'concat(["a"], local.a)',
            'format("%s-%d", var.a, 1)',
            'join("-", [var.a, "b"])',
            "lower(var.b)",
            "coalesce(null, var.a)",
            "each.key",
            "count.index",
            "var.a ? 1 : 2",
            "[for x in var.a : x]",
            "[for i, x in local.a : { A = i, B = x.a } if x != null]",
            "{ for k, v in var.b : v => k... }",
            "{ for k, v in var.a : k => v if v }",
            "var.a == null ? local.b : [var.a]",
            "length(var.a) > 0 && !var.b ? 1 : 0",
            "aws_iam_role.a[*].arn",
            "aws_iam_policy.b.*.arn",
            "values(aws_lambda_function.a)[*].arn",
            "[for r in aws_iam_role.b : r.arn]",
            "aws_lambda_function.b",
            "flatten([var.a, [local.b]])",
            'distinct(compact(concat(var.a, [null, ""])))',
            "keys(var.a)[0]",
            "var.b * 2 - 1",
            '<<EOF\n{"Statement": ${var.a}}\nEOF',
            "statement.value",
            "statement.value.a",
            "condition.key",
            "try(statement.value.a, null)",
            'lookup(statement.value, "a", ["*"])',
            "toset(var.a)",
            "a",
        ]
    ),
)
_ATTRIBUTES = st.sampled_from(
    [
        "role",
        "roles",
        "function_name",
        "policy",
        "policy_arn",
        "managed_policy_arns",
        "bucket",
        "lambda_function_arn",
        "runtime",
        "handler",
        "uri",
        "http_method",
        "resource_id",
        "rest_api_id",
        "parent_id",
        "target",
        "api_id",
        "integration_uri",
        "event_source_arn",
        "authorization",
        "authorization_type",
        "default",
        "source",
        "filename",
        "source_dir",
        "actions",
        "resources",
        "type",
        "identifiers",
        "variables",
        "count",
        "rule",
        "arn",
        "endpoint",
        "protocol",
        "acl",
        "memory_size",
        "layers",
        "a",
        "b",
        "out",
        "value",
        "source_policy_documents",
        "override_policy_documents",
        "sid",
        "for_each",
        "iterator",
    ]
)
_NESTED = st.sampled_from(
    [
        'dynamic "statement"',
        'dynamic "condition"',
        'dynamic "environment"',
        'dynamic "inline_policy"',
        "content",
        "statement",
        "principals",
        "condition",
        "environment",
        "inline_policy",
        "lambda_function",
        "vpc_config",
        "dead_letter_config",
        "destination_config",
        "on_failure",
        "grant",
        "grantee",
    ]
)


@st.composite
def _body(draw: st.DrawFn, depth: int = 0) -> str:
    lines = [f"{draw(_ATTRIBUTES)} = {draw(_EXPRESSIONS)}" for _ in range(draw(st.integers(0, 5)))]
    if depth < 2:
        lines.extend(
            f"{draw(_NESTED)} {{\n{draw(_body(depth + 1))}\n}}"
            for _ in range(draw(st.integers(0, 2)))
        )
    return "\n".join(sorted(set(lines), key=lines.index))


@st.composite
def _configuration(draw: st.DrawFn) -> str:
    blocks = []
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["resource", "resource", "resource", "data", "other"]))
        name = draw(_NAMES)
        if kind == "resource":
            header = f'resource "{draw(st.sampled_from(_RESOURCE_TYPES))}" "{name}"'
        elif kind == "data":
            source = draw(st.sampled_from(["aws_iam_policy_document", "archive_file"]))
            header = f'data "{source}" "{name}"'
        else:
            header = draw(
                st.sampled_from([f'variable "{name}"', "locals", 'module "m"', 'output "out"'])
            )
        blocks.append(f"{header} {{\n{draw(_body())}\n}}")
    return "\n\n".join(blocks)


def _no_internal_values(value: object) -> bool:
    if isinstance(value, (list, tuple)):
        return all(_no_internal_values(v) for v in value)
    if isinstance(value, dict):
        return all(_no_internal_values(v) for v in value.values())
    return value is None or isinstance(value, (str, int, float, bool, Unresolved))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_configuration(), _configuration())
def test_random_configurations_load_into_the_model(first: str, second: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "a.tf").write_text(first, encoding="utf-8")
        (root / "b.tf").write_text(second, encoding="utf-8")
        app, errors = load_terraform(
            root, PurePosixPath("t"), [root / "a.tf", root / "b.tf"], max_bytes=BIG
        )
    assert all(isinstance(e, ScanError) for e in errors)
    for fn in app.functions:
        assert all(_no_internal_values(e.value) for e in fn.environment)
        assert fn.runtime is None or isinstance(fn.runtime, (str, Unresolved))
    assert all(_no_internal_values(v.value) for v in app.values)


def test_bucket_policy_from_policy_document_with_principals() -> None:
    app, _ = load("entrypoints")
    logs = next(b for b in app.buckets if b.origin.resource == "aws_s3_bucket.logs")
    assert logs.policy is not None and logs.policy.grammar_errors == ()
    assert logs.policy.origin.resource == "data.aws_iam_policy_document.logs"
    [statement] = logs.policy.statements
    doc = "/data/aws_iam_policy_document/logs/statement/0"
    assert [(kind, item.value, item.pointer) for kind, item in statement.principals] == [
        ("Service", "logging.s3.amazonaws.com", f"{doc}/principals/0/identifiers/0")
    ]
    assert statement.conditions == (("StringEquals", "aws:SourceAccount", ("123456789012",)),)
    assert [(r.value, r.pointer) for r in statement.resources] == [
        ("${aws_s3_bucket.logs.arn}/*", f"{doc}/resources/0")
    ]
    events = FIXTURES / "entrypoints" / "events.tf"
    identifiers = line(events, '["logging.s3.amazonaws.com"]')
    assert logs.policy.origin.lines(statement.principals[0][1].pointer) == (identifiers,) * 2


def test_alias_managed_policy_arns_and_policy_attachment(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        """
resource "aws_iam_role" "r" {
  name                = "r"
  managed_policy_arns = ["arn:aws:iam::aws:policy/AdministratorAccess", aws_iam_policy.p.arn]
}
resource "aws_iam_policy" "p" {
  policy = jsonencode({ Statement = [{ Effect = "Allow", Action = "sqs:*", Resource = "*" }] })
}
resource "aws_iam_policy_attachment" "shared" {
  name       = "shared"
  roles      = [aws_iam_role.r.name]
  policy_arn = "arn:aws:iam::123456789012:policy/elsewhere"
}
resource "aws_lambda_function" "f" {
  function_name = "f"
  role          = aws_iam_role.r.arn
}
resource "aws_lambda_alias" "live" {
  name          = "live"
  function_name = aws_lambda_function.f.arn
}
resource "aws_lambda_function_url" "live" {
  function_name      = aws_lambda_alias.live.arn
  authorization_type = "NONE"
}
""",
        encoding="utf-8",
    )
    app, errors = load_terraform(
        tmp_path, PurePosixPath("t"), [tmp_path / "main.tf"], max_bytes=BIG
    )
    assert errors == []
    [fn] = app.functions
    assert [(t.kind, t.name) for t in fn.triggers] == [
        (TriggerKind.FUNCTION_URL, "aws_lambda_function_url.live")
    ]
    grants = role_of(fn).grants
    assert [(g.source, g.name, g.pointer) for g in grants] == [
        (
            GrantSource.AWS_MANAGED,
            "arn:aws:iam::aws:policy/AdministratorAccess",
            "/resource/aws_iam_role/r/managed_policy_arns/0",
        ),
        (
            GrantSource.CUSTOMER_MANAGED,
            "aws_iam_policy.p",
            "/resource/aws_iam_role/r/managed_policy_arns/1",
        ),
        (
            GrantSource.CUSTOMER_MANAGED,
            "arn:aws:iam::123456789012:policy/elsewhere",
            "/resource/aws_iam_policy_attachment/shared/policy_arn",
        ),
    ]
    customer = grants[1].document
    assert customer is not None
    assert [a.value for s in customer.statements for a in s.actions] == ["sqs:*"]
    assert grants[2].document is None  # defined elsewhere: unknown


# --- delivery failures and exposure --------------------------------------------------------


def test_delivery_failures_and_exposure() -> None:
    app, errors = load("delivery")
    assert errors == []
    notify = function(app, "aws_lambda_function.notify")
    assert [(t.kind, t.name, t.dead_letter) for t in notify.triggers] == [
        (
            TriggerKind.SNS,
            "aws_sns_topic_subscription.events",
            "aws_sqs_queue.undeliverable.arn",  # jsonencode({deadLetterTargetArn = ...})
        ),
        (
            TriggerKind.SNS,
            "aws_sns_topic_subscription.alerts",
            "arn:aws:sqs:eu-west-1:123456789012:alerts-dlq",  # JSON text
        ),
        (
            TriggerKind.EVENTBRIDGE,
            "aws_cloudwatch_event_target.changes",
            "aws_sqs_queue.undeliverable.arn",
        ),
        (
            TriggerKind.SCHEDULE,
            "aws_scheduler_schedule.nightly",
            "arn:aws:sqs:eu-west-1:123456789012:schedule-dlq",
        ),
    ]
    jobs = function(app, "aws_lambda_function.jobs")
    route = jobs.triggers[0]
    assert (route.kind, route.source, route.asynchronous, route.is_async) == (
        TriggerKind.API_REST,
        "POST /jobs",
        True,
        True,
    )
    assert route.auth is not None and (route.auth.kind, route.auth.private) == (
        AuthKind.NONE,
        True,
    )
    assert [
        (p.origin.resource, p.principal, p.principal_org_id, p.function_url_auth_type)
        for p in app.permissions
    ] == [
        ("aws_lambda_permission.organisation", "*", "o-a1b2c3d4e5", None),
        ("aws_lambda_permission.webhook_url", "*", None, "NONE"),
    ]
    drop, landing = app.buckets
    # Both buckets invoke `jobs`; the second notification names its bucket by name.
    assert drop.notifies == landing.notifies == ("aws_lambda_function.jobs",)
    assert (drop.public_read, drop.public_write, drop.public_access_block) == (False, False, None)
    assert (landing.public_read, landing.public_write) == (True, True)
    assert landing.public_access_block == PublicAccessBlock(
        "/resource/aws_s3_bucket_public_access_block/landing", ignore_public_acls=True
    )


def test_account_public_access_block_covers_every_bucket(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'resource "aws_s3_account_public_access_block" "account" {\n'
        "  block_public_policy     = true\n"
        "  restrict_public_buckets = true\n"
        "}\n"
        'resource "aws_s3_bucket" "a" {\n  bucket = "a"\n}\n'
        'resource "aws_s3_bucket" "b" {\n  bucket = "b"\n}\n'
        'resource "aws_s3_bucket_public_access_block" "b" {\n'
        "  bucket             = aws_s3_bucket.b.id\n"
        "  ignore_public_acls = true\n"
        "}\n",
        encoding="utf-8",
    )
    app, errors = load_terraform(
        tmp_path, PurePosixPath("tf"), [tmp_path / "main.tf"], max_bytes=BIG
    )
    assert errors == []
    assert [b.public_access_block for b in app.buckets] == [
        PublicAccessBlock(
            "/resource/aws_s3_account_public_access_block/account",
            block_public_policy=True,
            restrict_public_buckets=True,
        ),
        PublicAccessBlock(
            "/resource/aws_s3_bucket_public_access_block/b",
            ignore_public_acls=True,
            block_public_policy=True,
            restrict_public_buckets=True,
        ),
    ]


# --- layers ------------------------------------------------------------------------------


def layer_rows(app: Application) -> list[tuple[str, str | None, PurePosixPath, str, int]]:
    """Each layer's address, local content, file, pointer and first line."""
    return [
        (
            layer.origin.resource,
            layer.content_uri,
            layer.origin.path,
            layer.origin.pointer,
            layer.origin.lines(layer.origin.pointer)[0],
        )
        for layer in app.layers
    ]


def test_layers_and_the_references_functions_make_to_them() -> None:
    app, errors = load("layers")
    assert errors == []
    main = FIXTURES / "layers" / "main.tf"
    jobs = FIXTURES / "layers" / "modules" / "jobs" / "main.tf"
    assert layer_rows(app) == [
        (
            "aws_lambda_layer_version.deps",
            "layers/deps",  # the `archive_file`'s `source_dir`
            PurePosixPath("tf/layers/main.tf"),
            "/resource/aws_lambda_layer_version/deps",
            line(main, 'resource "aws_lambda_layer_version" "deps"'),
        ),
        (
            "aws_lambda_layer_version.pdf_tools",
            "layers/pdf-tools.zip",
            PurePosixPath("tf/layers/main.tf"),
            "/resource/aws_lambda_layer_version/pdf_tools",
            line(main, 'resource "aws_lambda_layer_version" "pdf_tools"'),
        ),
        (
            "aws_lambda_layer_version.shared",
            None,  # `s3_bucket` and `s3_key`: nothing local
            PurePosixPath("tf/layers/main.tf"),
            "/resource/aws_lambda_layer_version/shared",
            line(main, 'resource "aws_lambda_layer_version" "shared"'),
        ),
        (
            "module.jobs.aws_lambda_layer_version.this",
            "modules/jobs/layer",
            PurePosixPath("tf/layers/modules/jobs/main.tf"),
            "/resource/aws_lambda_layer_version/this",
            line(jobs, 'resource "aws_lambda_layer_version" "this"'),
        ),
    ]
    assert {f.origin.resource: f.layers for f in app.functions} == {
        "aws_lambda_function.render": ("aws_lambda_layer_version.deps.arn",),
        "aws_lambda_function.export": (
            "aws_lambda_layer_version.pdf_tools.arn",
            "aws_lambda_layer_version.shared.arn",
            "arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV2:78",
            "aws_lambda_layer_version.missing.arn",  # no such layer: kept as written
        ),
        # Written `aws_lambda_layer_version.this.arn` inside the module.
        "module.jobs.aws_lambda_function.this": ("module.jobs.aws_lambda_layer_version.this.arn",),
    }


def test_a_layers_folder_and_zip_link_to_the_functions_that_use_them(tmp_path: Path) -> None:
    project = tmp_path / "layers"
    shutil.copytree(FIXTURES / "layers", project)
    with zipfile.ZipFile(project / "layers" / "pdf-tools.zip", "w") as archive:
        archive.writestr(
            "python/lib/python3.12/site-packages/pypdf-3.9.0.dist-info/METADATA",
            "Metadata-Version: 2.1\nName: pypdf\nVersion: 3.9.0\n",
        )
    report = scan([str(project)], Config(select=("LS-DEP-003",), fail_on_missing_db=False))
    assert report.errors == ()
    assert {
        s.origin.path.relative_to(PurePosixPath(project.as_posix())).as_posix(): (
            s.functions,
            s.python_version,
        )
        for s in report.dependency_sets
    } == {
        "layers/deps/requirements.txt": (("aws_lambda_function.render",), "3.12"),
        "layers/pdf-tools.zip": (("aws_lambda_function.export",), "3.12"),
        "modules/jobs/layer/requirements.txt": (("module.jobs.aws_lambda_function.this",), "3.11"),
    }


def test_a_layer_outside_the_scanned_root_is_never_read(tmp_path: Path) -> None:
    (tmp_path / "shared" / "deps").mkdir(parents=True)
    (tmp_path / "shared" / "deps" / "requirements.txt").write_text(
        "requests==2.19.0\n", encoding="utf-8"
    )
    infra = tmp_path / "infra"
    infra.mkdir()
    (infra / "main.tf").write_text(
        'resource "aws_lambda_layer_version" "zipped" {\n'
        '  layer_name = "zipped"\n'
        '  filename   = "../shared/deps.zip"\n'
        "}\n"
        'resource "aws_lambda_layer_version" "archived" {\n'
        '  layer_name = "archived"\n'
        "  filename   = data.archive_file.archived.output_path\n"
        "}\n"
        'data "archive_file" "archived" {\n'
        '  type        = "zip"\n'
        '  source_dir  = "${path.module}/../shared/deps"\n'
        '  output_path = "${path.module}/build/archived.zip"\n'
        "}\n"
        'resource "aws_lambda_layer_version" "unknown" {\n'
        '  layer_name = "unknown"\n'
        "  filename   = var.layer_zip\n"
        "}\n"
        'resource "aws_lambda_function" "render" {\n'
        '  function_name = "render"\n'
        '  handler       = "render.handler"\n'
        '  runtime       = "python3.12"\n'
        '  filename      = "build/render.zip"\n'
        "  layers = [\n"
        "    aws_lambda_layer_version.zipped.arn,\n"
        "    aws_lambda_layer_version.archived.arn,\n"
        "    aws_lambda_layer_version.unknown.arn,\n"
        "  ]\n"
        "}\n",
        encoding="utf-8",
    )
    app, errors = load_terraform(infra, PurePosixPath("infra"), [infra / "main.tf"], max_bytes=BIG)
    assert [(layer.origin.resource, layer.content_uri) for layer in app.layers] == [
        ("aws_lambda_layer_version.archived", None),
        ("aws_lambda_layer_version.unknown", None),  # a variable without a default
        ("aws_lambda_layer_version.zipped", None),
    ]
    assert errors == [
        ScanError(
            PurePosixPath("infra/main.tf"),
            "layer `aws_lambda_layer_version.zipped`: `filename` ../shared/deps.zip is outside "
            "the scanned folder, which is never read; scan a folder that holds both",
            3,
        ),
        ScanError(
            PurePosixPath("infra/main.tf"),
            "layer `aws_lambda_layer_version.archived`: `source_dir` ../shared/deps is outside "
            "the scanned folder, which is never read; scan a folder that holds both",
            11,
        ),
    ]
    report = scan([str(infra)], Config(select=("LS-DEP-003",), fail_on_missing_db=False))
    assert [(e.path.name, e.line, e.message) for e in report.errors] == [
        ("main.tf", e.line, e.message) for e in errors
    ]
    assert report.dependency_sets == ()


PLAN_LAYERS = FIXTURES / "plan_layers"
PLAN_FILE = PLAN_LAYERS / "tfplan.json"
POWERTOOLS = "arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV2:78"


def test_plan_layers_are_linked_to_the_functions_that_use_them() -> None:
    display = PurePosixPath("tf/plan_layers/tfplan.json")
    app, errors = read_terraform_plan(PLAN_FILE, display, max_bytes=BIG, root=PLAN_LAYERS)
    assert errors == []

    def opening(address: str) -> int:
        return line(PLAN_FILE, f'"address": "{address}"') - 1  # the object's `{`

    assert layer_rows(app) == [
        (
            "aws_lambda_layer_version.deps",
            "layers/deps",  # its `filename` is the output of an `archive_file` of this
            display,
            "/planned_values/root_module/resources/3",
            opening("aws_lambda_layer_version.deps"),
        ),
        (
            "aws_lambda_layer_version.fonts",
            None,  # `s3_bucket` and `s3_key`: nothing local
            display,
            "/planned_values/root_module/resources/4",
            opening("aws_lambda_layer_version.fonts"),
        ),
        (
            "module.jobs.aws_lambda_layer_version.this",
            "modules/jobs/layer",
            display,
            "/planned_values/root_module/child_modules/0/resources/1",
            opening("module.jobs.aws_lambda_layer_version.this"),
        ),
    ]
    assert {f.origin.resource: (f.layers, f.code_uri) for f in app.functions} == {
        # `layers` is planned as `[null, <fonts ARN>, <Powertools ARN>]`: the new layer's
        # ARN is not known until apply, the existing one's is.
        "aws_lambda_function.render": (
            (
                "aws_lambda_layer_version.deps.arn",
                "aws_lambda_layer_version.fonts.arn",
                POWERTOOLS,
            ),
            "src/render",
        ),
        "module.jobs.aws_lambda_function.this": (
            ("module.jobs.aws_lambda_layer_version.this.arn",),
            None,  # from S3
        ),
    }
    assert {f.origin.resource: function_code(app, f).layers for f in app.functions} == {
        "aws_lambda_function.render": ("tf/plan_layers/layers/deps",),
        "module.jobs.aws_lambda_function.this": ("tf/plan_layers/modules/jobs/layer",),
    }
    assert read_terraform_plan(PLAN_FILE, display, max_bytes=BIG) == (app, [])


def test_plan_layer_dependencies_are_reported_on_their_functions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(FIXTURES.parents[2])
    report = scan(
        ["tests/fixtures/terraform/plan_layers"],
        Config(select=("LS-DEP-003",), fail_on_missing_db=False),
    )
    assert report.errors == ()
    base = PurePosixPath("tests/fixtures/terraform/plan_layers")
    assert {
        s.origin.path.relative_to(base).as_posix(): (
            s.functions,
            s.python_version,
            [(d.name, d.version) for d in s.dependencies],
        )
        for s in report.dependency_sets
    } == {
        "layers/deps/requirements.txt": (
            ("aws_lambda_function.render",),
            "3.12",
            [("requests", "2.19.0")],
        ),
        "modules/jobs/layer/requirements.txt": (
            ("module.jobs.aws_lambda_function.this",),
            "3.11",
            [("PyYAML", "5.3.1")],
        ),
    }


def _plan(resources: list[dict[str, object]], data: list[dict[str, object]]) -> str:
    """A `terraform show -json` plan of `(address, type, values, expressions)` resources
    and of data sources read while planning."""

    def planned(items: list[dict[str, object]], mode: str) -> list[dict[str, object]]:
        return [
            {
                "address": r["address"],
                "mode": mode,
                "type": r["type"],
                "name": str(r["address"]).rsplit(".", 1)[1],
                "provider_name": "registry.terraform.io/hashicorp/aws",
                "schema_version": 0,
                "values": r["values"],
                "sensitive_values": {},
            }
            for r in items
        ]

    plan = {
        "format_version": "1.2",
        "terraform_version": "1.9.5",
        "planned_values": {"root_module": {"resources": planned(resources, "managed")}},
        "prior_state": {
            "format_version": "1.0",
            "terraform_version": "1.9.5",
            "values": {"root_module": {"resources": planned(data, "data")}},
        },
        "configuration": {
            "root_module": {
                "resources": [
                    {
                        "address": r["address"],
                        "mode": "data" if str(r["address"]).startswith("data.") else "managed",
                        "type": r["type"],
                        "name": str(r["address"]).rsplit(".", 1)[1],
                        "expressions": r["expressions"],
                    }
                    for r in [*resources, *data]
                ]
            }
        },
    }
    return json.dumps(plan, indent=2) + "\n"


def _references(*addresses: str) -> dict[str, list[str]]:
    return {"references": [f for a in addresses for f in (f"{a}.arn", a)]}


def test_a_plan_layer_outside_the_scanned_root_is_a_located_error(tmp_path: Path) -> None:
    infra = tmp_path / "infra"
    infra.mkdir()
    plan = infra / "tfplan.json"
    plan.write_text(
        _plan(
            [
                {
                    "address": "aws_lambda_function.render",
                    "type": "aws_lambda_function",
                    "values": {"function_name": "render", "layers": [None, None, None]},
                    "expressions": {
                        "layers": _references(
                            "aws_lambda_layer_version.zipped",
                            "aws_lambda_layer_version.archived",
                            "aws_lambda_layer_version.inside",
                        )
                    },
                },
                {
                    "address": "aws_lambda_layer_version.archived",
                    "type": "aws_lambda_layer_version",
                    "values": {"layer_name": "archived", "filename": "./build/archived.zip"},
                    "expressions": {
                        "filename": {
                            "references": [
                                "data.archive_file.archived.output_path",
                                "data.archive_file.archived",
                            ]
                        }
                    },
                },
                {
                    "address": "aws_lambda_layer_version.inside",
                    "type": "aws_lambda_layer_version",
                    "values": {"layer_name": "inside", "filename": "./build/../layers/x.zip"},
                    "expressions": {"filename": {"references": ["path.module"]}},
                },
                {
                    "address": "aws_lambda_layer_version.zipped",
                    "type": "aws_lambda_layer_version",
                    "values": {"layer_name": "zipped", "filename": "../shared/deps.zip"},
                    "expressions": {"filename": {"constant_value": "../shared/deps.zip"}},
                },
            ],
            [
                {
                    "address": "data.archive_file.archived",
                    "type": "archive_file",
                    "values": {
                        "output_path": "./build/archived.zip",
                        "source_dir": "./../shared/deps",
                        "type": "zip",
                    },
                    "expressions": {"source_dir": {"references": ["path.module"]}},
                }
            ],
        ),
        encoding="utf-8",
    )
    display = PurePosixPath("infra/tfplan.json")
    app, errors = read_terraform_plan(plan, display, max_bytes=BIG, root=infra)
    assert [(layer.origin.resource, layer.content_uri) for layer in app.layers] == [
        ("aws_lambda_layer_version.archived", None),
        ("aws_lambda_layer_version.inside", "layers/x.zip"),
        ("aws_lambda_layer_version.zipped", None),
    ]
    assert errors == [
        ScanError(
            display,
            "layer `aws_lambda_layer_version.zipped`: `filename` ../shared/deps.zip is "
            "outside the scanned folder, which is never read; scan a folder that holds both",
            line(plan, '"filename": "../shared/deps.zip"'),
        ),
        ScanError(
            display,
            "layer `aws_lambda_layer_version.archived`: `source_dir` ../shared/deps is "
            "outside the scanned folder, which is never read; scan a folder that holds both",
            line(plan, '"source_dir": "./../shared/deps"'),
        ),
    ]
    [fn] = app.functions
    assert fn.layers == (
        "aws_lambda_layer_version.zipped.arn",
        "aws_lambda_layer_version.archived.arn",
        "aws_lambda_layer_version.inside.arn",
    )
    # A scan of the plan's folder fails closed on them.
    report = scan([infra], Config())
    assert [(e.path.name, e.line) for e in report.errors] == [
        ("tfplan.json", line(plan, '"filename": "../shared/deps.zip"')),
        ("tfplan.json", line(plan, '"source_dir": "./../shared/deps"')),
    ]
    # The folder above the plan's is inside the root: nothing to report there.
    app, errors = read_terraform_plan(plan, display, max_bytes=BIG, root=tmp_path)
    assert errors == []
    assert [layer.content_uri for layer in app.layers] == [
        "../shared/deps",
        "layers/x.zip",
        "../shared/deps.zip",
    ]


def test_plan_list_attributes_link_every_resource_they_refer_to(tmp_path: Path) -> None:
    plan = tmp_path / "tfplan.json"
    extra = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}],
        }
    )
    plan.write_text(
        _plan(
            [
                {
                    "address": "aws_iam_policy.extra",
                    "type": "aws_iam_policy",
                    "values": {"name": "extra", "policy": extra},
                    "expressions": {"policy": {"constant_value": extra}},
                },
                {
                    "address": "aws_iam_role.r",
                    "type": "aws_iam_role",
                    "values": {
                        "name": "r",
                        "managed_policy_arns": [None, "arn:aws:iam::aws:policy/ReadOnlyAccess"],
                    },
                    "expressions": {"managed_policy_arns": _references("aws_iam_policy.extra")},
                },
            ],
            [],
        ),
        encoding="utf-8",
    )
    app, errors = read_terraform_plan(plan, PurePosixPath("tfplan.json"), max_bytes=BIG)
    assert errors == []
    [role] = app.roles
    assert [(g.source, g.name, g.pointer) for g in role.grants] == [
        (
            GrantSource.CUSTOMER_MANAGED,
            "aws_iam_policy.extra",
            "/planned_values/root_module/resources/1/values/managed_policy_arns/0",
        ),
        (
            GrantSource.AWS_MANAGED,
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
            "/planned_values/root_module/resources/1/values/managed_policy_arns/1",
        ),
    ]
    document = role.grants[0].document
    assert document is not None
    assert [a.value for s in document.statements for a in s.actions] == ["sqs:*"]


# --- Terraform's JSON syntax: `*.tf.json`, `cdktf synth` output --------------------------

CDKTF = FIXTURES / "cdktf"
STACK = CDKTF / "cdktf.out" / "stacks" / "orders"
SYNTH = STACK / "cdk.tf.json"


def load_folder(root: Path, display: str = "t") -> tuple[Application, list[ScanError]]:
    files = sorted(p for p in root.iterdir() if p.name.endswith((".tf", ".tf.json")))
    return load_terraform(root, PurePosixPath(display), files, max_bytes=BIG)


def test_cdktf_synth_output_loads() -> None:
    app, errors = load_terraform(
        CDKTF, PurePosixPath("cdktf/cdktf.out/stacks/orders"), [SYNTH], max_bytes=BIG
    )
    assert errors == []
    shown = PurePosixPath("cdktf/cdktf.out/stacks/orders/cdk.tf.json")
    [fn] = app.functions
    assert (fn.origin.path, fn.origin.resource, fn.origin.pointer) == (
        shown,
        "aws_lambda_function.orders_fn",
        "/resource/aws_lambda_function/orders_fn",
    )
    assert fn.origin.lines(fn.origin.pointer) == (
        line(SYNTH, '"orders_fn": {'),
        line(SYNTH, '"aws_lambda_function_url": {') - 2,
    )
    assert (fn.runtime, fn.handler, fn.timeout, fn.code_uri) == (
        "python3.8",
        "app.handler",
        30,
        "assets/orders-code/5F3A9C1B2D4E6F708192A3B4C5D6E7F8/archive.zip",
    )
    assert fn.runtime_pointer == "/resource/aws_lambda_function/orders_fn/runtime"
    assert fn.origin.lines(fn.runtime_pointer) == (line(SYNTH, '"runtime": "python3.8"'),) * 2
    base = "/resource/aws_lambda_function/orders_fn/environment/variables"
    assert [(e.name, e.value, e.pointer, fn.origin.lines(e.pointer)) for e in fn.environment] == [
        (
            "DB_PASSWORD",
            "Tr0ub4dor&3-orders",
            f"{base}/DB_PASSWORD",
            (line(SYNTH, '"DB_PASSWORD"'),) * 2,
        ),
        ("TABLE_NAME", "orders", f"{base}/TABLE_NAME", (line(SYNTH, '"TABLE_NAME"'),) * 2),
    ]
    # "${aws_iam_role.lambda_role.arn}" links the role; "${...id}" attaches its policy.
    role = role_of(fn)
    assert app.roles == (role,)
    assert (role.origin.path, role.origin.resource, role.origin.pointer) == (
        shown,
        "aws_iam_role.lambda_role",
        "/resource/aws_iam_role/lambda_role",
    )
    assert role.origin.lines(role.origin.pointer) == (
        line(SYNTH, '"lambda_role": {'),
        line(SYNTH, '"name": "orders-lambda"') + 1,
    )
    [grant] = role.grants
    policy = "/resource/aws_iam_role_policy/table_access/policy"
    assert (grant.source, grant.name, grant.pointer, grant.origin) == (
        GrantSource.INLINE,
        "orders-table-access",
        policy,
        None,
    )
    assert grant.document is not None and grant.document.grammar_errors == ()
    [statement] = grant.document.statements
    assert [(a.value, a.pointer) for a in statement.actions] == [
        ("dynamodb:*", f"{policy}/Statement/0/Action/0")
    ]
    assert [(r.value, r.pointer) for r in statement.resources] == [
        ("*", f"{policy}/Statement/0/Resource")
    ]
    # Policy JSON inside a JSON string: its parts are on the string's line.
    assert grant.document.origin.lines(statement.actions[0].pointer) == (
        (line(SYNTH, '"policy": "{'),) * 2
    )
    [url] = fn.triggers
    assert url == Trigger(
        TriggerKind.FUNCTION_URL,
        "function URL",
        "/resource/aws_lambda_function_url/orders_url",
        "aws_lambda_function_url.orders_url",
        Authorization(
            AuthKind.NONE,
            "authorization_type = NONE",
            pointer="/resource/aws_lambda_function_url/orders_url/authorization_type",
        ),
    )
    assert fn.origin.lines(url.auth.pointer if url.auth else "") == (
        (line(SYNTH, '"authorization_type": "NONE"'),) * 2
    )
    assert app.values == () and app.permissions == () and app.suppressions == ()


def test_cdktf_project_scan_end_to_end(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES.parents[2])
    # The project root: `cdktf.json` and `cdktf.out/manifest.json` are JSON that is
    # neither a policy nor a template, and the synthesised stack is Terraform.
    report = scan(["tests/fixtures/terraform/cdktf"], Config(fail_on_missing_db=False))
    assert report.errors == ()
    assert report.functions == 1
    path = PurePosixPath("tests/fixtures/terraform/cdktf/cdktf.out/stacks/orders/cdk.tf.json")
    policy = line(SYNTH, '"policy": "{')
    assert {
        (f.rule.id, f.resource, f.location.path, f.location.start_line) for f in report.findings
    } == {
        ("LS-IAM-002", "aws_lambda_function.orders_fn", path, policy),  # dynamodb:*
        ("LS-IAM-005", "aws_lambda_function.orders_fn", path, policy),  # ... on every table
        ("LS-IAM-007", "aws_lambda_function.orders_fn", path, policy),
        ("LS-SEC-001", "aws_lambda_function.orders_fn", path, line(SYNTH, '"DB_PASSWORD"')),
        ("LS-FN-001", "aws_lambda_function.orders_fn", path, line(SYNTH, '"runtime"')),
        ("LS-API-001", "aws_lambda_function.orders_fn", path, line(SYNTH, '"authorization_type"')),
    }


def _one_file_name(value: object) -> object:
    """`value` with `main.tf.json` written `main.tf`: for comparing models of twins."""
    if isinstance(value, PurePosixPath):
        return value.with_name(value.name.removesuffix(".json"))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: _one_file_name(getattr(value, f.name)) for f in dataclasses.fields(value)
        }
        return dataclasses.replace(value, **changes)
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(_one_file_name(v) for v in value)
    return value


def test_the_same_module_in_hcl_and_json_gives_the_same_model() -> None:
    twins = FIXTURES / "twins"
    hcl, hcl_errors = load_folder(twins / "hcl", "twins")
    tf_json, json_errors = load_folder(twins / "json", "twins")
    assert hcl_errors == json_errors == []
    # Everything, pointers included (origin lines are not compared), but the file name.
    assert _one_file_name(tf_json) == _one_file_name(hcl)
    [fn] = tf_json.functions
    assert {e.name: e.value for e in fn.environment} == {
        "TABLE": "arn:aws:dynamodb:eu-west-1:123456789012:table/orders",
        "PASSWORD": "s3cr3t-${not_a_reference}",  # a variable's default is never a template
        "GREETING": "Hello ${name}",  # `$${` escapes
        "QUEUE": Unresolved("aws_sqs_queue.jobs.url", "resource attribute known only after apply"),
    }
    assert [
        (g.name, [a.value for s in g.document.statements for a in s.actions])
        for g in role_of(fn).grants
        if g.document
    ] == [
        ("fn", ["dynamodb:GetItem", "dynamodb:PutItem", "logs:*"]),
        ("audit", ["s3:PutObject"]),
    ]
    assert [p.source_arn for p in tf_json.permissions] == [
        "arn:aws:sns:eu-west-1:123456789012:orders-events"
    ]
    # Lines come from the JSON text.
    main = twins / "json" / "main.tf.json"
    env = "/resource/aws_lambda_function/fn/environment/variables"
    assert fn.origin.lines(f"{env}/PASSWORD") == (line(main, '"PASSWORD"'),) * 2
    assert fn.origin.lines("/resource/aws_lambda_function/fn/tracing_config/mode") == (
        (line(main, '"mode": "Active"'),) * 2
    )
    document = role_of(fn).grants[0].document
    assert document is not None
    logs = document.statements[1]
    assert logs.pointer == "/data/aws_iam_policy_document/fn/statement/1"
    assert document.origin.lines(logs.pointer) == (
        line(main, '"sid": "Logs"') - 1,
        line(main, '"values": ["eu-west-1"]') + 2,
    )
    assert document.origin.lines(logs.actions[0].pointer) == (line(main, '"logs:*"'),) * 2
    assert [(v.name, v.origin and v.origin.lines(v.pointer)) for v in tf_json.values] == [
        ("local.table_arn", (line(main, '"table_arn"'),) * 2),
        ("var.db_password", (line(main, '"default": "s3cr3t'),) * 2),
        ("var.prefix", (line(main, '"default": "orders"'),) * 2),
    ]


def test_mixed_tf_and_tf_json_folder_with_a_json_module(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'variable "prefix" {\n'
        '  default = "mixed"\n'
        "}\n"
        'resource "aws_iam_role" "fn" {\n'
        '  name               = "${var.prefix}-fn"\n'
        '  assume_role_policy = "{}"\n'
        "}\n",
        encoding="utf-8",
    )
    lambda_json = {
        "module": {"api": {"source": "./modules/api", "role_arn": "${aws_iam_role.fn.arn}"}},
        "resource": {
            "aws_lambda_function": {
                "worker": {
                    "function_name": "${var.prefix}-worker",
                    "role": "${aws_iam_role.fn.arn}",
                    "runtime": "nodejs20.x",
                    "handler": "index.handler",
                }
            },
            "aws_iam_role_policy": {
                "fn": {
                    "name": "sqs",
                    "role": "${aws_iam_role.fn.name}",
                    "policy": json.dumps(
                        {"Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]}
                    ),
                }
            },
        },
    }
    (tmp_path / "lambda.tf.json").write_text(json.dumps(lambda_json, indent=2), encoding="utf-8")
    api = tmp_path / "modules" / "api"
    api.mkdir(parents=True)
    module_json = {
        "variable": {"role_arn": {"type": "string"}},
        "resource": {
            "aws_lambda_function": {
                "this": {
                    "function_name": "api",
                    "role": "${var.role_arn}",
                    "runtime": "python3.12",
                    "handler": "app.handler",
                }
            }
        },
    }
    (api / "main.tf.json").write_text(json.dumps(module_json, indent=2), encoding="utf-8")
    (api / "url.tf").write_text(
        'resource "aws_lambda_function_url" "this" {\n'
        "  function_name      = aws_lambda_function.this.function_name\n"
        '  authorization_type = "NONE"\n'
        "}\n",
        encoding="utf-8",
    )
    found = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    # `"source": "./modules/api"` in JSON makes that folder a module, not a root.
    assert root_module_folders(tmp_path, found) == [
        [tmp_path / "lambda.tf.json", tmp_path / "main.tf"]
    ]
    app, errors = load_folder(tmp_path, "m")
    assert errors == []
    assert [
        (f.origin.resource, f.origin.path, role_of(f).origin.resource, role_of(f).origin.path)
        for f in app.functions
    ] == [
        (
            "aws_lambda_function.worker",
            PurePosixPath("m/lambda.tf.json"),
            "aws_iam_role.fn",
            PurePosixPath("m/main.tf"),
        ),
        (
            "module.api.aws_lambda_function.this",
            PurePosixPath("m/modules/api/main.tf.json"),
            "aws_iam_role.fn",
            PurePosixPath("m/main.tf"),
        ),
    ]
    worker, module_fn = app.functions
    assert worker.environment == () and worker.runtime == "nodejs20.x"
    [grant] = role_of(worker).grants
    assert grant.origin is not None  # written in the JSON file, the role in main.tf
    assert (grant.name, grant.origin.path, grant.origin.pointer) == (
        "sqs",
        PurePosixPath("m/lambda.tf.json"),
        "/resource/aws_iam_role_policy/fn",
    )
    lambda_file = tmp_path / "lambda.tf.json"
    assert grant.origin.lines(grant.pointer) == (line(lambda_file, '"policy"'),) * 2
    [url] = module_fn.triggers
    assert url.origin is not None and url.origin.path == PurePosixPath("m/modules/api/url.tf")
    assert url.auth is not None and url.auth.kind is AuthKind.NONE


def test_invalid_tf_json_is_a_located_error_and_the_rest_loads(tmp_path: Path) -> None:
    (tmp_path / "good.tf").write_text(
        'resource "aws_lambda_function" "kept" {\n  runtime = "python3.8"\n}\n', encoding="utf-8"
    )
    (tmp_path / "bad.tf.json").write_text(
        '{\n  "resource": {\n    "aws_lambda_function": {,\n  }\n}\n', encoding="utf-8"
    )
    app, errors = load_folder(tmp_path)
    assert errors == [
        ScanError(
            PurePosixPath("t/bad.tf.json"),
            "invalid JSON: Expecting property name enclosed in double quotes (column 29)",
            3,
        )
    ]
    assert [f.origin.resource for f in app.functions] == ["aws_lambda_function.kept"]
    report = scan([str(tmp_path)], Config(select=("LS-FN-001",)))
    assert [(e.path.name, e.line) for e in report.errors] == [("bad.tf.json", 3)]
    assert [(f.rule.id, f.location.path.name) for f in report.findings] == [
        ("LS-FN-001", "good.tf")
    ]
    result = CliRunner().invoke(main, ["scan", str(tmp_path), "--select", "LS-FN-001"])
    assert result.exit_code == 2


def test_tf_json_that_is_not_a_configuration(tmp_path: Path) -> None:
    (tmp_path / "list.tf.json").write_text("\n[1]\n", encoding="utf-8")
    (tmp_path / "plan.tf.json").write_text(
        '{"format_version": "1.2", "planned_values": {}}', encoding="utf-8"
    )
    (tmp_path / "odd.tf.json").write_text(
        "{\n"
        '  "resource": {\n'
        '    "aws_lambda_function": {\n'
        '      "a": "not a body",\n'
        '      "b": {"function_name": "b", "runtime": "python3.12", "handler": "${"}\n'
        "    }\n"
        "  },\n"
        '  "resorce": {},\n'
        '  "locals": [1],\n'
        '  "provider": {"aws": [{"region": "eu-west-1"}, {"alias": "us"}]},\n'
        '  "terraform": {"required_version": ">= 1.5"}\n'
        "}\n",
        encoding="utf-8",
    )
    app, errors = load_folder(tmp_path)
    odd, listed, plan = (PurePosixPath(f"t/{name}.tf.json") for name in ("odd", "list", "plan"))
    assert errors == [
        ScanError(listed, "a Terraform JSON configuration is one JSON object, not an array", 2),
        ScanError(
            odd, "`resource aws_lambda_function a`: expected a JSON object, found a string", 4
        ),
        ScanError(odd, "invalid string template `${`", 5),
        ScanError(odd, "unsupported block type `resorce`: Terraform rejects the file", 8),
        ScanError(odd, "`locals`: expected a JSON object, found a number", 9),
        ScanError(
            plan,
            "this is a Terraform plan (`terraform show -json`), not configuration: name it "
            "`*.json` without `.tf` to scan it as a plan",
            1,
        ),
    ]
    [fn] = app.functions  # the rest of the file still loads
    assert (fn.origin.resource, fn.runtime, fn.handler) == (
        "aws_lambda_function.b",
        "python3.12",
        "${",
    )


def test_tf_json_strings_literals_and_comments() -> None:
    text = json.dumps(
        {
            "//": "generated by a tool",
            "variable": {"v": {"default": "${not.a.template}", "description": "${x}"}},
            "module": {
                "m": {"source": "./m", "depends_on": ["aws_s3_bucket.b"], "input": "${var.v}"}
            },
            "resource": {
                "aws_s3_bucket": {
                    "b": {
                        "//": {"metadata": {"path": "stack/b"}},
                        "bucket": "logs-${var.v}",
                        "ref": "${aws_iam_role.r.arn}",
                        "escaped": "$${literal} and %%{x}",
                        "call": "${jsonencode({a = [1, var.v]})}",
                        "numbers": [1, 2.5, True, None, "${local.x}"],
                        "tags": {"//": "kept: a map's key", "Team": "${var.v}"},
                        "directive": "%{if var.v}x%{endif}",
                        "surrogate": "\ud800-${var.v}",
                    }
                }
            },
        },
        indent=2,
    )
    file, problems = parse_tf_json(text, PurePosixPath("x.tf.json"))
    assert problems == []
    variable, module, bucket = file.body.blocks
    assert (variable.type, variable.labels, variable.pointer) == ("variable", ("v",), "/variable/v")
    assert variable.attributes == {"default": "${not.a.template}", "description": "${x}"}
    assert module.attributes == {
        "source": "./m",
        "depends_on": ["aws_s3_bucket.b"],
        "input": Template((Ref(("var", "v"), "var.v"),), "${var.v}"),
    }
    v = Ref(("var", "v"), "var.v")
    assert bucket.pointer == "/resource/aws_s3_bucket/b"
    assert bucket.attributes == {
        "bucket": Template(("logs-", v), "logs-${var.v}"),
        "ref": Template(
            (Ref(("aws_iam_role", "r", "arn"), "aws_iam_role.r.arn"),), "${aws_iam_role.r.arn}"
        ),
        "escaped": "${literal} and %{x}",
        "call": Template(
            (
                Call(
                    "jsonencode",
                    ({"a": [1, v]},),
                    "jsonencode({a = [1, var.v]})",
                    path=PurePosixPath("x.tf.json"),
                    line=line_of(text, '"call"'),
                ),
            ),
            "${jsonencode({a = [1, var.v]})}",
        ),
        "numbers": [1, 2.5, True, None, Template((Ref(("local", "x"), "local.x"),), "${local.x}")],
        "tags": {"//": "kept: a map's key", "Team": Template((v,), "${var.v}")},
        "directive": Opaque("%{if var.v}x%{endif}"),
        # A lone surrogate (`\ud800` in the JSON) cannot be UTF-8: replaced, never a crash.
        "surrogate": Template(("\ufffd\ufffd\ufffd-", v), "\ud800-${var.v}"),
    }
    # An object is also offered as a nested block, whose body drops `"//"`.
    [tags] = bucket.blocks
    assert (tags.type, tags.pointer, tags.attributes) == (
        "tags",
        "/resource/aws_s3_bucket/b/tags",
        {"Team": Template((v,), "${var.v}")},
    )
    assert file.lines("/resource/aws_s3_bucket/b/tags/Team") == (line_of(text, '"Team"'),) * 2


def line_of(text: str, needle: str) -> int:
    return text.count("\n", 0, text.index(needle)) + 1


def test_tf_json_repeated_blocks_written_as_arrays(tmp_path: Path) -> None:
    config = {
        "resource": [
            {
                "aws_iam_role": {
                    "two": {
                        "name": "two",
                        "inline_policy": [
                            {"name": "a", "policy": '{"Statement": []}'},
                            {"name": "b", "policy": '{"Statement": []}'},
                        ],
                    },
                    "one": {"name": "one", "inline_policy": {"name": "c", "policy": "{}"}},
                }
            },
            {
                "aws_lambda_function": {
                    "fn": {"function_name": "fn", "role": "${aws_iam_role.two.arn}"}
                },
                "aws_s3_bucket_notification": {
                    "n": {
                        "bucket": "uploads",
                        "lambda_function": [
                            {
                                "lambda_function_arn": "${aws_lambda_function.fn.arn}",
                                "filter_prefix": "in/",
                            },
                            {
                                "lambda_function_arn": "${aws_lambda_function.fn.arn}",
                                "filter_suffix": ".csv",
                            },
                        ],
                    }
                },
            },
        ],
        "data": {
            "aws_iam_policy_document": {
                "d": {
                    "dynamic": {
                        "statement": {
                            "for_each": "${var.statements}",
                            "content": {"actions": "${statement.value}"},
                        }
                    }
                }
            }
        },
    }
    text = json.dumps(config, indent=2)
    (tmp_path / "main.tf.json").write_text(text, encoding="utf-8")
    app, errors = load_folder(tmp_path)
    assert errors == []
    roles = {r.origin.resource: r for r in app.roles}
    assert [g.pointer for g in roles["aws_iam_role.two"].grants] == [
        "/resource/aws_iam_role/two/inline_policy/0/policy",
        "/resource/aws_iam_role/two/inline_policy/1/policy",
    ]
    # A block type that repeats is indexed even when written as one object.
    assert [g.pointer for g in roles["aws_iam_role.one"].grants] == [
        "/resource/aws_iam_role/one/inline_policy/0/policy"
    ]
    [fn] = app.functions
    notification = "/resource/aws_s3_bucket_notification/n/lambda_function"
    assert [(t.kind, t.pointer, t.filters) for t in fn.triggers] == [
        (TriggerKind.S3, f"{notification}/0", (("prefix", "in/"),)),
        (TriggerKind.S3, f"{notification}/1", (("suffix", ".csv"),)),
    ]
    assert [fn.origin.lines(t.pointer)[0] for t in fn.triggers] == [
        line_of(text, '"lambda_function": [') + 1,
        line_of(text, '"filter_prefix"') + 2,
    ]
    file, _ = parse_tf_json(text, PurePosixPath("main.tf.json"))
    [document] = [b for b in file.body.blocks if b.type == "data"]
    [dynamic] = document.blocks
    assert (dynamic.type, dynamic.labels, dynamic.pointer) == (
        "dynamic",
        ("statement",),
        "/data/aws_iam_policy_document/d/dynamic/statement/0",
    )
    assert [b.pointer for b in dynamic.blocks] == [
        "/data/aws_iam_policy_document/d/dynamic/statement/0/content"
    ]


def test_tf_json_call_reading_outside_the_root_points_at_its_string(tmp_path: Path) -> None:
    text = json.dumps(
        {
            "resource": {
                "aws_lambda_function": {
                    "fn": {
                        "function_name": "fn",
                        "environment": {"variables": {"KEY": '${file("../../secret.txt")}'}},
                    }
                }
            }
        },
        indent=2,
    )
    (tmp_path / "main.tf.json").write_text(text, encoding="utf-8")
    app, errors = load_folder(tmp_path)
    assert errors == [
        ScanError(
            PurePosixPath("t/main.tf.json"),
            "file('../../secret.txt') reads a file outside the scanned folder, which is never "
            "read; scan a folder that holds both",
            line_of(text, '"KEY"'),
        )
    ]
    [fn] = app.functions
    assert [e.value for e in fn.environment] == [
        Unresolved('file("../../secret.txt")', "file outside the scanned folder is never read")
    ]


def test_discovery_reads_tf_json_and_cdktf_output_but_not_provider_caches(
    tmp_path: Path,
) -> None:
    stack = tmp_path / "cdktf.out" / "stacks" / "orders"
    (stack / ".terraform" / "modules" / "vpc").mkdir(parents=True)
    shutil.copy(SYNTH, stack / "cdk.tf.json")
    (stack / ".terraform" / "modules" / "vpc" / "main.tf.json").write_text("{}", encoding="utf-8")
    (tmp_path / "cdktf.out" / "manifest.json").write_text("{}", encoding="utf-8")
    (tmp_path / "plan.json").write_text("{}", encoding="utf-8")
    (tmp_path / "terraform.tfvars.json").write_text("{}", encoding="utf-8")
    (tmp_path / "main.tf").write_text("", encoding="utf-8")
    found = [
        (c.display.relative_to(PurePosixPath(tmp_path.as_posix())).as_posix(), c.kind)
        for c in discover(str(tmp_path), max_files=100, max_file_bytes=BIG)
        if isinstance(c, Candidate)
    ]
    assert sorted(found) == [
        ("cdktf.out/manifest.json", Kind.JSON),
        ("cdktf.out/stacks/orders/cdk.tf.json", Kind.TERRAFORM),
        ("main.tf", Kind.TERRAFORM),
        ("plan.json", Kind.JSON),
        ("terraform.tfvars.json", Kind.JSON),
    ]
    # Read though `.gitignore` lists it (as CDKTF projects do): it is what is deployed.
    (tmp_path / ".gitignore").write_text("cdktf.out\n*.tfvars.json\n", encoding="utf-8")
    listed = discover(str(tmp_path), max_files=100, max_file_bytes=BIG)
    assert sorted(c.display.name for c in listed if isinstance(c, Candidate)) == [
        "cdk.tf.json",
        "main.tf",
        "manifest.json",
        "plan.json",
    ]
    # A configured `exclude` still applies.
    excluded = discover(str(tmp_path), exclude=("cdktf.out",), max_files=100, max_file_bytes=BIG)
    assert sorted(c.display.name for c in excluded if isinstance(c, Candidate)) == [
        "main.tf",
        "plan.json",
    ]
    named = discover(str(tmp_path / "cdktf.out"), max_files=100, max_file_bytes=BIG)
    assert sorted(c.display.name for c in named if isinstance(c, Candidate)) == [
        "cdk.tf.json",
        "manifest.json",
    ]


_JSON_KEYS = st.sampled_from(
    [
        *("resource", "data", "variable", "locals", "module", "output", "//"),
        *("aws_lambda_function", "fn", "environment", "variables", "role", "runtime"),
        *("statement", "dynamic", "source", "policy", "inline_policy", "default", "value"),
        *("count", "x", "content", "for_each", "iterator"),
    ]
)
_JSON_STRINGS = st.sampled_from(
    [
        *("${aws_iam_role.r.arn}", "${var.x}", "$${x}", "${", "%{if x}", "./m", "../.."),
        *("python3.8", "${jsonencode({a = 1})}", '${file("/etc/passwd")}', "${local.x}", ""),
        *("}", "\ud800${x}", "${statement.value}", "${toset(var.x)}"),
    ]
)
_JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), _JSON_STRINGS, st.text(max_size=5)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(_JSON_KEYS, inner, max_size=5)
    ),
    max_leaves=40,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_JSON_VALUES, _JSON_VALUES)
def test_random_tf_json_never_raises(first: object, second: object) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "a.tf.json").write_text(json.dumps(first), encoding="utf-8")
        (root / "b.tf.json").write_text(json.dumps({"resource": second}), encoding="utf-8")
        app, errors = load_folder(root)
    assert isinstance(app, Application)
    assert all(isinstance(e, ScanError) for e in errors)
    for fn in app.functions:
        assert all(_no_internal_values(e.value) for e in fn.environment)


# --- dynamic blocks ----------------------------------------------------------------------

DYNAMIC = FIXTURES / "dynamic"
MODULE_MAIN = DYNAMIC / "modules" / "function" / "main.tf"
ARCHIVER = DYNAMIC / "archiver.tf"
MODULE_DOC = "/data/aws_iam_policy_document/this"


def statements_of(document: object) -> list[tuple[object, ...]]:
    """Each statement as `(sid, effect, pointer, [(action, pointer)], [(resource, pointer)],
    conditions)`."""
    assert isinstance(document, PolicyDocument)
    return [
        (
            s.sid,
            s.effect and s.effect.value,
            s.pointer,
            [(a.value, a.pointer) for a in s.actions],
            [(r.value, r.pointer) for r in s.resources],
            s.conditions,
        )
        for s in document.statements
    ]


def test_dynamic_statements_from_a_module_variables_default_list() -> None:
    app, errors = load("dynamic")
    assert errors == []
    role = role_of(function(app, "module.orders.aws_lambda_function.this"))
    [grant] = role.grants
    assert (grant.source, grant.name, grant.pointer) == (
        GrantSource.INLINE,
        "function",
        "/resource/aws_iam_role_policy/this/policy",
    )
    document = grant.document
    assert document is not None and document.grammar_errors == ()
    assert document.origin.path == PurePosixPath("tf/dynamic/modules/function/main.tf")
    logs = f"{MODULE_DOC}/statement/0"
    # The list's element 0: `content/0`.
    table = f"{MODULE_DOC}/dynamic/statement/0/content/0"
    assert statements_of(document) == [
        (
            "Logs",
            "Allow",
            logs,
            [
                ("logs:CreateLogStream", f"{logs}/actions/0"),
                ("logs:PutLogEvents", f"{logs}/actions/1"),
            ],
            [("arn:aws:logs:*:*:log-group:/aws/lambda/orders:*", f"{logs}/resources/0")],
            (),
        ),
        # `try(..., null)` of an absent `effect` is no effect: Allow; `lookup` gives the
        # default resources.
        (
            "Table",
            "Allow",
            table,
            [("dynamodb:*", f"{table}/actions/0")],
            [("*", f"{table}/resources/0")],
            (),
        ),
    ]
    content = line(MODULE_MAIN, "content {")
    assert document.origin.lines(table) == (content, line(MODULE_MAIN, "resources = lookup") + 1)
    actions = line(MODULE_MAIN, "actions   = statement.value.actions")
    assert document.origin.lines(f"{table}/actions/0") == (actions, actions)
    resources = line(MODULE_MAIN, "resources = lookup")
    assert document.origin.lines(f"{table}/resources/0") == (resources, resources)


def test_dynamic_statements_over_a_map_are_keyed_and_ordered_by_key() -> None:
    app, _ = load("dynamic")
    [grant] = role_of(function(app, "module.reports.aws_lambda_function.this")).grants
    read = f"{MODULE_DOC}/dynamic/statement/0/content/read"
    assert statements_of(grant.document)[1:] == [
        (
            "ReadReports",
            "Allow",
            read,
            [("s3:GetObject", f"{read}/actions/0")],
            [("arn:aws:s3:::orders-reports/*", f"{read}/resources/0")],
            (),
        )
    ]
    # `sid = statement.key`, the map's keys in order (as Terraform iterates a map).
    role = role_of(function(app, "aws_lambda_function.archiver"))
    buckets = role.grants[0]
    assert (buckets.name, buckets.pointer) == (
        "buckets",
        "/resource/aws_iam_role/archiver/inline_policy/0/policy",
    )
    base = "/data/aws_iam_policy_document/buckets/dynamic/statement/0/content"
    assert statements_of(buckets.document) == [
        (
            "Archive",
            "Allow",
            f"{base}/Archive",
            [
                ("s3:GetObject", f"{base}/Archive/actions/0"),
                ("s3:DeleteObject", f"{base}/Archive/actions/1"),
            ],
            [("arn:aws:s3:::orders-archive/*", f"{base}/Archive/resources/0")],
            (),
        ),
        (
            "Uploads",
            "Allow",
            f"{base}/Uploads",
            [("s3:PutObject", f"{base}/Uploads/actions/0")],
            [("arn:aws:s3:::orders-uploads/*", f"{base}/Uploads/resources/0")],
            (),
        ),
    ]
    assert buckets.document is not None
    content = line(ARCHIVER, "content {", 'data "aws_iam_policy_document" "buckets"')
    lines = buckets.document.origin.lines
    assert lines(f"{base}/Archive") == lines(f"{base}/Uploads") == (content, content + 4)
    assert lines(f"{base}/Uploads/resources/0") == (content + 3, content + 3)


def test_dynamic_custom_iterator_and_nested_dynamic_condition() -> None:
    app, _ = load("dynamic")
    role = role_of(function(app, "aws_lambda_function.archiver"))
    queues = role.grants[2]
    assert (queues.source, queues.name, queues.pointer) == (
        GrantSource.CUSTOMER_MANAGED,
        "aws_iam_policy.queues",
        "/resource/aws_iam_role_policy_attachment/queues/policy_arn",
    )
    base = "/data/aws_iam_policy_document/queues/dynamic/statement/0/content/0"
    assert queues.document is not None and queues.document.grammar_errors == ()
    assert statements_of(queues.document) == [
        (
            None,
            "Allow",
            base,
            [("sqs:SendMessage", f"{base}/actions/0")],
            [("arn:aws:sqs:eu-west-1:123456789012:orders", f"{base}/resources/0")],
            (
                ("ArnEquals", "aws:SourceArn", ("arn:aws:sns:eu-west-1:123456789012:orders",)),
                ("StringEquals", "aws:SourceAccount", ("123456789012",)),
            ),
        )
    ]
    lines = queues.document.origin.lines
    content = line(ARCHIVER, "content {", "iterator = queue")
    assert lines(base) == (content, line(ARCHIVER, "}", "values   = condition") + 2)
    # A condition generated inside a generated statement: the inner `content` block.
    condition = f"{base}/dynamic/condition/0/content/1"
    inner = line(ARCHIVER, "content {", "for_each = queue.value.conditions")
    assert lines(condition) == (inner, inner + 4)
    assert lines(f"{condition}/values") == (inner + 3, inner + 3)


def test_dynamic_for_each_not_known_marks_the_permissions_unknown() -> None:
    app, errors = load("dynamic")
    assert errors == []
    # The module's argument is a root variable without a default.
    nightly = role_of(function(app, "module.nightly.aws_lambda_function.this"))
    logs, unread = nightly.grants
    assert logs.document is not None and [s.sid for s in logs.document.statements] == ["Logs"]
    assert logs.document.grammar_errors == ()
    dynamic = f"{MODULE_DOC}/dynamic/statement/0"
    assert (unread.source, unread.name, unread.pointer, unread.document) == (
        GrantSource.INLINE,
        'module.nightly.data.aws_iam_policy_document.this dynamic "statement" '
        "(for_each = var.policy_statements = var.nightly_statements: variable has no default)",
        dynamic,
        None,
    )
    assert unread.origin is not None
    assert (unread.origin.path, unread.origin.resource, unread.origin.pointer) == (
        PurePosixPath("tf/dynamic/modules/function/main.tf"),
        "module.nightly.aws_iam_role.this",
        dynamic,
    )
    start = line(MODULE_MAIN, 'dynamic "statement"')
    assert unread.origin.lines(dynamic) == (start, start + 8)
    # A role's own `dynamic "inline_policy"` over an unknown map.
    archiver = role_of(function(app, "aws_lambda_function.archiver"))
    assert [(g.name, g.pointer, g.document is None) for g in archiver.grants] == [
        ("buckets", "/resource/aws_iam_role/archiver/inline_policy/0/policy", False),
        (
            'aws_iam_role.archiver dynamic "inline_policy" '
            "(for_each = var.inline_policies: variable has no default)",
            "/resource/aws_iam_role/archiver/dynamic/inline_policy/0",
            True,
        ),
        (
            "aws_iam_policy.queues",
            "/resource/aws_iam_role_policy_attachment/queues/policy_arn",
            False,
        ),
    ]


def test_dynamic_environment_block() -> None:
    app, _ = load("dynamic")
    fn = function(app, "aws_lambda_function.archiver")
    variables = "/resource/aws_lambda_function/archiver/dynamic/environment/0/content/0/variables"
    assert [(e.name, e.value, e.pointer) for e in fn.environment] == [
        ("ARCHIVE_BUCKET", "orders-archive", f"{variables}/ARCHIVE_BUCKET")
    ]
    written = line(ARCHIVER, "variables = environment.value")
    assert fn.origin.lines(f"{variables}/ARCHIVE_BUCKET") == (written, written)


def test_dynamic_blocks_scan_end_to_end(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(FIXTURES.parents[2])
    report = scan(["tests/fixtures/terraform/dynamic"], Config(fail_on_missing_db=False))
    assert report.errors == ()
    folder = PurePosixPath("tests/fixtures/terraform/dynamic")
    module = folder / "modules" / "function" / "main.tf"
    actions = line(MODULE_MAIN, "actions   = statement.value.actions")
    orders = "module.orders.aws_lambda_function.this"
    assert {
        (f.rule.id, f.resource, f.location.path, f.location.start_line) for f in report.findings
    } == {
        # `dynamodb:*` on `*`, from the module variable's default.
        ("LS-IAM-002", orders, module, actions),
        ("LS-IAM-005", orders, module, actions),
        ("LS-IAM-007", orders, module, actions),
        (
            "LS-IAM-013",
            "module.nightly.aws_lambda_function.this",
            module,
            line(MODULE_MAIN, 'dynamic "statement"'),
        ),
        (
            "LS-IAM-013",
            "aws_lambda_function.archiver",
            folder / "archiver.tf",
            line(ARCHIVER, 'dynamic "inline_policy"'),
        ),
    }
    [unknown] = [
        f for f in report.findings if f.resource == "module.nightly.aws_lambda_function.this"
    ]
    assert unknown.message == (
        '`module.nightly.data.aws_iam_policy_document.this dynamic "statement" '
        "(for_each = var.policy_statements = var.nightly_statements: variable has no "
        "default)` is attached to module.nightly.aws_lambda_function.this, but its "
        "permissions are unknown here and were not checked"
    )


def test_dynamic_blocks_in_hcl_and_json_give_the_same_model() -> None:
    twins = FIXTURES / "dynamic_twins"
    hcl, hcl_errors = load_folder(twins / "hcl", "twins")
    tf_json, json_errors = load_folder(twins / "json", "twins")
    assert hcl_errors == json_errors == []
    assert _one_file_name(tf_json) == _one_file_name(hcl)
    [fn] = tf_json.functions
    assert [(e.name, e.value) for e in fn.environment] == [("TABLE", "orders")]
    inline, extra, policies = role_of(fn).grants
    doc = "/data/aws_iam_policy_document/fn"
    rule = f"{doc}/dynamic/statement/0/content/0"
    assert statements_of(inline.document) == [
        (
            "Logs",
            "Allow",
            f"{doc}/statement/0",
            [("logs:PutLogEvents", f"{doc}/statement/0/actions/0")],
            [("*", f"{doc}/statement/0/resources/0")],
            (),
        ),
        (
            None,
            "Allow",
            rule,
            [("dynamodb:*", f"{rule}/actions/0")],
            [("*", f"{rule}/resources/0")],
            (("StringEquals", "aws:RequestedRegion", ("eu-west-1",)),),
        ),
    ]
    assert [(g.name, g.pointer, g.document) for g in (extra, policies)] == [
        (
            'data.aws_iam_policy_document.fn dynamic "statement" (for_each = '
            "toset(var.extra_actions) = var.extra_actions: variable has no default)",
            f"{doc}/dynamic/statement/1",
            None,
        ),
        (
            'aws_iam_role.fn dynamic "inline_policy" '
            "(for_each = var.policies: variable has no default)",
            "/resource/aws_iam_role/fn/dynamic/inline_policy/0",
            None,
        ),
    ]
    # Lines come from the JSON text: the `content` object a statement was made from.
    main = twins / "json" / "main.tf.json"
    assert inline.document is not None
    lines = inline.document.origin.lines
    content = line(main, '"content": {', '"iterator": "rule"')
    assert lines(rule) == (content, line(main, '"values": "${condition.value.values}"') + 4)
    actions = line(main, '"actions": "${rule.value.actions}"')
    assert lines(f"{rule}/actions/0") == (actions, actions)
    condition = f"{rule}/dynamic/condition/0/content/0/values"
    values = line(main, '"values": "${condition.value.values}"')
    assert lines(condition) == (values, values)
    assert extra.origin is not None
    start = line(main, '"for_each": "${toset(var.extra_actions)}"') - 1
    assert extra.origin.lines(extra.pointer) == (start, start + 6)


DYNAMIC_EDGES = """
variable "statements" {
  type = map(object({ effect = optional(string), actions = list(string) }))
  default = {
    deny  = { effect = "Deny", actions = ["s3:DeleteBucket"] }
    admin = { actions = ["*"] }
  }
}

data "aws_iam_policy_document" "p" {
  dynamic "statement" {
    for_each = var.statements
    content {
      sid       = try(statement.value.sid, upper(statement.key), "x")
      effect    = statement.value.effect
      actions   = statement.value.actions
      resources = ["*"]

      dynamic "statement" {
        for_each = ["ignored"]
        content {
          actions = [statement.value]
        }
      }
    }
  }

  dynamic "statement" {
    for_each = toset(["s3:PutObject", "s3:GetObject", "s3:PutObject"])
    content {
      sid       = try(statement.value.sid, replace(statement.key, ":", ""))
      actions   = [statement.value]
      resources = ["arn:aws:s3:::b/${statement.key}"]
    }
  }

  dynamic "statement" {
    for_each = [for s in var.more_statements : s]
    content {
      actions = ["iam:PassRole"]
    }
  }
}

resource "aws_iam_role" "r" {
  inline_policy {
    policy = data.aws_iam_policy_document.p.json
  }
}

resource "aws_lambda_function" "fn" {
  role = aws_iam_role.r.arn
}
"""


def test_dynamic_sets_try_and_attributes_an_element_lacks(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(DYNAMIC_EDGES, encoding="utf-8")
    app, errors = load_folder(tmp_path)
    assert errors == []
    [fn] = app.functions
    inline, unread = role_of(fn).grants
    # Two placeholder Sids are not known to be the same: no duplicate-Sid error.
    assert inline.document is not None and inline.document.grammar_errors == ()
    doc = "/data/aws_iam_policy_document/p/dynamic/statement"
    put, get = f"{doc}/1/content/s3:PutObject", f"{doc}/1/content/s3:GetObject"
    assert statements_of(inline.document) == [
        # Map keys in order; an attribute the element lacks is null (an `optional`
        # attribute of the variable's type): no `effect` is Allow. `try` skips it.
        (
            "ADMIN",
            "Allow",
            f"{doc}/0/content/admin",
            [("*", f"{doc}/0/content/admin/actions/0")],
            [("*", f"{doc}/0/content/admin/resources/0")],
            (),
        ),
        (
            "DENY",
            "Deny",
            f"{doc}/0/content/deny",
            [("s3:DeleteBucket", f"{doc}/0/content/deny/actions/0")],
            [("*", f"{doc}/0/content/deny/resources/0")],
            (),
        ),
        # A set: each element once, in order, its key the element itself. Unknown Sids
        # are placeholders, colons dropped as in every placeholder.
        (
            '${replace(statement.key, " ", "")}',
            "Allow",
            get,
            [("s3:GetObject", f"{get}/actions/0")],
            [("arn:aws:s3:::b/s3:GetObject", f"{get}/resources/0")],
            (),
        ),
        (
            '${replace(statement.key, " ", "")}',
            "Allow",
            put,
            [("s3:PutObject", f"{put}/actions/0")],
            [("arn:aws:s3:::b/s3:PutObject", f"{put}/resources/0")],
            (),
        ),
    ]
    assert (unread.name, unread.pointer, unread.document) == (
        'data.aws_iam_policy_document.p dynamic "statement" (for_each = [for s in '
        "var.more_statements : s]: `for` over var.more_statements: variable not declared)",
        f"{doc}/2",
        None,
    )


def test_dynamic_expansion_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(terraform, "MAX_DYNAMIC_BLOCKS", 5)
    (tmp_path / "main.tf").write_text(
        'variable "actions" {\n  default = ["a:A", "b:B", "c:C"]\n}\n\n'
        'data "aws_iam_policy_document" "p" {\n'
        '  dynamic "statement" {\n    for_each = var.actions\n'
        "    content {\n      actions = [statement.value]\n\n"
        '      dynamic "condition" {\n        for_each = var.actions\n'
        '        content {\n          test = "StringEquals"\n'
        "          variable = condition.value\n          values = []\n        }\n"
        "      }\n    }\n  }\n}\n\n"
        'resource "aws_iam_role" "r" {\n  inline_policy {\n'
        "    policy = data.aws_iam_policy_document.p.json\n  }\n}\n\n"
        'resource "aws_lambda_function" "fn" {\n  role = aws_iam_role.r.arn\n}\n',
        encoding="utf-8",
    )
    app, errors = load_folder(tmp_path)
    assert errors == []
    [fn] = app.functions
    inline, *unread = role_of(fn).grants
    assert inline.document is not None
    # 3 statements, then the first one's 2 conditions of 3: 5 blocks.
    assert [len(s.conditions) for s in inline.document.statements] == [2, 0, 0]
    assert [(g.name, g.pointer) for g in unread] == [
        (
            'data.aws_iam_policy_document.p dynamic "condition" (for_each = var.actions: '
            "more blocks than the 5 lambdashield generates)",
            f"/data/aws_iam_policy_document/p/dynamic/statement/0/content/{i}/dynamic/condition/0",
        )
        for i in range(3)
    ]


def test_dynamic_unknown_in_a_merged_document_reaches_the_role(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'variable "extra" {}\n\n'
        'data "aws_iam_policy_document" "base" {\n'
        '  dynamic "statement" {\n    for_each = var.extra\n'
        "    content {\n      actions = statement.value\n    }\n  }\n}\n\n"
        'data "aws_iam_policy_document" "fn" {\n'
        "  source_policy_documents = [data.aws_iam_policy_document.base.json]\n\n"
        '  statement {\n    actions   = ["s3:GetObject"]\n    resources = ["*"]\n  }\n}\n\n'
        'resource "aws_iam_role" "r" {}\n\n'
        'resource "aws_iam_policy" "p" {\n  policy = data.aws_iam_policy_document.fn.json\n}\n\n'
        'resource "aws_iam_role_policy_attachment" "a" {\n'
        "  role       = aws_iam_role.r.name\n  policy_arn = aws_iam_policy.p.arn\n}\n\n"
        'resource "aws_lambda_function" "fn" {\n  role = aws_iam_role.r.arn\n}\n',
        encoding="utf-8",
    )
    app, errors = load_folder(tmp_path)
    assert errors == []
    [fn] = app.functions
    known, unknown = role_of(fn).grants
    assert known.document is not None
    assert [a.value for s in known.document.statements for a in s.actions] == ["s3:GetObject"]
    assert (unknown.source, unknown.name, unknown.pointer, unknown.document) == (
        GrantSource.CUSTOMER_MANAGED,
        'data.aws_iam_policy_document.base dynamic "statement" '
        "(for_each = var.extra: variable has no default)",
        "/data/aws_iam_policy_document/base/dynamic/statement/0",
        None,
    )
    assert unknown.origin is not None
    assert unknown.origin.lines(unknown.pointer) == (4, 9)


BUCKET_POLICIES = """\
variable "extra_statements" {
  type = list(object({ actions = list(string), principals = list(string) }))
}

variable "readers" {
  type = list(string)
}

resource "aws_s3_bucket" "uploads" {
  bucket = "acme-uploads"
}

resource "aws_s3_bucket_notification" "uploads" {
  bucket = aws_s3_bucket.uploads.id
  lambda_function {
    lambda_function_arn = aws_lambda_function.ingest.arn
    events              = ["s3:ObjectCreated:*"]
  }
}

data "aws_iam_policy_document" "uploads" {
  statement {
    sid       = "ReadFromCdn"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.uploads.arn}/*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::123456789012:role/cdn"]
    }
  }
  dynamic "statement" {
    for_each = var.extra_statements
    content {
      actions   = statement.value.actions
      resources = ["${aws_s3_bucket.uploads.arn}/*"]
      principals {
        type        = "AWS"
        identifiers = statement.value.principals
      }
    }
  }
}

resource "aws_s3_bucket_policy" "uploads" {
  bucket = aws_s3_bucket.uploads.id
  policy = data.aws_iam_policy_document.uploads.json
}

resource "aws_s3_bucket" "reports" {
  bucket = "acme-reports"
  policy = data.aws_iam_policy_document.reports.json
}

data "aws_iam_policy_document" "reports" {
  statement {
    actions   = ["s3:GetObject"]
    resources = ["arn:aws:s3:::acme-reports/*"]
    dynamic "principals" {
      for_each = var.readers
      content {
        type        = "AWS"
        identifiers = [principals.value]
      }
    }
  }
}

resource "aws_s3_bucket" "logs" {
  bucket = "acme-logs"
}

data "aws_iam_policy_document" "logs" {
  dynamic "statement" {
    for_each = ["logging.s3.amazonaws.com"]
    content {
      actions   = ["s3:PutObject"]
      resources = ["arn:aws:s3:::acme-logs/*"]
      principals {
        type        = "Service"
        identifiers = [statement.value]
      }
      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = ["123456789012"]
      }
    }
  }
}

resource "aws_s3_bucket_policy" "logs" {
  bucket = aws_s3_bucket.logs.id
  policy = data.aws_iam_policy_document.logs.json
}

resource "aws_lambda_function" "ingest" {
  function_name = "ingest"
  handler       = "ingest.handler"
  runtime       = "python3.12"
  filename      = "build/ingest.zip"
}
"""


def test_bucket_policy_with_blocks_not_known_records_them_on_the_bucket(tmp_path: Path) -> None:
    written = tmp_path / "main.tf"
    written.write_text(BUCKET_POLICIES, encoding="utf-8")
    app, errors = load_folder(tmp_path, "infra")
    assert errors == []
    buckets = {b.origin.resource: b for b in app.buckets}
    uploads = buckets["aws_s3_bucket.uploads"]
    assert uploads.policy is not None  # what is known is still checked
    assert [(s.sid, [a.value for a in s.actions]) for s in uploads.policy.statements] == [
        ("ReadFromCdn", ["s3:GetObject"])
    ]
    [(reason, where)] = uploads.policy_unknown
    assert reason == (
        'data.aws_iam_policy_document.uploads dynamic "statement" (for_each = '
        "var.extra_statements: variable has no default)"
    )
    assert where == Origin(
        PurePosixPath("infra/main.tf"),
        "aws_s3_bucket.uploads",
        "bucket",
        "/data/aws_iam_policy_document/uploads/dynamic/statement/0",
    )
    assert where.lines(where.pointer)[0] == line(written, 'dynamic "statement"')
    reports = buckets["aws_s3_bucket.reports"]
    assert reports.policy is not None
    [statement] = reports.policy.statements
    assert statement.principals == ()
    [(reason, where)] = reports.policy_unknown
    assert reason == (
        'data.aws_iam_policy_document.reports dynamic "principals" (for_each = '
        "var.readers: variable has no default)"
    )
    assert where.pointer == "/data/aws_iam_policy_document/reports/statement/0/dynamic/principals/0"
    assert where.lines(where.pointer)[0] == line(written, 'dynamic "principals"')
    logs = buckets["aws_s3_bucket.logs"]  # its `for_each` is known: nothing unknown
    assert logs.policy is not None and len(logs.policy.statements) == 1
    assert logs.policy_unknown == ()


def policy_apart(folder: Path, text: str = BUCKET_POLICIES) -> Path:
    """`text` in `folder`, the `uploads` policy document in `policies.tf`, apart from its
    bucket in `main.tf`; the path of `policies.tf`."""
    start = text.index('data "aws_iam_policy_document" "uploads"')
    end = text.index('resource "aws_s3_bucket_policy" "uploads"')
    folder.mkdir(exist_ok=True)
    (folder / "main.tf").write_text(text[:start] + text[end:], encoding="utf-8")
    policies = folder / "policies.tf"
    policies.write_text(text[start:end], encoding="utf-8")
    return policies


def test_bucket_policy_block_in_another_file_is_located_in_that_file(tmp_path: Path) -> None:
    policies = policy_apart(tmp_path)
    app, errors = load_folder(tmp_path, "infra")
    assert errors == []
    uploads = next(b for b in app.buckets if b.origin.resource == "aws_s3_bucket.uploads")
    assert uploads.origin.path == PurePosixPath("infra/main.tf")
    [(_, where)] = uploads.policy_unknown
    assert where.path == PurePosixPath("infra/policies.tf")
    assert where.lines(where.pointer)[0] == line(policies, 'dynamic "statement"')


def test_bucket_policy_block_in_another_file_is_reported_in_that_file(tmp_path: Path) -> None:
    infra = tmp_path / "infra"
    policies = policy_apart(infra)
    report = scan([str(infra)], Config(select=("LS-API-006",)))
    assert [(f.location.path.name, f.location.start_line) for f in report.findings] == [
        ("policies.tf", line(policies, 'dynamic "statement"'))
    ]


def test_a_public_bucket_policy_in_another_file_is_reported_there(tmp_path: Path) -> None:
    infra = tmp_path / "infra"
    public = BUCKET_POLICIES.replace('"arn:aws:iam::123456789012:role/cdn"', '"*"')
    policies = policy_apart(infra, public)
    report = scan([str(infra)], Config(select=("LS-API-005",)))
    assert [(f.resource, f.location.path.name, f.location.start_line) for f in report.findings] == [
        ("aws_s3_bucket.uploads", "policies.tf", line(policies, 'identifiers = ["*"]'))
    ]


def test_bucket_policy_with_blocks_not_known_is_a_finding_not_an_error(tmp_path: Path) -> None:
    infra = tmp_path / "infra"
    infra.mkdir()
    (infra / "main.tf").write_text(BUCKET_POLICIES, encoding="utf-8")
    report = scan([str(infra)], Config(select=("LS-API-004", "LS-API-005", "LS-API-006")))
    assert report.errors == ()
    # `reports` triggers no function: what its policy leaves unknown is not reported.
    assert [
        (f.rule.id, f.resource, f.location.path.name, f.location.start_line)
        for f in report.findings
    ] == [
        (
            "LS-API-006",
            "aws_s3_bucket.uploads",
            "main.tf",
            line(infra / "main.tf", 'dynamic "statement"'),
        )
    ]
    args = ["scan", str(infra), "--select", "LS-API-006", "--fail-on", "medium"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    assert "policy of bucket `aws_s3_bucket.uploads` is not fully known" in result.output
    assert "0 errors" in result.output
    # Unlike the scan error it replaces, it can be suppressed where the block is written.
    text = BUCKET_POLICIES.replace(
        '  dynamic "statement" {\n    for_each = var.extra_statements',
        "  # lambdashield: ignore[LS-API-006] callers pass only account principals\n"
        '  dynamic "statement" {\n    for_each = var.extra_statements',
    )
    assert text != BUCKET_POLICIES
    (infra / "main.tf").write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "1 suppressed" in result.output


# --- `count` and `for_each`: one instance per index or key ------------------------------

INSTANCES = FIXTURES / "instances"
INSTANCES_MAIN = INSTANCES / "main.tf"
WORKERS = INSTANCES / "workers.tf"
QUEUES = INSTANCES / "queues.tf"


def test_for_each_over_a_map_makes_one_instance_per_key() -> None:
    app, errors = load("instances")
    assert errors == []
    assert [f.origin.resource for f in app.functions] == [
        'aws_lambda_function.this["billing"]',
        'aws_lambda_function.this["orders"]',
        "aws_lambda_function.worker[0]",
        "aws_lambda_function.worker[1]",
        'module.job["export"].aws_lambda_function.this',
        'module.job["import"].aws_lambda_function.this',
    ]
    block = line(INSTANCES_MAIN, 'resource "aws_lambda_function"')
    runtime = line(INSTANCES_MAIN, "runtime       = each.value.runtime")
    variables = line(INSTANCES_MAIN, "TABLE       =")
    rows = []
    for key, fn in (("billing", app.functions[0]), ("orders", app.functions[1])):
        base = f"/resource/aws_lambda_function/this/{key}"
        env = f"{base}/environment/variables"
        # Every instance has the block's lines.
        assert (fn.origin.path, fn.origin.pointer, fn.origin.lines(fn.origin.pointer)) == (
            PurePosixPath("tf/instances/main.tf"),
            base,
            (block, variables + 4),
        )
        assert fn.origin.lines(fn.runtime_pointer) == (runtime, runtime)
        assert fn.origin.lines(f"{env}/DB_PASSWORD") == (variables + 1, variables + 1)
        rows.append(
            (
                fn.runtime,
                fn.runtime_pointer,
                fn.memory,
                fn.handler,
                fn.code_uri,
                [(e.name, e.value, e.pointer) for e in fn.environment],
            )
        )
    assert rows == [
        (
            "nodejs20.x",
            "/resource/aws_lambda_function/this/billing/runtime",
            128,
            "index.handler",
            "build/billing.zip",
            [
                (
                    "TABLE",
                    "t-billing",
                    "/resource/aws_lambda_function/this/billing/environment/variables/TABLE",
                ),
                (
                    "DB_PASSWORD",
                    "/billing/db-password",
                    "/resource/aws_lambda_function/this/billing/environment/variables/DB_PASSWORD",
                ),
            ],
        ),
        (
            "python3.8",
            "/resource/aws_lambda_function/this/orders/runtime",
            256,
            "index.handler",
            "build/orders.zip",
            [
                (
                    "TABLE",
                    "t-orders",
                    "/resource/aws_lambda_function/this/orders/environment/variables/TABLE",
                ),
                (
                    "DB_PASSWORD",
                    "hunter2-Orders-9f3K",
                    "/resource/aws_lambda_function/this/orders/environment/variables/DB_PASSWORD",
                ),
            ],
        ),
    ]


def test_instances_link_to_the_role_and_policy_of_the_same_key() -> None:
    app, _ = load("instances")
    billing, orders = (
        function(app, 'aws_lambda_function.this["billing"]'),
        function(app, 'aws_lambda_function.this["orders"]'),
    )
    statement = line(INSTANCES_MAIN, "statement {")
    actions = line(INSTANCES_MAIN, "actions   = each.value.actions")
    resources = actions + 1
    for fn, key, wanted in (
        (billing, "billing", ["dynamodb:GetItem", "dynamodb:PutItem"]),
        (orders, "orders", ["dynamodb:*"]),
    ):
        role = role_of(fn)
        assert (role.origin.resource, role.origin.pointer, role.external) == (
            f'aws_iam_role.this["{key}"]',
            f"/resource/aws_iam_role/this/{key}",
            None,
        )
        table = role.grants[0]
        assert (table.source, table.name, table.pointer) == (
            GrantSource.INLINE,
            f"{key}-table",
            f"/resource/aws_iam_role_policy/this/{key}/policy",
        )
        document = table.document
        assert document is not None and document.grammar_errors == ()
        doc = f"/data/aws_iam_policy_document/this/{key}/statement/0"
        assert statements_of(document) == [
            (
                None,
                "Allow",
                doc,
                [(a, f"{doc}/actions/{i}") for i, a in enumerate(wanted)],
                [
                    (
                        f"arn:aws:dynamodb:eu-west-1:123456789012:table/t-{key}",
                        f"{doc}/resources/0",
                    )
                ],
                (),
            )
        ]
        assert document.origin.lines(doc) == (statement, statement + 3)
        assert document.origin.lines(f"{doc}/actions/0") == (actions, actions)
        assert document.origin.lines(f"{doc}/resources/0") == (resources, resources)
    # `aws_iam_role.this["orders"]`, a key written as it is: only the orders role.
    assert [(g.source, g.name) for g in role_of(billing).grants[1:]] == []
    assert [(g.source, g.name, g.pointer) for g in role_of(orders).grants[1:]] == [
        (
            GrantSource.AWS_MANAGED,
            "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
            "/resource/aws_iam_role_policy_attachment/orders_logs/policy_arn",
        )
    ]
    assert [r.origin.resource for r in app.roles] == [
        'aws_iam_role.this["billing"]',
        'aws_iam_role.this["orders"]',
        "aws_iam_role.worker[0]",
        "aws_iam_role.worker[1]",
        'module.job["export"].aws_iam_role.this',
        'module.job["import"].aws_iam_role.this',
    ]


def test_for_each_over_a_set_of_strings() -> None:
    app, _ = load("instances")
    billing = function(app, 'aws_lambda_function.this["billing"]')
    mapping = line(QUEUES, 'resource "aws_lambda_event_source_mapping"')
    # The list variable's duplicate is one instance, the keys in order.
    assert [
        (t.kind, t.source, t.name, t.pointer, t.origin and t.origin.path) for t in billing.triggers
    ] == [
        (
            TriggerKind.SQS,
            f'aws_sqs_queue.in["{key}"].arn',
            f'aws_lambda_event_source_mapping.in["{key}"]',
            f"/resource/aws_lambda_event_source_mapping/in/{key}",
            PurePosixPath("tf/instances/queues.tf"),
        )
        for key in ("jobs", "retries")
    ]
    for trigger in billing.triggers:
        assert trigger.origin is not None
        assert trigger.origin.lines(trigger.pointer) == (mapping, mapping + 4)


def test_count_makes_instances_with_count_index() -> None:
    app, _ = load("instances")
    first, second = (function(app, f"aws_lambda_function.worker[{i}]") for i in (0, 1))
    block = line(WORKERS, 'resource "aws_lambda_function" "worker"')
    for i, fn in enumerate((first, second)):
        assert (fn.origin.pointer, fn.runtime, fn.handler) == (
            f"/resource/aws_lambda_function/worker/{i}",
            "python3.12",
            "worker.handler",
        )
        assert fn.origin.lines(fn.origin.pointer) == (block, block + 6)
        role = role_of(fn)
        assert role.origin.resource == f"aws_iam_role.worker[{i}]"
    # `var.worker_policies[count.index]`: each role its own managed policy.
    assert [
        [(g.source, g.name, g.pointer) for g in role_of(fn).grants] for fn in (first, second)
    ] == [
        [
            (
                GrantSource.AWS_MANAGED,
                f"arn:aws:iam::aws:policy/{name}",
                f"/resource/aws_iam_role_policy_attachment/worker/{i}/policy_arn",
            )
        ]
        for i, name in enumerate(
            ("AdministratorAccess", "service-role/AWSLambdaBasicExecutionRole")
        )
    ]
    # `aws_lambda_function.worker[0]`: the first instance only.
    assert [(p.origin.resource, p.function) for p in app.permissions] == [
        ("aws_lambda_permission.export", 'module.job["export"].aws_lambda_function.this'),
        ("aws_lambda_permission.worker", "aws_lambda_function.worker[0]"),
    ]


def test_count_zero_and_module_instances() -> None:
    app, _ = load("instances")
    addresses = {f.origin.resource for f in app.functions}
    # `count = 0`: neither the resource nor the module's function is there.
    assert not any("legacy" in a for a in addresses)
    job = INSTANCES / "modules" / "job" / "main.tf"
    for key in ("export", "import"):
        fn = function(app, f'module.job["{key}"].aws_lambda_function.this')
        # A module instance's resources keep their pointers: their addresses differ.
        assert (fn.origin.path, fn.origin.pointer, fn.runtime) == (
            PurePosixPath("tf/instances/modules/job/main.tf"),
            "/resource/aws_lambda_function/this",
            "python3.12",
        )
        assert fn.origin.lines(fn.runtime_pointer) == ((line(job, "runtime       ="),) * 2)
        assert role_of(fn).origin.resource == f'module.job["{key}"].aws_iam_role.this'
    assert [(v.name, v.value) for v in app.values if "job" in v.name] == [
        ('module.job["export"].var.runtime', "python3.12")
    ]


def test_unknown_count_and_for_each_keep_one_instance_at_the_plain_address() -> None:
    # The model is what lambdashield made of this folder before instances were expanded.
    app, errors = load("instances_unknown")
    assert errors == []
    main = FIXTURES / "instances_unknown" / "main.tf"
    this, worker = app.functions
    assert [
        (f.origin.resource, f.origin.pointer, f.origin.lines(f.origin.pointer)[0])
        for f in app.functions
    ] == [
        (
            "aws_lambda_function.this",
            "/resource/aws_lambda_function/this",
            line(main, 'resource "aws_lambda_function" "this"'),
        ),
        (
            "aws_lambda_function.worker",
            "/resource/aws_lambda_function/worker",
            line(main, 'resource "aws_lambda_function" "worker"'),
        ),
    ]
    assert this.runtime == Unresolved("each.value.runtime", "`each` values are not known here")
    assert [(e.name, e.value) for e in this.environment] == [
        ("TABLE", Unresolved("t-${each.key}", "interpolation not resolved"))
    ]
    role = role_of(this)
    assert (role.origin.resource, role.external, role.grants) == (
        "aws_lambda_function.this",
        "aws_iam_role.this[each.key].arn",
        (),
    )
    assert role_of(worker).origin.resource == "aws_iam_role.worker"
    assert [g.name for g in role_of(worker).grants] == ["aws_iam_role_policy.worker"]
    # The `for_each` over a resource's attribute: one mapping, linked.
    assert [(t.name, t.pointer) for t in worker.triggers] == [
        ("aws_lambda_event_source_mapping.in", "/resource/aws_lambda_event_source_mapping/in")
    ]
    assert [r.origin.resource for r in app.roles] == ["aws_iam_role.this", "aws_iam_role.worker"]
    # The URL's key is not known: no link, and no instance is picked for it.
    assert this.triggers == ()


def test_instances_in_hcl_and_json_give_the_same_model() -> None:
    twins = FIXTURES / "instances_twins"
    hcl, hcl_errors = load_folder(twins / "hcl", "twins")
    tf_json, json_errors = load_folder(twins / "json", "twins")
    assert hcl_errors == json_errors == []
    assert _one_file_name(tf_json) == _one_file_name(hcl)
    assert [
        (f.origin.resource, f.origin.pointer, f.runtime, f.memory, role_of(f).origin.resource)
        for f in tf_json.functions
    ] == [
        (
            'aws_lambda_function.this["billing"]',
            "/resource/aws_lambda_function/this/billing",
            "nodejs20.x",
            128,
            'aws_iam_role.this["billing"]',
        ),
        (
            'aws_lambda_function.this["orders"]',
            "/resource/aws_lambda_function/this/orders",
            "python3.8",
            256,
            'aws_iam_role.this["orders"]',
        ),
        (
            "aws_lambda_function.worker[0]",
            "/resource/aws_lambda_function/worker/0",
            "python3.12",
            None,
            'aws_iam_role.this["billing"]',
        ),
        (
            "aws_lambda_function.worker[1]",
            "/resource/aws_lambda_function/worker/1",
            "python3.12",
            None,
            'aws_iam_role.this["billing"]',
        ),
    ]
    orders = function(tf_json, 'aws_lambda_function.this["orders"]')
    [grant] = role_of(orders).grants
    assert grant.document is not None
    assert [(r.value, r.pointer) for s in grant.document.statements for r in s.resources] == [
        (
            "arn:aws:dynamodb:eu-west-1:123456789012:table/t-orders",
            "/resource/aws_iam_role_policy/this/orders/policy/Statement/0/Resource",
        )
    ]
    assert [t.name for t in function(tf_json, "aws_lambda_function.worker[1]").triggers] == [
        'aws_lambda_event_source_mapping.in["jobs"]',
        'aws_lambda_event_source_mapping.in["retries"]',
    ]
    # Lines come from the JSON text: the resource's object.
    main = twins / "json" / "main.tf.json"
    runtime = line(main, '"runtime": "${each.value.runtime}"')
    assert orders.origin.lines(orders.runtime_pointer) == (runtime, runtime)
    table = line(main, '"TABLE": "t-${each.key}"')
    assert orders.origin.lines(orders.environment[0].pointer) == (table, table)
    worker = function(tf_json, "aws_lambda_function.worker[1]")
    start = line(main, '"worker": {')
    assert worker.origin.lines(worker.origin.pointer) == (start, start + 6)


def test_instances_scan_end_to_end(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(functions_module, "today", lambda: datetime.date(2025, 6, 1))
    monkeypatch.chdir(FIXTURES.parents[2])
    report = scan(["tests/fixtures/terraform/instances"], Config(fail_on_missing_db=False))
    assert report.errors == ()
    folder = PurePosixPath("tests/fixtures/terraform/instances")
    orders = 'aws_lambda_function.this["orders"]'
    assert {
        (f.rule.id, f.resource, f.location.path, f.location.start_line) for f in report.findings
    } == {
        # python3.8 is orders' runtime only; nodejs20.x (billing) is supported on that day.
        ("LS-FN-001", orders, folder / "main.tf", line(INSTANCES_MAIN, "runtime       = each")),
        ("LS-SEC-001", orders, folder / "main.tf", line(INSTANCES_MAIN, "DB_PASSWORD =")),
        # `dynamodb:*` in orders' policy document; billing's is two actions.
        ("LS-IAM-002", orders, folder / "main.tf", line(INSTANCES_MAIN, "actions   = each")),
        # AdministratorAccess is attached to worker[0]'s role, by `count.index`.
        (
            "LS-IAM-001",
            "aws_lambda_function.worker[0]",
            folder / "workers.tf",
            line(WORKERS, "policy_arn = var.worker_policies[count.index]"),
        ),
        (
            "LS-API-004",
            "aws_lambda_permission.worker",
            folder / "workers.tf",
            line(WORKERS, 'resource "aws_lambda_permission" "worker"'),
        ),
    }
    [runtime] = [f for f in report.findings if f.rule.id == "LS-FN-001"]
    assert runtime.message.startswith("runtime `python3.8` (Python 3.8) is deprecated")
    # Every instance's findings are apart: their fingerprints differ.
    assert len({f.fingerprint for f in report.findings}) == len(report.findings)


INSTANCE_EDGES = """
variable "names" {
  default = ["orders", "runtime"]
}

resource "aws_lambda_function" "fn" {
  for_each      = toset(var.names)
  function_name = each.key
  runtime       = "python3.12"
  role          = aws_iam_role.r.arn
}

resource "aws_iam_role" "r" {
  for_each = toset(var.names)
  name     = each.key

  inline_policy {
    name   = "p"
    policy = data.aws_iam_policy_document.p["a.b"].json
  }
}

data "aws_iam_policy_document" "p" {
  for_each = toset(["a.b"])

  statement {
    actions   = ["s3:GetObject"]
    resources = ["arn:aws:s3:::${each.key}/*"]
  }
}

resource "aws_lambda_function" "fallback" {
  runtime = "python3.12"
  role    = try(aws_iam_role.r["missing"].arn, aws_iam_role.r["orders"].arn)
}

resource "aws_lambda_function" "numbers" {
  for_each = toset([1, 2])
  runtime  = "python3.12"
}

resource "aws_lambda_function" "none" {
  for_each = {}
  runtime  = "python2.7"
}
"""


def test_instance_references_name_one_instance_or_none(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(INSTANCE_EDGES, encoding="utf-8")
    app, errors = load_folder(tmp_path)
    assert errors == []
    # An empty map makes no instance; a set of numbers is Terraform's error, not known
    # here: one instance, as before.
    assert [f.origin.resource for f in app.functions] == [
        "aws_lambda_function.fallback",
        'aws_lambda_function.fn["orders"]',
        'aws_lambda_function.fn["runtime"]',
        "aws_lambda_function.numbers",
    ]
    orders = function(app, 'aws_lambda_function.fn["orders"]')
    # `aws_iam_role.r` names no instance of a resource that has several: never one picked.
    role = role_of(orders)
    assert (role.origin.resource, role.external) == (
        'aws_lambda_function.fn["orders"]',
        "aws_iam_role.r.arn",
    )
    # A key named like an argument takes the lines of its block, and its argument those of
    # the argument.
    text = (tmp_path / "main.tf").read_text(encoding="utf-8")
    runtime = line_of(text, 'runtime       = "python3.12"')
    start = line_of(text, 'resource "aws_lambda_function" "fn"')
    named = function(app, 'aws_lambda_function.fn["runtime"]')
    assert named.origin.pointer == "/resource/aws_lambda_function/fn/runtime"
    assert named.origin.lines(named.origin.pointer) == (start, start + 5)
    for fn in (orders, named):
        assert fn.origin.lines(fn.runtime_pointer) == (runtime, runtime)
    # `try` goes past a key the resource has no instance for.
    fallback = role_of(function(app, "aws_lambda_function.fallback"))
    assert fallback.origin.resource == 'aws_iam_role.r["orders"]'
    # A key with a dot: the address still names the policy document.
    [grant] = fallback.grants
    assert grant.document is not None
    assert [(r.value, r.pointer) for s in grant.document.statements for r in s.resources] == [
        (
            "arn:aws:s3:::a.b/*",
            "/data/aws_iam_policy_document/p/a.b/statement/0/resources/0",
        )
    ]


def test_instance_expansion_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(terraform, "MAX_INSTANCES", 3)
    (tmp_path / "main.tf").write_text(
        'resource "aws_lambda_function" "a" {\n  count   = 2\n  runtime = "python3.12"\n}\n\n'
        'resource "aws_lambda_function" "b" {\n  for_each = toset(["x", "y", "z"])\n'
        '  runtime  = "python3.12"\n}\n',
        encoding="utf-8",
    )
    app, errors = load_folder(tmp_path)
    assert [f.origin.resource for f in app.functions] == [
        "aws_lambda_function.a[0]",
        "aws_lambda_function.a[1]",
        'aws_lambda_function.b["x"]',
    ]
    assert errors == [
        ScanError(
            PurePosixPath("t/main.tf"),
            '`aws_lambda_function.b`: for_each = toset(["x", "y", "z"]) makes 3 instances, '
            "more than the 3 lambdashield reads in one root module; 2 are not read",
            7,
        )
    ]


def test_a_dynamic_key_named_like_an_argument_keeps_the_arguments_lines(tmp_path: Path) -> None:
    text = (
        'data "aws_iam_policy_document" "p" {\n'
        '  dynamic "statement" {\n'
        '    for_each = { actions = ["s3:GetObject"], other = ["s3:PutObject"] }\n'
        "    content {\n"
        "      actions   = statement.value\n"
        '      resources = ["*"]\n'
        "    }\n"
        "  }\n"
        "}\n\n"
        'resource "aws_iam_role" "r" {\n'
        "  inline_policy {\n"
        "    policy = data.aws_iam_policy_document.p.json\n"
        "  }\n"
        "}\n\n"
        'resource "aws_lambda_function" "fn" {\n'
        "  role = aws_iam_role.r.arn\n"
        "}\n"
    )
    (tmp_path / "main.tf").write_text(text, encoding="utf-8")
    app, _ = load_folder(tmp_path)
    [grant] = role_of(app.functions[0]).grants
    assert grant.document is not None
    # The key `actions` spells the pointer of the `content` block's own `actions`: each
    # generated pointer goes back to the text in full, not to that argument half-way.
    content = "/data/aws_iam_policy_document/p/dynamic/statement/0/content"
    actions = line_of(text, "actions   = statement.value")
    assert [
        (a.pointer, grant.document.origin.lines(a.pointer))
        for s in grant.document.statements
        for a in s.actions
    ] == [
        (f"{content}/actions/actions/0", (actions, actions)),
        (f"{content}/other/actions/0", (actions, actions)),
    ]


# --- `for` expressions, conditionals, operators and splats --------------------------------

EXPRESSIONS = FIXTURES / "expressions"
EXPRESSIONS_MAIN = EXPRESSIONS / "main.tf"
EXPRESSIONS_WORKERS = EXPRESSIONS / "workers.tf"


def test_hcl_expressions_become_their_own_objects() -> None:
    text = (
        "a = [for i, x in var.l : x.n if x.e]\n"
        "b = {for k, v in var.m : v.group => k... if v != null}\n"
        "c = a ? b : c ? d : e\n"
        "d = !var.x && -1 < 2\n"
        "e = aws_iam_role.this[*].arn\n"
        "f = x[*].a[*].b\n"
        "g = x.*.a[0]\n"
        'h = values(m)[0]["k"]\n'
        'i = "%{ if var.x }y%{ endif }"\n'
    )
    body = parse_hcl(text, PurePosixPath("x.tf")).body.attributes
    x = Ref(("x",), "x")
    assert body["a"] == For(
        ("i", "x"),
        Ref(("var", "l"), "var.l"),
        None,
        Ref(("x", "n"), "x.n"),
        Ref(("x", "e"), "x.e"),
        "[for i, x in var.l : x.n if x.e]",
    )
    assert body["b"] == For(
        ("k", "v"),
        Ref(("var", "m"), "var.m"),
        Ref(("v", "group"), "v.group"),
        Ref(("k",), "k"),
        Operation("!=", (Ref(("v",), "v"), None), "v != null"),
        "{for k, v in var.m : v.group => k... if v != null}",
        mapping=True,
        grouped=True,
    )
    # The grammar groups `a ? b : c ? d : e` to the left; HCL, and so the object, to the
    # right.
    assert body["c"] == Conditional(
        Ref(("a",), "a"),
        Ref(("b",), "b"),
        Conditional(Ref(("c",), "c"), Ref(("d",), "d"), Ref(("e",), "e"), "c ? d : e"),
        "a ? b : c ? d : e",
    )
    assert body["d"] == Operation(
        "&&",
        (
            Operation("!", (Ref(("var", "x"), "var.x"),), "!var.x"),
            Operation("<", (Operation("-", (1,), "-1"), 2), "-1 < 2"),
        ),
        "!var.x && -1 < 2",
    )
    assert body["e"] == Splat(
        Ref(("aws_iam_role", "this"), "aws_iam_role.this"), ("arn",), "aws_iam_role.this[*].arn"
    )
    # Every step after a `[*]` is the splat's, a second `[*]` included; an index after a
    # `.*` applies to the list it makes.
    assert body["f"] == Splat(x, ("a", Splat(None, ("b",), "[*].b")), "x[*].a[*].b")
    assert body["g"] == Traversal(Splat(x, ("a",), "x.*.a"), (0,), "x.*.a[0]")
    assert body["h"] == Traversal(
        Call("values", (Ref(("m",), "m"),), "values(m)", path=PurePosixPath("x.tf"), line=8),
        (0, "k"),
        'values(m)[0]["k"]',
    )
    assert body["i"] == Opaque('"%{ if var.x }y%{ endif }"')


def test_a_filtering_for_expression_makes_the_for_each_instances() -> None:
    app, errors = load("expressions")
    assert errors == []
    # `legacy` is not enabled: no function, role or policy of it.
    assert [f.origin.resource for f in app.functions] == [
        'aws_lambda_function.this["billing"]',
        'aws_lambda_function.this["orders"]',
        "aws_lambda_function.worker[0]",
    ]
    assert [r.origin.resource for r in app.roles] == [
        'aws_iam_role.this["billing"]',
        'aws_iam_role.this["orders"]',
        "aws_iam_role.worker",
    ]
    billing, orders = app.functions[:2]
    for fn, key, level in ((billing, "billing", "INFO"), (orders, "orders", "WARN")):
        assert (fn.origin.pointer, fn.runtime, fn.code_uri) == (
            f"/resource/aws_lambda_function/this/{key}",
            "python3.12",
            f"build/{key}.zip",
        )
        assert role_of(fn).origin.resource == f'aws_iam_role.this["{key}"]'
        # The grouping `...` form: each runtime's functions, in key order.
        assert [(e.name, e.value) for e in fn.environment] == [
            ("RUNTIMES", '{"python3.12":["billing","orders"]}'),
            ("LOG_LEVEL", level),
        ]
    # The URL's `for_each` is the list of public names, a `for` with a condition.
    assert [(t.kind, t.name, t.pointer) for t in orders.triggers] == [
        (
            TriggerKind.FUNCTION_URL,
            'aws_lambda_function_url.public["orders"]',
            "/resource/aws_lambda_function_url/public/orders",
        )
    ]
    assert billing.triggers == ()


def test_a_local_list_built_with_for_gives_exact_policy_statements() -> None:
    app, _ = load("expressions")
    statement = line(EXPRESSIONS_MAIN, "Statement = [for s in local.statements")
    tables = "arn:aws:dynamodb:eu-west-1:123456789012:table"
    for key, actions, resources in (
        ("billing", ["dynamodb:*"], [f"{tables}/invoices", f"{tables}/payments"]),
        ("orders", ["dynamodb:GetItem", "dynamodb:PutItem"], [f"{tables}/orders"]),
    ):
        fn = function(app, f'aws_lambda_function.this["{key}"]')
        [grant] = role_of(fn).grants
        # `for_each = aws_iam_role.this`: each policy is its own role's (`each.value.id`).
        assert (grant.source, grant.name, grant.pointer) == (
            GrantSource.INLINE,
            f"{key}-tables",
            f"/resource/aws_iam_role_policy/tables/{key}/policy",
        )
        document = grant.document
        assert document is not None and document.grammar_errors == ()
        # Only its own function's statement: `if s.Sid == upper(each.key)`.
        doc = f"/resource/aws_iam_role_policy/tables/{key}/policy/Statement/0"
        assert statements_of(document) == [
            (
                key.upper(),
                "Allow",
                doc,
                [(a, f"{doc}/Action/{i}") for i, a in enumerate(actions)],
                [(r, f"{doc}/Resource/{i}") for i, r in enumerate(resources)],
                (),
            )
        ]
        # Generated statements have no text of their own: the line that makes them.
        assert document.origin.lines(f"{doc}/Action/0") == (statement, statement)


def test_count_from_a_conditional() -> None:
    app, _ = load("expressions")
    # `var.with_worker` is true: one worker; `var.with_legacy_worker` false: none.
    addresses = [f.origin.resource for f in app.functions]
    assert "aws_lambda_function.worker[0]" in addresses
    assert not any("legacy" in a for a in addresses)
    worker = function(app, "aws_lambda_function.worker[0]")
    block = line(EXPRESSIONS_WORKERS, 'resource "aws_lambda_function" "worker"')
    assert (worker.origin.pointer, worker.origin.lines(worker.origin.pointer)) == (
        "/resource/aws_lambda_function/worker/0",
        (block, block + 7),
    )


def test_a_splat_over_instances_in_managed_policy_arns_and_resources() -> None:
    app, _ = load("expressions")
    worker = function(app, "aws_lambda_function.worker[0]")
    grants = role_of(worker).grants
    known = [g for g in grants if g.document is not None]
    # `aws_iam_policy.worker[*].arn`: each instance, in index order, at its own index.
    assert [(g.source, g.name, g.pointer) for g in known] == [
        (
            GrantSource.CUSTOMER_MANAGED,
            f"aws_iam_policy.worker[{i}]",
            f"/resource/aws_iam_role/worker/managed_policy_arns/{i}",
        )
        for i in (0, 1)
    ]
    actions = line(EXPRESSIONS_WORKERS, "actions   = [var.worker_actions[count.index]]")
    for i, (grant, action) in enumerate(zip(known, ("sqs:ReceiveMessage", "sqs:*"), strict=True)):
        doc = f"/data/aws_iam_policy_document/worker/{i}/statement/0"
        assert statements_of(grant.document) == [
            (
                None,
                "Allow",
                doc,
                [(action, f"{doc}/actions/0")],
                # `aws_sqs_queue.jobs[*].arn`: each queue's ARN, known only after apply.
                [(f"${{aws_sqs_queue.jobs[{q}].arn}}", f"{doc}/resources/{q}") for q in (0, 1)],
                (),
            )
        ]
        assert grant.document is not None
        assert grant.document.origin.lines(f"{doc}/actions/0") == (actions, actions)


def test_an_unknown_for_collection_stays_unknown_with_its_reason() -> None:
    app, _ = load("expressions")
    worker = function(app, "aws_lambda_function.worker[0]")
    unread = [g for g in role_of(worker).grants if g.document is None]
    assert [(g.source, g.name, g.pointer) for g in unread] == [
        (
            GrantSource.CUSTOMER_MANAGED,
            f'data.aws_iam_policy_document.worker[{i}] dynamic "statement" (for_each = '
            "{ for s in var.extra_statements : s.sid => s }: `for` over var.extra_statements: "
            "variable has no default)",
            f"/data/aws_iam_policy_document/worker/{i}/dynamic/statement/0",
        )
        for i in (0, 1)
    ]


def test_expressions_scan_end_to_end(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(functions_module, "today", lambda: datetime.date(2025, 6, 1))
    monkeypatch.chdir(FIXTURES.parents[2])
    report = scan(["tests/fixtures/terraform/expressions"], Config(fail_on_missing_db=False))
    assert report.errors == ()
    folder = PurePosixPath("tests/fixtures/terraform/expressions")
    worker = "aws_lambda_function.worker[0]"
    dynamic = line(EXPRESSIONS_WORKERS, 'dynamic "statement"')
    assert sorted(
        (f.rule.id, f.resource, f.location.path, f.location.start_line) for f in report.findings
    ) == [
        # orders is public (`if fn.public`), billing is not.
        (
            "LS-API-001",
            'aws_lambda_function.this["orders"]',
            folder / "main.tf",
            line(EXPRESSIONS_MAIN, 'authorization_type = "NONE"'),
        ),
        # `dynamodb:*` of billing's statement, built by the `for` of `local.statements`:
        # at the policy's `Statement` line.
        (
            "LS-IAM-002",
            'aws_lambda_function.this["billing"]',
            folder / "main.tf",
            line(EXPRESSIONS_MAIN, "Statement = [for s in local.statements"),
        ),
        # `sqs:*`, the second policy of the splat.
        (
            "LS-IAM-002",
            worker,
            folder / "workers.tf",
            line(EXPRESSIONS_WORKERS, "actions   = [var.worker_actions[count.index]]"),
        ),
        # Each policy document's `dynamic` block over an unknown `for`.
        ("LS-IAM-013", worker, folder / "workers.tf", dynamic),
        ("LS-IAM-013", worker, folder / "workers.tf", dynamic),
    ]
    # No python2.7 finding: `legacy` and `legacy_worker` are not deployed.
    assert len({f.fingerprint for f in report.findings}) == len(report.findings)


def test_expressions_in_hcl_and_json_give_the_same_model() -> None:
    twins = FIXTURES / "expressions_twins"
    hcl, hcl_errors = load_folder(twins / "hcl", "twins")
    tf_json, json_errors = load_folder(twins / "json", "twins")
    assert hcl_errors == json_errors == []
    assert _one_file_name(tf_json) == _one_file_name(hcl)
    # `count = var.with_worker ? 1 : 0` is 0: no worker; `legacy` is filtered out.
    assert [
        (f.origin.resource, f.runtime, [(e.name, e.value) for e in f.environment])
        for f in tf_json.functions
    ] == [
        (
            f'aws_lambda_function.this["{key}"]',
            runtime,
            [("STATES", '{"disabled":["legacy"],"enabled":["billing","orders"]}')],
        )
        for key, runtime in (("billing", "python3.8"), ("orders", "python3.12"))
    ]
    [grant] = role_of(tf_json.functions[0]).grants
    assert (grant.name, grant.pointer) == (
        "aws_iam_policy.this[0]",
        "/resource/aws_iam_role/shared/managed_policy_arns/0",
    )
    doc = "/resource/aws_iam_policy/this/0/policy/Statement"
    assert statements_of(grant.document) == [
        (
            sid,
            "Allow",
            f"{doc}/{i}",
            [(action, f"{doc}/{i}/Action/0")],
            [("*", f"{doc}/{i}/Resource")],
            (),
        )
        for i, (sid, action) in enumerate(
            (("BILLING", "dynamodb:*"), ("ORDERS", "dynamodb:GetItem"))
        )
    ]
    # Lines come from the JSON text: the string that holds the `for`.
    main = twins / "json" / "main.tf.json"
    policy = line(main, '"policy": "${jsonencode(')
    assert grant.document is not None
    assert grant.document.origin.lines(f"{doc}/0/Action/0") == (policy, policy)


EXPRESSION_EDGES = """
variable "names" {
  default = ["b", "a", "b"]
}

variable "sizes" {
  default = { small = 128, large = 1024 }
}

variable "missing" {}

resource "aws_iam_role" "each" {
  for_each = toset(["x", "y"])
  name     = "role-${each.key}"
}

resource "aws_iam_role" "counted" {
  count = 2
  name  = "counted-${count.index}"
}

resource "aws_iam_role" "unknown" {
  count = var.missing
  name  = "unknown"
}

resource "aws_iam_role" "r" {
  inline_policy {
    policy = data.aws_iam_policy_document.p.json
  }
}

data "aws_iam_policy_document" "p" {
  dynamic "statement" {
    for_each = ["s3:GetObject"]
    content {
      actions   = [for statement in ["s3:PutObject"] : statement]
      resources = [statement.value]
    }
  }
}

resource "aws_lambda_function" "fn" {
  function_name = "fn"
  runtime       = "python3.12"
  role          = aws_iam_role.r.arn

  environment {
    variables = {
      INDEXED   = jsonencode([for i, n in var.names : "${i}=${n}"])
      SET       = jsonencode([for k, n in toset(var.names) : "${k}=${n}"])
      MAP       = jsonencode([for k, v in var.sizes : "${k}=${v}"])
      GROUPED   = jsonencode({ for n in var.names : n => n... })
      NESTED    = jsonencode([for a in [1, 2] : [for b in ["x", "y"] : "${a}${b}"]])
      KEYS      = jsonencode({ for k, v in var.sizes : v => k })
      CHAIN     = var.sizes.small > 512 ? "large" : var.sizes.small > 64 ? "medium" : "small"
      LOGIC = jsonencode([
        !true, true && false, false || true, 1 == 1.0, "1" == 1, null == null
      ])
      NUMBERS = jsonencode([1 + 2 * 3, 7 / 2, 8 / 2, -7 % 3, 2 - 5, "3" + 1, 2 < 3, 3 >= 4])
      FUNCTIONS = jsonencode([
        length(var.names), keys(var.sizes), values(var.sizes), contains(var.names, "a"),
        flatten([[1], [2, [3]]]), distinct(var.names), compact(["a", "", null, "b"])
      ])
      SPLATS = jsonencode([
        aws_iam_role.counted[*].name,
        aws_iam_role.counted.*.name,
        values(aws_iam_role.each)[*].name,
        [{ a = [{ b = 1 }, { b = 2 }] }][*].a[*].b,
        [{ a = "p" }, { a = "q" }].*.a[1],
        null[*],
      ])
      OBJECTS   = jsonencode([for r in aws_iam_role.each : r.name])
      LENGTH    = length(aws_iam_role.counted)
      DUPLICATE = { for n in var.names : n => 1 }
      UNKNOWN   = [for x in var.missing : x]
      KEY       = { for n in var.names : var.missing => n }
      CONDITION = [for n in var.names : n if var.missing]
      NOT_BOOL  = [for n in var.names : n if n]
      NULL      = [for n in null : n]
      OPERAND   = var.missing + 1
      COMPARE   = [1] == [1]
      MAP_SPLAT = aws_iam_role.each[*].arn
      COUNT     = aws_iam_role.unknown[*].arn
      TOO_BIG = 9999999999999999999999999999999999999999 * 9999999999999999999999999999999999999999
    }
  }
}
"""


def test_for_conditionals_operators_and_splats_evaluate_as_terraform_does(
    tmp_path: Path,
) -> None:
    (tmp_path / "main.tf").write_text(EXPRESSION_EDGES, encoding="utf-8")
    app, errors = load_folder(tmp_path)
    assert errors == []
    [fn] = app.functions
    values = {e.name: e.value for e in fn.environment}
    assert values == {
        # A list's index, a set's elements once each and in order (each its own key), a
        # map's keys in order.
        "INDEXED": '["0=b","1=a","2=b"]',
        "SET": '["a=a","b=b"]',
        "MAP": '["large=1024","small=128"]',
        "GROUPED": '{"a":["a"],"b":["b","b"]}',
        "NESTED": '[["1x","1y"],["2x","2y"]]',
        # Keys made strings.
        "KEYS": '{"1024":"large","128":"small"}',
        # `a ? b : c ? d : e` is `a ? b : (c ? d : e)`.
        "CHAIN": "medium",
        # A string is never equal to a number.
        "LOGIC": "[false,false,true,true,false,true]",
        "NUMBERS": "[7,3.5,4,-1,-3,4,true,false]",
        "FUNCTIONS": '[3,["large","small"],[1024,128],true,[1,2,3],["b","a"],["a","b"]]',
        # A resource with `count` is its instances in order; `values()` of one with
        # `for_each` in key order; a nested `[*]` maps each element; `.*` then `[1]` is
        # the second of the list it makes; `null[*]` is empty.
        "SPLATS": (
            '[["counted-0","counted-1"],["counted-0","counted-1"],["role-x","role-y"],'
            '[[1,2]],"q",[]]'
        ),
        "OBJECTS": '["role-x","role-y"]',
        "LENGTH": 2,
        "DUPLICATE": Unresolved(
            "{ for n in var.names : n => 1 }",
            '`for` makes the key "b" twice, Terraform\'s error (`...` after the value groups them)',
        ),
        "UNKNOWN": Unresolved(
            "[for x in var.missing : x]", "`for` over var.missing: variable has no default"
        ),
        "KEY": Unresolved(
            "{ for n in var.names : var.missing => n }",
            "`for` key var.missing: variable has no default",
        ),
        "CONDITION": Unresolved(
            "[for n in var.names : n if var.missing]",
            "`for` condition var.missing: variable has no default",
        ),
        "NOT_BOOL": Unresolved("[for n in var.names : n if n]", "`for` condition n: not a bool"),
        "NULL": Unresolved("[for n in null : n]", "`for` over null: null is not a collection"),
        "OPERAND": Unresolved("var.missing + 1", "operand var.missing: variable has no default"),
        "COMPARE": Unresolved("[1] == [1]", "`==` of collections is not evaluated here"),
        "MAP_SPLAT": Unresolved(
            "aws_iam_role.each[*].arn",
            "a resource with for_each is a map, which a splat does not go through "
            "(Terraform's error; `values(...)[*]` does)",
        ),
        "COUNT": Unresolved(
            "aws_iam_role.unknown[*].arn",
            "splat over aws_iam_role.unknown: count = var.missing: variable has no default",
        ),
        "TOO_BIG": Unresolved(
            "9999999999999999999999999999999999999999 * 9999999999999999999999999999999999999999",
            "a number too large to evaluate here",
        ),
    }
    # Inside the `for`, `statement` is its own iterator, not the dynamic block's.
    [grant] = role_of(fn).grants
    content = "/data/aws_iam_policy_document/p/dynamic/statement/0/content/0"
    assert statements_of(grant.document) == [
        (
            None,
            "Allow",
            content,
            [("s3:PutObject", f"{content}/actions/0")],
            [("s3:GetObject", f"{content}/resources/0")],
            (),
        )
    ]


def test_a_for_each_over_a_resource_binds_each_instance(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'resource "aws_lambda_function" "fn" {\n'
        '  for_each      = toset(["a", "b"])\n'
        '  function_name = "fn-${each.key}"\n'
        "}\n\n"
        'resource "aws_lambda_function_url" "url" {\n'
        "  for_each           = aws_lambda_function.fn\n"
        "  function_name      = each.value.function_name\n"
        '  authorization_type = "NONE"\n'
        "}\n",
        encoding="utf-8",
    )
    app, errors = load_folder(tmp_path)
    assert errors == []
    # `each.value` is the function instance of the same key.
    assert [(f.origin.resource, [t.name for t in f.triggers]) for f in app.functions] == [
        ('aws_lambda_function.fn["a"]', ['aws_lambda_function_url.url["a"]']),
        ('aws_lambda_function.fn["b"]', ['aws_lambda_function_url.url["b"]']),
    ]


def test_for_expressions_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(terraform, "MAX_FOR_ELEMENTS", 8)
    (tmp_path / "main.tf").write_text(
        "locals {\n  pairs = [for a in [1, 2] : [for b in [1, 2, 3] : a * b]]\n}\n\n"
        'resource "aws_lambda_function" "fn" {\n'
        "  environment {\n"
        "    variables = {\n"
        "      SMALL = jsonencode([for a in [1, 2] : a])\n"
        "      PAIRS = local.pairs\n"
        "    }\n"
        "  }\n"
        "}\n",
        encoding="utf-8",
    )
    app, errors = load_folder(tmp_path)
    assert errors == []
    [fn] = app.functions
    # 2 elements, then 2 and 3: the second inner `for` is past the bound.
    assert {e.name: e.value for e in fn.environment} == {
        "SMALL": "[1,2]",
        "PAIRS": [
            [1, 2, 3],
            Unresolved(
                "[for b in [1, 2, 3] : a * b]",
                "more elements than the 8 lambdashield goes through in `for` expressions of "
                "one root module",
            ),
        ],
    }
