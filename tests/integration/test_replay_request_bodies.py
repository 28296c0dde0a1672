"""Which request bodies a stub answers, recorded through a real Envoy 1.40 and ``mockado
ext-proc`` and replayed by a real WireMock 3.13.2.

A stub answers its own request again, and a request a server reads otherwise gets a
clear miss, never the recording:

* a JSON array with more or fewer items (``{"ids": [101]}`` is not ``{"ids": [101, 102]}``:
  WireMock's ``ignoreExtraElements`` also takes extra array items), or its items in
  another order (a JSON Patch, a route's stops);
* a body where the recording had none (``POST /search`` with a filter);
* the same bytes under another Content-Type (a server refuses one it does not take, 415,
  or reads the body otherwise);
* another multipart body: only the boundary, a new one every call, is free;
* a JSON body that gives a key twice: servers read it apart (the first value, the last,
  or a 400), WireMock reads the last; only the recorded text answers;
* a JSON body without a field whose value is sanitized or noise (a card number, an
  idempotency key): any value answers, none does not.
"""

from __future__ import annotations

import pytest

from tests.support.ext_proc_rig import collector_settings, counters, wait_until
from tests.support.raw_capture import RawReply, capture_behind_envoy, import_into, raw_request
from tests.support.raw_upstream import RawAnswer, raw_upstream, served_answer

pytestmark = pytest.mark.integration

JSON = ("Content-Type", "application/json")
PATCH = ("Content-Type", "application/json-patch+json")
TEXT = ("Content-Type", "text/plain")
XML = ("Content-Type", "text/xml")


def _orders(*customers: str) -> bytes:
    return (
        b"<getOrders>"
        + b"".join(f"<customer>{c}</customer>".encode() for c in customers)
        + (b"</getOrders>")
    )


def _multipart(boundary: str, csv: bytes, *, extra: bytes = b"") -> tuple[tuple[str, str], bytes]:
    """A browser-style upload: a text field, a CSV file (and ``extra`` parts)."""
    b = boundary.encode()
    body = (
        b"--" + b + b'\r\nContent-Disposition: form-data; name="store"\r\n\r\nsp-01\r\n'
        b"--" + b + b'\r\nContent-Disposition: form-data; name="file"; filename="stock.csv"\r\n'
        b"Content-Type: text/csv\r\n\r\n" + csv + b"\r\n" + extra + b"--" + b + b"--\r\n"
    )
    return ("Content-Type", f"multipart/form-data; boundary={boundary}"), body


STOCK = b"sku,qty\nA-1,3\nB-2,5\n"
UPLOAD = _multipart("----formdata-7d1f0a2c", STOCK)
CONTACTS = b"email,plan\nmaria.silva@example.com,gold\n"
CONTACTS_UPLOAD = _multipart("----formdata-5e0c11aa", CONTACTS)
ANSWERS = {
    "/carts/lookup": RawAnswer(200, (JSON,), b'{"items":[{"id":101,"name":"caneca"}]}'),
    "/docs/7": RawAnswer(200, (JSON,), b'{"a":["y"]}'),
    "/routes": RawAnswer(200, (JSON,), b'{"km":430,"via":"SP-RJ"}'),
    "/search": RawAnswer(200, (JSON,), b'{"hits":["caneca","prato","copo"]}'),
    "/notes": RawAnswer(415, (JSON,), b'{"error":"send application/json"}'),
    "/orders": RawAnswer(201, (JSON,), b'{"order":"o-1","status":"created"}'),
    "/uploads": RawAnswer(201, (JSON,), b'{"rows":2}'),
    "/imports": RawAnswer(202, (JSON,), b'{"import":"i-9"}'),
    "/contacts/import": RawAnswer(201, (JSON,), b'{"imported":1}'),
    "/soap/orders": RawAnswer(
        200, (("Content-Type", "text/xml"),), b"<orders><o id='1'/></orders>"
    ),
    # As serde or gson answer a key given twice.
    "/transfers": RawAnswer(400, (JSON,), b'{"error":"duplicate field amount"}'),
    "/payments": RawAnswer(201, (JSON,), b'{"payment":"p-1","status":"captured"}'),
}
TWICE = b'{"amount":100,"to":"acct-9","amount":1}'
PAYMENT = b'{"amount":10,"card":"4111 1111 1111 1111","idempotency_key":"k-7f3a"}'
# A multipart body that does not name its boundary: no matcher tells it from another.
UNBOUNDED = (("Content-Type", "multipart/form-data"),)
SKIPPED = {"/imports": "request_body_unmatchable"}
PATCH_OPS = b'[{"op":"move","from":"/a/0","path":"/a/1"},{"op":"remove","path":"/a/0"}]'
# (method, path, request headers, body) as the service's clients sent them.
RECORDED = [
    ("POST", "/carts/lookup", (JSON,), b'{"ids":[101]}'),
    ("PATCH", "/docs/7", (PATCH,), PATCH_OPS),
    ("POST", "/routes", (JSON,), b'{"stops":[[-23.55,-46.63],[-22.9,-43.2]],"mode":"car"}'),
    ("POST", "/search", (), None),
    ("POST", "/notes", (TEXT,), b'{"text":"oi"}'),
    ("POST", "/orders", (JSON,), b'{"sku":"A-1","qty":2}'),
    ("POST", "/uploads", (UPLOAD[0],), UPLOAD[1]),
    ("POST", "/imports", UNBOUNDED, UPLOAD[1]),
    ("POST", "/contacts/import", (CONTACTS_UPLOAD[0],), CONTACTS_UPLOAD[1]),
    ("POST", "/soap/orders", (XML,), _orders("maria.silva@example.com")),
    ("POST", "/transfers", (JSON,), TWICE),
    ("POST", "/payments", (JSON,), PAYMENT),
]


