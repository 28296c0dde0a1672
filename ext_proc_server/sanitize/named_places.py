"""Places and businesses named as people are: a run of capitalised words that is one
("João Pessoa", "Paulo Lopes": a municipality of phonenumbers' geocoder, a neighbourhood,
a street or a brand named after someone) or holds one is no person's name, and a place
joined to a name ("Maria Silva e São Paulo") ends it. Read by free_text_names,
card_holders and url_names.
"""

from __future__ import annotations

import functools
import re

from ext_proc_server.sanitize.municipalities import brazilian_places
from ext_proc_server.sanitize.place_words import PLACE_OPENERS
from ext_proc_server.sanitize.wordlists import fold, word_lists

_UP = "A-ZÀ-ÖØ-Þ"
_LO = "a-zß-öø-ÿ"
# An elided "d'" word after a run ("Dias d'Ávila"): a run stops before it.
_ELIDED = re.compile(rf" ([dD]['\u2019][{_UP}][{_LO}]+)")
_PARTICLES = frozenset({"da", "de", "do", "das", "dos", "e", "di", "del", "van", "von"})

# Places and businesses named as people are, besides the geocoder's (municipalities):
# districts, neighbourhoods and streets named after people, well-known places
# elsewhere, brands named after their founders.
_PLACES = frozenset(
    fold(place)
    for place in (
        "Quintino Bocaiúva", "Rui Barbosa", "Sérgio Buarque", "Cláudio Manuel",
        "Tomás Gonzaga", "Tomaz Gonzaga", "Mariana Pimentel", "Paulo de Frontin",
        "Arthur Nogueira", "Jorge Teixeira", "Juscelino Kubitschek", "Tancredo Neves",
        "Ulysses Guimarães", "Otávio Rocha", "Eduardo Gomes", "Mário Campos", "Carlos Gomes",
        "Gaspar Lopes", "Heitor Penteado", "José Boiteux", "Luís Alves", "Roberto Silveira",
        "Vicente de Carvalho", "Washington Luís", "Washington Luiz", "Olavo Bilac",
        "Floriano Peixoto", "Júlio Prestes", "Ana Rech", "Oswaldo Cruz", "Adolfo Lutz",
        "Vital Brazil", "Vital Brasil", "Lúcio Costa", "Oscar Niemeyer", "Maria da Cruz",
        "José de Moura", "Alexandre Costa",
        # abroad
        "San Francisco", "San Diego", "San Jose", "San Antonio", "Santa Clara",
        "Santa Monica", "Santa Barbara", "Los Angeles", "Las Vegas", "Washington DC",
        "George Washington", "Abraham Lincoln", "Martin Luther King", "Charles River",
        "Elizabeth Line", "Victoria Line", "Jackson Hole", "Austin Texas",
        # businesses
        "Morgan Chase", "Morgan Stanley", "Charles Schwab", "Wells Fargo", "Ralph Lauren",
        "Calvin Klein", "Tommy Hilfiger", "Hugo Boss", "Giorgio Armani", "Carolina Herrera",
        "Louis Vuitton", "Christian Dior", "Jack Daniels", "Johnnie Walker",
        "Salvatore Ferragamo", "Massimo Dutti", "Ermenegildo Zegna", "Emilio Pucci",
        "Paco Rabanne", "Manolo Blahnik", "Gianni Versace", "Giacomo Conti",
        # works named after their title character
        "Dom Casmurro", "Dom Quixote", "Dom Camilo",
    )
)  # fmt: skip


# Saints and public religious figures named with their title ("devoto de Frei Galvão"):
# a run that is one of them whole is no customer's; a longer one may be ("Irmã Dulce
# Pontes"). Streets and churches named after them are places' words already.
TITLED_FIGURES = frozenset(
    fold(figure)
    for figure in (
        "Frei Galvão", "Frei Damião", "Frei Caneca", "Padre Cícero", "Padre Anchieta",
        "Irmã Dulce", "Madre Teresa", "Padre Pio", "Dom Bosco", "Dom Hélder",
    )
)  # fmt: skip


