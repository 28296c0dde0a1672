"""Pass-through on miss: the egress the WireMock shards get for a canary's pass-through
hosts, and nothing more (a NetworkPolicy per canary namespace, a Sidecar per shard)."""

from __future__ import annotations

from typing import Any

from control_plane import validate
from ext_proc_server.loader import Router, shard_urls
from tests.unit.control_plane.render.shards import HOSTS, canary_ns, config_with
from tests.unit.control_plane.render.support import docs, files_of, pod_config_of

SCHEMAS = validate.default_schemas_dir()
PASSED = ["payments.payments.svc.cluster.local", "api.partner.example.com"]


def _files(**canary: Any) -> dict[str, str]:
    namespace = canary_ns(HOSTS)
    namespace["canary"].update(canary)
    groups = {"payments": ["payments.*"], "partners": ["*.partner.example.com"]}
    return files_of(config_with(groups=groups, namespaces={"legacy": namespace}))


def test_fail_by_default_renders_no_egress():
    files = _files()
    assert not [p for p in files if "passthrough" in p]
    assert not [p for p in _files(on_miss_hosts={HOSTS[0]: "fail"}) if "passthrough" in p]


def test_passthrough_hosts_open_exactly_their_shards_egress_and_the_sidecar_lists_them():
    files = _files(on_miss_hosts=dict.fromkeys(PASSED, "passthrough"))
    [policy] = docs(files["istio/legacy/networkpolicy-wiremock-passthrough.yaml"])
    assert validate.kubernetes_problems(policy, source="policy") == []
    pod = pod_config_of(files)
    urls, routes = shard_urls(pod)
    router = Router(routes)
    # The shards the loader puts those hosts' stubs (and fallbacks) in, and no other.
    shards = {urls[router.shard_for(h)].split("//")[1].split(".")[0] for h in PASSED}
    selected = policy["spec"]["podSelector"]["matchExpressions"][0]["values"]
    assert set(selected) == shards and len(shards) == 2
    assert policy["metadata"]["namespace"] == "mockado"
    assert policy["spec"]["policyTypes"] == ["Egress"]
    namespaces = [
        peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        for rule in policy["spec"]["egress"]
        for peer in rule["to"]
        if "namespaceSelector" in peer
    ]
    # DNS, istiod, and the one in-cluster pass-through service's namespace: not shop's.
    assert namespaces == ["kube-system", "istio-system", "payments"]
    text = files["istio/legacy/networkpolicy-wiremock-passthrough.yaml"]
    assert "ipBlock rule of your own: api.partner.example.com" in text

    sidecars = docs(files["istio/mockado/sidecar-wiremock-passthrough.yaml"])
    assert len(sidecars) == 2
    for sidecar in sidecars:
        assert validate.schema_problems(sidecar, schemas_dir=SCHEMAS, source="s") == []
        assert sidecar["spec"]["outboundTrafficPolicy"] == {"mode": "REGISTRY_ONLY"}
    hosts = sorted(h for s in sidecars for h in s["spec"]["egress"][0]["hosts"])
    assert hosts == sorted(
        ["mockado/*", "mockado/*", "payments/payments.payments.svc.cluster.local",
         "*/api.partner.example.com"]
    )  # fmt: skip
