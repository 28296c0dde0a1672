"""Adversarial JSON for the property tests that hold a fast path to the plain computation:
nesting, unicode (with escapes and control characters), floats of every form, big
integers, empty containers, lists of records, and documents with duplicate keys."""

import json

from hypothesis import strategies as st

# Keys that matter to the normalizer and the shapes: noise, time-like, pointer-special.
KEYS = st.one_of(
    st.sampled_from(
        [
            "id",
            "a",
            "b",
            "requestId",
            "x-request-id",
            "created_at",
            "ts",
            "a/b",
            "t~0",
            "",
            "naïve",
            "\x00",
            'é"\\',
        ]
    ),
    st.text(max_size=6),
)
FLOATS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, -0.0, 1e-05, 1e16, 1.5e300, 5e-324, 0.00001234, 1700000000.5]),
)
INTS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 2**63 - 1, 2**63, -(2**63), 2**64, 1700000000, 1700000000000]),
)
STRINGS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "SANITIZED_EMAIL",
            "SKU-1-2",
            "order-123e4567-e89b-12d3-a456-426614174000.pdf",
            "2024-01-02T03:04:05Z",
            "1700000000",
            "${json-unit.any-string}",
            "a\u2028b",
            "\ud7ff",
        ]
    ),
)
LEAVES = st.one_of(st.none(), st.booleans(), INTS, FLOATS, STRINGS)


def _record(keys: list[str]) -> st.SearchStrategy:
    # Records of one list share keys and often value types; a nested value may differ.
    value = st.one_of(
        st.integers(0, 3),
        st.text(max_size=3),
        st.dictionaries(st.sampled_from(["x", "y"]), st.integers(0, 1), max_size=2),
    )
    return st.fixed_dictionaries({k: value for k in keys})


RECORDS = st.lists(st.sampled_from(["sku", "qty", "price", "id"]), min_size=1, max_size=3).flatmap(
    lambda keys: st.lists(_record(keys), max_size=6)
)
DOCUMENTS = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(KEYS, inner, max_size=5),
        RECORDS,
    ),
    max_leaves=40,
)


def json_texts(documents: st.SearchStrategy = DOCUMENTS) -> st.SearchStrategy[str]:
    """JSON text of a document, written compact or spaced, ASCII-escaped or not, sometimes
    with a key repeated (a duplicate keeps json's last value at its first place)."""

    def text(doc: object, ascii_only: bool, spaced: bool, duplicate: bool) -> str:
        out = json.dumps(doc, ensure_ascii=ascii_only, separators=None if spaced else (",", ":"))
        if duplicate and out.startswith("{") and out != "{}":
            out = out[:-1] + ', "id": 1, "id": [2.5e-7, {}]}'
        return out

    return st.builds(text, documents, st.booleans(), st.booleans(), st.booleans())


def json_or_planted(template, *parts: st.SearchStrategy) -> st.SearchStrategy:
    """Any JSON text, or ``template`` called with one draw of each of ``parts``: a document
    built around values the plain strategies rarely reach (numbers past a double, lone
    surrogates)."""
    return st.one_of(json_texts(), st.builds(template, *parts))
