"""AWS managed policies against AWS's own documents, SAM policy templates against SAM's own
expansion, and the IAM rules over both."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from lambdashield.checks._iam_view import PolicyView, is_any_resource
from lambdashield.checks.iam import RULES
from lambdashield.loaders import aws_policies
from lambdashield.loaders.aws_policies import (
    PolicyTemplateError,
    is_aws_managed_arn,
    managed_policy,
    managed_policy_names,
    sam_policy_template,
    sam_policy_template_names,
)
from lambdashield.loaders.policies import policy_from_json
from lambdashield.model import Origin, PolicyDocument, Unresolved

DATA = (
    Path(__file__).resolve().parents[2]
    / "src"
    / "lambdashield"
    / "loaders"
    / "data"
    / "aws_managed_policies.json"
)
ORIGIN = Origin(PurePosixPath("template.yaml"), "OrdersFunction", "function")
ATTACHED = Origin(
    PurePosixPath("template.yaml"),
    "OrdersFunction",
    "function",
    "/Resources/OrdersFunction/Properties/Policies/0",
)

# What issue 3 asks for by name, at the least.
REQUIRED = (
    "AdministratorAccess",
    "PowerUserAccess",
    "AWSLambda_FullAccess",
    "AWSLambdaRole",
    "AWSLambdaBasicExecutionRole",
    "AWSLambdaVPCAccessExecutionRole",
    "AWSLambdaSQSQueueExecutionRole",
    "AWSLambdaKinesisExecutionRole",
    "AWSLambdaDynamoDBExecutionRole",
    "AWSLambdaMSKExecutionRole",
    "AmazonDynamoDBFullAccess",
    "AmazonS3FullAccess",
    "AmazonSQSFullAccess",
    "AmazonSNSFullAccess",
    "AmazonKinesisFullAccess",
    "AmazonEventBridgeFullAccess",
    "AWSStepFunctionsFullAccess",
    "SecretsManagerReadWrite",
    "CloudWatchLogsFullAccess",
)


def hits(document: PolicyDocument) -> set[tuple[str, str]]:
    view = PolicyView(document)
    return {(r.meta.id, hit.pointer) for r in RULES for hit in r(view)}


def samtranslator_file(*parts: str) -> Path:
    spec = importlib.util.find_spec("samtranslator")
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations)), *parts)


# --- AWS managed policies ----------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus(shared_dir: Path) -> Path:
    return shared_dir / "corpora" / "aws-managed-policies"


@pytest.fixture(scope="module")
def data() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DATA.read_text(encoding="utf-8"))
    return loaded


@pytest.mark.parametrize("name", managed_policy_names())
def test_managed_policy_is_the_real_document(name: str, corpus: Path, data: Any) -> None:
    real = json.loads((corpus / f"{name}.json").read_text(encoding="utf-8"))
    assert data["policies"][name]["document"] == real
    assert managed_policy(name, ORIGIN) == policy_from_json(real, ORIGIN)


def test_issue_3_policies_are_known() -> None:
    assert set(REQUIRED) <= set(managed_policy_names())
    assert managed_policy_names() == tuple(sorted(managed_policy_names()))


def test_data_file_says_where_it_comes_from(data: Any) -> None:
    assert "AWS" in data["source"] and data["snapshot"] in data["source"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", data["snapshot"])
    assert {e["path"] for e in data["policies"].values()} <= {"/", "/service-role/"}


def test_refresh_script_reproduces_the_data_file(corpus: Path) -> None:
    script = Path(__file__).resolve().parents[2] / "scripts" / "refresh_managed_policies.py"
    result = subprocess.run(
        [sys.executable, str(script), str(corpus), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_paths_agree_with_aws_sam_translators_arn_map() -> None:
    """SAM's bundled map of managed policy ARNs, per partition: every ARN it lists for a
    policy known here resolves, so both the paths and the partitions are right."""
    arns = json.loads(
        samtranslator_file("internal", "data", "aws_managed_policies.json").read_text(
            encoding="utf-8"
        )
    )
    assert {"aws", "aws-cn", "aws-us-gov"} <= arns.keys()
    checked = 0
    for partition, known in arns.items():
        for name in managed_policy_names():
            if name in known:
                assert managed_policy(known[name], ORIGIN) is not None, (partition, known[name])
                checked += 1
    assert checked > 3 * len(REQUIRED)
    assert set(managed_policy_names()) <= arns["aws"].keys()


@pytest.mark.parametrize(
    "text",
    [
        "AWSLambdaBasicExecutionRole",
        " AWSLambdaBasicExecutionRole ",
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        "arn:aws-cn:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        "arn:aws-us-gov:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/"
        "AWSLambdaBasicExecutionRole",
    ],
)
def test_managed_policy_by_name_and_arn(text: str) -> None:
    document = managed_policy(text, ORIGIN)
    assert document is not None
    assert [a.value for a in document.statements[0].actions] == [
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    ]
    assert is_aws_managed_arn(text) == text.strip().startswith("arn:")


@pytest.mark.parametrize(
    ("text", "managed_arn"),
    [
        ("AmazonNotAPolicy", False),
        ("", False),
        ("service-role/AWSLambdaBasicExecutionRole", False),
        ("arn:aws:iam::aws:policy/AmazonNotAPolicy", True),
        # The real policy lives under /service-role/: this ARN names no policy.
        ("arn:aws:iam::aws:policy/AWSLambdaBasicExecutionRole", True),
        ("arn:aws:iam::123456789012:policy/AdministratorAccess", False),
        ("arn:aws:iam::aws:role/AdministratorAccess", False),
        ("arn:aws:s3:::AdministratorAccess", False),
    ],
)
def test_unknown_managed_policy_is_none(text: str, managed_arn: bool) -> None:
    assert managed_policy(text, ORIGIN) is None
    assert is_aws_managed_arn(text) is managed_arn


def test_managed_policy_keeps_callers_origin_and_pointer(data: Any) -> None:
    alone = managed_policy("AmazonDynamoDBFullAccess", ORIGIN)
    assert alone is not None
    assert alone.origin is ORIGIN
    assert alone.statements[0].actions[0].pointer == "/Statement/0/Action/0"

    attached = managed_policy("AmazonDynamoDBFullAccess", ATTACHED)
    assert attached is not None
    assert attached.origin is ATTACHED
    assert attached.statements[0].actions[0].pointer == f"{ATTACHED.pointer}/Statement/0/Action/0"
    assert (
        attached.statements
        == policy_from_json(
            data["policies"]["AmazonDynamoDBFullAccess"]["document"], ATTACHED
        ).statements
    )


def test_managed_policies_through_the_iam_rules() -> None:
    admin = managed_policy("arn:aws:iam::aws:policy/AdministratorAccess", ORIGIN)
    assert admin is not None
    assert ("LS-IAM-001", "/Statement/0/Action") in hits(admin)

    dynamodb = managed_policy("AmazonDynamoDBFullAccess", ORIGIN)
    assert dynamodb is not None
    assert ("LS-IAM-002", "/Statement/0/Action/0") in hits(dynamodb)  # dynamodb:*

    basic = managed_policy("AWSLambdaBasicExecutionRole", ORIGIN)
    assert basic is not None
    assert not any(rule == "LS-IAM-001" for rule, _ in hits(basic))


def test_import_is_cheap_and_never_imports_the_translator() -> None:
    code = (
        "import sys\n"
        "import lambdashield.loaders.aws_policies as m\n"
        "assert m._managed_policies.cache_info().currsize == 0\n"
        "from pathlib import PurePosixPath\n"
        "from lambdashield.model import Origin\n"
        "o = Origin(PurePosixPath('t.yaml'), 'Fn', 'function')\n"
        "m.sam_policy_template('DynamoDBCrudPolicy', {'TableName': 'Orders'}, o)\n"
        "assert m._managed_policies.cache_info().currsize == 0\n"
        "assert 'samtranslator' not in sys.modules\n"
        "assert m.managed_policy('AdministratorAccess', o) is not None\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- SAM policy templates ----------------------------------------------------------------

DYNAMODB_CRUD_ORDERS = {
    "Statement": [
        {
            "Action": [
                "dynamodb:GetItem",
                "dynamodb:DeleteItem",
                "dynamodb:PutItem",
                "dynamodb:Scan",
                "dynamodb:Query",
                "dynamodb:UpdateItem",
                "dynamodb:BatchWriteItem",
                "dynamodb:BatchGetItem",
                "dynamodb:DescribeTable",
                "dynamodb:ConditionCheckItem",
            ],
            "Effect": "Allow",
            "Resource": [
                "arn:${Partition}:dynamodb:${Region}:${AccountId}:table/Orders",
                "arn:${Partition}:dynamodb:${Region}:${AccountId}:table/Orders/index/*",
            ],
        }
    ]
}


def resources(document: PolicyDocument) -> list[list[str]]:
    return [[r.value for r in s.resources] for s in document.statements]


def test_dynamodb_crud_policy_is_awss_statement() -> None:
    document = sam_policy_template("DynamoDBCrudPolicy", {"TableName": "Orders"}, ORIGIN)
    assert document == policy_from_json(DYNAMODB_CRUD_ORDERS, ORIGIN)
    assert document.version is None  # SAM writes no Version in the role's inline policy
    assert document.grammar_errors == ()


def test_dynamodb_crud_policy_is_clean_for_the_iam_rules() -> None:
    """The pseudo-parameter placeholders do not make the ARNs look malformed (LS-IAM-010)."""
    document = sam_policy_template("DynamoDBCrudPolicy", {"TableName": "Orders"}, ORIGIN)
    assert hits(document) == set()


def test_ref_to_a_logical_id_is_a_placeholder() -> None:
    document = sam_policy_template(
        "DynamoDBCrudPolicy", {"TableName": {"Ref": "OrdersTable"}}, ORIGIN
    )
    assert resources(document) == [
        [
            "arn:${Partition}:dynamodb:${Region}:${AccountId}:table/${OrdersTable}",
            "arn:${Partition}:dynamodb:${Region}:${AccountId}:table/${OrdersTable}/index/*",
        ]
    ]


def test_s3_crud_policy_on_every_bucket() -> None:
    document = sam_policy_template("S3CrudPolicy", {"BucketName": "*"}, ORIGIN)
    assert resources(document) == [["arn:${Partition}:s3:::*", "arn:${Partition}:s3:::*/*"]]
    assert is_any_resource(document.statements[0].resources[0].value)
    found = {rule for rule, _ in hits(document)}
    assert {"LS-IAM-003", "LS-IAM-005", "LS-IAM-007"} <= found

    one_bucket = sam_policy_template("S3CrudPolicy", {"BucketName": "orders"}, ORIGIN)
    assert not is_any_resource(one_bucket.statements[0].resources[0].value)
    assert not {"LS-IAM-003", "LS-IAM-005", "LS-IAM-007"} & {r for r, _ in hits(one_bucket)}


def test_whole_arn_parameter_given_as_a_ref() -> None:
    document = sam_policy_template(
        "AWSSecretsManagerGetSecretValuePolicy", {"SecretArn": {"Ref": "DbSecret"}}, ORIGIN
    )
    assert resources(document) == [["${DbSecret}"]]
    assert hits(document) == set()


def test_sam_template_keeps_callers_origin_and_pointer() -> None:
    alone = sam_policy_template("SQSPollerPolicy", {"QueueName": "jobs"}, ORIGIN)
    assert alone.statements[0].resources[0].pointer == "/Statement/0/Resource"

    attached = sam_policy_template("SQSPollerPolicy", {"QueueName": "jobs"}, ATTACHED)
    assert attached.origin is ATTACHED
    assert attached.statements[0].resources[0].pointer == f"{ATTACHED.pointer}/Statement/0/Resource"


@pytest.mark.parametrize(
    ("value", "rendered"),
    [
        ("Orders", "Orders"),
        ("*", "*"),
        ("orders-${AWS::Region}", "orders-${Region}"),
        (42, "42"),
        (True, "true"),
        ({"Ref": "OrdersTable"}, "${OrdersTable}"),
        ({"Ref": "AWS::StackName"}, "${StackName}"),
        ({"Fn::GetAtt": ["OrdersTable", "Arn"]}, "${OrdersTable.Arn}"),
        ({"Fn::GetAtt": "OrdersTable.Arn"}, "${OrdersTable.Arn}"),
        ({"Fn::Sub": "${AWS::StackName}-orders"}, "${StackName}-orders"),
        ({"Fn::Sub": "${Stage}-orders"}, "${Stage}-orders"),
        ({"Fn::Sub": ["${p}-orders", {"p": "prod"}]}, "prod-orders"),
        ({"Fn::Sub": ["${p}-orders", {"p": {"Ref": "Prefix"}}]}, "${Prefix}-orders"),
        ({"Fn::Sub": "${!Literal}-orders"}, "${Literal}-orders"),
        ({"Fn::Join": ["-", ["orders", {"Ref": "AWS::Region"}]]}, "orders-${Region}"),
        ({"Fn::Select": [1, ["a", "orders", "c"]]}, "orders"),
        ({"Fn::Select": ["0", ["orders"]]}, "orders"),
        ({"Fn::ImportValue": "shared-orders"}, "${ImportValue(shared-orders)}"),
        ({"Fn::FindInMap": ["Tables", "prod", "Name"]}, "${FindInMap(Tables,prod,Name)}"),
        ({"Fn::If": ["IsProd", "orders", {"Ref": "AWS::NoValue"}]}, "${If}"),
        ({"Fn::Select": [5, ["orders"]]}, "${Select}"),
        (Unresolved("${ssm:/orders/table}", "SSM parameter"), "${ssm:/orders/table}"),
        (Unresolved("!ImportValue shared-orders"), "${!ImportValue shared-orders}"),
        (Unresolved("${self:custom.${sls:stage}}"), "${self:custom.$(sls:stage)}"),
    ],
)
def test_parameter_values_render_as_text_or_placeholders(value: object, rendered: str) -> None:
    document = sam_policy_template("SQSSendMessagePolicy", {"QueueName": value}, ORIGIN)
    assert resources(document) == [
        [f"arn:${{Partition}}:sqs:${{Region}}:${{AccountId}}:{rendered}"]
    ]


def test_extra_parameters_are_ignored_as_sam_ignores_them() -> None:
    document = sam_policy_template(
        "DynamoDBCrudPolicy", {"TableName": "Orders", "Unused": "x"}, ORIGIN
    )
    assert document == policy_from_json(DYNAMODB_CRUD_ORDERS, ORIGIN)


def test_templates_without_parameters() -> None:
    document = sam_policy_template("VPCAccessPolicy", {}, ORIGIN)
    assert resources(document) == [["*"]]


@pytest.mark.parametrize(
    ("name", "parameters", "parameter", "message"),
    [
        (
            "DynamoDBCrudPolcy",
            {"TableName": "Orders"},
            None,
            "unknown SAM policy template 'DynamoDBCrudPolcy'; did you mean 'DynamoDBCrudPolicy'?",
        ),
        ("NoSuchThing", {}, None, "unknown SAM policy template 'NoSuchThing'"),
        (
            "DynamoDBCrudPolicy",
            {},
            None,
            "SAM policy template 'DynamoDBCrudPolicy' is missing the parameter 'TableName'",
        ),
        (
            "EFSWriteAccessPolicy",
            {"FileSystem": "fs-1"},
            None,
            "SAM policy template 'EFSWriteAccessPolicy' is missing the parameter 'AccessPoint'",
        ),
        (
            "DynamoDBCrudPolicy",
            None,
            None,
            "SAM policy template 'DynamoDBCrudPolicy' takes a mapping of parameter values, "
            "not an empty value",
        ),
        (
            "DynamoDBCrudPolicy",
            "Orders",
            None,
            "takes a mapping of parameter values, not the str 'Orders'",
        ),
        (
            "DynamoDBCrudPolicy",
            {"TableName": None},
            "TableName",
            "parameter 'TableName' of SAM policy template 'DynamoDBCrudPolicy' must be a "
            "string or an intrinsic function such as !Ref, not an empty value",
        ),
        ("DynamoDBCrudPolicy", {"TableName": ["a", "b"]}, "TableName", "not a list"),
        ("DynamoDBCrudPolicy", {"TableName": {"Name": "x"}}, "TableName", "not a mapping"),
        (
            "DynamoDBCrudPolicy",
            {"TableName": {"Ref": "A", "Fn::Sub": "b"}},
            "TableName",
            "not a mapping",
        ),
    ],
)
def test_template_errors(name: str, parameters: Any, parameter: str | None, message: str) -> None:
    with pytest.raises(PolicyTemplateError) as caught:
        sam_policy_template(name, parameters, ORIGIN)
    assert message in str(caught.value)
    assert caught.value.template == name
    assert caught.value.parameter == parameter
    assert isinstance(caught.value, ValueError)


def test_template_names_are_sams() -> None:
    names = sam_policy_template_names()
    assert {"DynamoDBCrudPolicy", "S3CrudPolicy", "SQSPollerPolicy"} <= set(names)
    assert names == tuple(sorted(names))
    shipped = json.loads(
        samtranslator_file("policy_templates_data", "policy_templates.json").read_text(
            encoding="utf-8"
        )
    )
    assert set(names) == set(shipped["Templates"])


def dummy_parameters(name: str, value: object) -> dict[str, object]:
    template = json.loads(
        samtranslator_file("policy_templates_data", "policy_templates.json").read_text(
            encoding="utf-8"
        )
    )["Templates"][name]
    return dict.fromkeys(template["Parameters"], value)


_PLACEHOLDER = re.compile(r"\$\{[^{}]*\}")


def well_formed(text: str) -> bool:
    """Every `${` opens one placeholder that closes, with no brace inside."""
    rest = _PLACEHOLDER.sub("", text)
    return "{" not in rest and "}" not in rest


@pytest.mark.parametrize("name", sam_policy_template_names())
def test_every_template_expands_as_sam_expands_it(name: str) -> None:
    """Each template, with plain, intrinsic and unresolved values: no error, valid IAM
    grammar, no `AWS::` left, well-formed placeholders, and the same substitution as SAM's
    own `Template.to_statement`."""
    from samtranslator.policy_template_processor.template import Template

    shipped = json.loads(
        samtranslator_file("policy_templates_data", "policy_templates.json").read_text(
            encoding="utf-8"
        )
    )["Templates"][name]
    for value in ("example-value", "*", {"Ref": "SomeResource"}, Unresolved("${ssm:/x}")):
        parameters = dummy_parameters(name, value)
        document = sam_policy_template(name, parameters, ORIGIN)
        assert document.grammar_errors == ()
        assert document.statements
        for statement in document.statements:
            texts = [r.value for r in statement.resources]
            texts += [v for _, _, values in statement.conditions for v in values]
            for text in texts:
                assert "AWS::" not in text
                assert well_formed(text), text

        sams = Template.from_dict(name, shipped).to_statement(parameters)
        ours = aws_policies._substitute(shipped["Definition"], parameters)
        assert ours == sams
        assert document == policy_from_json(aws_policies._render(sams), ORIGIN)
