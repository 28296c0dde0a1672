"""An upgrade from a mockado whose Redis had one password (``--requirepass``, one
``redis-password`` read by every component) to one ACL user per component, in the cluster
in a box: the runbook's steps (create each component's Secret, keep the old one,
re-render, apply) leave a cluster that keeps its data and its stubs and works on."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from ext_proc_server.core.queue_entries import encode_entry
from tests.integration.test_cluster_box import (
    CAPTURED_HOST,
    SHOP_SHARD,
    WIREMOCK_JAR,
    box_config,
    render,
)
from tests.support.box import Box, BoxImages, Docker, build_images, running_engine
from tests.support.box_credentials import (
    CREDENTIALS,
    PSEUDONYM_KEY,
    REDIS,
    REDIS_PASSWORDS,
    create_secrets,
    resp,
)
from tests.support.paths import REPO
from tests.support.processes import poll_until

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1800)]

UPGRADED = ("redis", "loader", "wiremock")


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Docker]:
    with running_engine(log_dir=tmp_path_factory.mktemp("engine")) as docker:
        yield docker


@pytest.fixture(scope="module")
def images(engine: Docker) -> BoxImages:
    # As tests/integration/test_cluster_box.py builds them (unchanged images are reused).
    return build_images(
        engine, repo=REPO, wiremock_jar=WIREMOCK_JAR,
        wiremock_jar_path="/var/wiremock/lib/wiremock-standalone.jar",
        work_dir=Path("/var/tmp/mockado-box"),
    )  # fmt: skip


def one_password(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` as the previous mockado rendered it: Redis with ``--requirepass``, every
    component with ``mockado-credentials``' ``redis-password`` and no user name (checked
    against that version's render of mockado.example.yaml)."""
    doc = copy.deepcopy(doc)
    if doc.get("kind") != "Deployment":
        return doc
    for container in doc["spec"]["template"]["spec"]["containers"]:
        env = []
        for var in container.get("env", []):
            if var["name"].endswith("__REDIS_USERNAME") or (
                container["name"] == "redis" and var["name"] != "REDIS_PASSWORD"
            ):
                continue
            ref = var.get("valueFrom", {}).get("secretKeyRef", {})
            if ref.get("name", "").startswith("mockado-redis-"):
                ref.update(name="mockado-credentials", key="redis-password")
            env.append(var)
        if "env" in container:
            container["env"] = env
        if container["name"] == "redis":
            argv = container["command"]
            container["command"] = [*argv[: argv.index("--user")], "--requirepass",
                                    "$(REDIS_PASSWORD)"]  # fmt: skip
            probe = container["readinessProbe"]["exec"]["command"]
            probe[2] = probe[2].replace(" --user mockado-probe", "")
    return doc


def redis_call(box: Box, auth: tuple[str, ...], *command: str) -> str:
    data = resp("AUTH", *auth) + resp(*command) + resp("QUIT")
    return box.tcp(REDIS, 6379, data, namespace="mockado")


def recorded(box: Box, auth: tuple[str, ...]) -> int | None:
    """How many stubs the shop shard's record holds (None: refused)."""
    reply = redis_call(box, auth, "HLEN", "mockado:mappings:record:shop")
    return int(reply.split("\r\n")[1][1:]) if reply.startswith("+OK\r\n:") else None


def stub(n: int) -> dict[str, Any]:
    return {"id": f"3d0f5c1e-8a4b-4c2d-9e7f-0b1a2c3d4e{n:02d}",
            "request": {"method": "GET", "url": f"/api/orders/{n}"},
            "response": {"status": 200, "body": f"order {n}, recorded"}}  # fmt: skip


def queue(box: Box, auth: tuple[str, ...], n: int) -> None:
    fields = [w for pair in encode_entry(stub(n), host=CAPTURED_HOST).items() for w in pair]
    reply = redis_call(box, auth, "XADD", "mockado:mappings", "*", *fields)
    assert reply.startswith("+OK\r\n$"), reply


def served(box: Box, n: int) -> bool:
    reply = box.http("GET", f"{SHOP_SHARD}/api/orders/{n}", namespace="mockado")
    return (reply.status, reply.body) == (200, f"order {n}, recorded")


# Long because it is the upgrade's order, step by step, as the runbook says.
def test_a_cluster_with_one_redis_password_works_on_after_the_upgrade(images, engine, tmp_path):
    config = box_config(images)
    # The runbook's advice for an upgrade that keeps Redis's data (a 1Gi claim).
    config["control_plane"]["redis_maxmemory"] = "256mb"
    config["control_plane"]["redis_persistence"] = {"enabled": True, "size": "1Gi"}
    new = render(config, tmp_path / "rendered") / "deploy"
    shared = (CREDENTIALS["redis-password"],)
    with Box(engine, sandbox_image=images.base, run_dir=tmp_path / "box") as box:
        for name in ("00-namespace", "configmap", *UPGRADED):
            for doc in yaml.safe_load_all((new / f"{name}.yaml").read_text()):
                if doc:
                    box.apply(one_password(doc))
        # The previous version's Secrets.
        box.create_secret_generic("mockado", "mockado-credentials", CREDENTIALS)
        box.create_secret_generic(
            "mockado", "mockado-env", {"MOCKADO_COLLECTOR__PSEUDONYM_KEY": PSEUDONYM_KEY}
        )
        box.start()
        queue(box, shared, 1)
        assert poll_until(lambda: served(box, 1), timeout_s=90, interval_s=1.0), box.tail_logs()
        # The loader records a stub just after WireMock took it.
        assert poll_until(lambda: recorded(box, shared) == 1, timeout_s=30, interval_s=0.5)

        # The upgrade: each component's Secret (the old one kept), then the new render.
        create_secrets(box)
        for name in UPGRADED:
            box.apply_yaml((new / f"{name}.yaml").read_text())
        box.wait_ready(box.roll("mockado", "mockado-redis"))
        # The shared password is off; the data is still there, for the loader's user.
        assert redis_call(box, shared, "PING").startswith("-WRONGPASS")
        assert recorded(box, ("mockado-loader", REDIS_PASSWORDS["loader"])) == 1
        for workload in ("mockado-loader", "mockado-wiremock", "mockado-wiremock-shop"):
            box.wait_ready(box.roll("mockado", workload))
        # The new WireMock pod holds the stub recorded before (its keeper, as its own user,
        # reloaded it from the record), and a new capture goes through as before.
        assert served(box, 1), box.tail_logs()
        queue(box, ("mockado-collector", REDIS_PASSWORDS["collector"]), 2)
        assert poll_until(lambda: served(box, 2), timeout_s=90, interval_s=1.0), box.tail_logs()
        box.check_running()
