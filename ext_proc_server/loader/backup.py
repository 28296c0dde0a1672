"""Backups of WireMock's stubs in WireMock's own root-dir layout, written while the loader runs.

A backup is ``<backup_path>/<UTC timestamp>/mappings/<id>.json``, one stub per file, so
``java -jar wiremock-standalone.jar --root-dir <backup_path>/<timestamp>`` serves it as is.
With several shards each one gets ``<timestamp>/<shard>/mappings/`` (its own root dir).

Writes are atomic: everything goes to a hidden temp dir, every file and dir is fsync'd,
then the temp dir is renamed to ``<timestamp>``. Only the newest ``backup_keep`` backups
are kept. ``backup_path`` may be ``s3://bucket/prefix`` (needs boto3): the same layout is
uploaded, and a ``<timestamp>/COMPLETE`` object written last marks a finished backup.
``restore.py`` reads a backup back into WireMock.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ext_proc_server.core.errors import BackupError, ConfigError, MockadoError
from ext_proc_server.core.metrics import LOADER_BACKUPS
from ext_proc_server.loader.wiremock_client import WireMockClient

log = logging.getLogger(__name__)

BACKUP_NAME_RE = re.compile(r"^\d{8}T\d{6}Z(-\d+)?$")
COMPLETE_MARKER = "COMPLETE"
_TMP_PREFIX = ".tmp-"
_STALE_TMP_S = 3600.0
_SAFE_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
_FILE_NAMESPACE = uuid.UUID("0b5c2f0e-2d4b-4c55-8a57-6d6f636b6164")


def backup_name(now_s: float | None = None) -> str:
    """UTC timestamp that sorts by time: 20250131T235959Z."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() if now_s is None else now_s))


def mapping_file_name(mapping: Mapping[str, Any]) -> str:
    mapping_id = str(mapping.get("id") or mapping.get("uuid") or "")
    if not _SAFE_ID_RE.match(mapping_id):
        # WireMock ids are UUIDs; anything else gets a stable, path-safe name.
        mapping_id = str(
            uuid.uuid5(_FILE_NAMESPACE, mapping_id or json.dumps(mapping, sort_keys=True))
        )
    return f"{mapping_id}.json"


def stub_file(mapping: Mapping[str, Any]) -> tuple[str, bytes]:
    """-> (file name, content) of one stub in a backup."""
    return mapping_file_name(mapping), json.dumps(mapping, indent=2, ensure_ascii=False).encode()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_file(path: Path, data: bytes) -> None:
    with path.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _shard_dirs(base: Path, shards: Sequence[str]) -> dict[str, Path]:
    """One shard: the backup is the root dir. Several: one root dir per shard."""
    if len(shards) == 1:
        return {shards[0]: base}
    return {name: base / name for name in shards}


def write_local_backup(
    mappings_by_shard: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    root: Path,
    keep: int,
    name: str | None = None,
) -> Path:
    """Write one backup under ``root`` atomically, prune old ones. -> the backup dir."""
    name = name or backup_name()
    try:
        root.mkdir(parents=True, exist_ok=True)
        _remove_stale_temp_dirs(root)
        tmp = Path(tempfile.mkdtemp(prefix=f"{_TMP_PREFIX}{name}-", dir=root))
        try:
            for shard, base in _shard_dirs(tmp, list(mappings_by_shard)).items():
                mappings_dir = base / "mappings"
                mappings_dir.mkdir(parents=True)
                (base / "__files").mkdir()
                for mapping in mappings_by_shard[shard]:
                    file_name, body = stub_file(mapping)
                    _write_file(mappings_dir / file_name, body)
                _fsync_dir(mappings_dir)
                _fsync_dir(base)
            _fsync_dir(tmp)
            final = root / name
            suffix = 1
            while final.exists():  # two backups in one second
                suffix += 1
                final = root / f"{name}-{suffix}"
            tmp.rename(final)
            _fsync_dir(root)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        prune_local_backups(root, keep=keep)
    except OSError as exc:
        raise BackupError(
            f"backup: cannot write under {root} ({exc.strerror or type(exc).__name__})"
        ) from exc
    return final


def list_local_backups(root: Path) -> list[Path]:
    """Finished backups, oldest first."""
    if not root.is_dir():
        return []
    return sorted(
        (p for p in root.iterdir() if p.is_dir() and BACKUP_NAME_RE.match(p.name)),
        key=lambda p: _sort_key(p.name),
    )


def _sort_key(name: str) -> tuple[str, int]:
    stamp, _, suffix = name.partition("-")
    return stamp, int(suffix or 1)


def prune_local_backups(root: Path, *, keep: int) -> list[Path]:
    backups = list_local_backups(root)
    doomed = backups[: max(0, len(backups) - keep)]
    for path in doomed:
        shutil.rmtree(path, ignore_errors=True)
    return doomed


def _remove_stale_temp_dirs(root: Path) -> None:
    # Left by a loader that died mid-backup; a live one finishes well within the hour.
    cutoff = time.time() - _STALE_TMP_S
    for path in root.iterdir():
        if path.name.startswith(_TMP_PREFIX) and path.is_dir() and path.stat().st_mtime < cutoff:
            shutil.rmtree(path, ignore_errors=True)


# -- S3 ----------------------------------------------------------------------------------


