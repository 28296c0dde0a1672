"""Path segments and query values of the INERT_VALUE shape (v1, page2, 20) are not
scanned: no detector finds anything in one, on its own or as a request's part."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.core.exchange import Exchange, HttpRequest
from ext_proc_server.sanitize.formats import INERT_VALUE
from tests.unit.sanitize.sanitize_helpers import sanitizer

SANITIZER = sanitizer()
# With a pattern of the user's own, nothing is skipped: every value is scanned.
SCANNED = sanitizer(sanitize_patterns=[{"name": "never", "regex": "(?!)", "replacement": "X"}])
_INERT = st.from_regex(INERT_VALUE, fullmatch=True)


@given(value=_INERT)
@settings(max_examples=500, deadline=None)
def test_no_detector_finds_anything_in_an_inert_value(value: str) -> None:
    assert SANITIZER.sanitize_text(value) == value
    assert SANITIZER.sanitize_text(f"x {value} y") == f"x {value} y"


@given(values=st.lists(_INERT, min_size=1, max_size=4), name=st.sampled_from(["page", "q", "v"]))
@settings(max_examples=200, deadline=None)
def test_a_request_of_inert_parts_comes_out_as_when_scanned(values: list[str], name: str) -> None:
    request = HttpRequest(
        method="GET", path="/" + "/".join(values), query=tuple((name, v) for v in values)
    )
    skipped = SANITIZER.sanitize(Exchange(id="t", request=request))
    scanned = SCANNED.sanitize(Exchange(id="t", request=request))
    assert skipped.request == scanned.request == request
    assert skipped.redactions == scanned.redactions == frozenset()


def test_what_is_not_inert() -> None:
    for value in ("12345678", "abc12345", "12ABC34501DE35", "2024-05-01", "a@b.co", "v1.2"):
        assert not INERT_VALUE.fullmatch(value)
    for value in ("v1", "page2", "utf8", "20", "orders", "a1b2c3d4"):
        assert INERT_VALUE.fullmatch(value)
