"""Mapping fidelity: do a canary's requests get the recorded responses?

A traffic set of logical requests (several services and endpoints, JSON and
form bodies, query parameters, dynamic fields, secrets; PNG images with metadata,
binary uploads, ISO-8859-1 statements with a CPF, windows-1252 pages, JSON exports
above the default body limit (two of them under a per-path limit), PDFs and legacy
text that declares no charset) is
captured 5 times each with different noise, cut at the body limit as the collector
cuts it, run through the sanitizer, the rule (``mapping.faithful``), the
deduplicator and build_mapping, and imported into a fresh WireMock. Then canary
variants (fresh ids, timestamps, nonces and cache-busters, reordered query and JSON
keys, the canary's own credentials) are replayed.

An answer is right only when its status, Content-Type and body bytes equal one of the
sanitized recordings of its own request; a WireMock miss (404: no recording here is a
404) is missed; anything else - another request's recording, an empty or cut body - is
wrong.

Figures:
  mappings.fidelity                  right answers over the canaries of mockable requests
                                     (the config lets at least one capture get a stub;
                                     goal >= 0.99)
  mappings.wrong_responses           answers that are not right and not a miss (goal 0)
  mappings.skipped_by_reason         captures the rule gave no stub, by reason
  mappings.stubs_per_logical_request stubs generated / logical requests (goal <= 1.1)
  mappings.naive_*                   the same traffic as exact-match stubs, one per capture, as
                                     record/snapshot makes (url equalTo, strict equalToJson)
  mappings.dedup_cpu_us_per_capture  hash + LRU + build_mapping: CPU time per capture
  mappings.sanitize_cpu_us_per_capture  the sanitizer's CPU time per capture, for scale
"""

from __future__ import annotations

import base64
import json
import random
import struct
import tempfile
import time
import uuid
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from control_plane.local import procs
from ext_proc_server.capture import stream_meta
from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.exchange import Exchange, HttpRequest, HttpResponse
from ext_proc_server.mapping import Deduplicator, NoiseNormalizer, build_mapping, skip_reason
from tests.support.processes import promised_port

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
    # The upstream's (Content-Type, body); None: a JSON document naming the request.
    respond: tuple[str, bytes] | None = None


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


# -- bodies that are not UTF-8 JSON: binary, legacy charsets, large -----------------------

CPF = "529.982.247-25"
BIG_EXPORT_PATH = "/exports/big"
# What the bench's collector config adds to the defaults: the big exports' per-path limit.
BENCH_COLLECTOR = {
    "body_limits": [{"host": "reports.svc", "path": BIG_EXPORT_PATH, "bytes": 64 * 1024}]
}


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(n: int) -> bytes:
    """A small RGB PNG whose tEXt chunk names its owner (metadata the sanitizer strips)."""
    header = _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))
    row = b"\x00" + bytes((n * 7 + i) % 256 for i in range(12))
    owner = _png_chunk(b"tEXt", b"Author\x00Joana Silva, CPF " + CPF.encode())
    pixels = _png_chunk(b"IDAT", zlib.compress(row * 4))
    return b"\x89PNG\r\n\x1a\n" + header + owner + pixels + _png_chunk(b"IEND", b"")


def _static(key: str, host: str, path: str, respond: tuple[str, bytes]) -> Logical:
    """A GET whose response never changes (images, statements, pages, exports)."""

    def render(rng: random.Random, canary: bool):  # type: ignore[no-untyped-def]
        return path, [], _noise_headers(rng, canary), b""

    return Logical(key, host, "GET", render, respond)


def _image(n: int) -> Logical:
    return _static(f"image-{n}", "cdn.svc", f"/images/{n}.png", ("image/png", _png(n)))


def _statement(n: int) -> Logical:
    text = (
        f"Extrato da conta {1000 + n}\nAgência: São Paulo - Centro\nCPF do titular: {CPF}\n"
        f"Descrição: Depósito em conta   R$ {n},50\nSaldo disponível: R$ {n * 3},00\n"
    )
    respond = ("text/plain; charset=iso-8859-1", text.encode("latin-1"))
    return _static(f"statement-{n}", "bank.svc", f"/statements/{n}", respond)


def _page(n: int) -> Logical:
    html = (
        '<!DOCTYPE html><html><head><meta charset="windows-1252"><title>Preços</title>'
        f"</head><body><p>Oferta “{n}” — só {n}€ • até amanhã</p></body></html>"
    )
    return _static(f"page-{n}", "bank.svc", f"/pages/{n}", ("text/html", html.encode("cp1252")))


def _export(n: int, *, under_rule: bool) -> Logical:
    """About 20 KB of JSON: over the 8 KiB default, within the big exports' rule."""
    items = [{"sku": f"E{n}-{i:05d}", "qty": i % 9, "price": f"{i % 97}.25"} for i in range(330)]
    body = json.dumps({"export": n, "items": items}, indent=1).encode()
    path = f"{BIG_EXPORT_PATH}/{n}" if under_rule else f"/exports/{n}"
    return _static(f"export-{n}-{under_rule}", "reports.svc", path, ("application/json", body))


