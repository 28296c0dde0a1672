"""Backups on disk, with an in-process fake WireMock. No network."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

import pytest

from ext_proc_server.core.errors import BackupError, ConfigError
from ext_proc_server.loader import read_backup, write_backup
from ext_proc_server.loader.backup import list_local_backups, mapping_file_name, write_local_backup
from tests.support.fake_wiremock import FakeWireMock, mapping


def test_a_backup_is_a_wiremock_root_dir_with_one_file_per_stub(tmp_path):
    stubs = [mapping(1), mapping(2)]
    path = write_local_backup({"default": stubs}, root=tmp_path, keep=3, name="20250101T000000Z")
    assert path == tmp_path / "20250101T000000Z"
    files = sorted((path / "mappings").iterdir())
    assert [f.name for f in files] == sorted(f"{m['id']}.json" for m in stubs)
    assert json.loads((path / "mappings" / f"{stubs[0]['id']}.json").read_text()) == stubs[0]
    assert (path / "__files").is_dir()
    # Nothing half-written is left beside it.
    assert [p.name for p in tmp_path.iterdir()] == ["20250101T000000Z"]


def test_several_shards_get_one_root_dir_each(tmp_path):
    path = write_local_backup(
        {"default": [mapping(1)], "pay": [mapping(2), mapping(3)]},
        root=tmp_path,
        keep=1,
        name="20250101T000000Z",
    )
    assert len(list((path / "default" / "mappings").iterdir())) == 1
    assert len(list((path / "pay" / "mappings").iterdir())) == 2
    with pytest.raises(ConfigError, match="sharded"):
        read_backup(path)
    assert read_backup(path / "pay") == [mapping(2), mapping(3)]


def test_only_the_newest_backups_are_kept_and_same_second_names_do_not_collide(tmp_path):
    for name in ("20250101T000001Z", "20250101T000002Z", "20250101T000003Z"):
        write_local_backup({"default": [mapping(1)]}, root=tmp_path, keep=2, name=name)
    again = write_local_backup({"default": [mapping(2)]}, root=tmp_path, keep=2, name=name)
    assert again.name == "20250101T000003Z-2"
    assert [p.name for p in list_local_backups(tmp_path)] == [
        "20250101T000003Z",
        "20250101T000003Z-2",
    ]


def test_stale_temp_dirs_of_a_dead_writer_are_removed(tmp_path):
    stale = tmp_path / ".tmp-20240101T000000Z-abc"
    (stale / "mappings").mkdir(parents=True)
    old = time.time() - 7200
    os.utime(stale, (old, old))
    fresh = tmp_path / ".tmp-20250101T000000Z-def"
    fresh.mkdir()
    write_local_backup({"default": []}, root=tmp_path, keep=5)
    assert not stale.exists()
    assert fresh.exists()  # maybe another writer's, still busy


def test_a_write_error_names_the_path_not_the_content(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(BackupError, match="cannot write"):
        write_local_backup({"default": [mapping(1)]}, root=blocker / "sub", keep=1)


def test_file_names_are_path_safe():
    assert mapping_file_name({"id": "../../etc/passwd"}).count("/") == 0
    assert mapping_file_name({"id": "../../etc/passwd"}) == mapping_file_name(
        {"id": "../../etc/passwd"}
    )
    assert mapping_file_name({"uuid": "abc-1"}) == "abc-1.json"


def test_write_backup_lists_every_shard(tmp_path):
    shards = {"default": FakeWireMock(), "pay": FakeWireMock()}
    shards["default"].stubs = {m["id"]: m for m in (mapping(1), mapping(2))}
    shards["pay"].stubs = {mapping(3)["id"]: mapping(3)}

    async def scenario() -> str:
        clients = {name: fake.client() for name, fake in shards.items()}
        return await write_backup(clients, backup_path=str(tmp_path / "b"), keep=2)

    where = Path(asyncio.run(scenario()))
    assert where.parent == tmp_path / "b"
    assert len(read_backup(where / "default")) == 2
    assert read_backup(where / "pay") == [mapping(3)]
