"""Serverless Framework loader: real-looking configurations in, the exact model out."""

from __future__ import annotations

import shutil
import time
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambdashield.config import Config
from lambdashield.engine import scan
from lambdashield.errors import LoaderError
from lambdashield.loaders.serverless import (
    DEFAULT_ROLE,
    UnsupportedProvider,
    load_serverless,
    serverless_to_model,
)
from lambdashield.model import (
    Application,
    AuthKind,
    EnvVar,
    Function,
    Grant,
    GrantSource,
    Role,
    ScanError,
    Suppression,
    TemplateValue,
    TriggerKind,
    Unresolved,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "serverless"
MAX_BYTES = 10 * 1024 * 1024
ALL_ACCESS = "arn:aws:dynamodb:eu-west-1:*:table/orders-api-orders-dev"


def load(
    case: str,
    name: str = "serverless.yml",
    *,
    root: Path | None = None,
    env: dict[str, str] | None = None,
) -> tuple[Application, list[ScanError]]:
    path = FIXTURES / case / name
    return load_serverless(
        path, PurePosixPath(case, name), root=root or path.parent, max_bytes=MAX_BYTES, env=env
    )


def load_text(
    tmp_path: Path, text: str, *, env: dict[str, str] | None = None
) -> tuple[Application, list[ScanError]]:
    path = tmp_path / "serverless.yml"
    path.write_text(text, encoding="utf-8")
    return load_serverless(
        path, PurePosixPath("serverless.yml"), root=tmp_path, max_bytes=MAX_BYTES, env=env
    )


def function(application: Application, key: str) -> Function:
    (found,) = [f for f in application.functions if f.origin.resource == key]
    return found


def role_of(application: Application, key: str) -> Role:
    role = function(application, key).role
    assert role is not None
    return role


def environment(fn: Function) -> dict[str, tuple[object, str]]:
    return {e.name: (e.value, e.pointer) for e in fn.environment}


def triggers(fn: Function) -> list[tuple[Any, ...]]:
    return [
        (
            t.kind,
            t.source,
            t.pointer,
            None if t.auth is None else (t.auth.kind, t.auth.detail, t.auth.api_key_required),
            t.filters,
        )
        for t in fn.triggers
    ]


def grants(role: Role) -> list[tuple[GrantSource, str, str, list[tuple[Any, ...]] | None]]:
    return [(g.source, g.name, g.pointer, statements(g)) for g in role.grants]


def statements(grant: Grant) -> list[tuple[Any, ...]] | None:
    if grant.document is None:
        return None
    return [
        (
            s.pointer,
            s.effect.value if s.effect else None,
            [a.value for a in s.actions],
            [r.value for r in s.resources],
        )
        for s in grant.document.statements
    ]


# --- provider.iam.role.statements (v3+) --------------------------------------------------


def test_v3_role_statements_grant_dynamodb_star_to_every_function() -> None:
    application, errors = load("v3-iam-statements")
    assert errors == []
    assert [f.origin.resource for f in application.functions] == [
        "createOrder",
        "getOrder",
        "shipOrder",
    ]
    (role,) = application.roles
    assert all(f.role is role for f in application.functions)
    assert role.origin.resource == DEFAULT_ROLE
    assert role.origin.pointer == "/provider/iam/role"
    assert role.external is None
    assert grants(role) == [
        (
            GrantSource.INLINE,
            "provider.iam.role.statements",
            "/provider/iam/role/statements",
            [
                ("/provider/iam/role/statements/0", "Allow", ["dynamodb:*"], [ALL_ACCESS]),
                (
                    "/provider/iam/role/statements/1",
                    "Allow",
                    ["sqs:SendMessage"],
                    ["${ShippingQueue.Arn}"],
                ),
            ],
        )
    ]
    document = role.grants[0].document
    assert document is not None
    assert document.grammar_errors == ()
    action = document.statements[0].actions[0]
    assert action.pointer == "/provider/iam/role/statements/0/Action/0"
    # Lines come from the YAML itself: `- dynamodb:*` is on line 24.
    assert document.origin.locate(action.pointer).start_line == 24
    assert document.origin.resource == DEFAULT_ROLE


def test_v3_provider_defaults_under_function_settings() -> None:
    application, _ = load("v3-iam-statements")
    create = function(application, "createOrder")
    assert create.origin.pointer == "/functions/createOrder"
    assert create.origin.resource_type == "function"
    assert (create.runtime, create.runtime_pointer) == ("python3.12", "/provider/runtime")
    assert create.handler == "src/orders/handler.create"
    assert (create.memory, create.timeout, create.reserved_concurrency) == (256, 20, 50)
    assert (create.tracing, create.architectures, create.vpc) == ("Active", ("arm64",), False)
    assert create.code_uri == "."
    assert environment(create) == {
        "TABLE_NAME": ("orders-api-orders-dev", "/provider/environment/TABLE_NAME"),
        "LOG_LEVEL": ("DEBUG", "/functions/createOrder/environment/LOG_LEVEL"),
        "QUEUE_URL": ("${ShippingQueue}", "/functions/createOrder/environment/QUEUE_URL"),
    }
    get = function(application, "getOrder")
    assert (get.runtime, get.runtime_pointer) == ("python3.8", "/functions/getOrder/runtime")
    assert (get.memory, get.timeout, get.reserved_concurrency) == (256, 10, None)
    assert environment(get)["LOG_LEVEL"] == ("INFO", "/provider/environment/LOG_LEVEL")
    ship = function(application, "shipOrder")
    assert ship.dead_letter == "arn:aws:sns:eu-west-1:123456789012:orders-dead-letters"
    assert ship.on_failure == "arn:aws:sqs:eu-west-1:123456789012:orders-failed"


def test_v3_triggers() -> None:
    application, _ = load("v3-iam-statements")
    none = (AuthKind.NONE, "no authorizer", False)
    assert triggers(function(application, "createOrder")) == [
        (TriggerKind.API_REST, "POST /orders", "/functions/createOrder/events/0/http", none, ())
    ]
    assert triggers(function(application, "getOrder")) == [
        (TriggerKind.API_REST, "GET /orders/{id}", "/functions/getOrder/events/0/http", none, ())
    ]
    assert triggers(function(application, "shipOrder")) == [
        (TriggerKind.SQS, "ShippingQueue", "/functions/shipOrder/events/0/sqs", None, ())
    ]


def test_application_origin_and_suppressions() -> None:
    application, _ = load("v3-iam-statements")
    assert application.origin.resource == "serverless.yml"
    assert application.origin.resource_type == "serverless"
    assert application.origin.path == PurePosixPath("v3-iam-statements/serverless.yml")
    assert application.suppressions == (
        Suppression(
            PurePosixPath("v3-iam-statements/serverless.yml"),
            23,
            ("LS-IAM-002",),
            "the orders table is this service's only table",
        ),
    )


# --- provider.iamRoleStatements (v1/v2) ----------------------------------------------------


def test_v1_role_statements_and_managed_policies() -> None:
    application, errors = load("v1-iam-role-statements")
    assert errors == []
    role = role_of(application, "resize")
    assert role is role_of(application, "cleanup")
    assert role.origin.pointer == "/provider/iamRoleStatements"
    inline, aws_managed, customer = role.grants
    assert grants(Role(role.origin, (inline, customer))) == [
        (
            GrantSource.INLINE,
            "provider.iamRoleStatements",
            "/provider/iamRoleStatements",
            [
                (
                    "/provider/iamRoleStatements/0",
                    "Allow",
                    ["s3:GetObject", "s3:PutObject"],
                    ["arn:aws:s3:::thumbnails-dev/*"],
                ),
                ("/provider/iamRoleStatements/1", "Allow", ["*"], ["*"]),
            ],
        ),
        (
            GrantSource.CUSTOMER_MANAGED,
            "arn:aws:iam::123456789012:policy/thumbnails-extra",
            "/provider/iamManagedPolicies/1",
            None,
        ),
    ]
    assert (aws_managed.source, aws_managed.name, aws_managed.pointer) == (
        GrantSource.AWS_MANAGED,
        "arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess",
        "/provider/iamManagedPolicies/0",
    )
    assert aws_managed.document is not None
    assert "dynamodb:*" in [a.value for a in aws_managed.document.statements[0].actions]
    resize = function(application, "resize")
    assert resize.kms_key == (
        "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    )
    assert (resize.vpc, resize.memory, resize.runtime) == (True, 1536, "nodejs8.10")


def test_v1_events_and_the_bucket_serverless_creates() -> None:
    application, _ = load("v1-iam-role-statements")
    assert triggers(function(application, "resize")) == [
        (
            TriggerKind.S3,
            "thumbnails-dev",
            "/functions/resize/events/0/s3",
            None,
            (("prefix", "uploads/"), ("suffix", ".jpg")),
        )
    ]
    assert triggers(function(application, "cleanup")) == [
        (TriggerKind.SCHEDULE, "rate(1 day)", "/functions/cleanup/events/0/schedule", None, ()),
        (
            TriggerKind.EVENTBRIDGE,
            "default",
            "/functions/cleanup/events/1/cloudwatchEvent",
            None,
            (),
        ),
    ]
    (bucket,) = application.buckets
    assert (bucket.origin.resource, bucket.origin.pointer) == (
        "S3BucketThumbnailsdev",
        "/functions/resize/events/0/s3",
    )
    assert (bucket.name, bucket.public_read, bucket.notifies) == (
        "thumbnails-dev",
        False,
        ("resize",),
    )


# --- roles per function, named roles ----------------------------------------------------


def test_per_function_roles() -> None:
    application, errors = load("per-function-roles")
    assert errors == []
    xray = (
        GrantSource.INLINE,
        "provider.iam.role.statements",
        "/provider/iam/role/statements",
        [
            (
                "/provider/iam/role/statements/0",
                "Allow",
                ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                ["*"],
            )
        ],
    )
    s3_full = (
        GrantSource.AWS_MANAGED,
        "arn:aws:iam::aws:policy/AmazonS3FullAccess",
        "/provider/iam/role/managedPolicies/0",
    )
    table = "arn:aws:dynamodb:us-east-1:123456789012:table/payments"

    charge = role_of(application, "charge")
    assert (charge.origin.resource, charge.origin.pointer) == (
        "ChargeIamRoleLambdaExecution",
        "/functions/charge/iamRoleStatements",
    )
    own, inherited, managed = grants(charge)
    assert own == (
        GrantSource.INLINE,
        "functions.charge.iamRoleStatements",
        "/functions/charge/iamRoleStatements",
        [("/functions/charge/iamRoleStatements/0", "Allow", ["dynamodb:PutItem"], [table])],
    )
    assert inherited == xray  # iamRoleStatementsInherit: true
    assert managed[:3] == s3_full

    refund = role_of(application, "refund")  # the plugin does not inherit by default
    assert grants(refund) == [
        (
            GrantSource.INLINE,
            "functions.refund.iamRoleStatements",
            "/functions/refund/iamRoleStatements",
            [("/functions/refund/iamRoleStatements/0", "Allow", ["dynamodb:UpdateItem"], [table])],
        )
    ]

    shared = role_of(application, "report")
    assert shared.origin.resource == DEFAULT_ROLE
    provider_statements, provider_managed, attached = grants(shared)
    assert provider_statements == xray
    assert provider_managed[:3] == s3_full
    assert attached == (
        GrantSource.INLINE,
        "ReportsPolicy",
        "/resources/Resources/ReportsPolicy/Properties/PolicyDocument",
        [
            (
                "/resources/Resources/ReportsPolicy/Properties/PolicyDocument/Statement/0",
                "Allow",
                ["s3:PutObject"],
                ["arn:aws:s3:::payments-reports/*"],
            )
        ],
    )

    legacy = role_of(application, "legacy-export")
    assert (legacy.external, legacy.grants, legacy.origin.pointer) == (
        "arn:aws:iam::123456789012:role/legacy-export",
        (),
        "/functions/legacy-export/role",
    )

    audit = role_of(application, "audit")
    assert (audit.origin.resource, audit.external) == ("AuditRole", None)
    assert grants(audit) == [
        (
            GrantSource.INLINE,
            "audit-read",
            "/resources/Resources/AuditRole/Properties/Policies/0/PolicyDocument",
            [
                (
                    "/resources/Resources/AuditRole/Properties/Policies/0/PolicyDocument/Statement/0",
                    "Allow",
                    ["cloudtrail:LookupEvents"],
                    ["*"],
                )
            ],
        )
    ]

    health = role_of(application, "healthcheck")  # `iamRoleStatements: []`: its own, empty
    assert (health.origin.resource, health.grants) == ("HealthcheckIamRoleLambdaExecution", ())

    assert [r.origin.resource for r in application.roles] == [
        "ChargeIamRoleLambdaExecution",
        "RefundIamRoleLambdaExecution",
        DEFAULT_ROLE,
        "arn:aws:iam::123456789012:role/legacy-export",
        "AuditRole",
        "HealthcheckIamRoleLambdaExecution",
    ]


PER_FUNCTION = """\
service: jobs
{plugins}
custom:
  serverless-iam-roles-per-function:
    defaultInherit: {inherit}
provider:
  name: aws
  runtime: python3.12
  iamRoleStatements:
    - Effect: Allow
      Action: s3:*
      Resource: "*"
functions:
  run:
    handler: run.handler
    iamRoleStatements:
      - Effect: Allow
        Action: sqs:SendMessage
        Resource: arn:aws:sqs:us-east-1:123456789012:jobs
"""


@pytest.mark.parametrize(
    ("plugins", "inherit", "expected"),
    [
        (
            "plugins: [serverless-iam-roles-per-function]",
            "true",
            (
                "RunIamRoleLambdaExecution",
                ["functions.run.iamRoleStatements", "provider.iamRoleStatements"],
            ),
        ),
        (
            "plugins: [serverless-iam-roles-per-function]",
            "false",
            ("RunIamRoleLambdaExecution", ["functions.run.iamRoleStatements"]),
        ),
        # Without the plugin Serverless ignores function statements: the shared role applies.
        ("", "false", (DEFAULT_ROLE, ["provider.iamRoleStatements"])),
    ],
)
def test_per_function_statements_follow_the_plugin(
    tmp_path: Path, plugins: str, inherit: str, expected: tuple[str, list[str]]
) -> None:
    application, errors = load_text(tmp_path, PER_FUNCTION.format(plugins=plugins, inherit=inherit))
    assert errors == []
    role = role_of(application, "run")
    assert (role.origin.resource, [g.name for g in role.grants]) == expected


def test_provider_role_arn_replaces_the_generated_role(tmp_path: Path) -> None:
    application, _ = load_text(
        tmp_path,
        "service: s\nprovider:\n  name: aws\n  iam:\n"
        "    role: arn:aws:iam::123456789012:role/shared\n"
        "functions:\n  a:\n    handler: a.h\n  b:\n    handler: b.h\n",
    )
    role = role_of(application, "a")
    assert role is role_of(application, "b")
    assert (role.external, role.origin.pointer) == (
        "arn:aws:iam::123456789012:role/shared",
        "/provider/iam/role",
    )
    assert application.roles == (role,)


# --- entry points -----------------------------------------------------------------------


def test_function_urls() -> None:
    application, _ = load("function-urls")
    url = TriggerKind.FUNCTION_URL
    assert triggers(function(application, "publicHook")) == [
        (url, "function URL", "/functions/publicHook/url", (AuthKind.NONE, "url: true", False), ())
    ]
    assert triggers(function(application, "signedHook")) == [
        (url, "function URL", "/functions/signedHook/url", (AuthKind.IAM, "aws_iam", False), ())
    ]
    (cors,) = function(application, "corsHook").triggers
    assert (cors.kind, cors.auth and cors.auth.kind) == (url, AuthKind.NONE)
    assert function(application, "internal").triggers == ()
    (signed,) = function(application, "signedHook").triggers
    assert signed.auth is not None
    assert signed.auth.pointer == "/functions/signedHook/url/authorizer"


def test_rest_http_and_websocket_authorization() -> None:
    application, errors = load("http-auth")
    assert errors == []
    rest, http = TriggerKind.API_REST, TriggerKind.API_HTTP
    events = "/functions/products/events"
    assert triggers(function(application, "products")) == [
        (rest, "GET /products", f"{events}/0/http", (AuthKind.NONE, "no authorizer", False), ()),
        (rest, "POST /products", f"{events}/1/http", (AuthKind.AUTHORIZER, "authorize", False), ()),
        (rest, "DELETE /products/{id}", f"{events}/2/http", (AuthKind.IAM, "aws_iam", False), ()),
        # `private: true` asks for an API key; it is not an authorizer.
        (
            rest,
            "GET /partner/products",
            f"{events}/3/http",
            (AuthKind.NONE, "no authorizer", True),
            (),
        ),
        (
            rest,
            "PUT /admin/products",
            f"{events}/4/http",
            (AuthKind.AUTHORIZER, "adminPool", False),
            (),
        ),
        (rest, "GET /reports", f"{events}/5/http", (AuthKind.IAM, "aws_iam", False), ()),
    ]
    events = "/functions/search/events"
    assert triggers(function(application, "search")) == [
        (http, "GET /search", f"{events}/0/httpApi", (AuthKind.NONE, "no authorizer", False), ()),
        (
            http,
            "POST /search/saved",
            f"{events}/1/httpApi",
            (AuthKind.AUTHORIZER, "catalogJwt (jwt)", False),
            (),
        ),
        (http, "GET /internal/stats", f"{events}/2/httpApi", (AuthKind.IAM, "aws_iam", False), ()),
        (http, "*", f"{events}/3/httpApi", (AuthKind.NONE, "no authorizer", False), ()),
    ]
    socket = function(application, "socket")
    assert triggers(socket) == [
        (
            TriggerKind.API_WEBSOCKET,
            "$connect",
            "/functions/socket/events/0/websocket",
            (AuthKind.AUTHORIZER, "authorize", False),
            (),
        ),
        (
            TriggerKind.API_WEBSOCKET,
            "$default",
            "/functions/socket/events/1/websocket",
            (AuthKind.UNKNOWN, "websocket routes are authorised on $connect", False),
            (),
        ),
    ]
    assert triggers(function(application, "legacy")) == [
        (
            TriggerKind.ALB,
            "GET|POST /legacy",
            "/functions/legacy/events/0/alb",
            (AuthKind.NONE, "no authorizer", False),
            (),
        )
    ]
    assert function(application, "authorize").triggers == ()
    assert application.values == (
        TemplateValue(
            "api-key",
            "partner-key",
            "2b5ae4c1f7d94c1e8a0b3c6d9e2f4a7b",
            "/provider/apiGateway/apiKeys/0/value",
        ),
    )


def test_event_sources() -> None:
    application, errors = load("events")
    assert errors == []
    ingest = function(application, "ingest")
    base = "/functions/ingest/events"
    assert triggers(ingest) == [
        (
            TriggerKind.S3,
            "pipeline-raw-dev",
            f"{base}/0/s3",
            None,
            (("prefix", "incoming/"), ("suffix", ".csv")),
        ),
        (TriggerKind.S3, "pipeline-any-dev", f"{base}/1/s3", None, ()),
        (TriggerKind.S3, "shared-landing-zone", f"{base}/2/s3", None, ()),
    ]
    assert ingest.layers == (
        "arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV2:78",
    )
    consume = function(application, "consume")
    assert consume.layers == ()  # `layers: []` replaces the provider's
    base = "/functions/consume/events"
    assert triggers(consume) == [
        (
            TriggerKind.SQS,
            "arn:aws:sqs:eu-west-1:123456789012:pipeline-jobs",
            f"{base}/0/sqs",
            None,
            (),
        ),
        (TriggerKind.SNS, "pipeline-alerts", f"{base}/1/sns", None, ()),
        (
            TriggerKind.SNS,
            "arn:aws:sns:eu-west-1:123456789012:pipeline-events",
            f"{base}/2/sns",
            None,
            (),
        ),
        (
            TriggerKind.DYNAMODB_STREAM,
            "arn:aws:dynamodb:eu-west-1:123456789012:table/jobs/stream/2024-01-01T00:00:00.000",
            f"{base}/3/stream",
            None,
            (),
        ),
        (
            TriggerKind.KINESIS,
            "arn:aws:kinesis:eu-west-1:123456789012:stream/clicks",
            f"{base}/4/stream",
            None,
            (),
        ),
        (TriggerKind.SCHEDULE, "cron(0 8 * * ? *), rate(1 hour)", f"{base}/5/schedule", None, ()),
        (
            TriggerKind.EVENTBRIDGE,
            "arn:aws:events:eu-west-1:123456789012:event-bus/orders",
            f"{base}/6/eventBridge",
            None,
            (),
        ),
        (TriggerKind.SCHEDULE, "rate(5 minutes)", f"{base}/7/eventBridge", None, ()),
    ]
    base = "/functions/watch/events"
    assert [
        (t.kind, t.source, t.pointer, t.name) for t in function(application, "watch").triggers
    ] == [
        (
            TriggerKind.CLOUDWATCH_LOGS,
            "/aws/lambda/pipeline-ingest",
            f"{base}/0/cloudwatchLog",
            "cloudwatchLog",
        ),
        (
            TriggerKind.COGNITO,
            "pipeline-users (PreSignUp)",
            f"{base}/1/cognitoUserPool",
            "cognitoUserPool",
        ),
        (TriggerKind.IOT, "SELECT * FROM 'sensors/#'", f"{base}/2/iot", "iot"),
        (
            TriggerKind.ALEXA,
            "amzn1.ask.skill.12345678-1234-1234-1234-123456789012",
            f"{base}/3/alexaSkill",
            "alexaSkill",
        ),
        (TriggerKind.ALEXA, "any skill", f"{base}/4", "alexaSkill"),  # v1: no skill ID at all
        (TriggerKind.KAFKA, "clicks", f"{base}/5/kafka", "kafka"),
        (TriggerKind.OTHER, "cloudFront", f"{base}/6/cloudFront", "cloudFront"),
    ]
    # Serverless creates the first two buckets; `existing: true` is defined elsewhere.
    assert [(b.origin.resource, b.name, b.notifies) for b in application.buckets] == [
        ("S3BucketPipelinerawdev", "pipeline-raw-dev", ("ingest",)),
        ("S3BucketPipelineanydev", "pipeline-any-dev", ("ingest",)),
    ]


# --- variables ----------------------------------------------------------------------------


def test_unresolvable_values_are_explicit() -> None:
    application, errors = load("unresolved-ssm")
    assert errors == []
    invoice = function(application, "invoice")
    at = "/provider/environment"
    assert environment(invoice) == {
        "DB_PASSWORD": (
            Unresolved(
                "${ssm:/billing/prod/db-password}", "read from SSM Parameter Store at deploy time"
            ),
            f"{at}/DB_PASSWORD",
        ),
        "STRIPE_KEY": (
            Unresolved(
                "${ssm:/aws/reference/secretsmanager/billing/stripe~true}",
                "read from SSM Parameter Store at deploy time",
            ),
            f"{at}/STRIPE_KEY",
        ),
        "UPSTREAM_URL": (
            Unresolved(
                "${cf:shared-network-dev.ApiUrl}",
                "read from another CloudFormation stack's outputs at deploy time",
            ),
            f"{at}/UPSTREAM_URL",
        ),
        "CONFIG": (
            Unresolved(
                "${s3:billing-config/settings.json}", "read from an S3 object at deploy time"
            ),
            f"{at}/CONFIG",
        ),
        "TABLE_ARN": (
            Unresolved(
                "arn:aws:dynamodb:us-east-1:${aws:accountId}:table/invoices",
                "the AWS account is known only at deploy time",
            ),
            f"{at}/TABLE_ARN",
        ),
        "API_TOKEN": (
            Unresolved(
                "${env:API_TOKEN}",
                "environment variables of the scanning machine are not read "
                "unless they are passed to the scan",
            ),
            f"{at}/API_TOKEN",
        ),
        "REGION_NAME": ("eu-central-1", f"{at}/REGION_NAME"),
        "SECRET_FROM_VAULT": (
            Unresolved("${vault:secret/data/billing#token}", "read from Vault at deploy time"),
            f"{at}/SECRET_FROM_VAULT",
        ),
        "MISSING": (Unresolved("${self:custom.notThere}", "`custom` is not set"), f"{at}/MISSING"),
    }
    role = role_of(application, "invoice")
    assert (role.external, role.grants) == ("${ssm:/billing/role-arn}", ())
    # No function uses the generated role, so Serverless does not create it.
    assert application.roles == (role,)


def test_unknown_account_in_a_policy_arn_is_not_a_grammar_error(tmp_path: Path) -> None:
    application, _ = load_text(
        tmp_path,
        "service: s\nprovider:\n  name: aws\n  region: eu-west-1\n  iam:\n    role:\n"
        "      statements:\n        - Effect: Allow\n          Action: dynamodb:PutItem\n"
        "          Resource: arn:aws:dynamodb:${aws:region}:${aws:accountId}:table/t\n"
        "functions:\n  a:\n    handler: a.h\n",
    )
    (grant,) = role_of(application, "a").grants
    assert statements(grant) == [
        (
            "/provider/iam/role/statements/0",
            "Allow",
            ["dynamodb:PutItem"],
            ["arn:aws:dynamodb:eu-west-1:${aws:accountId}:table/t"],
        )
    ]
    assert grant.document is not None
    assert grant.document.grammar_errors == ()


def test_environment_of_the_scanning_machine_is_never_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("API_TOKEN", "from-the-ci-machine")
    monkeypatch.setenv("BILLING_REGION", "from-the-ci-machine")
    application, _ = load("unresolved-ssm")
    values = environment(function(application, "invoice"))
    assert isinstance(values["API_TOKEN"][0], Unresolved)
    assert values["REGION_NAME"][0] == "eu-central-1"
    # ... unless the caller passes an environment on purpose.
    application, _ = load("unresolved-ssm", env={"API_TOKEN": "given", "BILLING_REGION": "x"})
    values = environment(function(application, "invoice"))
    assert (values["API_TOKEN"][0], values["REGION_NAME"][0]) == ("given", "x")


def test_file_includes_inside_the_scanned_folder() -> None:
    application, errors = load("file-includes")
    # The one include that escapes the scanned folder is an error where it is written.
    assert errors == [
        ScanError(
            PurePosixPath("file-includes/config/functions.yml"),
            "`${file(../shared-secrets.yml):token}` reads ../shared-secrets.yml, outside the "
            "scanned folder, which is never read; scan a folder that holds both",
            4,
        )
    ]
    (restock,) = application.functions
    assert restock.origin.pointer == "/functions/restock"
    assert restock.handler == "restock.handler"
    assert environment(restock) == {
        "TABLE_NAME": ("inventory-dev", "/provider/environment/TABLE_NAME"),
        "LOG_LEVEL": ("debug", "/provider/environment/LOG_LEVEL"),
        "SHARED_TOKEN": (
            Unresolved(
                "${file(../shared-secrets.yml):token}",
                "../shared-secrets.yml is outside the scanned folder and is not read",
            ),
            "/functions/restock/environment/SHARED_TOKEN",
        ),
        "FEATURE_FLAGS": (
            Unresolved(
                "${file(./config/flags.js):flags}",
                "JavaScript and TypeScript files are never run",
            ),
            "/functions/restock/environment/FEATURE_FLAGS",
        ),
    }
    assert triggers(restock) == [
        (
            TriggerKind.SQS,
            "arn:aws:sqs:eu-west-1:123456789012:restock",
            "/functions/restock/events/0/sqs",
            None,
            (),
        )
    ]
    (grant,) = role_of(application, "restock").grants
    assert statements(grant) == [
        (
            "/provider/iam/role/statements/0",
            "Allow",
            ["dynamodb:GetItem", "dynamodb:PutItem"],
            ["arn:aws:dynamodb:*:*:table/inventory-*"],
        )
    ]
    # Lines of what another file brought in are those of the `${file(...)}` that did.
    assert application.origin.locate("/functions/restock/events/0").start_line == 15


def test_file_outside_the_root_is_read_once_the_root_includes_it() -> None:
    application, errors = load("file-includes", root=FIXTURES)
    assert errors == []
    values = environment(application.functions[0])
    assert values["SHARED_TOKEN"][0] == "7c0f5e2ad1b94f3e9e1a"
    assert isinstance(values["FEATURE_FLAGS"][0], Unresolved)  # never run, whatever the root


def test_circular_reference_is_an_error_and_the_rest_still_loads() -> None:
    application, errors = load("circular")
    chain = "custom.prefix -> custom.name -> custom.prefix"
    assert errors == [
        ScanError(
            PurePosixPath("circular/serverless.yml"), f"circular variable reference: {chain}", 11
        )
    ]
    assert environment(function(application, "hello")) == {
        "PREFIX": (
            Unresolved("${self:custom.name}-svc", f"circular reference: {chain}"),
            "/provider/environment/PREFIX",
        ),
        "GREETING": ("hi", "/functions/hello/environment/GREETING"),
    }


VARIABLES = """\
service: vars
provider:
  name: aws
  stage: ${{opt:stage, 'qa'}}
  region: eu-north-1
params:
  default:
    domain: example.com
  qa:
    domain: qa.example.com
stages:
  default:
    params:
      tier: standard
custom:
  qa:
    table: qa-table
  list:
    - first
    - second
functions:
  f:
    handler: f.h
    environment:
      VALUE: {value}
"""


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("${opt:stage, 'dev'}", "dev"),
        ("${opt:memory, 512}", 512),
        (
            "${opt:stage}",
            Unresolved("${opt:stage}", "command-line options are not known when scanning"),
        ),
        ("${sls:stage}", "qa"),
        ("${self:provider.stage}-${self:service}", "qa-vars"),
        ("${self:custom.${sls:stage}.table}", "qa-table"),
        ("${self:custom.list.1}", "second"),
        ("${opt:a, ${env:B}, 'c'}", "c"),
        ("${opt:a, self:provider.region}", "eu-north-1"),
        ("${self:custom.none, null}", None),
        ("${param:domain}", "qa.example.com"),
        ("${param:tier}", "standard"),
        ("${strToBool(true)}", True),
        ("${aws:region}", "eu-north-1"),
        ("https://${param:domain}/v1", "https://qa.example.com/v1"),
        # IAM policy variables and CloudFormation's `${...}` are not Serverless variables.
        ("arn:aws:s3:::b/${aws:username}/*", "arn:aws:s3:::b/${aws:username}/*"),
        ("${AWS::Region}-${Bucket.Arn}", "${AWS::Region}-${Bucket.Arn}"),
        (
            "${git:branch}",
            Unresolved("${git:branch}", "read from the git checkout when Serverless runs"),
        ),
        (
            "${myplugin:thing}",
            Unresolved(
                "${myplugin:thing}",
                "unknown variable source `myplugin` (plugin sources are not resolved)",
            ),
        ),
        ("${sls:instanceId}", Unresolved("${sls:instanceId}", "known only when Serverless runs")),
    ],
)
def test_variable_forms(tmp_path: Path, value: str, expected: object) -> None:
    application, errors = load_text(tmp_path, VARIABLES.format(value=f'"{value}"'))
    assert errors == []
    (variable,) = function(application, "f").environment
    assert variable == EnvVar("VALUE", expected, "/functions/f/environment/VALUE")


