"""Names whose words are ordinary words or places' words, in prose: a first name and a
surname both words (``Cruz Miranda``, ``Sol Cerro``, ``Trinidad Serra``) where a verb
only a person does follows them (``nasceu``, ``assinou``, ``was born``, ``signed``),
and a surname that is a place's or a building's word after a first name (``Jesse
Hall``, ``Kristen Lori Mercado``, ``Pedro Vila``). Streets, buildings and towns named
after people stay, and so do the runs a place's word opens or a word before says a
place (``Royal Albert Hall``, ``Rua Ana Campos``)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.sanitize.run import is_token
from tests.unit.sanitize.name_prose import faker_people, order_note, words_kept


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Cruz Miranda nasceu em 1980", "SANITIZED_NAME nasceu em 1980"),
        ("Trinidad Serra assinou o contrato", "SANITIZED_NAME assinou o contrato"),
        ("Paz Vega was born in Madrid", "SANITIZED_NAME was born in Madrid"),
        ("Sol Cerro signed the form", "SANITIZED_NAME signed the form"),
        ("Ontem Cruz Miranda ligou às 10h", "Ontem SANITIZED_NAME ligou às 10h"),
        ("Rosario Campos faleceu em 2001", "SANITIZED_NAME faleceu em 2001"),
        ("Luz Mesa firmó el acta", "SANITIZED_NAME firmó el acta"),
        ("Paz Vega e Sol Cerro assinaram", "SANITIZED_NAME e SANITIZED_NAME assinaram"),
    ],
)
def test_a_verb_only_a_person_does_says_a_name(text: str, expected: str) -> None:
    assert order_note(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Spoke with Jesse Hall about the renewal", "Spoke with SANITIZED_NAME about the renewal"),
        ("Kristen Lori Mercado called at 10am", "SANITIZED_NAME called at 10am"),
        ("Entregar para Pedro Vila, apto 3", "Entregar para SANITIZED_NAME, apto 3"),
        ("Pedro Vila ligou", "SANITIZED_NAME ligou"),
        ("Falar com Grace Park amanhã", "Falar com SANITIZED_NAME amanhã"),
        ("Regards, Amy Church", "Regards, SANITIZED_NAME"),
        ("Visita de Carlos Porto na segunda", "Visita de SANITIZED_NAME na segunda"),
        ("Ana Campos ligou", "SANITIZED_NAME ligou"),
    ],
)
def test_a_place_word_surname_after_a_first_name_ends_the_name(text: str, expected: str) -> None:
    assert order_note(text, "notes") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A town named as people are, after first names: read whole as a name (no cue
        # says a place, and a person may bear the surname Casagrande written apart).
        ("Olívia Beatriz Casa Grande ligou", "SANITIZED_NAME ligou"),
        # A plant's name after a word saying a person is a person's.
        ("Cliente Vitória Régia ligou", "Cliente SANITIZED_NAME ligou"),
    ],
)
def test_decided_cases(text: str, expected: str) -> None:
    assert order_note(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Show no Royal Albert Hall em maio",
        "Entregar na Vila Maria, casa 3",
        "Mercado Livre entregou ontem",
        "Pedro Vila Nova é o bairro",
        "Carnegie Hall concert on Friday",
        "Loja do Mercado São José",
        "Cruz Alta assinou o convênio",
        "Santa Cruz assinou o convênio",
        "A Prefeitura de Cruz Alta assinou",
        "Lagoa com vitória-régia e peixes",
        "A Vitória Régia floresceu",
        "Rosa Choque nasceu como cor em 1937",
        "Sol Nascente assinou contrato com a loja",
        "Camiseta rosa choque tamanho M",
        "Atenciosamente, Equipe de Suporte",
        "Falar com Maria na recepção",
        "Maria ligou",
    ],
)
def test_places_businesses_and_words_stay(text: str) -> None:
    assert order_note(text) == text


_VERBS_PT = ("nasceu em 1970", "assinou o contrato", "ligou ontem", "faleceu em 2001")
_VERBS_EN = ("was born in 1970", "signed the lease", "called yesterday", "died in 2001")
# Names (of 320 per locale and seeds 7, 1, 2, 3) a word of which still stood after a
# person's verb; on main pt_BR kept 1, es_ES 33, en_US 4, pt_PT 1. Still kept: pt_BR's
# "Dom Viana" (Faker's first name "Dom" is a title) and pt_PT's "Luís Correia" (a
# municipality of Piauí: known places named as people stay), es_ES's "Belén Iván Río"
# ("Río" opens places: "Río de la Plata").
_MOST_KEPT = {"pt_BR": 1, "es_ES": 1, "en_US": 0, "pt_PT": 1}


@pytest.mark.parametrize("locale", sorted(_MOST_KEPT))
def test_faker_people_before_a_persons_verb(locale: str) -> None:
    verbs = _VERBS_EN if locale == "en_US" else _VERBS_PT
    kept = []
    for seed in (7, 1, 2, 3):
        for i, name in enumerate(faker_people(locale, seed)):
            text = f"{name} {verbs[i % len(verbs)]}"
            if words_kept(name, order_note(text)):
                kept.append(text)
    assert len(kept) <= _MOST_KEPT[locale], kept


_WORD_FIRSTS = ("Cruz", "Sol", "Paz", "Trinidad", "Rosario", "Luz", "Amparo", "Pilar")
_WORD_SURNAMES = ("Miranda", "Cerro", "Vega", "Serra", "Campos", "Mesa", "Prado", "Vento")


@settings(max_examples=150, deadline=None)
@given(
    first=st.sampled_from(_WORD_FIRSTS),
    last=st.sampled_from(_WORD_SURNAMES),
    verb=st.sampled_from(_VERBS_PT + _VERBS_EN),
    tail=st.text(alphabet="abcdefghij 0123456789,.", max_size=12).filter(lambda t: not is_token(t)),
)
def test_a_word_name_before_a_persons_verb_goes(
    first: str, last: str, verb: str, tail: str
) -> None:
    text = f"{first} {last} {verb} {tail}".strip()
    assert words_kept(f"{first} {last}", order_note(text)) == []
