"""Mapping fidelity: do a canary's requests get the recorded responses?

A traffic set of logical requests (several services and endpoints, JSON and
form bodies, query parameters, dynamic fields, secrets) is captured 5 times
each with different noise, run through the sanitizer, the deduplicator and
build_mapping, and imported into a fresh WireMock. Then canary variants
(fresh ids, timestamps, nonces and cache-busters, reordered query and JSON
keys, the canary's own credentials) are replayed.

Figures:
  mappings.fidelity                  canaries answered with their own recording (goal >= 0.99)
  mappings.wrong_responses           canaries answered with another request's recording (goal 0)
  mappings.stubs_per_logical_request stubs generated / logical requests (goal <= 1.1)
  mappings.naive_*                   the same traffic as exact-match stubs, one per capture, as
                                     record/snapshot makes (url equalTo, strict equalToJson)
  mappings.dedup_cpu_us_per_capture  hash + LRU + build_mapping: CPU time per capture
  mappings.sanitize_cpu_us_per_capture  the sanitizer's CPU time per capture, for scale
"""

from __future__ import annotations

import json
import random
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from control_plane.local import procs
from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.exchange import Exchange, HttpRequest, HttpResponse
from ext_proc_server.mapping import Deduplicator, NoiseNormalizer, build_mapping

CAPTURES_PER_REQUEST = 5
JSON_CT = ("content-type", "application/json")
FORM_CT = ("content-type", "application/x-www-form-urlencoded")


@dataclass(frozen=True)
class Logical:
    """One logical request: what stays the same between its captures."""

    key: str
    host: str
    method: str
    # (rng, canary?) -> (path, query pairs, headers, body bytes)
    render: Callable[
        [random.Random, bool], tuple[str, list[tuple[str, str]], list[tuple[str, str]], bytes]
    ]


def _noise_headers(rng: random.Random, canary: bool) -> list[tuple[str, str]]:
    token = (
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ"
        + ("canary" if canary else "prod")
        + str(rng.random())[2:8]
    )
    return [
        ("authorization", f"Bearer {token}.c2lnbmF0dXJlX3Rlc3Q"),
        ("cookie", f"session={uuid.UUID(int=rng.getrandbits(128)).hex}"),
        ("x-request-id", str(uuid.UUID(int=rng.getrandbits(128), version=4))),
        ("traceparent", f"00-{rng.getrandbits(128):032x}-{rng.getrandbits(64):016x}-01"),
    ]


def _epoch(rng: random.Random) -> int:
    return 1_700_000_000 + rng.randrange(10_000_000)


def _iso(rng: random.Random) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(_epoch(rng)))


def _shuffled(rng: random.Random, items: list[Any], canary: bool) -> list[Any]:
    if canary:
        items = items[:]
        rng.shuffle(items)
    return items


def _product(pid: int, lang: str) -> Logical:
    def render(rng: random.Random, canary: bool):  # type: ignore[no-untyped-def]
        query = _shuffled(rng, [("lang", lang), ("_", str(_epoch(rng) * 1000))], canary)
        return f"/products/{pid}", query, _noise_headers(rng, canary), b""

    return Logical(f"product-{pid}-{lang}", "catalog.svc", "GET", render)


def _search(word: str, page: int | None) -> Logical:
    def render(rng: random.Random, canary: bool):  # type: ignore[no-untyped-def]
        query = [("q", word), ("request_id", str(uuid.UUID(int=rng.getrandbits(128))))]
        if page is not None:
            query.append(("page", str(page)))
        return "/search", _shuffled(rng, query, canary), _noise_headers(rng, canary), b""

    return Logical(f"search-{word}-{page}", "catalog.svc", "GET", render)


