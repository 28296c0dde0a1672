"""Streams gRPC holds open on one server, read from its channelz data.

gRPC accepts a stream from Envoy as soon as its headers arrive, but grpc.aio hands new
streams to the servicer one at a time, a loop turn or two each. While the event loop is
busy (the pipeline's CPU stages), streams wait in gRPC, open for Envoy (its circuit
breaker counts them) yet unseen by the servicer. channelz counts every stream the server
started, finished or failed, so the difference is every stream open on it: those the
servicer runs and those still waiting to be handed over.
"""

from __future__ import annotations

import re
from collections.abc import Callable

try:  # grpc's own channelz reader (grpcio-channelz calls the same): absent, no reading
    from grpc._cython import cygrpc
except ImportError:  # pragma: no cover - every grpcio build ships it
    cygrpc = None

_COUNTS = re.compile(rb'"calls(Started|Succeeded|Failed)":"(\d+)"')
_SERVER_ID = re.compile(rb'"serverId":"(\d+)"')


def server_ids() -> frozenset[int]:
    """The channelz ids of the gRPC servers in this process now."""
    if cygrpc is None:
        return frozenset()
    return frozenset(int(i) for i in _SERVER_ID.findall(_servers_from(0)))


def open_streams_reader(before: frozenset[int]) -> Callable[[], int | None] | None:
    """A reader of the streams open on the one gRPC server created since ``before`` (its
    :func:`server_ids` then), or None when that is not exactly one server. (channelz ids
    do not follow the order servers were created in: they are told apart this way.)"""
    created = server_ids() - before
    if len(created) != 1:
        return None
    (server_id,) = created
    wanted = str(server_id).encode()

    def open_streams() -> int | None:
        try:
            data = _servers_from(server_id)
        except ValueError:  # the server is gone
            return None
        # Listed by id from ours: its counts come before its id, the first one listed.
        first = _SERVER_ID.search(data)
        if first is None or first.group(1) != wanted:
            return None
        counts = dict(_COUNTS.findall(data, 0, first.start()))
        if len(counts) < 3:
            return None
        return int(counts[b"Started"]) - int(counts[b"Succeeded"]) - int(counts[b"Failed"])

    return open_streams


def _servers_from(start_id: int) -> bytes:
    data = cygrpc.channelz_get_servers(start_id)
    return data if isinstance(data, bytes) else str(data).encode()
