"""Build the AWS managed policies lambdashield knows from a folder of policy documents.

    python scripts/refresh_managed_policies.py ../shared/corpora/aws-managed-policies

The folder holds one `<PolicyName>.json` per AWS managed policy: the default version's
document, as `aws iam get-policy-version` returns it. Only the policies listed in
`CURATED` below are kept, each with its IAM path, and written to
`src/lambdashield/loaders/data/aws_managed_policies.json` under a `source` header. The
snapshot date and origin are read from the folder's README.md (the shared corpus has one),
or given with `--snapshot` and `--origin`.

When the installed `aws-sam-translator` ships its map of managed policy ARNs, every path
below is checked against it: a policy AWS has moved makes the script fail.

Run it after refreshing the snapshot; `--check` exits 1 when the data file is out of date.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "src" / "lambdashield" / "loaders" / "data" / "aws_managed_policies.json"

SERVICE_ROLE = "/service-role/"

# Policy name -> IAM path. Most AWS managed policies live at `/`
# (`arn:aws:iam::aws:policy/<Name>`); the Lambda execution roles and a few others at
# `/service-role/`.
CURATED: dict[str, str] = {
    # Administrator-level.
    "AdministratorAccess": "/",
    "PowerUserAccess": "/",
    "ReadOnlyAccess": "/",
    "IAMFullAccess": "/",
    # Lambda itself, and the execution-role family.
    "AWSLambda_FullAccess": "/",
    "AWSLambda_ReadOnlyAccess": "/",
    "AWSLambdaExecute": "/",
    "AWSLambdaInvocation-DynamoDB": "/",
    "AWSLambdaRole": SERVICE_ROLE,
    "AWSLambdaBasicExecutionRole": SERVICE_ROLE,
    "AWSLambdaVPCAccessExecutionRole": SERVICE_ROLE,
    "AWSLambdaSQSQueueExecutionRole": SERVICE_ROLE,
    "AWSLambdaKinesisExecutionRole": SERVICE_ROLE,
    "AWSLambdaDynamoDBExecutionRole": SERVICE_ROLE,
    "AWSLambdaMSKExecutionRole": SERVICE_ROLE,
    "AWSLambdaENIManagementAccess": SERVICE_ROLE,
    "AmazonS3ObjectLambdaExecutionRolePolicy": SERVICE_ROLE,
    "CloudWatchLambdaInsightsExecutionRolePolicy": "/",
    "AWSXRayDaemonWriteAccess": "/",
    "AWSXrayWriteOnlyAccess": "/",
    "AWSXrayFullAccess": "/",
    # Data stores.
    "AmazonDynamoDBFullAccess": "/",
    "AmazonDynamoDBReadOnlyAccess": "/",
    "AmazonS3FullAccess": "/",
    "AmazonS3ReadOnlyAccess": "/",
    "AmazonRDSFullAccess": "/",
    "AmazonRDSReadOnlyAccess": "/",
    "AmazonRDSDataFullAccess": "/",
    "AmazonRedshiftDataFullAccess": "/",
    "AmazonElastiCacheFullAccess": "/",
    "AmazonOpenSearchServiceFullAccess": "/",
    "AmazonOpenSearchServiceReadOnlyAccess": "/",
    "AmazonTimestreamFullAccess": "/",
    "AmazonElasticFileSystemClientReadWriteAccess": "/",
    "AmazonAthenaFullAccess": "/",
    # Messaging and events.
    "AmazonSQSFullAccess": "/",
    "AmazonSQSReadOnlyAccess": "/",
    "AmazonSNSFullAccess": "/",
    "AmazonSNSReadOnlyAccess": "/",
    "AmazonKinesisFullAccess": "/",
    "AmazonKinesisReadOnlyAccess": "/",
    "AmazonKinesisFirehoseFullAccess": "/",
    "AmazonMSKFullAccess": "/",
    "AmazonMQFullAccess": "/",
    "AmazonEventBridgeFullAccess": "/",
    "AmazonEventBridgeReadOnlyAccess": "/",
    "AmazonEventBridgeSchedulerFullAccess": "/",
    "AWSStepFunctionsFullAccess": "/",
    "AWSStepFunctionsReadOnlyAccess": "/",
    "AmazonSESFullAccess": "/",
    "AmazonSESReadOnlyAccess": "/",
    "AWSIoTDataAccess": "/",
    # APIs and identity.
    "AmazonAPIGatewayAdministrator": "/",
    "AmazonAPIGatewayInvokeFullAccess": "/",
    "AWSAppSyncAdministrator": "/",
    "AWSAppSyncInvokeFullAccess": "/",
    "AmazonCognitoPowerUser": "/",
    "AmazonCognitoReadOnly": "/",
    # Secrets, keys, configuration.
    "SecretsManagerReadWrite": "/",
    "AWSKeyManagementServicePowerUser": "/",
    "AmazonSSMFullAccess": "/",
    "AmazonSSMReadOnlyAccess": "/",
    # Monitoring and deployment.
    "CloudWatchFullAccess": "/",
    "CloudWatchReadOnlyAccess": "/",
    "CloudWatchLogsFullAccess": "/",
    "CloudWatchLogsReadOnlyAccess": "/",
    "AWSCloudFormationFullAccess": "/",
    # Compute.
    "AmazonEC2FullAccess": "/",
    "AmazonEC2ReadOnlyAccess": "/",
    # Machine learning and document services.
    "AmazonBedrockFullAccess": "/",
    "AmazonBedrockReadOnly": "/",
    "AmazonTextractFullAccess": "/",
    "ComprehendFullAccess": "/",
    "AmazonRekognitionFullAccess": "/",
    "AmazonPollyFullAccess": "/",
    "TranslateFullAccess": "/",
    "AmazonTranscribeFullAccess": "/",
    "AmazonSageMakerFullAccess": "/",
}

_COMMIT = re.compile(r"Commit:\s*`?([0-9a-f]{7,40})`?(?:.*?(\d{4}-\d{2}-\d{2}))?")
_REPOSITORY = re.compile(r"Source repository:\s*(\S+)")


def describe(folder: Path, snapshot: str | None, origin: str | None) -> tuple[str, str]:
    """The snapshot date and where the documents were collected, from the arguments or
    the folder's README.md."""
    readme = folder / "README.md"
    text = readme.read_text(encoding="utf-8") if readme.is_file() else ""
    commit = _COMMIT.search(text)
    repository = _REPOSITORY.search(text)
    if snapshot is None and commit is not None:
        snapshot = commit[2]
    if origin is None and commit is not None and repository is not None:
        origin = f"{repository[1]} at commit {commit[1]}"
    if snapshot is None or origin is None:
        raise SystemExit(f"{folder}: no README.md naming the source; pass --snapshot and --origin")
    return snapshot, origin


