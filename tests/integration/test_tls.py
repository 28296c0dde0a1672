"""TLS on every hop mockado owns, with a throwaway CA made for this module.

* Envoy -> ext_proc server: gRPC over TLS (``collector.tls`` + ``control_plane.collector.tls``);
  a plaintext Envoy against the TLS server captures nothing and traffic still flows.
* collector and loader -> Redis over ``rediss://`` (``collector.redis_tls``/``loader.redis_tls``).
* loader -> WireMock admin API over https (``loader.wiremock_tls``); a wrong CA fails closed.
* A Redis password in ``redis_url`` never reaches the logs of ``mockado loader``/``ext-proc``.
"""

from __future__ import annotations

import asyncio
import re
import signal
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import redis
import yaml

from control_plane.local import procs
from ext_proc_server.core.config import TLSClient
from ext_proc_server.core.errors import StackError
from ext_proc_server.core.queue_entries import decode_entry, encode_entry
from ext_proc_server.core.redis_client import make_redis
from ext_proc_server.core.redis_keys import RedisKeys
from tests.support import ext_proc_rig
from tests.support.ext_proc_rig import collector_settings, envoy_for, make_config, wait_until
from tests.support.loader_process import start_loader
from tests.support.loader_rig import LoaderThread, config_for, metric, stub, wait_for
from tests.support.processes import RedisHandle, WireMockHandle
from tests.support.tls_ca import ThrowawayCA, make_ca
from tests.support.tls_servers import start_https_wiremock, start_tls_redis, trusting

pytestmark = pytest.mark.integration

# The `mockado ext-proc` subprocess fixture, shared with test_ext_proc.py.
LOADER_ERRORS = "wiremock_loader_mappings_errors_total"
ENVOY_EXT_PROC = "http.mockado_ingress.ext_proc"


# -- the CA, a TLS Redis and an https WireMock ---------------------------------------


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> ThrowawayCA:
    return make_ca(tmp_path_factory.mktemp("tls-ca"))


@pytest.fixture(scope="module")
def other_ca(tmp_path_factory: pytest.TempPathFactory) -> ThrowawayCA:
    """A second CA that signed nothing the servers present: the wrong trust anchor."""
    return make_ca(tmp_path_factory.mktemp("tls-other-ca"), name="not the mockado CA")


@pytest.fixture(scope="module")
def tls_redis(
    ca: ThrowawayCA, tmp_path_factory: pytest.TempPathFactory, logs_dir: Path, process_registry
) -> RedisHandle:
    try:
        return start_tls_redis(ca, data_dir=tmp_path_factory.mktemp("tls-redis"),
                               log_path=logs_dir / "tls-redis.log", started=process_registry.add)  # fmt: skip
    except StackError as exc:
        log = Path(str(exc).rsplit("log: ", 1)[-1])
        text = log.read_text(errors="replace") if log.is_file() else ""
        if "tls-port" in text or "TLS" in text:
            pytest.skip(f"redis-server on PATH is built without TLS support: {text[-300:]}")
        raise


def rediss_url(handle: RedisHandle) -> str:
    return f"rediss://127.0.0.1:{handle.port}/0"


def tls_redis_client(handle: RedisHandle, ca: ThrowawayCA) -> redis.Redis:
    return redis.Redis.from_url(rediss_url(handle), ssl_ca_certs=str(ca.ca_file))


@pytest.fixture(scope="module")
def https_wiremock(
    ca: ThrowawayCA, tmp_path_factory: pytest.TempPathFactory, logs_dir: Path, process_registry
) -> tuple[WireMockHandle, str]:
    """WireMock with its admin API on https too. -> (handle, https base URL)."""
    return start_https_wiremock(ca, root_dir=tmp_path_factory.mktemp("https-wiremock"),
                                log_path=logs_dir / "https-wiremock.log",
                                started=process_registry.add)  # fmt: skip


def https_ids(https_url: str, ca: ThrowawayCA) -> set[str]:
    resp = httpx.get(f"{https_url}/__admin/mappings", verify=trusting(ca), timeout=30)
    resp.raise_for_status()
    return {m["id"] for m in resp.json()["mappings"]}


def enqueue_tls(client: redis.Redis, queue: str, mappings: list[dict]) -> None:
    for mapping in mappings:
        client.xadd(queue, encode_entry(mapping, host="api"))