@pytest.fixture(scope="module")
def loaded(redis_server, envoy_factory, ext_proc_factory, wiremock) -> dict[str, float]:
    """Each recording through Envoy; its stubs in WireMock -> the skips counted."""
    collector = collector_settings(redis_server.url)
    with raw_upstream(ANSWERS) as port:
        ext, envoy = capture_behind_envoy(envoy_factory, ext_proc_factory, collector, port)
        for method, path, headers, body in RECORDED:
            got = raw_request(envoy.port, method, path, headers=headers, body=body)
            assert got.status == ANSWERS[path].status, path

        def skipped() -> dict[str, float]:
            return {
                reason: ext.metric("collector_stubs_skipped_total", reason=reason)
                for reason in set(SKIPPED.values())
            }

        wait_until(
            lambda: len(ext.captured()) + sum(skipped().values()) == len(RECORDED),
            what="each recording stubbed or skipped",
            explain=lambda: counters(ext),
        )
    import_into(wiremock, ext.captured())
    return skipped()


def _replay(port: int, method: str, path: str, headers: tuple, body: bytes | None) -> RawReply:
    return raw_request(port, method, path, headers=headers, body=body)


def _answered(reply: RawReply, path: str) -> bool:
    """The recording of ``path``, or a clear miss; never another answer."""
    return served_answer(reply, [ANSWERS[path]]) is not None


@pytest.mark.parametrize(
    ("method", "path", "headers", "body", "answered"),
    [
        ("POST", "/carts/lookup", (JSON,), b'{"ids":[101]}', True),
        ("POST", "/carts/lookup", (JSON,), b'{"ids": [101], "expand": true}', True),  # a field
        ("POST", "/carts/lookup", (JSON,), b'{"ids":[101,102]}', False),
        ("POST", "/carts/lookup", (JSON,), b'{"ids":[102,101]}', False),
        ("POST", "/carts/lookup", (JSON,), b'{"ids":[]}', False),
        ("PATCH", "/docs/7", (PATCH,), PATCH_OPS, True),
        (
            "PATCH",
            "/docs/7",
            (PATCH,),
            b'[{"op":"remove","path":"/a/0"},{"op":"move","from":"/a/0","path":"/a/1"}]',
            False,
        ),
        (
            "POST",
            "/routes",
            (JSON,),
            b'{"mode":"car","stops":[[-23.55,-46.63],[-22.9,-43.2]]}',
            True,
        ),
        (
            "POST",
            "/routes",
            (JSON,),
            b'{"stops":[[-22.9,-43.2],[-23.55,-46.63]],"mode":"car"}',
            False,
        ),
        (
            "POST",
            "/routes",
            (JSON,),
            b'{"stops":[[-46.63,-23.55],[-22.9,-43.2]],"mode":"car"}',
            False,
        ),
        (
            "POST",
            "/routes",
            (JSON,),
            b'{"stops":[[-23.55,-46.63],[-22.9,-43.2],[-19.9,-43.9]],"mode":"car"}',
            False,
        ),
    ],
)
def test_a_json_array_matches_only_its_items_in_their_order(
    loaded, wiremock, method: str, path: str, headers: tuple, body: bytes, answered: bool
) -> None:
    assert _answered(_replay(wiremock.port, method, path, headers, body), path) is answered


@pytest.mark.parametrize(
    ("headers", "body", "answered"),
    [
        ((), None, True),
        ((), b"", True),
        ((JSON,), b'{"q":"caneca"}', False),
        ((("Content-Type", "application/x-www-form-urlencoded"),), b"q=caneca", False),
    ],
)
def test_a_recording_without_a_body_answers_no_request_with_one(
    loaded, wiremock, headers: tuple, body: bytes | None, answered: bool
) -> None:
    reply = _replay(wiremock.port, "POST", "/search", headers, body)
    assert _answered(reply, "/search") is answered


@pytest.mark.parametrize(
    ("path", "headers", "body", "answered"),
    [
        ("/notes", (TEXT,), b'{"text":"oi"}', True),
        ("/notes", (("content-type", "TEXT/PLAIN"),), b'{"text":"oi"}', True),
        ("/notes", (JSON,), b'{"text":"oi"}', False),  # the fixed client: not the 415
        ("/orders", (JSON,), b'{"qty":2,"sku":"A-1"}', True),
        ("/orders", (TEXT,), b'{"sku":"A-1","qty":2}', False),
        ("/orders", (), b'{"sku":"A-1","qty":2}', False),
    ],
)
def test_a_body_matches_only_under_its_content_type(
    loaded, wiremock, path: str, headers: tuple, body: bytes, answered: bool
) -> None:
    assert _answered(_replay(wiremock.port, "POST", path, headers, body), path) is answered


