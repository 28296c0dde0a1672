"""Request ids a service echoes in its answer (Azure's ``x-ms-client-request-id``, Graph's
``client-request-id``, an app's ``X-Correlation-ID``), recorded through a real Envoy 1.40 and
``mockado ext-proc`` and replayed by a real WireMock 3.13.2: each replayed call gets its own
id back, and the rest of the answer as recorded, byte for byte (Handlebars-looking text and a
binary body included). An id that is the service's own stays as recorded.
"""

from __future__ import annotations

import pytest

from tests.support.raw_capture import import_into, raw_request
from tests.support.raw_upstream import RawAnswer, record_calls

pytestmark = pytest.mark.integration

RECORDED = {
    "x-ms-client-request-id": "0f8fad5b-d9cb-469f-a165-70867728950e",
    "client-request-id": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
    "x-correlation-id": "order-4711",
    "x-request-id": "9b2e4f10-5a6c-4d3e-8f21-7c0d9e8a1b2c",
}
REPLAYED = {
    "x-ms-client-request-id": "16fd2706-8baf-433b-82eb-8c7fada847da",
    "client-request-id": "886313e1-3b8a-5372-9b90-0c9aee199e5d",
    "x-correlation-id": "order-4712",
    "x-request-id": "e1d2c3b4-a5f6-4788-99aa-bbccddeeff00",
}
# Text a template engine would read, served as it is.
TEMPLATE_TEXT = "{{request.path}} {{{raw}}} \\{{now}}"
JSON_BODY = ('{"name": "blob.txt", "note": "' + TEMPLATE_TEXT.replace("\\", "\\\\") + '"}').encode()
BINARY_BODY = bytes(range(256)) + b"{{request.path}}"
ANSWERS = {
    "/echoed": RawAnswer(
        200,
        (
            ("Content-Type", "application/json"),
            *RECORDED.items(),
            ("x-ms-request-id", "a3b1c2d4-0000-0000-0000-000000000001"),  # the service's own
            ("X-Template", TEMPLATE_TEXT),
        ),
        JSON_BODY,
    ),
    "/blob": RawAnswer(
        200,
        (
            ("Content-Type", "application/octet-stream"),
            ("x-ms-client-request-id", RECORDED["x-ms-client-request-id"]),
        ),
        BINARY_BODY,
    ),
    # The service answers with an id of its own: not the request's.
    "/own": RawAnswer(
        200, (("Content-Type", "text/plain"), ("x-correlation-id", "server-7")), b"own\n"
    ),
}


@pytest.fixture(scope="module")
def stubs(redis_server, envoy_factory, ext_proc_factory) -> list[dict]:
    calls = [
        ("GET", "/echoed", tuple(RECORDED.items()), None),
        ("GET", "/blob", (("x-ms-client-request-id", RECORDED["x-ms-client-request-id"]),), None),
        ("GET", "/own", (("x-correlation-id", RECORDED["x-correlation-id"]),), None),
    ]
    return record_calls(envoy_factory, ext_proc_factory, redis_server.url, ANSWERS, calls)


def test_each_call_gets_its_own_request_ids_back(stubs, wm) -> None:
    import_into(wm, stubs)
    reply = raw_request(wm.port, "GET", "/echoed", headers=tuple(REPLAYED.items()))
    assert reply.status == 200
    assert {name: reply.headers.get(name, b"").decode() for name in REPLAYED} == REPLAYED
    # The rest as recorded: the service's own id, the headers and the body, byte for byte.
    assert reply.headers["x-ms-request-id"] == b"a3b1c2d4-0000-0000-0000-000000000001"
    assert reply.headers["x-template"] == TEMPLATE_TEXT.encode()
    assert reply.body == JSON_BODY
    blob = raw_request(wm.port, "GET", "/blob", headers=(("x-ms-client-request-id", "blob-2"),))
    assert (blob.headers["x-ms-client-request-id"], blob.body) == (b"blob-2", BINARY_BODY)
    # An id of the service's own (not the request's) stays as recorded.
    own = raw_request(wm.port, "GET", "/own", headers=(("x-correlation-id", "order-9"),))
    assert (own.headers["x-correlation-id"], own.body) == (b"server-7", b"own\n")
