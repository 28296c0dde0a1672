"""What the schemas do not check in rendered files: object names and label values
Kubernetes accepts, no two objects of one kind with one name, references that point at
rendered objects, and plain YAML scalars that mean the same in YAML 1.1 and 1.2.

Each check returns a list of problems (empty: it holds)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

import yaml

from control_plane.render import RenderedFile
from ext_proc_server.core.config import MockadoConfig, cluster_hosts

Doc = dict[str, Any]
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_DNS_1035_LABEL = re.compile(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_LABEL_VALUE = re.compile(r"([A-Za-z0-9]([-_.A-Za-z0-9]{0,61}[A-Za-z0-9])?)?")
_LABEL_NAME = re.compile(r"[A-Za-z0-9]([-_.A-Za-z0-9]{0,61}[A-Za-z0-9])?")
# Plain scalars a YAML 1.2 (core schema) reader, as Kubernetes' and Istio's, types otherwise.
_YAML12_NOT_STR = re.compile(
    r"null|Null|NULL|~|true|True|TRUE|false|False|FALSE"
    r"|[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+"
    r"|[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.nan|\.NaN|\.NAN"
)
_YAML12_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)")
_NAMES_OF_KIND = {"Service": _DNS_1035_LABEL, "Namespace": _DNS_LABEL}


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
Objects = list[tuple[str, Doc]]


def objects(files: list[RenderedFile]) -> Objects:
    """(path, object) of every Kubernetes object the files declare."""
    return [
        (f.path, doc)
        for f in files
        if f.kind != "envoy"
        for doc in yaml.load_all(f.text, Loader=_LOADER)
        if isinstance(doc, dict) and "kind" in doc
    ]


def _key(doc: Doc) -> tuple[str, str, str]:
    meta = doc["metadata"]
    return doc["kind"], str(meta.get("namespace", "")), str(meta["name"])


def name_problems(found: Objects) -> list[str]:
    """Names of their kind's form (a Service's a DNS-1035 label, a Namespace's a DNS-1123
    label, others DNS-1123 subdomains); each (kind, namespace, name) once."""
    problems = []
    seen: Counter[tuple[str, str, str]] = Counter()
    for path, doc in found:
        kind, _, name = _key(doc)
        seen[_key(doc)] += 1
        form = _NAMES_OF_KIND.get(kind, _DNS_SUBDOMAIN)
        limit = 63 if kind in _NAMES_OF_KIND else 253
        if len(name) > limit or not form.fullmatch(name):
            problems.append(f"{path}: {kind} name {name!r} ({len(name)} characters)")
        namespace = doc["metadata"].get("namespace")
        if namespace is not None and not _DNS_LABEL.fullmatch(namespace):
            problems.append(f"{path}: {kind}/{name} namespace {namespace!r}")
    problems += [f"{key} declared {n} times" for key, n in seen.items() if n > 1]
    return problems


_LABEL_SET_KEYS = ("labels", "matchLabels", "sourceLabels", "nodeSelector")


def _is_label_set(key: str, value: Any) -> bool:
    if not isinstance(value, dict):
        return False
    if key == "selector":  # a Service's selector is labels; a workload's has matchLabels
        return "matchLabels" not in value and "matchExpressions" not in value
    return key in _LABEL_SET_KEYS


def _label_maps(node: Any, where: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every label set in a document: metadata labels, matchLabels, selectors."""
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{where}/{key}"
            if _is_label_set(key, value):
                yield here, value
            else:
                yield from _label_maps(value, here)
    elif isinstance(node, list):
        for n, item in enumerate(node):
            yield from _label_maps(item, f"{where}/{n}")


def label_problems(found: Objects) -> list[str]:
    """Label keys and values (metadata, selectors) that the API server accepts."""
    problems = []
    for path, doc in found:
        for where, labels in _label_maps(doc, f"{doc['kind']}/{doc['metadata']['name']}"):
            for key, value in labels.items():
                prefix, _, name = str(key).rpartition("/")
                if (prefix and not _DNS_SUBDOMAIN.fullmatch(prefix)) or not _LABEL_NAME.fullmatch(
                    name
                ):
                    problems.append(f"{path}: {where}: label key {key!r}")
                if (
                    not isinstance(value, str)
                    or len(value) > 63
                    or not _LABEL_VALUE.fullmatch(value)
                ):
                    problems.append(f"{path}: {where}: label {key} value {value!r}")
    return problems


