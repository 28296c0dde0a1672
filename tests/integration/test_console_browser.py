"""The web console in a real browser (chromium, JavaScript off): ``mockado up`` serves it
on the loader's port to this machine; click from the namespaces to a host, to one stub,
and to the miss report, and check what each page says against what was recorded."""

from __future__ import annotations

from selenium.webdriver.common.by import By

from tests.support.browser import chromium
from tests.support.miss_traffic import CANARY_CONFIG, HOST, miss, record, wait_for_misses
from tests.support.paths import REPO

GRAFANA = "http://grafana.example:3000/d/mockado"
CONFIG = CANARY_CONFIG + f"loader:\n  console_grafana_url: {GRAFANA}\n"
SCREENSHOTS = REPO / "tests" / ".logs"


def rows(driver, css: str = "table tr") -> list[str]:
    return [row.text for row in driver.find_elements(By.CSS_SELECTOR, css)]


def test_click_through_the_console(stack_factory, mockado_bin, clean_env):
    stack = stack_factory(config_text=CONFIG)
    [console] = stack.summary_url("console")
    record(stack)
    for user_id in (42, 43):
        miss(stack, "GET", f"/api/users/{user_id}?page=2")
    miss(stack, "DELETE", "/api/users/1")
    wanted = {("GET", "/api/users/{id}", ("page",)), ("DELETE", "/api/users/{id}", ())}
    wait_for_misses(mockado_bin, stack, clean_env, wanted, total=3)

    with chromium(width=1400, height=520) as driver:
        driver.get(console)
        assert driver.find_element(By.ID, "grafana").get_attribute("href") == GRAFANA
        namespaces = rows(driver)
        # Captured by `mockado up` in "local"; the canary namespace "shop" has only misses.
        assert any(r.startswith("local 1 2 ") for r in namespaces), namespaces
        assert any(r.startswith("shop 1 0 ") for r in namespaces), namespaces

        driver.find_element(By.LINK_TEXT, "local").click()
        driver.find_element(By.LINK_TEXT, HOST).click()
        assert driver.find_element(By.TAG_NAME, "h1").text == HOST
        endpoints = rows(driver)
        # Its misses: the two canary calls, and any miss of the polling for the recording.
        [users] = [r for r in endpoints if r.startswith("GET /api/users/{id} 1 ")]
        assert users.endswith(" /api/users/1 → 200"), users
        assert int(users.split()[-4]) >= 2, users
        assert any(r.startswith("POST /echo/orders 1 ") for r in endpoints), endpoints
        assert any(r.startswith("DELETE /api/users/{id} 0 - 1") for r in endpoints), endpoints
        SCREENSHOTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(SCREENSHOTS / "console-host.png"))

        driver.find_element(By.LINK_TEXT, "/api/users/1").click()
        request = driver.find_element(By.ID, "request").text
        response = driver.find_element(By.ID, "response").text
        assert '"urlPath": "/api/users/1"' in request and '"method": "GET"' in request
        assert '"status": 200' in response and "SANITIZED_" in response
        assert "joana" not in response.lower()

        driver.find_element(By.LINK_TEXT, "Miss report").click()
        report = rows(driver, "#misses tr")
        assert any(r.startswith("2 ") and f"GET {HOST} /api/users/{{id}}?page" in r
                   and "path segment 3: /{id}, the stub has /1" in r for r in report), report  # fmt: skip
        assert any(r.startswith("1 ") and "DELETE" in r and "method: DELETE, the stub wants GET" in r
                   for r in report), report  # fmt: skip
        driver.save_screenshot(str(SCREENSHOTS / "console-misses.png"))
        # The closest stub is one click away.
        driver.find_elements(By.CSS_SELECTOR, "a.closest")[0].click()
        assert "/api/users/1" in driver.find_element(By.ID, "request").text
