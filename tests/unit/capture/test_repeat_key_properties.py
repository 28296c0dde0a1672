"""The stream's repeat key (computed as its messages arrive, handed to the pipeline) is the
key the pipeline computes from the assembled exchange: the fast path decides a repeat on
the same parts as the full path, whatever the query, bodies, limits and encodings."""

import gzip

from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.capture import StreamMeta, dispatch
from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.mapping.noise import NoiseNormalizer, field_key
from ext_proc_server.mapping.repeats import RepeatIndex
from tests.unit.capture.stream_helpers import make, req_body, req_headers, resp_body, resp_headers

_CONFIG = CollectorConfig()
_REPEATS = RepeatIndex(_CONFIG)
_QUERY = st.lists(
    st.tuples(
        st.sampled_from(["page", "q", "requestId", "_", "a+b", "x%20y"]),
        st.sampled_from(["1", "", "a b", "%C3%A9", "z"]),
    ),
    max_size=4,
)
_BODY = st.one_of(st.binary(max_size=3000), st.sampled_from([b'{"a":1}', b"[1,2]", b""]))


@settings(max_examples=150, deadline=None)
@given(
    query=_QUERY,
    request=_BODY,
    response=_BODY,
    limit=st.sampled_from([1024, 2048, 8192]),
    gzipped=st.booleans(),
    request_ends=st.booleans(),
    content_type=st.sampled_from(["application/json", "Text/Plain; charset=utf-8", ""]),
    # Each a Vary line: a response may send several.
    vary=st.lists(
        st.sampled_from(["Accept", "accept-language, Accept-Encoding", "*", "X-Tenant"]),
        max_size=2,
    ),
    allow_origin=st.sampled_from(["", "*", "https://a.example"]),
    method=st.sampled_from(["POST", "OPTIONS"]),
    authority=st.sampled_from(["api.example:8080", "api", "api:80", "localhost:10000"]),
    request_headers=st.lists(
        st.tuples(
            st.sampled_from(
                [
                    "accept",
                    "Accept-Language",
                    "x-tenant",
                    "accept-encoding",
                    "if-none-match",
                    "range",
                    "Origin",
                    "access-control-request-method",
                    "Access-Control-Request-Headers",
                    "Authorization",
                    "prefer",
                    "X-Amz-Target",
                    "stripe-account",
                    "Last-Event-ID",
                ]
            ),
            st.sampled_from(["application/json", "pt-BR", "", "a, b"]),
        ),
        max_size=3,
    ),
    status=st.sampled_from(["200", "304", "206", "412"]),
    # Each a Content-Language line.
    content_language=st.lists(st.sampled_from(["en", "", " ", "pt-BR, en"]), max_size=2),
)
def test_the_stream_key_is_the_key_of_its_exchange(
    query,
    request,
    response,
    limit,
    gzipped,
    request_ends,
    content_type,
    vary,
    allow_origin,
    method,
    authority,
    request_headers,
    status,
    content_language,
):
    path = "/v1/items" + ("?" + "&".join(f"{n}={v}" for n, v in query) if query else "")
    extra = [("content-type", content_type)] if content_type else []
    extra += [("vary", line) for line in vary]
    extra += [("Content-Language", line) for line in content_language]
    if allow_origin:
        extra.append(("Access-Control-Allow-Origin", allow_origin))
    wire = gzip.compress(response) if gzipped else response
    if gzipped:
        extra.append(("content-encoding", "gzip"))
    asm = make(meta=StreamMeta(body_limit_bytes=limit), repeats=_REPEATS)
    messages = [
        req_headers(path=path, method=method, authority=authority, extra=tuple(request_headers)),
        req_body(request, eos=request_ends),
        resp_headers(status=status, extra=tuple(extra)),
        resp_body(wire, eos=True),
    ]
    results = [dispatch(asm, m) for m in messages]
    done = results[-1]
    assert done is not None and done.exchange is not None and done.repeat_key is not None
    # Computed again from the exchange alone, as the pipeline does without a handed key.
    again = _REPEATS.key_of(done.exchange)
    assert again is not done.repeat_key
    assert again.local == done.repeat_key.local
    assert again.request == done.repeat_key.request
    assert again.exact == done.repeat_key.exact
    assert _REPEATS.fingerprint_of(again) == _REPEATS.fingerprint_of(done.repeat_key)


# A noise rule on one path prefix: whether a parameter is noise depends on the path.
_RULED = CollectorConfig(
    noise_rules=[{"path_prefix": "/v1/", "fields": ["page", "sessionId"]}], dedup_body_limit=16
)
_NAMES = st.sampled_from(["page", "q", "requestId", "_", "session-id", "SessionId", "b", "a"])
_PAIRS = st.lists(st.tuples(_NAMES, st.text(max_size=6)), max_size=5).map(tuple)


def _old_head(method, host, path, body_state, query) -> str:
    """The head the key was computed from before heads were kept: sorted, noise left out."""
    noise = NoiseNormalizer(_RULED).noise_fields(path)
    params = sorted(f"{n}={v}" for n, v in query if field_key(n) not in noise)
    return "\x00".join((method, host, path, body_state, "&".join(params)))


