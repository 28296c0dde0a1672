"""Sanitizer cost per exchange, throughput, and correctness on the labelled corpora.

Side by side in one run: the real Sanitizer and a naive "seed algorithm" baseline
(regexes over the whole text, 13-19 digits taken as cards, a simple e-mail regex).

- ``sanitizer.us_per_exchange``: CPU time (time.process_time) per realistic exchange
  (request and response, 10-30 headers each, bodies mostly under 2 KB, about a
  quarter empty, some with personal data), the median of several passes; the
  sanitizer is warmed on other exchanges first, as a running collector is.
- ``sanitizer.mb_per_s``: MB of body text per CPU second on large generated bodies.
- ``sanitizer.personal_recall`` / ``personal_decoys_kept``: the personal-data corpus
  (tests/unit/sanitize/sanitize_corpus/personal.json).
"""

from __future__ import annotations

import base64
import json
import random
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.exchange import Exchange, HttpRequest, HttpResponse
from ext_proc_server.sanitize import Sanitizer
from tests.unit.sanitize import personal_eval

CORPUS = (
    Path(__file__).resolve().parent.parent
    / "tests"
    / "unit"
    / "sanitize"
    / "sanitize_corpus"
    / "corpus.json"
)
_SEED = 20240115
# Share of generated bodies that carry secrets (a few each); the rest are clean API
# traffic full of decoys (ids, epoch timestamps, prices, SKUs, UUIDs, dates).
SECRET_BODY_RATE = 0.4

# -- labelled corpus ---------------------------------------------------------------


def load_corpus() -> list[dict[str, Any]]:
    return json.loads(CORPUS.read_text(encoding="utf-8"))


def corpus_request(case: dict[str, Any]) -> HttpRequest:
    headers = tuple((n, v) for n, v in case.get("headers", []))
    return HttpRequest(
        method="POST",
        path=case.get("path", "/"),
        query=tuple((case.get("query") or {}).items()),
        headers=(*headers, ("content-type", case["content_type"])),
        body=case["body"].encode("utf-8"),
    )


def haystack(request: HttpRequest) -> str:
    """Everything a request carries, as one text to search for secrets."""
    return "\n".join(
        [request.path, request.authority]
        + [f"{n}={v}" for n, v in request.query]
        + [f"{n}: {v}" for n, v in request.headers]
        + [request.body.decode("utf-8", "replace")]
    )


def score(sanitize: Callable[[HttpRequest], HttpRequest]) -> tuple[int, int, list[str]]:
    """(leaks, decoys destroyed, details naming case and kind only)."""
    leaks = destroyed = 0
    details = []
    for case in load_corpus():
        request = corpus_request(case)
        before, after = haystack(request), haystack(sanitize(request))
        for index, secret in enumerate(case["secrets"]):
            if secret in after:
                leaks += 1
                details.append(f"{case['name']}: secret #{index} leaked")
        for index, decoy in enumerate(case["decoys"]):
            if after.count(decoy) < before.count(decoy):
                destroyed += 1
                details.append(f"{case['name']}: decoy #{index} destroyed")
    return leaks, destroyed, details


# -- generated throughput corpus ---------------------------------------------------


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _values(rng: random.Random) -> dict[str, str]:
    header, claims = _b64({"alg": "HS256", "typ": "JWT"}), _b64({"sub": str(rng.random())})
    jwt = f"{header}.{claims}.sig{rng.randrange(10**9)}"
    return {
        "email": f"user{rng.randrange(10**5)}+tag@mail{rng.randrange(99)}.com.br",
        "cpf": "529.982.247-25",
        "card": "4532 7777 7777 7776",
        "phone": f"(11) 9{rng.randrange(1000, 9999)}-{rng.randrange(1000, 9999)}",
        "jwt": jwt,
        "password": f"pw{rng.randrange(10**8)}",
        "id": str(rng.randrange(10**6)),
        "ts": str(1700000000000 + rng.randrange(10**9)),
        "uuid": f"{rng.getrandbits(128):032x}",
        "price": f"{rng.randrange(1, 10**5) / 100:.2f}",
        "sku": f"SKU-{rng.randrange(10**6):06d}",
        "date": f"2024-0{rng.randrange(1, 9)}-1{rng.randrange(0, 9)}T10:30:00Z",
        "word": rng.choice(["alpha", "beta", "produto", "pedido", "entrega", "ativo"]),
    }