def _plain_scalar_problem(node: yaml.ScalarNode) -> str | None:
    if node.style not in (None, ""):  # PyYAML says None for plain, libyaml ""
        return None  # quoted or block: a string for every reader
    value, tag = node.value, node.tag.rsplit(":", 1)[-1]
    if tag == "str" and _YAML12_NOT_STR.fullmatch(value):
        return f"plain {value!r} is a string in YAML 1.1, not in YAML 1.2"
    if tag == "bool" and value not in ("true", "false"):
        return f"plain {value!r} is a boolean in YAML 1.1 only"
    if tag == "int" and not _YAML12_INT.fullmatch(value):
        return f"plain {value!r} is an integer of another value (or none) in YAML 1.2"
    if tag == "float" and not _YAML12_NOT_STR.fullmatch(value):
        return f"plain {value!r} is a float in YAML 1.1 only"
    return None


def _scalars(node: yaml.Node) -> Iterator[yaml.ScalarNode]:
    if isinstance(node, yaml.ScalarNode):
        yield node
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _scalars(item)
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield from _scalars(key)
            yield from _scalars(value)


def yaml_problems(files: list[RenderedFile]) -> list[str]:
    """Plain scalars that a YAML 1.2 reader (kubectl, istioctl) types otherwise than
    PyYAML (YAML 1.1) does; and every document reads back the same after a dump."""
    problems = []
    for f in files:
        for root in yaml.compose_all(f.text, Loader=_LOADER):
            for node in _scalars(root) if root is not None else ():
                problem = _plain_scalar_problem(node)
                if problem:
                    problems.append(f"{f.path}:{node.start_mark.line + 1}: {problem}")
        for doc in yaml.load_all(f.text, Loader=_LOADER):
            if yaml.load(yaml.dump(doc, Dumper=_DUMPER), Loader=_LOADER) != doc:
                problems.append(f"{f.path}: does not read back the same after a dump")
    return problems


def _by_kind(found: Objects, kind: str) -> list[Doc]:
    return [doc for _, doc in found if doc["kind"] == kind]


def service_hosts(found: Objects, cluster_domain: str) -> set[str]:
    return {
        f"{d['metadata']['name']}.{d['metadata']['namespace']}.svc.{cluster_domain}"
        for d in _by_kind(found, "Service")
    }


def reference_problems(found: Objects, config: MockadoConfig) -> list[str]:
    """Canary routes go to rendered WireMock Services; mockado principals and pods name
    rendered ServiceAccounts; selectors of mockado's pods select rendered Deployments."""
    cp = config.control_plane
    problems = []
    services = service_hosts(found, config.collector.cluster_domain)
    for vs in _by_kind(found, "VirtualService"):
        for route in vs["spec"]["http"]:
            if route["name"] == "mockado-canary":
                host = route["route"][0]["destination"]["host"]
                if host not in services:
                    problems.append(
                        f"VirtualService {vs['metadata']['name']}: {host} is no rendered Service"
                    )
    accounts = {
        (d["metadata"]["namespace"], d["metadata"]["name"])
        for d in _by_kind(found, "ServiceAccount")
    }
    for policy in _by_kind(found, "AuthorizationPolicy"):
        for rule in policy["spec"].get("rules", []):
            for source in rule.get("from", []):
                for p in source["source"].get("principals", []):
                    if p == "*" or p.endswith("/sa/*"):
                        continue
                    td, _, rest = p.partition("/ns/")
                    namespace, _, account = rest.partition("/sa/")
                    if td != cp.trust_domain or (namespace, account) not in accounts:
                        problems.append(
                            f"AuthorizationPolicy {policy['metadata']['name']}: {p} names no rendered ServiceAccount"
                        )
    pod_names = set()
    for deployment in _by_kind(found, "Deployment"):
        spec = deployment["spec"]["template"]["spec"]
        account = (deployment["metadata"]["namespace"], spec.get("serviceAccountName", "default"))
        if account not in accounts:
            problems.append(
                f"Deployment {deployment['metadata']['name']}: ServiceAccount {account} not rendered"
            )
        pod_names.add(
            deployment["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"]
        )
    for kind in ("AuthorizationPolicy", "Sidecar", "PodDisruptionBudget", "Service"):
        for doc in _by_kind(found, kind):
            selector = _selector(doc)
            name = selector.get("app.kubernetes.io/name")
            if name is not None and name not in pod_names:
                problems.append(
                    f"{kind} {doc['metadata']['name']} selects {name}, no rendered Deployment"
                )
    return problems


def _selector(doc: Doc) -> Mapping[str, str]:
    spec = doc["spec"]
    for found in (spec.get("selector"), spec.get("workloadSelector")):
        if isinstance(found, dict):
            return found.get("matchLabels") or found.get("labels") or found
    return {}


