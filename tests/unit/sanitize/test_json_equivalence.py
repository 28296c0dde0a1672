"""The JSON walker's shortcuts change no byte: every document, sanitized by
json_body.sanitize_json, gives the frozen reference walker's text, counts and locations.

Documents are built to hit the shortcuts' edges: personal keys in any case, accent or
separator, nested personal objects, arrays of objects, numbers that read as CPFs or
phones, keys that hold data, duplicate keys, escapes, unicode, odd number spellings.
"""

from __future__ import annotations

import re

import orjson
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ext_proc_server.sanitize import json_body
from ext_proc_server.sanitize.detectors import Scanner
from ext_proc_server.sanitize.field_names import FieldRules, compile_rule
from ext_proc_server.sanitize.pseudonym import Replacer
from ext_proc_server.sanitize.run import Run
from tests.unit.sanitize import json_reference
from tests.unit.sanitize.json_documents import Obj, Raw, render
from tests.unit.sanitize.sanitize_helpers import fmt_cpf, make_cpf

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SCANNERS = {
    "builtin": Scanner(),
    "rules": Scanner(
        field_rules=FieldRules(
            [compile_rule("apelido", "name"), compile_rule("cliente.codigo", "cpf")]
        )
    ),
    "custom": Scanner(custom=[(re.compile(r"ORD-[0-9]{4}"), "ORD-XXXX")]),
}
REPLACERS = {"tokens": Replacer(key=None), "pseudonyms": Replacer(key=b"k" * 32)}


_KEYS = st.sampled_from(
    ["nome", "Nome", "NOME", "nomeCompleto", "nome_completo", "NOME-COMPLETO", "name",
     "firstName", "fullName", "endereco", "endereço", "Endereço", "logradouro", "numero",
     "bairro", "cep", "CEP", "zip", "cpf", "CPF", "rg", "dtNasc", "dataNascimento",
     "birth_date", "email", "telefone", "Telefone", "phones", "celular", "whatsapp", "ddd",
     "cliente", "customer", "Cliente", "user", "titular", "empresa", "razaoSocial", "cnpj",
     "produto", "items", "sku", "qty", "price", "note", "id", "a", "x", "", "password",
     "senha", "token", "apiKey", "apelido", "codigo", "ana@x.com", "52998224725",
     'quo"te', "sla/sh", "til~de", "back\\slash", "tab\tkey", "é", "nome\u00e7", "wa_id"]
)  # fmt: skip
_CPF = st.text(alphabet="0123456789", min_size=9, max_size=9).filter(lambda d: len(set(d)) > 1)
_WORDS = (
    "Joana Silva", "Ana Souza", "Maria da Silva", "JOSÉ PEREIRA", "Camiseta Polo Azul",
    "N/A", "", "SANITIZED_NAME", "SANITIZED_EMAIL", "ana@x.com", "joana1@exemplo.com.br",
    "ana%40x.com", "ana&#64;x.com", "(11) 91234-5678", "+55 11 91234-5678", "01452-000",
    "1990-05-17", "17/05/1990", "Rua das Flores, 123", "http://user:pass@host/x",
    "Bearer abc.def.ghi", "ORD-1234", "x" * 300, "tab\there", 'quo"te', "back\\slash",
    "emoji 😀", "ção", "\u2028", "line\nbreak", "senha: hunter2", "password=abc123",
    # Lone surrogates (escaped, or as they are where non-ASCII is written raw) and a pair
    # of them: JSON parsers disagree on these (orjson refuses what json reads).
    "\ud800", "a\udc00b", "\ud83d\ude00", "ana@x.com\udfff"
)  # fmt: skip
_STRINGS = st.one_of(
    st.sampled_from(_WORDS),
    _CPF.map(make_cpf),
    _CPF.map(lambda d: fmt_cpf(make_cpf(d))),
    st.text(max_size=12),
)
_NUMBERS = st.one_of(
    st.integers(-(10**12), 10**14),
    st.floats(allow_nan=False, allow_infinity=False),
    _CPF.map(lambda d: Raw(make_cpf(d))),
    st.sampled_from(
        [Raw("11912345678"), Raw("5511912345678"), Raw("1.50"), Raw("1E+2"), Raw("-0"),
         Raw("-0.0"), Raw("12345678901234567890123"), Raw("NaN"), Raw("-Infinity"),
         Raw("1e-7"), Raw("Infinity"), Raw("1e400"), Raw("-1e400"), Raw("1e-400"),
         Raw("18446744073709551615"), Raw("18446744073709551616"), Raw("-9223372036854775809"),
         Raw("9" * 310), Raw("1" * 5000), Raw("0." + "1" * 400)]
    ),
)  # fmt: skip
_LEAVES = st.one_of(st.none(), st.booleans(), _NUMBERS, _STRINGS)
_DOCUMENTS = st.recursive(
    _LEAVES,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.lists(st.tuples(_KEYS, inner), max_size=6).map(Obj)
        # Arrays of objects alike: the shape of records in real bodies.
        | st.lists(st.tuples(_KEYS, _LEAVES), min_size=1, max_size=4).flatmap(
            lambda pairs: st.lists(
                st.lists(_LEAVES, min_size=len(pairs), max_size=len(pairs)).map(
                    lambda values, pairs=pairs: Obj(
                        (k, v) for (k, _), v in zip(pairs, values, strict=True)
                    )
                ),
                min_size=1,
                max_size=5,
            )
        )
    ),
    max_leaves=30,
)
_STYLES = st.tuples(st.booleans(), st.sampled_from([(",", ":"), (", ", ": "), (",", " :\n ")]))