def _json_body(rng: random.Random, size: int, secret_rate: float) -> tuple[str, str]:
    items = []
    while len(json.dumps(items)) < size:
        v = _values(rng)
        item: dict[str, Any] = {
            "id": int(v["id"]),
            "sku": v["sku"],
            "price": float(v["price"]),
            "updated_at": v["date"],
            "ts": int(v["ts"]),
            "uuid": v["uuid"],
            "name": f"{v['word']} {v['id']}",
            "tags": [v["word"], "novo"],
        }
        if rng.random() < secret_rate:
            item["customer"] = {"email": v["email"], "cpf": v["cpf"], "phone": v["phone"]}
        if rng.random() < secret_rate / 2:
            item["password"] = v["password"]
        items.append(item)
    return "application/json", json.dumps({"items": items, "next": _b64({"offset": 10})})


def _form_body(rng: random.Random, size: int, secret_rate: float) -> tuple[str, str]:
    fields = []
    while len("&".join(fields)) < size:
        v = _values(rng)
        fields.append(f"{v['word']}_{v['id']}={v['sku']}")
        if rng.random() < secret_rate:
            fields.append(f"email={v['email'].replace('@', '%40').replace('+', '%2B')}")
        if rng.random() < secret_rate / 2:
            fields.append(f"password={v['password']}")
    return "application/x-www-form-urlencoded", "&".join(fields)


def _xml_body(rng: random.Random, size: int, secret_rate: float) -> tuple[str, str]:
    parts = ["<?xml version='1.0'?><pedidos>"]
    while sum(map(len, parts)) < size:
        v = _values(rng)
        parts.append(
            f"<pedido id='{v['id']}'><sku>{v['sku']}</sku><preco>{v['price']}</preco>"
            f"<data>{v['date']}</data><desc>{v['word']} &amp; mais</desc>"
        )
        if rng.random() < secret_rate:
            parts.append(f"<email>{v['email']}</email><telefone>{v['phone']}</telefone>")
        if rng.random() < secret_rate / 2:
            parts.append(f"<Password>{v['password']}</Password>")
        parts.append("</pedido>")
    parts.append("</pedidos>")
    return "application/xml", "".join(parts)


def _text_body(rng: random.Random, size: int, secret_rate: float) -> tuple[str, str]:
    lines = []
    while sum(map(len, lines)) < size:
        v = _values(rng)
        line = f"{v['date']} INFO pedido {v['id']} sku={v['sku']} total={v['price']} ts={v['ts']}"
        if rng.random() < secret_rate:
            line += f" cliente={v['email']} tel {v['phone']} cartao {v['card']}"
        if rng.random() < secret_rate / 2:
            line += f" token {v['jwt']}"
        lines.append(line + " the password policy was checked")
    return "text/plain", "\n".join(lines)


def generated_bodies(count: int, *, seed: int = _SEED) -> list[tuple[str, bytes]]:
    rng = random.Random(seed)
    makers = (_json_body, _form_body, _xml_body, _text_body)
    out = []
    for i in range(count):
        size = rng.randrange(512, 8 * 1024)
        secret_rate = 0.15 if rng.random() < SECRET_BODY_RATE else 0.0
        content_type, body = makers[i % len(makers)](rng, size, secret_rate)
        out.append((content_type, body[: 8 * 1024].encode()))
    return out


# -- realistic exchanges (per-exchange cost) ---------------------------------------

_USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36",
    "okhttp/4.12.0",
    "Dalvik/2.1.0 (Linux; U; Android 13; SM-A536E Build/TP1A.220624.014)",
    "app-pedidos/3.4.1 (iPhone; iOS 17.4; Scale/3.00)",
)
_PATHS = ("/v1/orders/{id}", "/api/customers/{id}", "/v2/products", "/v1/payments/{id}/status",
          "/api/cart/{id}/items", "/v1/shipping/quote", "/healthz", "/v1/onboarding")  # fmt: skip