def is_ready(http_port: int) -> bool:
    return httpx.get(f"http://127.0.0.1:{http_port}/readyz", timeout=5).status_code == 200


def envoy_stat(envoy, name: str) -> int:
    stats = httpx.get(f"{envoy.admin_url}/stats?filter={re.escape(name)}", timeout=5).text
    found = re.search(rf"^{re.escape(name)}: (\d+)$", stats, re.MULTILINE)
    # A stat renamed or missing must fail the check, not read as 0.
    assert found is not None, f"Envoy has no stat {name}: {stats}"
    return int(found.group(1))


def capture_attempts_over(envoy, *, started: int) -> bool:
    """Envoy started ``started`` capture streams, none is still open or waiting for a
    connection, and the collector's connections failed (the handshake was refused).

    The filter counts a failed stream (``failure_mode_allowed``) only while its request is
    still in flight: in observability mode a fast exchange can end before the refusal
    arrives, and then only the cluster counts it."""
    cluster = "cluster.mockado_collector"
    return (
        envoy_stat(envoy, f"{ENVOY_EXT_PROC}.mockado.streams_started") >= started
        and envoy_stat(envoy, f"{cluster}.upstream_rq_active") == 0
        and envoy_stat(envoy, f"{cluster}.upstream_rq_pending_active") == 0
        and (
            envoy_stat(envoy, f"{ENVOY_EXT_PROC}.mockado.failure_mode_allowed") >= 1
            or envoy_stat(envoy, f"{cluster}.upstream_cx_connect_fail") >= 1
        )
    )


# -- Envoy -> ext_proc server over TLS, collector -> Redis over rediss:// ------------------


@pytest.fixture(scope="module")
def tls_collector(ext_proc_factory, tls_redis: RedisHandle, ca: ThrowawayCA):
    """``mockado ext-proc`` serving gRPC over TLS and writing to Redis over TLS."""
    collector = collector_settings(
        rediss_url(tls_redis),
        tls={"enabled": True, "cert_file": str(ca.server_cert), "key_file": str(ca.server_key)},
        redis_tls={"enabled": True, "ca_file": str(ca.ca_file)},
    )
    ext = ext_proc_factory(collector)
    # Readiness pings Redis: the collector's rediss:// client verified the server.
    wait_until(
        lambda: is_ready(ext.http_port),
        what="collector ready (Redis over TLS)",
        explain=ext.process.log_text,
    )
    return collector, ext


def captured_paths(tls_redis: RedisHandle, ca: ThrowawayCA, queue: str) -> set[str]:
    client = tls_redis_client(tls_redis, ca)
    try:
        entries = client.xrange(queue)
    finally:
        client.close()
    return {decode_entry(fields)[0]["request"].get("urlPath", "") for _id, fields in entries}


def capture_lands(envoy, tls_redis: RedisHandle, ca: ThrowawayCA, queue: str) -> list[str]:
    """Send until one capture reaches Redis. -> the paths sent."""
    return ext_proc_rig.capture_lands(envoy.url, lambda: captured_paths(tls_redis, ca, queue))


def test_envoy_captures_to_the_collector_over_grpc_tls(
    tls_collector, tls_redis, ca, upstream, envoy_factory
):
    collector, ext = tls_collector
    config = make_config(
        collector,
        control_plane={"collector": {"tls": {"enabled": True, "ca_file": str(ca.ca_file)}}},
    )
    envoy = envoy_for(
        envoy_factory, config, upstream_port=upstream.port, ext_proc_port=ext.grpc_port
    )
    bootstrap = yaml.safe_load(envoy.config_path.read_text())
    cluster = next(
        c for c in bootstrap["static_resources"]["clusters"] if c["name"] == "mockado_collector"
    )
    validation = cluster["transport_socket"]["typed_config"]["common_tls_context"][
        "validation_context"
    ]
    assert validation["trusted_ca"] == {"filename": str(ca.ca_file)}
    assert validation["match_typed_subject_alt_names"][0]["matcher"] == {"exact": "127.0.0.1"}

    capture_lands(envoy, tls_redis, ca, collector["redis_queue"])
    run = uuid.uuid4().hex[:8]
    # PATCH: counted apart from the warm-up's POSTs.
    before = ext.metric("collector_requests_total", method="PATCH", status="2xx")
    with httpx.Client(timeout=10) as client:
        for n in range(3):
            resp = client.patch(f"{envoy.url}/echo/tls-{run}-{n}", json={"n": n})
            assert resp.status_code == 200
    want = {f"/echo/tls-{run}-{n}" for n in range(3)}
    wait_until(
        lambda: want <= captured_paths(tls_redis, ca, collector["redis_queue"]),
        timeout_s=30,
        what="3 captures in Redis (gRPC TLS in, rediss:// out)",
        explain=lambda: ext.process.log_text()[-2000:],
    )
    assert ext.metric("collector_requests_total", method="PATCH", status="2xx") == before + 3
    # Envoy really spoke TLS to the collector.
    assert envoy_stat(envoy, "cluster.mockado_collector.ssl.handshake") >= 1
    envoy.process.stop()


