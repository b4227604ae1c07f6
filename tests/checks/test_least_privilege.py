"""Least privilege from code: SDK call extraction, IAM mapping, the generated policy, and the
LS-IAM-101/102 rules against their fixtures, through the engine."""

from __future__ import annotations

import gzip
import importlib.util
import json
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambdashield import engine
from lambdashield.checks import ALL_RULES, rule_by_id
from lambdashield.checks import subjects as checks_subjects
from lambdashield.checks._sdk import Extraction, extract, requirements, sdk_data
from lambdashield.checks._sdk.calls import NoteKind
from lambdashield.checks._sdk.models import key
from lambdashield.checks.least_privilege import RULES, CodePermissions, code_permissions
from lambdashield.config import Config
from lambdashield.iam_catalogue import Lookup, default_catalogue
from lambdashield.model import Application, Confidence, EnvVar, Function, Origin
from lambdashield.policygen import generate, generate_command, render

TESTS = Path(__file__).resolve().parents[1]
RULE_FIXTURES = TESTS / "fixtures" / "rules"
ORDERS = TESTS / "fixtures" / "least_privilege" / "orders"
ORDERS_ARN = "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/${OrdersTable}"
DATA = sdk_data()


# --- helpers ---------------------------------------------------------------------------


def function(
    tmp_path: Path,
    files: dict[str, str],
    handler: str = "app.handler",
    runtime: str = "python3.12",
    environment: dict[str, object] | None = None,
) -> Function:
    for name, text in files.items():
        path = tmp_path / "src" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    origin = Origin(
        PurePosixPath((tmp_path / "template.yaml").as_posix()), "Fn", "function", "/Resources/Fn"
    )
    env = tuple(EnvVar(k, v, f"/env/{k}") for k, v in (environment or {}).items())
    return Function(origin, runtime=runtime, handler=handler, code_uri="src/", environment=env)


def calls_of(extraction: Extraction) -> list[tuple[int, str, str, tuple[str, ...]]]:
    return [(c.line, c.service, c.method, c.operations) for c in extraction.calls]


def needs_of(tmp_path: Path, files: dict[str, str], **kwargs: Any) -> list[tuple[str, str]]:
    fn = function(tmp_path, files, **kwargs)
    extraction = extract(fn, tmp_path, DATA)
    assert extraction.errors == ()
    return [(n.action, n.resource) for n in requirements(extraction, fn.environment, DATA).needs]


# --- the orders service: exactly dynamodb:GetItem on the table ------------------------


def test_orders_service_policy_is_exactly_get_item_on_the_table() -> None:
    generated, errors = generate(str(ORDERS))
    assert errors == []
    (only,) = generated
    assert only.name == "GetOrderFunction"
    assert only.policy == {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": [ORDERS_ARN]}
        ],
    }
    assert only.confidence() == ("high", "")


@pytest.mark.parametrize("fmt", ["json", "yaml", "sam", "terraform"])
def test_generate_command_formats(fmt: str) -> None:
    result = CliRunner().invoke(generate_command, [str(ORDERS), "--format", fmt])
    assert result.exit_code == 0, result.output
    generated, _ = generate(str(ORDERS))
    assert result.output == render(generated, fmt)
    if fmt == "json":
        document = json.loads(result.output)
        assert document["schema_version"] == 1
        (entry,) = document["functions"]
        assert entry["policy"]["Statement"] == [
            {"Action": ["dynamodb:GetItem"], "Effect": "Allow", "Resource": [ORDERS_ARN]}
        ]
        assert entry["confidence"] == "high"
    elif fmt == "sam":
        assert f'- !Sub "{ORDERS_ARN}"' in result.output
        assert '- "dynamodb:GetItem"' in result.output
    elif fmt == "terraform":
        assert 'actions   = ["dynamodb:GetItem"]' in result.output
        assert "${data.aws_region.current.name}" in result.output
        assert "table/$${OrdersTable}" in result.output


def test_generate_command_unknown_function_is_a_usage_error() -> None:
    result = CliRunner().invoke(generate_command, [str(ORDERS), "--function", "Nope"])
    assert result.exit_code == 2


def test_generated_json_is_byte_stable() -> None:
    first = render(generate(str(ORDERS))[0], "json")
    assert first == render(generate(str(ORDERS))[0], "json")


