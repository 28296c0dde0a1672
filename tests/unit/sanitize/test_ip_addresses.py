"""A client's IP address is personal data under the LGPD; it went out whole, in a
login event's ``ip``, Stripe-like ``client_ip``, a device's ``ipAddress``, a query's or
form's ``ip`` and a proxy's ``X-Forwarded-For``. A public address is coarsened now (its
/24 or /48: still an address, of the same network), in both modes; a service's private,
loopback or documentation address, and any other value, stay."""

from __future__ import annotations

import ipaddress
import json

import pytest
from faker import Faker
from prometheus_client import REGISTRY

from ext_proc_server.core.exchange import Exchange, HttpRequest
from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

SANITIZER = sanitizer()
PSEUDONYMS = sanitizer(sanitize_mode="pseudonyms", pseudonym_key="k-ip")


def _public(fake: Faker) -> tuple[str, str]:
    v4, v6 = fake.ipv4_public(), fake.ipv6()
    while not ipaddress.ip_address(v6).is_global or ipaddress.ip_address(v6).is_multicast:
        v6 = fake.ipv6()
    return v4, v6


@pytest.mark.parametrize("sanitize", [SANITIZER, PSEUDONYMS])
def test_public_addresses_are_coarsened_wherever_a_field_names_them(sanitize) -> None:
    fake = Faker("pt_BR")
    fake.seed_instance(17)
    for _ in range(100):
        v4, v6 = _public(fake)
        document = {"event": "login", "ip": v4, "client_ip": v4, "device": {"ipAddress": v6},
                    "remote_addr": v4, "description": "App 2.1.0.4", "server_ip": "10.1.2.3"}  # fmt: skip
        exchange = request_exchange(
            body=json.dumps(document), headers=(("X-Forwarded-For", f"{v4}, 10.0.0.7"),)
        )
        out = sanitize.sanitize(exchange)
        body = json.loads(out.request.body)
        v4_net = str(ipaddress.ip_network(f"{v4}/24", strict=False).network_address)
        v6_net = str(ipaddress.ip_network(f"{v6}/48", strict=False).network_address)
        assert body == {**document, "ip": v4_net, "client_ip": v4_net, "remote_addr": v4_net,
                        "device": {"ipAddress": v6_net}}  # fmt: skip
        assert dict(out.request.headers)["X-Forwarded-For"] == f"{v4_net}, 10.0.0.7"
        assert "request.header.x-forwarded-for" in out.redactions
        assert "request.body.json:/ip" in out.redactions


def test_queries_forms_and_logs() -> None:
    request = HttpRequest(
        method="POST",
        path="/eventos",
        query=(("ip", "189.45.12.200"), ("page", "2")),
        headers=(("content-type", "application/x-www-form-urlencoded"),),
        body=b"ip=2804%3A14c%3A5b70%3A8015%3A%3A1&acao=login",
    )
    out = SANITIZER.sanitize(Exchange(id="t", request=request)).request
    assert out.query == (("ip", "189.45.12.0"), ("page", "2"))
    assert out.body == b"ip=2804%3A14c%3A5b70%3A%3A&acao=login"
    log = "level=info msg=login ip=189.45.12.200 status=200\n"
    text = SANITIZER.sanitize(request_exchange(body=log, content_type="text/plain"))
    assert text.request.body.decode() == "level=info msg=login ip=189.45.12.0 status=200\n"


@pytest.mark.parametrize(
    "value",
    ["10.0.0.1", "192.168.1.20", "127.0.0.1", "::1", "fd00::1", "203.0.113.9",
     "189.45.12.0", "unknown", "1.2.3", "v2.1.0.4"],
)  # fmt: skip
def test_other_values_stay(value: str) -> None:
    document = {"ip": value, "cliente": {"ip": value}, "client_ip": "189.45.12.200"}
    out = SANITIZER.sanitize(request_exchange(body=json.dumps(document)))
    assert json.loads(out.request.body) == {**document, "client_ip": "189.45.12.0"}
    assert out.redactions == {"request.body.json:/client_ip"}


def _ip_count() -> float:
    labels = {"type": "ip"}
    return REGISTRY.get_sample_value("collector_sanitization_operations_total", labels) or 0.0


def test_each_coarsened_address_counts_as_ip() -> None:
    before = _ip_count()
    document = {"ip": "189.45.12.200", "device": {"ipv6": "2804:14c:5b70:8015::1"}}
    SANITIZER.sanitize(request_exchange(body=json.dumps(document)))
    assert _ip_count() == before + 2
