"""The ext_proc bench's side-by-side rounds on fake collectors: each round compares CPU per
exchange only once both counts have settled and the pipeline holds nothing, and the figures
are the median and the spread over the rounds."""

from __future__ import annotations

import time

import pytest

from bench.ext_proc_paired import Side, paired_figures, paired_round, settle


class _Collector:
    """Counters that move when load is offered. A count shows up over several reads, as a
    count file rewritten twice a second does; ``hold_reads``: reads of ``holds`` that still
    find exchanges unwritten, each costing ``hold_cpu_s`` (the pipeline finishing them)."""

    def __init__(self) -> None:
        self.handled = 0.0
        self.cpu_s = 0.0
        self.loop_cpu_s = 0.0
        self.pending: list[float] = []
        self.hold_reads = 0
        self.hold_cpu_s = 0.0

    def work(self, exchanges: int, *, cpu_s: float, loop_cpu_s: float, reads: int = 1) -> None:
        self.cpu_s += cpu_s
        self.loop_cpu_s += loop_cpu_s
        self.pending.extend([exchanges / reads] * reads)

    def read_handled(self) -> float:
        if self.pending:
            self.handled += self.pending.pop(0)
        return self.handled

    def holds(self) -> bool:
        if self.hold_reads == 0:
            return False
        self.hold_reads -= 1
        self.cpu_s += self.hold_cpu_s
        return True

    def side(self) -> Side:
        return Side(
            handled=self.read_handled,
            cpu_s=lambda: self.cpu_s,
            loop_cpu_s=lambda: self.loop_cpu_s,
            holds=self.holds,
        )


def test_round_compares_cpu_per_exchange_once_the_counts_settle() -> None:
    ours, floor = _Collector(), _Collector()

    def offer() -> None:
        # Each count arrives in three parts: a round read at once would see a third of it.
        ours.work(1000, cpu_s=1.5, loop_cpu_s=1.0, reads=3)
        floor.work(1000, cpu_s=1.0, loop_cpu_s=0.5, reads=3)

    result = paired_round(ours.side(), floor.side(), offer, poll_s=0.0)
    assert result.ratio == pytest.approx(1.5)
    assert result.loop_us_over_floor == pytest.approx(500.0)  # 1,000 us - 500 us per exchange


def test_round_waits_for_the_pipeline_and_counts_its_cpu() -> None:
    ours, floor = _Collector(), _Collector()
    ours.hold_cpu_s = 0.25

    def offer() -> None:
        ours.work(500, cpu_s=0.5, loop_cpu_s=0.25)
        floor.work(500, cpu_s=0.5, loop_cpu_s=0.25)
        ours.hold_reads = 2  # the count is final, the writes are not

    result = paired_round(ours.side(), floor.side(), offer, poll_s=0.0)
    assert ours.hold_reads == 0
    assert result.ratio == pytest.approx(2.0)  # 0.5 s streams + 2 x 0.25 s writes, over 0.5 s


def test_round_measures_only_its_own_load() -> None:
    ours, floor = _Collector(), _Collector()
    ours.work(10_000, cpu_s=50.0, loop_cpu_s=40.0)  # earlier steps: not this round's
    floor.work(10_000, cpu_s=1.0, loop_cpu_s=1.0)
    ours.read_handled(), floor.read_handled()

    def offer() -> None:
        ours.work(200, cpu_s=0.3, loop_cpu_s=0.2)
        floor.work(200, cpu_s=0.2, loop_cpu_s=0.2)

    result = paired_round(ours.side(), floor.side(), offer, poll_s=0.0)
    assert result.ratio == pytest.approx(1.5)
    assert result.loop_us_over_floor == pytest.approx(0.0, abs=1e-6)


def test_figures_are_the_median_and_spread_of_the_rounds() -> None:
    ours, floor = _Collector(), _Collector()
    # Per 100 exchanges: ratios 2.0, 1.2, 1.5; event-loop thread over the floor 0, 200, 100 us.
    rounds = [(0.2, 0.05), (0.12, 0.07), (0.15, 0.06)]

    def offers():
        for cpu_s, loop_cpu_s in rounds:

            def offer(cpu_s: float = cpu_s, loop_cpu_s: float = loop_cpu_s) -> None:
                ours.work(100, cpu_s=cpu_s, loop_cpu_s=loop_cpu_s, reads=2)
                floor.work(100, cpu_s=0.1, loop_cpu_s=0.05)

            yield offer

    figures = paired_figures(
        ours.side(),
        floor.side(),
        offers(),
        ratio_key="ext_proc.paired_x_cpu_ratio_to_floor",
        loop_key="ext_proc.paired_x_loop_thread_us_over_floor",
        poll_s=0.0,
    )
    assert figures == {
        "ext_proc.paired_x_cpu_ratio_to_floor": 1.5,
        "ext_proc.paired_x_cpu_ratio_to_floor_spread": 0.8,
        "ext_proc.paired_x_loop_thread_us_over_floor": 100.0,
    }


def test_settle_gives_up_on_a_count_that_never_stops() -> None:
    moving = _Collector()
    moving.work(10**9, cpu_s=0.0, loop_cpu_s=0.0, reads=10**6)
    started = time.monotonic()
    settle([moving.side()], poll_s=0.001, timeout_s=0.05)
    assert time.monotonic() - started < 1.0
    assert moving.pending  # it was still moving when the wait ended
