from __future__ import annotations

import json
import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.core.config import CollectorConfig, NoiseRule
from ext_proc_server.core.exchange import Exchange, HttpRequest
from ext_proc_server.mapping.noise import (
    HOLE_ANY,
    HOLE_NUMBER,
    HOLE_STRING,
    NoiseNormalizer,
    NormalizedBody,
    Template,
    field_key,
    java_regex_escape,
)
from tests.unit.mapping.json_strategies import json_or_planted, json_texts

UUID = "3f2b8c1e-1111-4222-8333-444455556666"


def _normalizer(**config: object) -> NoiseNormalizer:
    return NoiseNormalizer(CollectorConfig(**config))


def _request(**fields: object) -> Exchange:
    defaults: dict[str, object] = {"method": "GET", "path": "/"}
    defaults.update(fields)
    return Exchange(id="x", sanitized=True, request=HttpRequest(**defaults))


@pytest.mark.parametrize(
    ("name", "key"),
    [("requestId", "request_id"), ("X-Request-ID", "x_request_id"), ("trace_id", "trace_id")],
)
def test_field_key_folds_case_and_separators(name: str, key: str) -> None:
    assert field_key(name) == key


@pytest.mark.parametrize(
    "value",
    [UUID, UUID.upper(), "2024-05-01T10:20:30Z", "2024-05-01 10:20:30.123+02:00"],
)
def test_whole_dynamic_strings_are_string_holes(value: str) -> None:
    assert _normalizer().normalize_string(value) is HOLE_STRING


def test_sanitized_token_is_an_any_hole_because_the_type_is_unknown() -> None:
    assert _normalizer().normalize_string("SANITIZED_CARD") is HOLE_ANY


@pytest.mark.parametrize("value", ["2024-05-01", "12345", "hello", "1700000000"])
def test_stable_strings_stay(value: str) -> None:
    assert _normalizer().normalize_string(value) == value


def test_epoch_is_noise_only_in_time_like_fields() -> None:
    normalizer = _normalizer()
    assert normalizer.normalize_string("1700000000", field="ts") is HOLE_STRING
    assert normalizer.normalize_string("1700000000123", field="createdAt") is HOLE_STRING
    assert normalizer.normalize_string("1700000000", field="account") == "1700000000"
    assert normalizer.normalize_string("170000000", field="ts") == "170000000"


def test_embedded_dynamic_parts_become_a_template() -> None:
    value = _normalizer().normalize_string(f"order-{UUID}.pdf")
    assert value == Template(("order-", HOLE_ANY, ".pdf"))
    assert value.regex(hole="[^/]+") == r"order\-[^/]+\.pdf"


def test_java_regex_escape_keeps_alnum_and_escapes_the_rest() -> None:
    assert java_regex_escape("a.b*c\n(1)é") == "a\\.b\\*c\\x0a\\(1\\)é"


def test_json_body_noise_fields_values_and_redactions() -> None:
    body = {
        "qty": 2,
        "price": 10.5,
        "requestId": "abc",
        "created_at": 1700000000,
        "id": UUID,
        "card": "4111",
        "nested": {"nonce": "n1", "items": [{"sku": "A", "updated": 1700000000123}]},
        "flag": True,
        "none": None,
    }
    exchange = _request(
        method="POST",
        path="/orders",
        headers=(("content-type", "application/json"),),
        body=json.dumps(body).encode(),
    ).replace(redactions=frozenset({"request.body.json:/card"}))
    normalized = _normalizer().normalize_request(exchange)
    assert normalized.body.kind == "json"
    assert normalized.body.value == {
        "qty": 2,
        "price": 10.5,
        "requestId": HOLE_ANY,
        "created_at": HOLE_NUMBER,
        "id": HOLE_STRING,
        "card": HOLE_ANY,
        "nested": {"nonce": HOLE_ANY, "items": [{"sku": "A", "updated": HOLE_NUMBER}]},
        "flag": True,
        "none": None,
    }