def _order(n: int) -> Logical:
    skus = [f"SKU-{n}-{i}" for i in range(1 + n % 3)]

    def render(rng: random.Random, canary: bool):  # type: ignore[no-untyped-def]
        body = {
            "items": [{"sku": s, "qty": 1 + i} for i, s in enumerate(skus)],
            "customer": {
                "email": f"{'canary' if canary else 'buyer'}{rng.randrange(999)}@example.com",
                "tier": ["gold", "silver"][n % 2],
            },
            "card": "4111111111111111" if not canary else "5555555555554444",
            "nonce": f"{rng.getrandbits(64):x}",
            "created_at": _epoch(rng),
            "requestId": str(uuid.UUID(int=rng.getrandbits(128))),
            "note": f"gift-{n}" if n % 4 == 0 else None,
        }
        if canary:
            body = dict(_shuffled(rng, list(body.items()), canary))
        return "/orders", [], [JSON_CT, *_noise_headers(rng, canary)], json.dumps(body).encode()

    return Logical(f"order-{n}", "orders.svc", "POST", render)


def _order_status(expand: str) -> Logical:
    def render(rng: random.Random, canary: bool):  # type: ignore[no-untyped-def]
        oid = uuid.UUID(int=rng.getrandbits(128), version=4)
        return f"/orders/{oid}/status", [("expand", expand)], _noise_headers(rng, canary), b""

    return Logical(f"status-{expand}", "orders.svc", "GET", render)


def _login(user: str) -> Logical:
    def render(rng: random.Random, canary: bool):  # type: ignore[no-untyped-def]
        fields = [
            ("username", user),
            ("password", f"pw-{'canary' if canary else 'prod'}-{rng.randrange(10**6)}"),
            ("_csrf", f"{rng.getrandbits(96):x}"),
        ]
        body = urlencode(_shuffled(rng, fields, canary)).encode()
        return "/login", [], [FORM_CT, *_noise_headers(rng, canary)], body

    return Logical(f"login-{user}", "auth.svc", "POST", render)


def _prefs(theme: str) -> Logical:
    def render(rng: random.Random, canary: bool):  # type: ignore[no-untyped-def]
        body = {"theme": theme, "updated_at": _iso(rng), "trace_id": f"{rng.getrandbits(64):x}"}
        return (
            f"/users/{theme}.fan{rng.randrange(99)}@example.com/prefs",
            [],
            [JSON_CT, *_noise_headers(rng, canary)],
            json.dumps(body).encode(),
        )

    return Logical(f"prefs-{theme}", "profile.svc", "PUT", render)


def _category(name: str) -> Logical:
    def render(rng: random.Random, canary: bool):  # type: ignore[no-untyped-def]
        return f"/categories/{name}", [], _noise_headers(rng, canary), b""

    return Logical(f"category-{name}", "catalog.svc", "GET", render)


def _health(host: str) -> Logical:
    def render(rng: random.Random, canary: bool):  # type: ignore[no-untyped-def]
        return "/health", [("cb", str(rng.randrange(10**9)))], _noise_headers(rng, canary), b""

    return Logical(f"health-{host}", host, "GET", render)


def _traffic(count_scale: int) -> list[Logical]:
    out: list[Logical] = []
    for pid in range(12 * count_scale):
        for lang in ("en", "pt"):
            out.append(_product(pid, lang))
    words = ["shoe", "hat", "bag", "sock", "coat", "belt", "ring", "scarf"][: 2 + 2 * count_scale]
    for word in words:
        for page in (None, 2, 3):
            out.append(_search(word, page))
    out += [_order(n) for n in range(16 * count_scale)]
    out += [_order_status(e) for e in ("none", "lines", "lines,payments", "all")]
    out += [_login(f"user{n}") for n in range(6 * count_scale)]
    out += [_prefs(t) for t in ("dark", "light", "blue", "green")]
    out += [_category(f"c{n}") for n in range(8 * count_scale)]
    out += [_health(h) for h in ("catalog.svc", "orders.svc", "auth.svc", "profile.svc")]
    return out


def _capture(logical: Logical, rng: random.Random, n: int) -> Exchange:
    path, query, headers, body = logical.render(rng, False)
    response = {
        "logical": logical.key,
        "served_at": _iso(rng),
        "request_id": str(uuid.UUID(int=rng.getrandbits(128))),
    }
    return Exchange(
        id=f"{logical.key}-{n}",
        namespace="bench",
        workload="web",
        captured_at_s=float(_epoch(rng)),
        request=HttpRequest(
            method=logical.method,
            path=path,
            query=tuple(query),
            headers=tuple(headers),
            body=body,
            authority=f"{logical.host}:8080",
        ),
        response=HttpResponse(
            status=201 if logical.method == "POST" else 200,
            headers=(JSON_CT, ("set-cookie", "session=abc; HttpOnly"), ("date", "now")),
            body=json.dumps(response).encode(),
        ),
    )