# --- Python extraction -----------------------------------------------------------------


def test_clients_resources_and_module_level_values(tmp_path: Path) -> None:
    source = """
import os
import boto3
from boto3 import client as make_client

SESSION = boto3.session.Session()
S3 = SESSION.client("s3")
QUEUE = make_client("sqs")
TOPIC = os.environ.get("TOPIC_ARN")

def send(sqs, body):
    sqs.send_message(QueueUrl=os.environ["QUEUE_URL"], MessageBody=body)

def handler(event, context):
    S3.put_object(Bucket="orders-uploads", Key="a.json", Body=b"")
    send(QUEUE, "x")
    boto3.client("sns").publish(TopicArn=TOPIC, Message="m")
    pages = S3.get_paginator("list_objects_v2").paginate(Bucket="orders-uploads")
    boto3.client("dynamodb").get_waiter("table_exists").wait(TableName="Orders")
"""
    fn = function(tmp_path, {"app.py": source})
    extraction = extract(fn, tmp_path, DATA)
    assert calls_of(extraction) == [
        (12, "sqs", "send_message", ("SendMessage",)),
        (15, "s3", "put_object", ("PutObject",)),
        (17, "sns", "publish", ("Publish",)),
        (18, "s3", "get_paginator('list_objects_v2').paginate", ("ListObjectsV2",)),
        (19, "dynamodb", "get_waiter('table_exists').wait", ("DescribeTable",)),
    ]
    assert extraction.notes == ()


def test_environment_names_become_template_arns(tmp_path: Path) -> None:
    source = """
import os, boto3
sqs = boto3.client("sqs")
sns = boto3.client("sns")
def handler(event, context):
    sqs.send_message_batch(QueueUrl=os.environ["QUEUE_URL"], Entries=[])
    sns.publish_batch(TopicArn=os.environ["TOPIC_ARN"], PublishBatchRequestEntries=[])
    boto3.client("lambda").invoke(FunctionName=os.environ["WORKER"])
    boto3.client("secretsmanager").get_secret_value(SecretId="prod/orders/db")
    boto3.client("ssm").get_parameter(Name="/orders/api-key")
"""
    env = {
        "QUEUE_URL": "${OrdersQueue}",
        "TOPIC_ARN": "${OrdersTopic}",
        "WORKER": "${WorkerFunction}",
    }
    assert needs_of(tmp_path, {"app.py": source}, environment=env) == [
        (
            "lambda:InvokeFunction",
            "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${WorkerFunction}",
        ),
        (
            "secretsmanager:GetSecretValue",
            "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:prod/orders/db-??????",
        ),
        ("sns:Publish", "${OrdersTopic}"),
        (
            "sqs:SendMessage",
            "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:${OrdersQueue.QueueName}",
        ),
        (
            "ssm:GetParameter",
            "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/orders/api-key",
        ),
    ]


def test_resources_and_managed_transfers(tmp_path: Path) -> None:
    source = """
import boto3
s3 = boto3.resource("s3")
bucket = s3.Bucket("orders-uploads")
table = boto3.resource("dynamodb").Table("Orders")
def handler(event, context):
    bucket.upload_file("/tmp/a", "in/a.csv")
    bucket.Object("out/b.csv").download_file("/tmp/b")
    for item in bucket.objects.filter(Prefix="in/"):
        pass
    with table.batch_writer() as batch:
        batch.put_item(Item={})
    table.query(IndexName="byCustomer")
"""
    table = "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/Orders"
    assert needs_of(tmp_path, {"app.py": source}) == [
        ("dynamodb:BatchWriteItem", table),
        ("dynamodb:Query", table + "/index/byCustomer"),
        ("s3:AbortMultipartUpload", "arn:${AWS::Partition}:s3:::orders-uploads/in/a.csv"),
        ("s3:GetObject", "arn:${AWS::Partition}:s3:::orders-uploads/out/b.csv"),
        ("s3:ListBucket", "arn:${AWS::Partition}:s3:::orders-uploads"),
        ("s3:PutObject", "arn:${AWS::Partition}:s3:::orders-uploads/in/a.csv"),
    ]


