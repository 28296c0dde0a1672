"""The repeat fast path is never less careful than the full path: when a stream ends as a
repeat of a recorded exchange, sanitizing and deduplicating it would have found that
exchange's dedup key. (It may be more careful: another token is another repeat key, and
the same dedup key after sanitizing.) Each pair of raw exchanges differs in a few of the
request's parts that choose a stub: Authorization, Prefer, Content-Type, the headers a
Vary names (on one line or two), an ambiguous query, a query name's values in another
order, an Accept that lists the answer's type or not (answers of several types), a body
past the dedup limit, the headers naming the operation, account or API version, an
Accept-Language to an answer stating its Content-Language, a Last-Event-ID to an event
stream."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from ext_proc_server.capture import dispatch
from ext_proc_server.capture.phases import REPEAT
from ext_proc_server.capture.protos import HttpHeaders, ProcessingRequest
from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.exchange import Exchange
from ext_proc_server.mapping.dedup import Deduplicator
from ext_proc_server.mapping.repeats import RepeatIndex
from ext_proc_server.sanitize.sanitizer import Sanitizer
from tests.unit.capture.stream_helpers import hmap, make, req_body, resp_body, resp_headers

# A small dedup limit: a body differs past it without a long body.
_CONFIG = CollectorConfig(dedup_body_limit=16)
_SANITIZER = Sanitizer(_CONFIG)
_DEDUP = Deduplicator(_CONFIG)
_FILLER = "x" * 24
# Each part's choices. A pair's B is its A with some parts drawn again.
_PARTS = {
    "method": ["GET", "POST"],
    "query": [
        "",
        "a=b=c",
        "a%3Db=c",
        "x=1%26y%3D2",
        "x=1&y=2",
        "s=a&s=b",
        "s=b&s=a",
        "s=b&x=1&s=a",
        "x=1&s=b&s=a",
        "s=b&s=a&s=b",
    ],
    "authorization": [None, "Bearer tok-a", "Bearer tok-b"],
    "prefer": [
        (),
        ("count=exact",),
        ("return=minimal",),
        ("count=exact", "return=minimal"),
        ("count=exact, return=minimal",),
        ("",),
    ],
    "content_type": [None, "application/json", "text/plain", "application/json; charset=utf-8"],
    "accept_language": [None, "pt-BR", "", "en"],
    "accept": [
        None,
        "application/json",
        "application/xml",
        "application/json, text/plain, */*",
        "*/*",
        "text/html;q=0.9, Application/XML",
        ("application/json", "application/xml"),  # two lines
    ],
    "answer_type": [
        "application/json",
        "application/xml",
        "Application/XML; charset=utf-8",
        "text/event-stream",
    ],
    "content_language": [None, "en", "pt-BR", "", ("", "en")],
    # Headers naming the operation, the account or the API version (mapping.chosen_by).
    "named": [
        (),
        (("X-Amz-Target", "DynamoDB_20120810.DescribeTable"),),
        (("x-amz-target", "DynamoDB_20120810.DeleteTable"),),
        (("Stripe-Account", "acct_A"),),
        (("stripe-account", "acct_B"),),
        (("stripe-account", "acct_A"), ("Stripe-Version", "2024-06-20")),
        (("SOAPAction", '"urn:GetOrder"'),),
        (("X-HTTP-Method-Override", "DELETE"),),
        (("x-http-method", "PATCH"), ("x-method-override", "PUT")),
        (("X-GitHub-Api-Version", "2022-11-28"),),
        (("x-ms-version", "2021-08-06"), ("Notion-Version", "2022-06-28")),
        (("stripe-version", "a"), ("stripe-version", "b")),
        (("stripe-version", "a, b"),),
    ],
    "last_event_id": [None, "41", "42", ""],
    "vary": [(), ("Accept-Language",), ("Accept", "Accept-Language"), ("Accept",)],
    "body": [
        b"",
        b'{"a":1}',
        f'{{"z":"{_FILLER}","a":1}}'.encode(),
        f'{{"z":"{_FILLER}","a":2}}'.encode(),
        b"a=1&b=2",
    ],
}
_REQUESTS = st.fixed_dictionaries(
    {name: st.sampled_from(values) for name, values in _PARTS.items()}
)


def _messages(request: dict) -> list[ProcessingRequest]:
    path = "/v1/orders" + (f"?{request['query']}" if request["query"] else "")
    headers = [(":method", request["method"]), (":path", path),
               (":authority", "orders.shop:8080"), (":scheme", "http")]  # fmt: skip
    if request["authorization"] is not None:
        headers.append(("authorization", request["authorization"]))
    headers += [("prefer", value) for value in request["prefer"]]
    if request["content_type"] is not None:
        headers.append(("content-type", request["content_type"]))
    accept = request["accept"]
    headers += [
        ("accept", value) for value in ((accept,) if isinstance(accept, str) else accept or ())
    ]
    if request["accept_language"] is not None:
        headers.append(("accept-language", request["accept_language"]))
    headers += list(request["named"])
    if request["last_event_id"] is not None:
        headers.append(("last-event-id", request["last_event_id"]))
    body = request["body"]
    response = [("content-type", request["answer_type"]), *(("vary", v) for v in request["vary"])]
    language = request["content_language"]
    response += [
        ("content-language", value)
        for value in ((language,) if isinstance(language, str) else language or ())
    ]
    head = ProcessingRequest(
        request_headers=HttpHeaders(headers=hmap(headers), end_of_stream=not body),
        observability_mode=True,
    )
    return [
        head,
        *([req_body(body, eos=True)] if body else []),
        resp_headers(extra=tuple(response)),
        resp_body(b'{"id":7,"total":3}', eos=True),
    ]


def _stream(request: dict, repeats: RepeatIndex | None):
    asm = make(config=_CONFIG, repeats=repeats)
    results = [dispatch(asm, m) for m in _messages(request)]
    assert all(r is None for r in results[:-1]), results
    return results[-1]


def _dedup_key(exchange: Exchange) -> str:
    return _DEDUP.keys(_SANITIZER.sanitize(exchange)).dedup_hash


_BASE = {name: values[0] for name, values in _PARTS.items()}


def _case(**changes) -> dict:
    """An explicit pair: the base request, and it with ``changes``."""
    return {"first": _BASE, "redrawn": {**_BASE, **changes}, "changed": set(changes)}


@settings(max_examples=400, deadline=None)
@example(**_case(authorization="Bearer tok-a"))  # an anonymous call after a token's
@example(**{**_case(), "first": {**_BASE, "authorization": "Bearer tok-a"},
            "redrawn": _BASE, "changed": {"authorization"}})  # fmt: skip
@example(**_case(prefer=("count=exact",)))
@example(**_case(prefer=("count=exact", "return=minimal")))
@example(**{**_case(), "first": {**_BASE, "prefer": ("count=exact", "return=minimal")},
            "redrawn": {**_BASE, "prefer": ("count=exact, return=minimal",)},
            "changed": {"prefer"}})  # fmt: skip
@example(**{**_case(), "first": {**_BASE, "method": "POST", "body": b'{"a":1}'},
            "redrawn": {**_BASE, "method": "POST", "body": b'{"a":1}', "content_type": "text/plain"},
            "changed": {"content_type"}})  # fmt: skip
@example(**_case(query="a=b=c") | {"first": {**_BASE, "query": "a%3Db=c"}})
@example(**_case(query="x=1&y=2") | {"first": {**_BASE, "query": "x=1%26y%3D2"}})
@example(**{**_case(), "first": {**_BASE, "method": "POST", "body": _PARTS["body"][2]},
            "redrawn": {**_BASE, "method": "POST", "body": _PARTS["body"][3]},
            "changed": {"body"}})  # fmt: skip
@example(**{**_case(), "first": {**_BASE, "vary": ("Accept", "Accept-Language")},
            "redrawn": {**_BASE, "vary": ("Accept", "Accept-Language"), "accept_language": "en"},
            "changed": {"accept_language"}})  # fmt: skip
@example(**{**_case(), "first": {**_BASE, "vary": ("Accept-Language",), "accept_language": ""},
            "redrawn": {**_BASE, "vary": ("Accept-Language",)},
            "changed": {"accept_language"}})  # fmt: skip
@example(**_case(accept=None) | {"first": {**_BASE, "accept": "application/json"}})
@example(**_case(accept="*/*") | {"first": {**_BASE, "accept": ("application/json", "text/xml")}})
@example(**_case(query="s=b&s=a") | {"first": {**_BASE, "query": "s=a&s=b"}})
@example(**_case(named=_PARTS["named"][2]) | {"first": {**_BASE, "named": _PARTS["named"][1]}})
@example(**_case(named=_PARTS["named"][4]) | {"first": {**_BASE, "named": _PARTS["named"][3]}})
@example(**_case(named=_PARTS["named"][1]))  # an operation named after a plain POST's
@example(**_case(named=_PARTS["named"][12]) | {"first": {**_BASE, "named": _PARTS["named"][11]}})
@example(**{**_case(), "first": {**_BASE, "content_language": "en", "accept_language": "en"},
            "redrawn": {**_BASE, "content_language": "en", "accept_language": "pt-BR"},
            "changed": {"accept_language"}})  # fmt: skip
@example(**{**_case(), "first": {**_BASE, "content_language": ("", "en")},
            "redrawn": {**_BASE, "content_language": ("", "en"), "accept_language": "en"},
            "changed": {"accept_language"}})  # fmt: skip
@example(**{**_case(), "first": {**_BASE, "answer_type": "text/event-stream"},
            "redrawn": {**_BASE, "answer_type": "text/event-stream", "last_event_id": "41"},
            "changed": {"last_event_id"}})  # fmt: skip
@example(**_case(query="x=1&s=b&s=a") | {"first": {**_BASE, "query": "s=a&x=1&s=b"}})
@given(
    first=_REQUESTS,
    redrawn=st.fixed_dictionaries(
        {name: st.sampled_from(values) for name, values in _PARTS.items()}
    ),
    changed=st.sets(st.sampled_from(sorted(_PARTS)), min_size=1, max_size=3),
)
def test_a_repeat_on_the_fast_path_has_the_dedup_key_of_what_it_repeats(first, redrawn, changed):
    second = {**first, **{name: redrawn[name] for name in changed}}
    repeats = RepeatIndex(_CONFIG)
    recorded = _stream(first, repeats)
    assert recorded.exchange is not None and recorded.repeat_key is not None
    repeats.remember(recorded.repeat_key, "mapping-a")
    if _stream(second, repeats) is not REPEAT:
        assert second != first  # the same exchange again is always a repeat
        return  # the full path decides: nothing to check
    again = _stream(second, None).exchange
    assert again is not None
    assert _dedup_key(again) == _dedup_key(recorded.exchange), (first, second)