def test_params_values_are_template_values(tmp_path: Path) -> None:
    application, _ = load_text(tmp_path, VARIABLES.format(value="x"))
    assert application.values == (
        TemplateValue(
            "parameter-default", "default.domain", "example.com", "/params/default/domain"
        ),
        TemplateValue("parameter-default", "qa.domain", "qa.example.com", "/params/qa/domain"),
        TemplateValue(
            "parameter-default", "default.tier", "standard", "/stages/default/params/tier"
        ),
    )


def test_growing_interpolation_is_bounded(tmp_path: Path) -> None:
    lines = ["service: s", "provider:", "  name: aws", "custom:", "  a0: xxxxxxxxxxxxxxxx"]
    lines += [f"  a{i}: ${{self:custom.a{i - 1}}}${{self:custom.a{i - 1}}}" for i in range(1, 40)]
    lines += ["functions:", "  f:", "    handler: f.h", "    environment:"]
    lines += ["      BIG: ${self:custom.a39}"]
    start = time.perf_counter()
    application, _ = load_text(tmp_path, "\n".join(lines))
    assert time.perf_counter() - start < 5
    (variable,) = function(application, "f").environment
    assert isinstance(variable.value, Unresolved)
    assert "characters" in variable.value.reason


def test_long_reference_chains_are_bounded(tmp_path: Path) -> None:
    # Each value refers to the next one, so resolving the first goes 300 deep.
    lines = ["service: s", "provider:", "  name: aws", "custom:"]
    lines += [f"  v{i}: ${{self:custom.v{i + 1}}}" for i in range(300)]
    lines += ["  v300: end", "functions:", "  f:", "    handler: f.h", "    environment:"]
    lines += ["      DEEP: ${self:custom.v0}"]
    application, errors = load_text(tmp_path, "\n".join(lines))
    (variable,) = function(application, "f").environment
    assert isinstance(variable.value, Unresolved)
    assert errors
    assert all("nest more than 64 levels" in e.message for e in errors)


