"""Values flagged only by their field's name, and secrets the value detectors find,
planted at every kind of place in a JSON body: all replaced, nothing else changed.

The JSON walk maps each value of the parsed tree to its span in the text (strings by
counting quotes, numbers and literals by counting them within the gap between two
strings) and skips clean subtrees without looking at them. A miscount there reads the
wrong span: a planted value left as it was, or an inert one edited. The documents put
planted values in object members, array items, nested arrays and lists of records,
next to skipped objects and records that start or end with numbers, literals or empty
containers, next to strings and keys with escapes, under repeated keys, in compact and
spaced layouts, in bodies past 1 KiB and in top-level arrays.
"""

from __future__ import annotations

import json
import operator

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.unit.sanitize.json_documents import Obj, Raw, render
from tests.unit.sanitize.sanitize_helpers import make_cpf, make_jwt, request_exchange, sanitizer

SANITIZER = sanitizer()
# The user's field rules: the walk plans each object with them (another path).
RULES_SANITIZER = sanitizer(sanitize_fields={"apelido": "name", "cliente.codigo": "cpf"})
SETTINGS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class Planted:
    """A value that must come out replaced."""

    def __init__(self, value: object) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"Planted({self.value!r})"


# Keys that name no class here, and values nothing flags: small numbers, literals,
# short words, strings with escapes and non-ASCII.
INERT_NAMES = ("id", "qty", "flag", "label", "total", "ok", 'a"b', "c\\d", "é", "😀")
INERT_KEYS = st.sampled_from(INERT_NAMES)
# Keys are unique within an object but where a key is repeated on purpose.
_KEY = operator.itemgetter(0)
INERT_SCALARS = st.one_of(
    st.integers(min_value=-999, max_value=999),
    # -Infinity (which orjson refuses) is rare: most bodies take orjson's tree.
    st.sampled_from(
        [1.5, -0.25, 1e-3, True, False, None, "", "x", "ok", 'say "hi"', "c:\\dir", "ação", "😀",
         Raw("1E+2"), Raw("-0.0"), Raw("1e-7"), Raw("12.50"), *[None] * 5, Raw("-Infinity")]
    ),
)  # fmt: skip
INERT = st.recursive(
    INERT_SCALARS,
    lambda children: (
        st.lists(children, max_size=3)
        | st.lists(st.tuples(INERT_KEYS, children), max_size=3, unique_by=_KEY).map(Obj)
    ),
    max_leaves=6,
)


def _records(values: st.SearchStrategy) -> st.SearchStrategy:
    """Objects with the same keys in the same order: a list the walk may skip at once."""
    return st.lists(INERT_KEYS, min_size=1, max_size=3, unique=True).flatmap(
        lambda keys: st.lists(
            st.lists(values, min_size=len(keys), max_size=len(keys)).map(
                lambda vals, keys=keys: Obj(zip(keys, vals, strict=True))
            ),
            min_size=2,
            max_size=3,
        )
    )


# Clean neighbours: subtrees, records ending or starting in a number, literal or empty
# container.
CLEAN = st.one_of(
    INERT,
    _records(st.one_of(INERT_SCALARS, st.just([]), st.just(Obj()))),
    st.sampled_from([[], Obj(), [[]], Obj([("id", 1)]), Obj([("id", [])]), [Obj([("x", None)])]]),
)
# Clean neighbours among a field's list items: those take the field's name (and a
# number or date-like string under it is flagged), so only objects are clean there.
CLEAN_OBJECTS = st.one_of(
    st.lists(st.tuples(INERT_KEYS, INERT), max_size=3, unique_by=_KEY).map(Obj),
    _records(st.one_of(INERT_SCALARS, st.just([]), st.just(Obj()))).map(lambda records: records[0]),
    st.sampled_from([Obj(), Obj([("id", 1)]), Obj([("id", [])]), Obj([("ok", Obj([("id", 2)]))])]),
)

