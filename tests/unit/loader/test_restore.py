"""Reading a backup back and restoring it, with an in-process fake WireMock. No network."""

from __future__ import annotations

import asyncio
import json

import pytest

from ext_proc_server.core.errors import BackupError, ConfigError, WireMockError
from ext_proc_server.loader import read_backup, restore_mappings
from ext_proc_server.loader.backup import write_local_backup
from tests.support.fake_wiremock import FakeWireMock, mapping


def test_read_backup_accepts_the_dir_or_its_mappings_dir_and_multi_stub_files(tmp_path):
    (tmp_path / "mappings" / "sub").mkdir(parents=True)
    (tmp_path / "mappings" / "a.json").write_text(json.dumps(mapping(1)))
    (tmp_path / "mappings" / "sub" / "b.json").write_text(
        json.dumps({"mappings": [mapping(2), mapping(3)]})
    )
    assert read_backup(tmp_path) == read_backup(tmp_path / "mappings")
    assert len(read_backup(tmp_path)) == 3
    (tmp_path / "mappings" / "c.json").write_text("[1]")
    with pytest.raises(BackupError, match=r"c\.json"):
        read_backup(tmp_path)
    with pytest.raises(ConfigError, match="no mappings"):
        read_backup(tmp_path / "mappings" / "sub")


def test_restore_imports_in_batches_and_skips_only_refused_stubs():
    fake = FakeWireMock()
    stubs = [mapping(n) for n in range(7)] + [mapping(7, bad=True)] + [mapping(8)]

    async def scenario() -> tuple[int, int]:
        async with fake.client() as client:
            return await restore_mappings(stubs, client=client, batch_size=4)

    imported, refused = asyncio.run(scenario())
    assert (imported, refused) == (8, 1)
    assert sorted(fake.stubs) == sorted(mapping(n)["id"] for n in range(9) if n != 7)


def test_restore_gives_up_on_an_outage_after_its_attempts():
    fake = FakeWireMock()
    fake.down_for = 10

    async def scenario() -> None:
        async with fake.client() as client:
            await restore_mappings([mapping(1)], client=client, batch_size=4, retry_backoff_s=0)

    with pytest.raises(WireMockError, match="unreachable"):
        asyncio.run(scenario())
    assert fake.down_for == 7  # three attempts


def test_restore_reads_what_a_backup_wrote(tmp_path):
    path = write_local_backup({"default": [mapping(1), mapping(2)]}, root=tmp_path, keep=1)
    fake = FakeWireMock()

    async def scenario() -> tuple[int, int]:
        async with fake.client() as client:
            return await restore_mappings(read_backup(path), client=client, batch_size=10)

    assert asyncio.run(scenario()) == (2, 0)
    assert fake.stubs == {m["id"]: m for m in (mapping(1), mapping(2))}
