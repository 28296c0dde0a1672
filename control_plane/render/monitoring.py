"""What Prometheus scrapes: the collector's, the loader's and the WireMock keepers' metrics,
and the sidecars' ext_proc and collector-cluster stats. Prometheus Operator monitors
(deploy/monitoring/), in the namespace Prometheus reads, or scrape jobs for a plain
Prometheus (prometheus/). And what it alerts on: one set of rules
(templates/prometheus/_alerts.j2), as a PrometheusRule and as a plain rules file."""

from __future__ import annotations

import re

from control_plane.render.capture import EXT_PROC_STAT_PREFIX
from control_plane.render.clusters import istio_cluster_name
from control_plane.render.environment import render_template
from control_plane.render.istio import CaptureTarget, capture_targets
from control_plane.render.naming import MANAGED_MARKER, bounded_name
from ext_proc_server.core.config import ControlPlaneConfig

MONITORING_DIR = "deploy/monitoring"
SCRAPE_CONFIG_PATH = "prometheus/scrape.yaml"
RULES_PATH = "prometheus/rules.yaml"
PROMETHEUS_RULE_PATH = f"{MONITORING_DIR}/prometheusrule.yaml"
# Istio extracts an HTTP listener's stat prefix into the label http_conn_manager_prefix only
# when it is an address ("10.96.0.1_8080"); an inbound listener's stays in the series name
# (envoy_http_inbound_0_0_0_0_8080_ext_proc_mockado_streams_failed). The monitors move it
# to that label too, so one counter has one name: otherwise two listeners of one pod give
# rate() two series with the same labels, and Prometheus refuses the whole rule.
LISTENER_IN_NAME = rf"envoy_http_(.+)_ext_proc_{EXT_PROC_STAT_PREFIX}_(.+)"
EXT_PROC_NAME = rf"envoy_http_ext_proc_{EXT_PROC_STAT_PREFIX}_$2"
# The sidecars' Envoy series the alerts read, as the monitors keep them.
SIDECAR_SERIES = {
    # Streams opened to the collector, and streams that ended in an error: refused before
    # opening (no healthy collector, the circuit breaker) or failed after. (Not
    # streams_closed: a stream the collector ends normally is not in it.)
    "streams_started": f"envoy_http_ext_proc_{EXT_PROC_STAT_PREFIX}_streams_started",
    "streams_failed": f"envoy_http_ext_proc_{EXT_PROC_STAT_PREFIX}_streams_failed",
    # The collector cluster's circuit breaker refusing a stream. Envoy 1.38 moved a refusal
    # at max_requests from upstream_rq_pending_overflow to upstream_rq_active_overflow;
    # a full pending queue still counts in the first.
    "refused_pending": "envoy_cluster_upstream_rq_pending_overflow",
    "refused_active": "envoy_cluster_upstream_rq_active_overflow",
    # The streams a sidecar opened to the collector cluster, and those that ended: each
    # answer, each broken connection, and each 503 Envoy answers itself for a stream it
    # never opened (the refusals above and below). Opened less ended, refusals added back:
    # the streams Envoy reset unanswered, which no other counter holds.
    "streams_opened": "envoy_cluster_upstream_rq_total",
    "streams_ended": "envoy_cluster_upstream_rq_completed",
    # Envoy's other refusals: no healthy collector host, and the connection a stream waited
    # for failed.
    "refused_no_host": "envoy_cluster_upstream_cx_none_healthy",
    "refused_connect_failed": "envoy_cluster_upstream_rq_pending_failure_eject",
}
# Istio's bootstrap (tools/packaging/common/envoy_bootstrap.json) tags a cluster's stats
# with cluster_name by this regex: the name up to a host's ".svc.cluster.local". In another
# cluster domain (collector.cluster_domain) it cuts the name at the host's first dot and
# the rest stays in the series name:
# envoy_cluster_mockado_svc_corp_internal_upstream_rq_active_overflow{cluster_name=
# "outbound|50051||mockado-collector"}. The monitors put the two back together.
ISTIO_CLUSTER_NAME_TAG = re.compile(r"^cluster\.((.+?(\..+?\.svc\.cluster\.local)?)\.)")
# What Envoy's /stats/prometheus makes of any other character of a stat's name.
_NOT_IN_PROMETHEUS_NAME = re.compile(r"[^a-zA-Z0-9_]")
# prometheus/scrape.yaml's job names (each component's `up` series is matched by its job).
SCRAPE_JOBS = {
    "collector": "mockado-collector",
    "loader": "mockado-loader",
    "keepers": "mockado-wiremock-keepers",
}


def prometheus_namespace(cp: ControlPlaneConfig) -> str:
    return cp.prometheus_namespace or cp.mockado_namespace


def _keep_regex(cp: ControlPlaneConfig) -> str:
    # Joined "__name__;cluster_name": every ext_proc series, and the collector cluster's
    # (outbound|PORT||HOST) upstream and circuit-breaker series.
    cluster = re.escape(istio_cluster_name(cp.collector))
    return f"envoy_http_.*ext_proc.*;.*|envoy_cluster_.*;{cluster}"


