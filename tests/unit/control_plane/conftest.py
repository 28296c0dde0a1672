"""Fixtures of the control-plane tests."""

from __future__ import annotations

import logging

import pytest


@pytest.fixture
def keep_logging(monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands set up logging for the process; give the root logger back afterwards."""
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    monkeypatch.setattr(root, "level", root.level)