def test_transactions_use_the_item_actions(tmp_path: Path) -> None:
    source = """
import boto3
ddb = boto3.client("dynamodb")
def handler(event, context):
    ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": "Orders", "Item": {}}},
        {"ConditionCheck": {"TableName": "Stock", "Key": {}}},
    ])
    ddb.batch_get_item(RequestItems={"Orders": {"Keys": []}, "Stock": {"Keys": []}})
"""
    arn = "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/"
    assert needs_of(tmp_path, {"app.py": source}) == [
        ("dynamodb:BatchGetItem", arn + "Orders"),
        ("dynamodb:BatchGetItem", arn + "Stock"),
        ("dynamodb:ConditionCheckItem", arn + "Stock"),
        ("dynamodb:PutItem", arn + "Orders"),
    ]


def test_unresolved_names_give_the_narrowest_pattern_and_a_note(tmp_path: Path) -> None:
    source = """
import boto3
def handler(event, context):
    boto3.resource("dynamodb").Table(event["table"]).get_item(Key={})
"""
    fn = function(tmp_path, {"app.py": source})
    extraction = extract(fn, tmp_path, DATA)
    found = requirements(extraction, fn.environment, DATA)
    assert [(n.action, n.resource) for n in found.needs] == [
        (
            "dynamodb:GetItem",
            "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/*",
        )
    ]
    assert [n.kind for n in found.notes] == [NoteKind.UNRESOLVED]
    assert extraction.confidence(found.notes) is Confidence.MEDIUM


def test_missing_environment_variable_is_unresolved(tmp_path: Path) -> None:
    source = 'import os, boto3\nboto3.client("s3").get_object(Bucket=os.environ["B"], Key="k")\n'
    fn = function(tmp_path, {"app.py": source})
    found = requirements(extract(fn, tmp_path, DATA), fn.environment, DATA)
    assert [n.resource for n in found.needs] == ["arn:${AWS::Partition}:s3:::*/k"]
    assert "environment variable B is not set in the template" in found.notes[0].message


def test_dynamic_client_and_method_lower_the_confidence(tmp_path: Path) -> None:
    source = """
import boto3
def handler(event, context):
    boto3.client(event["service"]).describe_things()
    getattr(boto3.client("s3"), event["op"])()
"""
    extraction = extract(function(tmp_path, {"app.py": source}), tmp_path, DATA)
    assert [(n.line, n.kind, n.service) for n in extraction.notes] == [
        (4, NoteKind.DYNAMIC_SERVICE, None),
        (5, NoteKind.DYNAMIC_METHOD, "s3"),
    ]
    assert extraction.confidence() is Confidence.LOW
    assert extraction.uncertain_services == frozenset({"s3"})


def test_client_handed_to_unread_code_is_noted(tmp_path: Path) -> None:
    source = 'import boto3, somelib\ns3 = boto3.client("s3")\nsomelib.sync(s3)\n'
    extraction = extract(function(tmp_path, {"app.py": source}), tmp_path, DATA)
    assert [(n.kind, n.service) for n in extraction.notes] == [(NoteKind.ESCAPES, "s3")]


def test_local_modules_are_followed(tmp_path: Path) -> None:
    files = {
        "app.py": "from orders import store\ndef handler(e, c):\n    store.save(e)\n",
        "orders/__init__.py": "",
        "orders/store.py": (
            "import boto3\nfrom .clients import TABLE\n"
            "def save(item):\n    TABLE.put_item(Item=item)\n"
        ),
        "orders/clients.py": 'import boto3\nTABLE = boto3.resource("dynamodb").Table("Orders")\n',
    }
    fn = function(tmp_path, files)
    extraction = extract(fn, tmp_path, DATA)
    assert [f.name for f in extraction.files] == ["app.py", "__init__.py", "clients.py", "store.py"]
    assert calls_of(extraction) == [(4, "dynamodb", "Table.put_item", ("PutItem",))]


def test_methods_on_self_are_followed(tmp_path: Path) -> None:
    source = """
import boto3
class Repo:
    def __init__(self):
        self.client = boto3.client("dynamodb")
    def get(self, key):
        return self.client.get_item(TableName="Orders", Key=key)
REPO = Repo()
def handler(e, c):
    return REPO.get({})
"""
    extraction = extract(function(tmp_path, {"app.py": source}), tmp_path, DATA)
    assert calls_of(extraction) == [(7, "dynamodb", "get_item", ("GetItem",))]


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("def handler(event, context):\n    print 'hello'\n", "Python syntax error", 2),
        ("def handler(:\n", "Python syntax error", 1),
    ],
    ids=["python2", "broken"],
)
def test_unparsable_python_is_an_error_entry(
    tmp_path: Path, text: str, message: str, line: int
) -> None:
    extraction = extract(function(tmp_path, {"app.py": text}), tmp_path, DATA)
    (error,) = extraction.errors
    assert error.message.startswith(message)
    assert error.line == line
    assert not extraction.complete


