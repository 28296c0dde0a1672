"""The serving bench's own logic: when a JVM counts as warm, and the ceiling's stub."""

from __future__ import annotations

from bench.bench_serving import WARMUP_STEADY_SHARE, ceiling_stub, steady


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