@settings(max_examples=300, deadline=None)
@given(
    requests=st.lists(
        st.tuples(
            st.sampled_from(["GET", "POST"]),
            st.sampled_from(["api", "api.payments.svc.cluster.local"]),
            st.sampled_from(["/v1/items", "/v2/items", "/", "/v1/"]) | st.text(max_size=8),
            st.sampled_from(["", "truncated", "dropped"]),
            _PAIRS,
            st.binary(max_size=40),
        ),
        min_size=1,
        max_size=12,
    ),
)
def test_a_kept_head_gives_the_key_computed_afresh(requests):
    index = RepeatIndex(_RULED)
    # Each request twice (computed, then kept), in order then reversed.
    for method, host, path, body_state, query, body in [*requests, *reversed(requests)]:
        parts = {"method": method, "host": host, "path": path, "query": query, "body": body,
                 "body_state": body_state, "response": None}  # fmt: skip
        key = index.key(**parts)
        assert key.local == RepeatIndex(_RULED).key(**parts).local
        if _plain(query):
            # The key it always had (the whole body now: see the body test).
            head = _old_head(method, host, path, body_state, query)
            assert key.local == hash((head, body))
            assert key.request == index.keyed_digest(head, body)


def _plain(query) -> bool:
    """No name holding "=", nothing holding a separator: the query's text is unambiguous;
    each name's values in sorted order (another order joins the key)."""
    if any(list(vs) != sorted(vs) for vs in _values_of(query).values()):
        return False
    return not any("=" in n or any(c in n + v for c in "&\x00\x01\x02") for n, v in query)


def _values_of(query) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for name, value in query:
        values.setdefault(name, []).append(value)
    return values


def _vary_key(index: RepeatIndex, *, vary: str, headers: tuple[tuple[str, str], ...]):
    asm = make(repeats=index)
    messages = [
        req_headers(path="/v1/catalog", method="GET", eos=True, extra=headers),
        resp_headers(extra=(("content-type", "application/json"), ("vary", vary))),
        resp_body(b'{"title": "x"}', eos=True),
    ]
    done = [dispatch(asm, m) for m in messages][-1]
    assert done is not None and done.repeat_key is not None
    return done.repeat_key


def test_a_not_modified_answer_is_keyed_by_its_conditional_headers():
    """A 304 was chosen by If-None-Match: another ETag, or none, is another key; a 200's
    key does not move with it (nothing but a Vary puts request headers in a key)."""
    index = RepeatIndex(_CONFIG)

    def key(status: str, etag: str | None):
        asm = make(repeats=index)
        extra = (("if-none-match", etag),) if etag else ()
        messages = [
            req_headers(path="/logo", method="GET", eos=True, extra=extra),
            resp_headers(status=status, eos=True, extra=()),
        ]
        done = [dispatch(asm, m) for m in messages][-1]
        assert done is not None and done.repeat_key is not None
        return done.repeat_key.local

    assert len({key("304", '"v1"'), key("304", '"v2"'), key("304", None)}) == 3
    assert key("200", '"v1"') == key("200", '"v2"') == key("200", None)


def test_a_request_header_the_response_varies_on_is_part_of_the_key():
    """Two languages of one page, alike in shape: a Vary on Accept-Language keeps them
    apart (the second is no repeat of the first); without one, or with a Vary only on
    Accept-Encoding, the key is the one it always was."""
    index = RepeatIndex(_CONFIG)
    pt = (("accept-language", "pt-BR"), ("accept-encoding", "gzip"))
    en = (("Accept-Language", "en"), ("accept-encoding", "br"))
    assert _vary_key(index, vary="Accept-Language", headers=pt).local != (
        _vary_key(index, vary="Accept-Language", headers=en).local
    )
    for vary in ("", "Accept-Encoding", "*"):
        plain = [_vary_key(index, vary=vary, headers=h).local for h in (pt, en, ())]
        assert plain[0] == plain[1] == plain[2]
    # Not sent is a value of its own.
    assert _vary_key(index, vary="Accept-Language", headers=()).local not in {
        _vary_key(index, vary="Accept-Language", headers=h).local for h in (pt, en)
    }


def _stream_key(index: RepeatIndex, *, authority: str, request=(), response=()):
    asm = make(repeats=index)
    messages = [
        req_headers(path="/status", method="GET", eos=True, authority=authority, extra=request),
        resp_headers(extra=(("content-type", "application/json"), *response)),
        resp_body(b'{"up": true}', eos=True),
    ]
    done = [dispatch(asm, m) for m in messages][-1]
    assert done is not None and done.repeat_key is not None
    return done.repeat_key.local


def test_each_port_of_a_service_has_its_own_repeat_key():
    """The admin port's first answer is no repeat of the app port's: each is recorded.
    A call without a port (or to :80) keeps the key it always had, and a loopback
    host's port (the local proxy's) is left out."""
    index = RepeatIndex(_CONFIG)
    on_8080 = _stream_key(index, authority="api:8080")
    assert len({on_8080, _stream_key(index, authority="api:9090"),
                _stream_key(index, authority="api")}) == 3  # fmt: skip
    # The head a call without a port always had (a stream here has no namespace).
    plain = hash((_old_head_plain("GET", "api", "/status"), b""))
    assert _stream_key(index, authority="api") == _stream_key(index, authority="api:80") == plain
    local = _stream_key(index, authority="localhost:10000")
    assert local == _stream_key(index, authority="localhost:8080")


def _old_head_plain(method, host, path) -> str:
    return "\x00".join((method, host, path, "", ""))


def test_a_cors_answer_has_a_repeat_key_per_origin():
    """Another origin's first answer is no repeat: its Allow-Origin differs."""
    index = RepeatIndex(_CONFIG)

    def key(origin: str, allow_origin: str) -> int:
        return _stream_key(
            index,
            authority="api",
            request=(("origin", origin),),
            response=(("access-control-allow-origin", allow_origin),),
        )

    assert key("https://a.example", "https://a.example") != key(
        "https://b.example", "https://b.example"
    )
    assert key("https://a.example", "*") == key("https://b.example", "*")
    assert key("https://a.example", "*") == _stream_key(index, authority="api")
