"""The application rules on hand-built model objects: settings, clock, locators, data files."""

from __future__ import annotations

import dataclasses
import datetime
import json
from pathlib import Path, PurePosixPath

import pytest

from lambdashield.checks import api, functions, secrets
from lambdashield.checks.api import route_is_public
from lambdashield.checks.functions import (
    ApplicationView,
    FunctionView,
    Settings,
    runtime_info,
)
from lambdashield.model import (
    Application,
    AuthKind,
    Authorization,
    EnvVar,
    Function,
    Origin,
    Permission,
    TemplateValue,
    Trigger,
    TriggerKind,
    Unresolved,
)

DATA = Path(functions.__file__).with_name("data")
TEMPLATE = PurePosixPath("template.yaml")
APP = Application(Origin(TEMPLATE, "template.yaml", "sam"))


def function(name: str = "OrdersFunction", **fields: object) -> Function:
    origin = Origin(TEMPLATE, name, "function", f"/Resources/{name}")
    return Function(origin, **fields)  # type: ignore[arg-type]


def view(fn: Function, **settings: object) -> FunctionView:
    return FunctionView(fn, APP, Settings(**settings))  # type: ignore[arg-type]


# --- runtimes ---------------------------------------------------------------------------


def test_runtime_table_has_a_source_and_valid_dates() -> None:
    raw = json.loads((DATA / "lambda_runtimes.json").read_text(encoding="utf-8"))
    assert raw["source"].startswith("https://docs.aws.amazon.com/lambda/")
    datetime.date.fromisoformat(raw["read"])
    for identifier, entry in raw["runtimes"].items():
        assert identifier == identifier.lower()
        datetime.date.fromisoformat(entry["deprecated"])
        for key in ("block_create", "block_update"):
            if entry[key] is not None:
                datetime.date.fromisoformat(entry[key])
    read = datetime.date.fromisoformat(raw["read"])
    for target in raw["upgrade"].values():
        info = runtime_info(target)
        assert info is not None, target
        assert info.deprecated > read, f"{target} is not a supported upgrade target"


@pytest.mark.parametrize(
    ("runtime", "deprecated"),
    [
        ("python3.9", "2025-12-15"),
        ("nodejs18.x", "2025-09-01"),
        ("go1.x", "2024-01-08"),
        ("provided", "2024-01-08"),
        ("java8", "2024-01-08"),
        ("python3.12", "2028-10-31"),
        ("nodejs24.x", "2028-04-30"),
        (" Python3.9 ", "2025-12-15"),
    ],
)
def test_runtime_info(runtime: str, deprecated: str) -> None:
    info = runtime_info(runtime)
    assert info is not None
    assert info.deprecated == datetime.date.fromisoformat(deprecated)


def test_unknown_runtime_has_no_info() -> None:
    assert runtime_info("python3.99") is None
    assert runtime_info("") is None


def test_today_is_a_utc_date() -> None:
    assert isinstance(functions.today(), datetime.date)
    assert Settings(today=datetime.date(2020, 1, 1)).current_date() == datetime.date(2020, 1, 1)


def test_settings_date_wins_over_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(functions, "today", lambda: datetime.date(2020, 1, 1))
    fn = function(
        runtime="python3.9", runtime_pointer="/Resources/OrdersFunction/Properties/Runtime"
    )
    assert list(functions.deprecated_runtime(view(fn))) == []
    (hit,) = functions.deprecated_runtime(view(fn, today=datetime.date(2026, 1, 1)))
    assert hit.lowered_because is None
    assert hit.pointer == "/Resources/OrdersFunction/Properties/Runtime"


@pytest.mark.parametrize(("window", "reported"), [(30, False), (60, True), (0, False)])
def test_runtime_warning_window_is_configurable(window: int, reported: bool) -> None:
    fn = function(runtime="python3.10")  # deprecated on 2026-10-31
    hits = list(
        functions.deprecated_runtime(
            view(fn, today=datetime.date(2026, 9, 1), runtime_warning_days=window)
        )
    )
    assert bool(hits) == reported
    if hits:
        assert hits[0].lowered_because is not None
        assert "in 60 days" in hits[0].message
        assert hits[0].pointer == "/Resources/OrdersFunction"