def bundled_arns() -> dict[str, str] | None:
    """aws-sam-translator's map of managed policy names to ARNs (partition `aws`), if any."""
    spec = importlib.util.find_spec("samtranslator")
    folders = list(spec.submodule_search_locations or ()) if spec is not None else []
    for folder in folders:
        path = Path(folder) / "internal" / "data" / "aws_managed_policies.json"
        if path.is_file():
            found: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))["aws"]
            return found
    return None


def build(folder: Path, snapshot: str, origin: str) -> tuple[dict[str, Any], list[str]]:
    """The data file's content, and the curated names the folder lacks."""
    policies: dict[str, Any] = {}
    absent = []
    for name, path in sorted(CURATED.items()):
        source = folder / f"{name}.json"
        if not source.is_file():
            absent.append(name)
            continue
        document = json.loads(source.read_text(encoding="utf-8"))
        if not isinstance(document, dict) or "Statement" not in document:
            raise SystemExit(f"{source}: not a policy document")
        policies[name] = {"path": path, "document": document}
    data = {
        "source": (
            "Default versions of AWS managed IAM policies: documents authored and published "
            f"by AWS (iam:GetPolicyVersion), as collected by {origin} on {snapshot}. A curated "
            "subset: the policies commonly attached to Lambda function roles. Built by "
            "scripts/refresh_managed_policies.py; each policy's ARN is "
            "arn:<partition>:iam::aws:policy<path><name>."
        ),
        "snapshot": snapshot,
        "policies": policies,
    }
    return data, absent


def check_paths() -> list[str]:
    """Curated paths that disagree with aws-sam-translator's map, when it is installed."""
    arns = bundled_arns()
    if arns is None:
        print("aws-sam-translator not installed: ARN paths not cross-checked", file=sys.stderr)
        return []
    problems = []
    for name, path in sorted(CURATED.items()):
        expected = arns.get(name)
        ours = f"arn:aws:iam::aws:policy{path}{name}"
        if expected is not None and expected != ours:
            problems.append(f"{name}: {ours} here, {expected} in aws-sam-translator")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="folder of <PolicyName>.json documents")
    parser.add_argument("--snapshot", help="date of the snapshot, YYYY-MM-DD")
    parser.add_argument("--origin", help="where the documents were collected")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the output file is not up to date"
    )
    args = parser.parse_args(argv)

    problems = check_paths()
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 1
    snapshot, origin = describe(args.folder, args.snapshot, args.origin)
    data, absent = build(args.folder, snapshot, origin)
    for name in absent:
        print(f"{name}: not in {args.folder}; left out", file=sys.stderr)
    text = json.dumps(data, indent=1, ensure_ascii=False) + "\n"
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.is_file() else ""
        if current != text:
            print(f"{args.output} is out of date; run {Path(__file__).name}", file=sys.stderr)
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"{args.output}: {len(data['policies'])} policies, snapshot {snapshot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