def test_json_pointer_escaping_in_redactions() -> None:
    exchange = _request(
        method="POST",
        headers=(("content-type", "application/json"),),
        body=json.dumps({"a/b": "x", "c~d": "y", "keep": "z"}).encode(),
    ).replace(redactions=frozenset({"request.body.json:/a~1b", "request.body.json:/c~0d"}))
    value = _normalizer().normalize_request(exchange).body.value
    assert value == {"a/b": HOLE_ANY, "c~d": HOLE_ANY, "keep": "z"}


def test_noise_rules_apply_by_path_prefix() -> None:
    normalizer = _normalizer(noise_rules=[NoiseRule(path_prefix="/search", fields=["Seed"])])
    on_path = normalizer.normalize_request(_request(path="/search/x", query=(("seed", "7"),)))
    elsewhere = normalizer.normalize_request(_request(path="/other", query=(("seed", "7"),)))
    assert on_path.query == (("seed", HOLE_ANY),)
    assert elsewhere.query == (("seed", "7"),)


def test_query_is_sorted_and_noise_becomes_holes() -> None:
    exchange = _request(
        path="/s",
        query=(
            ("b", "2"),
            ("_", "123"),
            ("a", "1"),
            ("from", "2024-05-01T00:00:00Z"),
            ("token", "pseudo-x"),
        ),
    ).replace(redactions=frozenset({"request.query.token"}))
    assert _normalizer().normalize_request(exchange).query == (
        ("_", HOLE_ANY),
        ("a", "1"),
        ("b", "2"),
        ("from", HOLE_ANY),
        ("token", HOLE_ANY),
    )


def test_path_segments_redacted_or_dynamic() -> None:
    exchange = _request(path=f"/users/alice/orders/{UUID}").replace(
        redactions=frozenset({"request.path.1"})
    )
    normalized = _normalizer().normalize_request(exchange)
    assert normalized.segments == ("users", HOLE_ANY, "orders", HOLE_ANY)
    assert not normalized.path_is_stable


def test_form_body_fields() -> None:
    exchange = _request(
        method="POST",
        headers=(("content-type", "application/x-www-form-urlencoded; charset=utf-8"),),
        body=b"user=bob&nonce=abc&password=SANITIZED_PASSWORD",
    )
    normalized = _normalizer().normalize_request(exchange)
    assert normalized.body.kind == "form"
    assert normalized.body.value == (
        ("nonce", HOLE_ANY),
        ("password", HOLE_ANY),
        ("user", "bob"),
    )


@pytest.mark.parametrize(
    ("fields", "kind"),
    [
        ({"body": b"x" * 10, "body_truncated": True}, "opaque"),
        ({"body": b"", "body_dropped": True}, "opaque"),
        ({"body": b"\xff\xfe\x00"}, "binary"),
        ({"body": "ação".encode("latin-1")}, "binary"),
        (
            {"body": b"--b\r\n", "headers": (("content-type", "multipart/form-data; boundary=b"),)},
            "multipart",
        ),
        (
            {"body": b"--b\r\n", "headers": (("content-type", "multipart/form-data"),)},
            "opaque",
        ),
        (
            {"body": b"--b\r\n\xff", "headers": (("content-type", "multipart/mixed; boundary=b"),)},
            "opaque",
        ),
        ({"body": b""}, "none"),
        ({"body": b"plain text"}, "text"),
        ({"body": b"{not json", "headers": (("content-type", "application/json"),)}, "text"),
        ({"body": b"[1, 2]"}, "json"),
    ],
)
def test_body_kinds(fields: dict[str, object], kind: str) -> None:
    normalized = _normalizer().normalize_request(_request(method="POST", **fields))
    assert normalized.body.kind == kind


def test_redacted_unstructured_body_without_tokens_is_opaque() -> None:
    exchange = _request(method="POST", body=b"<a>pseudonym-x1</a>").replace(
        redactions=frozenset({"request.body"})
    )
    assert _normalizer().normalize_request(exchange).body.kind == "opaque"
    with_token = exchange.replace(
        request=HttpRequest(method="POST", path="/", body=b"<a>SANITIZED_EMAIL</a>")
    )
    text = _normalizer().normalize_request(with_token).body
    assert text.kind == "text"
    assert text.value == Template(("<a>", HOLE_ANY, "</a>"))
    assert _normalizer(sanitize_mode="pseudonyms").normalize_request(with_token).body.kind == (
        "opaque"
    )


