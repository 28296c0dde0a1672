"""docs/runbook.md, read as the script tests/integration/test_runbook.py runs: every
section in order, every command that talks to a cluster marked (and only kubectl or
istioctl), the namespace before what lives in it, istio/ applied recursively."""

from __future__ import annotations

import yaml

from control_plane.render import render_all
from ext_proc_server.core.config import load_config
from tests.support.paths import REPO
from tests.support.runbook import merge, runbook_steps

GOLDEN_CONFIG = REPO / "tests/unit/control_plane/render/golden/config.yaml"

SECTIONS = [
    "Install",
    "Keep Redis's data across a new pod",
    "Enable a namespace",
    "Disable a namespace",
    "Upgrade",
    "Roll back",
    "Rotate certificates and credentials",
    "Uninstall",
]


def test_the_sections_come_in_the_order_a_platform_team_needs_them() -> None:
    found = list(dict.fromkeys(s.section for s in runbook_steps()))
    assert found == SECTIONS


def test_commands_that_need_a_cluster_are_marked_and_are_kubectl_or_istioctl() -> None:
    steps = [s for s in runbook_steps() if s.kind == "sh"]
    for step in steps:
        talks_to_cluster = step.command.split()[0] in ("kubectl", "istioctl")
        assert talks_to_cluster == (step.needs == "cluster"), step.command
        if step.needs == "registry":
            assert step.command.startswith("docker push "), step.command
    # The rest runs on one machine: the runbook test runs them all.
    assert sum(s.needs is None for s in steps) >= 15


def test_install_applies_the_namespace_before_anything_in_it() -> None:
    install = [s.command for s in runbook_steps() if s.section == "Install" and s.kind == "sh"]
    order = [
        next(i for i, c in enumerate(install) if c.startswith(prefix))
        for prefix in (
            "mockado render --config mockado.yaml --check",
            "kubectl apply -f deploy/00-namespace.yaml",
            "kubectl -n mockado create secret generic mockado-env",
            "kubectl apply -f deploy/ ",
            "kubectl apply -R -f istio/",
        )
    ]
    assert order == sorted(order)


def test_istio_is_applied_and_deleted_recursively() -> None:
    for step in runbook_steps():
        if step.kind == "sh" and " istio/" in step.command:
            assert " -R " in f" {step.command} ", step.command


def test_disabling_prunes_by_label_and_the_readme_links_the_runbook() -> None:
    disable = [s for s in runbook_steps() if s.section == "Disable a namespace"]
    assert disable[0].kind == "edit"
    assert disable[0].edit == {"control_plane": {"namespaces": {"payments": {"enabled": False}}}}
    assert any("-l mockado.io/namespace=payments" in s.command for s in disable)
    assert "docs/runbook.md" in (REPO / "README.md").read_text(encoding="utf-8")


def resource(doc: dict) -> str:
    """kubectl's plural.group name of a rendered object's kind."""
    kind, group = doc["kind"].lower(), doc["apiVersion"].rpartition("/")[0]
    plural = f"{kind[:-1]}ies" if kind.endswith("y") else f"{kind}s"
    return f"{plural}.{group}"


def test_uninstall_sweeps_every_kind_rendered_outside_the_namespace() -> None:
    config = load_config(GOLDEN_CONFIG, env={})
    kinds = {
        resource(doc)
        for f in render_all(config)
        if f.path.startswith(("istio/", "istio-debug/"))
        for doc in yaml.safe_load_all(f.text)
        if doc
    }
    assert {"envoyfilters.networking.istio.io", "networkpolicies.networking.k8s.io"} <= kinds
    uninstall = [s.command for s in runbook_steps() if s.section == "Uninstall"]
    (sweep,) = [c for c in uninstall if "-l app.kubernetes.io/part-of=mockado" in c
                and "networking.istio.io" in c]  # fmt: skip
    swept = set(sweep.split()[2].split(","))
    assert kinds <= swept, sorted(kinds - swept)


def _applied_directories(section: str) -> dict[str, str]:
    """`kubectl apply -f deploy/<dir>/` of ``section`` -> what its marker says it needs."""
    out = {}
    for step in runbook_steps():
        argv = step.command.split()
        if step.section != section or argv[:3] != ["kubectl", "apply", "-f"]:
            continue
        if argv[3].startswith("deploy/") and argv[3].endswith("/"):
            out[argv[3].rstrip("/")] = step.command.partition("# ")[2]
    return out


def test_install_applies_each_rendered_directory_on_its_own() -> None:
    config = load_config(GOLDEN_CONFIG, env={})
    directories = {f.path.rpartition("/")[0] for f in render_all(config) if f.kind == "k8s"}
    rendered = {d for d in directories if d == "deploy" or d.startswith("deploy/")}
    applied = _applied_directories("Install")
    assert set(applied) == rendered
    # Only the Operator's objects wait for the Operator; the dashboard's ConfigMap does not.
    operator_only = {d for d, needs in applied.items() if "Prometheus Operator" in needs}
    assert operator_only == {"deploy/monitoring"}
    assert all(needs.startswith("needs a cluster") for needs in applied.values())


def test_uninstall_deletes_the_dashboards_configmap_wherever_it_went() -> None:
    uninstall = [s.command.split() for s in runbook_steps() if s.section == "Uninstall"]
    assert ["kubectl", "delete", "-f", "deploy/grafana-sidecar/", "--ignore-not-found"] in [
        argv[:5] for argv in uninstall
    ]


def test_the_runbooks_edits_load(tmp_path) -> None:
    # What the runbook asks to write into mockado.yaml, on the example it starts from.
    config = yaml.safe_load((REPO / "mockado.example.yaml").read_text(encoding="utf-8"))
    edits = [step.edit or {} for step in runbook_steps() if step.kind == "edit"]
    assert any("grafana_dashboard" in edit.get("control_plane", {}) for edit in edits)
    for edit in edits:
        config = merge(config, edit)
        (path := tmp_path / "mockado.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
        load_config(path, env={})
