"""control_plane.collector.deferred_close_timeout_s, how long Envoy holds a finished capture
stream for the collector, is bounded at load: Envoy itself takes up to 2^63 ns, and a hung
collector would keep every stream (and the connections' keepalive timeout, twice the hold)
that long; and Envoy reads it in whole milliseconds, so a hold under 1 ms would be none, and
one with a fraction of a millisecond would be cut to fewer (Envoy 1.37 and 1.40 take it
without a word)."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ext_proc_server.core.config import load_config
from ext_proc_server.core.config.control_plane import (
    MAX_DEFERRED_CLOSE_TIMEOUT_S,
    MIN_DEFERRED_CLOSE_TIMEOUT_S,
)
from ext_proc_server.core.errors import ConfigError

KEY = "control_plane.collector.deferred_close_timeout_s"


def hold_error(env: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(None, env=env)
    return str(info.value)


@given(
    st.floats(
        min_value=0.001,
        max_value=9_223_372_035.0,  # the longest Envoy 1.40 accepts
    )
)
def test_a_hold_up_to_60_s_loads_and_a_longer_one_is_refused_naming_the_key(
    hold_s: float,
) -> None:
    env = {"MOCKADO_CONTROL_PLANE__COLLECTOR__DEFERRED_CLOSE_TIMEOUT_S": repr(hold_s)}
    if hold_s <= MAX_DEFERRED_CLOSE_TIMEOUT_S:
        if abs(hold_s * 1000 - round(hold_s * 1000)) > 1e-6:
            assert hold_error(env).startswith(f"{KEY}: a whole number of milliseconds")
            return
        assert load_config(None, env=env).control_plane.collector.deferred_close_timeout_s == hold_s
        return
    message = hold_error(env)
    assert message.startswith(f"{KEY}: at most 60 s"), message
    assert "keepalive timeout is twice it" in message


@given(st.floats(min_value=0.0, max_value=0.001, exclude_min=True, exclude_max=True))
@example(0.0004)
@example(0.000999)
def test_a_hold_under_1_ms_is_refused_naming_the_key(hold_s: float) -> None:
    # Envoy would read it as 0 ms: no hold at all.
    env = {"MOCKADO_CONTROL_PLANE__COLLECTOR__DEFERRED_CLOSE_TIMEOUT_S": repr(hold_s)}
    message = hold_error(env)
    assert message.startswith(f"{KEY}: at least 0.001 s (1 ms)"), message
    assert "whole milliseconds" in message


@given(st.integers(min_value=1, max_value=60_000))
@example(300)  # 0.3 s: 300.00000000000006 ms as a float
def test_a_hold_of_whole_milliseconds_loads(milliseconds: int) -> None:
    hold_s = milliseconds / 1000
    env = {"MOCKADO_CONTROL_PLANE__COLLECTOR__DEFERRED_CLOSE_TIMEOUT_S": repr(hold_s)}
    assert load_config(None, env=env).control_plane.collector.deferred_close_timeout_s == hold_s


@pytest.mark.parametrize(
    ("written", "held"), [("0.0015", "0.001 s"), ("2.0005", "2 s"), ("30.0001", "30 s")]
)
def test_a_hold_with_a_fraction_of_a_millisecond_is_refused_naming_what_envoy_would_hold(
    written: str, held: str
) -> None:
    # Envoy takes such a hold and cuts it to whole milliseconds: not what was written.
    env = {"MOCKADO_CONTROL_PLANE__COLLECTOR__DEFERRED_CLOSE_TIMEOUT_S": written}
    message = hold_error(env)
    assert message.startswith(f"{KEY}: a whole number of milliseconds"), message
    assert f"({written} s would be held {held})" in message


def test_1_ms_is_the_shortest_hold_that_loads() -> None:
    env = {"MOCKADO_CONTROL_PLANE__COLLECTOR__DEFERRED_CLOSE_TIMEOUT_S": "0.001"}
    loaded = load_config(None, env=env).control_plane.collector.deferred_close_timeout_s
    assert loaded == MIN_DEFERRED_CLOSE_TIMEOUT_S == 0.001


@pytest.mark.parametrize(
    ("written", "refusal"),
    [("3600", "at most 60 s"), ("0.0004", "at least 0.001 s (1 ms)"),
     ("2.0005", "a whole number of milliseconds")],
)  # fmt: skip
def test_a_hold_out_of_range_in_the_file_is_refused(tmp_path, written: str, refusal: str) -> None:
    path = tmp_path / "mockado.yaml"
    path.write_text(f"control_plane:\n  collector:\n    deferred_close_timeout_s: {written}\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert str(info.value).startswith(f"{KEY}: {refusal}")