# --- formats ------------------------------------------------------------------------------


def test_merge_keys(tmp_path: Path) -> None:
    application, errors = load_text(
        tmp_path,
        "service: s\ncustom:\n  base: &base\n    runtime: python3.9\n    timeout: 30\n"
        "  logging: &logging\n    LOG_LEVEL: info\nprovider:\n  name: aws\n"
        "functions:\n  daily:\n    handler: r.daily\n    environment: *logging\n    <<: *base\n",
    )
    assert errors == []
    daily = function(application, "daily")
    assert (daily.runtime, daily.timeout, daily.runtime_pointer) == (
        "python3.9",
        30,
        "/functions/daily/runtime",
    )
    assert environment(daily) == {"LOG_LEVEL": ("info", "/functions/daily/environment/LOG_LEVEL")}


def test_merge_keys_with_overrides_after_the_merge() -> None:
    application, errors = load("merge-keys")
    assert errors == []
    weekly = function(application, "weekly")
    assert (weekly.runtime, weekly.memory, weekly.timeout) == ("python3.9", 512, 120)
    assert environment(weekly) == {
        "LOG_LEVEL": ("info", "/functions/weekly/environment/LOG_LEVEL"),
        "POWERTOOLS_SERVICE_NAME": (
            "reports",
            "/functions/weekly/environment/POWERTOOLS_SERVICE_NAME",
        ),
        "WEEK_START": ("monday", "/functions/weekly/environment/WEEK_START"),
    }


