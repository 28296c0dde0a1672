"""Which response headers a stub serves as the replayed request's id
(``tests/integration/test_replay_echoed_ids.py`` replays them against WireMock)."""

from __future__ import annotations

from email.utils import formatdate

from ext_proc_server.core.exchange import HttpResponse
from ext_proc_server.mapping.moments_from_now import TEMPLATE_TRANSFORMER
from tests.unit.mapping.mapping_helpers import build, make_exchange

ID = "0f8fad5b-d9cb-469f-a165-70867728950e"
ECHO = "{{request.headers.x-ms-client-request-id}}"
ANSWERED_S = 1_764_950_400


def _served(request_headers, response_headers, body=b'{"ok":true}'):
    response = HttpResponse(
        status=200, headers=(("Content-Type", "application/json"), *response_headers), body=body
    )
    mapping = build(make_exchange(headers=request_headers, response=response))
    assert mapping is not None
    return mapping["response"]


def test_an_echoed_id_is_the_replayed_request_s_and_only_one_sent_once_and_echoed() -> None:
    served = _served((("x-ms-client-request-id", ID),), (("x-ms-client-request-id", ID),))
    assert served["headers"]["x-ms-client-request-id"] == ECHO
    assert served["transformers"] == [TEMPLATE_TRANSFORMER]
    answered = (("x-ms-client-request-id", ID), ("x-correlation-id", "server-7"))
    twice = (("x-ms-client-request-id", ID), ("x-ms-client-request-id", "other"))
    served = _served((*twice, ("x-correlation-id", "order-1")), answered)
    assert served["headers"] == {"Content-Type": "application/json", **dict(answered)}
    assert "transformers" not in served
    # An X-Request-ID the service did not echo stays out of the stub, as before.
    served = _served((("x-request-id", "a"),), (("x-request-id", "b"),))
    assert "x-request-id" not in served["headers"] and "transformers" not in served


def test_an_echoed_id_beside_an_expiry_from_now() -> None:
    body = f'{{"access_token":"t","expires_on":"{ANSWERED_S + 3600}","n":"{{{{x}}}}"}}'
    served = _served(
        (("x-ms-client-request-id", ID),),
        (("x-ms-client-request-id", ID), ("Date", formatdate(ANSWERED_S, usegmt=True))),
        body=body.encode(),
    )
    assert served["headers"]["x-ms-client-request-id"] == ECHO
    assert "{{now offset='3600 seconds'" in served["body"]
    assert "{{x}}" not in served["body"]  # written as a literal
    assert served["transformers"] == [TEMPLATE_TRANSFORMER]