_REQUEST_HEADERS = ("accept", "accept-encoding", "accept-language", "user-agent",
                    "x-forwarded-for", "x-forwarded-proto", "x-request-id", "traceparent",
                    "x-b3-traceid", "x-b3-spanid", "x-b3-sampled", "cache-control", "origin",
                    "referer", "sec-fetch-mode", "sec-fetch-site", "sec-ch-ua-platform",
                    "x-envoy-expected-rq-timeout-ms", "x-app-version", "x-device-id",
                    "x-tenant", "if-none-match", "dnt", "x-client-name", "x-correlation-id",
                    "x-channel", "x-envoy-attempt-count")  # fmt: skip
_RESPONSE_HEADERS = ("date", "server", "cache-control", "etag", "vary",
                     "x-envoy-upstream-service-time", "strict-transport-security",
                     "x-content-type-options", "x-frame-options", "x-request-id",
                     "access-control-allow-origin", "x-ratelimit-remaining", "content-language",
                     "x-response-time", "age", "via")  # fmt: skip


def _header_value(rng: random.Random, name: str) -> str:
    hexa = f"{rng.getrandbits(128):032x}"
    return {
        "accept": "application/json, text/plain, */*",
        "accept-encoding": "gzip, deflate, br",
        "accept-language": "pt-BR,pt;q=0.9,en-US;q=0.8",
        "user-agent": rng.choice(_USER_AGENTS),
        "x-forwarded-for": f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}",
        "x-request-id": f"{hexa[:8]}-{hexa[8:12]}-{hexa[12:16]}-{hexa[16:20]}-{hexa[20:]}",
        "traceparent": f"00-{hexa}-{hexa[:16]}-01",
        "x-b3-traceid": hexa,
        "x-b3-spanid": hexa[:16],
        "referer": "https://app.example.com.br/checkout?step=2",
        "origin": "https://app.example.com.br",
        "date": "Wed, 15 May 2024 10:30:00 GMT",
        "etag": f'W/"{hexa[:12]}"',
        "x-device-id": hexa[:16],
        "x-correlation-id": hexa[:20],
        "x-ratelimit-remaining": str(rng.randrange(1000)),
        "x-envoy-upstream-service-time": str(rng.randrange(1, 300)),
        "x-response-time": f"{rng.randrange(1, 300)}ms",
    }.get(name, rng.choice(("no-cache", "1", "web", "mobile", "envoy", "nosniff", "DENY",
                            "pt-BR", "max-age=31536000", "Accept-Encoding", "acme")))  # fmt: skip


def _headers(rng: random.Random, names: tuple[str, ...], content_type: str, body: bytes) -> tuple:
    chosen = rng.sample(names, rng.randrange(8, min(len(names), 26)))
    headers = [(name, _header_value(rng, name)) for name in chosen]
    if body:
        headers += [("content-type", content_type), ("content-length", str(len(body)))]
    return tuple(headers)


def _small_json(rng: random.Random, personal: bool) -> dict[str, Any]:
    v = _values(rng)
    if personal:
        return {
            "id": int(v["id"]),
            "cliente": {"nome": "Maria da Silva Souza", "email": v["email"], "cpf": v["cpf"],
                        "telefone": v["phone"], "dataNascimento": "1985-03-14",
                        "endereco": {"logradouro": "Rua das Flores", "numero": "123",
                                     "bairro": "Jardim Paulista", "cidade": "São Paulo",
                                     "uf": "SP", "cep": "01452-000"}},
            "status": "ATIVO",
            "created_at": v["date"],
        }  # fmt: skip
    items = [
        {"id": int(_values(rng)["id"]), "sku": v["sku"], "name": f"{v['word']} {i}",
         "price": float(v["price"]), "qty": rng.randrange(1, 5), "updated_at": v["date"]}
        for i in range(rng.randrange(0, 8))
    ]  # fmt: skip
    return {"id": v["uuid"], "status": rng.choice(["PAID", "PENDING", "SHIPPED"]),
            "total": float(v["price"]), "currency": "BRL", "items": items,
            "page": {"next": _b64({"offset": 10}), "size": 20}}  # fmt: skip


