"""Names that the renderer writes and the capture server reads: one definition each."""

from __future__ import annotations

# gRPC initial metadata the rendered ext_proc filter sets on each stream (all optional).
META_NAMESPACE = "x-mockado-namespace"
META_WORKLOAD = "x-mockado-workload"
META_BODY_LIMIT = "x-mockado-body-limit-bytes"
# The namespace's body_limits: compact JSON, [[host glob, path filter, bytes], ...].
META_BODY_LIMITS = "x-mockado-body-limits"

# The ext_proc filter's name; also the key of ProcessingRequest.attributes.
EXT_PROC_FILTER_NAME = "envoy.filters.http.ext_proc"
ATTR_NAMESPACE = "xds.node.metadata.NAMESPACE"
ATTR_WORKLOAD = "xds.node.metadata.WORKLOAD_NAME"
# The upstream cluster; in Istio "outbound|<port>|<subset>|<destination FQDN>". Known only
# once the route is chosen, so it is asked for as a response attribute.
ATTR_CLUSTER_NAME = "xds.cluster_name"
# Why Envoy sent its response: "via_upstream" for the upstream's, else Envoy's own reason
# (a local reply: "http1.codec_error", "route_not_found", "upstream_reset_before_...").
ATTR_RESPONSE_DETAILS = "response.code_details"
# Attributes Envoy evaluates per request and sends in ProcessingRequest.attributes. In
# Istio, the node id is "sidecar~<pod ip>~<pod>.<namespace>~<namespace>.svc.cluster.local"
# and the node metadata carries WORKLOAD_NAME and NAMESPACE, so these name the workload.
REQUEST_ATTRIBUTES = (
    "request.id",
    "source.address",
    "destination.address",
    "xds.node.id",
    ATTR_WORKLOAD,
    ATTR_NAMESPACE,
)
# Attributes Envoy sends with the response headers.
RESPONSE_ATTRIBUTES = (ATTR_CLUSTER_NAME, ATTR_RESPONSE_DETAILS)
