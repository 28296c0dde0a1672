"""The rendered files the repository ships (``deploy/``, ``istio/``, ``envoy_configs/``,
``prometheus/``) are what ``mockado render`` makes of ``mockado.example.yaml`` today: a
user who applies them gets the current defaults, not those of the day they were last
rendered. After a template or default change: ``mockado render --config
mockado.example.yaml``."""

from __future__ import annotations

from pathlib import Path

from control_plane.cli import main
from tests.support.paths import REPO

SHIPPED = ("deploy", "istio", "envoy_configs", "prometheus")


def _files(root: Path) -> dict[str, bytes]:
    out = {}
    for top in SHIPPED:
        for path in sorted((root / top).rglob("*")):
            name = path.relative_to(root).as_posix()
            if path.is_file():
                out[name] = path.read_bytes()
    return out


def test_the_shipped_renders_are_the_render_of_the_example_config(tmp_path, capsys):
    config = str(REPO / "mockado.example.yaml")
    assert main(["render", "--config", config, "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    rendered, shipped = _files(tmp_path), _files(REPO)
    assert sorted(rendered) == sorted(shipped)
    stale = [name for name, text in rendered.items() if shipped[name] != text]
    assert stale == [], "out of date (run `mockado render --config mockado.example.yaml`)"