def _upload(n: int) -> Logical:
    """A binary request body, matched byte for byte."""
    payload = bytes((n * 31 + i) % 256 for i in range(600))

    def render(rng: random.Random, canary: bool):  # type: ignore[no-untyped-def]
        headers = [("content-type", "application/octet-stream"), *_noise_headers(rng, canary)]
        return "/uploads", [], headers, payload

    return Logical(f"upload-{n}", "cdn.svc", "POST", render)


def _unservable(n: int) -> list[Logical]:
    """Bodies the sanitizer cannot keep: a PDF (text it cannot read) and legacy text that
    declares no charset (not guessed at). Neither gets a stub."""
    pdf = b"%PDF-1.7\n1 0 obj << /Author (Joana Silva) >> endobj\n%%EOF\n"
    note = f"Observação {n}: cliente não encontrado\n".encode("latin-1")
    return [
        _static(f"pdf-{n}", "docs.svc", f"/docs/{n}.pdf", ("application/pdf", pdf)),
        _static(f"undeclared-{n}", "bank.svc", f"/notes/{n}", ("text/plain", note)),
    ]


def _legacy_traffic(count_scale: int) -> list[Logical]:
    out = [_image(n) for n in range(4 * count_scale)]
    out += [_upload(n) for n in range(3 * count_scale)]
    out += [_statement(n) for n in range(4 * count_scale)]
    out += [_page(n) for n in range(2 * count_scale)]
    out += [_export(n, under_rule=n < 2) for n in range(4 * count_scale)]
    return out + [lg for n in range(count_scale) for lg in _unservable(n)]


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
    return out + _legacy_traffic(count_scale)


