"""The cluster in a box: every rendered workload runs as a real container, the way a
kubelet runs it (argv from the image's ENTRYPOINT/CMD and the spec's command/args, env
from ConfigMaps and Secrets, volumes, the security context, Services, probes), and real
traffic goes app -> sidecar Envoy with the rendered capture filter -> collector -> Redis ->
loader -> WireMock shard, where a canary call gets the sanitized recording back.

Needs root (apt-get install docker.io debootstrap, dockerd); images are built once and
reused while their inputs are unchanged (a first run takes a few minutes).
"""

from __future__ import annotations

import base64
import copy
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from ext_proc_server.core.config.control_plane import ENVOY_VERSION
from ext_proc_server.core.queue_entries import encode_entry
from tests.support.box import (
    Box,
    BoxError,
    BoxImages,
    Docker,
    build_images,
    inject_sidecar,
    running_engine,
)
from tests.support.box.sidecar import ADMIN_PORT as SIDECAR_ADMIN_PORT
from tests.support.box_credentials import (
    CREDENTIALS,
    PSEUDONYM_KEY,
    REDIS,
    REDIS_PASSWORDS,
    assert_redis_wants_the_secret,
    create_secrets,
    resp,
)
from tests.support.paths import REPO
from tests.support.processes import poll_until
from tests.support.tls_ca import ThrowawayCA, make_ca

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1800)]

WIREMOCK_JAR = REPO / ".tools/npm/node_modules/wiremock/build/wiremock-standalone-3.13.2.jar"
MOCKADO = str(Path(sys.executable).parent / "mockado")
CAPTURED_HOST = "shop-api.shop.svc.cluster.local"
RAW_EMAIL = "joana.silva+compras@exemplo.com.br"
RAW_CPF = "529.982.247-25"

# A user's workload in a captured namespace, and a namespace whose canary pods use the mocks.
SHOP = """
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Namespace
metadata: {name: checkout}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: shop-api, namespace: shop}
spec:
  selector: {matchLabels: {app: shop-api}}
  template:
    metadata: {labels: {app: shop-api}}
    spec:
      securityContext: {runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000}
      containers:
      - name: app
        image: {image}
        command: [mockado, demo-api, --host, 0.0.0.0, --port, "8000"]
        ports: [{name: http, containerPort: 8000}]
        readinessProbe: {httpGet: {path: /healthz, port: http}, periodSeconds: 2}
        securityContext: {readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
---
apiVersion: v1
kind: Service
metadata: {name: shop-api, namespace: shop}
spec:
  selector: {app: shop-api}
  ports: [{name: http, port: 80, targetPort: http}]
"""


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Docker]:
    with running_engine(log_dir=tmp_path_factory.mktemp("engine")) as docker:
        yield docker


@pytest.fixture(scope="module")
def images(engine: Docker) -> BoxImages:
    return build_images(
        engine,
        repo=REPO,
        wiremock_jar=WIREMOCK_JAR,
        wiremock_jar_path="/var/wiremock/lib/wiremock-standalone.jar",
        work_dir=Path("/var/tmp/mockado-box"),
    )


def box_config(images: BoxImages) -> dict:
    """mockado.example.yaml as a user would adapt it: their images, namespaces and shards."""
    config = yaml.safe_load((REPO / "mockado.example.yaml").read_text(encoding="utf-8"))
    config["collector"]["sanitize_mode"] = "pseudonyms"  # the key comes from the Secret
    # No sidecar stands in front of the box's collector (Istio's appends each caller's mesh
    # identity to x-forwarded-client-cert): as a user without one would, turn the check off.
    config["collector"]["caller_identity"] = {"forwarded_by_sidecar": False, "required": False}
    config["control_plane"].update(
        image=images.mockado,
        redis_image=images.redis,
        namespaces={
            "shop": {"enabled": True, "direction": "inbound"},
            "checkout": {
                "canary": {"workload_labels": {"track": "canary"}, "hosts": [CAPTURED_HOST]}
            },
        },
    )
    config["serving"].update(
        wiremock_image=images.wiremock,
        jdk_image=images.jdk,
        shard_groups={"shop": ["*.shop.svc.cluster.local"]},
    )
    return config


