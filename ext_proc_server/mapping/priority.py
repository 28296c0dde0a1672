"""A recorded stub's WireMock ``priority``, and stubs written on the older, narrower scale.

A stub's priority follows its specificity (``matchers.request_pattern``): more exact
constraints, a lower number, tried first. Specificity counts up to
:data:`SPECIFICITY_CAP`; a scenario state a later response waits for takes one less.

Stubs written before this scale counted specificity only up to
:data:`OLD_SPECIFICITY_CAP` (priorities 1 to :data:`OLD_LOWEST_PRIORITY`) and carry no
``priority_scale`` in ``metadata.mockado``. Their priority still says their specificity
exactly (up to that cap), so :func:`on_current_scale` moves them to this scale and they
keep their order against new stubs. One past the old cap ranks as that cap until a new
capture of its request replaces it.
"""

from __future__ import annotations

import json
from typing import Any

# metadata.mockado.priority_scale of a stub written on this scale.
PRIORITY_SCALE = 2
SCALE_KEY = "priority_scale"
# Specificity past this stops raising priority. Recorded stubs use 1..LOWEST_PRIORITY,
# tried well before the pass-through (9,999) and catch-all (10,000) stubs.
SPECIFICITY_CAP = 2_000
LOWEST_PRIORITY = 2 + 2 * SPECIFICITY_CAP
# The scale of stubs without a priority_scale.
OLD_SPECIFICITY_CAP = 49
OLD_LOWEST_PRIORITY = 2 + 2 * OLD_SPECIFICITY_CAP


def stub_priority(specificity: int, *, later_state: bool = False) -> int:
    """The priority of a stub this specific; ``later_state``: a scenario state after the
    first, which wins over the first response in its state."""
    capped = min(max(specificity, 0), SPECIFICITY_CAP)
    return 2 + 2 * (SPECIFICITY_CAP - capped) - (1 if later_state else 0)


def on_old_scale(mapping: Any) -> bool:
    """Whether this is a recorded stub written on the old scale: ``metadata.mockado``
    without a ``priority_scale``, and a priority in 1..``OLD_LOWEST_PRIORITY``."""
    if not isinstance(mapping, dict):
        return False
    metadata = mapping.get("metadata")
    mockado = metadata.get("mockado") if isinstance(metadata, dict) else None
    if not isinstance(mockado, dict) or SCALE_KEY in mockado:
        return False
    priority = mapping.get("priority")
    return type(priority) is int and 1 <= priority <= OLD_LOWEST_PRIORITY


def on_current_scale(mapping: dict[str, Any]) -> dict[str, Any]:
    """``mapping`` with its priority on this scale: a copy, marked, when it was written on
    the old one; else ``mapping`` itself."""
    if not on_old_scale(mapping):
        return mapping
    old = mapping["priority"]
    later_state = old % 2 == 1  # the old scale gave odd numbers to later scenario states
    specificity = OLD_SPECIFICITY_CAP - (old + (1 if later_state else 0) - 2) // 2
    metadata = mapping["metadata"]
    mockado = {**metadata["mockado"], SCALE_KEY: PRIORITY_SCALE}
    return {
        **mapping,
        "priority": stub_priority(specificity, later_state=later_state),
        "metadata": {**metadata, "mockado": mockado},
    }


def encoded_on_current_scale(encoded: str) -> str:
    """:func:`on_current_scale` for a mapping encoded as compact JSON: the text itself
    unless it changes (text that is not a JSON object is left to WireMock to refuse)."""
    try:
        mapping = json.loads(encoded)
    except ValueError:
        return encoded
    if not on_old_scale(mapping):
        return encoded
    return json.dumps(on_current_scale(mapping), separators=(",", ":"), ensure_ascii=False)
