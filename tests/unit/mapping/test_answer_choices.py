"""Request headers an answer shows it was chosen by, without a Vary: an answer that states
its language (Content-Language) matches the request's Accept-Language, an event stream its
Last-Event-ID, as sent, absent when not sent (mapping.answer_choices)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.core.exchange import HttpResponse
from tests.unit.mapping.mapping_helpers import JSON, build, make_exchange

LANGUAGES = st.lists(
    st.sampled_from(["pt-BR", "pt-BR,pt;q=0.9,en;q=0.8", "en-US", "en", "de-DE, de;q=0.5", "*"]),
    max_size=2,
)
OTHER_HEADERS = st.lists(
    st.sampled_from([("Accept", "*/*"), ("X-Trace", "t"), ("User-Agent", "okhttp/4.12")]),
    unique=True,
)


def _answer(language: str, *extra: tuple[str, str]) -> HttpResponse:
    headers = (*JSON, ("Content-Language", language), *extra)
    return HttpResponse(status=200, headers=headers, body=b'{"greeting":"x"}')


def _stub(languages: list[str], others: list[tuple[str, str]], response: HttpResponse) -> dict:
    headers = (*others, *(("Accept-Language", value) for value in languages))
    mapping = build(make_exchange(headers=headers, response=response))
    assert mapping is not None
    return mapping


@settings(max_examples=100, deadline=None)
@given(LANGUAGES, LANGUAGES, OTHER_HEADERS, st.sampled_from(["pt-BR", "en", "de"]))
def test_a_stated_language_answers_only_the_accept_language_it_was_chosen_for(
    languages: list[str], others_sent: list[str], others: list[tuple[str, str]], answered: str
) -> None:
    mapping = _stub(languages, others, _answer(answered))
    matcher = mapping["request"]["headers"]["accept-language"]
    if not languages:
        assert matcher == {"absent": True}
    elif len(languages) == 1:
        assert matcher == {"equalTo": languages[0]}
    else:
        assert matcher == {"hasExactly": [{"equalTo": value} for value in languages]}
    # Each Accept-Language sent is its own stub; none sent keeps the id it had.
    other = _stub(others_sent, others, _answer(answered))
    assert (other["id"] == mapping["id"]) == (others_sent == languages)
    unstated = _stub(
        languages, others, HttpResponse(status=200, headers=JSON, body=b'{"greeting":"x"}')
    )
    assert "accept-language" not in unstated["request"].get("headers", {})
    assert (unstated["id"] == mapping["id"]) == (not languages)


def test_a_sanitized_accept_language_is_matched_sent_with_any_value() -> None:
    headers = (("Accept-Language", "SANITIZED_TOKEN"),)
    mapping = build(
        make_exchange(
            headers=headers,
            response=_answer("pt-BR"),
            redactions=frozenset({"request.header.accept-language"}),
        )
    )
    assert mapping is not None
    assert mapping["request"]["headers"]["accept-language"] == {"matches": ".*"}


EVENT_IDS = st.lists(st.sampled_from(["1", "42", "evt-7", ""]), max_size=1)


@settings(max_examples=50, deadline=None)
@given(
    EVENT_IDS,
    EVENT_IDS,
    OTHER_HEADERS,
    st.sampled_from(["text/event-stream", "Text/Event-Stream; charset=utf-8"]),
)
def test_an_event_stream_answers_only_the_last_event_id_it_was_resumed_from(
    ids: list[str], others_sent: list[str], others: list[tuple[str, str]], media_type: str
) -> None:
    stream = HttpResponse(
        status=200, headers=(("Content-Type", media_type),), body=b"id: 43\ndata: x\n\n"
    )

    def stub(sent: list[str], response: HttpResponse = stream) -> dict:
        headers = (*others, *(("Last-Event-ID", value) for value in sent))
        mapping = build(make_exchange(headers=headers, response=response))
        assert mapping is not None
        return mapping

    mapping = stub(ids)
    matcher = mapping["request"]["headers"]["last-event-id"]
    assert matcher == ({"equalTo": ids[0]} if ids else {"absent": True})
    assert (stub(others_sent)["id"] == mapping["id"]) == (others_sent == ids)
    # Another type of answer is not resumed: the header is not matched.
    text = HttpResponse(status=200, headers=(("Content-Type", "text/plain"),), body=b"x")
    assert "last-event-id" not in stub(ids, text)["request"].get("headers", {})
