"""An answer in the language the request's ``Accept-Language`` chose, stated in
``Content-Language`` without ``Vary``, recorded through a real Envoy 1.40 and ``mockado
ext-proc`` and replayed by a real WireMock 3.13.2.

Spring MVC resolves the locale from ``Accept-Language`` and its servlet container writes
``Content-Language``, naming neither in ``Vary``: the Portuguese and the English answer of
``GET /greeting`` had one stub, and the one recorded last answered both. Each language now
answers only the ``Accept-Language`` it was recorded for; the answer to a request without
one (the default language) answers only requests without one.
"""

from __future__ import annotations

import pytest

from tests.support.raw_capture import import_into, raw_request
from tests.support.raw_upstream import RawAnswer, record_calls, served_answer

pytestmark = pytest.mark.integration


def _greeting(language: str, text: str) -> RawAnswer:
    headers = (("Content-Type", "application/json"), ("Content-Language", language))
    return RawAnswer(200, headers, f'{{"greeting":"{text}"}}'.encode())


PORTUGUESE = _greeting("pt-BR", "Olá")
ENGLISH = _greeting("en", "Hello")
GERMAN = _greeting("de", "Hallo")
BROWSER_PT = (("Accept-Language", "pt-BR,pt;q=0.9,en;q=0.8"),)
BROWSER_DE = (("Accept-Language", "de-DE,de;q=0.9"),)
# One upstream per language: each answers the path one way. English is the default.
UPSTREAMS = ((BROWSER_PT, PORTUGUESE), (BROWSER_DE, GERMAN), ((), ENGLISH))


@pytest.fixture(scope="module")
def loaded(redis_server, envoy_factory, ext_proc_factory, wiremock) -> None:
    stubs: list[dict] = []
    for headers, answer in UPSTREAMS:
        call = ("GET", "/greeting", headers, None)
        stubs += record_calls(envoy_factory, ext_proc_factory, redis_server.url,
                              {"/greeting": answer}, [call])  # fmt: skip
    import_into(wiremock, stubs)


@pytest.mark.parametrize(
    ("headers", "answer"),
    [
        (BROWSER_PT, PORTUGUESE),
        (BROWSER_DE, GERMAN),
        ((), ENGLISH),
        ((("Accept-Language", "fr-FR"),), None),
        ((("Accept-Language", "pt-BR"),), None),
    ],
    ids=["portuguese", "german", "default", "french", "another-portuguese"],
)
def test_each_language_answers_only_its_own_request(loaded, wiremock, headers, answer) -> None:
    reply = raw_request(wiremock.port, "GET", "/greeting", headers=headers)
    assert served_answer(reply, (PORTUGUESE, GERMAN, ENGLISH)) == answer
