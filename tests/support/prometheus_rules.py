"""mockado's alert rules as data, and the real Prometheus tools that judge them: Debian's
``prometheus`` package (``make promtool`` installs it) brings ``promtool`` and
``prometheus``."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from control_plane.render import render_all
from ext_proc_server.core.config import MockadoConfig

# PromQL's words that are not series names: aggregations' and binary operators' keywords.
_KEYWORDS = frozenset({"by", "without", "on", "ignoring", "group_left", "group_right",
                       "and", "or", "unless", "offset", "bool", "inf", "nan"})  # fmt: skip
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_MATCHERS = re.compile(r"\{([^}]*)\}")
_MATCHER = re.compile(r'(\w+)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_RANGE = re.compile(r"\[[^\]]*\]")
_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
# Numbers and durations ("0.1", "15m", "1h30m"), not names.
_NUMBER = re.compile(r"(?<![\w:])[0-9][0-9.]*[a-zA-Z0-9]*")


def tool(name: str) -> str:
    """The path of ``promtool`` or ``prometheus``; a clear failure when not installed."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} missing: run `make promtool` (Debian's prometheus package)")
    return path


def run_tool(*argv: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool(argv[0]), *argv[1:]], cwd=cwd, capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip


def rendered(config: MockadoConfig) -> dict[str, str]:
    return {f.path: f.text for f in render_all(config)}


def operator_groups(text: str) -> list[dict[str, Any]]:
    """The rule groups of the PrometheusRule in ``text``."""
    (rule,) = [d for d in yaml.safe_load_all(text) if d and d.get("kind") == "PrometheusRule"]
    return rule["spec"]["groups"]


def alerts(groups: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for group in groups:
        yield from group["rules"]


def series_names(expr: str) -> set[str]:
    """The series an expression reads: what is left once strings, label matchers, ranges,
    groupings and function calls are taken out."""
    bare = _RANGE.sub(" ", _GROUPING.sub(" ", _MATCHERS.sub(" ", _STRING.sub('""', expr))))
    bare = _NUMBER.sub(" ", bare)
    names = set()
    for match in _NAME.finditer(bare):
        after = bare[match.end() :].lstrip()
        if after.startswith("(") or match[0].lower() in _KEYWORDS:
            continue  # a function or a keyword
        names.add(match[0])
    return names


def matchers(expr: str) -> Iterator[tuple[str, str, str, str]]:
    """(series, label, operator, value) of every label matcher in ``expr``."""
    for block in _MATCHERS.finditer(expr):
        head = _NAME.findall(expr[: block.start()])
        series = head[-1] if head else ""
        for label, op, value in _MATCHER.findall(block[1]):
            yield series, label, op, value
