"""Fixtures of the control-plane tests."""

from __future__ import annotations

import logging

import pytest

from control_plane.local.procs import find_envoy
from tests.support.paths import sidecar_envoy


@pytest.fixture
def keep_logging(monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands set up logging for the process; give the root logger back afterwards."""
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    monkeypatch.setattr(root, "level", root.level)


@pytest.fixture(scope="session", params=["sidecars", "bundled"])
def envoy_binary(request: pytest.FixtureRequest) -> str:
    """Each Envoy what the sidecars receive is validated with: theirs (1.37,
    control_plane.envoy_version) and the bundled 1.40. A field or value only the newer one
    knows passes the bundled Envoy and is refused by every sidecar."""
    return sidecar_envoy() if request.param == "sidecars" else find_envoy()