def _render(value: object, ascii_only: bool, separators: tuple[str, str]) -> str:
    return render(value, separators, ascii_only)


def _sanitized(module: object, text: str, scanner: Scanner, replacer: Replacer) -> tuple:
    run = Run(scanner, replacer)
    try:
        out = module.sanitize_json(run, text, "request.body")  # type: ignore[attr-defined]
    except Exception as exc:  # the sanitizer drops such a body: both must fail alike
        return type(exc), str(exc)
    return out, run.counts, run.locations


def _assert_same(text: str) -> None:
    # Padded past 1 KiB too: long bodies find their quotes in steps.
    _assert_same_text(text)
    _assert_same_text('{"doc": ' + text + ', "pad": "' + "p" * 1100 + '"}')


def _assert_same_text(text: str) -> None:
    for scanner in SCANNERS.values():
        for replacer in REPLACERS.values():
            expected = _sanitized(json_reference, text, scanner, replacer)
            # Twice: the second meets every cache the first one filled.
            assert _sanitized(json_body, text, scanner, replacer) == expected, text
            assert _sanitized(json_body, text, scanner, replacer) == expected, text


@SETTINGS
@given(document=_DOCUMENTS, style=_STYLES)
@example(
    document=Obj(
        [("id", 7), ("customer", Obj([("name", "Joana Silva"), ("email", "joana7@exemplo.com.br")])),
         ("items", [Obj([("sku", "SKU-7-1"), ("qty", 1), ("price", 10.5)])] * 3), ("note", "x")]
    ),
    style=(True, (",", ":")),
)  # fmt: skip
@example(document=[Obj([("a", 1)]), Raw("52998224725")], style=(True, (",", ":")))
# A repeated key whose first member holds the finding: a dict keeps only the last.
@example(document=Obj([("a", "ana@x.com"), ("b", 2), ("a", 1)]), style=(True, (",", ":")))
@example(
    document=[Obj([("cpf", Raw("52998224725")), ("cpf", "x")]), Obj([("nome", "Ana Souza")])],
    style=(False, (", ", ": ")),
)
@example(document=[[1, 2], Raw("52998224725"), Obj([("cpf", 3)])], style=(True, (",", ":")))
# A phone after an object that ends in a number, in the same gap.
@example(document=Obj([("telefone", [Obj([("n", 1)]), 912345678])]), style=(True, (", ", ": ")))
def test_same_output_as_the_reference_walker(document: object, style: tuple) -> None:
    _assert_same(_render(document, *style))


@SETTINGS
@given(document=_DOCUMENTS, ascii_only=st.booleans())
@example(
    document=Obj([("cliente", Obj([("nome", "Ana Souza"), ("email", "ana@x.com")])), ("n", 1)]),
    ascii_only=False,
)
def test_orjson_written_text_same_as_the_reference_walker(
    document: object, ascii_only: bool
) -> None:
    """Texts exactly as orjson writes them (compact, one member per key): the parse's
    fast path takes these, and must read them as the pairs decoder does."""
    try:
        text = orjson.dumps(orjson.loads(_render(document, ascii_only, (",", ":")))).decode()
    except orjson.JSONDecodeError:
        return  # NaN, Infinity, lone surrogates: orjson never wrote such a text
    _assert_same(text)


@SETTINGS
@given(
    records=st.lists(
        st.tuples(_KEYS, _LEAVES).map(lambda pair: Obj([pair, ("qty", 1)])), min_size=1, max_size=6
    ),
    holder=_KEYS,
    planted=st.one_of(_STRINGS, _NUMBERS),
    at=st.integers(0, 5),
)
def test_records_with_one_planted_value(
    records: list, holder: str, planted: object, at: int
) -> None:
    """Arrays of records alike where one record holds a finding (a skipped record's
    neighbour): the span bookkeeping must stay in step."""
    records[at % len(records)].append(("v", planted))
    _assert_same(_render(Obj([(holder, records), ("after", planted)]), True, (",", ":")))


@SETTINGS
@given(
    depth=st.sampled_from([1, 2, 50, 400, 498, 499, 500, 501, 1024, 1025, 1100, 3000]),
    inner=st.sampled_from(['"ana@x.com"', '{"cpf": "52998224725"}', "[]", "1e400"]),
    dict_first=st.booleans(),
)
def test_deep_nesting_fails_or_passes_alike(depth: int, inner: str, dict_first: bool) -> None:
    """Deep documents (past 1,024 levels, where other parsers stop, and around half the
    recursion limit): the outcome (the text, or the error the sanitizer drops the body
    for) is the reference walker's.
    Depths next to the recursion limit itself are left out: where it is met there
    depends on the caller's stack and on which caches are warm, for json alone too."""
    opening, closing = ('{"a": [', "]}") if dict_first else ("[", "]")
    text = opening * depth + inner + closing * depth
    for scanner in SCANNERS.values():
        expected = _outcome(json_reference, text, scanner)
        assert _outcome(json_body, text, scanner) == expected


def _outcome(module: object, text: str, scanner: Scanner) -> tuple:
    found = _sanitized(module, text, scanner, REPLACERS["tokens"])
    # Where the recursion limit is met differs (and its message with it): the kind counts.
    return (found[0],) if found[0] is RecursionError else found