def capture_problems(found: Objects, config: MockadoConfig) -> list[str]:
    """Each capture EnvoyFilter selects the workloads its scope names and streams to the
    cluster of the collector the DestinationRule limits."""
    cp = config.control_plane
    problems = []
    rules = _by_kind(found, "DestinationRule")
    hosts = {r["spec"]["host"] for r in rules}
    cluster = f"outbound|{cp.collector.port}||{cp.collector.host}"
    if hosts != {cp.collector.host}:
        problems.append(
            f"DestinationRule hosts {hosts} are not the collector's {cp.collector.host}"
        )
    # The Service in front of the collector's pods is the host the sidecars stream to.
    collector_services = [
        (path, doc)
        for path, doc in found
        if doc["kind"] == "Service"
        and doc["spec"].get("selector", {}).get("app.kubernetes.io/name") == "mockado-collector"
    ]
    rendered = service_hosts(collector_services, config.collector.cluster_domain)
    if rendered != {cp.collector.host}:
        problems.append(f"the collector host {cp.collector.host} is not its Service {rendered}")
    for doc in _by_kind(found, "EnvoyFilter"):
        name, namespace = doc["metadata"]["name"], doc["metadata"]["namespace"]
        if name not in ("mockado-capture", "mockado-tap"):
            continue
        # The tap (debug) sees what capture sees: the same workloads.
        settings = cp.global_ if cp.global_.enabled else cp.namespaces[namespace]
        selector = doc["spec"].get("workloadSelector", {}).get("labels", {})
        if selector != settings.workload_selector:
            problems.append(f"{name} in {namespace}: selects {selector}")
        if name == "mockado-capture" and cluster not in yaml.dump(doc, Dumper=_DUMPER):
            problems.append(f"EnvoyFilter in {namespace}: does not stream to {cluster}")
    return problems


def _mockado_selectors(policy: Doc, mockado_namespace: str, scraper: Doc) -> list[Doc]:
    """The pod selectors of a NetworkPolicy that select pods of mockado's namespace (but
    the metrics scraper's, which may run there: ``scraper`` is its selector)."""
    here = policy["metadata"]["namespace"] == mockado_namespace
    selectors = [policy["spec"]["podSelector"]] if here else []
    for rule in [*policy["spec"].get("egress", []), *policy["spec"].get("ingress", [])]:
        for peer in rule.get("to", rule.get("from", [])):
            named = peer.get("namespaceSelector", {}).get("matchLabels", {})
            there = named.get("kubernetes.io/metadata.name")
            in_mockado = there == mockado_namespace or (here and "namespaceSelector" not in peer)
            if in_mockado and "podSelector" in peer and peer["podSelector"] != scraper:
                selectors.append(peer["podSelector"])
    return selectors


def policy_selector_problems(found: Objects, config: MockadoConfig) -> list[str]:
    """The NetworkPolicies select mockado's pods by app.kubernetes.io/name: each name they
    list is a rendered Deployment's pods."""
    pods = {
        d["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"]
        for d in _by_kind(found, "Deployment")
    }
    problems = []
    for policy in _by_kind(found, "NetworkPolicy"):
        cp = config.control_plane
        scraper = {"matchLabels": cp.metrics_scraper.pod_labels}
        selectors = _mockado_selectors(policy, cp.mockado_namespace, scraper)
        for selector in selectors:
            names = [selector.get("matchLabels", {}).get("app.kubernetes.io/name")]
            for expression in selector.get("matchExpressions", []):
                if expression["key"] == "app.kubernetes.io/name":
                    names += expression["values"]
            for name in names:
                if name is not None and name not in pods:
                    problems.append(f"NetworkPolicy {policy['metadata']['name']}: {name}")
    return problems


def canary_problems(found: Objects, config: MockadoConfig) -> list[str]:
    """Each canary host has one route, and that route has one on_miss: every name of one
    Service the canary lists asks for the same one."""
    cp = config.control_plane
    hosts = cluster_hosts(config.collector, namespaces=(*cp.namespaces, cp.mockado_namespace))
    problems = []
    for name, settings in cp.namespaces.items():
        if settings.canary is None:
            continue
        routed = Counter(
            host
            for vs in _by_kind(found, "VirtualService")
            if vs["metadata"]["namespace"] == name
            and vs["metadata"]["name"].startswith("mockado-canary")
            for host in vs["spec"]["hosts"]
        )
        modes: dict[str, set[str]] = {}
        for host in settings.canary.hosts:
            mode = settings.canary.on_miss_hosts.get(host, settings.canary.on_miss)
            modes.setdefault(hosts.canonical(host, namespace=name), set()).add(mode)
        problems += [
            f"canary in {name}: {h} asks for on_miss {sorted(m)}"
            for h, m in modes.items()
            if len(m) > 1
        ]
        problems += [f"canary in {name}: {h} has {n} routes" for h, n in routed.items() if n > 1]
        if set(routed) != set(modes):
            problems.append(f"canary in {name}: routes {sorted(routed)}, hosts {sorted(modes)}")
    return problems
