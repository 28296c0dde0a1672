"""Zero-leak scan: planted secrets go through Envoy; no sink may hold any of them.

Sinks are discovered, not listed: every Redis key (an unknown key type fails the
test), every WireMock mapping, every file under the stack's state directory
(logs of every process, backups, WireMock's root, Redis' dir, rendered configs)
and the /metrics output of every process the summary names.
"""

from __future__ import annotations

import gzip
import json
import urllib.parse
from pathlib import Path

import httpx

from tests.support.processes import wait_for_value
from tests.support.redis_dump import dump_redis


def luhn_complete(prefix: str) -> str:
    digits = [int(c) for c in prefix]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            d -= 9 if d > 9 else 0
        total += d
    return prefix + str((10 - total % 10) % 10)


CARD = luhn_complete("453914880343646")
CARD_2SERIES = luhn_complete("222300004840001")
SECRETS = {
    "jwt": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiI0MiIsIm5hbWUiOiJMZWFrIn0.c2lnbmF0dXJlX2xlYWtfdGVzdA",
    "api_key": "ak_live_9f8e7d6c5b4a3921zz",
    "password": "Tr0ub4dor&3-hunter2",
    "card": f"{CARD[:4]} {CARD[4:8]} {CARD[8:12]} {CARD[12:]}",
    "card_bare": CARD_2SERIES,
    "cpf": "529.982.247-25",
    "cpf_bare": "11144477735",
    "cnpj": "11.222.333/0001-81",
    "phone": "+55 11 91234-5678",
    "email": "maria.leak+test@empresa.com.br",
    "cookie": "s3cr3tC00kieValue",
    "cookie_nameless": "n4mel3ssC00kieValue",
    "pin": "940317",
    "custom": "EMP-123456",
    "basic": "dXNlcjpwYXNzd29yZDEyMw==",
}

CONFIG = """
collector:
  sanitize_patterns:
    - {name: employee_id, regex: 'EMP-\\d{6}', replacement: SANITIZED_EMPLOYEE}
loader:
  backup_interval: 2.0
"""


def forms(value: str) -> set[str]:
    """The raw value and the encodings it could hide in."""
    out = {value, urllib.parse.quote(value, safe=""), urllib.parse.quote_plus(value)}
    out.add(json.dumps(value)[1:-1])
    out.add(json.dumps(value, ensure_ascii=True)[1:-1].replace("/", "\\/"))
    return {f for f in out if f}


def planted_requests(client: httpx.Client) -> list[httpx.Request]:
    """Every planted value, in every place a request can carry it."""
    s = SECRETS
    return [
        client.build_request(
            "GET",
            f"/echo/users/{urllib.parse.quote(s['email'])}/orders",
            params={"cpf": s["cpf"], "token": s["jwt"], "phone": s["phone"]},
            headers={
                "Authorization": f"Bearer {s['jwt']}",
                "X-Api-Key": s["api_key"],
                "Cookie": f"session={s['cookie']}; theme=dark; {s['cookie_nameless']}",
            },
        ),
        client.build_request(
            "POST",
            "/echo/login",
            json={
                "email": s["email"],
                "password": s["password"],
                "card": s["card"],
                "cnpj": s["cnpj"],
                "employee": s["custom"],
                "cardNumber": s["card_bare"],
                "cpf": s["cpf_bare"],
                "card_pin": s["pin"],
                "note": f"call me at {s['phone']}",
            },
            headers={"Authorization": f"Basic {s['basic']}"},
        ),
        client.build_request(
            "POST",
            "/echo/form",
            content=urllib.parse.urlencode(
                {
                    "senha": s["password"],
                    "email": s["email"],
                    "cpf": s["cpf"],
                    "api_key": s["api_key"],
                }
            ),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ),
        client.build_request(
            "POST",
            "/echo/gzip",
            content=gzip.compress(
                json.dumps(
                    {"access_token": s["jwt"], "email": s["email"], "cpf": s["cpf"]}
                ).encode()
            ),
            headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
        ),
        client.build_request(
            "POST", "/api/login", json={"email": s["email"], "password": s["password"]}
        ),
    ]


def send_planted_traffic(proxy: str) -> int:
    sent = 0
    with httpx.Client(base_url=proxy, timeout=10) as client:
        for request in planted_requests(client):
            resp = client.send(request)
            assert resp.status_code == 200, (
                f"proxied request failed: {request.method} {resp.status_code}"
            )
            sent += 1
    return sent


def dump_files(root: Path) -> dict[str, str]:
    return {
        f"file:{path.relative_to(root)}": path.read_bytes().decode("utf-8", "replace")
        for path in root.rglob("*")
        if path.is_file()
    }


def find_hits(sinks: dict[str, str]) -> list[str]:
    hits = []
    for sink, text in sinks.items():
        for name, value in SECRETS.items():
            for form in forms(value):
                if form in text:
                    hits.append(f"{name} in {sink}")
    return hits


def test_no_planted_secret_reaches_any_sink(stack_factory, upstream):
    stack = stack_factory(upstream=upstream.url, config_text=CONFIG)
    assert send_planted_traffic(stack.proxy_url) == 5

    def loaded():
        resp = httpx.get(f"{stack.wiremock_url}/__admin/mappings", timeout=10).json()
        captured = [
            m
            for m in resp["mappings"]
            if not m.get("metadata", {}).get("mockado", {}).get("catch_all")
        ]
        return resp if len(captured) >= 5 else None

    mappings = wait_for_value(loaded, timeout_s=40, what="the captured traffic in WireMock")

    sinks: dict[str, str] = {"wiremock:mappings": json.dumps(mappings, ensure_ascii=False)}
    sinks.update(dump_redis(stack.effective_config["collector"]["redis_url"]))
    metrics_urls = stack.summary_url("metrics")
    assert len(metrics_urls) >= 2, stack.summary
    for url in metrics_urls:
        sinks[f"metrics:{url}"] = httpx.get(url, timeout=10).text
    envoy_admin = stack.summary_url("envoy admin")[0]
    sinks["metrics:envoy"] = httpx.get(f"{envoy_admin}/stats/prometheus", timeout=10).text

    assert stack.stop() == 0  # a clean stop writes the last backup
    files = dump_files(stack.state_dir)
    sinks.update(files)

    # The scan is not vacuous: the sinks hold the sanitized captures.
    assert any(k.startswith("file:backups/") and k.endswith(".json") for k in files), sorted(files)
    assert any(k.startswith("file:logs/") for k in files)
    assert "SANITIZED_EMAIL" in sinks["wiremock:mappings"]
    assert "SANITIZED_EMPLOYEE" in sinks["wiremock:mappings"]
    assert any(
        "collector_requests_total" in v for k, v in sinks.items() if k.startswith("metrics:")
    )

    hits = find_hits(sinks)
    assert hits == [], f"{len(hits)} leaks: {hits}"