def _sanitizer(config: CollectorConfig) -> tuple[Callable[[Exchange], Exchange], str]:
    try:
        from ext_proc_server.sanitize import Sanitizer

        return Sanitizer(config).sanitize, "real"
    except ImportError:
        return _fallback_sanitize, "fallback"


def _fallback_sanitize(exchange: Exchange) -> Exchange:
    """Only until the real sanitizer lands: replaces the secrets this bench itself
    generates, the way the sanitizer does (tokens plus redaction locations)."""
    request = exchange.request
    redactions = set()
    body = request.body
    if request.content_type == "application/json" and body:
        data = json.loads(body)
        if "card" in data:
            data["card"] = "SANITIZED_CARD"
            redactions.add("request.body.json:/card")
        if "customer" in data:
            data["customer"]["email"] = "SANITIZED_EMAIL"
            redactions.add("request.body.json:/customer/email")
        body = json.dumps(data).encode()
    elif request.content_type == "application/x-www-form-urlencoded":
        pairs = [p.split("=", 1) for p in body.decode().split("&")]
        body = "&".join(
            f"{k}={'SANITIZED_PASSWORD' if k == 'password' else v}" for k, v in pairs
        ).encode()
        redactions.add("request.body.form.password")
    segments = request.path.split("/")
    path = "/".join("SANITIZED_EMAIL" if "@" in s else s for s in segments)
    redactions |= {f"request.path.{i - 1}" for i, s in enumerate(segments) if "@" in s}
    headers = tuple(
        (k, "SANITIZED_HEADER" if k in ("authorization", "cookie") else v)
        for k, v in request.headers
    )
    return exchange.replace(
        request=replace(request, body=body, path=path, headers=headers),
        redactions=frozenset(redactions),
        sanitized=True,
    )


def _naive_stub(exchange: Exchange) -> dict[str, Any]:
    """What record/snapshot gives: the exact URL and body, one stub per capture."""
    request = exchange.request
    url = request.path + ("?" + urlencode(request.query) if request.query else "")
    pattern: dict[str, Any] = {"method": request.method, "url": url}
    if request.body:
        if request.content_type == "application/json":
            pattern["bodyPatterns"] = [{"equalToJson": json.loads(request.body)}]
        else:
            pattern["bodyPatterns"] = [{"equalTo": request.body.decode()}]
    assert exchange.response is not None
    return {
        "id": str(uuid.uuid4()),
        "request": pattern,
        "response": {"status": exchange.response.status, "body": exchange.response.body.decode()},
    }


def _import(url: str, mappings: list[dict[str, Any]]) -> None:
    httpx.post(f"{url}/__admin/reset", timeout=30).raise_for_status()
    resp = httpx.post(
        f"{url}/__admin/mappings/import",
        json={
            "mappings": mappings,
            "importOptions": {"duplicatePolicy": "OVERWRITE", "deleteAllNotInImport": False},
        },
        timeout=60,
    )
    resp.raise_for_status()


def _replay(url: str, canaries: list[tuple[str, Logical, tuple[Any, ...]]]) -> tuple[int, int, int]:
    """-> (right, wrong, missed)."""
    right = wrong = missed = 0
    with httpx.Client(base_url=url, timeout=10) as client:
        for key, logical, (path, query, headers, body) in canaries:
            resp = client.request(
                logical.method,
                path,
                params=query,
                content=body or None,
                headers=[("host", logical.host), *headers],
            )
            try:
                got = resp.json().get("logical") if resp.status_code < 400 else None
            except ValueError:
                got = None
            if got == key:
                right += 1
            elif got is None:
                missed += 1
            else:
                wrong += 1
    return right, wrong, missed