def test_serverless_json() -> None:
    application, errors = load("json-config", "serverless.json")
    assert errors == []
    notify = function(application, "notify")
    assert environment(notify) == {
        "TOPIC": ("notifier-events", "/functions/notify/environment/TOPIC")
    }
    assert triggers(notify) == [
        (TriggerKind.SNS, "order-events", "/functions/notify/events/0/sns", None, ()),
        (
            TriggerKind.API_HTTP,
            "POST /notify",
            "/functions/notify/events/1/httpApi",
            (AuthKind.NONE, "no authorizer", False),
            (),
        ),
    ]
    (grant,) = role_of(application, "notify").grants
    assert statements(grant) == [("/provider/iamRoleStatements/0", "Allow", ["sns:Publish"], ["*"])]
    assert grant.document is not None
    assert grant.document.origin.locate("/provider/iamRoleStatements/0").start_line == 8


def test_resources_block_links_what_serverless_generates() -> None:
    application, errors = load("resources-block")
    assert errors == []
    assert [f.origin.resource for f in application.functions] == ["transcode", "publish"]
    publish = function(application, "publish")
    assert triggers(publish) == [
        (
            TriggerKind.S3,
            "ArchiveBucket",
            "/resources/Resources/ArchiveBucket/Properties/NotificationConfiguration"
            "/LambdaConfigurations/0",
            None,
            (),
        )
    ]
    role = role_of(application, "publish")
    assert role.origin.resource == "PublishRole"
    assert grants(role) == [
        (
            GrantSource.CUSTOMER_MANAGED,
            "PublishPolicy",
            "/resources/Resources/PublishRole/Properties/ManagedPolicyArns/0",
            [
                (
                    "/resources/Resources/PublishPolicy/Properties/PolicyDocument/Statement/0",
                    "Allow",
                    ["s3:*"],
                    ["*"],
                )
            ],
        )
    ]
    assert [
        (b.origin.resource, b.origin.pointer, b.name, b.public_read, b.notifies)
        for b in application.buckets
    ] == [
        (
            "S3BucketMediauploadsdev",
            "/resources/Resources/S3BucketMediauploadsdev",
            "media-uploads-dev",
            True,
            ("transcode",),
        ),
        ("ArchiveBucket", "/resources/Resources/ArchiveBucket", None, False, ("publish",)),
    ]
    (permission,) = application.permissions
    assert (permission.function, permission.principal, permission.source_arn) == (
        "publish",
        "s3.amazonaws.com",
        None,
    )


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "error", "line", "message"),
    [
        ("serverless.yml", "service: s\nprovider: [\n", LoaderError, 3, "invalid YAML"),
        ("serverless.yml", "- service\n- s\n", LoaderError, 1, "not a Serverless configuration"),
        ("serverless.yml", "# nothing yet\n", LoaderError, None, "file is empty"),
        (
            "serverless.yml",
            "service: s\nprovider:\n  name: google\n",
            UnsupportedProvider,
            3,
            "provider `google` is not analysed (only AWS is)",
        ),
        ("serverless.json", '{"service": "s",}', LoaderError, 1, "invalid JSON"),
        ("serverless.yml", "service: s\nprovider: !Bogus x\n", LoaderError, 2, "unknown YAML tag"),
    ],
)
def test_unreadable_configuration_raises_a_located_error(
    tmp_path: Path,
    name: str,
    content: str,
    error: type[LoaderError],
    line: int | None,
    message: str,
) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(error) as raised:
        load_serverless(path, PurePosixPath(name), root=tmp_path, max_bytes=MAX_BYTES)
    assert raised.value.line == line
    assert message in raised.value.detail


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (
            {
                "serverless.yml": "service: s\nprovider:\n  name: aws\n"
                "functions: ${file(./fns.js)}\n"
            },
            [
                (
                    "serverless.yml",
                    4,
                    "functions cannot be analysed: ${file(./fns.js)}: "
                    "JavaScript and TypeScript files are never run",
                )
            ],
        ),
        (
            {
                "serverless.yml": "service: s\nprovider:\n  name: aws\n"
                "custom: ${file(./broken.yml)}\nfunctions:\n  f:\n    handler: f.h\n",
                "broken.yml": "a: [\n",
            },
            [("broken.yml", 2, "invalid YAML: did not find expected node content")],
        ),
        (
            {
                "serverless.yml": "service: s\nprovider:\n  name: aws\nfunctions:\n"
                "  f: ${ssm:/functions/f}\n  g:\n    handler: g.h\n    events: ${file(e.js)}\n",
            },
            [
                (
                    "serverless.yml",
                    5,
                    "function `f` cannot be analysed: ${ssm:/functions/f}: "
                    "read from SSM Parameter Store at deploy time",
                ),
                (
                    "serverless.yml",
                    8,
                    "events of `g` cannot be analysed: ${file(e.js)}: "
                    "JavaScript and TypeScript files are never run",
                ),
            ],
        ),
        (
            {
                "serverless.yml": "service: s\nprovider:\n  name: aws\n"
                "  environment: ${file(./env.ts)}\n"
                "functions:\n  f:\n    handler: f.h\n  g:\n    handler: g.h\n",
            },
            [
                (
                    "serverless.yml",
                    4,
                    "environment cannot be analysed: ${file(./env.ts)}: "
                    "JavaScript and TypeScript files are never run",
                )
            ],
        ),
    ],
)
def test_what_cannot_be_analysed_is_an_error_entry(
    tmp_path: Path, files: dict[str, str], expected: list[tuple[str, int, str]]
) -> None:
    for name, content in files.items():
        (tmp_path / name).write_text(content, encoding="utf-8")
    _, errors = load_serverless(
        tmp_path / "serverless.yml",
        PurePosixPath("serverless.yml"),
        root=tmp_path,
        max_bytes=MAX_BYTES,
    )
    assert [(str(e.path), e.line, e.message) for e in errors] == expected