# -- the fast paths give the same results as the plain rules ----------------------


# The module docstring's rules, written out again here as the oracle for its fast paths.
_REF_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_REF_DATETIME = (
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?"
)
_REF_TOKEN = r"SANITIZED(?:_[A-Za-z0-9]+)*"
_REF_WHOLE = re.compile(rf"(?:{_REF_UUID}|{_REF_DATETIME}|{_REF_TOKEN})")
_REF_PART = re.compile(
    rf"(?<![0-9A-Za-z])(?:{_REF_UUID}|{_REF_DATETIME}|{_REF_TOKEN})(?![0-9A-Za-z])"
)
_REF_EPOCH = re.compile(r"\d{10}(?:\.\d{1,6})?|\d{13}")
_REF_TIME_FIELD = re.compile(
    r"(?:^|_)(?:ts|timestamp|time|date|datetime|at|created|updated|modified|expires|expiry)$"
)


def _reference_string(value: str, field: str | None = None) -> object:
    """normalize_string as the module docstring states it, without shortcuts."""
    if re.fullmatch(_REF_TOKEN, value):
        return HOLE_ANY
    if _REF_WHOLE.fullmatch(value):
        return HOLE_STRING
    if (
        field is not None
        and _REF_EPOCH.fullmatch(value)
        and _REF_TIME_FIELD.search(
            re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", field).replace("-", "_").lower()
        )
    ):
        return HOLE_STRING
    if not _REF_PART.search(value):
        return value
    parts: list[object] = []
    last = 0
    for match in _REF_PART.finditer(value):
        if match.start() > last:
            parts.append(value[last : match.start()])
        parts.append(HOLE_ANY)
        last = match.end()
    if last < len(value):
        parts.append(value[last:])
    return Template(tuple(parts))


@pytest.mark.parametrize(
    "value",
    [
        "plain",
        "",
        UUID,
        f"order-{UUID}.pdf",
        f"{UUID}-{UUID}",
        f"x{UUID}",
        "2024-05-01T10:00:00Z",
        "at 2024-05-01 10:00 and SANITIZED_EMAIL_2",
        "SANITIZED",
        "SANITIZED_JWT_3",
        "1700000000",
        "1700000000123",
        "1700000000.5",
        "17000000001",
        "abc-SANITIZED_CARD",
    ],
)
@pytest.mark.parametrize("field", [None, "ts", "createdAt", "name"])
def test_normalize_string_matches_the_plain_rules(value: str, field: str | None) -> None:
    assert _normalizer().normalize_string(value, field=field) == _reference_string(value, field)


def test_redacted_pointer_deep_in_json_leaves_siblings_normalized_as_usual() -> None:
    doc = {
        "a": {"b": {"secret": "SANITIZED_X", "keep": "v", "id": UUID}, "ts": 1700000000},
        "list": [{"createdAt": 1700000000123, "n": 1}, "plain"],
        "request_id": "r-1",
    }
    body = json.dumps(doc).encode()
    plain = _request(method="POST", body=body, headers=(("content-type", "application/json"),))
    redacted = plain.replace(redactions=frozenset({"request.body.json:/a/b/keep"}))
    without = _normalizer().normalize_request(plain).body.value
    with_redaction = _normalizer().normalize_request(redacted).body.value
    assert with_redaction["a"]["b"]["keep"] is HOLE_ANY
    with_redaction["a"]["b"]["keep"] = without["a"]["b"]["keep"]
    assert with_redaction == without
    assert without["a"]["b"] == {"secret": HOLE_ANY, "keep": "v", "id": HOLE_STRING}
    assert without["a"]["ts"] is HOLE_NUMBER
    assert without["list"] == [{"createdAt": HOLE_NUMBER, "n": 1}, "plain"]
    assert without["request_id"] is HOLE_ANY


