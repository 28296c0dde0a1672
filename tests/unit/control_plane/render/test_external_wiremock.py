"""A default shard outside the cluster (``loader.wiremock_url`` naming the user's own
WireMock): render runs no WireMock and no keeper of its own for it; the loader keeps it."""

from __future__ import annotations

import pytest

from control_plane import validate
from control_plane.cli import main
from control_plane.render import render_all
from ext_proc_server.core.config import MockadoConfig
from ext_proc_server.core.errors import RenderError
from ext_proc_server.loader import shard_urls
from tests.unit.control_plane.render.render_invariants import objects, reference_problems
from tests.unit.control_plane.render.shards import GROUPS, config_with
from tests.unit.control_plane.render.support import (
    deployments,
    docs,
    files_of,
    pod_config_of,
    rendered_objects,
)

OUTSIDE = "https://wiremock.mocks.example.com"
# Canary hosts each group claims: none falls to the default shard.
GROUP_HOSTS = ["payments.payments.svc.cluster.local", "api.partner.example.com"]
CANARY = {"checkout": {"canary": {"workload_labels": {"track": "canary"}, "hosts": GROUP_HOSTS}}}


def outside_config(**kw) -> MockadoConfig:
    return config_with(loader={"wiremock_url": OUTSIDE}, namespaces=CANARY, **kw)


def kept_shards(files: dict[str, str]) -> list[str]:
    """The --shard of every keeper container of the rendered WireMock pods."""
    kept = []
    for doc in deployments(files).values():
        for container in doc["spec"]["template"]["spec"]["containers"]:
            if container["name"] == "keeper":
                kept.append(container["args"][container["args"].index("--shard") + 1])
    return sorted(kept)


def test_an_outside_default_shard_gets_no_wiremock_nor_keeper_in_the_cluster() -> None:
    files = files_of(outside_config())
    loader_shards, _ = shard_urls(pod_config_of(files))
    # The loader loads the outside one itself; every keeper keeps a shard the cluster runs.
    assert loader_shards["default"] == OUTSIDE
    assert kept_shards(files) == sorted(GROUPS)
    names = {"mockado-wiremock", *(f"mockado-wiremock-{group}" for group in GROUPS)}
    for kind in ("Deployment", "Service", "ServiceAccount", "PodDisruptionBudget"):
        rendered = set(rendered_objects(files, under="deploy/", kind=kind)) & names
        assert rendered == names - {"mockado-wiremock"}, kind
    policies = rendered_objects(files, under="istio/", kind="AuthorizationPolicy")
    assert not [name for name in policies if name == "mockado-wiremock"]
    assert "mockado-wiremock.mockado" not in files["istio/mockado/authorizationpolicies.yaml"]
    # What remains fits together and is what a cluster accepts.
    rendered = render_all(outside_config())
    assert reference_problems(objects(rendered), outside_config()) == []
    schemas = validate.default_schemas_dir()
    assert validate.check_rendered(rendered, config=outside_config(), schemas_dir=schemas) == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080",
        "http://localhost:8080",
        "http://mockado-wiremock:8080",
        "http://mockado-wiremock.mockado.svc.cluster.local:8080",
    ],
)
def test_a_local_or_in_cluster_default_shard_is_rendered_and_kept(url: str) -> None:
    files = files_of(config_with(loader={"wiremock_url": url}, namespaces=CANARY))
    assert kept_shards(files) == sorted(["default", *GROUPS])
    assert "mockado-wiremock" in deployments(files)


def test_without_groups_an_outside_default_shard_leaves_no_wiremock_file() -> None:
    files = files_of(config_with(groups={}, loader={"wiremock_url": OUTSIDE}))
    assert "deploy/wiremock.yaml" not in files
    assert not [d for d in deployments(files) if d.startswith("mockado-wiremock")]
    budgets = rendered_objects(files, under="deploy/", kind="PodDisruptionBudget")
    assert sorted(budgets) == ["mockado-collector", "mockado-loader", "mockado-redis"]
    assert pod_config_of(files).loader.wiremock_url == OUTSIDE


def test_a_canary_host_on_an_outside_default_shard_is_refused_naming_it() -> None:
    namespaces = {"checkout": {"canary": {"workload_labels": {"track": "canary"},
                                          "hosts": ["inventory.shop.svc.cluster.local"]}}}  # fmt: skip
    config = config_with(loader={"wiremock_url": OUTSIDE}, namespaces=namespaces)
    with pytest.raises(RenderError) as caught:
        render_all(config)
    message = str(caught.value)
    assert message.startswith("control_plane.namespaces.checkout.canary.hosts: "), message
    assert "inventory.shop.svc.cluster.local" in message
    assert "serving.shard_groups" in message


def test_the_wiremock_file_says_where_the_default_shard_is() -> None:
    text = files_of(outside_config())["deploy/wiremock.yaml"]
    assert "The default shard is the WireMock loader.wiremock_url names" in text
    assert [d["metadata"]["name"] for d in docs(text) if d["kind"] == "Deployment"] == [
        f"mockado-wiremock-{group}" for group in GROUPS
    ]


def configmap_header(files: dict[str, str]) -> str:
    return "".join(line for line in files["deploy/configmap.yaml"].splitlines(True)
                   if line.startswith("#"))  # fmt: skip


def test_render_warns_that_misses_on_an_outside_wiremock_are_not_counted(tmp_path, capsys):
    # Its catch-all reports each miss to the loader Service, which it cannot reach (and
    # only the rendered WireMock pods may call): the operator is told, and where to read.
    path = tmp_path / "mockado.yaml"
    path.write_text(f"loader:\n  wiremock_url: {OUTSIDE}\n", encoding="utf-8")
    assert main(["render", "--config", str(path), "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert f"warning: misses on the WireMock at {OUTSIDE} are not counted" in err
    assert "`mockado misses`" in err and "docs/loader.md" in err
    header = configmap_header(files_of(outside_config()))
    assert f"# warning: misses on the WireMock at {OUTSIDE} are not counted" in header
    # None for the shards render runs, nor when the webhook names the user's own address.
    in_cluster = config_with(namespaces=CANARY)
    assert "warning:" not in configmap_header(files_of(in_cluster))
    own = outside_config(serving={"unmatched_webhook_url": "https://loader.example.com/unmatched"})
    assert "warning:" not in configmap_header(files_of(own))


def test_each_outside_shard_route_is_warned_about_once() -> None:
    routes = [{"host": "*.partner.example.com", "wiremock_url": "http://wm.example.com:8080"},
              {"host": "*.other.example.com", "wiremock_url": "http://wm.example.com:8080"}]  # fmt: skip
    header = configmap_header(files_of(config_with(groups={}, loader={"shards": routes})))
    assert header.count("misses on the WireMock at http://wm.example.com:8080") == 1
