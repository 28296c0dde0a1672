"""Two collectors side by side: is a change worth keeping?

Runs collector A and collector B at once, each behind its own Envoy 1.40 with its own
upstream and Redis (``bench.ext_proc_stack``), their requests interleaved one by one at
500 rps each, so the shared box's load hits both alike. B differs from A by its kind,
its environment (``MOCKADO_*`` settings) or its code (``--b-tree``: another checkout,
put first on B's ``PYTHONPATH``). Each round gives B's CPU per exchange over A's and
B's event-loop thread CPU per exchange minus A's; rounds alternate which side's request
goes first. Unique traffic first, then the repeats mix (9 in 10 repeat a recorded
request), each ``--rounds`` rounds.

Single runs of the full bench move by a tenth of the floor between runs on this kind of
box; these ratios move by about 0.02 round to round, so a change of a few percent shows.

``make bench-ab AB="--b-env MOCKADO_COLLECTOR__FLUSH_INTERVAL=0.05"`` or
``python -m bench.ext_proc_ab --b-tree ../other-checkout``: prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.ext_proc_paired import Side, paired_figures, settle
from bench.ext_proc_servers import bench_requests, paired_offers
from bench.ext_proc_stack import MOCKADO, Stack, counted_side, mockado_side, start_stack
from bench.loadgen import Request, open_loop

# Requests each side records first, which the repeats mix repeats.
RECORDED = 1000
ROUNDS, ROUND_S = 6, 8.0
# Per side: the two sides together are offered twice this.
RATE_RPS = 500


@dataclass(frozen=True)
class Variant:
    """One collector: its kind (``bench.ext_proc_stack``) and its environment overrides."""

    kind: str = MOCKADO
    env: Mapping[str, str] = field(default_factory=dict)


def side_of(parts: dict, kind: str) -> Side:
    """How a round reads this collector: mockado by its /metrics, the others by their
    count file."""
    return mockado_side(parts) if kind == MOCKADO else counted_side(parts)


def send_at_rate(requests: list[Request]) -> object:
    """Offer ``requests`` open loop at both sides' rate."""
    return asyncio.run(open_loop(requests, rate_rps=2 * RATE_RPS))


def compare(
    sides: tuple[Side, Side],
    ports: tuple[int, int],
    *,
    rounds: int,
    round_s: float,
    recorded: int = RECORDED,
    send: Callable[[list[Request]], object] = send_at_rate,
) -> dict[str, float]:
    """B over A (``sides``, ``ports``: A's, B's), unique traffic then the repeats mix;
    each side's ``rec`` requests already recorded. Keys ``ab.<traffic>_cpu_ratio_b_over_a``
    (median, and ``_spread``: highest - lowest) and ``ab.<traffic>_loop_thread_us_b_minus_a``."""
    side_a, side_b = sides
    count = max(1, int(RATE_RPS * round_s))
    out: dict[str, float] = {}
    for mix, traffic in ((False, "unique"), (True, "repeats")):
        out.update(
            paired_figures(
                side_b,
                side_a,
                paired_offers(
                    (ports[1], ports[0]),  # B's request first in even rounds
                    rounds=rounds,
                    count=count,
                    mix=mix,
                    recorded=recorded,
                    tag="ab-",
                    send=send,
                ),
                ratio_key=f"ab.{traffic}_cpu_ratio_b_over_a",
                loop_key=f"ab.{traffic}_loop_thread_us_b_minus_a",
            )
        )
    return out


def run_ab(
    a: Variant,
    b: Variant,
    *,
    work: Path,
    rounds: int = ROUNDS,
    round_s: float = ROUND_S,
    recorded: int = RECORDED,
) -> dict[str, float]:
    """Start both stacks under ``work``, record ``recorded`` requests on each, compare."""
    for name in ("a", "b"):
        (work / name).mkdir(parents=True, exist_ok=True)
    stacks = Stack(work / "a"), Stack(work / "b")
    try:
        parts = [
            start_stack(stack, kind=variant.kind, env=variant.env)
            for stack, variant in zip(stacks, (a, b), strict=True)
        ]
        ports = parts[0]["envoys"]["on"], parts[1]["envoys"]["on"]
        sides = side_of(parts[0], a.kind), side_of(parts[1], b.kind)
        for port in ports:
            warm = bench_requests(port, tag="rec", count=recorded)
            asyncio.run(open_loop(warm, rate_rps=250))
        settle(sides)
        return compare(sides, ports, rounds=rounds, round_s=round_s, recorded=recorded)
    finally:
        for stack in stacks:
            stack.stop()


def env_pairs(pairs: Sequence[str]) -> dict[str, str]:
    """``KEY=VALUE`` arguments as a dict; a pair without ``=`` is an error."""
    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise SystemExit(f"bench-ab: {pair!r} is not KEY=VALUE")
        out[name] = value
    return out


def _variant(kind: str, env: Sequence[str], tree: str | None) -> Variant:
    overrides = env_pairs(env)
    if tree is not None:
        root = Path(tree).resolve()
        if not (root / "ext_proc_server" / "__init__.py").is_file():
            raise SystemExit(f"bench-ab: {root} holds no ext_proc_server package")
        overrides["PYTHONPATH"] = str(root)
    return Variant(kind=kind, env=overrides)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ext_proc_ab", description=__doc__)
    for name in ("a", "b"):
        parser.add_argument(f"--{name}-kind", default=MOCKADO, help=f"collector {name.upper()}")
        parser.add_argument(f"--{name}-env", action="append", default=[], metavar="KEY=VALUE")
        parser.add_argument(f"--{name}-tree", metavar="DIR", help="another checkout's code")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--round-s", type=float, default=ROUND_S)
    args = parser.parse_args(argv)
    a = _variant(args.a_kind, args.a_env, args.a_tree)
    b = _variant(args.b_kind, args.b_env, args.b_tree)
    with tempfile.TemporaryDirectory(prefix="mockado-bench-ab-") as work:
        figures = run_ab(a, b, work=Path(work), rounds=args.rounds, round_s=args.round_s)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