def test_binary_and_deeply_nested_files_are_error_entries(tmp_path: Path) -> None:
    path = tmp_path / "src" / "app.py"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\x00\x01binary")
    fn = function(tmp_path, {})
    (error,) = extract(fn, tmp_path, DATA).errors
    assert error.message == "not a text file (contains NUL bytes)"
    path.write_text("x = " + "(" * 300 + "1" + ")" * 300 + "\n", encoding="utf-8")
    (error,) = extract(fn, tmp_path, DATA).errors
    assert error.message.startswith(("Python syntax error", "cannot parse Python"))


def test_code_outside_the_scanned_root_is_not_read(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "app.py").write_text('import boto3\nboto3.client("s3").list_buckets()\n')
    project = tmp_path / "project"
    project.mkdir()
    (project / "src").symlink_to(outside, target_is_directory=True)
    fn = function(project, {})
    extraction = extract(fn, project, DATA)
    assert not extraction.found
    assert "outside the scanned folder" in extraction.missing


_SNIPPETS = st.sampled_from(
    [
        "import boto3\n",
        "c = boto3.client('s3')\n",
        "r = boto3.resource('dynamodb').Table(x)\n",
        "c.get_object(Bucket=b, Key=k)\n",
        "def f(a, b=c):\n    return a.put_item(**b)\n",
        "f(r, {'TableName': 't'})\n",
        "for o in boto3.resource('s3').Bucket('b').objects.all():\n    o.delete()\n",
        "x = getattr(c, name)\n",
        "class K:\n    def m(self):\n        self.c = c\n        return self.c.list_buckets()\n",
        "import os\nb = os.environ.get('B', 'd') + f'{x}/'\n",
        "while True:\n    c = c\n",
        "x = [1, 2\n",
        "lambda q: q.scan()\n",
    ]
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(_SNIPPETS, max_size=8), st.text(max_size=40))
def test_random_python_never_makes_extraction_raise(
    tmp_path: Path, snippets: list[str], noise: str
) -> None:
    fn = function(tmp_path, {"app.py": "".join(snippets) + noise})
    extraction = extract(fn, tmp_path, DATA)
    requirements(extraction, fn.environment, DATA)


# --- Node ------------------------------------------------------------------------------


def test_node_sdk_v2_and_v3(tmp_path: Path) -> None:
    source = """
import { S3Client, PutObjectCommand, paginateListObjectsV2 } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
const AWS = require("aws-sdk");
const { TABLE } = process.env;
const s3 = new S3Client({});
const docs = new AWS.DynamoDB.DocumentClient();
const sqs = new AWS.SQS();
const JOBS = "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs";
export const handler = async (event) => {
  await s3.send(new PutObjectCommand({ Bucket: "uploads", Key: `a/${event.id}` }));
  for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: "uploads" })) {}
  await new Upload({ client: s3, params: { Bucket: "uploads", Key: "big" } }).done();
  await docs.query({ TableName: TABLE }).promise();
  await sqs.sendMessage({ QueueUrl: JOBS, MessageBody: "go" }).promise();
};
"""
    fn = function(
        tmp_path, {"app.mjs": source}, runtime="nodejs20.x", environment={"TABLE": "Orders"}
    )
    extraction = extract(fn, tmp_path, DATA)
    assert extraction.errors == () and extraction.notes == ()
    needs = [(n.action, n.resource) for n in requirements(extraction, fn.environment, DATA).needs]
    assert needs == [
        (
            "dynamodb:Query",
            "arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/Orders",
        ),
        ("s3:AbortMultipartUpload", "arn:${AWS::Partition}:s3:::uploads/big"),
        ("s3:ListBucket", "arn:${AWS::Partition}:s3:::uploads"),
        ("s3:PutObject", "arn:${AWS::Partition}:s3:::uploads/a/*"),
        ("s3:PutObject", "arn:${AWS::Partition}:s3:::uploads/big"),
        ("sqs:SendMessage", "arn:${AWS::Partition}:sqs:eu-west-1:123456789012:jobs"),
    ]


