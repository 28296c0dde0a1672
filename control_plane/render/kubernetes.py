"""Kubernetes manifests for mockado's own namespace: the pods' config (no secrets: they
come from Secrets, see credentials.py; in-cluster URLs), the collector, loader, WireMock
shards, Redis and their policies."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

from control_plane.assets import WIREMOCK_LAUNCHER, WIREMOCK_SERVING_FLAGS
from control_plane.render.authorization import render_service_accounts
from control_plane.render.credentials import (
    SecretEnv,
    create_secret_commands,
    remove_secrets,
    secret_env,
)
from control_plane.render.environment import render_template
from control_plane.render.naming import MANAGED_MARKER, service_host
from control_plane.render.redis_users import PROBE_USER, has_selectors, redis_users, server_args
from control_plane.render.secret_files import (
    SECRET_FILES_DIR,
    SecretFiles,
    create_files_secret_command,
    secret_files,
)
from control_plane.render.sharding import (
    KEEPER_PORT,
    LOCAL_HOSTS,
    default_shard_in_cluster,
    in_cluster_shards,
    known_namespaces,
    shard_services,
    uncounted_miss_warnings,
    wiremock_heap_mb,
)
from control_plane.render.workloads import content_checksum, disruption_budget_targets, placement
from ext_proc_server.core.config import REDIS_DISK_FACTOR, MockadoConfig, redact_url
from ext_proc_server.core.errors import RenderError

_URL_CONFIG_KEYS = (("collector", "redis_url"), ("loader", "redis_url"), ("loader", "wiremock_url"))
# The TLS settings of each link: the in-cluster services speak plain text (the mesh's mTLS
# carries it), so a link pointed at one drops them, or the pods refuse their config.
_TLS_OF_URL = {
    ("collector", "redis_url"): "redis_tls",
    ("loader", "redis_url"): "redis_tls",
    ("loader", "wiremock_url"): "wiremock_tls",
}
IN_CLUSTER_BACKUP_PATH = "/var/lib/mockado/backups"
# The keeper beside each WireMock (`mockado keep-shard`, its port: sharding.KEEPER_PORT):
# its sizing (one Python process idling between checks; a reload streams the record in
# batches).
# How long a stopping collector takes at most: its streams' grace, its flush to Redis and
# the supervisor's own slack (ext_proc_server.capture.server.STOP_TIMEOUT_S),
# plus a margin. Its sidecar carries its calls that long; the pod's grace period is longer.
COLLECTOR_STOP_S = 40
# A stopping loader: the import in flight (loader.wiremock_timeout), then handing back and
# acknowledging in Redis, stopping its tasks and a last backup.
LOADER_STOP_MARGIN_S = 10
KEEPER_RESOURCES = {"requests": {"cpu": "20m", "memory": "64Mi"},
                    "limits": {"cpu": "500m", "memory": "192Mi"}}  # fmt: skip
# The init container copying WireMock's jar out of its image (indexed stubs).
JAR_COPY_RESOURCES = {"requests": {"cpu": "10m", "memory": "16Mi"},
                      "limits": {"cpu": "200m", "memory": "64Mi"}}  # fmt: skip


@dataclass(frozen=True)
class Keeper:
    """The keeper container of every WireMock pod."""

    image: str
    port: int
    credentials: list[SecretEnv]
    secret_files: SecretFiles
    resources: dict[str, dict[str, str]]


def _service_url(config: MockadoConfig, name: str, scheme: str, port: int, suffix: str) -> str:
    return f"{scheme}://{service_host(config, name)}:{port}{suffix}"


def _strip_userinfo(url: str) -> tuple[str, bool]:
    # user:password@ and a credential query (redis://host/0?password=...) both go.
    if redact_url(url) == url:
        return url, False
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2], query="")), True


def _in_cluster_urls(config: MockadoConfig, data: dict[str, Any], notes: list[str]) -> None:
    """Local URLs point at the in-cluster services; other URLs lose their credentials."""
    in_cluster = {
        ("collector", "redis_url"): _service_url(config, "mockado-redis", "redis", 6379, "/0"),
        ("loader", "redis_url"): _service_url(config, "mockado-redis", "redis", 6379, "/0"),
        ("loader", "wiremock_url"): _service_url(config, "mockado-wiremock", "http", 8080, ""),
    }
    for section, key in _URL_CONFIG_KEYS:
        url = getattr(getattr(config, section), key)
        if urlsplit(url).hostname in LOCAL_HOSTS:
            data[section][key] = in_cluster[(section, key)]
            notes.append(f"{section}.{key}: points at the in-cluster service")
            tls = _TLS_OF_URL[(section, key)]
            if any(data[section].pop(tls, {}).values()):  # on, or naming a file
                notes.append(
                    f"{section}.{tls}: dropped: the in-cluster service speaks plain text "
                    "inside the mesh's mTLS"
                )
            continue
        stripped, changed = _strip_userinfo(url)
        data[section][key] = stripped
        if changed:
            notes.append(
                f"{section}.{key}: credentials removed; set the full URL in Secret mockado-env "
                f"as MOCKADO_{section.upper()}__{key.upper()}"
            )


def _shard_routes(config: MockadoConfig, data: dict[str, Any], notes: list[str]) -> None:
    """The loader's routes to each shard group's Service; no shard on this machine."""
    groups = shard_services(config)[1:]
    if groups:
        if config.loader.shards:
            raise RenderError(
                "loader.shards: leave it empty when serving.shard_groups is set "
                "(render derives the routes to each group's WireMock Service)"
            )
        # Same order as shard_groups: the loader's first matching pattern wins.
        data["loader"]["shards"] = [
            {"host": pattern, "wiremock_url": shard.url}
            for shard in groups
            for pattern in shard.patterns
        ]
        notes.append("loader.shards: one route per serving.shard_groups pattern")
    for n, shard in enumerate(data["loader"].get("shards", [])):
        if urlsplit(shard["wiremock_url"]).hostname in LOCAL_HOSTS:
            raise RenderError(
                f"loader.shards[{n}].wiremock_url: points at this machine; in Kubernetes "
                "use serving.shard_groups (one WireMock Deployment per group)"
            )
        shard["wiremock_url"], changed = _strip_userinfo(shard["wiremock_url"])
        if changed:
            notes.append("loader.shards[].wiremock_url: credentials removed")


def pod_config(config: MockadoConfig) -> tuple[dict[str, Any], list[str]]:
    """The mockado.yaml of the pods: no control_plane section, no secrets, in-cluster URLs.

    Returns (data, notes): notes name the keys that were changed, never their values.
    """
    if config.loader.console_open_on_loopback:
        # In a pod the loopback is every container's and kubectl port-forward's, and a
        # sidecar may relay its callers from it: the console would ask no one.
        raise RenderError(
            "loader.console_open_on_loopback: only for `mockado up`; in Kubernetes set "
            "loader.console_user (and console_password from a Secret) instead"
        )
    # Only keys the user set: the pods apply the same defaults, and the file stays short.
    data = config.model_dump(
        mode="json", by_alias=True, exclude={"control_plane"}, exclude_unset=True
    )
    for section in ("collector", "loader"):
        data.setdefault(section, {})
    notes: list[str] = []
    remove_secrets(data, notes)
    _in_cluster_urls(config, data, notes)
    _shard_routes(config, data, notes)
    webhook = config.serving.unmatched_webhook_url
    if webhook is None or urlsplit(webhook).hostname in LOCAL_HOSTS:
        serving = data.setdefault("serving", {})
        serving["unmatched_webhook_url"] = _service_url(
            config, "mockado-loader", "http", config.loader.http_port, "/unmatched"
        )
        notes.append("serving.unmatched_webhook_url: the loader Service's /unmatched")
    notes += [f"warning: {warning}" for warning in uncounted_miss_warnings(config)]
    data["loader"]["backup_path"] = IN_CLUSTER_BACKUP_PATH
    # "api.payments" is a Service when payments is known: the pods learn every namespace
    # this config names, so capture, the loader and the canaries agree on one host.
    data["collector"]["cluster_namespaces"] = known_namespaces(config)
    # The collector's sidecar appends each caller's mesh identity to x-forwarded-client-cert
    # (mTLS STRICT on the gRPC port); not when the sidecars' own TLS passes it through.
    if "caller_identity" not in data["collector"]:
        mesh_identity = not config.control_plane.collector.tls.enabled
        data["collector"]["caller_identity"] = {
            "forwarded_by_sidecar": mesh_identity,
            "required": mesh_identity,
        }
    return data, notes


def _wiremock_memory(heap_mb: int) -> tuple[int, int]:
    # JVM overhead (metaspace, threads, buffers) on top of the heap.
    return heap_mb + 128, heap_mb + max(256, heap_mb // 2)


def _redis_limit_mi(maxmemory: str) -> int:
    number, unit = int(maxmemory[:-2]), maxmemory[-2:]
    mib = {"kb": number / 1024, "mb": number * 1.0, "gb": number * 1024.0}[unit]
    return int(mib * 1.5) + 64


def _name_labels(name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name}


# Every WireMock shard: spread together, so one node's loss takes as few shards as possible.
_WIREMOCK_SPREAD = {
    "app.kubernetes.io/component": "wiremock",
    "app.kubernetes.io/part-of": "mockado",
}


def _check_fixed_ports(config: MockadoConfig) -> None:
    if config.collector.grpc_port == 0 or config.collector.http_port == 0:
        raise RenderError("collector.grpc_port/http_port: a fixed port is needed in Kubernetes")
    if config.loader.http_port == 0:
        raise RenderError("loader.http_port: a fixed port is needed in Kubernetes")


def _wiremock_manifest(
    config: MockadoConfig, common: dict[str, Any], config_yaml: str, files: SecretFiles
) -> str:
    serving = config.serving
    heap_mb = wiremock_heap_mb(config)
    launcher_source = WIREMOCK_LAUNCHER.read_text(encoding="utf-8") if serving.indexed_stubs else ""
    keeper = Keeper(
        image=config.control_plane.image,
        port=KEEPER_PORT,
        # The keeper reads the loader's section (its queue, WireMock's credentials) and is
        # its own Redis user.
        credentials=secret_env("keeper"),
        secret_files=files,
        resources=KEEPER_RESOURCES,
    )
    return render_template(
        "k8s/wiremock.yaml.j2",
        **common,
        image=serving.wiremock_image,
        jar_path=serving.wiremock_jar_path,
        jar_copy_resources=JAR_COPY_RESOURCES,
        indexed=serving.indexed_stubs,
        jdk_image=serving.jdk_image,
        launcher_name=WIREMOCK_LAUNCHER.name,
        launcher_source=launcher_source,
        # The launcher's source and the keeper's config: a change rolls the shards (safely:
        # a new pod takes no call before it holds its shard).
        config_checksum=content_checksum(config_yaml, launcher_source),
        keeper=keeper,
        shards=in_cluster_shards(config),
        default_outside=not default_shard_in_cluster(config),
        heap_mb=heap_mb,
        max_stubs=config.loader.max_stubs,
        heap_is_default=serving.heap_mb is None,
        journal_entries=serving.max_request_journal_entries,
        serving_flags=WIREMOCK_SERVING_FLAGS,
        placement=placement(
            config, "wiremock", spread_labels=_WIREMOCK_SPREAD, memory_mi=_wiremock_memory(heap_mb)
        ),
        credentials=secret_env("wiremock"),
    )


def _collector_manifest(
    config: MockadoConfig, common: dict[str, Any], checksum: str, files: SecretFiles
) -> str:
    cp = config.control_plane
    service_name, _, _ = cp.collector.host.partition(".")
    return render_template(
        "k8s/collector.yaml.j2",
        **common,
        image=cp.image,
        grpc_port=config.collector.grpc_port,
        http_port=config.collector.http_port,
        service_name=service_name,
        service_port=cp.collector.port,
        min_replicas=cp.workloads.collector.min_replicas,
        max_replicas=cp.workloads.collector.max_replicas,
        config_checksum=checksum,
        stop_s=COLLECTOR_STOP_S,
        placement=placement(config, "collector", spread_labels=_name_labels("mockado-collector")),
        credentials=secret_env("collector"),
        secret_files=files,
    )


def loader_stop_s(config: MockadoConfig) -> int:
    """How long a stopping loader may take (its sidecar's drain)."""
    return math.ceil(config.loader.wiremock_timeout) + LOADER_STOP_MARGIN_S


def _loader_manifest(
    config: MockadoConfig, common: dict[str, Any], checksum: str, files: SecretFiles
) -> str:
    cp = config.control_plane
    return render_template(
        "k8s/loader.yaml.j2",
        **common,
        image=cp.image,
        http_port=config.loader.http_port,
        backup_path=IN_CLUSTER_BACKUP_PATH,
        replicas=cp.workloads.loader.replicas,
        config_checksum=checksum,
        stop_s=loader_stop_s(config),
        placement=placement(config, "loader", spread_labels=_name_labels("mockado-loader")),
        credentials=secret_env("loader"),
        secret_files=files,
    )


def _redis_manifest(config: MockadoConfig, common: dict[str, Any]) -> str:
    cp = config.control_plane
    return render_template(
        "k8s/redis.yaml.j2",
        **common,
        image=cp.redis_image,
        maxmemory=cp.redis_maxmemory,
        persistence=cp.redis_persistence,
        disk_size=cp.redis_disk_size(),
        disk_factor=REDIS_DISK_FACTOR,
        placement=placement(
            config,
            "redis",
            spread_labels=_name_labels("mockado-redis"),
            memory_mi=(256, _redis_limit_mi(cp.redis_maxmemory)),
        ),
        credentials=secret_env("redis"),
        acl_args=server_args(
            {"collector": config.collector.redis_queue, "loader": config.loader.redis_queue},
            {u.name: f"$({u.password_env})" for u in redis_users()},
            selectors=has_selectors(cp.redis_image),
        ),
        probe_user=PROBE_USER,
    )


def render_k8s_manifests(config: MockadoConfig) -> dict[str, str]:
    """deploy/<file>.yaml -> text, for every manifest of mockado's namespace."""
    cp = config.control_plane
    _check_fixed_ports(config)
    common = {
        "managed_marker": MANAGED_MARKER,
        "namespace": cp.mockado_namespace,
        "scope": cp.mockado_namespace,
    }
    data, notes = pod_config(config)
    config_yaml = yaml.safe_dump(data, sort_keys=False, default_flow_style=False)
    checksum = content_checksum(config_yaml)
    wiremock_services = [shard.service for shard in in_cluster_shards(config)]
    collector_files = secret_files(data, "collector")
    loader_files = secret_files(data, "loader")
    file_keys = sorted({*collector_files.keys, *loader_files.keys})
    manifests = {
        # First in `kubectl apply -f deploy/` (files apply in name order).
        "deploy/00-namespace.yaml": render_template("k8s/namespace.yaml.j2", **common),
        "deploy/serviceaccounts.yaml": render_service_accounts(config, common),
        "deploy/configmap.yaml": render_template(
            "k8s/configmap.yaml.j2",
            **common,
            notes=notes,
            config_yaml=config_yaml,
            create_secret_commands=create_secret_commands(cp.mockado_namespace),
            files_directory=SECRET_FILES_DIR,
            create_files_secret_command=(
                create_files_secret_command(cp.mockado_namespace, file_keys) if file_keys else ""
            ),
        ),
        "deploy/collector.yaml": _collector_manifest(config, common, checksum, collector_files),
        "deploy/loader.yaml": _loader_manifest(config, common, checksum, loader_files),
        "deploy/wiremock.yaml": _wiremock_manifest(config, common, config_yaml, loader_files),
        "deploy/redis.yaml": _redis_manifest(config, common),
        "deploy/poddisruptionbudgets.yaml": render_template(
            "k8s/poddisruptionbudgets.yaml.j2",
            **common,
            targets=disruption_budget_targets(wiremock_services),
        ),
        "deploy/networkpolicies.yaml": render_template(
            "k8s/networkpolicies.yaml.j2",
            **common,
            collector_http_port=config.collector.http_port,
            loader_http_port=config.loader.http_port,
            keeper_port=KEEPER_PORT,
            scraper_namespace=config.control_plane.scraper_namespace(),
            scraper_labels=config.control_plane.metrics_scraper.pod_labels,
        ),
    }
    if not wiremock_services:
        # Every shard is outside (the default one, and no shard_groups): no WireMock here.
        del manifests["deploy/wiremock.yaml"]
    return manifests