def test_field_key_cache_stays_bounded() -> None:
    from ext_proc_server.mapping.noise import FIELD_KEY_CACHE_SIZE

    for n in range(FIELD_KEY_CACHE_SIZE + 10):
        assert field_key(f"someField{n}") == f"some_field{n}"
    assert field_key.cache_info().currsize <= FIELD_KEY_CACHE_SIZE


def test_long_text_without_a_dash_or_token_stays_stable_and_tokens_in_it_are_found():
    normalizer = NoiseNormalizer(CollectorConfig())
    long_text = "x" * 2000
    assert normalizer.normalize_string(long_text) == long_text
    assert normalizer.normalize_string("1700000000", field="ts") == HOLE_STRING
    within = normalizer.normalize_string(long_text + " SANITIZED_EMAIL " + long_text)
    assert isinstance(within, Template) and HOLE_ANY in within.parts
    dated = normalizer.normalize_string("at 2024-05-01T10:00:00Z done")
    assert isinstance(dated, Template) and dated.parts == ("at ", HOLE_ANY, " done")


# -- the inline fast paths against the plain walk ---------------------------------------

_UUID_RE = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_ISO_RE = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?"
_DYNAMIC = re.compile(
    rf"(?<![0-9A-Za-z])(?:{_UUID_RE}|{_ISO_RE}|SANITIZED(?:_[A-Za-z0-9]+)*)(?![0-9A-Za-z])"
)


def plain_normalize_string(normalizer: NoiseNormalizer, value: str, field: str | None):
    """normalize_string's answer taken from the regex alone (no scan ahead of it)."""
    if _DYNAMIC.search(value) is None:
        epoch = re.fullmatch(r"\d{10}(?:\.\d{1,6})?|\d{13}", value)
        if field is not None and normalizer.is_time_like(field) and epoch:
            return HOLE_STRING
        return value
    if re.fullmatch(r"SANITIZED(?:_[A-Za-z0-9]+)*", value):
        return HOLE_ANY
    if re.fullmatch(rf"{_UUID_RE}|{_ISO_RE}|SANITIZED(?:_[A-Za-z0-9]+)*", value):
        return HOLE_STRING
    parts: list = []
    last = 0
    for match in _DYNAMIC.finditer(value):
        parts.extend(
            [value[last : match.start()], HOLE_ANY] if match.start() > last else [HOLE_ANY]
        )
        last = match.end()
    return Template(tuple(parts + ([value[last:]] if last < len(value) else [])))


def plain_json(normalizer: NoiseNormalizer, node, field, fields):
    """The body walk as first written: a call per node."""
    if isinstance(node, str):
        return plain_normalize_string(normalizer, node, field)
    if isinstance(node, dict):
        return {
            k: HOLE_ANY if field_key(k) in fields else plain_json(normalizer, v, k, fields)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [plain_json(normalizer, v, field, fields) for v in node]
    if isinstance(node, bool) or node is None:
        return node
    if field is not None and normalizer.is_time_like(field):
        text = repr(node) if isinstance(node, float) else str(node)
        if re.fullmatch(r"\d{10}(?:\.\d{1,6})?|\d{13}", text):
            return HOLE_NUMBER
    return node


def _repeats_a_key(text: str) -> bool:
    """Whether an object of ``text`` gives a key twice, read by json's own pairs."""
    repeated = []

    def pairs(items: list) -> dict:
        repeated.append(len({k for k, _ in items}) != len(items))
        return dict(items)

    json.loads(text, object_pairs_hook=pairs, parse_constant=float)
    return any(repeated)


@settings(max_examples=400, deadline=None)
@given(json_texts())
def test_a_json_body_normalizes_as_the_plain_walk_does(text):
    normalizer = _normalizer()
    request = HttpRequest(
        method="POST", path="/p", headers=(("content-type", "application/json"),),
        body=text.encode(),
    )  # fmt: skip
    body = normalizer.normalize_body(request, part="request", path="/p")
    document = json.loads(text)
    if _repeats_a_key(text):
        # Servers read a key given twice apart: only this text matches.
        assert body == NormalizedBody("text", normalizer.normalize_string(text))
    elif isinstance(document, dict | list):
        assert body.kind == "json"
        assert body.value == plain_json(normalizer, document, None, normalizer.noise_fields("/p"))


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        st.text(max_size=40),
        st.sampled_from(
            [UUID, f"x-{UUID}", "2024-01-02T03:04", "2024-01-02 03:04Z", "\u0662\u0660\u0662\u0664-\u0660\u0661-\u0660\u0662T\u0660\u0663:\u0660\u0664",
             "SANITIZED", "a-SANITIZED_X-b", "1700000000", "123-45", "ab-cd-ef-gh-ij-kl"]
        ),
    ),
    st.sampled_from([None, "ts", "name"]),
)  # fmt: skip
def test_a_string_normalizes_as_the_regex_alone_says(value, field):
    normalizer = _normalizer()
    assert normalizer.normalize_string(value, field=field) == plain_normalize_string(
        normalizer, value, field
    )