def test_plaintext_envoy_against_the_tls_collector_fails_open(
    tls_collector, tls_redis, ca, upstream, envoy_factory
):
    collector, ext = tls_collector
    plain = {k: v for k, v in collector.items() if k != "tls"}
    envoy = envoy_for(
        envoy_factory, make_config(plain), upstream_port=upstream.port, ext_proc_port=ext.grpc_port
    )
    run = uuid.uuid4().hex[:8]
    before = ext.metric("collector_requests_total", method="PUT", status="2xx")
    with httpx.Client(timeout=10) as client:
        for n in range(3):
            resp = client.put(f"{envoy.url}/echo/plain-{run}-{n}", json={"n": n})
            # Fail open: the client never notices that capture failed.
            assert resp.status_code == 200 and resp.json() == {"n": n}
    # Envoy itself reports the capture attempts failed and let through.
    wait_until(
        lambda: capture_attempts_over(envoy, started=3),
        timeout_s=30,
        what="3 capture attempts over, failed",
        explain=lambda: httpx.get(f"{envoy.admin_url}/stats?filter=ext_proc", timeout=5).text,
    )
    assert ext.metric("collector_requests_total", method="PUT", status="2xx") == before
    paths = captured_paths(tls_redis, ca, collector["redis_queue"])
    assert not {p for p in paths if f"plain-{run}" in p}
    envoy.process.stop()


def test_mutual_tls_envoy_presents_its_client_certificate(
    ext_proc_factory, tls_redis, ca, upstream, envoy_factory
):
    collector = collector_settings(
        rediss_url(tls_redis),
        tls={
            "enabled": True,
            "cert_file": str(ca.server_cert),
            "key_file": str(ca.server_key),
            "client_ca_file": str(ca.ca_file),
        },
        redis_tls={"enabled": True, "ca_file": str(ca.ca_file)},
    )
    ext = ext_proc_factory(collector)
    client_tls = {"enabled": True, "ca_file": str(ca.ca_file)}
    with_cert = {**client_tls, "cert_file": str(ca.client_cert), "key_file": str(ca.client_key)}
    envoys = {}
    for name, tls in (("with-cert", with_cert), ("no-cert", client_tls)):
        config = make_config(collector, control_plane={"collector": {"tls": tls}})
        envoys[name] = envoy_for(
            envoy_factory, config, upstream_port=upstream.port, ext_proc_port=ext.grpc_port
        )
    # With its client certificate, Envoy's captures land.
    capture_lands(envoys["with-cert"], tls_redis, ca, ext.queue)
    # Without one, the collector refuses the handshake: nothing is captured, traffic flows.
    no_cert = envoys["no-cert"]
    run = uuid.uuid4().hex[:8]
    for n in range(3):
        resp = httpx.post(f"{no_cert.url}/echo/mtls-{run}-{n}", json={"n": n}, timeout=10)
        assert resp.status_code == 200 and resp.json() == {"n": n}
    wait_until(
        lambda: capture_attempts_over(no_cert, started=3),
        timeout_s=30,
        what="3 capture attempts over, failed, in the Envoy without a client certificate",
        explain=lambda: (
            str(captured_paths(tls_redis, ca, ext.queue))
            + httpx.get(
                f"{no_cert.admin_url}/stats?filter=(ext_proc|mockado_collector)", timeout=5
            ).text
        ),
    )
    assert not {p for p in captured_paths(tls_redis, ca, ext.queue) if f"mtls-{run}" in p}
    for envoy in envoys.values():
        envoy.process.stop()
    ext.process.stop()


