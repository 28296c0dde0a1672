"""Side-by-side rounds of the ext_proc bench: a collector and the floor at the same time,
each behind its own Envoy, their requests interleaved one by one, so the shared box's load
hits both alike. A round gives the collector's CPU per exchange over the floor's, and its
event-loop thread's CPU per exchange minus the floor's; the figures are the median and the
spread (highest - lowest) over the rounds.

A collector is read through plain callables (:class:`Side`): mockado through its /metrics,
a counted collector (the floor, the capture alone, the three steps free) through its count
file, and any of them through fakes.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple


def _holds_nothing() -> bool:
    return False


@dataclass(frozen=True)
class Side:
    """One collector process in a round. ``handled``: the exchanges it has counted so far
    (by its own count: streams seen, or exchanges its sink took); ``cpu_s``: its CPU
    seconds; ``loop_cpu_s``: its event-loop thread's; ``holds``: whether it still holds
    accepted exchanges unwritten (its pipeline has work left)."""

    handled: Callable[[], float]
    cpu_s: Callable[[], float]
    loop_cpu_s: Callable[[], float]
    holds: Callable[[], bool] = _holds_nothing


class Round(NamedTuple):
    ratio: float  # the collector's CPU per exchange over the floor's
    loop_us_over_floor: float  # its event-loop thread's CPU per exchange minus the floor's


def settle(sides: Sequence[Side], *, poll_s: float = 1.0, timeout_s: float = 20.0) -> None:
    """Return once no side's count moved over ``poll_s`` and none holds anything, or after
    ``timeout_s``. A count file is rewritten twice a second: 1 s sees at least one rewrite."""
    deadline = time.monotonic() + timeout_s
    last: list[float] | None = None
    while time.monotonic() < deadline:
        counts = [side.handled() for side in sides]
        if counts == last and not any(side.holds() for side in sides):
            return
        last = counts
        time.sleep(poll_s)


class _Reading(NamedTuple):
    handled: float
    cpu_s: float
    loop_cpu_s: float


def _read(side: Side) -> _Reading:
    return _Reading(side.handled(), side.cpu_s(), side.loop_cpu_s())


def _per_exchange(side: Side, before: _Reading) -> tuple[float, float]:
    """CPU seconds per exchange since ``before``: the process's, its event-loop thread's."""
    now = _read(side)
    handled = max(now.handled - before.handled, 1)
    return (now.cpu_s - before.cpu_s) / handled, (now.loop_cpu_s - before.loop_cpu_s) / handled


def paired_round(
    ours: Side, floor: Side, offer: Callable[[], object], *, poll_s: float = 1.0
) -> Round:
    """One round: ``offer`` sends both sides' requests, interleaved; once both finished
    (:func:`settle`), each side's CPU per exchange over the round, compared."""
    before = _read(ours), _read(floor)
    offer()
    settle((ours, floor), poll_s=poll_s)
    ours_s, ours_loop_s = _per_exchange(ours, before[0])
    floor_s, floor_loop_s = _per_exchange(floor, before[1])
    return Round(ours_s / max(floor_s, 1e-9), (ours_loop_s - floor_loop_s) * 1e6)


def paired_figures(
    ours: Side,
    floor: Side,
    offers: Iterable[Callable[[], object]],
    *,
    ratio_key: str,
    loop_key: str,
    poll_s: float = 1.0,
) -> dict[str, float]:
    """A round per offer (built as it comes, so one round's requests live at a time) ->
    ``ratio_key``: the median ratio, ``<ratio_key>_spread``: highest - lowest, and
    ``loop_key``: the median event-loop thread difference (us)."""
    rounds = [paired_round(ours, floor, offer, poll_s=poll_s) for offer in offers]
    ratios = [one.ratio for one in rounds]
    return {
        ratio_key: round(statistics.median_high(ratios), 3),
        f"{ratio_key}_spread": round(max(ratios) - min(ratios), 3),
        loop_key: round(statistics.median_high(one.loop_us_over_floor for one in rounds), 1),
    }
