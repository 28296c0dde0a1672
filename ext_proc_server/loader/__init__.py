"""The loader: queued mappings from the Redis Stream into WireMock shards, at least once.

``Loader(config)`` runs the consumer (``await loader.run(stop)``), and reloads a WireMock
shard that restarted empty from that shard's record in Redis; ``main`` is ``mockado
loader``, ``restore_main`` is ``mockado restore``, ``keeper_main`` is ``mockado
keep-shard`` (``ShardKeeper``: a WireMock pod is ready only once it holds its shard).
See docs/loader.md. ``drift_records``, ``recorded_stub`` and ``stub_lifecycle`` read the
stubs' drift and lifecycle (docs/drift.md, docs/staleness.md).
"""

from ext_proc_server.loader.backup import write_backup
from ext_proc_server.loader.drift import DriftRecord, drift_records, recorded_stub, stub_lifecycle
from ext_proc_server.loader.entries import QueueItem, parse_entry
from ext_proc_server.loader.keeper import ShardKeeper, keeper_main
from ext_proc_server.loader.restore import read_backup, restore_main, restore_mappings
from ext_proc_server.loader.routing import DEFAULT_SHARD, Router, shard_urls
from ext_proc_server.loader.service import Loader, main
from ext_proc_server.loader.wiremock_client import WireMockAuthError, WireMockClient, client_for

__all__ = [
    "DEFAULT_SHARD",
    "DriftRecord",
    "Loader",
    "QueueItem",
    "Router",
    "ShardKeeper",
    "WireMockAuthError",
    "WireMockClient",
    "client_for",
    "drift_records",
    "keeper_main",
    "main",
    "parse_entry",
    "read_backup",
    "recorded_stub",
    "restore_main",
    "restore_mappings",
    "shard_urls",
    "stub_lifecycle",
    "write_backup",
]