def _capture(logical: Logical, rng: random.Random, n: int, config: CollectorConfig) -> Exchange:
    """One capture, its bodies cut at the stream's body limit as the collector cuts them."""
    path, query, headers, body = logical.render(rng, False)
    if logical.respond is None:
        content_type = "application/json"
        reply = {
            "logical": logical.key,
            "served_at": _iso(rng),
            "request_id": str(uuid.UUID(int=rng.getrandbits(128))),
        }
        response_body = json.dumps(reply).encode()
    else:
        content_type, response_body = logical.respond
    authority = logical.host  # as the canaries send it: no port
    limit = stream_meta((), config=config).limit_for(authority, path)
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
            body=body[:limit],
            body_truncated=len(body) > limit,
            authority=authority,
        ),
        response=HttpResponse(
            status=201 if logical.method == "POST" else 200,
            headers=(("content-type", content_type), ("set-cookie", "session=abc; HttpOnly")),
            body=response_body[:limit],
            body_truncated=len(response_body) > limit,
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
        elif request.content_type == "application/octet-stream":
            pattern["bodyPatterns"] = [{"binaryEqualTo": _b64(request.body)}]
        else:
            pattern["bodyPatterns"] = [{"equalTo": request.body.decode()}]
    response = exchange.response
    assert response is not None
    served = {
        "status": response.status,
        "headers": {"Content-Type": response.header("content-type") or ""},
        "base64Body": _b64(response.body),
    }
    return {"id": str(uuid.uuid4()), "request": pattern, "response": served}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


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


# An answer as the bench compares it: (status, Content-Type, body bytes).
Answer = tuple[int, str, bytes]
Canary = tuple[str, Logical, tuple[Any, ...]]


def _replay(url: str, canaries: list[Canary], recorded: dict[str, set[Answer]]) -> Counter[str]:
    """-> counts of "right", "wrong" and "missed" (see the module docstring): right only
    when the answer equals a sanitized recording of the canary's own request."""
    outcomes: Counter[str] = Counter()
    with httpx.Client(base_url=url, timeout=10) as client:
        for key, logical, (path, query, headers, body) in canaries:
            resp = client.request(
                logical.method,
                path,
                params=query,
                content=body or None,
                headers=[("host", logical.host), *headers],
            )
            answer = (resp.status_code, resp.headers.get("content-type", ""), resp.content)
            if answer in recorded.get(key, ()):
                outcomes["right"] += 1
            elif resp.status_code == 404:
                outcomes["missed"] += 1  # WireMock's miss: no recording here is a 404
            else:
                outcomes["wrong"] += 1
    return outcomes


@dataclass
class Built:
    """What the pipeline made of the captures."""

    mappings: list[dict[str, Any]]
    naive: list[dict[str, Any]]
    # logical key -> the answers of its sanitized recordings the rule lets get a stub
    recorded: dict[str, set[Answer]]
    skipped: Counter[str]
    dropped: int = 0
    dedup_cpu_us: float = 0.0
    sanitize_cpu_us: float = 0.0


def _answer(exchange: Exchange) -> Answer:
    response = exchange.response
    assert response is not None
    return response.status, response.header("content-type") or "", response.body


def _stubs(captures: list[Exchange], config: CollectorConfig) -> Built:
    """Our mappings (the rule first, then dedup) and the naive ones, with CPU times."""
    sanitize, _ = _sanitizer(config)
    normalizer = NoiseNormalizer(config)
    dedup = Deduplicator(config, normalizer=normalizer)
    built = Built([], [], {}, Counter())
    cleaned: list[Exchange] = []
    sanitize_start = time.process_time()
    for exchange in captures:
        try:
            cleaned.append(sanitize(exchange))
        except Exception:
            built.dropped += 1
    built.sanitize_cpu_us = (time.process_time() - sanitize_start) / len(captures) * 1e6
    mark = config.truncated_responses == "mark"
    cpu_start = time.process_time()
    for clean in cleaned:
        reason = skip_reason(clean, mark_truncated=mark)
        if reason:
            built.skipped[reason] += 1
            continue
        response = clean.response
        if response is not None and not (response.body_truncated or response.body_dropped):
            # A cut or empty body is never the right answer, even if a stub serves it.
            built.recorded.setdefault(clean.id.rsplit("-", 1)[0], set()).add(_answer(clean))
        dedup_hash = dedup.hash(clean)
        if not dedup.is_new_locally(dedup_hash):
            continue
        mapping = build_mapping(clean, dedup_hash=dedup_hash, config=config, normalizer=normalizer)
        if mapping is not None:
            built.mappings.append(mapping)
    built.dedup_cpu_us = (time.process_time() - cpu_start) / max(1, len(cleaned)) * 1e6
    for exchange in captures:
        try:
            built.naive.append(_naive_stub(sanitize(exchange)))
        except Exception:
            continue
    return built


def _replay_both(built: Built, canaries: list[Canary]) -> tuple[Counter[str], Counter[str]]:
    """Replays the canaries against a real WireMock holding ours, then the naive stubs."""
    with tempfile.TemporaryDirectory(prefix="mockado-bench-mappings-") as tmp:
        port = promised_port()
        process = procs.wiremock_process(
            servers=[procs.WireMockServer(port=port, root_dir=Path(tmp) / "wm")],
            log_path=Path(tmp) / "wiremock.log",
        ).start()
        try:
            process.wait_ready(
                procs.http_ready(f"http://127.0.0.1:{port}/__admin/health"), timeout_s=60
            )
            url = f"http://127.0.0.1:{port}"
            _import(url, built.mappings)
            ours = _replay(url, canaries, built.recorded)
            _import(url, built.naive)
            theirs = _replay(url, canaries, built.recorded)
        finally:
            process.stop()
    return ours, theirs


def run(*, quick: bool = False) -> dict[str, Any]:
    rng = random.Random(20240501)
    traffic = _traffic(1 if quick else 3)
    config = CollectorConfig(**BENCH_COLLECTOR)
    _, sanitizer_kind = _sanitizer(config)
    captures = [_capture(lg, rng, n, config) for lg in traffic for n in range(CAPTURES_PER_REQUEST)]
    built = _stubs(captures, config)
    canaries = []
    for logical in traffic:
        for _ in range(1 if quick else 2):
            canaries.append((logical.key, logical, logical.render(rng, True)))
    # Mockable: the config lets at least one capture of the request get a stub.
    mockable = sum(1 for key, _, _ in canaries if key in built.recorded)
    ours, naive = _replay_both(built, canaries)
    return {
        "mappings.sanitizer": sanitizer_kind,
        "mappings.logical_requests": len(traffic),
        "mappings.captures": len(captures),
        "mappings.dropped_captures": built.dropped,
        "mappings.skipped_by_reason": dict(sorted(built.skipped.items())),
        "mappings.stubs": len(built.mappings),
        "mappings.stubs_per_logical_request": round(len(built.mappings) / len(traffic), 3),
        "mappings.canary_requests": len(canaries),
        "mappings.mockable_canary_requests": mockable,
        "mappings.fidelity": round(ours["right"] / max(1, mockable), 4),
        "mappings.wrong_responses": ours["wrong"],
        "mappings.missed_responses": ours["missed"],
        "mappings.naive_stubs": len(built.naive),
        "mappings.naive_fidelity": round(naive["right"] / max(1, mockable), 4),
        "mappings.naive_wrong_responses": naive["wrong"],
        # Hash + LRU + build_mapping (for the unique ones), per capture; sanitizing apart.
        "mappings.dedup_cpu_us_per_capture": round(built.dedup_cpu_us, 1),
        "mappings.sanitize_cpu_us_per_capture": round(built.sanitize_cpu_us, 1),
    }


if __name__ == "__main__":
    print(json.dumps(run(quick=False), indent=2))
