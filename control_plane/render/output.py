"""Every file `mockado render` produces, in a stable order."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from control_plane.render.authorization import render_mesh_security
from control_plane.render.canary import (
    canaries,
    canary_path,
    render_virtualservice_canary,
    render_wiremock_canary_network_policy,
)
from control_plane.render.dashboard import (
    DASHBOARD_CONFIGMAP_PATH,
    DASHBOARD_PATH,
    render_dashboard,
    render_dashboard_configmap,
)
from control_plane.render.egress import render_egress_policies
from control_plane.render.envoy import (
    LocalEnvoy,
    UpstreamService,
    render_local_envoy,
    render_sidecar_envoy,
)
from control_plane.render.istio import (
    capture_targets,
    debug_tap_path,
    destination_rule_path,
    render_collector_network_policy,
    render_destination_rule,
    render_envoyfilter_capture,
    render_envoyfilter_tap,
)
from control_plane.render.kubernetes import render_k8s_manifests
from control_plane.render.mock_router import render_mock_router
from control_plane.render.monitoring import (
    RULES_PATH,
    SCRAPE_CONFIG_PATH,
    render_monitors,
    render_rules,
    render_scrape_config,
)
from control_plane.render.passthrough import passthrough_files
from ext_proc_server.core.config import MockadoConfig

# The mock router as `mockado up` runs it: the default shard on the WireMock base port, the
# serving.shard_groups on the following ones (control_plane/local/stack_plan.py plan_shards).
MOCK_ROUTER_EXAMPLE = {"listen_port": 10001, "admin_port": 9902, "default_port": 8080}


@dataclass(frozen=True)
class RenderedFile:
    path: str  # relative, POSIX
    text: str
    kind: str  # "envoy" | "envoyfilter" | "istio" | "k8s" | "prometheus" | "grafana"


def local_envoy_example(config: MockadoConfig) -> LocalEnvoy:
    """envoy_configs/local.yaml: the proxy `mockado up` runs with its default ports."""
    return LocalEnvoy(
        listen_port=10000,
        admin_port=9901,
        upstream=UpstreamService(host="127.0.0.1", port=8000),
        collector_port=config.collector.grpc_port or 50051,
    )


def _example_mock_router(config: MockadoConfig) -> str:
    base = MOCK_ROUTER_EXAMPLE["default_port"]
    shards = [
        (group, list(patterns), base + i)
        for i, (group, patterns) in enumerate(config.serving.shard_groups.items(), start=1)
    ]
    return render_mock_router(config, shards=shards, **MOCK_ROUTER_EXAMPLE)


def _capture_files(config: MockadoConfig) -> Iterator[RenderedFile]:
    cp = config.control_plane
    for target in capture_targets(cp):
        base = f"istio/{target.namespace}"
        capture = render_envoyfilter_capture(cp, target)
        yield RenderedFile(f"{base}/envoyfilter-capture.yaml", capture, "envoyfilter")
        yield RenderedFile(
            f"{base}/networkpolicy-collector.yaml",
            render_collector_network_policy(cp, target),
            "k8s",
        )


def _debug_files(config: MockadoConfig) -> Iterator[RenderedFile]:
    """The tap filter exposes raw bodies: only for scopes that opt in (debug_tap), and
    under istio-debug/, which the documented `kubectl apply -R -f istio/` never reads."""
    cp = config.control_plane
    for target in capture_targets(cp):
        if target.settings.debug_tap:
            yield RenderedFile(
                debug_tap_path(target), render_envoyfilter_tap(cp, target), "envoyfilter"
            )


def _canary_files(config: MockadoConfig) -> Iterator[RenderedFile]:
    cp = config.control_plane
    for canary in canaries(config):
        yield RenderedFile(
            canary_path(canary.namespace), render_virtualservice_canary(cp, canary), "istio"
        )
        yield RenderedFile(
            f"istio/{canary.namespace}/networkpolicy-wiremock-canary.yaml",
            render_wiremock_canary_network_policy(cp, canary),
            "k8s",
        )
    for path, text, kind in passthrough_files(config):
        yield RenderedFile(path, text, kind)


def _egress_files(config: MockadoConfig) -> Iterator[RenderedFile]:
    for path, text in render_egress_policies(config):
        yield RenderedFile(path, text, "k8s")


def _envoy_files(config: MockadoConfig) -> Iterator[RenderedFile]:
    local = render_local_envoy(config, local_envoy_example(config))
    yield RenderedFile("envoy_configs/local.yaml", local, "envoy")
    yield RenderedFile("envoy_configs/sidecar-example.yaml", render_sidecar_envoy(config), "envoy")
    yield RenderedFile("envoy_configs/mock-router.yaml", _example_mock_router(config), "envoy")


def render_all(config: MockadoConfig) -> list[RenderedFile]:
    """Every output file, in a stable order. Raises RenderError naming the key at fault."""
    cp = config.control_plane
    files = [*_capture_files(config), *_canary_files(config), *_egress_files(config)]
    files += _debug_files(config)
    files.append(RenderedFile(destination_rule_path(cp), render_destination_rule(cp), "istio"))
    files += [
        RenderedFile(path, text, "envoyfilter" if "envoyfilter" in path else "istio")
        for path, text in render_mesh_security(config).items()
    ]
    files += _envoy_files(config)
    files += [RenderedFile(p, text, "k8s") for p, text in render_k8s_manifests(config).items()]
    files += [RenderedFile(p, text, "k8s") for p, text in render_monitors(cp).items()]
    files.append(RenderedFile(DASHBOARD_CONFIGMAP_PATH, render_dashboard_configmap(cp), "k8s"))
    files.append(RenderedFile(DASHBOARD_PATH, render_dashboard(cp), "grafana"))
    files.append(RenderedFile(SCRAPE_CONFIG_PATH, render_scrape_config(cp), "prometheus"))
    files.append(RenderedFile(RULES_PATH, render_rules(cp), "prometheus"))
    return files