@pytest.mark.parametrize("runtime", [None, Unresolved("Ref Runtime"), "python3.99"])
def test_runtimes_that_are_not_judged(runtime: object) -> None:
    fn = function(runtime=runtime)
    assert list(functions.deprecated_runtime(view(fn, today=datetime.date(2030, 1, 1)))) == []


def test_deprecated_on_its_date() -> None:
    fn = function(runtime="python3.10")
    (hit,) = functions.deprecated_runtime(view(fn, today=datetime.date(2026, 10, 31)))
    assert hit.lowered_because is None
    assert "deprecated since 2026-10-31" in hit.message


# --- routes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("route", "public", "expected"),
    [
        ("GET /health", ["GET /health"], True),
        ("GET /health/", ["GET /health"], True),
        ("get /health", ["GET /health"], True),
        ("POST /health", ["GET /health"], False),
        ("ANY /health", ["GET /health"], False),
        ("POST /health", ["/health"], True),
        ("POST /health", ["* /health"], True),
        ("GET /public/logo.png", ["GET /public/*"], True),
        ("GET /publication", ["GET /public/*"], False),
        ("GET /Health", ["GET /health"], False),
        ("$default", ["$default"], True),
        ("GET /health", [], False),
    ],
)
def test_route_is_public(route: str, public: list[str], expected: bool) -> None:
    assert route_is_public(route, public) is expected


def http(source: str, kind: AuthKind, api_key: bool = False) -> Trigger:
    return Trigger(
        TriggerKind.API_HTTP,
        source,
        "/Resources/OrdersFunction/Properties/Events/E",
        "E",
        Authorization(kind, api_key_required=api_key),
    )


def test_public_routes_come_from_the_settings() -> None:
    fn = function(
        triggers=(http("GET /health", AuthKind.NONE), http("POST /orders", AuthKind.NONE))
    )
    hits = list(api.route_without_authorisation(view(fn, public_routes=("GET /health",))))
    assert [h.evidence for h in hits] == ["api_http:POST /orders"]
    assert len(list(api.route_without_authorisation(view(fn)))) == 2


@pytest.mark.parametrize("kind", [AuthKind.IAM, AuthKind.AUTHORIZER, AuthKind.UNKNOWN])
def test_routes_with_auth_or_unknown_auth_are_quiet(kind: AuthKind) -> None:
    fn = function(triggers=(http("POST /orders", kind),))
    assert list(api.route_without_authorisation(view(fn))) == []


def test_read_only_and_api_key_routes_are_lowered_once() -> None:
    fn = function(triggers=(http("GET /orders", AuthKind.NONE, api_key=True),))
    (hit,) = api.route_without_authorisation(view(fn))
    assert hit.lowered_because is not None
    assert "API key" in hit.lowered_because and "`GET`" in hit.lowered_because


def test_websocket_only_connect_is_authorised() -> None:
    def ws(route: str) -> Trigger:
        return Trigger(TriggerKind.API_WEBSOCKET, route, "/p", "", Authorization(AuthKind.NONE))

    fn = function(triggers=(ws("$connect"), ws("$default"), ws("$disconnect")))
    assert [h.evidence for h in api.route_without_authorisation(view(fn))] == [
        "api_websocket:$connect"
    ]


def test_function_url_is_not_a_route() -> None:
    url = Trigger(
        TriggerKind.FUNCTION_URL, "function URL", "/p", "Url", Authorization(AuthKind.NONE)
    )
    fn = function(triggers=(url,))
    assert list(api.route_without_authorisation(view(fn))) == []
    assert len(list(api.public_function_url(view(fn)))) == 1


# --- permissions ------------------------------------------------------------------------


