"""mockado's WireMock launcher: indexed stubs answer exactly as stock WireMock does, and
several servers share one JVM without seeing each other's stubs."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from control_plane.local import procs
from control_plane.render import render_k8s_manifests
from ext_proc_server.core.config import MockadoConfig
from tests.support.processes import WireMockHandle, start_on_promised_ports

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not procs.wiremock_launcher_available(), reason="java cannot compile the launcher (no JDK)"
    ),
]


def stub(n: int, request: dict, body: str, *, priority: int | None = None, status: int = 200):
    mapping = {
        "id": f"00000000-0000-4000-8000-{n:012d}",
        "request": request,
        "response": {"status": status, "body": body},
    }
    if priority is not None:
        mapping["priority"] = priority
    return mapping


# Every kind of URL matcher, priorities above and below the default, same URLs told apart by
# method, host, query and headers, and stubs without any URL matcher.
STUBS = [
    stub(1, {"method": "GET", "urlPath": "/items/1"}, "path items/1"),
    stub(2, {"method": "GET", "url": "/items/1?lang=pt"}, "url items/1?lang=pt", priority=4),
    stub(
        3,
        {"method": "GET", "urlPath": "/items/1", "queryParameters": {"lang": {"equalTo": "en"}}},
        "path items/1 lang=en",
        priority=3,
    ),
    stub(4, {"method": "GET", "urlPathPattern": "/items/[0-9]+"}, "pattern items", priority=6),
    stub(5, {"method": "GET", "urlPathPattern": "/items/2"}, "pattern items/2 high", priority=2),
    stub(6, {"method": "ANY", "urlPathTemplate": "/orders/{id}"}, "template orders"),
    stub(7, {"method": "GET", "urlPath": "/same", "host": {"equalTo": "a.example"}}, "host a"),
    stub(8, {"method": "GET", "urlPath": "/same", "host": {"equalTo": "b.example"}}, "host b"),
    stub(9, {"method": "POST", "urlPath": "/items/1"}, "post items/1"),
    stub(10, {"method": "GET", "urlPath": "/a%20b"}, "encoded path"),
    stub(
        11,
        {"method": "GET", "headers": {"X-Special": {"equalTo": "yes"}}},
        "any url, header",
        priority=1,
    ),
    stub(12, {"method": "GET", "urlPath": "/hot"}, "hot default priority"),
    stub(13, {"method": "GET", "urlPath": "/hot"}, "hot priority 1", priority=1),
    stub(14, {"method": "GET", "urlPath": "/hot"}, "hot newest default priority"),
    stub(15, {"method": "GET", "url": "/exact"}, "url /exact"),
    stub(16, {"method": "GET", "urlPattern": "/exact.*"}, "pattern /exact", priority=5),
    stub(17, {"urlPattern": ".*"}, "catch-all", priority=10, status=404),
    # The port of Host (80 when it names none), as mockado's stubs match it.
    stub(18, {"method": "GET", "urlPath": "/port", "port": 80}, "port 80"),
    stub(19, {"method": "GET", "urlPath": "/port", "port": 9090}, "port 9090"),
]

REQUESTS: list[tuple[str, str, dict[str, str]]] = [
    ("GET", "/items/1", {}),
    ("GET", "/items/1?lang=pt", {}),
    ("GET", "/items/1?lang=en", {}),
    ("GET", "/items/1?lang=de", {}),
    ("GET", "/items/2", {}),
    ("GET", "/items/3", {}),
    ("POST", "/items/1", {}),
    ("PUT", "/items/1", {}),
    ("DELETE", "/orders/7", {}),
    ("GET", "/same", {"Host": "a.example"}),
    ("GET", "/same", {"Host": "b.example"}),
    ("GET", "/same", {"Host": "c.example"}),
    ("GET", "/a%20b", {}),
    ("GET", "/items/1", {"X-Special": "yes"}),
    ("GET", "/hot", {}),
    ("GET", "/exact", {}),
    ("GET", "/exact?x=1", {}),
    ("GET", "/exact/", {}),
    ("GET", "/nothing/here", {}),
    ("GET", "/port", {"Host": "p.example"}),
    ("GET", "/port", {"Host": "p.example:80"}),
    ("GET", "/port", {"Host": "p.example:9090"}),
    ("GET", "/port", {"Host": "p.example:7070"}),
]


def answers(url: str) -> list[tuple[int, str]]:
    out = []
    with httpx.Client(base_url=url, timeout=10) as client:
        for method, path, headers in REQUESTS:
            resp = client.request(method, path, headers=headers)
            out.append((resp.status_code, resp.text))
    return out


def import_stubs(url: str, stubs: list[dict], *, auth: tuple[str, str] | None = None) -> None:
    httpx.post(
        f"{url}/__admin/mappings/import",
        json={
            "mappings": stubs,
            "importOptions": {"duplicatePolicy": "OVERWRITE", "deleteAllNotInImport": False},
        },
        auth=auth,
        timeout=30,
    ).raise_for_status()


@pytest.fixture(scope="module")
def stock_and_indexed(
    wiremock_factory: Callable[..., WireMockHandle],
) -> tuple[WireMockHandle, WireMockHandle]:
    return wiremock_factory(indexed=False), wiremock_factory(indexed=True)


def test_indexed_stubs_answer_as_stock_wiremock_through_edits_and_removals(stock_and_indexed):
    stock, indexed = stock_and_indexed
    for wm in (stock, indexed):
        wm.reset()
        import_stubs(wm.url, STUBS)
    expected = answers(stock.url)
    # The set exercises every rule: exact-URL and pattern stubs both win somewhere.
    assert {body for _, body in expected} >= {
        "url items/1?lang=pt", "path items/1 lang=en", "pattern items/2 high", "pattern items",
        "template orders", "host a", "host b", "post items/1", "encoded path",
        "any url, header", "hot priority 1", "url /exact", "pattern /exact", "catch-all",
    }  # fmt: skip
    # Host without a port, or with :80, is port 80; another port only its own stub.
    assert expected[-4:] == [(200, "port 80"), (200, "port 80"), (200, "port 9090"),
                             (404, "catch-all")]  # fmt: skip
    assert answers(indexed.url) == expected

    # Edit a stub's URL and priority, remove another, overwrite a third by import.
    edited = {**STUBS[13], "request": {"method": "GET", "urlPath": "/moved"}, "priority": 1}
    overwritten = stub(
        2, {"method": "GET", "urlPath": "/items/2"}, "url stub now a path", priority=1
    )
    for wm in (stock, indexed):
        httpx.put(
            f"{wm.url}/__admin/mappings/{edited['id']}", json=edited, timeout=10
        ).raise_for_status()
        httpx.delete(f"{wm.url}/__admin/mappings/{STUBS[12]['id']}", timeout=10).raise_for_status()
        import_stubs(wm.url, [overwritten])
    REQUESTS.append(("GET", "/moved", {}))
    try:
        expected = answers(stock.url)
        assert ("GET", "/moved", {}) in REQUESTS and (200, "hot default priority") in expected
        assert (200, "url stub now a path") in expected
        assert answers(indexed.url) == expected
    finally:
        REQUESTS.pop()

    # A reset empties the index as well as the stub list.
    for wm in (stock, indexed):
        wm.reset()
    assert answers(indexed.url) == answers(stock.url)
    assert all(status == 404 for status, _ in answers(indexed.url))


def start_two_roots(
    tmp_path: Path, logs_dir: Path, started
) -> tuple[procs.ManagedProcess, list[str]]:
    """One launcher JVM serving two WireMocks, "orders" and "payments", each from its own
    root holding one saved stub -> it and their URLs."""
    roots = []
    for name in ("orders", "payments"):
        root = tmp_path / name
        (root / "mappings").mkdir(parents=True)
        (root / "mappings" / "saved.json").write_text(
            json.dumps(stub(1, {"method": "GET", "urlPath": "/whoami"}, f"I am {name}"))
        )
        roots.append(root)

    def launch(ports: list[int]) -> tuple[procs.ManagedProcess, Callable[[], bool]]:
        servers = [
            procs.WireMockServer(port=p, root_dir=r) for p, r in zip(ports, roots, strict=True)
        ]
        host = procs.wiremock_process(servers=servers, heap_mb=256, indexed=True,
                                      log_path=logs_dir / f"wiremock-launcher-{tmp_path.name}.log")  # fmt: skip
        health = [procs.http_ready(f"http://127.0.0.1:{p}/__admin/health") for p in ports]
        return host, procs.all_ready(health)

    host, ports = start_on_promised_ports(
        "wiremock-launcher", launch, started=started, timeout_s=60, count=len(roots)
    )
    return host, [f"http://127.0.0.1:{port}" for port in ports]


def test_one_jvm_serves_several_isolated_wiremocks_loading_their_own_roots(
    tmp_path: Path, logs_dir: Path, process_registry
):
    host, urls = start_two_roots(tmp_path, logs_dir, process_registry.add)
    # Each loaded its own saved stub at start-up.
    assert [httpx.get(f"{u}/whoami", timeout=5).text for u in urls] == [
        "I am orders",
        "I am payments",
    ]
    # A stub added to one is not served by the other.
    import_stubs(urls[1], [stub(2, {"method": "GET", "urlPath": "/pay"}, "paid")])
    assert httpx.get(f"{urls[1]}/pay", timeout=5).text == "paid"
    assert httpx.get(f"{urls[0]}/pay", timeout=5).status_code == 404
    assert len(httpx.get(f"{urls[0]}/__admin/mappings", timeout=5).json()["mappings"]) == 1
    assert len(httpx.get(f"{urls[1]}/__admin/mappings", timeout=5).json()["mappings"]) == 2
    assert "indexed stubs" in host.log_text()


def test_a_launcher_whose_port_was_taken_starts_its_wiremocks_on_others(
    tmp_path: Path, logs_dir: Path, process_registry, squatter
):
    _host, urls = start_two_roots(tmp_path, logs_dir, process_registry.add)
    assert squatter.ports and set(urls).isdisjoint(f"http://127.0.0.1:{p}" for p in squatter.ports)
    assert [httpx.get(f"{u}/whoami", timeout=5).text for u in urls] == [
        "I am orders",
        "I am payments",
    ]


@dataclass
class RenderedPod:
    process: procs.ManagedProcess
    url: str
    auth: tuple[str, str]
    local: dict[str, Path]  # each volume's mount path -> its local directory


def run_rendered_pod(tmp_path: Path, logs_dir: Path, process_registry) -> RenderedPod:
    """The rendered WireMock pod's init container and container commands, run here with
    each volume a local directory: the jar copy, then the launcher from the rendered
    ConfigMap, ready."""
    docs = list(yaml.safe_load_all(render_k8s_manifests(MockadoConfig())["deploy/wiremock.yaml"]))
    launcher = next(d for d in docs if d["kind"] == "ConfigMap")
    pod = next(d for d in docs if d["kind"] == "Deployment")["spec"]["template"]["spec"]
    # The keeper beside it (mockado keep-shard) is run by the cluster-box tests.
    wiremock = next(c for c in pod["containers"] if c["name"] == "wiremock")
    [copy_jar] = pod["initContainers"]
    local = {m["mountPath"]: tmp_path / m["name"] for m in wiremock["volumeMounts"]}
    for path in local.values():
        path.mkdir()
    for name, text in launcher["data"].items():
        (local["/etc/mockado"] / name).write_text(text)

    def here(arg: str) -> str:
        for mount, path in local.items():
            if arg.startswith(mount):
                return str(path) + arg[len(mount) :]
        return arg

    # The init container: `cp <jar in the WireMock image> <lib volume>`; the image's jar is ours.
    cp, _image_jar, target = copy_jar["command"]
    subprocess.run([cp, str(procs.find_wiremock_jar()), here(target)], check=True)

    # The Secret's values reach the command as the kubelet expands $(VAR) from the env.
    secret_env = {e["name"]: f"{e['name'].lower()}-value" for e in wiremock["env"]}
    assert {"WIREMOCK_ADMIN_USER", "WIREMOCK_ADMIN_PASSWORD"} <= secret_env.keys()

    def kubelet(arg: str) -> str:
        return re.sub(r"\$\((\w+)\)", lambda m: secret_env.get(m[1], m[0]), arg)

    command = [here(kubelet(arg)) for arg in wiremock["command"]]
    assert command[0] == "java"
    command[0] = procs.find_java()
    auth = (secret_env["WIREMOCK_ADMIN_USER"], secret_env["WIREMOCK_ADMIN_PASSWORD"])

    def launch(ports: list[int]) -> tuple[procs.ManagedProcess, Callable[[], bool]]:
        argv = list(command)
        argv[argv.index("--port") + 1] = str(ports[0])
        process = procs.ManagedProcess(
            "wiremock-pod", argv, log_path=logs_dir / f"wiremock-pod-{tmp_path.name}.log"
        )

        def ready() -> bool:
            health = f"http://127.0.0.1:{ports[0]}/__admin/health"
            return httpx.get(health, auth=auth, timeout=1.0).status_code == 200

        return process, ready

    process, [port] = start_on_promised_ports(
        "wiremock-pod", launch, started=process_registry.add, timeout_s=60
    )
    return RenderedPod(process, f"http://127.0.0.1:{port}", auth, local)


def test_the_rendered_wiremock_pod_runs_the_launcher_from_its_configmap(
    tmp_path: Path, logs_dir: Path, process_registry
):
    """The pod's init container and container commands, run here with each volume a local
    directory: the jar copy, then the launcher from the rendered ConfigMap."""
    pod = run_rendered_pod(tmp_path, logs_dir, process_registry)
    pod_process, url, auth, local = pod.process, pod.url, pod.auth, pod.local
    # The admin API is locked: without the Secret's credentials, 401.
    assert httpx.get(f"{url}/__admin/mappings", timeout=5).status_code == 401
    import_stubs(url, STUBS, auth=auth)
    assert httpx.get(f"{url}/hot", timeout=5).text == "hot priority 1"
    assert httpx.get(f"{url}/nothing", timeout=5).status_code == 404
    assert "indexed stubs" in pod_process.log_text()
    assert (local["/home/wiremock"] / "mappings").is_dir()
    pod_process.stop()


def test_a_rendered_pod_whose_port_was_taken_starts_on_another(
    tmp_path: Path, logs_dir: Path, process_registry, squatter
):
    pod = run_rendered_pod(tmp_path, logs_dir, process_registry)
    assert squatter.ports and pod.url not in {f"http://127.0.0.1:{p}" for p in squatter.ports}
    assert httpx.get(f"{pod.url}/__admin/mappings", auth=pod.auth, timeout=5).status_code == 200
    pod.process.stop()
