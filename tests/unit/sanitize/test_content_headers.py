"""A body's content-type and content-encoding are found in its headers' names joined
and lowered at once: the first of each name, in any casing, as a header-by-header
lookup finds it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.core.exchange import Exchange, HttpRequest
from tests.unit.sanitize.sanitize_helpers import sanitizer

SANITIZER = sanitizer()
_BODY = b"senha=hunter22&x=1"
_NAMES = ["content-type", "Content-Type", "CONTENT-TYPE", "content-encoding",
          "Content-Encoding", "x-content-type", "content-type-x", "x\ncontent-type",
          "content-type\nx", "accept", "\u0130d", "", "\n"]  # fmt: skip
_VALUES = ["application/x-www-form-urlencoded", "text/plain", "application/json", "gzip",
           "identity", " Identity ", ""]  # fmt: skip
_HEADERS = st.lists(st.tuples(st.sampled_from(_NAMES), st.sampled_from(_VALUES)), max_size=8)


def _first(headers: list[tuple[str, str]], wanted: str) -> str:
    return next((value for name, value in headers if name.lower() == wanted), "")


@given(headers=_HEADERS)
@settings(max_examples=300, deadline=None)
def test_the_first_content_headers_decide(headers: list[tuple[str, str]]) -> None:
    request = HttpRequest(method="POST", path="/", headers=tuple(headers), body=_BODY)
    out = SANITIZER.sanitize(Exchange(id="t", request=request))
    if _first(headers, "content-encoding").strip().lower() not in ("", "identity"):
        assert out.request.body_drop_reason == "content_encoding"
        return
    assert b"hunter22" not in out.request.body
    as_form = _first(headers, "content-type") == "application/x-www-form-urlencoded"
    assert ("request.body.form.senha" in out.redactions) is as_form
    assert ("request.body" in out.redactions) is not as_form