def permission(**fields: object) -> Permission:
    origin = Origin(TEMPLATE, "Perm", "permission", "/Resources/Perm")
    values: dict[str, object] = {
        "function": "OrdersFunction",
        "principal": "*",
        "action": "lambda:InvokeFunction",
    }
    values.update(fields)
    return Permission(origin, **values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fields", "reported"),
    [
        ({}, True),
        ({"source_arn": "*"}, True),
        ({"source_account": ""}, True),
        ({"function_url_auth_type": "NONE", "action": "lambda:InvokeFunctionUrl"}, True),
        ({"source_account": "123456789012"}, False),
        ({"source_arn": "arn:aws:execute-api:us-east-1:123456789012:a1b2c3/*"}, False),
        ({"function_url_auth_type": "AWS_IAM", "action": "lambda:InvokeFunctionUrl"}, False),
        ({"principal": "123456789012"}, False),
        ({"principal": "s3.amazonaws.com"}, False),
        ({"principal_org_id": "o-a1b2c3d4e5"}, False),
        ({"principal_org_id": "*"}, True),
        ({"principal_org_id": ""}, True),
    ],
)
def test_permission_open_to_everyone(fields: dict[str, object], reported: bool) -> None:
    app = dataclasses.replace(APP, permissions=(permission(**fields),))
    assert bool(list(api.permission_open_to_everyone(ApplicationView(app)))) is reported


def url_function(auth: AuthKind) -> Function:
    url = Trigger(TriggerKind.FUNCTION_URL, "function URL", "/u", "Url", Authorization(auth))
    return function("OrdersFunction", triggers=(url,))


@pytest.mark.parametrize(
    ("auth", "fields", "reported"),
    [
        # The permission only makes the URL that LS-API-001 reports work: one finding.
        (AuthKind.NONE, {}, False),
        # A URL with IAM auth, or no URL: the permission is the only evidence.
        (AuthKind.IAM, {}, True),
        (None, {}, True),
        # Not only the URL: every AWS account may invoke the function directly.
        (AuthKind.NONE, {"action": "lambda:InvokeFunction"}, True),
        (AuthKind.NONE, {"action": "lambda:*"}, True),
        # Another function's URL.
        (AuthKind.NONE, {"function": "OtherFunction"}, True),
        (AuthKind.NONE, {"function": None}, True),
    ],
)
def test_url_permission_is_left_to_the_url_rule(
    auth: AuthKind | None, fields: dict[str, object], reported: bool
) -> None:
    values: dict[str, object] = {
        "action": "lambda:InvokeFunctionUrl",
        "function_url_auth_type": "NONE",
    }
    values.update(fields)
    functions_ = (url_function(auth),) if auth is not None else (function(),)
    app = dataclasses.replace(APP, functions=functions_, permissions=(permission(**values),))
    assert bool(list(api.permission_open_to_everyone(ApplicationView(app)))) is reported


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"principal": "s3.amazonaws.com"}, [None]),
        ({"principal": "sns.amazonaws.com"}, [None]),
        ({"principal": "s3.amazonaws.com", "source_arn": "arn:aws:s3:::drop"}, ["lowered"]),
        ({"principal": "s3.amazonaws.com", "source_account": "123456789012"}, []),
        ({"principal": "events.amazonaws.com", "source_arn": "arn:aws:events:::rule/x"}, []),
        ({"principal": "*"}, []),
        ({"principal": "arn:aws:iam::123456789012:root"}, []),
        ({"principal": "alexa-appkit.amazon.com"}, []),
    ],
)
def test_confused_deputy_on_permissions(fields: dict[str, object], expected: list[object]) -> None:
    app = Application(APP.origin, permissions=(permission(**fields),))
    hits = list(api.service_principal_without_source(ApplicationView(app)))
    assert [h.lowered_because and "lowered" for h in hits] == expected


# --- locators ---------------------------------------------------------------------------


def test_application_locator_names_the_object_a_pointer_lies_in() -> None:
    fn = function()
    perm = permission()
    values = (
        TemplateValue("parameter-default", "DbPassword", "x", "/Parameters/DbPassword/Default"),
    )
    app = Application(APP.origin, functions=(fn,), permissions=(perm,), values=values)
    locate = ApplicationView(app).locate
    assert locate("/Resources/Perm").resource == "Perm"
    assert locate("/Resources/OrdersFunction/Properties/Role").resource == "OrdersFunction"
    parameter = locate("/Parameters/DbPassword/Default")
    assert (parameter.resource, parameter.resource_type) == ("DbPassword", "parameter")
    stage = locate("/Resources/ProdStage/Properties/Variables/key")
    assert (stage.resource, stage.pointer) == ("ProdStage", "/Resources/ProdStage")
    assert locate("/Outputs/Url").resource == "template.yaml"


