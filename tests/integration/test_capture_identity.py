"""A workload that streams its own captures to the collector cannot claim another namespace.

The attacker is an app beside a capturing sidecar: it holds the sidecar's certificate
(``spiffe://cluster.local/ns/local/sa/default``, the namespace the local Envoy names) and
opens gRPC streams itself, naming namespace ``billing``. The collector learns the caller's
identity either from its own mutual TLS or, as in Istio, from a sidecar in front of it
that appends the client certificate to ``x-forwarded-client-cert`` (here a real Envoy).
A genuine capture through a real capturing Envoy still lands.
"""

from __future__ import annotations

import asyncio
import uuid

import grpc
import httpx
import pytest

from tests.support.ext_proc_rig import (
    collector_settings,
    counters,
    envoy_for,
    make_config,
    wait_until,
)
from tests.support.ext_proc_streams import send_blocking_stream
from tests.support.tls_ca import ThrowawayCA, make_ca
from tests.unit.capture.stream_helpers import req_headers, resp_body, resp_headers

IDENTITY = "spiffe://cluster.local/ns/local/sa/default"
FORGED_XFCC = "By=spiffe://cluster.local/ns/mockado/sa/x;URI=spiffe://cluster.local/ns/billing/sa/x"


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> ThrowawayCA:
    return make_ca(tmp_path_factory.mktemp("identity-ca"), client_uri=IDENTITY)


def client_credentials(ca: ThrowawayCA) -> grpc.ChannelCredentials:
    """The capturing sidecar's certificate, as the app beside it can read it."""
    return grpc.ssl_channel_credentials(
        ca.ca_file.read_bytes(), ca.client_key.read_bytes(), ca.client_cert.read_bytes()
    )


def exchange(path: str) -> list:
    """One exchange as a sidecar in blocking mode sends it (each message answered)."""
    messages = [
        req_headers(path=path, method="GET", eos=True, authority="payments.billing"),
        resp_headers(),
        resp_body(b'{"paid": true}', eos=True),
    ]
    for message in messages:
        message.observability_mode = False
    return messages


def send(port: int, path: str, metadata: list, credentials=None) -> None:
    asyncio.run(
        send_blocking_stream(port, exchange(path), credentials=credentials, metadata=metadata)
    )


def recorded(ext) -> dict[str, str]:
    """Path -> namespace of every capture in Redis."""
    out = {}
    for mapping in ext.captured():
        path = mapping["request"].get("url") or mapping["request"].get("urlPath", "")
        out[path.split("?")[0]] = mapping["metadata"]["mockado"]["namespace"]
    return out


def sidecar_bootstrap(ca: ThrowawayCA, *, port: int, admin_port: int, collector_port: int) -> str:
    """An Envoy in front of the collector as Istio's inbound sidecar is: mTLS required,
    the client certificate's URI appended to x-forwarded-client-cert (APPEND_FORWARD)."""
    return f"""
admin: {{address: {{socket_address: {{address: 127.0.0.1, port_value: {admin_port}}}}}}}
static_resources:
  listeners:
  - name: inbound
    address: {{socket_address: {{address: 127.0.0.1, port_value: {port}}}}}
    filter_chains:
    - transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
          require_client_certificate: true
          common_tls_context:
            alpn_protocols: [h2]
            tls_certificates:
            - certificate_chain: {{filename: "{ca.server_cert}"}}
              private_key: {{filename: "{ca.server_key}"}}
            validation_context: {{trusted_ca: {{filename: "{ca.ca_file}"}}}}
      filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: inbound
          codec_type: AUTO
          forward_client_cert_details: APPEND_FORWARD
          set_current_client_cert_details: {{subject: true, uri: true, dns: true}}
          route_config:
            virtual_hosts:
            - name: collector
              domains: ["*"]
              routes: [{{match: {{prefix: "/"}}, route: {{cluster: collector, timeout: 0s}}}}]
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: collector
    type: STATIC
    connect_timeout: 1s
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: {{http2_protocol_options: {{}}}}
    load_assignment:
      cluster_name: collector
      endpoints:
      - lb_endpoints:
        - endpoint: {{address: {{socket_address: {{address: 127.0.0.1, port_value: {collector_port}}}}}}}
"""


def capturing_envoy(envoy_factory, collector: dict, ca: ThrowawayCA, *, upstream, port: int):
    """The capturing sidecar (the rendered local Envoy), with its client certificate."""
    tls = {
        "enabled": True,
        "ca_file": str(ca.ca_file),
        "cert_file": str(ca.client_cert),
        "key_file": str(ca.client_key),
    }
    # The local renderer speaks TLS to a collector whose own settings say it serves TLS
    # (here it may be the sidecar in front that does).
    served = {"enabled": True, "cert_file": str(ca.server_cert), "key_file": str(ca.server_key)}
    config = make_config(
        {**collector, "tls": {**served, **collector.get("tls", {})}},
        control_plane={"collector": {"tls": tls}},
    )
    return envoy_for(envoy_factory, config, upstream_port=upstream.port, ext_proc_port=port)


