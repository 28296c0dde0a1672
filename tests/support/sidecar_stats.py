"""A real Envoy with the rendered sidecar bootstrap, naming its stats as an Istio sidecar's,
and its ``/stats/prometheus`` read as samples: what the alerts on the sidecars' series see.

Istio's bootstrap (tools/packaging/common/envoy_bootstrap.json) replaces Envoy's default
tag extraction: ``cluster_name`` takes a cluster name up to its ``.svc.cluster.local``
(Envoy's default cuts it at the first dot), and ``http_conn_manager_prefix`` takes an HTTP
listener's stat prefix only when it is an address ("10.96.0.1_8080"); any other prefix
("inbound_0.0.0.0_8080") stays in the series name.

The series are read from the sidecars' own Envoy (control_plane.envoy_version, Istio 1.29's
1.37), which is what the mesh emits, and from the bundled 1.40: they differ in the circuit
breaker's counters (``refusal_counters``)."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest
import yaml

from control_plane.local.procs import find_envoy
from control_plane.render import render_sidecar_envoy
from control_plane.validate import envoy_version
from ext_proc_server.core.config import MockadoConfig
from tests.support.paths import sidecar_envoy
from tests.support.processes import EnvoyHandle

ISTIO_STATS_CONFIG = {
    "use_all_default_tags": False,
    "stats_tags": [
        {"tag_name": "cluster_name",
         "regex": r"^cluster\.((.+?(\..+?\.svc\.cluster\.local)?)\.)"},
        {"tag_name": "http_conn_manager_prefix",
         "regex": r"^http\.(((?:[_.[:digit:]]*|[_\[\]aAbBcCdDeEfF[:digit:]]*))\.)"},
    ],
}  # fmt: skip
# The HTTP listeners' stat prefixes Istio gives a sidecar: its inbound listener's, and an
# outbound listener's on a Service's address.
INBOUND_PREFIX = "inbound_0.0.0.0_8080"
OUTBOUND_PREFIX = "10.96.0.1_8080"

# A test's ``binary`` parameter: which Envoy to run (a callable, so a missing one fails the
# test that needs it, not the collection); start it with ``start_envoy``.
each_sidecar_envoy = pytest.mark.parametrize(
    "binary", [sidecar_envoy, find_envoy], ids=["sidecars", "bundled"]
)
# Envoy 1.38 moved a stream refused at max_requests from upstream_rq_pending_overflow to
# upstream_rq_active_overflow; 1.37 has no upstream_rq_active_overflow at all.
ACTIVE_OVERFLOW_SINCE = (1, 38)

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
_SELECTOR = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?$")


@dataclass(frozen=True)
class Sample:
    name: str
    labels: dict[str, str]
    value: float


def samples(text: str) -> list[Sample]:
    """The samples of Prometheus's text format (``/stats/prometheus``)."""
    out = []
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if match and not line.startswith("#"):
            labels = dict(_LABEL.findall(match[2] or ""))
            out.append(Sample(match[1], labels, float(match[3])))
    return out


def selected(selector: str, found: list[Sample]) -> list[Sample]:
    """The samples a ``name{label="value",...}`` selector picks."""
    match = _SELECTOR.match(selector)
    assert match, f"not a plain selector: {selector}"
    labels = dict(_LABEL.findall(match[2] or ""))
    return [s for s in found if s.name == match[1]
            and all(s.labels.get(k) == v for k, v in labels.items())]  # fmt: skip


def total(selector: str, found: list[Sample]) -> float:
    return sum(s.value for s in selected(selector, found))


def relabel(found: list[Sample], configs: list[dict]) -> list[Sample]:
    """``found`` through Prometheus's metric relabelling (the ``keep`` and ``replace``
    actions; a scrape config's snake_case keys or a PodMonitor's camelCase ones)."""
    out = []
    for sample in found:
        labels: dict[str, str] | None = {"__name__": sample.name, **sample.labels}
        for config in configs:
            labels = _relabel_one(labels, {_snake(k): v for k, v in config.items()})
            if labels is None:
                break
        if labels is not None:
            name = labels.pop("__name__")
            out.append(Sample(name, labels, sample.value))
    return out


def _snake(key: str) -> str:
    return re.sub(r"[A-Z]", lambda m: "_" + m[0].lower(), key)


def _relabel_one(labels: dict[str, str], config: dict) -> dict[str, str] | None:
    joined = config.get("separator", ";").join(labels.get(k, "") for k in config["source_labels"])
    match = re.fullmatch(config.get("regex", "(.*)"), joined)
    action = config.get("action", "replace")
    if action == "keep":
        return labels if match else None
    assert action == "replace", action
    if not match:
        return labels
    value = match.expand(re.sub(r"\$(\d+)", r"\\\1", config.get("replacement", "$1")))
    return {**labels, config["target_label"]: value}


def istio_sidecar_bootstrap(
    config: MockadoConfig, *, stat_prefix: str, app_port: int, collector_port: int
) -> Callable[[int, int], str]:
    """``render(listen_port, admin_port)`` for the ``envoy_factory`` fixture: the rendered
    sidecar bootstrap with Istio's stats tags and listener stat prefix."""

    def render(listen_port: int, admin_port: int) -> str:
        text = render_sidecar_envoy(
            config, listen_host="127.0.0.1", listen_port=listen_port, admin_port=admin_port,
            app_port=app_port, collector_host="127.0.0.1", collector_port=collector_port,
        )  # fmt: skip
        bootstrap = yaml.safe_load(text)
        bootstrap["stats_config"] = ISTIO_STATS_CONFIG
        (listener,) = bootstrap["static_resources"]["listeners"]
        (manager,) = listener["filter_chains"][0]["filters"]
        manager["typed_config"]["stat_prefix"] = stat_prefix
        return yaml.safe_dump(bootstrap, sort_keys=False)

    return render


def running_version(admin_url: str) -> tuple[int, int]:
    """(major, minor) of the Envoy answering at ``admin_url``."""
    version = httpx.get(f"{admin_url}/server_info", timeout=5).json()["version"]
    match = re.search(r"/(\d+)\.(\d+)\.\d+/", version)
    assert match, version
    return int(match[1]), int(match[2])


def start_envoy(
    envoy_factory: Callable[..., EnvoyHandle],
    render: Callable[[int, int], str],
    binary: Callable[[], str],
) -> EnvoyHandle:
    """``envoy_factory``'s Envoy run by ``binary()``, checked to be the one answering."""
    path = binary()
    envoy = envoy_factory(render, envoy=path)
    major, minor = running_version(envoy.admin_url)
    assert f"{major}.{minor}" == envoy_version(path), path
    return envoy


def counts_active_overflow(version: tuple[int, int]) -> bool:
    """Whether that Envoy has upstream_rq_active_overflow (a refusal at max_requests)."""
    return version >= ACTIVE_OVERFLOW_SINCE


def refusal_counters(version: tuple[int, int]) -> tuple[str, ...]:
    """The collector cluster's circuit-breaker refusal counters that Envoy has: each must
    be there (a stat renamed must fail a check, not read as 0)."""
    if counts_active_overflow(version):
        return ("upstream_rq_active_overflow", "upstream_rq_pending_overflow")
    return ("upstream_rq_pending_overflow",)


def scrape(admin_url: str) -> list[Sample]:
    return samples(httpx.get(f"{admin_url}/stats/prometheus", timeout=5).text)


@contextmanager
def hung_collector() -> Iterator[int]:
    """A port whose connections the kernel accepts and nobody ever reads: a collector that
    hangs. Envoy's streams to it stay open until its deferred close."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(256)
        yield listener.getsockname()[1]