def user_env(**settings: str) -> dict[str, str]:
    """This environment without MOCKADO_* leaking in, plus the given settings."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith("MOCKADO_")}, **settings}


def render(config: dict, out: Path) -> Path:
    """``mockado render --config FILE --out DIR``, as a user runs it."""
    out.mkdir(parents=True, exist_ok=True)
    config_path = out / "mockado.yaml"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    proc = subprocess.run([MOCKADO, "render", "--config", str(config_path), "--out", str(out)],
                          capture_output=True, text=True, env=user_env(), check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def rendered_workloads(deploy: Path) -> set[str]:
    docs = [
        d for p in sorted(deploy.glob("*.yaml")) for d in yaml.safe_load_all(p.read_text()) if d
    ]
    return {f"{d['metadata']['namespace']}/{d['metadata']['name']}" for d in docs
            if d["kind"] in ("Deployment", "StatefulSet")}  # fmt: skip


def canary_destination(virtual_service: Path, host: str) -> tuple[str, int]:
    """Where the rendered VirtualService sends the canary pods' calls to ``host``."""
    for doc in yaml.safe_load_all(virtual_service.read_text(encoding="utf-8")):
        if doc and host in doc["spec"]["hosts"]:
            route = next(r for r in doc["spec"]["http"] if r["name"] == "mockado-canary")
            destination = route["route"][0]["destination"]
            return destination["host"], int(destination["port"]["number"])
    raise AssertionError(f"{virtual_service}: no VirtualService for {host}")


def sanitized_by_cli(response_body: str) -> dict:
    """What ``mockado sanitize`` makes of the response with the Secret's key."""
    record = {"request": {"method": "GET", "path": "/api/users/1", "headers": {}, "body": ""},
              "response": {"status": 200, "headers": {"content-type": ["application/json"]},
                           "body": response_body}}  # fmt: skip
    env = user_env(
        MOCKADO_COLLECTOR__SANITIZE_MODE="pseudonyms",
        MOCKADO_COLLECTOR__PSEUDONYM_KEY=PSEUDONYM_KEY,
    )
    proc = subprocess.run([MOCKADO, "sanitize"], input=json.dumps(record) + "\n",
                          capture_output=True, text=True, env=env, check=True)  # fmt: skip
    return json.loads(json.loads(proc.stdout)["response"]["body"])