# -- Redis over rediss:// without verification, and a wrong CA --------------------------


def test_redis_tls_with_verify_off_connects(tls_redis):
    async def ping() -> bool:
        client = make_redis(
            rediss_url(tls_redis), tls=TLSClient(enabled=True, verify=False), timeout_s=5
        )
        try:
            return bool(await client.ping())
        finally:
            await client.aclose()

    assert asyncio.run(ping()) is True


def test_redis_tls_with_the_wrong_ca_is_refused(tls_redis, other_ca):
    async def ping() -> None:
        client = make_redis(
            rediss_url(tls_redis),
            tls=TLSClient(enabled=True, ca_file=str(other_ca.ca_file)),
            timeout_s=5,
        )
        try:
            await client.ping()
        finally:
            await client.aclose()

    with pytest.raises(redis.ConnectionError, match=r"(?i)certificate verify failed"):
        asyncio.run(ping())


# -- loader: Redis over rediss://, WireMock over https ------------------------------------


@pytest.fixture
def queue() -> str:
    return f"test-tls-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def tls_rclient(tls_redis, ca) -> Iterator[redis.Redis]:
    client = tls_redis_client(tls_redis, ca)
    yield client
    client.close()


def loader_tls_config(tls_redis, https_url: str, queue: str, *, redis_ca: Path, wiremock_ca: Path):
    return config_for(
        rediss_url(tls_redis),
        https_url,
        queue,
        redis_tls={"enabled": True, "ca_file": str(redis_ca)},
        wiremock_tls={"enabled": True, "ca_file": str(wiremock_ca)},
    )


def test_loader_moves_a_mapping_over_rediss_into_https_wiremock(
    tls_redis, tls_rclient, https_wiremock, ca, queue
):
    _wm, https_url = https_wiremock
    mappings = [stub(n, run=queue) for n in range(3)]
    enqueue_tls(tls_rclient, queue, mappings)
    config = loader_tls_config(
        tls_redis, https_url, queue, redis_ca=ca.ca_file, wiremock_ca=ca.ca_file
    )
    with LoaderThread(config):
        wait_for(
            lambda: {m["id"] for m in mappings} <= https_ids(https_url, ca),
            timeout_s=30,
            what="3 mappings in WireMock over https",
        )
        wait_for(lambda: tls_rclient.xlen(queue) == 0, timeout_s=30, what="queue acked")
    # The stub serves (over https too).
    resp = httpx.get(f"{https_url}/{queue}/item/1", verify=trusting(ca), timeout=10)
    assert resp.status_code == 200 and resp.text == "item 1"


def test_loader_with_the_wrong_wiremock_ca_fails_closed(
    tls_redis, tls_rclient, https_wiremock, ca, other_ca, queue
):
    _wm, https_url = https_wiremock
    mapping = stub(0, run=queue)
    enqueue_tls(tls_rclient, queue, [mapping])
    config = loader_tls_config(
        tls_redis, https_url, queue, redis_ca=ca.ca_file, wiremock_ca=other_ca.ca_file
    )
    errors = metric(LOADER_ERRORS, error_type="wiremock_unavailable", shard="default")
    group = RedisKeys(queue=queue).group
    with LoaderThread(config) as loader:
        # It read the item over rediss:// and keeps failing the https handshake: counted.
        wait_for(
            lambda: (
                metric(LOADER_ERRORS, error_type="wiremock_unavailable", shard="default")
                >= errors + 2
            ),
            timeout_s=30,
            what="wiremock errors counted",
        )
        wait_for(
            lambda: tls_rclient.xpending(queue, group)["pending"] == 1,
            timeout_s=30,
            what="the item held, unacknowledged",
        )
        assert loader._thread.is_alive()
    # Nothing reached WireMock, nothing was dropped: the item waits in Redis for a fix.
    assert mapping["id"] not in https_ids(https_url, ca)
    assert tls_rclient.xlen(queue) == 1
    assert tls_rclient.xlen(RedisKeys(queue=queue).dead_letter) == 0