def collector_cluster_renames(cp: ControlPlaneConfig) -> list[dict[str, str]]:
    """Metric relabellings (camelCase keys, as a PodMonitor's) that give the collector
    cluster's series their full cluster_name and their plain name where Istio's tag cut the
    name short (a cluster domain other than cluster.local); none where it did not."""
    cluster = istio_cluster_name(cp.collector)
    tag = ISTIO_CLUSTER_NAME_TAG.match(f"cluster.{cluster}.stat")
    if tag is None or tag[2] == cluster:
        return []
    tagged = tag[2]
    in_name = _NOT_IN_PROMETHEUS_NAME.sub("_", cluster.removeprefix(f"{tagged}."))
    series = rf"envoy_cluster_{re.escape(in_name)}_(.+)"
    return [
        {"regex": f"{series};{re.escape(tagged)}", "targetLabel": "cluster_name",
         "replacement": cluster},
        {"regex": f"{series};{re.escape(cluster)}", "targetLabel": "__name__",
         "replacement": "envoy_cluster_$1"},
    ]  # fmt: skip


def sidecar_selectors(cp: ControlPlaneConfig) -> dict[str, str]:
    """The PromQL selectors of SIDECAR_SERIES: the collector cluster's series only (Istio's
    cluster_name label), every capture listener's ext_proc series."""
    cluster = istio_cluster_name(cp.collector)
    return {
        key: f'{name}{{cluster_name="{cluster}"}}' if name.startswith("envoy_cluster_") else name
        for key, name in SIDECAR_SERIES.items()
    }


def podmonitor_path(target: CaptureTarget) -> str:
    # The mesh-wide scope's is named after the root namespace, as its istio/ directory.
    return f"{MONITORING_DIR}/podmonitor-{target.namespace}.yaml"


def render_monitors(cp: ControlPlaneConfig) -> dict[str, str]:
    """deploy/monitoring/<file>.yaml -> text: the alert rules, the ServiceMonitor, the
    keepers' PodMonitor, and one PodMonitor per capture scope (labelled with its namespace:
    disabling it prunes its monitor too)."""
    common = {
        "managed_marker": MANAGED_MARKER,
        "namespace": prometheus_namespace(cp),
        "mockado_namespace": cp.mockado_namespace,
    }
    out = {
        PROMETHEUS_RULE_PATH: render_template(
            "prometheus/prometheusrule.yaml.j2",
            **common,
            scope=cp.mockado_namespace,
            jobs=operator_jobs(cp),
            runbook_url=cp.runbook_url,
            sidecar=sidecar_selectors(cp),
        ),
        f"{MONITORING_DIR}/servicemonitor.yaml": render_template(
            "k8s/servicemonitor.yaml.j2", **common, scope=cp.mockado_namespace
        ),
        f"{MONITORING_DIR}/wiremock-keepers.yaml": render_template(
            "k8s/podmonitor-keepers.yaml.j2", **common, scope=cp.mockado_namespace
        ),
    }
    for target in capture_targets(cp):
        out[podmonitor_path(target)] = render_template(
            "k8s/podmonitor-sidecars.yaml.j2",
            **common,
            scope=target.namespace,
            # Also its app.kubernetes.io/name label: at most 63 characters.
            name=bounded_name("mockado-sidecars", target.key),
            capture_namespace=None if target.is_global else target.namespace,
            keep_regex=_keep_regex(cp),
            cluster_renames=collector_cluster_renames(cp),
            listener_in_name=LISTENER_IN_NAME,
            ext_proc_name=EXT_PROC_NAME,
            collector_service=cp.collector.host.partition(".")[0],
        )
    return out


def render_scrape_config(cp: ControlPlaneConfig) -> str:
    """prometheus/scrape.yaml: the monitors' targets as plain scrape jobs."""
    return render_template(
        "prometheus/scrape.yaml.j2",
        managed_marker=MANAGED_MARKER,
        mockado_namespace=cp.mockado_namespace,
        keep_regex=_keep_regex(cp),
        cluster_renames=collector_cluster_renames(cp),
        listener_in_name=LISTENER_IN_NAME,
        ext_proc_name=EXT_PROC_NAME,
    )


def operator_jobs(cp: ControlPlaneConfig) -> dict[str, str]:
    """The job labels the Operator gives each component's targets: a ServiceMonitor's are
    the Service's name, a PodMonitor's ``<its namespace>/<its name>``."""
    return {
        "collector": cp.collector.host.partition(".")[0],
        "loader": "mockado-loader",
        "keepers": f"{prometheus_namespace(cp)}/mockado-wiremock-keepers",
    }


def render_rules(cp: ControlPlaneConfig) -> str:
    """prometheus/rules.yaml: the PrometheusRule's alerts on prometheus/scrape.yaml's jobs."""
    return render_template(
        "prometheus/rules.yaml.j2",
        managed_marker=MANAGED_MARKER,
        jobs=SCRAPE_JOBS,
        runbook_url=cp.runbook_url,
        sidecar=sidecar_selectors(cp),
    )
