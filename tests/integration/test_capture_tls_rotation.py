"""The collector's own gRPC certificate rotated in place (Secret ``mockado-files``, which
the kubelet updates by swapping a symlink), through real Envoy 1.40 and ``mockado ext-proc``.

The collector reads its certificate and key again when the files change: a new
connection's handshake presents the new certificate, with no restart, and the connections
Envoy already holds go on carrying captures (nothing reconnects, no stream is cut).
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from tests.support.ext_proc_rig import (
    capture_lands,
    collector_settings,
    envoy_for,
    make_config,
    wait_until,
)
from tests.support.secret_volume import publish
from tests.support.tls_ca import ThrowawayCA, make_ca

pytestmark = pytest.mark.integration

COLLECTOR_CLUSTER = "cluster.mockado_collector"


def server_files(ca: ThrowawayCA) -> dict[str, bytes]:
    return {"tls.crt": ca.server_cert.read_bytes(), "tls.key": ca.server_key.read_bytes()}


def envoy_stat(envoy, name: str) -> int:
    stats = httpx.get(f"{envoy.admin_url}/stats?filter={re.escape(name)}", timeout=5).text
    found = re.search(rf"^{re.escape(name)}: (\d+)$", stats, re.MULTILINE)
    return int(found.group(1)) if found else 0


def test_the_collector_presents_its_rotated_certificate_without_a_restart(
    tmp_path: Path, redis_server, upstream, envoy_factory, ext_proc_factory
) -> None:
    old, new = make_ca(tmp_path / "old"), make_ca(tmp_path / "new", name="the rotated CA")
    mount = tmp_path / "collector-tls"
    publish(mount, server_files(old))
    collector = collector_settings(
        redis_server.url,
        tls={"enabled": True, "cert_file": str(mount / "tls.crt"),
             "key_file": str(mount / "tls.key")},
    )  # fmt: skip
    ext = ext_proc_factory(collector)

    def envoy_trusting(ca: ThrowawayCA):
        tls = {"enabled": True, "ca_file": str(ca.ca_file)}
        config = make_config(collector, control_plane={"collector": {"tls": tls}})
        return envoy_for(
            envoy_factory, config, upstream_port=upstream.port, ext_proc_port=ext.grpc_port
        )

    def paths() -> set[str]:
        return {m["request"].get("urlPath", "") for m in ext.captured()}

    before = envoy_trusting(old)
    capture_lands(before.url, paths)
    connections = envoy_stat(before, f"{COLLECTOR_CLUSTER}.upstream_cx_total")

    publish(mount, server_files(new))
    after = envoy_trusting(new)
    # An Envoy that trusts only the new CA: its handshakes succeed once the collector
    # presents the rotated certificate.
    capture_lands(after.url, paths)
    assert envoy_stat(after, f"{COLLECTOR_CLUSTER}.ssl.handshake") >= 1

    # The Envoy connected before the rotation goes on capturing over the connection it had.
    sent = [f"/echo/kept-{n}" for n in range(3)]
    for path in sent:
        assert httpx.put(f"{before.url}{path}", json={}, timeout=10).status_code == 200
    wait_until(
        lambda: set(sent) <= paths(),
        what="captures over the connection made before the rotation",
        explain=lambda: ext.process.log_text()[-2000:],
    )
    assert envoy_stat(before, f"{COLLECTOR_CLUSTER}.upstream_cx_total") == connections
    assert "certificate files changed" in ext.process.log_text()
    for envoy in (before, after):
        envoy.process.stop()
    assert ext.process.stop(timeout_s=20) == 0