def test_values_and_triggers_written_in_other_files_are_located_there() -> None:
    other = Origin(
        PurePosixPath("variables.tf"), "var.db_password", "variable", "/variable/db_password"
    )
    values = (
        TemplateValue(
            "parameter-default",
            "var.db_password",
            "x",
            "/variable/db_password/default",
            origin=other,
        ),
    )
    app = Application(APP.origin, values=values)
    assert ApplicationView(app).locate("/variable/db_password/default").path == PurePosixPath(
        "variables.tf"
    )

    api_file = Origin(
        PurePosixPath("api.tf"), "aws_apigatewayv2_route.orders", "route", "/resource/x"
    )
    trigger = Trigger(
        TriggerKind.API_HTTP,
        "POST /orders",
        "/resource/x",
        "x",
        Authorization(AuthKind.NONE),
        origin=api_file,
    )
    found = FunctionView(function(triggers=(trigger,)), app).locate("/resource/x")
    assert (found.path, found.resource) == (PurePosixPath("api.tf"), "OrdersFunction")
    assert FunctionView(function(), app).locate("/anything").path == TEMPLATE


# --- secrets never leave the template ---------------------------------------------------


SECRETS = {
    "DB_PASSWORD": "Tr0ub4dor-and-3",
    "BACKUP_KEY": "AKIAIOSFODNN7EXAMPLE",
    "BACKUP_SIGNING": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "DATABASE_URL": "postgres://app:s3cr3t-Passw0rd@db:5432/orders",
    "SEED": "q7Xr2Lp9Vb4Nz8Kd3Wm6Yt1Hs5Jf0GaE",
}


def test_messages_and_evidence_never_carry_the_secret() -> None:
    env = tuple(
        EnvVar(name, value, f"/Resources/OrdersFunction/Properties/Environment/Variables/{name}")
        for name, value in SECRETS.items()
    )
    hits = list(secrets.secret_in_environment(view(function(environment=env))))
    assert len(hits) == len(SECRETS)
    for hit in hits:
        for value in SECRETS.values():
            assert value[4:] not in hit.message
            assert value[4:] not in hit.evidence


def test_no_echo_default_flows_into_the_environment() -> None:
    values = (
        TemplateValue(
            "parameter-default",
            "AdminPassword",
            "Hunter2-admin",
            "/Parameters/AdminPassword/Default",
            no_echo=True,
        ),
    )
    app = Application(APP.origin, values=values)
    env = (
        EnvVar("ADMIN", "Hunter2-admin", "/p/ADMIN"),
        EnvVar("URL", "postgres://admin:Hunter2-admin@db/orders", "/p/URL"),
        EnvVar("FLAGGED", "anything", "/p/FLAGGED", no_echo_default=True),
        EnvVar("OTHER", "orders", "/p/OTHER"),
    )
    hits = list(secrets.secret_in_environment(FunctionView(function(environment=env), app)))
    assert [h.pointer for h in hits] == ["/p/ADMIN", "/p/URL", "/p/FLAGGED"]
    assert all("NoEcho" in h.message for h in hits)
    assert "`AdminPassword`" in hits[0].message


def test_no_echo_parameter_without_a_usable_default_is_quiet() -> None:
    values = (
        TemplateValue("parameter-default", "A", "", "/Parameters/A/Default", no_echo=True),
        TemplateValue("parameter-default", "B", "<set me>", "/Parameters/B/Default", no_echo=True),
        TemplateValue("parameter-default", "C", "/ssm/path", "/Parameters/C/Default", no_echo=True),
    )
    app = Application(APP.origin, values=values)
    assert list(secrets.secret_in_template_value(ApplicationView(app))) == []
