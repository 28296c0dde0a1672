"""Stub priorities: the scale built stubs use, and stubs written on the older one moved to it."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from ext_proc_server.core.exchange import HttpResponse
from ext_proc_server.mapping import (
    CATCH_ALL_PRIORITY,
    encoded_on_current_scale,
    old_stubs,
    on_current_scale,
    stub_priority,
)
from ext_proc_server.mapping.catch_all import PASSTHROUGH_PRIORITY, catch_all_mapping
from ext_proc_server.mapping.priority import (
    LOWEST_PRIORITY,
    OLD_LOWEST_PRIORITY,
    OLD_SPECIFICITY_CAP,
    PRIORITY_SCALE,
    SCALE_KEY,
    SPECIFICITY_CAP,
)
from ext_proc_server.mapping.stub_format import FORMAT_KEY, STUB_FORMAT
from tests.unit.mapping.mapping_helpers import (
    JSON,
    build,
    build_in_scenarios,
    json_post,
    make_exchange,
)


def _old_priority(specificity: int, *, later_state: bool = False) -> int:
    """The priority the old scale gave a stub (2 + 2 * (49 - min(specificity, 49)))."""
    capped = min(specificity, OLD_SPECIFICITY_CAP)
    return 2 + 2 * (OLD_SPECIFICITY_CAP - capped) - (1 if later_state else 0)


def _old_stub(specificity: int, *, later_state: bool = False) -> dict:
    return {
        "id": f"old-{specificity}-{later_state}",
        "priority": _old_priority(specificity, later_state=later_state),
        "request": {"method": "GET", "urlPath": "/items"},
        "response": {"status": 200},
        "metadata": {"mockado": {"hash": "h", "first_seen": 1.0}},
    }


def _page(fields: int, *, cursor: bool) -> dict:
    """A listing request with ``fields`` filters, and its next page (a ``cursor`` more)."""
    body = {f"filter_{i}": f"value-{i}" for i in range(fields)}
    return {**body, "cursor": "c2"} if cursor else body


def test_a_next_page_past_the_old_cap_ranks_before_its_first_page() -> None:
    # Some 25 JSON values and a path: past specificity 49, where both tied.
    page1 = build(json_post(_page(26, cursor=False)))
    page2 = build(json_post(_page(26, cursor=True)))
    assert page1 and page2
    assert page2["priority"] < page1["priority"]


def test_built_stubs_carry_the_scale_and_stay_above_the_fallbacks() -> None:
    mapping = build(make_exchange(path="/a/b/c", query=(("q", "x"),)))
    assert mapping and mapping["metadata"]["mockado"][SCALE_KEY] == PRIORITY_SCALE
    assert 1 <= mapping["priority"] <= LOWEST_PRIORITY < PASSTHROUGH_PRIORITY < CATCH_ALL_PRIORITY
    # Moving it again changes nothing: it is on this scale.
    assert on_current_scale(mapping) is mapping


def test_a_later_scenario_state_wins_over_the_first_past_the_old_cap() -> None:
    answers = (HttpResponse(status=200, headers=JSON, body=b) for b in (b'{"n":1}', b'{"n":2}'))
    mappings = build_in_scenarios([json_post(_page(40, cursor=True), response=r) for r in answers])
    first, second = mappings
    assert first and second and second["requiredScenarioState"] == "state-2"
    assert second["priority"] == first["priority"] - 1
    assert OLD_LOWEST_PRIORITY < second["priority"] < stub_priority(OLD_SPECIFICITY_CAP)


@given(st.integers(0, OLD_SPECIFICITY_CAP), st.booleans())
def test_an_old_stub_is_moved_to_the_priority_of_its_specificity(
    specificity: int, later_state: bool
) -> None:
    moved = on_current_scale(_old_stub(specificity, later_state=later_state))
    assert moved["priority"] == stub_priority(specificity, later_state=later_state)
    assert moved["metadata"]["mockado"] == {"hash": "h", "first_seen": 1.0, SCALE_KEY: 2}
    assert on_current_scale(moved) is moved


@given(
    st.integers(0, OLD_SPECIFICITY_CAP),
    st.booleans(),
    st.integers(0, SPECIFICITY_CAP + 100),
    st.booleans(),
)
def test_old_and_new_stubs_keep_the_order_of_their_specificity(
    old_specificity: int, old_state: bool, new_specificity: int, new_state: bool
) -> None:
    """Monotonic: the more specific of an old stub and a new one is tried first; the old
    scale cannot tell specificities past its cap apart, so one there ranks as the cap."""
    moved = on_current_scale(_old_stub(old_specificity, later_state=old_state))["priority"]
    new = stub_priority(new_specificity, later_state=new_state)
    if old_specificity < new_specificity:
        assert new < moved
    elif old_specificity > new_specificity:
        assert moved < new
    else:
        # One specificity: a later scenario state first, as before.
        assert (moved < new, moved == new) == (old_state > new_state, old_state == new_state)


@given(st.integers(-5, SPECIFICITY_CAP + 50), st.integers(-5, SPECIFICITY_CAP + 50))
def test_priority_is_monotonic_in_specificity(a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert stub_priority(high) <= stub_priority(low)
    assert 1 <= stub_priority(high, later_state=True) < stub_priority(high) <= LOWEST_PRIORITY
    if 0 <= low < high <= SPECIFICITY_CAP:
        assert stub_priority(high) < stub_priority(low)


@given(st.integers(1, OLD_LOWEST_PRIORITY), st.integers(1, OLD_LOWEST_PRIORITY))
def test_moving_old_stubs_keeps_their_order(a: int, b: int) -> None:
    def moved(priority: int) -> int:
        stub = {**_old_stub(0), "priority": priority}
        return on_current_scale(stub)["priority"]

    assert (a < b) == (moved(a) < moved(b))


def test_what_is_not_an_old_recorded_stub_is_left_alone() -> None:
    catch_all = catch_all_mapping(shard="default", notify_url="http://loader/unmatched")
    foreign = {"id": "x", "priority": 5, "request": {"method": "GET"}, "response": {}}
    beyond = {**_old_stub(0), "priority": OLD_LOWEST_PRIORITY + 2}
    future = _old_stub(10)
    future["metadata"]["mockado"][SCALE_KEY] = PRIORITY_SCALE + 1
    future["metadata"]["mockado"][FORMAT_KEY] = STUB_FORMAT + 1
    for mapping in (catch_all, foreign, beyond, future, {**_old_stub(3), "priority": True}):
        assert on_current_scale(mapping) is mapping
    assert old_stubs([catch_all, foreign, future]).batches == []


def test_old_stubs_are_batched_for_import() -> None:
    stubs = [_old_stub(s % 50) for s in range(7)]
    batches = old_stubs([*stubs, {"id": "other"}], size=3).batches
    assert [len(b) for b in batches] == [3, 3, 1]
    assert [m["id"] for b in batches for m in b] == [m["id"] for m in stubs]


def test_encoded_stubs_are_moved_and_others_pass_as_given() -> None:
    old = _old_stub(20)
    text = json.dumps(old, separators=(",", ":"))
    moved = json.loads(encoded_on_current_scale(text))
    assert moved == on_current_scale(old) and moved["priority"] == stub_priority(20)
    current = build(make_exchange())
    assert current
    # The queue's own text goes through unchanged, spacing and all.
    spaced = json.dumps(current, indent=1)
    assert encoded_on_current_scale(spaced) is spaced
    assert encoded_on_current_scale("not json") == "not json"