@pytest.mark.parametrize(
    ("upload", "answered"),
    [
        (UPLOAD, True),
        (_multipart("----formdata-90c2b6e1", STOCK), True),  # a new boundary, as every call
        (_multipart("9051914041544843365972754266", STOCK), True),  # another client's kind
        (_multipart("----formdata-90c2b6e1", b"sku,qty\nA-1,30\nB-2,5\n"), False),
        (
            _multipart(
                "----formdata-90c2b6e1",
                STOCK,
                extra=b'------formdata-90c2b6e1\r\nContent-Disposition: form-data; name="dry"'
                b"\r\n\r\nno\r\n",
            ),
            False,
        ),
    ],
)
def test_a_multipart_body_matches_its_parts_under_any_boundary(
    loaded, wiremock, upload: tuple, answered: bool
) -> None:
    header, body = upload
    reply = _replay(wiremock.port, "POST", "/uploads", (header,), body)
    assert _answered(reply, "/uploads") is answered


def test_a_multipart_body_under_another_type_is_a_miss(loaded, wiremock) -> None:
    _header, body = UPLOAD
    reply = _replay(wiremock.port, "POST", "/uploads", (TEXT,), body)
    assert _answered(reply, "/uploads") is False


def test_a_multipart_body_without_its_boundary_gets_a_clear_miss(loaded, wiremock) -> None:
    """Its stub would have answered every upload to its path with this one's answer.
    (WireMock answers 500 to a multipart request without a boundary whatever its stubs.)"""
    assert loaded == {"request_body_unmatchable": 1}
    for header, body in (UPLOAD, _multipart("----formdata-90c2b6e1", b"other,file\n")):
        reply = _replay(wiremock.port, "POST", "/imports", (header,), body)
        assert _answered(reply, "/imports") is False


@pytest.mark.parametrize(
    ("body", "answered"),
    [
        (TWICE, True),
        (b'{"amount":1,"to":"acct-9"}', False),  # what WireMock's JSON matcher reads
        (b'{"to":"acct-9","amount":100,"amount":1}', False),
        (b'{"amount":100,"to":"acct-9"}', False),
    ],
)
def test_a_key_given_twice_answers_only_its_own_text(loaded, wiremock, body, answered) -> None:
    reply = _replay(wiremock.port, "POST", "/transfers", (JSON,), body)
    assert _answered(reply, "/transfers") is answered


@pytest.mark.parametrize(
    ("body", "answered"),
    [
        (PAYMENT, True),
        (b'{"amount":10,"card":"5555 4444 3333 2222","idempotency_key":"k-0b21"}', True),
        (b'{"amount":10,"idempotency_key":"k-0b21"}', False),  # no card: refused upstream
        (b'{"amount":10,"card":"5555 4444 3333 2222"}', False),  # no idempotency key
        (b'{"amount":11,"card":"5555 4444 3333 2222","idempotency_key":"k-0b21"}', False),
    ],
)
def test_a_sanitized_or_noise_field_takes_any_value_but_must_be_sent(
    loaded, wiremock, body: bytes, answered: bool
) -> None:
    reply = _replay(wiremock.port, "POST", "/payments", (JSON,), body)
    assert _answered(reply, "/payments") is answered


@pytest.mark.parametrize(
    ("csv", "answered"),
    [
        (CONTACTS, True),
        (b"email,plan\njoao.souza@example.org,gold\n", True),  # its own person, sanitized
        (b"email,plan\njoao.souza@example.org,free\n", False),
        (b"email,plan\njoao.souza@example.org,gold\nana@example.org,gold\n", False),
    ],
)
def test_a_sanitized_value_in_a_multipart_part_takes_any_value_on_its_line(
    loaded, wiremock, csv: bytes, answered: bool
) -> None:
    header, body = _multipart("----formdata-c4d2e9f0", csv)
    reply = _replay(wiremock.port, "POST", "/contacts/import", (header,), body)
    assert _answered(reply, "/contacts/import") is answered


@pytest.mark.parametrize(
    ("body", "answered"),
    [
        (_orders("maria.silva@example.com"), True),
        (_orders("joao.souza@example.org"), True),  # its own customer, sanitized
        (_orders("joao.souza@example.org", "ana@example.org"), False),  # two customers
        (_orders('x"/><admin>1</admin><customer>y'), False),
    ],
)
def test_a_sanitized_value_in_a_text_body_stays_inside_its_element(
    loaded, wiremock, body: bytes, answered: bool
) -> None:
    reply = _replay(wiremock.port, "POST", "/soap/orders", (XML,), body)
    assert _answered(reply, "/soap/orders") is answered
