"""Render Envoy bootstraps, Istio objects and Kubernetes manifests from Jinja templates.

Python computes the values (cluster names, matchers, percentages); the YAML shape lives in
``control_plane/templates/``. One module per target: ``envoy`` (local proxy, sidecar
example), ``mock_router``, ``istio`` (capture scopes), ``canary``, ``sharding``,
``kubernetes``; ``output`` lists every file, ``writing`` puts them on disk.
"""

from control_plane.render.canary import Canary, canaries
from control_plane.render.clusters import SYSTEM_CA_FILES, collector_limits
from control_plane.render.environment import render_template
from control_plane.render.envoy import (
    LOCAL_COLLECTOR_CLUSTER,
    LOCAL_SAMPLE_RUNTIME_KEY,
    TIMING_LOG_FORMAT,
    LocalEnvoy,
    UpstreamService,
    render_local_envoy,
    render_sidecar_envoy,
)
from control_plane.render.istio import CaptureTarget, capture_targets
from control_plane.render.kubernetes import pod_config, render_k8s_manifests
from control_plane.render.listing import listing
from control_plane.render.matchers import (
    glob_authority_regex,
    host_matcher,
    path_matcher,
    sample_fraction,
)
from control_plane.render.mock_router import render_mock_router
from control_plane.render.output import RenderedFile, render_all
from control_plane.render.sharding import (
    ShardService,
    shard_for_host,
    shard_services,
    uncounted_miss_warnings,
    wiremock_heap_mb,
)
from control_plane.render.writing import (
    RenderedObject,
    WriteSummary,
    left_over_objects,
    objects_in,
    stale_files,
    write_files,
)

__all__ = [
    "LOCAL_COLLECTOR_CLUSTER",
    "LOCAL_SAMPLE_RUNTIME_KEY",
    "SYSTEM_CA_FILES",
    "TIMING_LOG_FORMAT",
    "Canary",
    "CaptureTarget",
    "LocalEnvoy",
    "RenderedFile",
    "RenderedObject",
    "ShardService",
    "UpstreamService",
    "WriteSummary",
    "canaries",
    "capture_targets",
    "collector_limits",
    "glob_authority_regex",
    "host_matcher",
    "left_over_objects",
    "listing",
    "objects_in",
    "path_matcher",
    "pod_config",
    "render_all",
    "render_k8s_manifests",
    "render_local_envoy",
    "render_mock_router",
    "render_sidecar_envoy",
    "render_template",
    "sample_fraction",
    "shard_for_host",
    "shard_services",
    "stale_files",
    "uncounted_miss_warnings",
    "wiremock_heap_mb",
    "write_files",
]