_NINE = st.integers(min_value=10_000_000, max_value=99_999_999)
_PHONES = st.one_of(
    _NINE.map(lambda n: 900_000_000 + n),
    _NINE.map(lambda n: 11_900_000_000 + n),
    _NINE.map(lambda n: f"(11) 9{str(n)[:4]}-{str(n)[4:]}"),
    _NINE.map(lambda n: f"+55 21 9{n}"),
)
_NAMES = st.sampled_from(["Joana Silva", "JOSÉ PEREIRA", "Ana Souza", "Maria da Conceição"])
_DATES = st.sampled_from(["1990-05-17", "17/05/1990", 19900517, "05/17/1990"])
_RGS = st.sampled_from(["12.345.678-9", "MG-12.345.678", 123456789, "1234567"])
_CEPS = st.sampled_from(["01452-000", "01452000", 1452000, "22250-040", 22250040])
_STREETS = st.sampled_from(["Rua das Flores, 123", "Av. Paulista 1000", 'Travessa "B"'])
# Per class: field names that flag it wherever they sit, values that fit, values that
# do not (those are left alone).
CLASSES = {
    "phone": (("telefone", "Celular", "whatsapp", "PHONE", "fone"), _PHONES,
              st.sampled_from([7, -3, 1.5, 999, "", "N/A", True, None])),
    "name": (("nomeCompleto", "fullName", "firstName", "sobrenome"), _NAMES,
             st.sampled_from(["", "-", True, False, None])),
    "birth": (("dataNascimento", "birthDate", "dtNasc"), _DATES,
              st.sampled_from(["", "N/A", True, None])),
    "rg": (("rg", "numeroIdentidade"), _RGS, st.sampled_from(["", "N/A", False, None])),
    "street": (("logradouro", "endereco", "bairro"), _STREETS,
               st.sampled_from(["", "-", True, None])),
}  # fmt: skip
# Classes the user's rules give: replaced whatever the value, but for "", null and
# booleans.
RULE_CLASSES = {
    "nickname": (("apelido", "Apelido"), st.sampled_from(["Mari", "x", 7, -1.5, Raw("1E+2")]),
                 st.sampled_from(["", None, True])),
}  # fmt: skip
# Per place: the keys that make an object that place, the field it names, values.
HOLDERS = {
    "address": (("endereco", "Endereço", "ADDRESS", "enderecos"), "cep", _CEPS,
                st.sampled_from([123, "", None])),
    "house": (("endereco", "address"), "numero", st.sampled_from([123, "45A", 1000]),
              st.sampled_from(["", "-", None, True])),
    "phone": (("telefones", "phones", "celular"), "numero", _PHONES,
              st.sampled_from([11, "", "N/A", None])),
    "person": (("cliente", "titular", "customer"), "nome", _NAMES,
               st.sampled_from(["", "-", None, False])),
}  # fmt: skip
# Secrets the value detectors find under any key.
# Repeated digits ("999999999-99") are no CPF: the detector refuses them.
_CPF_BASES = (
    st.integers(min_value=100_000_000, max_value=999_999_999)
    .map(str)
    .filter(lambda digits: len(set(digits)) > 1)
)
SECRETS = st.one_of(
    st.sampled_from(["ana@x.com", "joana.silva@exemplo.com.br", make_jwt("user-7")]),
    _CPF_BASES.map(make_cpf),
    _CPF_BASES.map(lambda base: int(make_cpf(base))),
    _CPF_BASES.map(lambda base: f"{base[:3]}.{base[3:6]}.{base[6:]}-{make_cpf(base)[9:]}"),
)


def _planted_value(fits: st.SearchStrategy, unfit: st.SearchStrategy) -> st.SearchStrategy:
    """What a class's field holds: the value, a list of values among unfit ones and
    clean neighbours (list items take the field's name), or nested lists of them."""
    one = fits.map(Planted)
    items = st.lists(
        st.one_of(one, unfit, CLEAN_OBJECTS, _records(INERT_SCALARS)), min_size=1, max_size=5
    )
    return st.one_of(one, unfit, items, items.map(lambda xs: [xs]), st.lists(items, max_size=2))


@st.composite
def _member(draw: st.DrawFn, rules: bool) -> tuple[str, object]:
    """One member: a class's field, a field its object's place names, a secret, or clean."""
    classes = {**CLASSES, **RULE_CLASSES} if rules else CLASSES
    kind = draw(st.sampled_from([*sorted(classes), *HOLDERS, "secret", "clean"]))
    if kind in HOLDERS:
        # Fields named by the object's place: a CEP or a number in an address, a number
        # in a phone, a name in a person's object; alone, or in a list of records.
        holders, field, fits, unfit = HOLDERS[kind]
        records = []
        for _ in range(draw(st.integers(1, 3))):
            members = draw(st.lists(st.tuples(INERT_KEYS, CLEAN), max_size=2, unique_by=_KEY))
            value = draw(st.one_of(fits.map(Planted), unfit))
            members.insert(draw(st.integers(0, len(members))), (field, value))
            records.append(Obj(members))
        if len(records) > 1 or draw(st.booleans()):
            return draw(st.sampled_from(holders)), records
        return draw(st.sampled_from(holders)), records[0]
    if kind == "secret":
        secret = Planted(draw(SECRETS))
        shapes = [secret, [secret], [1, secret], [Obj([("id", 1)]), secret], [secret, True]]
        return draw(INERT_KEYS), draw(st.sampled_from(shapes))
    if kind == "clean":
        return draw(INERT_KEYS), draw(CLEAN)
    keys, fits, unfit = classes[kind]
    return draw(st.sampled_from(keys)), draw(_planted_value(fits, unfit))


@st.composite
def _objects(draw: st.DrawFn, rules: bool = False, depth: int = 0) -> Obj:
    members = draw(st.lists(_member(rules), min_size=1, max_size=4, unique_by=_KEY))
    if draw(st.integers(0, 9)) == 0:
        # A repeated key (the pairs decoder's tree): each of its values is walked.
        members.insert(draw(st.integers(0, len(members))), draw(st.sampled_from(members)))
    if depth < 2 and draw(st.booleans()):
        # Nested under a clean key, or as records in a list.
        inner = draw(_objects(rules, depth + 1))
        shape = draw(st.sampled_from(["member", "listed", "records"]))
        if shape == "member":
            members.append((draw(INERT_KEYS), inner))
        elif shape == "listed":
            members.append((draw(INERT_KEYS), [draw(CLEAN), inner, draw(CLEAN)]))
        else:
            # Records alike, one holding the planted values: the list must not be skipped
            # as clean. null fits no class: the others stay clean.
            clean = Obj(
                (key, draw(INERT_SCALARS) if key in INERT_NAMES else None) for key, _ in inner
            )
            records = draw(st.sampled_from([[clean, inner], [inner, clean], [clean, inner, clean]]))
            members.append((draw(INERT_KEYS), records))
    return Obj(members)