# --- property: no input makes the loader raise --------------------------------------------

TEXT = st.sampled_from(
    [
        "${self:custom}",
        "${self:custom.a}",
        "${self:custom.a.b}",
        "${self:}",
        "${self:functions}",
        "${self:provider.stage}-${self:service}",
        "${opt:stage, 'dev'}",
        "${opt:a, ${self:custom.b}, 'z'}",
        "${sls:stage}",
        "${param:x}",
        "${env:HOME}",
        "${file(./config/dev.yml)}",
        "${file(./config/dev.yml):environment}",
        "${file(../shared-secrets.yml):token}",
        "${file(./config/flags.js)}",
        "${file(./config/${sls:stage}.yml):tableName}",
        "${ssm:/a/b}",
        "${aws:accountId}",
        "${strToBool(maybe)}",
        "${",
        "}",
        "${}",
        "${ , }",
        "${'quoted'}",
        "${self:custom.a, 'x}'}",
        "arn:aws:iam::aws:policy/AdministratorAccess",
        "arn:aws:iam::123456789012:role/r",
        "aws_iam",
        "$connect",
        "GET /x",
        "*",
        "dynamodb:*",
        "Allow",
        "true",
        "x",
    ]
)
KEYS = st.sampled_from(
    [
        "a",
        "b",
        "custom",
        "Effect",
        "Action",
        "Resource",
        "Statement",
        "authorizer",
        "name",
        "type",
        "arn",
        "path",
        "method",
        "bucket",
        "rules",
        "prefix",
        "existing",
        "route",
        "Ref",
        "Fn::GetAtt",
        "Fn::Sub",
        "Fn::Join",
        "Fn::ImportValue",
        "statements",
        "role",
        "managedPolicies",
        "onFailure",
        "lambda",
        "subnetIds",
        "default",
        "params",
        "async",
        "redrivePolicy",
        "deadLetterTargetArn",
        "deadLetterTargetRef",
        "deadLetterQueueArn",
        "BucketName",
    ]
)
SCALARS = st.one_of(TEXT, st.text(max_size=6), st.integers(), st.booleans(), st.none())
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=3),
    max_leaves=12,
)
EVENT_TYPES = st.sampled_from(
    [
        *("http", "httpApi", "websocket", "alb", "s3", "sqs", "sns", "stream", "schedule"),
        *("eventBridge", "cloudwatchLog", "cognitoUserPool", "iot", "alexaSkill", "kafka", "x"),
    ]
)
EVENT = st.one_of(st.dictionaries(EVENT_TYPES, VALUES, min_size=1, max_size=2), EVENT_TYPES, VALUES)
FUNCTION = st.fixed_dictionaries(
    {},
    optional=dict.fromkeys(
        (
            "handler",
            "runtime",
            "environment",
            "url",
            "role",
            "iamRoleStatements",
            "iamRoleStatementsInherit",
            "vpc",
            "layers",
            "destinations",
            "memorySize",
            "tracing",
            "image",
            "onError",
        ),
        VALUES,
    )
    | {"events": st.one_of(st.lists(EVENT, max_size=4), VALUES)},
)
PROVIDER = st.fixed_dictionaries(
    {},
    optional=dict.fromkeys(
        (
            "runtime",
            "stage",
            "environment",
            "iam",
            "iamRoleStatements",
            "iamManagedPolicies",
            "role",
            "httpApi",
            "endpointType",
            "tracing",
            "vpc",
            "apiGateway",
            "layers",
        ),
        VALUES,
    )
    | {"name": st.just("aws")},
)
RESOURCES = st.fixed_dictionaries(
    {
        "Resources": st.dictionaries(
            st.sampled_from(["A", "B", DEFAULT_ROLE, "FLambdaFunction", "S3BucketX"]),
            st.fixed_dictionaries(
                {},
                optional={
                    "Type": st.sampled_from(
                        [
                            *("AWS::IAM::Role", "AWS::IAM::Policy", "AWS::S3::Bucket"),
                            *("AWS::Lambda::Permission", "AWS::SQS::Queue", "Custom::X"),
                            *("AWS::Lambda::EventInvokeConfig", "AWS::Events::Rule"),
                        ]
                    ),
                    "Properties": VALUES,
                },
            ),
            max_size=3,
        )
    }
)
LAYER = st.fixed_dictionaries(
    {},
    optional={
        "path": st.one_of(
            st.sampled_from(["layers/deps", "../outside", "/abs/layer", "s3://b/k.zip", ""]),
            VALUES,
        ),
        "package": st.one_of(
            st.fixed_dictionaries({}, optional={"artifact": st.one_of(TEXT, VALUES)}), VALUES
        ),
        "name": VALUES,
    },
)
DOCUMENTS = st.fixed_dictionaries(
    {},
    optional={
        "service": VALUES,
        "layers": st.one_of(
            st.dictionaries(
                st.sampled_from(["deps", "pdf-tools", "a_b"]), st.one_of(LAYER, VALUES), max_size=3
            ),
            VALUES,
        ),
        "provider": st.one_of(PROVIDER, VALUES),
        "functions": st.one_of(
            st.dictionaries(st.sampled_from(["f", "create-order", "a_b"]), FUNCTION, max_size=3),
            VALUES,
        ),
        "custom": VALUES,
        "params": VALUES,
        "stages": VALUES,
        "plugins": VALUES,
        "resources": st.one_of(RESOURCES, VALUES),
    },
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DOCUMENTS)
def test_random_configurations_never_raise(document: dict[str, Any]) -> None:
    folder = FIXTURES / "file-includes"
    application, errors = serverless_to_model(
        document,
        PurePosixPath("serverless.yml"),
        lambda _pointer: (None, None),
        base_dir=folder,
        root=folder,
        max_bytes=MAX_BYTES,
    )
    assert isinstance(application, Application)
    assert all(isinstance(e, ScanError) for e in errors)


