"""How the capture server's gRPC port is set up: channel options and TLS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import grpc

from ext_proc_server.core.config import COLLECTOR_STREAMS_PER_CONNECTION, MIB, CollectorConfig
from ext_proc_server.core.errors import ConfigError

# Envoy sends body chunks of up to about 1 MiB; gRPC's default cap is 4 MiB.
MAX_RECEIVE_MESSAGE_BYTES = 16 * MIB


def server_options(config: CollectorConfig) -> list[tuple[str, Any]]:
    """The ``grpc.aio.server`` options of a capture server (every worker shares the port)."""
    return [
        ("grpc.max_receive_message_length", MAX_RECEIVE_MESSAGE_BYTES),
        ("grpc.so_reuseport", 1),
        # Envoy pings idle collector connections (keepalive); don't answer with GOAWAY.
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.min_recv_ping_interval_without_data_ms", 5_000),
        ("grpc.http2.max_ping_strikes", 0),
        # See COLLECTOR_STREAMS_PER_CONNECTION: with one connection, one worker got every
        # stream. Envoy keeps to that limit; the server allows twice as many because it
        # frees a finished stream's slot a little after Envoy does, and a stream refused
        # in that gap counts as a failed connection in Envoy.
        ("grpc.max_concurrent_streams", 2 * COLLECTOR_STREAMS_PER_CONNECTION),
    ]


def server_credentials(config: CollectorConfig) -> grpc.ServerCredentials | None:
    """TLS (optionally mutual) from ``collector.tls``, or None for plaintext.
    Raises ConfigError naming the key when a certificate is missing or unreadable."""
    tls = config.tls
    if not tls.enabled:
        return None
    if not (tls.cert_file and tls.key_file):
        raise ConfigError("collector.tls: cert_file and key_file are required when enabled")
    try:
        key = Path(tls.key_file).read_bytes()
        cert = Path(tls.cert_file).read_bytes()
        client_ca = Path(tls.client_ca_file).read_bytes() if tls.client_ca_file else None
    except OSError as exc:
        raise ConfigError(
            f"collector.tls: cannot read a certificate file ({exc.strerror})"
        ) from exc
    return grpc.ssl_server_credentials(
        [(key, cert)], root_certificates=client_ca, require_client_auth=client_ca is not None
    )