def _body(rng: random.Random) -> tuple[str, bytes]:
    """About a quarter empty; most JSON under 2 KB; some forms, XML and text."""
    roll = rng.random()
    if roll < 0.25:
        return "", b""
    personal = rng.random() < 0.15
    if roll < 0.85:
        return "application/json", json.dumps(_small_json(rng, personal)).encode()
    if roll < 0.92:
        v = _values(rng)
        form = f"grant_type=password&username={v['word']}&password={v['password']}&scope=read"
        return "application/x-www-form-urlencoded", form.encode()
    maker = _xml_body if roll < 0.96 else _text_body
    content_type, body = maker(rng, rng.randrange(200, 1500), 0.15 if personal else 0.0)
    return content_type, body.encode()


def realistic_exchanges(count: int, *, seed: int) -> list[Exchange]:
    rng = random.Random(seed)
    out = []
    for index in range(count):
        path = rng.choice(_PATHS).format(id=rng.randrange(10**6))
        query = (("page", str(rng.randrange(1, 9))), ("size", "20")) if rng.random() < 0.3 else ()
        content_type, body = _body(rng) if rng.random() < 0.4 else ("", b"")
        headers = _headers(rng, _REQUEST_HEADERS, content_type, body)
        if rng.random() < 0.5:
            headers += (("authorization", f"Bearer {_values(rng)['jwt']}"),)
        request = HttpRequest(method=rng.choice(["GET", "POST"]), path=path, query=query,
                              authority="api.example.com.br", headers=headers, body=body)  # fmt: skip
        content_type, body = _body(rng)
        response = HttpResponse(
            status=200, headers=_headers(rng, _RESPONSE_HEADERS, content_type, body), body=body
        )
        out.append(Exchange(id=f"bench-{seed}-{index}", request=request, response=response))
    return out


# -- naive baseline ----------------------------------------------------------------