def test_long_chains_of_references_on_the_way_are_bounded(tmp_path: Path) -> None:
    # `${self:custom.v0.key}` walks through 2,000 references before it reaches a mapping.
    lines = ["service: s", "provider:", "  name: aws", "custom:"]
    lines += [f"  v{i}: ${{self:custom.v{i + 1}}}" for i in range(2000)]
    lines += ["  v2000:", "    key: end", "functions:", "  f:", "    handler: f.h"]
    lines += ["    environment:", "      DEEP: ${self:custom.v0.key}"]
    application, errors = load_text(tmp_path, "\n".join(lines))
    (variable,) = function(application, "f").environment
    assert isinstance(variable.value, Unresolved)
    assert errors
    assert all("nest more than 64 levels" in e.message for e in errors)


# --- delivery failures and exposure --------------------------------------------------------


def test_delivery_failures_and_exposure() -> None:
    application, errors = load("delivery")
    assert errors == []
    submit = function(application, "submit")
    assert [(t.source, t.asynchronous, t.is_async) for t in submit.triggers] == [
        ("POST /jobs", True, True),  # `async: true`
        ("GET /jobs/{id}", None, False),
    ]
    # `provider.endpointType: PRIVATE` makes every `http` route private.
    assert [t.auth and (t.auth.kind, t.auth.private) for t in submit.triggers] == [
        (AuthKind.NONE, True),
        (AuthKind.NONE, True),
    ]
    notify = function(application, "notify")
    assert [(t.kind, t.dead_letter) for t in notify.triggers] == [
        (TriggerKind.SNS, "arn:aws:sqs:eu-west-1:123456789012:intake-undeliverable"),
        (TriggerKind.SNS, "AlertsDeadLetters"),
        (TriggerKind.EVENTBRIDGE, "AlertsDeadLetters"),
    ]
    assert (notify.dead_letter, notify.on_failure) == (None, None)
    # `destinations.onFailure`, and an `AWS::Lambda::EventInvokeConfig` in `resources`
    # that names the function Serverless generates.
    assert function(application, "archive").on_failure == (
        "arn:aws:sqs:eu-west-1:123456789012:archive-failures"
    )
    assert function(application, "report").on_failure == "${AlertsDeadLetters.Arn}"

    (permission,) = application.permissions
    assert (permission.function, permission.principal_org_id) == ("submit", "o-a1b2c3d4e5")
    buckets = {b.origin.resource: b for b in application.buckets}
    drop = buckets["S3BucketIntakepublicdrop"]
    assert (drop.public_write, drop.notifies, drop.public_access_block) == (
        True,
        ("archive",),
        None,
    )
    # An `existing: true` bucket defined in `resources` is linked by its `BucketName`.
    landing = buckets["LandingBucket"]
    assert landing.notifies == ("archive",)
    assert landing.public_access_block is not None
    assert landing.public_access_block.restrict_public_buckets


