"""Rendered files on disk: only changed files are written, only mockado's own files are
removed, and drift is reported."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from control_plane.render import render_all, stale_files, write_files
from ext_proc_server.core.config import MockadoConfig
from tests.unit.control_plane.render.support import files_of


def make_config(namespaces: dict[str, Any]) -> MockadoConfig:
    return MockadoConfig.model_validate({"control_plane": {"namespaces": namespaces}})


# The collector's AuthorizationPolicy names the enabled namespaces' identities.
POLICIES = "istio/mockado/authorizationpolicies.yaml"


def test_toggling_a_namespace_changes_only_its_files(tmp_path: Path) -> None:
    both = make_config({"shop": {}, "payments": {"sample_percent": 10}})
    write_files(render_all(both), tmp_path)
    handwritten = tmp_path / "istio/payments/notes.yaml"
    handwritten.write_text("mine: true\n")
    other = tmp_path / "istio/other/thing.yaml"
    other.parent.mkdir(parents=True)
    other.write_text("not: mockado\n")
    # Another tool's file, even with our label, is outside what render owns.
    dashboard = tmp_path / "deploy/grafana/board.yaml"
    dashboard.parent.mkdir(parents=True, exist_ok=True)
    dashboard.write_text("# Rendered by mockado (x)\n# app.kubernetes.io/managed-by: mockado\n")

    only_shop = make_config({"shop": {}, "payments": {"enabled": False, "sample_percent": 10}})
    summary = write_files(render_all(only_shop), tmp_path)
    assert summary.written == [POLICIES]
    assert sorted(summary.removed) == [
        "deploy/monitoring/podmonitor-payments.yaml",
        "istio/payments/envoyfilter-capture.yaml",
        "istio/payments/networkpolicy-collector.yaml",
    ]
    assert handwritten.exists() and other.exists() and dashboard.exists()

    handwritten.unlink()
    write_files(render_all(only_shop), tmp_path)
    assert not (tmp_path / "istio/payments").exists()

    summary = write_files(render_all(both), tmp_path)
    assert sorted(summary.written) == sorted(
        p
        for p in files_of(both)
        if p.startswith("istio/payments/") or p.endswith("-payments.yaml") or p == POLICIES
    )


def test_a_second_write_changes_nothing(tmp_path: Path) -> None:
    files = render_all(make_config({"shop": {}}))
    first = write_files(files, tmp_path)
    assert sorted(first.written) == sorted(f.path for f in files)
    second = write_files(files, tmp_path)
    assert (second.written, second.removed) == ([], [])
    assert sorted(second.unchanged) == sorted(f.path for f in files)
    assert not list(tmp_path.rglob("*.tmp"))


def test_stale_files_reports_drift(tmp_path: Path) -> None:
    files = render_all(make_config({"shop": {}}))
    assert stale_files(files, tmp_path)  # nothing written yet
    write_files(files, tmp_path)
    assert stale_files(files, tmp_path) == []
    (tmp_path / "deploy/redis.yaml").write_text("# Rendered by mockado (x)\nedited: true\n")
    assert stale_files(files, tmp_path) == ["deploy/redis.yaml"]
    fewer = render_all(make_config({}))
    assert "istio/shop/envoyfilter-capture.yaml" in stale_files(fewer, tmp_path)


def test_turning_the_tap_off_removes_its_file_and_the_debug_directory(tmp_path: Path) -> None:
    write_files(render_all(make_config({"shop": {"debug_tap": True}})), tmp_path)
    assert (tmp_path / "istio-debug/shop/envoyfilter-tap.yaml").is_file()
    summary = write_files(render_all(make_config({"shop": {}})), tmp_path)
    assert summary.removed == ["istio-debug/shop/envoyfilter-tap.yaml"]
    assert not (tmp_path / "istio-debug").exists()