COMPILED_SDK = {
    "tsc": """
"use strict";
var __importDefault = (this && this.__importDefault) || function (mod) {
    return (mod && mod.__esModule) ? mod : { "default": mod };
};
Object.defineProperty(exports, "__esModule", { value: true });
exports.handler = void 0;
const client_s3_1 = require("@aws-sdk/client-s3");
const aws_sdk_1 = __importDefault(require("aws-sdk"));
const pager_1 = require("pager");
const s3 = new client_s3_1.S3Client({});
const sqs = new aws_sdk_1.default.SQS();
const handler = async (event) => {
    await s3.send(new client_s3_1.PutObjectCommand({ Bucket: "uploads", Key: `a/${event.id}` }));
    const pages = (0, client_s3_1.paginateListObjectsV2)({ client: s3 }, { Bucket: "uploads" });
    for await (const page of pages) { }
    (0, pager_1.paginateListObjectsV2)({ client: s3 }, { Bucket: "other" });
    await sqs.sendMessage({ QueueUrl: process.env.JOBS, MessageBody: "go" }).promise();
};
exports.handler = handler;
""",
    "esbuild": """
"use strict";
var src_exports = {};
__export(src_exports, {
  handler: () => handler
});
module.exports = __toCommonJS(src_exports);
var import_client_s3 = require("@aws-sdk/client-s3");
var import_aws_sdk = __toESM(require("aws-sdk"));
var import_pager = __toESM(require("pager"));
var s3 = new import_client_s3.S3Client({});
var sqs = new import_aws_sdk.default.SQS();
var handler = async (event) => {
  await s3.send(new import_client_s3.PutObjectCommand({ Bucket: "uploads", Key: `a/${event.id}` }));
  const pages = (0, import_client_s3.paginateListObjectsV2)({ client: s3 }, { Bucket: "uploads" });
  for await (const page of pages) {
  }
  (0, import_pager.default.paginateListObjectsV2)({ client: s3 }, { Bucket: "other" });
  await sqs.sendMessage({ QueueUrl: process.env.JOBS, MessageBody: "go" }).promise();
};
""",
}
"""An S3 command, an S3 paginator called as compilers call an imported function, and a v2
client from a default import, as tsc and esbuild write them; and, the near miss, a
`paginate*` function of a package that is not the SDK, called the same way."""


@pytest.mark.parametrize("compiler", sorted(COMPILED_SDK))
def test_node_sdk_calls_in_compiled_output(tmp_path: Path, compiler: str) -> None:
    fn = function(
        tmp_path,
        {"app.js": COMPILED_SDK[compiler]},
        runtime="nodejs20.x",
        environment={"JOBS": "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs"},
    )
    extraction = extract(fn, tmp_path, DATA)
    assert extraction.errors == ()
    assert [(c.service, c.method) for c in extraction.calls] == [
        ("s3", "PutObjectCommand"),
        ("s3", "paginateListObjectsV2"),
        ("sqs", "sendMessage"),
    ]
    needs = [(n.action, n.resource) for n in requirements(extraction, fn.environment, DATA).needs]
    assert needs == [
        ("s3:ListBucket", "arn:${AWS::Partition}:s3:::uploads"),
        ("s3:PutObject", "arn:${AWS::Partition}:s3:::uploads/a/*"),
        ("sqs:SendMessage", "arn:${AWS::Partition}:sqs:eu-west-1:123456789012:jobs"),
    ]


def test_broken_javascript_is_an_error_entry(tmp_path: Path) -> None:
    fn = function(
        tmp_path, {"app.js": "exports.handler = async (event => {\n"}, runtime="nodejs20.x"
    )
    (error,) = extract(fn, tmp_path, DATA).errors
    assert error.message == "JavaScript/TypeScript syntax error"
    assert error.line == 1


# --- the override table ----------------------------------------------------------------


def _botocore_operations(service: str) -> set[str]:
    spec = importlib.util.find_spec("botocore")
    assert spec is not None and spec.submodule_search_locations
    folder = Path(next(iter(spec.submodule_search_locations))) / "data" / service
    version = sorted(p for p in folder.iterdir() if (p / "service-2.json.gz").exists())[-1]
    model = json.loads(gzip.decompress((version / "service-2.json.gz").read_bytes()))
    return set(model["operations"])