@pytest.mark.parametrize(
    ("endpoint", "private"), [("PRIVATE", True), ("private", True), ("REGIONAL", False)]
)
def test_endpoint_type_marks_rest_routes_only(tmp_path: Path, endpoint: str, private: bool) -> None:
    application, errors = load_text(
        tmp_path,
        "service: s\nprovider:\n  name: aws\n  runtime: python3.12\n"
        f"  endpointType: {endpoint}\n"
        "functions:\n  f:\n    handler: f.h\n    events:\n"
        "      - http: GET status\n      - httpApi: GET /other\n",
    )
    assert errors == []
    rest, http_api = function(application, "f").triggers
    assert rest.auth is not None and rest.auth.private is private
    assert http_api.auth is not None and http_api.auth.private is False


# --- layers ----------------------------------------------------------------------------


def layers(application: Application) -> list[tuple[str, str | None, str, int | None]]:
    return [
        (
            layer.origin.resource,
            layer.content_uri,
            layer.origin.pointer,
            layer.origin.lines(layer.origin.pointer)[0],
        )
        for layer in application.layers
    ]


def test_layers_and_the_references_functions_make_to_them() -> None:
    application, errors = load("layers")
    assert errors == []
    # Serverless names `pdf_tools`'s resource as it names functions': `_` is `Underscore`.
    assert layers(application) == [
        ("PythonDepsLambdaLayer", "layers/deps", "/layers/pythonDeps", 13),
        ("PdfUnderscoretoolsLambdaLayer", "layers/pdf-tools.zip", "/layers/pdf_tools", 18),
    ]
    assert {f.origin.resource: f.layers for f in application.functions} == {
        "render": ("${PythonDepsLambdaLayer}",),  # from `provider.layers`
        "export": (  # its own list replaces the provider's
            "${PdfUnderscoretoolsLambdaLayer}",
            "arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV2:78",
        ),
        "archive": (
            "${cf:shared-layers-dev.CryptoLayerArn}",
            "${ssm:/reports/layers/crypto}",
            "${MissingLambdaLayer}",
        ),
    }


