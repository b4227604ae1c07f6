"""Installed packages read from deployment zips in place, without trusting the archive."""

from __future__ import annotations

import json
import stat
import zipfile
from pathlib import Path, PurePosixPath

import pytest

from lambdashield.errors import LoaderError
from lambdashield.loaders.deployment_zip import ZipLimits, load_deployment_zip

SHOWN = PurePosixPath("build/orders.zip")


def metadata(name: str, version: str) -> str:
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\nDescription.\n"


def make_zip(path: Path, members: dict[str, str | bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def names(path: Path, limits: ZipLimits | None = None) -> list[tuple[str, str, str | None, str]]:
    result = load_deployment_zip(path, SHOWN, limits=limits)
    return [
        (d.ecosystem, d.name, d.version, d.pointer) for s in result.sets for d in s.dependencies
    ]


def test_python_and_npm_packages(tmp_path: Path) -> None:
    archive = make_zip(
        tmp_path / "fn.zip",
        {
            "app.py": "import requests\n",
            "requests-2.19.0.dist-info/METADATA": metadata("requests", "2.19.0"),
            "requests/__init__.py": "",
            "python/lib/python3.12/site-packages/PyYAML-5.3.dist-info/METADATA": metadata(
                "PyYAML", "5.3"
            ),
            "old_pkg-1.0-py3.9.egg-info/PKG-INFO": metadata("old-pkg", "1.0"),
            "node_modules/lodash/package.json": json.dumps({"name": "lodash", "version": "4.17.4"}),
            "node_modules/@scope/lib/package.json": json.dumps(
                {"name": "@scope/lib", "version": "1.0.0"}
            ),
            "node_modules/lodash/node_modules/minimist/package.json": json.dumps(
                {"name": "minimist", "version": "0.0.8"}
            ),
        },
    )
    result = load_deployment_zip(archive, SHOWN)
    assert result.errors == ()
    (found,) = result.sets
    assert found.kind == "deployment-zip"
    assert found.locked and found.application
    assert found.origin.path == SHOWN
    assert sorted((d.ecosystem, d.name, d.version, d.direct) for d in found.dependencies) == [
        ("PyPI", "PyYAML", "5.3", False),
        ("PyPI", "old-pkg", "1.0", False),
        ("PyPI", "requests", "2.19.0", False),
        ("npm", "@scope/lib", "1.0.0", True),
        ("npm", "lodash", "4.17.4", True),
        ("npm", "minimist", "0.0.8", False),
    ]
    pointers = {d.name: d.pointer for d in found.dependencies}
    assert pointers["requests"] == "/requests-2.19.0.dist-info"
    assert pointers["@scope/lib"] == "/node_modules~1@scope~1lib"


def test_a_zip_without_packages_gives_no_set(tmp_path: Path) -> None:
    assert load_deployment_zip(make_zip(tmp_path / "a.zip", {"app.py": ""}), SHOWN).sets == ()


def test_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "fake.zip"
    path.write_bytes(b"not a zip at all")
    with pytest.raises(LoaderError, match="not a zip archive"):
        load_deployment_zip(path, SHOWN)


def test_truncated_zip(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "t.zip", {"a-1.0.dist-info/METADATA": metadata("a", "1.0")})
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2])
    with pytest.raises(LoaderError, match=r"not a zip archive|corrupt"):
        load_deployment_zip(archive, SHOWN)


def test_climbing_and_absolute_names_are_refused_and_the_rest_read(tmp_path: Path) -> None:
    archive = make_zip(
        tmp_path / "evil.zip",
        {
            "../../etc/cron.d/x": "* * * * * root sh",
            "../evil-1.0.dist-info/METADATA": metadata("evil", "1.0"),
            "/abs-1.0.dist-info/METADATA": metadata("abs", "1.0"),
            "good-1.0.dist-info/METADATA": metadata("good", "1.0"),
        },
    )
    result = load_deployment_zip(archive, SHOWN)
    assert [d.name for s in result.sets for d in s.dependencies] == ["good"]
    messages = sorted(e.message for e in result.errors)
    assert all(e.path == SHOWN for e in result.errors)
    assert messages == [
        "member `../../etc/cron.d/x`: path with `..` refused",
        "member `../evil-1.0.dist-info/METADATA`: path with `..` refused",
        "member `/abs-1.0.dist-info/METADATA`: absolute path refused",
    ]


def test_zip_bomb_member_is_refused(tmp_path: Path) -> None:
    bomb = b"Name: bomb\nVersion: 1.0\n" + b"\0" * (8 * 1024 * 1024)
    archive = make_zip(
        tmp_path / "bomb.zip",
        {"bomb-1.0.dist-info/METADATA": bomb, "ok-1.0.dist-info/METADATA": metadata("ok", "1")},
    )
    result = load_deployment_zip(archive, SHOWN)
    assert [d.name for s in result.sets for d in s.dependencies] == ["ok"]
    (error,) = result.errors
    assert "bomb-1.0.dist-info/METADATA" in error.message
    assert "over the 1,048,576-byte limit" in error.message
    roomy = ZipLimits(max_member_bytes=64 * 1024 * 1024)
    (error,) = load_deployment_zip(archive, SHOWN, limits=roomy).errors
    assert "a zip bomb?" in error.message


def test_links_and_encrypted_members_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "odd.zip"
    with zipfile.ZipFile(path, "w") as archive:
        link = zipfile.ZipInfo("link-1.0.dist-info/METADATA")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
        archive.writestr("locked-1.0.dist-info/METADATA", metadata("locked", "1.0"))
    # zipfile writes its own flags; mark the member encrypted in the central directory.
    data = bytearray(path.read_bytes())
    name = b"locked-1.0.dist-info/METADATA"
    at = data.rfind(b"PK\x01\x02", 0, data.rfind(name))
    data[at + 8] |= 0x1
    path.write_bytes(bytes(data))
    result = load_deployment_zip(path, SHOWN)
    assert result.sets == ()
    assert sorted(e.message.split(": ", 1)[1] for e in result.errors) == [
        "encrypted member refused",
        "symbolic link refused",
    ]


def test_archive_and_member_count_limits(tmp_path: Path) -> None:
    archive = make_zip(
        tmp_path / "many.zip", {f"f{i}.py": "" for i in range(5)} | {"x.txt": "x" * 10}
    )
    with pytest.raises(LoaderError, match="more than 3 members"):
        load_deployment_zip(archive, SHOWN, limits=ZipLimits(max_members=3))
    with pytest.raises(LoaderError, match="over the 10-byte limit"):
        load_deployment_zip(archive, SHOWN, limits=ZipLimits(max_archive_bytes=10))


def test_bad_package_json_is_named(tmp_path: Path) -> None:
    archive = make_zip(
        tmp_path / "npm.zip",
        {
            "node_modules/broken/package.json": "{not json",
            "node_modules/anon/package.json": "{}",
            "node_modules/ok/package.json": json.dumps({"name": "ok", "version": "1.0.0"}),
        },
    )
    result = load_deployment_zip(archive, SHOWN)
    assert [d.name for s in result.sets for d in s.dependencies] == ["ok"]
    assert sorted(e.message for e in result.errors) == [
        "member `node_modules/anon/package.json`: package.json has no name or version",
        "member `node_modules/broken/package.json`: not a JSON package.json",
    ]


def test_many_refusals_are_counted(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "m.zip", {f"../x{i}": "" for i in range(25)})
    errors = load_deployment_zip(archive, SHOWN).errors
    assert len(errors) == 21
    assert errors[-1].message == "... and 5 more members refused"