@st.composite
def _documents(draw: st.DrawFn, rules: bool = False) -> object:
    document: object = draw(_objects(rules))
    if draw(st.booleans()):
        document = draw(st.lists(st.one_of(CLEAN, _objects(rules)), max_size=3))
        document.insert(draw(st.integers(0, len(document))), draw(_objects(rules)))
    return document


def _key(key: str, ascii_only: bool) -> str:
    """A key as JSON; with ``ascii_only`` its first character escaped too (the walk
    reads such a body's strings alone)."""
    written = json.dumps(key, ensure_ascii=ascii_only)
    if ascii_only and key and written[1] != "\\":
        return f'"\\u{ord(key[0]):04x}{written[2:]}'
    return written


def _render(value: object, separators: tuple[str, str], ascii_only: bool) -> str:
    return render(value, separators, ascii_only, write_key=_key, leaf=_unplanted)


def _unplanted(value: object) -> object:
    return value.value if isinstance(value, Planted) else value


def _expect(original: object, sanitized: object) -> None:
    if isinstance(original, Planted):
        value = original.value
        assert isinstance(sanitized, str), (value, sanitized)
        assert sanitized != value and str(value) not in sanitized, (value, sanitized)
    elif isinstance(original, Obj):
        assert isinstance(sanitized, Obj) and [k for k, _ in sanitized] == [k for k, _ in original]
        for (_, value), (_, fresh) in zip(original, sanitized, strict=True):
            _expect(value, fresh)
    elif isinstance(original, list):
        assert type(sanitized) is list and len(sanitized) == len(original), (original, sanitized)
        for value, fresh in zip(original, sanitized, strict=True):
            _expect(value, fresh)
    else:
        expected = json.loads(original) if isinstance(original, Raw) else original
        assert sanitized == expected and type(sanitized) is type(expected), (original, sanitized)


class _Pairs(list):
    """The output's objects as pairs, told apart from its arrays."""


def _check(
    document: object, separators: tuple[str, str], ascii_only: bool, pad: int, rules: bool = False
) -> None:
    text = _render(document, separators, ascii_only)
    if pad:
        # Past 1 KiB the quotes are found in steps: the planted values after the padding,
        # or before it.
        padding = '"' + "p" * 1100 + '"'
        if isinstance(document, Obj):
            text = "{" + f'"pad"{separators[1]}{padding}{separators[0]}' + text[1:]
            if pad > 1:
                text = text[:-1] + f'{separators[0]}"pad"{separators[1]}{padding}' + "}"
        else:
            text = "[" + padding + separators[0] + text[1:]
    clean = (RULES_SANITIZER if rules else SANITIZER).sanitize(request_exchange(body=text))
    body = clean.request.body
    assert body, text
    out = json.loads(body, object_pairs_hook=_Pairs)
    if pad and isinstance(document, Obj):
        out = _Pairs(pair for pair in out if pair[0] != "pad")
    elif pad:
        out = out[1:]
    _expect(document, _to_plain(out))


def _to_plain(value: object) -> object:
    """Objects as Obj, as the documents are written; arrays stay lists."""
    if isinstance(value, _Pairs):
        return Obj((k, _to_plain(v)) for k, v in value)
    if isinstance(value, list):
        return [_to_plain(v) for v in value]
    return value


LAYOUTS = st.sampled_from([(",", ":"), (", ", ": "), (",\n  ", " :\n ")])


@SETTINGS
@given(_documents(), LAYOUTS, st.booleans(), st.integers(0, 2))
@example(Obj([("telefone", [Obj([("id", 1)]), Planted(912345678)])]), (", ", ": "), True, 0)
def test_planted_values_replaced_and_nothing_else(document, separators, ascii_only, pad):
    _check(document, separators, ascii_only, pad)


@SETTINGS
@given(_objects(), LAYOUTS, st.booleans(), st.integers(0, 2), INERT_KEYS, INERT_SCALARS)
def test_the_same_with_a_repeated_key(document, separators, ascii_only, pad, key, first):
    """A repeated key sends the body to the pairs decoder: the same walk over its tree."""
    _check(Obj([(key, first), *document, (key, first)]), separators, ascii_only, pad)


@settings(SETTINGS, max_examples=120)
@given(_documents(rules=True), LAYOUTS, st.booleans(), st.integers(0, 2))
def test_the_same_with_the_users_field_rules(document, separators, ascii_only, pad):
    """With the user's rules every object is planned with them: the same spans."""
    _check(document, separators, ascii_only, pad, rules=True)
