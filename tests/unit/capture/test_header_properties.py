"""Properties of header reading: the assembled exchange holds every header as a plain,
one-step decoding gives it (names lower-cased, pseudo-headers left out); a value that is
not UTF-8 is left out and its message marked, so the exchange gets no stub."""

from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.capture import dispatch
from ext_proc_server.capture.protos import HeaderMap, HeaderValue, HttpHeaders, ProcessingRequest
from ext_proc_server.mapping.faithful import UNDECODABLE_HEADER
from tests.unit.capture.stream_helpers import make, req_body, resp_body

_NAMES = st.sampled_from(
    ["x-trace", "X-Trace", "Accept", "content-type", "Content-Type", "x-request-id", "cookie"]
)
_VALUES = st.one_of(
    st.text(max_size=12).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.binary(max_size=12),
)
_HEADERS = st.lists(st.tuples(_NAMES, _VALUES), max_size=6)


def _message(kind, pairs):
    values = [HeaderValue(key=k, raw_value=v) for k, v in pairs]
    headers = HttpHeaders(headers=HeaderMap(headers=values))
    return ProcessingRequest(**{kind: headers}, observability_mode=True)


def _reference(pairs):
    """Each header as one plain decoding reads it; one that is not UTF-8 left out, and
    then the mark first."""
    out = []
    marked = False
    for name, raw in pairs:
        try:
            value = raw.decode("utf-8")
        except UnicodeDecodeError:
            marked = True
            continue
        out.append((name.lower(), value))
    return (UNDECODABLE_HEADER, *out) if marked else tuple(out)


@settings(max_examples=150, deadline=None)
@given(request=_HEADERS, response=_HEADERS)
def test_headers_are_kept_as_one_plain_decoding_reads_them(request, response):
    asm = make()
    req = [(":method", b"POST"), (":path", b"/a"), (":authority", b"api"), *request]
    resp = [(":status", b"200"), *response]
    results = [
        dispatch(asm, _message("request_headers", req)),
        dispatch(asm, req_body(b"{}", eos=True)),
        dispatch(asm, _message("response_headers", resp)),
        dispatch(asm, resp_body(b"{}", eos=True)),
    ]
    expected_request, expected_response = _reference(request), _reference(response)
    done = next(r for r in results if r is not None)
    assert done.exchange is not None
    assert done.exchange.request.headers == expected_request
    assert done.exchange.response.headers == expected_response