def test_loader_with_the_wrong_redis_ca_reads_nothing(
    tls_redis, tls_rclient, https_wiremock, ca, other_ca, queue
):
    _wm, https_url = https_wiremock
    mapping = stub(0, run=queue)
    enqueue_tls(tls_rclient, queue, [mapping])
    config = loader_tls_config(
        tls_redis, https_url, queue, redis_ca=other_ca.ca_file, wiremock_ca=ca.ca_file
    )
    errors = metric(LOADER_ERRORS, error_type="redis_error", shard="none")
    with LoaderThread(config) as loader:
        wait_for(
            lambda: metric(LOADER_ERRORS, error_type="redis_error", shard="none") >= errors + 1,
            timeout_s=30,
            what="redis errors counted",
        )
        assert loader._thread.is_alive()
    assert mapping["id"] not in https_ids(https_url, ca)
    # No consumer group was created: the loader never got a command through.
    assert tls_rclient.xinfo_stream(queue)["groups"] == 0


# -- a Redis password never reaches the logs -----------------------------------------------

PASSWORD = "Rds-pw-9f3c1e7b"  # a value no log line would contain by chance


@pytest.fixture(scope="module")
def password_redis(redis_factory: Callable[..., RedisHandle]) -> RedisHandle:
    return redis_factory(extra_args=("--requirepass", PASSWORD))


def password_url(handle: RedisHandle) -> str:
    return f"redis://:{PASSWORD}@127.0.0.1:{handle.port}/0"


def stop_and_read_log(process: procs.ManagedProcess) -> str:
    process.signal(signal.SIGTERM)
    assert process.proc is not None
    process.proc.wait(timeout=30)
    return process.log_text()


def test_loader_log_never_contains_the_redis_password(
    password_redis, https_wiremock, mockado_bin, clean_env, tmp_path, logs_dir, queue,
    process_registry,
):  # fmt: skip
    wm, _https_url = https_wiremock
    config_path = tmp_path / "loader.yaml"
    # The password comes from the environment, as in the rendered Secret; the file has none.
    config_path.write_text(
        yaml.safe_dump({"loader": {"wiremock_url": wm.url, "redis_queue": queue}})
    )
    env = {**clean_env, "MOCKADO_LOADER__REDIS_URL": password_url(password_redis)}
    # Ready: /readyz pings Redis, so the password from the URL authenticated.
    process, _port = start_loader(
        "loader-password", [mockado_bin, "loader", "--config", str(config_path),
                            "--log-level", "DEBUG"],
        env=env, log_path=logs_dir / f"{queue}-loader.log", started=process_registry.add,
        ready_path="/readyz",
    )  # fmt: skip
    try:
        client = redis.Redis.from_url(password_url(password_redis))
        mapping = stub(0, run=queue)
        client.xadd(queue, encode_entry(mapping, host="api"))
        wait_for(lambda: client.xlen(queue) == 0, timeout_s=30, what="mapping loaded")
        client.close()
    finally:
        log = stop_and_read_log(process)
    assert "loader started" in log
    assert log.count(PASSWORD) == 0


def test_collector_log_never_contains_the_redis_password(password_redis, ext_proc_factory):
    collector = collector_settings(password_url(password_redis))
    ext = ext_proc_factory(collector)
    wait_until(
        lambda: is_ready(ext.http_port),
        what="collector ready (Redis with a password)",
    )
    log = stop_and_read_log(ext.process)
    assert "grpc port" in log
    assert log.count(PASSWORD) == 0


def test_mockado_up_keeps_the_redis_password_out_of_its_state_dir(
    stack_factory, password_redis, upstream
):
    stack = stack_factory(upstream=upstream.url, env={"REDIS_URL": password_url(password_redis)})
    # Up and ready means the collector and the loader authenticated to Redis.
    resp = httpx.post(f"{stack.proxy_url}/echo/up-secret", json={"n": 1}, timeout=10)
    assert resp.status_code == 200

    def served() -> bool:
        return httpx.post(f"{stack.wiremock_url}/echo/up-secret", json={"n": 1}).status_code == 200

    wait_for(served, timeout_s=30, what="the capture served by WireMock")
    assert stack.stop() == 0
    assert stack.effective_config["collector"]["redis_url"] == (
        f"redis://127.0.0.1:{password_redis.port}/0"
    )
    files = [p for p in stack.state_dir.rglob("*") if p.is_file() and "redis" not in p.parts]
    assert any(p.suffix == ".log" for p in files)
    hits = [str(p) for p in files if PASSWORD.encode() in p.read_bytes()]
    assert hits == [] and PASSWORD not in stack.summary