def _reject_constant(_: str) -> object:
    raise ValueError("non-finite number")


# Number spellings json.dumps never writes: long digit runs (past 64 bits, past a double,
# past int's 4,300 digits), exponents past a double either way, and signed zeros.
_RAW_NUMBERS = st.one_of(
    st.builds(
        lambda sign, digits, fraction, exponent: sign + digits + fraction + exponent,
        st.sampled_from(["", "-"]),
        st.from_regex(r"\A(0|[1-9][0-9]{0,40})\Z"),
        st.sampled_from(["", ".0", ".5", ".000001", ".12345678901234567890"]),
        st.sampled_from(["", "e5", "E+2", "e-7", "e308", "e309", "e-324", "e400", "e-400"]),
    ),
    st.sampled_from(
        ["18446744073709551615", "18446744073709551616", "9223372036854775807",
         "-9223372036854775808", "-9223372036854775809", "1" * 310, "9" * 4301, "-0", "-0.0",
         "NaN", "Infinity", "-Infinity", "1e400"]
    ),
)  # fmt: skip
_ODD_STRINGS = st.sampled_from(
    ['"\\ud800"', '"a\\udc00b"', '"\\ud83d\\ude00"', '"\\u0000"', '"tab\\there"', '"\u2028"']
)


@settings(max_examples=600, deadline=None)
@given(
    st.one_of(
        json_or_planted(
            lambda raw, odd, text: f'{{"n": {raw}, "s": {odd}, "d": {text}, "n": [{raw}]}}',
            _RAW_NUMBERS,
            _ODD_STRINGS,
            json_texts(),
        ),
        st.builds(lambda depth: "[" * depth + "1" + "]" * depth, st.integers(1, 1100)),
    )
)
def test_a_json_body_is_read_as_json_reads_it(text):
    """Whatever reads the body, the normalized value is json's to the type and the order
    (repr tells 2**64 from 1.8446744073709552e+19, and -0.0 from 0.0, where == does not)."""
    normalizer = _normalizer()
    request = HttpRequest(
        method="POST", path="/p", headers=(("content-type", "application/json"),),
        body=text.encode(),
    )  # fmt: skip
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        return  # where json meets the recursion limit depends on the caller's stack
    except ValueError:
        document = None
    try:
        body = normalizer.normalize_body(request, part="request", path="/p")
    except RecursionError:
        assert isinstance(document, list)  # the walk is deeper than json's parse
        return
    if isinstance(document, dict | list):
        fields = normalizer.noise_fields("/p")
        expected = plain_json(normalizer, document, None, fields)
        floats = list(_floats(expected))
        if not all(math.isfinite(f) for f in floats) or _repeats_a_key(text):
            # A number past a double (0.5e309) kept in the tree, or a key given twice:
            # matched as its text.
            assert body == NormalizedBody("text", normalizer.normalize_string(text))
            return
        assert body.kind == "json"
        assert repr(body.value) == repr(expected)
        assert body.exponent_floats == any("e" in repr(f) for f in floats)
    else:
        assert body.kind == "text"


def _floats(node):
    """Every float in a normalized tree."""
    if isinstance(node, dict | list):
        for value in node.values() if isinstance(node, dict) else node:
            yield from _floats(value)
    elif type(node) is float:
        yield node
