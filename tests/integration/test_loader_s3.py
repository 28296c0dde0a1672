"""S3 backups against a local moto server (an S3-compatible HTTP server from PyPI)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from ext_proc_server.loader.backup import COMPLETE_MARKER, list_s3_backups, write_backup
from tests.support.fake_wiremock import FakeWireMock, mapping
from tests.support.moto_server import running_moto

pytestmark = pytest.mark.integration

BUCKET = "mockado-backups"


@pytest.fixture(scope="module")
def s3_endpoint(logs_dir: Path) -> Iterator[str]:
    with running_moto(logs_dir / "moto.log") as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def s3(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch):
    for name, value in {
        "AWS_ENDPOINT_URL": s3_endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    return client


def test_s3_backups_use_the_root_dir_layout_and_keep_the_newest(s3):
    fake = FakeWireMock()
    fake.stubs = {m["id"]: m for m in (mapping(1), mapping(2))}

    async def backup() -> str:
        async with fake.client() as client:
            return await write_backup({"default": client}, backup_path=f"s3://{BUCKET}/wm", keep=2)

    first = asyncio.run(backup())
    assert first.startswith(f"s3://{BUCKET}/wm/")
    name = first.rsplit("/", 1)[1]
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="wm/")["Contents"])
    assert keys == sorted(
        [f"wm/{name}/{COMPLETE_MARKER}"]
        + [f"wm/{name}/mappings/{m['id']}.json" for m in fake.stubs.values()]
    )
    body = s3.get_object(Bucket=BUCKET, Key=f"wm/{name}/mappings/{mapping(1)['id']}.json")["Body"]
    assert body.read().decode().count(mapping(1)["id"]) == 1

    # Same-second names get a suffix; only the newest two complete backups stay.
    later = [asyncio.run(backup()).rsplit("/", 1)[1] for _ in range(2)]
    assert len({name, *later}) == 3
    assert list_s3_backups(s3, bucket=BUCKET, prefix="wm") == later
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix=f"wm/{name}/")["KeyCount"] == 0
