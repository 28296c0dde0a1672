"""Drift end to end: through ``mockado up`` (real Envoy, ext_proc, Redis, loader and
WireMock), an upstream whose answer changes shape replaces its stub and leaves exactly
one drift record."""

from __future__ import annotations

import json
import subprocess

import httpx
from selenium.webdriver.common.by import By

from tests.support.browser import chromium
from tests.support.paths import REPO
from tests.support.processes import poll_until, wait_for_value
from tests.support.switch_upstream import switch_upstream

FIRST = {"id": 7, "name": "Ana", "plan": "gold"}
# Another shape: "plan" is gone, "tier" is new and "id" became a string.
CHANGED = {"id": "7", "name": "Ana", "tier": 2}
# Requests to /api/profile/7: FIRST twice (other values the second time), CHANGED three times.
CAPTURES = 5


def _served(stack, want: dict) -> bool:
    resp = httpx.get(f"{stack.wiremock_url}/api/profile/7", timeout=5)
    return resp.status_code == 200 and set(resp.json()) == set(want)


def _counted(stack, captures: int) -> dict | None:
    """The one recorded stub's lifecycle, once it counts ``captures`` or more."""
    stubs = httpx.get(f"{stack.wiremock_url}/__admin/mappings", timeout=5).json()
    recorded = [m for m in stubs["mappings"] if not m["metadata"]["mockado"].get("catch_all")]
    assert len(recorded) == 1
    lifecycle = recorded[0]["metadata"]["mockado"]
    return lifecycle if lifecycle["capture_count"] >= captures else None


def _drift(stack, mockado_bin: str, clean_env: dict) -> list[dict]:
    config = stack.state_dir / "mockado.effective.yaml"
    result = subprocess.run(
        [mockado_bin, "drift", "--json", "--config", str(config)],
        capture_output=True, text=True, env=clean_env, timeout=60, check=True,
    )  # fmt: skip
    return json.loads(result.stdout)


def test_a_changed_response_shape_replaces_the_stub_with_one_drift_record(
    stack_factory, mockado_bin, clean_env
):
    with switch_upstream(200, FIRST) as upstream:
        stack = stack_factory(upstream=upstream.url)
        assert httpx.get(f"{stack.proxy_url}/api/profile/7", timeout=10).json() == FIRST
        assert poll_until(lambda: _served(stack, FIRST), timeout_s=30), "first answer not mocked"
        # The same shape again (other values) is no drift.
        upstream.answer = (200, {**FIRST, "name": "Bia"})
        assert httpx.get(f"{stack.proxy_url}/api/profile/7", timeout=10).status_code == 200

        upstream.answer = (200, CHANGED)
        for _ in range(3):  # repeats of the new shape are one drift, not three
            assert httpx.get(f"{stack.proxy_url}/api/profile/7", timeout=10).json() == CHANGED
        assert poll_until(lambda: _served(stack, CHANGED), timeout_s=30), "stub not updated"

        # Each look is a `mockado drift` run: a few seconds each on a busy box.
        records = wait_for_value(
            lambda: _drift(stack, mockado_bin, clean_env), timeout_s=60, what="a drift record"
        )
        assert len(records) == 1
        [record] = records
        assert record["path_template"] == "/api/profile/{id}"
        assert record["method"] == "GET"
        assert record["changes"] == [
            "removed $.plan (string)", "added $.tier (number)", "type $.id: number -> string"
        ]  # fmt: skip
        # One stub, replaced in place: the catch-all and it. It stands for all five
        # captures: its first one, the repeat with other values, the new shape (the
        # count goes on) and that one's two repeats. Repeats are stamped late (the
        # collector's flush_interval, then the loader's stub_refresh_interval_s), so wait
        # for the count to get there; more than five would be double counting.
        lifecycle = wait_for_value(
            lambda: _counted(stack, CAPTURES), timeout_s=120, what=f"{CAPTURES} captures counted"
        )
        assert lifecycle["capture_count"] == CAPTURES, lifecycle
        assert lifecycle["first_seen"] < lifecycle["last_seen"]
        table = subprocess.run(
            [mockado_bin, "drift", "--config", str(stack.state_dir / "mockado.effective.yaml")],
            capture_output=True, text=True, env=clean_env, timeout=60, check=True,
        ).stdout  # fmt: skip
        assert "/api/profile/{id}" in table and "added $.tier (number)" in table

        _console_shows_the_drift(stack)


def _console_shows_the_drift(stack) -> None:
    """The drift page (chromium, JavaScript off) lists the record and links its stub,
    whose page shows the lifecycle and what changed."""
    [console] = stack.summary_url("console")
    with chromium(width=1400, height=520) as driver:
        driver.get(console)
        driver.find_element(By.LINK_TEXT, "Drift").click()
        rows = [r.text for r in driver.find_elements(By.CSS_SELECTOR, "#drift tr")][1:]
        assert len(rows) == 1 and "GET" in rows[0] and "added $.tier (number)" in rows[0], rows
        (REPO / "tests" / ".logs").mkdir(exist_ok=True)
        driver.save_screenshot(str(REPO / "tests" / ".logs" / "console-drift.png"))
        driver.find_element(By.CSS_SELECTOR, "#drift a.stub").click()
        lifecycle = driver.find_element(By.ID, "lifecycle").text
        assert lifecycle.startswith("First seen") and lifecycle.endswith(f"{CAPTURES} captures"), (
            lifecycle
        )
        assert "type $.id: number -> string" in driver.find_element(By.ID, "drift").text
        assert '\\"tier\\": 2' in driver.find_element(By.ID, "response").text  # the body as text