def _stubs(
    captures: list[Exchange], config: CollectorConfig
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int, float, float]:
    """Our mappings and the naive ones, with the drop count and both CPU times."""
    sanitize, _ = _sanitizer(config)
    normalizer = NoiseNormalizer(config)
    dedup = Deduplicator(config, normalizer=normalizer)
    mappings: list[dict[str, Any]] = []
    naive: list[dict[str, Any]] = []
    dropped = 0
    cleaned: list[Exchange] = []
    sanitize_start = time.process_time()
    for exchange in captures:
        try:
            cleaned.append(sanitize(exchange))
        except Exception:
            dropped += 1
    sanitize_cpu_s = time.process_time() - sanitize_start
    cpu_start = time.process_time()
    for clean in cleaned:
        dedup_hash = dedup.hash(clean)
        if not dedup.is_new_locally(dedup_hash):
            continue
        mapping = build_mapping(clean, dedup_hash=dedup_hash, config=config, normalizer=normalizer)
        if mapping is not None:
            mappings.append(mapping)
    dedup_cpu_us = (time.process_time() - cpu_start) / max(1, len(cleaned)) * 1e6
    for exchange in captures:
        try:
            naive.append(_naive_stub(sanitize(exchange)))
        except Exception:
            continue
    return mappings, naive, dropped, dedup_cpu_us, sanitize_cpu_s / len(captures) * 1e6


def _replay_both(
    mappings: list[dict[str, Any]], naive: list[dict[str, Any]], canaries: list[Any]
) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """Replays the canaries against a real WireMock holding ours, then the naive stubs."""
    with tempfile.TemporaryDirectory(prefix="mockado-bench-mappings-") as tmp:
        port = procs.free_port()
        process = procs.wiremock_process(
            servers=[procs.WireMockServer(port=port, root_dir=Path(tmp) / "wm")],
            log_path=Path(tmp) / "wiremock.log",
        ).start()
        try:
            process.wait_ready(
                procs.http_ready(f"http://127.0.0.1:{port}/__admin/health"), timeout_s=60
            )
            url = f"http://127.0.0.1:{port}"
            _import(url, mappings)
            ours = _replay(url, canaries)
            _import(url, naive)
            theirs = _replay(url, canaries)
        finally:
            process.stop()
    return ours, theirs


def run(*, quick: bool = False) -> dict[str, float | int | str]:
    rng = random.Random(20240501)
    traffic = _traffic(1 if quick else 3)
    config = CollectorConfig()
    _, sanitizer_kind = _sanitizer(config)
    captures = [_capture(lg, rng, n) for lg in traffic for n in range(CAPTURES_PER_REQUEST)]
    mappings, naive, dropped, dedup_cpu_us, sanitize_cpu_us = _stubs(captures, config)
    canaries = []
    for logical in traffic:
        for _ in range(1 if quick else 2):
            canaries.append((logical.key, logical, logical.render(rng, True)))
    (right, wrong, missed), (naive_right, naive_wrong, _) = _replay_both(mappings, naive, canaries)

    total = len(canaries)
    return {
        "mappings.sanitizer": sanitizer_kind,
        "mappings.logical_requests": len(traffic),
        "mappings.captures": len(captures),
        "mappings.dropped_captures": dropped,
        "mappings.stubs": len(mappings),
        "mappings.stubs_per_logical_request": round(len(mappings) / len(traffic), 3),
        "mappings.canary_requests": total,
        "mappings.fidelity": round(right / total, 4),
        "mappings.wrong_responses": wrong,
        "mappings.missed_responses": missed,
        "mappings.naive_stubs": len(naive),
        "mappings.naive_fidelity": round(naive_right / total, 4),
        "mappings.naive_wrong_responses": naive_wrong,
        # Hash + LRU + build_mapping (for the unique ones), per capture; sanitizing apart.
        "mappings.dedup_cpu_us_per_capture": round(dedup_cpu_us, 1),
        "mappings.sanitize_cpu_us_per_capture": round(sanitize_cpu_us, 1),
    }


if __name__ == "__main__":
    print(json.dumps(run(quick=False), indent=2))
