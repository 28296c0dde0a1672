from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from ext_proc_server.capture import server_credentials, server_options
from ext_proc_server.capture.grpc_options import RotatingCertificates
from ext_proc_server.core.config import (
    COLLECTOR_STREAMS_PER_CONNECTION,
    CollectorConfig,
    TLSServer,
)
from ext_proc_server.core.errors import ConfigError
from tests.support.secret_volume import publish
from tests.support.tls_ca import make_ca


def test_the_collector_allows_more_streams_than_envoy_sends() -> None:
    # The server frees a finished stream's slot a little after Envoy does; a stream it
    # refused in that gap would count as a failed connection (and eject the collector).
    limit = dict(server_options(CollectorConfig()))["grpc.max_concurrent_streams"]
    assert limit > COLLECTOR_STREAMS_PER_CONNECTION


def test_rotated_certificate_files_are_read_again_only_when_they_agree(tmp_path: Path) -> None:
    old, new = make_ca(tmp_path / "old"), make_ca(tmp_path / "new")
    mount = tmp_path / "tls"
    publish(
        mount, {"tls.crt": old.server_cert.read_bytes(), "tls.key": old.server_key.read_bytes()}
    )
    certificates = RotatingCertificates(str(mount / "tls.crt"), str(mount / "tls.key"), None)
    assert certificates.fetch() is None  # as read at start
    # A rotation caught halfway (the new certificate beside the old key): not taken.
    publish(
        mount, {"tls.crt": new.server_cert.read_bytes(), "tls.key": old.server_key.read_bytes()}
    )
    assert certificates.fetch() is None
    publish(
        mount, {"tls.crt": new.server_cert.read_bytes(), "tls.key": new.server_key.read_bytes()}
    )
    assert isinstance(certificates.fetch(), grpc.ServerCertificateConfiguration)
    assert certificates.fetch() is None  # taken once


def test_tls_credentials_follow_the_files(tmp_path: Path) -> None:
    ca = make_ca(tmp_path / "ca")
    tls = TLSServer(enabled=True, cert_file=str(ca.server_cert), key_file=str(ca.server_key))
    assert isinstance(server_credentials(CollectorConfig(tls=tls)), grpc.ServerCredentials)
    missing = TLSServer(enabled=True, cert_file=str(tmp_path / "none"), key_file="k")
    with pytest.raises(ConfigError, match=r"collector\.tls"):
        server_credentials(CollectorConfig(tls=missing))
