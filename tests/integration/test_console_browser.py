"""The web console in a real browser (chromium, JavaScript off): ``mockado up`` serves it
on the loader's port to this machine; click from the namespaces to a host, to one stub,
and to the miss report, and check what each page says against what was sent."""

from __future__ import annotations

import httpx
from selenium.webdriver.common.by import By

from tests.support.browser import chromium
from tests.support.miss_traffic import CANARY_CONFIG, HOST, miss, record, wait_for_misses
from tests.support.paths import REPO
from tests.support.processes import poll_until

GRAFANA = "http://grafana.example:3000/d/mockado"
CONFIG = CANARY_CONFIG + f"loader:\n  console_grafana_url: {GRAFANA}\n"
SCREENSHOTS = REPO / "tests" / ".logs"
CANARY_HITS = 4


def cells(driver, css: str = "table tr") -> dict[str, list[str]]:
    """Each table row's cells, by the text of its first two cells."""
    out = {}
    for row in driver.find_elements(By.CSS_SELECTOR, css):
        texts = [td.text for td in row.find_elements(By.TAG_NAME, "td")]
        if texts:
            out[" ".join(texts[:2])] = texts
    return out


def send_traffic(stack) -> None:
    record(stack)
    for _ in range(CANARY_HITS):  # served by the recording: canary hits
        resp = httpx.get(f"{stack.wiremock_url}/api/users/1", headers={"Host": HOST})
        assert resp.status_code == 200
    for user_id in (42, 43):
        miss(stack, "GET", f"/api/users/{user_id}?page=2")
    miss(stack, "DELETE", "/api/users/1")
    # A request body past the body limit (8 KiB): captured, but no stub is written for it.
    upload = httpx.post(f"{stack.proxy_url}/echo/upload", content=b"x" * 20_000,
                        headers={"Host": HOST}, timeout=10)  # fmt: skip
    assert upload.status_code == 200


def skip_recorded(console: str) -> bool:
    return "request_truncated" in httpx.get(console, timeout=10).text


# Long because it is one walk through the console, page by page, as a user clicks.
def test_click_through_the_console(stack_factory, mockado_bin, clean_env):
    stack = stack_factory(config_text=CONFIG)
    [console] = stack.summary_url("console")
    send_traffic(stack)
    wanted = {("GET", "/api/users/{id}", ("page",)), ("DELETE", "/api/users/{id}", ())}
    wait_for_misses(mockado_bin, stack, clean_env, wanted, total=3)
    assert poll_until(lambda: skip_recorded(console), timeout_s=30), "no skip recorded"

    with chromium(width=1400, height=520) as driver:
        driver.get(console)
        assert driver.find_element(By.ID, "grafana").get_attribute("href") == GRAFANA
        namespaces = cells(driver)
        # Captured by `mockado up` in "local"; the canary namespace "shop" has only misses.
        [local] = [row for key, row in namespaces.items() if key.startswith("local ")]
        assert local[:3] == ["local", "1", "2"] and int(local[4]) == CANARY_HITS
        assert int(local[5]) >= 3 and local[6] == "1", local  # misses: + any while polling
        [shop] = [row for key, row in namespaces.items() if key.startswith("shop ")]
        assert shop[:5] == ["shop", "1", "0", "-", "n/a"] and int(shop[5]) >= 3, shop
        skipped = [r.text for r in driver.find_elements(By.CSS_SELECTOR, "#skips tr")]
        assert f"{HOST} 1 request_truncated 1" in skipped, skipped
        SCREENSHOTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(SCREENSHOTS / "console-namespaces.png"))

        driver.find_element(By.LINK_TEXT, "local").click()
        driver.find_element(By.LINK_TEXT, HOST).click()
        assert driver.find_element(By.TAG_NAME, "h1").text == HOST
        endpoints = cells(driver)
        users = endpoints["GET /api/users/{id}"]
        assert users[2] == "1" and int(users[4]) == CANARY_HITS, users
        assert int(users[5]) >= 2 and users[6].startswith("/api/users/1 → 200 ("), users
        assert endpoints["POST /echo/orders"][2] == "1"
        deleted = endpoints["DELETE /api/users/{id}"]
        assert deleted[2:] == ["0", "-", "n/a", "1", "none recorded", "0"], deleted
        recent = [r.text for r in driver.find_elements(By.CSS_SELECTOR, "#skipped tr")]
        assert any(r.endswith("request_truncated POST /echo/upload") for r in recent), recent
        driver.save_screenshot(str(SCREENSHOTS / "console-host.png"))

        driver.find_element(By.LINK_TEXT, "/api/users/1").click()
        request = driver.find_element(By.ID, "request").text
        response = driver.find_element(By.ID, "response").text
        assert '"urlPath": "/api/users/1"' in request and '"method": "GET"' in request
        assert '"status": 200' in response and "SANITIZED_" in response
        assert "joana" not in response.lower()
        assert int(driver.find_element(By.ID, "hits").text.split()[0]) == CANARY_HITS

        driver.find_element(By.LINK_TEXT, "Miss report").click()
        report = [r.text for r in driver.find_elements(By.CSS_SELECTOR, "#misses tr")]
        assert any(r.startswith("2 ") and f"GET {HOST} /api/users/{{id}}?page" in r
                   and "path segment 3: /{id}, the stub has /1" in r for r in report), report  # fmt: skip
        assert any(r.startswith("1 ") and "DELETE" in r and "method: DELETE, the stub wants GET" in r
                   for r in report), report  # fmt: skip
        driver.save_screenshot(str(SCREENSHOTS / "console-misses.png"))
        # The closest stub is one click away.
        driver.find_elements(By.CSS_SELECTOR, "a.closest")[0].click()
        assert "/api/users/1" in driver.find_element(By.ID, "request").text
