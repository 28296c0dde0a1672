"""docs/runbook.md read as a script: its shell commands and mockado.yaml edits, in the order
written, each with its section and what it needs (a cluster, a registry, or nothing)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from tests.support.paths import REPO

RUNBOOK = REPO / "docs" / "runbook.md"
NEEDS_CLUSTER = "# needs a cluster"
NEEDS_REGISTRY = "# needs your registry"
EDIT_HEADER = "# in mockado.yaml"
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.M | re.S)
_SECTION = re.compile(r"^## (.+)$", re.M)


@dataclass(frozen=True)
class Step:
    section: str
    # "sh": a shell command; "edit": keys to merge into mockado.yaml.
    kind: str
    command: str = ""
    edit: Mapping[str, Any] | None = None
    # None (runs anywhere), "cluster" or "registry".
    needs: str | None = None


def _needs(command: str) -> str | None:
    if NEEDS_CLUSTER in command:
        return "cluster"
    if NEEDS_REGISTRY in command:
        return "registry"
    return None


def _commands(block: str) -> list[str]:
    """One entry per command: backslash continuations joined, blank lines dropped."""
    out: list[str] = []
    pending = ""
    for line in block.splitlines():
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        command = (pending + line).strip()
        pending = ""
        if command and not command.startswith("#"):
            out.append(command)
    return out


def runbook_steps(text: str | None = None) -> list[Step]:
    """Every step of the runbook (``text``, default docs/runbook.md) in written order.
    A yaml block is an edit only under ``# in mockado.yaml``; others are illustrations."""
    text = RUNBOOK.read_text(encoding="utf-8") if text is None else text
    sections = [(m.start(), m.group(1).strip()) for m in _SECTION.finditer(text)]
    steps: list[Step] = []
    for match in _FENCE.finditer(text):
        section = next((name for at, name in reversed(sections) if at < match.start()), "")
        language, body = match.group(1), match.group(2)
        if language == "sh":
            steps += [Step(section, "sh", command=c, needs=_needs(c)) for c in _commands(body)]
        elif language == "yaml" and body.startswith(EDIT_HEADER):
            steps.append(Step(section, "edit", edit=yaml.safe_load(body)))
    return steps


def merge(base: dict[str, Any], edit: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``edit``'s keys set, mappings merged key by key (as a person edits)."""
    out = dict(base)
    for key, value in edit.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out
