"""The stream's repeat key (computed as its messages arrive, handed to the pipeline) is the
key the pipeline computes from the assembled exchange: the fast path decides a repeat on
the same parts as the full path, whatever the query, bodies, limits and encodings."""

import gzip

from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.capture import StreamMeta, dispatch
from ext_proc_server.core.config import CollectorConfig
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
)
def test_the_stream_key_is_the_key_of_its_exchange(
    query, request, response, limit, gzipped, request_ends, content_type
):
    path = "/v1/items" + ("?" + "&".join(f"{n}={v}" for n, v in query) if query else "")
    extra = [("content-type", content_type)] if content_type else []
    wire = gzip.compress(response) if gzipped else response
    if gzipped:
        extra.append(("content-encoding", "gzip"))
    asm = make(meta=StreamMeta(body_limit_bytes=limit), repeats=_REPEATS)
    messages = [
        req_headers(path=path),
        req_body(request, eos=request_ends),
        resp_headers(extra=tuple(extra)),
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