def envoy_stats(envoy) -> str:
    """The capturing Envoy's capture stats, for failure messages."""
    url = f"{envoy.admin_url}/stats?filter=(ext_proc|mockado_collector)"
    return "\n".join(
        line for line in httpx.get(url, timeout=5).text.splitlines() if ": 0" not in line
    )


def forge_and_capture(ext, *, port: int, ca: ThrowawayCA, envoy, run: str) -> None:
    """The attack, a same-namespace stream as control, and a genuine capture; waits until
    the genuine one and the control are recorded."""
    forged = [("x-mockado-namespace", "billing"), ("x-forwarded-client-cert", FORGED_XFCC)]
    own = [("x-mockado-namespace", "local")]
    credentials = client_credentials(ca)
    send(port, f"/forged-{run}", forged, credentials)
    send(port, f"/own-{run}", own, credentials)
    resp = httpx.post(f"{envoy.url}/echo/genuine-{run}", json={"n": 1}, timeout=10)
    assert resp.status_code == 200 and resp.json() == {"n": 1}
    wanted = {f"/own-{run}", f"/echo/genuine-{run}"}
    wait_until(
        lambda: wanted <= recorded(ext).keys(),
        timeout_s=30,
        what="the genuine capture and the same-namespace stream recorded",
        explain=lambda: counters(ext) + "\n" + envoy_stats(envoy),
    )


def refused(ext) -> float:
    """Streams the collector refused for their caller's identity."""
    return ext.metric("collector_dropped_total", reason="caller_namespace") + ext.metric(
        "collector_dropped_total", reason="caller_unidentified"
    )


def assert_only_the_forgery_refused(ext, run: str) -> None:
    paths = recorded(ext)
    assert f"/forged-{run}" not in paths
    assert paths[f"/own-{run}"] == "local"
    assert paths[f"/echo/genuine-{run}"] == "local"
    assert ext.metric("collector_dropped_total", reason="caller_namespace") == 1


def test_behind_a_sidecar_a_stream_claiming_another_namespace_is_refused(
    redis_server, ext_proc_factory, envoy_factory, upstream, ca
):
    collector = collector_settings(
        redis_server.url, caller_identity={"forwarded_by_sidecar": True, "required": True}
    )
    ext = ext_proc_factory(collector)
    sidecar = envoy_factory(
        lambda port, admin_port: sidecar_bootstrap(
            ca, port=port, admin_port=admin_port, collector_port=ext.grpc_port
        )
    )
    envoy = capturing_envoy(envoy_factory, collector, ca, upstream=upstream, port=sidecar.port)
    run = uuid.uuid4().hex[:8]
    forge_and_capture(ext, port=sidecar.port, ca=ca, envoy=envoy, run=run)
    assert_only_the_forgery_refused(ext, run)
    # Two forged headers: whatever the sidecar makes of them, the stream is not recorded.
    two = [("x-mockado-namespace", "billing"), ("x-forwarded-client-cert", FORGED_XFCC),
           ("x-forwarded-client-cert", FORGED_XFCC)]  # fmt: skip
    send(sidecar.port, f"/two-{run}", two, client_credentials(ca))
    wait_until(
        lambda: refused(ext) == 2,
        what="the stream with two forged headers refused",
        explain=lambda: counters(ext),
    )
    # A stream that reaches the collector without the sidecar brings no identity.
    send(ext.grpc_port, f"/direct-{run}", [("x-mockado-namespace", "local")])
    wait_until(
        lambda: refused(ext) == 3,
        what="the stream without an identity refused",
        explain=lambda: counters(ext),
    )
    assert ext.metric("collector_dropped_total", reason="caller_unidentified") >= 1
    assert not {f"/direct-{run}", f"/two-{run}"} & recorded(ext).keys()
    for process in (envoy.process, sidecar.process, ext.process):
        process.stop()


def test_with_mutual_tls_a_stream_claiming_another_namespace_is_refused(
    redis_server, ext_proc_factory, envoy_factory, upstream, ca
):
    collector = collector_settings(
        redis_server.url,
        tls={
            "enabled": True,
            "cert_file": str(ca.server_cert),
            "key_file": str(ca.server_key),
            "client_ca_file": str(ca.ca_file),
        },
    )
    ext = ext_proc_factory(collector)
    envoy = capturing_envoy(envoy_factory, collector, ca, upstream=upstream, port=ext.grpc_port)
    run = uuid.uuid4().hex[:8]
    forge_and_capture(ext, port=ext.grpc_port, ca=ca, envoy=envoy, run=run)
    assert_only_the_forgery_refused(ext, run)
    for process in (envoy.process, ext.process):
        process.stop()