_NAIVE = [
    (re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]+"), "SANITIZED_JWT"),
    (re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"), "SANITIZED_EMAIL"),
    (re.compile(r"\b\d{13,19}\b"), "SANITIZED_CARD"),
    (re.compile(r"\b\d{3}\.?\d{3}\.?\d{3}-?\d{2}\b"), "SANITIZED_DOCUMENT"),
    (re.compile(r"(?i)(\"password\"\s*:\s*\")[^\"]*"), r"\1SANITIZED_PASSWORD"),
]


def naive_text(text: str) -> str:
    for pattern, replacement in _NAIVE:
        text = pattern.sub(replacement, text)
    return text


def naive_request(request: HttpRequest) -> HttpRequest:
    return HttpRequest(
        method=request.method,
        path=naive_text(request.path),
        query=tuple((n, naive_text(v)) for n, v in request.query),
        headers=tuple((n, naive_text(v)) for n, v in request.headers),
        body=naive_text(request.body.decode("utf-8")).encode(),
    )


def naive_exchange(exchange: Exchange) -> Exchange:
    response = exchange.response
    if response is not None:
        response = HttpResponse(
            status=response.status,
            headers=tuple((n, naive_text(v)) for n, v in response.headers),
            body=naive_text(response.body.decode("utf-8")).encode(),
        )
    return Exchange(id=exchange.id, request=naive_request(exchange.request), response=response)


# -- run ---------------------------------------------------------------------------


def _throughput(fn: Callable[[HttpRequest], object], requests: list[HttpRequest]) -> float:
    total = sum(len(r.body) for r in requests)
    start = time.process_time()
    for request in requests:
        fn(request)
    elapsed = max(time.process_time() - start, 1e-9)
    return total / elapsed / 1e6


# Each pass sanitizes its own bodies with a new Sanitizer (nothing remembered from an
# earlier pass); the median of the passes is reported, steadier than one pass on a
# shared machine. The naive baseline runs on the same bodies in the same pass.
PASSES = 5


def _requests(count: int, seed: int) -> list[HttpRequest]:
    return [
        HttpRequest(method="POST", path="/api/orders", headers=(("content-type", ct),), body=body)
        for ct, body in generated_bodies(count, seed=seed)
    ]


def _real(sanitizer: Sanitizer) -> Callable[[HttpRequest], HttpRequest]:
    def real(request: HttpRequest) -> HttpRequest:
        return sanitizer.sanitize(Exchange(id="bench", request=request)).request

    return real


def _cpu_us_per_exchange(fn: Callable[[Exchange], object], exchanges: list[Exchange]) -> float:
    start = time.process_time()
    for exchange in exchanges:
        fn(exchange)
    return (time.process_time() - start) / len(exchanges) * 1e6


def per_exchange(*, quick: bool) -> dict[str, float | int]:
    """Realistic exchanges: the real sanitizer (warmed) and the naive one, pass by pass."""
    count = 300 if quick else 2000
    sanitizer = Sanitizer(CollectorConfig())
    for exchange in realistic_exchanges(count // 2, seed=_SEED - 1):
        sanitizer.sanitize(exchange)  # a running collector's caches, from other traffic
    real_passes, naive_passes = [], []
    for index in range(PASSES):
        exchanges = realistic_exchanges(count, seed=_SEED + index)
        real_passes.append(_cpu_us_per_exchange(sanitizer.sanitize, exchanges))
        naive_passes.append(_cpu_us_per_exchange(naive_exchange, exchanges))
    return {
        "sanitizer.us_per_exchange": round(statistics.median(real_passes), 1),
        "sanitizer.us_per_exchange_min": round(min(real_passes), 1),
        "sanitizer.us_per_exchange_max": round(max(real_passes), 1),
        "sanitizer.naive_us_per_exchange": round(statistics.median(naive_passes), 1),
        "sanitizer.exchanges_per_pass": count,
    }


def personal(*, quick: bool) -> dict[str, float | int]:
    cases = personal_eval.load()
    if quick:
        cases = cases[::4]
    tokens = personal_eval.score(Sanitizer(CollectorConfig()), cases)
    pseudonyms = personal_eval.score(
        Sanitizer(CollectorConfig(sanitize_mode="pseudonyms", pseudonym_key="bench")), cases
    )
    # Detection is the same in both modes; survival is scored on tokens (a fake word may
    # equal another field's planted word by chance: a pseudonym, not a leak).
    return {
        "sanitizer.personal_recall": round(tokens.recall, 4),
        "sanitizer.personal_decoys_kept": round(min(tokens.decoys_kept, pseudonyms.decoys_kept), 4),
        "sanitizer.personal_planted": sum(tokens.planted.values()),
        "sanitizer.personal_decoys": tokens.decoys,
    }


def run(*, quick: bool = False) -> dict[str, float | int | str]:
    figures = {**per_exchange(quick=quick), **personal(quick=quick)}
    real = _real(Sanitizer(CollectorConfig()))
    leaks, destroyed, _ = score(real)
    naive_leaks, naive_destroyed, _ = score(naive_request)
    cases = load_corpus()
    count = 80 if quick else 400
    real_passes, naive_passes = [], []
    for index in range(PASSES):
        requests = _requests(count, _SEED + index)
        real = _real(Sanitizer(CollectorConfig()))
        real(requests[0])  # warm caches (lru, phonenumbers metadata) outside the timing
        real_passes.append(_throughput(real, requests))
        naive_passes.append(_throughput(naive_request, requests))
    real_mb_s = statistics.median(real_passes)
    naive_mb_s = statistics.median(naive_passes)
    return {
        **figures,
        "sanitizer.mb_per_s": round(real_mb_s, 2),
        "sanitizer.mb_per_s_min": round(min(real_passes), 2),
        "sanitizer.mb_per_s_max": round(max(real_passes), 2),
        "sanitizer.naive_mb_per_s": round(naive_mb_s, 2),
        # Side by side in one run: steadier than either figure on a shared machine.
        "sanitizer.speed_vs_naive": round(
            statistics.median(r / n for r, n in zip(real_passes, naive_passes, strict=True)), 2
        ),
        "sanitizer.leaks": leaks,
        "sanitizer.decoys_destroyed": destroyed,
        "sanitizer.naive_leaks": naive_leaks,
        "sanitizer.naive_decoys_destroyed": naive_destroyed,
        "sanitizer.corpus_secrets": sum(len(c["secrets"]) for c in cases),
        "sanitizer.corpus_decoys": sum(len(c["decoys"]) for c in cases),
        "sanitizer.bench_bodies": count,
        "sanitizer.bench_passes": PASSES,
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