def ends_elided_place(text: str, end: int, folded: list[str]) -> bool:
    """Whether words that a run or a lone word ending at ``end`` holds, with an elided
    "d'" word after them, are a known place: a run stops before it, so "Padre Dias
    d'Ávila" and "Prof. Aparecida D'Oeste" would otherwise read as people."""
    elided = _ELIDED.match(text, end)
    if not elided:
        return False
    place = " ".join([*folded, fold(elided.group(1)).replace("\u2019", "'")])
    return place in known_places()[0]


def is_known_place(text: str) -> bool:
    """Whether ``text`` is a place or a business named as people are ("Paulo Lopes",
    "Lúcio Costa", "Ralph Lauren"): the reader keeps it whole."""
    return fold(text) in known_places()[0]


def place_cut(folded: list[str]) -> int:
    """Where a place joined to a name starts ("Maria Silva e São Paulo", "João Pereira
    de João Pessoa"): the index of the "e" or particle before it; the run's end if none."""
    places, most = known_places()
    for i in range(2, len(folded) - 1):
        if folded[i] not in _PARTICLES:
            continue
        rest = folded[i + 1 :]
        if rest[0] in PLACE_OPENERS or any(
            " ".join(rest[:size]) in places for size in range(2, min(most, len(rest)) + 1)
        ):
            return i
    return len(folded)


def places_in(folded: list[str]) -> list[tuple[int, int]]:
    """The known places among some words in a row, as (first, past-the-last) indexes."""
    places, most = known_places()
    return [
        (i, i + size)
        for size in range(2, most + 1)
        for i in range(len(folded) - size + 1)
        if " ".join(folded[i : i + size]) in places
    ]


def names_a_place(folded: list[str]) -> bool:
    """Whether some words of a run in a row are a known place ("Bento Gonçalves e
    Vitória da Conquista" holds two)."""
    places, most = known_places()
    return any(
        " ".join(folded[i : i + size]) in places
        for size in range(2, most + 1)
        for i in range(len(folded) - size + 1)
    )


@functools.cache
def known_places() -> tuple[frozenset[str], int]:
    """The places above, Brazil's municipalities (phonenumbers' geocoder) and Faker's
    neighbourhoods ("Antonio Ribeiro De Abreu 1ª Seção" without its section), folded;
    and the most words one has."""
    sections = re.compile(r"\s+\d+ª\s+se[cç][aã]o$", re.IGNORECASE)
    places = (
        _PLACES
        | {fold(place) for place in brazilian_places()}
        | {fold(sections.sub("", n)) for n in word_lists().neighbourhoods}
    )
    # As a slug writes them: "governador-dix-sept-rosado", "olho-d-agua".
    places |= {re.sub(r"[-']", " ", place) for place in places if "-" in place}
    return places, max(place.count(" ") + 1 for place in places)


# A firm's legal suffix after a name: "Santos Farias - ME", "Pastor Andrade S/A", "Ana
# Costa S.A.", "Sol Dalmau Quiroga S.L.L.", "Nuria Ropero Ibáñez S.Coop." (Faker's pt_BR,
# es_ES and it_IT companies write them so).
_FIRM_SUFFIX = re.compile(
    r"[ \t]*(?:[-\u2013][ \t]*)?"
    r"(?:ME|EPP|EI|EIRELI|LTDA|Ltda|Lda|S\.?[ ]?A|S/A|S\.L\.(?:L\.|N\.E|U\.)?|S\.Coop|S\.C\.P"
    r"|S\.Com|S\.p\.A|S\.r\.l|SpA|Srl|Inc|LLC|Ltd|Corp)(?![\w/])"
)


def firm_suffix_at(text: str, end: int) -> bool:
    """Whether a firm's legal suffix follows the name that ends at ``end`` in ``text``:
    the words before it are the firm's name, named after people as it may be."""
    return _FIRM_SUFFIX.match(text, end) is not None