def _split_s3(url: str) -> tuple[str, str]:
    rest = url.removeprefix("s3://")
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise ConfigError("loader.backup_path: s3:// URL without a bucket")
    return bucket, prefix.strip("/")


def _s3_root(prefix: str) -> str:
    """The key prefix every backup name is under."""
    return f"{prefix}/" if prefix else ""


def _s3_client() -> Any:
    try:
        import boto3
    except ImportError as exc:
        raise ConfigError(
            "loader.backup_path: s3:// needs boto3 (pip install 'mockado[s3]')"
        ) from exc
    # Endpoint, region and credentials come from the usual AWS_* variables and files
    # (AWS_ENDPOINT_URL points it at MinIO or another S3-compatible store).
    return boto3.client("s3")


def write_s3_backup(
    mappings_by_shard: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    url: str,
    keep: int,
    name: str | None = None,
    client: Any = None,
) -> str:
    """Upload one backup, then its COMPLETE marker; prune old complete backups."""
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, prefix = _split_s3(url)
    client = client or _s3_client()
    try:
        name = _unique_s3_name(client, bucket=bucket, prefix=prefix, name=name or backup_name())
        base = f"{_s3_root(prefix)}{name}"
        for shard, shard_base in _shard_dirs(Path(base), list(mappings_by_shard)).items():
            for mapping in mappings_by_shard[shard]:
                file_name, body = stub_file(mapping)
                key = f"{shard_base.as_posix()}/mappings/{file_name}"
                client.put_object(Bucket=bucket, Key=key, Body=body)
        client.put_object(Bucket=bucket, Key=f"{base}/{COMPLETE_MARKER}", Body=b"")
        _prune_s3(client, bucket=bucket, prefix=prefix, keep=keep)
    except (BotoCoreError, ClientError) as exc:
        raise BackupError(
            f"backup: S3 upload to bucket {bucket} failed ({type(exc).__name__})"
        ) from exc
    return f"s3://{bucket}/{base}"


def _s3_names(client: Any, *, bucket: str, prefix: str) -> list[str]:
    """Backup names under the prefix, complete or not."""
    root = _s3_root(prefix)
    names = []
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=root, Delimiter="/"):
        for common in page.get("CommonPrefixes", []):
            name = common["Prefix"][len(root) :].rstrip("/")
            if BACKUP_NAME_RE.match(name):
                names.append(name)
    return names


def _unique_s3_name(client: Any, *, bucket: str, prefix: str, name: str) -> str:
    taken = set(_s3_names(client, bucket=bucket, prefix=prefix))
    unique, suffix = name, 1
    while unique in taken:  # two backups in one second
        suffix += 1
        unique = f"{name}-{suffix}"
    return unique


def list_s3_backups(client: Any, *, bucket: str, prefix: str) -> list[str]:
    """Names of complete backups under the prefix, oldest first."""
    root = _s3_root(prefix)
    complete = []
    for name in _s3_names(client, bucket=bucket, prefix=prefix):
        listed = client.list_objects_v2(Bucket=bucket, Prefix=f"{root}{name}/{COMPLETE_MARKER}")
        if listed.get("KeyCount", 0):
            complete.append(name)
    return sorted(complete, key=_sort_key)


def _prune_s3(client: Any, *, bucket: str, prefix: str, keep: int) -> None:
    root = _s3_root(prefix)
    backups = list_s3_backups(client, bucket=bucket, prefix=prefix)
    for name in backups[: max(0, len(backups) - keep)]:
        paginator = client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=f"{root}{name}/"):
            keys = [{"Key": obj["Key"]} for obj in page.get("Contents", [])]
            if keys:
                client.delete_objects(Bucket=bucket, Delete={"Objects": keys})


# -- taking a backup ---------------------------------------------------------------------


async def write_backup(
    clients: Mapping[str, WireMockClient], *, backup_path: str, keep: int
) -> str:
    """Read every shard's stubs and write one backup. -> where it went."""
    try:
        mappings = {name: await client.list_mappings() for name, client in clients.items()}
        if backup_path.startswith("s3://"):
            where = await asyncio.to_thread(write_s3_backup, mappings, url=backup_path, keep=keep)
        else:
            path = await asyncio.to_thread(
                write_local_backup, mappings, root=Path(backup_path), keep=keep
            )
            where = str(path)
    except (MockadoError, OSError):
        LOADER_BACKUPS.labels(result="error").inc()
        raise
    LOADER_BACKUPS.labels(result="ok").inc()
    return where


class BackupSchedule:
    """A backup every ``interval_s`` while the loader runs, and one when it stops cleanly.
    A failed backup is logged and counted; the loader carries on."""

    def __init__(
        self,
        clients: Mapping[str, WireMockClient],
        *,
        backup_path: str,
        keep: int,
        interval_s: float,
    ) -> None:
        self._clients = clients
        self._backup_path = backup_path
        self._keep = keep
        self._interval_s = interval_s

    async def run(self, stop: asyncio.Event) -> None:
        """Until ``stop`` is set (the final backup is :meth:`write`'s, called by the owner)."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._interval_s)
                return
            await self.write(reason="interval")

    async def write(self, *, reason: str) -> None:
        try:
            where = await write_backup(
                self._clients, backup_path=self._backup_path, keep=self._keep
            )
        except MockadoError as exc:
            log.warning("backup (%s) failed: %s", reason, exc)
            return
        log.info("backup (%s) written to %s", reason, where)
