"""deploy/'s directories apply each on its own: deploy/ and deploy/grafana-sidecar/ on any
cluster (Kubernetes' own kinds only), deploy/monitoring/ where the Prometheus Operator's
CRDs are. A tree rendered with the dashboard's ConfigMap in deploy/monitoring/ moves to the
new layout on the next render, and the move is not reported as an object to delete."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from control_plane.render import left_over_objects, render_all, write_files
from control_plane.render.dashboard import DASHBOARD_CONFIGMAP_PATH
from control_plane.render.output import RenderedFile
from control_plane.schemas import model_package
from ext_proc_server.core.config import load_config
from tests.support.paths import REPO

GOLDEN_CONFIG = Path(__file__).parent / "golden" / "config.yaml"
# Where the ConfigMap was rendered before it had a directory of its own.
OLD_CONFIGMAP_PATH = "deploy/monitoring/grafana-dashboard.yaml"
OPERATOR_API = "monitoring.coreos.com/"


def _golden() -> dict[str, str]:
    return {f.path: f.text for f in render_all(load_config(GOLDEN_CONFIG, env={}))}


def _shipped() -> dict[str, str]:
    # What `mockado render --config mockado.example.yaml` wrote into the repository.
    return {
        p.relative_to(REPO).as_posix(): p.read_text(encoding="utf-8")
        for p in (REPO / "deploy").rglob("*")
        if p.is_file()
    }


def _api_versions(files: dict[str, str], directory: str) -> dict[str, set[str]]:
    """The apiVersion of each object `kubectl apply -f <directory>/` reads (its .yaml, .yml
    and .json files, not its subdirectories) -> {apiVersion: kinds}; a file that is no
    object at all is listed under ""."""
    out: dict[str, set[str]] = {}
    for path, text in files.items():
        folder, _, name = path.rpartition("/")
        if folder != directory or not name.endswith((".yaml", ".yml", ".json")):
            continue
        for doc in yaml.safe_load_all(text):
            if doc is None:
                continue
            kind = doc.get("kind") if isinstance(doc, dict) else None
            out.setdefault(doc.get("apiVersion", "") if kind else "", set()).add(kind or path)
    return out


@pytest.mark.parametrize("rendered", [_golden, _shipped], ids=["golden", "shipped"])
def test_each_directory_holds_only_what_its_cluster_has(
    rendered: Callable[[], dict[str, str]],
) -> None:
    files = rendered()
    for directory in ("deploy", "deploy/grafana-sidecar"):
        versions = _api_versions(files, directory)
        assert versions, directory
        # Kubernetes' own kinds: no CRD (no model package), every document an object.
        assert "" not in versions, (directory, versions)
        assert [v for v in versions if model_package(v) is not None] == [], (directory, versions)
    assert _api_versions(files, "deploy/grafana-sidecar") == {"v1": {"ConfigMap"}}
    monitoring = _api_versions(files, "deploy/monitoring")
    assert monitoring and all(v.startswith(OPERATOR_API) for v in monitoring), monitoring
    # deploy/grafana/ is imported into Grafana, never applied: nothing there is an object.
    assert set(_api_versions(files, "deploy/grafana")) == {""}


def _old_layout(files: list[RenderedFile], out_root: Path) -> None:
    """``out_root`` as a render before the move left it."""
    write_files(files, out_root)
    (out_root / DASHBOARD_CONFIGMAP_PATH).rename(out_root / OLD_CONFIGMAP_PATH)
    (out_root / DASHBOARD_CONFIGMAP_PATH).parent.rmdir()


def test_the_next_render_moves_the_configmap_and_keeps_it_applied(tmp_path: Path) -> None:
    files = render_all(load_config(GOLDEN_CONFIG, env={}))
    _old_layout(files, tmp_path)
    # The ConfigMap moved: `kubectl delete` would take down what the new file applies.
    assert left_over_objects(files, tmp_path) == {}
    summary = write_files(files, tmp_path)
    assert summary.written == [DASHBOARD_CONFIGMAP_PATH]
    assert summary.removed == [OLD_CONFIGMAP_PATH]
    assert summary.removed_objects == {}
    assert not (tmp_path / OLD_CONFIGMAP_PATH).exists()
    assert (tmp_path / "deploy/monitoring/prometheusrule.yaml").is_file()


def test_an_object_really_gone_is_still_reported_beside_the_move(tmp_path: Path) -> None:
    config = load_config(GOLDEN_CONFIG, env={})
    files = render_all(config)
    _old_layout(files, tmp_path)
    monitors = sorted(p.name for p in (tmp_path / "deploy/monitoring").glob("podmonitor-*"))
    gone = monitors[0]
    kept = [f for f in files if not f.path.endswith(f"/{gone}")]
    assert len(kept) == len(files) - 1
    summary = write_files(kept, tmp_path)
    assert sorted(summary.removed) == sorted([OLD_CONFIGMAP_PATH, f"deploy/monitoring/{gone}"])
    (only,) = summary.removed_objects[f"deploy/monitoring/{gone}"]
    assert only.kind == "PodMonitor"
    assert list(summary.removed_objects) == [f"deploy/monitoring/{gone}"]


def test_the_sidecar_directory_goes_when_render_no_longer_fills_it(tmp_path: Path) -> None:
    files = render_all(load_config(GOLDEN_CONFIG, env={}))
    write_files(files, tmp_path)
    write_files([f for f in files if f.path != DASHBOARD_CONFIGMAP_PATH], tmp_path)
    assert not (tmp_path / DASHBOARD_CONFIGMAP_PATH).parent.exists()
