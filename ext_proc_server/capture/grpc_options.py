"""How the capture server's gRPC port is set up: channel options and TLS."""

from __future__ import annotations

import logging
import socket
import ssl
from pathlib import Path
from typing import Any

import grpc

from ext_proc_server.core.config import MIB, CollectorConfig
from ext_proc_server.core.errors import ConfigError
from ext_proc_server.core.file_watch import FileState, FileWatch, file_state

log = logging.getLogger(__name__)

# Envoy sends body chunks of up to about 1 MiB; gRPC's default cap is 4 MiB.
MAX_RECEIVE_MESSAGE_BYTES = 16 * MIB


def server_options(config: CollectorConfig, *, shares_port: bool = False) -> list[tuple[str, Any]]:
    """The ``grpc.aio.server`` options of a capture server. ``shares_port``: one of the
    workers of a ``--workers N`` run, which share the gRPC port (SO_REUSEPORT). A server
    that does not share it must fail to listen where another process already does: with
    SO_REUSEPORT on both, a second collector (a stray run, a second pod on the host
    network) would bind the same port without an error and take half the streams."""
    return [
        ("grpc.max_receive_message_length", MAX_RECEIVE_MESSAGE_BYTES),
        ("grpc.so_reuseport", 1 if shares_port else 0),
        # Envoy pings idle collector connections (keepalive); don't answer with GOAWAY.
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.min_recv_ping_interval_without_data_ms", 5_000),
        ("grpc.http2.max_ping_strikes", 0),
        # No grpc.max_concurrent_streams: Envoy keeps to COLLECTOR_STREAMS_PER_CONNECTION
        # itself, and any lower limit here refuses streams Envoy already let go of. Envoy
        # frees a stream's slot when it resets the stream (deferred_close_timeout), gRPC
        # only once the servicer has ended it: after a stall longer than Envoy's hold,
        # every stream opened meanwhile arrives at once, those over the limit are refused
        # (REFUSED_STREAM, or ENHANCE_YOUR_CALM on a connection opened during the stall),
        # and Envoy counts each refusal as a failed connection and ejects the collector.
        # What the servicer takes on is bounded by collector.max_concurrent_streams.
    ]


def claim_shared_port(host: str, port: int) -> socket.socket:
    """Take ``port`` for the workers of one ``--workers N`` run, before any of them
    listens -> a claim to hold (and close) for as long as the run lasts.

    Linux lets any process of the same user join a port its SO_REUSEPORT sockets hold, so
    a second run would bind beside the first without an error and take a share of its
    streams. Two checks close that: a socket without SO_REUSEPORT binds the port (it cannot
    where anything listens, workers of another run included; SO_REUSEADDR lets connections
    left in TIME_WAIT pass), and the claim is a Unix socket in the abstract namespace named
    after the port, which a run started at the same moment cannot bind too (the kernel
    frees it when this process ends, however it ends). Raises ConfigError naming the port,
    as a collector of one worker fails on a held port."""
    claim = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        claim.bind(f"\0mockado-ext-proc-grpc-port-{port}")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        claim.close()
        raise ConfigError(f"collector.grpc_port: cannot listen on {port}") from exc
    return claim


def server_credentials(config: CollectorConfig) -> grpc.ServerCredentials | None:
    """TLS (optionally mutual) from ``collector.tls``, or None for plaintext. The files
    are read again when they change (a rotated Secret volume): each new connection's
    handshake uses what they hold then, and connections already open keep theirs.
    Raises ConfigError naming the key when a certificate is missing or unreadable."""
    tls = config.tls
    if not tls.enabled:
        return None
    if not (tls.cert_file and tls.key_file):
        raise ConfigError("collector.tls: cert_file and key_file are required when enabled")
    certificates = RotatingCertificates(tls.cert_file, tls.key_file, tls.client_ca_file)
    try:
        initial = certificates.read()
    except OSError as exc:
        raise ConfigError(
            f"collector.tls: cannot read a certificate file ({exc.strerror})"
        ) from exc
    return grpc.dynamic_ssl_server_credentials(
        initial, certificates.fetch, require_client_authentication=bool(tls.client_ca_file)
    )


class RotatingCertificates:
    """The server's certificate, key and client CA files, read again when they change.

    gRPC calls :meth:`fetch` before each TLS handshake (on one of its own threads): it
    answers None while the files are as last read (a few ``stat`` calls), else their new
    contents. A file caught halfway through a rotation that is not atomic (one written
    before the other, a key that is not the certificate's) is not taken: the last good
    pair stays until the files agree again, so a handshake never gets a broken pair."""

    def __init__(self, cert_file: str, key_file: str, client_ca_file: str | None) -> None:
        self._cert_file = cert_file
        self._key_file = key_file
        self._client_ca_file = client_ca_file
        paths = [cert_file, key_file] + ([client_ca_file] if client_ca_file else [])
        self._watch = FileWatch(paths)
        # The files' state last found not to load: not tried (nor logged) again.
        self._refused: FileState | None = None

    def read(self) -> grpc.ServerCertificateConfiguration:
        """What the files hold now, as gRPC takes it. Raises OSError."""
        key = Path(self._key_file).read_bytes()
        cert = Path(self._cert_file).read_bytes()
        client_ca = Path(self._client_ca_file).read_bytes() if self._client_ca_file else None
        return grpc.ssl_server_certificate_configuration([(key, cert)], client_ca)

    def fetch(self) -> grpc.ServerCertificateConfiguration | None:
        """The new configuration when the files changed since last read, else None."""
        state = self._watch.changed()
        if state is None or state == self._refused:
            return None
        try:
            _check_pair(self._cert_file, self._key_file)
            configuration = self.read()
        except (OSError, ssl.SSLError):
            self._refused = state
            log.warning("collector.tls: the certificate files changed but do not load yet")
            return None
        if file_state(self._watch.paths) != state:
            return None  # changed again while read: the next handshake reads them again
        self._watch.seen(state)
        log.info("collector.tls: the certificate files changed; new connections use them")
        return configuration


def _check_pair(cert_file: str, key_file: str) -> None:
    """Raise ssl.SSLError unless the key is the certificate's (both well-formed)."""
    ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(cert_file, key_file)