OVERRIDES = DATA.overrides


@pytest.mark.parametrize("entry", sorted(OVERRIDES["operations"]))
def test_override_operation_exists_and_maps_to_known_actions(entry: str) -> None:
    service, _, operation = entry.partition(":")
    assert operation in _botocore_operations(service)
    for target in OVERRIDES["operations"][entry]:
        name = target if isinstance(target, str) else target["action"]
        assert default_catalogue().lookup(name) is Lookup.KNOWN, name
    # An override only earns its place when the plain mapping would be wrong or missing.
    model = DATA.service(service)
    assert model is not None
    plain = f"{model.iam_prefix}:{operation}"
    assert OVERRIDES["operations"][entry] != [plain]


@pytest.mark.parametrize(
    ("service", "method"),
    sorted((s, m) for s, methods in OVERRIDES["client_methods"].items() for m in methods),
)
def test_managed_transfer_operations_exist(service: str, method: str) -> None:
    operations = OVERRIDES["client_methods"][service][method]["operations"]
    assert set(operations) <= _botocore_operations(service)


def test_managed_upload_needs_put_and_abort() -> None:
    fn_needs = set()
    for operation in OVERRIDES["client_methods"]["s3"]["upload_file"]["operations"]:
        for entry in DATA.actions("s3", operation) or ():
            fn_needs.add(entry if isinstance(entry, str) else entry["action"])
    assert fn_needs == {"s3:PutObject", "s3:AbortMultipartUpload"}


@pytest.mark.parametrize("service", sorted(OVERRIDES["iam_prefixes"]))
def test_iam_prefix_overrides_are_real_services(service: str) -> None:
    assert service in DATA.service_names().values()
    assert default_catalogue().has_service(OVERRIDES["iam_prefixes"][service])


@pytest.mark.parametrize(
    ("name", "service"),
    sorted(
        {**OVERRIDES["javascript"]["packages"], **OVERRIDES["javascript"]["v2_classes"]}.items()
    ),
)
def test_javascript_names_are_botocore_services(name: str, service: str) -> None:
    assert DATA.service(service) is not None, name


def test_document_client_operations_exist() -> None:
    assert set(OVERRIDES["javascript"]["document_client"].values()) <= _botocore_operations(
        "dynamodb"
    )


@pytest.mark.parametrize(
    ("service", "operation", "action"),
    [
        ("s3", "ListObjectsV2", "s3:ListBucket"),
        ("s3", "HeadObject", "s3:GetObject"),
        ("s3", "HeadBucket", "s3:ListBucket"),
        ("lambda", "Invoke", "lambda:InvokeFunction"),
        ("sqs", "SendMessageBatch", "sqs:SendMessage"),
        ("sns", "PublishBatch", "sns:Publish"),
        ("dynamodb", "GetItem", "dynamodb:GetItem"),
        ("kms", "Decrypt", "kms:Decrypt"),
        ("stepfunctions", "StartExecution", "states:StartExecution"),
        ("events", "PutEvents", "events:PutEvents"),
        ("cloudwatch", "PutMetricData", "cloudwatch:PutMetricData"),
        ("bedrock-runtime", "InvokeModel", "bedrock:InvokeModel"),
        ("iot-data", "Publish", "iot:Publish"),
    ],
)
def test_operation_to_action(service: str, operation: str, action: str) -> None:
    found = DATA.actions(service, operation)
    assert found is not None
    assert [a if isinstance(a, str) else a["action"] for a in found] == [action]


def test_method_names_match_operations_by_their_letters() -> None:
    model = DATA.service("s3")
    assert model is not None
    assert model.operation("list_objects_v2") == "ListObjectsV2"
    assert model.operation("listObjectsV2") == "ListObjectsV2"
    assert model.operation("ListObjectsV2Command") == "ListObjectsV2"
    assert key("get_bucket_cors") == key("GetBucketCors")


def test_boto3_method_names_agree_with_botocore() -> None:
    """Every snake-case method botocore generates finds its operation."""
    botocore = pytest.importorskip("botocore")
    from botocore import xform_name

    for service in ("s3", "dynamodb", "sqs", "lambda", "ec2", "rds", "iam"):
        model = DATA.service(service)
        assert model is not None
        for operation in model.operations:
            assert model.operation(xform_name(operation)) == operation, (service, operation)
    del botocore


