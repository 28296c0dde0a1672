"""``mockado restore``: read a backup (or any WireMock root dir) back into a WireMock."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ext_proc_server.core.config import MockadoConfig
from ext_proc_server.core.errors import BackupError, ConfigError, WireMockError
from ext_proc_server.loader.retry import backoff_s
from ext_proc_server.loader.wiremock_client import (
    WireMockAuthError,
    WireMockClient,
    client_for,
    import_isolating,
)

log = logging.getLogger(__name__)


def mappings_dir(backup_dir: Path) -> Path:
    """Accept BACKUP_DIR or BACKUP_DIR/mappings."""
    if backup_dir.name == "mappings" and backup_dir.is_dir():
        return backup_dir
    candidate = backup_dir / "mappings"
    if candidate.is_dir():
        return candidate
    if backup_dir.is_dir() and any((p / "mappings").is_dir() for p in backup_dir.iterdir()):
        raise ConfigError(
            f"{backup_dir}: a sharded backup; restore one shard at a time (BACKUP_DIR/<shard>)"
        )
    raise ConfigError(f"{backup_dir}: no mappings/ directory")


def read_backup(backup_dir: Path) -> list[dict[str, Any]]:
    """Every stub of a backup (or any WireMock root dir), in file-name order."""
    out: list[dict[str, Any]] = []
    for path in sorted(mappings_dir(backup_dir).rglob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise BackupError(f"{path}: not a readable JSON file") from exc
        # WireMock accepts one stub per file or {"mappings": [...]}.
        if isinstance(data, dict) and isinstance(data.get("mappings"), list):
            out.extend(m for m in data["mappings"] if isinstance(m, dict))
        elif isinstance(data, dict):
            out.append(data)
        else:
            raise BackupError(f"{path}: not a WireMock stub")
    return out


async def restore_mappings(
    mappings: Sequence[dict[str, Any]],
    *,
    client: WireMockClient,
    batch_size: int,
    retry_attempts: int = 3,
    retry_backoff_s: float = 0.5,
    retry_max_delay_s: float = 30.0,
) -> tuple[int, int]:
    """Import in batches; a refused batch is split to skip only the bad stubs. An outage
    is retried ``retry_attempts`` times, then raises. -> (imported, refused)."""
    chunks = [list(mappings[i : i + batch_size]) for i in range(0, len(mappings), batch_size)]

    async def send(chunk: list[dict[str, Any]]) -> None:
        await _import(
            client, chunk, attempts=retry_attempts, base_s=retry_backoff_s, max_s=retry_max_delay_s
        )

    refused = await import_isolating(chunks, send)
    return len(mappings) - len(refused), len(refused)


async def _import(
    client: WireMockClient,
    chunk: list[dict[str, Any]],
    *,
    attempts: int,
    base_s: float,
    max_s: float,
) -> None:
    """Import; an outage is tried ``attempts`` times in all, a refusal raises at once (of
    the mapping: to be skipped; of the credentials: to stop the restore)."""
    for attempt in range(attempts):
        try:
            await client.import_mappings(chunk)
            return
        except WireMockError as exc:
            if exc.is_terminal or isinstance(exc, WireMockAuthError) or attempt + 1 == attempts:
                raise
            await asyncio.sleep(backoff_s(attempt, base_s=base_s, max_s=max_s))


async def _restore(config: MockadoConfig, *, backup_dir: Path, wiremock_url: str) -> int:
    mappings = await asyncio.to_thread(read_backup, backup_dir)
    loader = config.loader
    async with client_for(loader, wiremock_url.rstrip("/")) as client:
        imported, refused = await restore_mappings(
            mappings,
            client=client,
            batch_size=loader.redis_batch_size,
            retry_attempts=loader.retry_attempts,
            retry_backoff_s=loader.retry_backoff,
            retry_max_delay_s=loader.retry_max_delay,
        )
    log.info(
        "restored %d of %d mappings from %s into %s (%d refused)",
        imported, len(mappings), backup_dir, client.display_url, refused,
    )  # fmt: skip
    return 0 if refused == 0 else 1


def restore_main(config: MockadoConfig, *, backup_dir: Path, wiremock_url: str) -> int:
    """``mockado restore BACKUP_DIR --wiremock-url URL``. -> 0, or 1 when stubs were refused."""
    return asyncio.run(_restore(config, backup_dir=backup_dir, wiremock_url=wiremock_url))
