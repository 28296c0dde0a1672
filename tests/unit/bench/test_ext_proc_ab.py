"""``bench.ext_proc_ab``: two collectors side by side. The rounds' offers
(``ext_proc_servers.paired_offers``) interleave both sides one by one and alternate which
goes first; the figures are B over A; and on real stacks each
side runs with its own environment (B's overrides never reach A)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import redis as redis_sync

from bench.ext_proc_ab import Variant, compare, env_pairs, side_of
from bench.ext_proc_paired import Side
from bench.ext_proc_servers import paired_offers
from bench.ext_proc_stack import QUEUE, Stack, start_stack
from bench.loadgen import Request, open_loop
from tests.support.processes import poll_until

PORT_A, PORT_B = 41001, 41002


def _rounds(*, rounds: int, count: int, mix: bool) -> list[list[Request]]:
    sent: list[list[Request]] = []
    for offer in paired_offers(
        (PORT_A, PORT_B),
        rounds=rounds,
        count=count,
        mix=mix,
        recorded=5,
        tag="t-",
        send=sent.append,
    ):
        offer()
    return sent


def test_offers_interleave_the_sides_one_by_one_and_alternate_the_first() -> None:
    sent = _rounds(rounds=3, count=4, mix=False)
    assert len(sent) == 3
    for n, both in enumerate(sent):
        first, second = (PORT_A, PORT_B) if n % 2 == 0 else (PORT_B, PORT_A)
        assert [r.port for r in both] == [first, second] * 4
        # The same requests on each side, each new within the round and across rounds.
        paths_a = [r.path for r in both if r.port == PORT_A]
        assert paths_a == [r.path for r in both if r.port == PORT_B]
        assert len(set(paths_a)) == 4
    assert not set(r.path for r in sent[0]) & set(r.path for r in sent[1])


def test_the_repeats_mix_repeats_the_recorded_requests_on_both_sides() -> None:
    (both,) = _rounds(rounds=1, count=20, mix=True)
    for port in (PORT_A, PORT_B):
        paths = [r.path for r in both if r.port == port]
        recorded = [p for p in paths if "/rec/" in p]
        assert len(recorded) == 18  # 9 in 10
        assert len(set(recorded)) == 5


class _Meter:
    """A collector whose counts move by what ``offer`` sends to its port."""

    def __init__(self, *, us_per_request: float, loop_share: float) -> None:
        self.requests = 0
        self.us_per_request = us_per_request
        self.loop_share = loop_share

    def side(self) -> Side:
        return Side(
            handled=lambda: float(self.requests),
            cpu_s=lambda: self.requests * self.us_per_request / 1e6,
            loop_cpu_s=lambda: self.requests * self.us_per_request * self.loop_share / 1e6,
        )


def test_figures_are_b_over_a_for_each_kind_of_traffic() -> None:
    meter_a = _Meter(us_per_request=800, loop_share=0.5)
    meter_b = _Meter(us_per_request=1000, loop_share=0.5)

    def send(requests: list[Request]) -> None:
        for request in requests:
            (meter_a if request.port == PORT_A else meter_b).requests += 1

    figures = compare(
        (meter_a.side(), meter_b.side()),
        (PORT_A, PORT_B),
        rounds=2,
        round_s=0.02,
        recorded=5,
        send=send,
    )
    for traffic in ("unique", "repeats"):
        assert figures[f"ab.{traffic}_cpu_ratio_b_over_a"] == 1.25
        assert figures[f"ab.{traffic}_cpu_ratio_b_over_a_spread"] == 0
        assert figures[f"ab.{traffic}_loop_thread_us_b_minus_a"] == 100.0


def test_env_pairs_need_a_name_and_an_equals_sign() -> None:
    assert env_pairs(["A=1", "B=x=y", "C="]) == {"A": "1", "B": "x=y", "C": ""}
    for bad in ("NOVALUE", "=1"):
        try:
            env_pairs([bad])
        except SystemExit as exc:
            assert repr(bad) in str(exc)
        else:
            raise AssertionError(f"{bad!r} accepted")


def _one_by_one(requests: list[Request]) -> object:
    return asyncio.run(open_loop(requests, rate_rps=100, max_in_flight=1))


def test_each_real_collector_runs_with_its_own_environment(tmp_path: Path) -> None:
    """Two real stacks (Redis, upstream, Envoys, mockado ext-proc): B's queue is moved by
    its environment alone, A keeps the bench's; each side's exchanges reach its own."""
    variants = Variant(), Variant(env={"MOCKADO_COLLECTOR__REDIS_QUEUE": "bench:ab-b"})
    stacks = Stack(tmp_path / "a"), Stack(tmp_path / "b")
    try:
        parts = []
        for stack, variant in zip(stacks, variants, strict=True):
            stack.work.mkdir()
            parts.append(start_stack(stack, kind=variant.kind, env=variant.env))
        sides = side_of(parts[0], variants[0].kind), side_of(parts[1], variants[1].kind)
        ports = parts[0]["envoys"]["on"], parts[1]["envoys"]["on"]
        # One request at a time at a modest rate: at the bench's open-loop rate a loaded
        # box makes Envoy refuse captures (counted, by design), and this test is about
        # where each side's exchanges go, not how many a busy collector keeps up with.
        figures = compare(sides, ports, rounds=1, round_s=0.2, recorded=5, send=_one_by_one)
        clients = [redis_sync.Redis.from_url(one["redis_url"]) for one in parts]
        try:
            # The collectors write in batches: what is captured reaches Redis a little later.
            poll_until(
                lambda: clients[0].xlen(QUEUE) + clients[1].xlen("bench:ab-b") >= 2 * 115,
                timeout_s=30,
            )
            queues = [(client.xlen(QUEUE), client.xlen("bench:ab-b")) for client in clients]
        finally:
            for client in clients:
                client.close()
    finally:
        for stack in stacks:
            stack.stop()
    # Per side: 100 unique requests, then the mix's 10 new ones and its 5 requests
    # repeated (nothing was recorded first here, so their first time is new too).
    assert queues[0][1] == 0 and queues[1][0] == 0
    assert queues[0][0] == queues[1][1] == 115
    for traffic in ("unique", "repeats"):
        assert figures[f"ab.{traffic}_cpu_ratio_b_over_a"] > 0
