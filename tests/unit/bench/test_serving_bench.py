"""The serving bench's own logic: when a JVM counts as warm, the ceiling's stub, and the rounds."""

from __future__ import annotations

from bench.bench_serving import (
    WARMUP_STEADY_SHARE,
    Setup,
    Window,
    ceiling_stub,
    round_order,
    round_ratios,
    spread,
    steady,
    window_figures,
)


def test_not_steady_while_still_getting_cheaper() -> None:
    assert not steady([0.6, 0.3, 0.15])
    assert not steady([0.6, 0.3])  # too few windows to tell


def test_steady_once_the_last_windows_stop_falling() -> None:
    assert steady([0.6, 0.3, 0.1, 0.1, 0.105])
    # A window a little cheaper than the best before it is noise, not compilation.
    assert steady([0.6, 0.1, 0.1 * WARMUP_STEADY_SHARE + 0.001, 0.1])


def test_one_window_still_falling_keeps_warming() -> None:
    assert not steady([0.6, 0.3, 0.1, 0.1, 0.05])


def test_ceiling_stub_matches_anything_without_matchers() -> None:
    stub = ceiling_stub()
    assert stub["request"] == {"method": "ANY"}
    assert stub["response"]["status"] == 200
    assert '"item":0' in stub["response"]["body"]


def _window(*, ok: int, jvm_cpu_s: float, duration_s: float = 2.0) -> Window:
    return Window(
        requests=ok, ok=ok, duration_s=duration_s, p50_ms=1.0, p99_ms=2.0,
        jvm_cpu_s=jvm_cpu_s, loadgen_cpu_s=0.5,
    )  # fmt: skip


def test_ratios_are_taken_within_each_round() -> None:
    # The box slows down in round 2: every setup's rate halves, their ratios do not.
    windows = {
        "stock": [_window(ok=1000, jvm_cpu_s=2.0), _window(ok=500, jvm_cpu_s=1.0)],
        "sharded": [_window(ok=20000, jvm_cpu_s=1.0), _window(ok=10000, jvm_cpu_s=0.5)],
        "ceiling": [_window(ok=25000, jvm_cpu_s=1.0), _window(ok=12500, jvm_cpu_s=0.5)],
    }
    ratios = round_ratios(windows)
    assert ratios["serving.rps_ratio_to_stock"] == 20.0
    assert ratios["serving.rps_ratio_to_stock_min"] == 20.0
    assert ratios["serving.rps_ratio_to_stock_max"] == 20.0
    assert ratios["serving.ceiling_rps_ratio_to_stock"] == 25.0
    assert ratios["serving.rps_ratio_to_ceiling"] == 0.8
    # Stock's CPU per request (2 ms) over the launcher's (0.05 ms) and the ceiling's (0.04 ms).
    assert ratios["serving.cpu_ratio_to_stock"] == 40.0
    assert ratios["serving.ceiling_cpu_ratio_to_stock"] == 50.0


def test_spread_is_the_median_and_range_of_the_rounds() -> None:
    assert spread("k", [3.0, 1.0, 10.0]) == {"k": 3.0, "k_min": 1.0, "k_max": 10.0}
    assert spread("k", [1.0, 2.0, 3.0, 10.0]) == {"k": 2.5, "k_min": 1.0, "k_max": 10.0}


def test_window_figures_take_the_median_window_and_count_every_failure() -> None:
    windows = [
        _window(ok=100, jvm_cpu_s=0.1),
        Window(
            requests=210,
            ok=200,
            duration_s=2.0,
            p50_ms=1.0,
            p99_ms=9.0,
            jvm_cpu_s=0.1,
            loadgen_cpu_s=0.5,
        ),
        _window(ok=300, jvm_cpu_s=0.1),
    ]
    figures = window_figures("sharded", windows)
    assert figures["serving.sharded.rps"] == 100.0  # 200 answers in 2 s
    assert figures["serving.sharded.jvm_cpu_ms_per_request"] == 0.5
    assert figures["serving.sharded.p99_ms"] == 2.0
    assert figures["serving.sharded.wrong_or_failed"] == 10
    # 1.5 s of wrk CPU over 6 s on every core; 1.5 s over 610 requests.
    assert figures["serving.sharded.loadgen_cpu_us_per_request"] == round(1.5e6 / 610, 1)


def test_each_round_starts_one_setup_later() -> None:
    setups = [Setup(label, [], {}) for label in ("stock", "sharded", "ceiling")]
    orders = [[s.label for s in round_order(setups, r)] for r in range(4)]
    assert orders == [
        ["stock", "sharded", "ceiling"],
        ["sharded", "ceiling", "stock"],
        ["ceiling", "stock", "sharded"],
        ["stock", "sharded", "ceiling"],
    ]
