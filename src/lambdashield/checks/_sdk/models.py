"""The AWS SDK's own service models, read as data: operations, waiters, resources.

botocore ships one `service-2.json` per service (operation names, the signing name that is
usually the IAM prefix), `waiters-2.json` (which operation a waiter polls) and boto3 ships
`resources-1.json` (what `Table(name).get_item` calls). They are located with
`importlib.util.find_spec` and read as JSON, one service at a time: neither package is ever
imported, and a scan that meets only DynamoDB reads only DynamoDB's files.

Method names are matched by their letters alone (`list_objects_v2`, `listObjectsV2` and
`ListObjectsV2Command` all give `ListObjectsV2`), which is how boto3 and both JavaScript
SDKs derive their names from the operation.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lambdashield.iam_catalogue import Catalogue, Lookup

__all__ = [
    "ResourceModel",
    "SdkData",
    "ServiceModel",
    "key",
    "sdk_data",
]

_OVERRIDES = Path(__file__).resolve().parents[1] / "data" / "sdk_action_overrides.json"


def key(name: str) -> str:
    """How names are compared: `list_objects_v2` == `ListObjectsV2` == `listObjectsV2`."""
    return name.replace("_", "").replace("-", "").lower()


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _read_json(folder: Path, stem: str) -> dict[str, Any] | None:
    plain, packed = folder / f"{stem}.json", folder / f"{stem}.json.gz"
    if plain.is_file():
        data: Any = json.loads(plain.read_text(encoding="utf-8"))
    elif packed.is_file():
        data = json.loads(gzip.decompress(packed.read_bytes()).decode("utf-8"))
    else:
        return None
    return data if isinstance(data, dict) else None


def _latest(folder: Path, stem: str) -> Path | None:
    """The newest API version folder of a service that has `stem`."""
    if not folder.is_dir():
        return None
    versions = sorted(
        (
            p
            for p in folder.iterdir()
            if (p / f"{stem}.json").is_file() or (p / f"{stem}.json.gz").is_file()
        ),
        key=lambda p: p.name,
    )
    return versions[-1] if versions else None


@dataclass(frozen=True, slots=True)
class ResourceModel:
    """One boto3 resource type (`Table`, `Bucket`) or a service resource (`name` empty)."""

    service: str
    name: str
    identifiers: tuple[str, ...]
    raw: dict[str, Any] = field(compare=False, hash=False, repr=False)

    def _find(self, section: str, attribute: str) -> tuple[str, dict[str, Any]] | None:
        entries = self.raw.get(section)
        if not isinstance(entries, dict):
            return None
        wanted = key(attribute)
        for name, value in entries.items():
            if key(name) == wanted and isinstance(value, dict):
                return name, value
        return None

    def action(self, method: str) -> dict[str, Any] | None:
        found = self._find("actions", method)
        return found[1] if found else None

    def sub_resource(self, attribute: str) -> dict[str, Any] | None:
        """`has` entries: `Table(name)` on the service, `Object(key)` on a bucket."""
        found = self._find("has", attribute)
        return found[1] if found else None

    def collection(self, attribute: str) -> tuple[str, dict[str, Any]] | None:
        """`hasMany` entries: `bucket.objects`, `dynamodb.tables`."""
        return self._find("hasMany", attribute)

    def batch_action(self, method: str) -> dict[str, Any] | None:
        found = self._find("batchActions", method)
        return found[1] if found else None

    def waiter(self, method: str) -> str | None:
        """`wait_until_exists` -> the service waiter it uses (`TableExists`)."""
        if not method.startswith("wait_until_"):
            return None
        found = self._find("waiters", method.removeprefix("wait_until_"))
        name = found[1].get("waiterName") if found else None
        return name if isinstance(name, str) else None

    def load_operation(self) -> str | None:
        load = self.raw.get("load")
        request = load.get("request") if isinstance(load, dict) else None
        operation = request.get("operation") if isinstance(request, dict) else None
        return operation if isinstance(operation, str) else None

    def identifier(self, attribute: str) -> str | None:
        wanted = key(attribute)
        return next((i for i in self.identifiers if key(i) == wanted), None)


class ServiceModel:
    """One botocore service: its operations, waiters, resources and IAM prefix."""

    def __init__(
        self,
        name: str,
        model: dict[str, Any],
        waiters: dict[str, Any] | None,
        resources: dict[str, Any] | None,
        iam_prefix: str | None,
    ) -> None:
        self.name = name
        operations = model.get("operations")
        self.operations: tuple[str, ...] = tuple(
            sorted(operations) if isinstance(operations, dict) else ()
        )
        self._by_key = {key(op): op for op in self.operations}
        raw_waiters = (waiters or {}).get("waiters")
        self._waiters = {
            key(n): str(w["operation"])
            for n, w in (raw_waiters.items() if isinstance(raw_waiters, dict) else ())
            if isinstance(w, dict) and isinstance(w.get("operation"), str)
        }
        self._resources = resources or {}
        metadata = model.get("metadata")
        self.metadata: dict[str, Any] = metadata if isinstance(metadata, dict) else {}
        self.iam_prefix = iam_prefix
        """The IAM service prefix its actions use, when the catalogue knows it."""

    def operation(self, method: str) -> str | None:
        """`get_item`, `getItem` or `GetItemCommand` -> `GetItem`."""
        found = self._by_key.get(key(method))
        if found is None and method.endswith("Command"):
            found = self._by_key.get(key(method.removesuffix("Command")))
        return found

    def waiter_operation(self, waiter: str) -> str | None:
        """`table_exists` / `TableExists` -> `DescribeTable`."""
        return self._waiters.get(key(waiter))

    def resource(self, name: str | None) -> ResourceModel | None:
        """The service resource (`name` None) or one of its resource types."""
        if name is None:
            raw = self._resources.get("service")
            return ResourceModel(self.name, "", (), raw) if isinstance(raw, dict) else None
        types = self._resources.get("resources")
        raw = types.get(name) if isinstance(types, dict) else None
        if not isinstance(raw, dict):
            return None
        identifiers = tuple(
            str(i["name"])
            for i in raw.get("identifiers", ())
            if isinstance(i, dict) and "name" in i
        )
        return ResourceModel(self.name, name, identifiers, raw)


class SdkData:
    """The SDK models of the installed botocore/boto3 and lambdashield's override table."""

    def __init__(
        self,
        catalogue: Catalogue,
        botocore_dir: Path | None = None,
        boto3_dir: Path | None = None,
        overrides: Path | None = None,
    ) -> None:
        self.catalogue = catalogue
        self._botocore = botocore_dir if botocore_dir is not None else _package_dir("botocore")
        self._boto3 = boto3_dir if boto3_dir is not None else _package_dir("boto3")
        raw: dict[str, Any] = json.loads((overrides or _OVERRIDES).read_text(encoding="utf-8"))
        self.overrides = raw
        self._services: dict[str, ServiceModel | None] = {}
        self._names: dict[str, str] | None = None

    @property
    def available(self) -> bool:
        """Whether botocore's models are installed; without them no call can be mapped."""
        return self._botocore is not None and self._botocore.is_dir()

    def service_names(self) -> dict[str, str]:
        """Every botocore service name by its `key` (`secretsmanager`, `cognitoidp`)."""
        if self._names is None:
            found: dict[str, str] = {}
            if self._botocore is not None and self._botocore.is_dir():
                for folder in sorted(self._botocore.iterdir()):
                    if folder.is_dir():
                        found.setdefault(key(folder.name), folder.name)
            self._names = found
        return self._names

    def canonical(self, name: str) -> str | None:
        """The botocore service name a client name stands for (`Secrets-Manager`)."""
        return self.service_names().get(key(name))

    def service(self, name: str) -> ServiceModel | None:
        if name in self._services:
            return self._services[name]
        found: ServiceModel | None = None
        if self._botocore is not None and "/" not in name and "\\" not in name and name.strip("."):
            folder = _latest(self._botocore / name, "service-2")
            model = _read_json(folder, "service-2") if folder else None
            if folder is not None and model is not None:
                waiters = _read_json(folder, "waiters-2")
                resources = None
                if self._boto3 is not None:
                    res_folder = _latest(self._boto3 / name, "resources-1")
                    resources = _read_json(res_folder, "resources-1") if res_folder else None
                found = ServiceModel(name, model, waiters, resources, None)
                found.iam_prefix = self._iam_prefix(found)
        self._services[name] = found
        return found

    def _iam_prefix(self, model: ServiceModel) -> str | None:
        fixed = self.overrides.get("iam_prefixes", {}).get(model.name)
        if isinstance(fixed, str):
            return fixed
        candidates: Iterable[object] = (
            model.metadata.get("signingName"),
            model.metadata.get("endpointPrefix"),
            model.name,
        )
        for candidate in candidates:
            if isinstance(candidate, str) and self.catalogue.has_service(candidate):
                return candidate.lower()
        return None

    def actions(self, service: str, operation: str) -> tuple[str | dict[str, Any], ...] | None:
        """The IAM actions an operation needs (entries of the override table may be dicts
        saying where their resource comes from); `None` when it cannot be mapped."""
        fixed = self.overrides["operations"].get(f"{service}:{operation}")
        if isinstance(fixed, list):
            return tuple(fixed)
        model = self.service(service)
        if model is None or model.iam_prefix is None:
            return None
        name = f"{model.iam_prefix}:{operation}"
        if self.catalogue.lookup(name) is not Lookup.KNOWN:
            return None
        return (name,)

    def canonical_action(self, name: str) -> str:
        """AWS's spelling of an action name (`s3:PutBucketCors` -> `s3:PutBucketCORS`)."""
        found = self.catalogue.action(name)
        return found.full_name if found is not None else name

    def client_method(self, service: str, method: str) -> dict[str, Any] | None:
        entry = self.overrides["client_methods"].get(service, {}).get(method)
        return entry if isinstance(entry, dict) else None

    def resource_method(self, service: str, resource: str, method: str) -> dict[str, Any] | None:
        entry = self.overrides["resource_methods"].get(f"{service}.{resource}")
        found = entry.get("methods", {}).get(method) if isinstance(entry, dict) else None
        return found if isinstance(found, dict) else None

    def resource_identifier_params(self, service: str, resource: str) -> dict[str, str]:
        entry = self.overrides["resource_methods"].get(f"{service}.{resource}")
        found = entry.get("identifiers") if isinstance(entry, dict) else None
        return dict(found) if isinstance(found, dict) else {}

    def resource_params(self, service: str) -> dict[str, dict[str, str]]:
        found = self.overrides["resource_params"].get(service)
        return dict(found) if isinstance(found, dict) else {}

    def libraries(self, language: str) -> dict[str, tuple[str, ...]]:
        """Libraries that call AWS themselves, with the services they call (`*`: any)."""
        found = self.overrides["aws_libraries"].get(language, {})
        return {name: tuple(services) for name, services in found.items()}

    def javascript(self) -> dict[str, Any]:
        found = self.overrides["javascript"]
        return found if isinstance(found, dict) else {}


@functools.cache
def _default(catalogue: Catalogue) -> SdkData:
    return SdkData(catalogue)


def sdk_data(catalogue: Catalogue | None = None) -> SdkData:
    """The SDK data of the installed packages, created once per catalogue."""
    from lambdashield.iam_catalogue import default_catalogue

    return _default(catalogue or default_catalogue())
