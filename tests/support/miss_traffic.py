"""Recordings and canary misses for the miss report and console tests, through a running
``mockado up`` (a ``StackHandle``)."""

from __future__ import annotations

import json
import subprocess

import httpx

from tests.support.processes import poll_until

HOST = "users.shop.local"
CANARY_CONFIG = """
control_plane:
  namespaces:
    shop:
      canary:
        workload_labels: {track: canary}
        hosts: [users.shop.local]
"""
ORDER = {"item": "book", "qty": 2}


def record(stack) -> None:
    """Two recordings of HOST: GET /api/users/1, and POST /echo/orders with ORDER."""
    headers = {"Host": HOST}
    assert httpx.get(f"{stack.proxy_url}/api/users/1", headers=headers, timeout=10).is_success
    assert httpx.post(f"{stack.proxy_url}/echo/orders", json=ORDER, headers=headers, timeout=10)

    def loaded() -> bool:
        # Asked of the admin API, not by calling the mocks: a call before the stub is
        # loaded would be a miss of its own, and fold into the misses under test.
        found = httpx.get(f"{stack.wiremock_url}/__admin/mappings", timeout=5).json()
        recorded = [m for m in found["mappings"] if not m["metadata"]["mockado"].get("catch_all")]
        return len(recorded) == 2

    assert poll_until(loaded, timeout_s=30), "the recordings were never loaded"


def miss(stack, method: str, path: str, **kwargs) -> None:
    """One canary call to HOST that no recording matches."""
    headers = {"Host": HOST, **kwargs.pop("headers", {})}
    resp = httpx.request(
        method, f"{stack.wiremock_url}{path}", headers=headers, timeout=5, **kwargs
    )
    assert resp.status_code == 404 and resp.headers["x-mockado-miss"] == "true"


def mockado_misses(mockado_bin: str, stack, env: dict[str, str], *args: str) -> str:
    """``mockado misses ARGS`` against the stack's config. -> its output."""
    config = str(stack.state_dir / "mockado.effective.yaml")
    return subprocess.run(
        [mockado_bin, "misses", "--config", config, *args],
        capture_output=True, text=True, env=env, timeout=60, check=True,
    ).stdout  # fmt: skip


def wait_for_misses(mockado_bin: str, stack, env: dict[str, str], wanted: set, total: int):
    """Poll ``mockado misses --json`` until the misses keyed (method, path, query keys) in
    ``wanted`` add up to ``total``. -> {key: miss} of those, or fails with the last report."""
    last: list = []

    def report() -> dict | None:
        found = json.loads(mockado_misses(mockado_bin, stack, env, "--json"))
        last.append(found)
        by_key = {(m["method"], m["path"], tuple(m["query_keys"])): m for m in found}
        ours = {k: v for k, v in by_key.items() if k in wanted}
        return ours if sum(m["count"] for m in ours.values()) == total else None

    by_key = poll_until(report, timeout_s=30)
    assert by_key, f"the misses never reached the report: {last[-1] if last else None}"
    return by_key