@pytest.fixture(scope="module")
def rendered(images: BoxImages, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render(box_config(images), tmp_path_factory.mktemp("rendered"))


def test_rendered_workloads_run_and_a_capture_reaches_the_canary(
    images, engine, rendered, tmp_path
):
    with Box(engine, sandbox_image=images.base, run_dir=tmp_path / "box") as box:
        box.apply_dir(rendered / "deploy")
        box.apply_dir(rendered / "istio")
        create_secrets(box)
        box.apply_yaml(SHOP.replace("{image}", images.mockado))
        inject_sidecar(
            box.manifests,
            namespace="shop",
            deployment="shop-api",
            image=images.envoy,
            app_port=8000,
        )
        box.start()
        started = {f"{pod.workload.namespace}/{pod.workload.name}" for pod in box.pods}
        assert rendered_workloads(rendered / "deploy") <= started
        # The sidecar runs the mesh's Envoy, the one the EnvoyFilter patches are tested on.
        assert sidecar_envoy_version(box, namespace="shop") == ENVOY_VERSION
        assert {"mockado/mockado-collector", "mockado/mockado-loader", "mockado/mockado-redis",
                "mockado/mockado-wiremock", "mockado/mockado-wiremock-shop"} <= started  # fmt: skip

        # Live traffic: a pod calls the app's Service; the sidecar captures the exchange.
        live = box.http("GET", f"http://{CAPTURED_HOST}/api/users/1", namespace="checkout")
        assert live.status == 200, live.body
        assert live.json()["email"] == RAW_EMAIL

        # A canary pod's call to the same host, routed as the rendered VirtualService says.
        shard_host, shard_port = canary_destination(
            rendered / "istio/checkout/virtualservice-canary.yaml", CAPTURED_HOST
        )
        assert shard_host == "mockado-wiremock-shop.mockado.svc.cluster.local"

        def replayed():
            reply = box.http("GET", f"http://{shard_host}:{shard_port}/api/users/1", namespace="checkout",
                             headers={"Host": CAPTURED_HOST})  # fmt: skip
            return reply if reply.status == 200 else None

        mock = poll_until(replayed, timeout_s=90, interval_s=1.0)
        assert mock, f"the capture never reached the WireMock shard:\n{box.tail_logs()}"
        for raw in (RAW_EMAIL, RAW_CPF):
            assert raw not in mock.body
        assert mock.json() == sanitized_by_cli(live.body)
        assert mock.json()["email"].endswith("@example.invalid")
        # The loader got there with the Secret's credentials; without them, nobody does.
        assert_redis_wants_the_secret(box)
        assert_wiremock_admin_wants_the_secret(box, shard_host, shard_port)
        box.check_running()


# Run in the sidecar container: the version its running Envoy reports on its admin port.
SERVER_INFO_VERSION = """
import json, sys, urllib.request
with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/server_info", timeout=10) as r:
    print(json.load(r)["version"])
"""


def sidecar_envoy_version(box: Box, *, namespace: str) -> str:
    """The "1.37" of the running sidecar's /server_info ("HASH/1.37.0/Clean/RELEASE/...")."""
    [proxy] = [c for c in box.containers() if c.namespace == namespace and c.name == "istio-proxy"]
    reported = box.ctx.docker.text(
        "exec", proxy.docker_name, "python3", "-c", SERVER_INFO_VERSION, str(SIDECAR_ADMIN_PORT)
    )
    match = re.search(r"/(1\.[0-9]+)\.[0-9]+/", reported)
    assert match, f"the sidecar's /server_info names no Envoy version: {reported!r}"
    return match[1]


def assert_wiremock_admin_wants_the_secret(box: Box, shard_host: str, shard_port: int) -> None:
    admin = f"http://{shard_host}:{shard_port}/__admin/mappings"
    user, password = CREDENTIALS["wiremock-admin-user"], CREDENTIALS["wiremock-admin-password"]

    def basic(secret: str) -> dict[str, str]:
        token = base64.b64encode(f"{user}:{secret}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    for headers in ({}, basic("not-the-password")):
        for method, url in (("GET", admin), ("POST", f"{admin}/reset")):
            refused = box.http(method, url, namespace="checkout", headers=headers)
            assert refused.status == 401, (method, url, refused.status)
    listed = box.http("GET", admin, namespace="checkout", headers=basic(password))
    assert listed.status == 200
    assert listed.json()["meta"]["total"] >= 1  # what the loader loaded, still there


def _container(doc: dict, name: str) -> dict:
    return next(c for c in doc["spec"]["template"]["spec"]["containers"] if c["name"] == name)


def _repeat_image_name(doc: dict) -> None:
    collector = _container(doc, "collector")
    collector["args"] = ["mockado", *collector["args"]]


def _move_config_mount(doc: dict) -> None:
    for mount in _container(doc, "collector")["volumeMounts"]:
        if mount["name"] == "config":
            mount["mountPath"] = "/etc/mockado.d"


def _image_without_java(base_image: str):
    def mutate(doc: dict) -> None:
        _container(doc, "wiremock")["image"] = base_image

    return mutate


def _drop_data_volume(doc: dict) -> None:
    redis = _container(doc, "redis")
    redis["volumeMounts"] = [m for m in redis["volumeMounts"] if m["name"] != "data"]


def _probe_wrong_port(doc: dict) -> None:
    _container(doc, "collector")["readinessProbe"]["httpGet"]["port"] = 9999


# Each mistake, made in a rendered manifest: (files applied, Deployment changed, change,
# what the failure must say). The collector's probe case runs Redis too, so the port is
# the only thing wrong.
BROKEN = {
    "image-name-in-args": (("collector",), "mockado-collector", _repeat_image_name,
                           ["container collector exited with code 2 before it was Ready",
                            "argv: mockado mockado ext-proc", "invalid choice: 'mockado'"]),
    "wrong-mount-path": (("collector",), "mockado-collector", _move_config_mount,
                         ["container collector exited with code 2 before it was Ready",
                          "/etc/mockado/mockado.yaml: config file not found"]),
    "dependency-missing-from-image": (("wiremock",), "mockado-wiremock", None,
                                      ["container wiremock could not start (RunContainerError)",
                                       "argv: java -Xmx", '"java": executable file not found']),
    "write-outside-a-volume": (("redis",), "mockado-redis", _drop_data_volume,
                               ["container redis exited with code 1 before it was Ready",
                                "argv: redis-server --port 6379 --dir /data", "Read-only file system"]),
    "probe-on-wrong-port": (("redis", "collector"), "mockado-collector", _probe_wrong_port,
                            ["container collector not Ready after 30 s",
                             "readinessProbe httpGet {'path': '/readyz', 'port': 9999}"]),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_rendered_pod_fails_the_box(case, images, engine, rendered, tmp_path):
    files, deployment, change, expected = BROKEN[case]
    if change is None:
        change = _image_without_java(images.base)
    with Box(
        engine, sandbox_image=images.base, run_dir=tmp_path / "box", ready_timeout_s=30
    ) as box:
        for name in ("00-namespace", "configmap", *files):
            box.apply_yaml((rendered / "deploy" / f"{name}.yaml").read_text())
        create_secrets(box)
        doc = copy.deepcopy(box.manifests.get("Deployment", "mockado", deployment))
        change(doc)
        box.apply(doc)
        with pytest.raises(BoxError) as caught:
            box.start()
    message = str(caught.value)
    for needle in expected:
        assert needle in message, message


def test_without_the_credentials_secret_redis_and_wiremock_do_not_start(
    images, engine, rendered, tmp_path
):
    """Locked until the user creates the Secret: no Redis without a password, no WireMock
    with an open admin API."""
    for workload, variable, secret in (
        ("redis", "REDIS_COLLECTOR_PASSWORD", "mockado-redis-collector"),
        ("wiremock", "WIREMOCK_ADMIN_USER", "mockado-credentials"),
    ):
        with Box(
            engine, sandbox_image=images.base, run_dir=tmp_path / workload, ready_timeout_s=30
        ) as box:
            for name in ("00-namespace", "configmap", workload):
                box.apply_yaml((rendered / "deploy" / f"{name}.yaml").read_text())
            with pytest.raises(BoxError) as caught:
                box.start()
        message = str(caught.value)
        assert f"env {variable}: secretKeyRef {secret}/" in message, message


# Where the rendered pods mount Secret mockado-files (docs/security.md).
FILES_DIR = "/var/run/secrets/mockado"
DEDUP_KEY = "box-dedup-key-6c0f3a9e71d24b58"
# Run in the collector's container: the certificate its gRPC port presents, as PEM.
SERVED_CERTIFICATE = """
import socket, ssl, sys
context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
context.set_alpn_protocols(["h2"])
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10) as raw:
    with context.wrap_socket(raw) as tls:
        sys.stdout.write(ssl.DER_cert_to_PEM_cert(tls.getpeercert(binary_form=True)))
"""


@pytest.fixture(scope="module")
def collector_ca(tmp_path_factory: pytest.TempPathFactory) -> ThrowawayCA:
    return make_ca(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="module")
def rendered_with_files(images: BoxImages, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The collector with gRPC TLS and a shared dedup key: three files it reads at start."""
    config = box_config(images)
    config["collector"]["tls"] = {"enabled": True, "cert_file": f"{FILES_DIR}/tls.crt",
                                  "key_file": f"{FILES_DIR}/tls.key"}  # fmt: skip
    config["collector"]["dedup_key_file"] = f"{FILES_DIR}/dedup-key"
    return render(config, tmp_path_factory.mktemp("rendered-files"))


def files_secret(ca: ThrowawayCA, *, without: str = "") -> dict[str, str]:
    """Secret mockado-files as ``kubectl create secret generic --from-file`` makes it."""
    files = {"tls.crt": ca.server_cert.read_text(), "tls.key": ca.server_key.read_text(),
             "dedup-key": DEDUP_KEY}  # fmt: skip
    return {key: value for key, value in files.items() if key != without}


def apply_collector(box: Box, rendered: Path) -> None:
    for name in ("00-namespace", "configmap", "redis", "collector"):
        box.apply_yaml((rendered / "deploy" / f"{name}.yaml").read_text())
    create_secrets(box)


def test_the_collector_reads_its_certificate_from_the_files_secret(
    images, engine, rendered_with_files, collector_ca, tmp_path
):
    with Box(engine, sandbox_image=images.base, run_dir=tmp_path / "box") as box:
        apply_collector(box, rendered_with_files)
        box.create_secret_generic("mockado", "mockado-files", files_secret(collector_ca))
        box.start()
        collector = next(c for c in box.containers() if c.name == "collector")
        served = box.ctx.docker.text(
            "exec", collector.docker_name, "python3", "-c", SERVED_CERTIFICATE, "50051"
        )
        # The key and certificate files: the pod's group reads them, nobody else does.
        files = [f"{FILES_DIR}/{key}" for key in files_secret(collector_ca)]
        modes = box.ctx.docker.text("exec", collector.docker_name, "stat", "-c", "%a %u:%g", *files)
        box.check_running()
    assert modes.splitlines() == ["440 0:1000"] * len(files), modes
    # The file holds the chain, leaf first: the port presents the leaf from the Secret.
    end = "-----END CERTIFICATE-----"
    leaf = collector_ca.server_cert.read_text().split(end)[0] + end
    assert served.split() == leaf.split()


@pytest.mark.parametrize("missing", ["the-secret", "tls.key"])
def test_without_its_files_the_collector_is_held_naming_them(
    missing, images, engine, rendered_with_files, collector_ca, tmp_path
):
    with Box(
        engine, sandbox_image=images.base, run_dir=tmp_path / "box", ready_timeout_s=30
    ) as box:
        apply_collector(box, rendered_with_files)
        if missing != "the-secret":
            secret = files_secret(collector_ca, without=missing)
            box.create_secret_generic("mockado", "mockado-files", secret)
        with pytest.raises(BoxError) as caught:
            box.start()
    message = str(caught.value)
    expected = {
        "the-secret": "volume secret-files: secret 'mockado-files' does not exist",
        "tls.key": "volume secret-files: secret 'mockado-files': no key 'tls.key'",
    }
    assert expected[missing] in message, message


SHOP_SHARD = "http://mockado-wiremock-shop.mockado.svc.cluster.local:8080"
KEPT = {"id": "3d0f5c1e-8a4b-4c2d-9e7f-0b1a2c3d4e5f",
        "request": {"method": "GET", "url": "/api/orders/7"},
        "response": {"status": 200, "body": "order 7, recorded"}}  # fmt: skip


def queue_mapping(box: Box, mapping: dict, *, host: str) -> None:
    """XADD the mapping to the loader's queue, as a collector does."""
    fields = [word for pair in encode_entry(mapping, host=host).items() for word in pair]
    data = resp("AUTH", "mockado-collector", REDIS_PASSWORDS["collector"]) + resp(
        "XADD", "mockado:mappings", "*", *fields
    )
    reply = box.tcp(REDIS, 6379, data + resp("QUIT"), namespace="mockado")
    assert reply.startswith("+OK\r\n$"), reply


def test_a_new_wiremock_pod_is_ready_only_once_it_holds_its_shard(
    images, engine, rendered, tmp_path
):
    """A rollout or an eviction starts a new WireMock pod, empty: it must take no canary
    call before its stubs are back, even with no loader running to put them back."""
    with Box(engine, sandbox_image=images.base, run_dir=tmp_path / "box") as box:
        for name in ("00-namespace", "configmap", "redis", "loader", "wiremock"):
            box.apply_yaml((rendered / "deploy" / f"{name}.yaml").read_text())
        create_secrets(box)
        box.start()
        queue_mapping(box, KEPT, host=CAPTURED_HOST)

        def served():
            reply = box.http("GET", f"{SHOP_SHARD}/api/orders/7", namespace="mockado")
            return reply if reply.status == 200 else None

        assert poll_until(served, timeout_s=90, interval_s=1.0), box.tail_logs()
        box.delete_pod("mockado", "mockado-loader")
        started = time.monotonic()
        pod = box.replace_pod("mockado", "mockado-wiremock-shop")
        box.wait_ready(pod)
        ready_s = time.monotonic() - started
        # The first call once the new pod is Ready already gets the recording.
        first = box.http("GET", f"{SHOP_SHARD}/api/orders/7", namespace="mockado")
        assert (first.status, first.body) == (200, "order 7, recorded"), box.tail_logs()
        box.check_running()
    print(f"the new WireMock pod was Ready, holding its shard, {ready_s:.1f} s after it started")


@pytest.mark.parametrize("persistence", [False, True], ids=["empty-dir", "claim"])
def test_a_new_redis_pod_keeps_the_queue_only_on_a_claim(persistence, images, engine, tmp_path):
    """A rollout or an eviction replaces the Redis pod: on the default emptyDir the queue
    (and each shard's record, the claims) is gone; with control_plane.redis_persistence
    the new pod loads it back from the claim."""
    config = box_config(images)
    # A claim of 1Gi holds a Redis of at most 256mb (REDIS_DISK_FACTOR).
    config["control_plane"]["redis_maxmemory"] = "256mb"
    config["control_plane"]["redis_persistence"] = {"enabled": persistence, "size": "1Gi"}
    rendered = render(config, tmp_path / "rendered")
    with Box(engine, sandbox_image=images.base, run_dir=tmp_path / "box") as box:
        for name in ("00-namespace", "configmap", "redis"):
            box.apply_yaml((rendered / "deploy" / f"{name}.yaml").read_text())
        create_secrets(box)
        box.start()
        queue_mapping(box, KEPT, host=CAPTURED_HOST)
        box.wait_ready(box.replace_pod("mockado", "mockado-redis"))
        data = resp("AUTH", "mockado-loader", REDIS_PASSWORDS["loader"]) + resp(
            "XLEN", "mockado:mappings"
        )
        reply = box.tcp(REDIS, 6379, data + resp("QUIT"), namespace="mockado")
        box.check_running()
    assert reply.startswith(f"+OK\r\n:{1 if persistence else 0}\r\n"), reply


# The user's own WireMock, in a namespace of theirs: what loader.wiremock_url names.
USERS_WIREMOCK = """
apiVersion: v1
kind: Namespace
metadata: {name: mocks}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: wiremock, namespace: mocks}
spec:
  selector: {matchLabels: {app: wiremock}}
  template:
    metadata: {labels: {app: wiremock}}
    spec:
      securityContext: {runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000}
      containers:
      - name: wiremock
        image: {image}
        command: [java, -jar, {jar}, --port, "8080", --root-dir, /tmp/wiremock]
        ports: [{name: http, containerPort: 8080}]
        readinessProbe: {tcpSocket: {port: http}, periodSeconds: 2}
        volumeMounts: [{name: tmp, mountPath: /tmp}]
      volumes: [{name: tmp, emptyDir: {}}]
---
apiVersion: v1
kind: Service
metadata: {name: wiremock, namespace: mocks}
spec:
  selector: {app: wiremock}
  ports: [{name: http, port: 8080, targetPort: http}]
"""
USERS_WIREMOCK_URL = "http://wiremock.mocks.svc.cluster.local:8080"


def test_an_outside_default_shard_is_loaded_by_the_loader_and_never_copied_in(
    images, engine, tmp_path
):
    """loader.wiremock_url names the user's WireMock: the loader loads it; no in-cluster
    default WireMock (nor its keeper) runs to hold a copy the canaries would be sent to."""
    config = box_config(images)
    config["loader"]["wiremock_url"] = USERS_WIREMOCK_URL
    rendered = render(config, tmp_path / "rendered")
    users = USERS_WIREMOCK.replace("{image}", images.wiremock).replace(
        "{jar}", config["serving"]["wiremock_jar_path"]
    )
    with Box(engine, sandbox_image=images.base, run_dir=tmp_path / "box") as box:
        box.apply_dir(rendered / "deploy")
        create_secrets(box)
        box.apply_yaml(users)
        box.start()
        started = {f"{p.workload.namespace}/{p.workload.name}" for p in box.pods}
        kept = [c.argv[c.argv.index("--shard") + 1] for c in box.containers() if c.name == "keeper"]
        # A host no shard group claims: the default shard's.
        queue_mapping(box, KEPT, host="orders.example.com")

        def served():
            reply = box.http("GET", f"{USERS_WIREMOCK_URL}/api/orders/7", namespace="mocks")
            return reply if reply.status == 200 else None

        loaded = poll_until(served, timeout_s=90, interval_s=1.0)
        box.check_running()
        logs = box.tail_logs()
    assert "mockado/mockado-wiremock" not in started
    assert {"mockado/mockado-loader", "mockado/mockado-wiremock-shop", "mocks/wiremock"} <= started
    assert kept == ["shop"]
    assert loaded and loaded.body == "order 7, recorded", logs