def test_a_functions_own_layers_replace_the_providers(tmp_path: Path) -> None:
    application, errors = load_text(
        tmp_path,
        "service: s\nprovider:\n  name: aws\n  layers:\n    - Ref: DepsLambdaLayer\n"
        "functions:\n"
        "  inherits:\n    handler: a.h\n"
        "  empty:\n    handler: b.h\n    layers:\n"
        "  none:\n    handler: c.h\n    layers: []\n"
        "  own:\n    handler: d.h\n    layers:\n      - Ref: OtherLambdaLayer\n",
    )
    assert errors == []
    assert {f.origin.resource: f.layers for f in application.functions} == {
        "inherits": ("${DepsLambdaLayer}",),
        "empty": ("${DepsLambdaLayer}",),  # null, as Serverless reads it: not a list
        "none": (),
        "own": ("${OtherLambdaLayer}",),
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
        "layers/deps/requirements.txt": (("render",), "3.12"),
        "layers/pdf-tools.zip": (("export",), "3.12"),
    }


@pytest.mark.parametrize(
    ("settings", "expected_layers", "expected_errors"),
    [
        (
            "layers:\n  - path: layers/deps\n",
            [],
            [(12, "`layers` must map layer names to their settings")],
        ),
        (
            "layers:\n  deps: layers/deps\n",
            [],
            [(12, "layer `deps` must be a mapping of its settings")],
        ),
        (
            "layers:\n  deps:\n    path: ${ssm:/reports/deps-path}\n",
            [("DepsLambdaLayer", None)],
            [
                (
                    13,
                    "layer `deps`: `path` cannot be analysed: ${ssm:/reports/deps-path}: "
                    "read from SSM Parameter Store at deploy time",
                )
            ],
        ),
        (
            "layers:\n  deps:\n    path: [layers/deps]\n",
            [("DepsLambdaLayer", None)],
            [(13, "layer `deps`: `path` must be a path, not a list")],
        ),
        (
            "layers:\n  deps:\n    path: ../shared/deps\n",
            [("DepsLambdaLayer", None)],
            [
                (
                    13,
                    "layer `deps`: `path` ../shared/deps is outside the scanned folder, which "
                    "is never read; scan a folder that holds both",
                )
            ],
        ),
        (
            "layers:\n  deps:\n    package:\n      artifact: ../shared/deps.zip\n",
            [("DepsLambdaLayer", None)],
            [
                (
                    14,
                    "layer `deps`: `package.artifact` ../shared/deps.zip is outside the "
                    "scanned folder, which is never read; scan a folder that holds both",
                )
            ],
        ),
        (
            "layers:\n  deps:\n    package:\n      artifact: s3://reports-artifacts/deps.zip\n",
            [("DepsLambdaLayer", None)],
            [],
        ),
        ("layers:\n  deps:\n    name: reports-deps\n", [("DepsLambdaLayer", None)], []),
        (
            "layers:\n  my-deps:\n    path: ./layers/deps/\n",
            [("MyDashdepsLambdaLayer", "./layers/deps/")],
            [],
        ),
    ],
)
def test_each_layer_entry_gives_its_content_or_a_located_error(
    tmp_path: Path,
    settings: str,
    expected_layers: list[tuple[str, str | None]],
    expected_errors: list[tuple[int, str]],
) -> None:
    service = tmp_path / "service"
    service.mkdir()
    text = (
        "service: reports\nprovider:\n  name: aws\n  runtime: python3.12\n"
        "functions:\n  render:\n    handler: render.handler\n    layers:\n"
        "      - Ref: DepsLambdaLayer\n      - Ref: MyDashdepsLambdaLayer\n"
    )
    application, errors = load_text(service, text + settings)
    assert [(layer.origin.resource, layer.content_uri) for layer in application.layers] == (
        expected_layers
    )
    assert [(e.path, e.line, e.message) for e in errors] == [
        (PurePosixPath("serverless.yml"), line, message) for line, message in expected_errors
    ]
    assert function(application, "render").layers == (
        "${DepsLambdaLayer}",
        "${MyDashdepsLambdaLayer}",
    )


def test_a_layer_outside_the_scanned_folder_is_never_read(tmp_path: Path) -> None:
    service = tmp_path / "service"
    (service / "layers" / "local").mkdir(parents=True)
    (service / "layers" / "local" / "requirements.txt").write_text(
        "urllib3==1.24.1\n", encoding="utf-8"
    )
    (tmp_path / "shared" / "deps").mkdir(parents=True)
    (tmp_path / "shared" / "deps" / "requirements.txt").write_text(
        "requests==2.19.0\n", encoding="utf-8"
    )
    (service / "serverless.yml").write_text(
        "service: reports\nprovider:\n  name: aws\n  runtime: python3.12\n"
        "layers:\n  deps:\n    path: ../shared/deps\n"
        f"  local:\n    path: {service / 'layers' / 'local'}\n"
        "functions:\n  render:\n    handler: render.handler\n    layers:\n"
        "      - Ref: DepsLambdaLayer\n      - Ref: LocalLambdaLayer\n",
        encoding="utf-8",
    )
    report = scan([str(service)], Config(select=("LS-DEP-003",), fail_on_missing_db=False))
    assert [(e.path.name, e.line, e.message) for e in report.errors] == [
        (
            "serverless.yml",
            7,
            "layer `deps`: `path` ../shared/deps is outside the scanned folder, which is "
            "never read; scan a folder that holds both",
        )
    ]
    # An absolute path inside the scanned folder is the same folder written another way.
    assert [
        (s.origin.path.name, s.origin.path.parent.name, s.functions) for s in report.dependency_sets
    ] == [("requirements.txt", "local", ("render",))]
