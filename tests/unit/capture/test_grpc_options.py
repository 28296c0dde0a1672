from __future__ import annotations

from ext_proc_server.capture import server_options
from ext_proc_server.core.config import COLLECTOR_STREAMS_PER_CONNECTION, CollectorConfig


def test_the_collector_allows_more_streams_than_envoy_sends() -> None:
    # The server frees a finished stream's slot a little after Envoy does; a stream it
    # refused in that gap would count as a failed connection (and eject the collector).
    limit = dict(server_options(CollectorConfig()))["grpc.max_concurrent_streams"]
    assert limit > COLLECTOR_STREAMS_PER_CONNECTION
