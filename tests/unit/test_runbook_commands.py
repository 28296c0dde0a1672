"""docs/runbook.md, read as the script tests/integration/test_runbook.py runs: every
section in order, every command that talks to a cluster marked (and only kubectl or
istioctl), the namespace before what lives in it, istio/ applied recursively."""

from __future__ import annotations

import yaml

from control_plane.render import render_all
from ext_proc_server.core.config import load_config
from tests.support.paths import REPO
from tests.support.runbook import runbook_steps

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
