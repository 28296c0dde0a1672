"""The number searches the scanner skips when its probes find nothing: whatever the text,
a search that finds something is one whose probe matches the text's lowered bytes, so
skipping on a probe's no-match loses nothing."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ext_proc_server.sanitize.detectors import Scanner
from ext_proc_server.sanitize.numbers import (
    INTERNATIONAL_PROBE,
    RUN_PROBE,
    find_alnum_cnpjs,
    find_numbers,
)
from tests.unit.sanitize.sanitize_helpers import fmt_cnpj, fmt_cpf, make_card, make_cnpj, make_cpf

SETTINGS = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_VALUES = st.sampled_from(
    [
        make_cpf("529982247"),
        fmt_cpf(make_cpf("529982247")),
        make_cnpj("112223330001"),
        fmt_cnpj(make_cnpj("112223330001")),
        make_cnpj("12ABC34501DE"),
        fmt_cnpj(make_cnpj("12ABC34501DE")),
        "12ABC345/01DE-35",
        make_card("4532", 16),
        "4532 7777 7777 7776",
        "+55 11 91234-5678",
        "+5511912345678",
        "+55 4004-1234",
        "(11) 91234-5678",
        "11912345678",
        "1700000000000",
    ]
)
_NOISE = st.text(alphabet="0123456789 .()/-+5ABZabz_@:\"'=\né", max_size=40)
_TEXTS = st.lists(st.one_of(_VALUES, _NOISE), max_size=6).map("".join)


def _probe(text: str) -> bytes:
    """The scanner's probe: ASCII letters lowered, non-ASCII "?", same offsets."""
    return "".join(c.lower() if c.isascii() else c for c in text).encode("ascii", "replace")


@SETTINGS
@given(_TEXTS)
@example("CPF 529.982.247-25 e +55 11 91234-5678")
@example("+55 4004-1234, 1700000000000")
def test_a_search_finds_nothing_where_its_probe_finds_nothing(text: str) -> None:
    raw = text.encode("ascii", "replace")
    probe = _probe(text)
    runs: list = []
    find_numbers(text, raw, runs, international=False)
    if runs:
        assert re.search(RUN_PROBE, probe)
    international: list = []
    find_numbers(text, raw, international, runs=False)
    if international:
        assert re.search(INTERNATIONAL_PROBE, probe)


@SETTINGS
@given(st.tuples(_NOISE, _VALUES, _NOISE).map("".join))
def test_the_scanner_finds_what_every_search_run_on_its_own_finds(text: str) -> None:
    raw = text.encode("ascii", "replace")
    every: list = []
    find_numbers(text, raw, every)
    find_alnum_cnpjs(text, raw, every)
    found = {(h.start, h.end) for h in Scanner().find(text)}
    for hit in every:  # each is found, or overlaps a finding that won the overlap
        assert any(start < hit.end and hit.start < end for start, end in found)