# --- rules through the engine ------------------------------------------------------------


def _wired(original: Any) -> Any:
    """`checks.subjects` with the code views added, until the lead wires them."""

    def subjects(
        documents: Sequence[Any], applications: Sequence[Application] = (), **kwargs: Any
    ) -> Iterator[Any]:
        yield from original(documents, applications, **kwargs)
        for application in applications:
            root = Path(application.origin.path.as_posix()).parent
            for view in code_permissions(application, root):
                yield CodePermissions, view, view.locate

    return subjects


@pytest.fixture
def wiring(monkeypatch: pytest.MonkeyPatch) -> None:
    if all(rule_by_id(r.meta.id) is not None for r in RULES):
        return
    monkeypatch.setattr(engine, "ALL_RULES", (*ALL_RULES, *RULES))
    monkeypatch.setattr(engine, "subjects", _wired(checks_subjects))


@pytest.mark.usefixtures("wiring")
@pytest.mark.parametrize("rule_id", [r.meta.id for r in RULES])
def test_rule_fixtures(rule_id: str) -> None:
    folder = RULE_FIXTURES / rule_id
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    report = engine.scan([str(folder / "positive.yaml")], Config(select=(rule_id,)))
    assert report.errors == ()
    assert {(f.rule.id, f.location.pointer) for f in report.findings} == {
        (rule_id, p) for p in expected
    }
    assert all(f.resource_type == "function" for f in report.findings)
    report = engine.scan([str(folder / "negative.yaml")], Config(select=(rule_id,)))
    assert report.errors == ()
    assert [(f.location.pointer, f.message) for f in report.findings] == []


@pytest.mark.usefixtures("wiring")
def test_unused_permission_message_names_what_to_remove() -> None:
    report = engine.scan(
        [str(RULE_FIXTURES / "LS-IAM-101" / "positive.yaml")], Config(select=("LS-IAM-101",))
    )
    messages = {
        f.location.pointer.rsplit("/Properties/", 1)[-1]: f.message for f in report.findings
    }
    assert messages["Policies/0/Statement/0/Action/1"].startswith(
        "`sqs:SendMessage` in statement #0 is never used by the code in "
    )
    assert messages["Policies/0/Statement/0/Action/1"].endswith(
        "remove it (extraction confidence: high)"
    )
    assert (
        "narrow it to `arn:${AWS::Partition}:s3:::orders-receipts/receipts/*.pdf`"
        in (messages["Policies/0/Statement/0/Resource"])
    )
    assert (
        "calls only `dynamodb:GetItem`; narrow it to those"
        in messages["Policies/0/Statement/0/Action"]
    )


@pytest.mark.usefixtures("wiring")
def test_missing_permission_message_names_the_call() -> None:
    report = engine.scan(
        [str(RULE_FIXTURES / "LS-IAM-102" / "positive.yaml")], Config(select=("LS-IAM-102",))
    )
    upload = next(f for f in report.findings if f.resource == "UploadFunction")
    assert upload.message.startswith("`upload_file` at ")
    assert "upload.py:7 needs `s3:AbortMultipartUpload` on " in upload.message
    assert "`arn:${AWS::Partition}:s3:::orders-receipts/receipts/*.pdf`" in upload.message


def test_dynamic_service_lowers_unused_permission_severity(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(
        'import boto3\ndef handler(e, c):\n    boto3.client(e["svc"]).list_things()\n'
    )
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n"
        "    Type: AWS::Serverless::Function\n    Properties:\n      Runtime: python3.12\n"
        "      Handler: app.handler\n      CodeUri: src/\n      Policies:\n"
        "        - Statement:\n            - Effect: Allow\n              Action: s3:GetObject\n"
        "              Resource: arn:aws:s3:::b/*\n"
    )
    from lambdashield.loaders.cloudformation import load_template

    display = PurePosixPath((tmp_path / "template.yaml").as_posix())
    application, _ = load_template(tmp_path / "template.yaml", display, max_bytes=10**6)
    (view,) = code_permissions(application, tmp_path)
    (hit,) = RULES[0](view)
    assert hit.lowered_because is not None
    assert hit.lowered_because.startswith("the code analysis is uncertain: a client whose service")
    assert "extraction confidence: low" in hit.message
