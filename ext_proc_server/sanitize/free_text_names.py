"""People's names in a free-text field with no cue before them: an NF-e's
``<infCpl>Entregar para Maria Aparecida da Silva, apto 12</infCpl>``, an order's
``"observacao": "João Pereira ligou às 10h"``, a CRM's ``"notes": "Spoke with Ana Costa"``.

Only where the field is prose (notes, observations, comments, descriptions, messages,
NF-e's complementary information; see ``is_free_text``), and only written as names
are: capitalised words (or a run all in capitals), the first a known first name
(Faker's pt_BR and en_US lists, Brazil's census), then a known last name or a particle
and a capitalised word ("da Silva"). Places and businesses named after people stay: a
run that is a known place ("João Pessoa", "Paulo Lopes": a municipality of
phonenumbers' geocoder, a neighbourhood), or that holds or follows a word naming a
place or a business ("São José dos Campos", "Rua Maria Aparecida", "Padaria João
Pereira", "Maria Silva Ltda"). A name may hold initials ("Paul S Edelman", "J. R.
Tolkien") and follow a title ("o presidente João Pereira"; after one a known first name
opens a name whatever word ends it: "Padre Marcelo Rossi"; and a known surname alone
is a name after most titles: "Padre Rossi", "o delegado Queiroz"); a place joined to it
("Maria Silva e São Paulo") stays. A first name of Faker's it_IT, es_ES or pt_PT lists
that is also a word ("Benigno", "Florentino") or has three letters ("Noa", "Che")
opens a name only before a surname no word spells or two of Faker's ("Benigno Casals
Godoy": surname_runs); one that is also a surname ("Rosario", "Reyes") before a known
one ("Rosario Sanguineti"). One surname of Faker's it_IT or es_ES lists that is a word
ends a name alone after a first name that is none, last in the run ("Bruno Durante");
surnames and first names joined by a hyphen are one ("Coelho-Barros", "Mia-Patrícia").
A name a firm's suffix follows is the firm's ("Santos Farias - ME", "Ana Costa S.A.").
First names after a known one end a name when the last, ending the run, is a surname
too ("Telmo Vera": surname_runs); a word before a first name may say a person ("Olá,
Rosa", "Paciente Dolores": cued_names).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from urllib.parse import unquote_plus

from ext_proc_server.sanitize.acting_names import acting_names
from ext_proc_server.sanitize.all_name_words import names_only_span
from ext_proc_server.sanitize.cued_names import cued_names
from ext_proc_server.sanitize.hits import Hit
from ext_proc_server.sanitize.named_places import (
    TITLED_FIGURES,
    ends_elided_place,
    firm_suffix_at,
    names_a_place,
    place_cut,
    places_in,
)
from ext_proc_server.sanitize.place_words import (
    FIRST_NAME_TITLES,
    LOWER_CASE_WORDS,
    NOT_PERSON,
    PLACE_OPENERS,
    STATES,
    SURNAME_TITLES,
    TITLES,
)
from ext_proc_server.sanitize.surname_runs import (
    BUILDING_LAST,
    any_first_names,
    faker_surnames,
    first_names_end,
    foreign_first_or_last,
    joined_first_name,
    joined_surname,
    lone_word_surname_end,
    surnames_end,
    word_first_name,
)
from ext_proc_server.sanitize.surnames import WORD_SURNAMES
from ext_proc_server.sanitize.wordlists import fold, word_lists

# The last word of a key that holds prose (NF-e's xObs and xTexto read as "obs" and
# "texto"); whole keys for NF-e's complementary information (infCpl, infAdFisco).
_PROSE_WORDS = frozenset(
    {"obs", "observacao", "observacoes", "observation", "observations", "note", "notes",
     "nota", "notas", "anotacao", "anotacoes", "comment", "comments", "comentario",
     "comentarios", "remark", "remarks", "memo", "description", "descricao", "message",
     "messages", "mensagem", "mensagens", "msg", "texto", "text", "body", "historico",
     "history", "justificativa", "motivo", "reason", "instrucoes", "instructions",
     "instrucao", "subject", "assunto", "summary", "resumo", "recado", "detalhes"}
)  # fmt: skip
_PROSE_KEYS = frozenset({"infcpl", "infadfisco"})
# Substrings of such keys for the body probe (field_probe): a superset.
PROBE_WORDS = (
    "obs", "observ", "note", "nota", "anotac", "comment", "coment", "remark", "memo",
    "descri", "message", "mensag", "msg", "text", "body", "histor", "justific", "motivo",
    "reason", "instruc", "subject", "assunto", "summary", "resumo", "recado", "detalhes",
    "infcpl", "infadfisco",
)  # fmt: skip


def is_free_text(words: tuple[str, ...]) -> bool:
    """Whether a key (as its lower-case words) names a free-text field."""
    return bool(words) and (words[-1] in _PROSE_WORDS or "".join(words) in _PROSE_KEYS)


_UP = "A-ZÀ-ÖØ-Þ"
_LO = "a-zß-öø-ÿ"
_CAPITALISED = rf"[{_UP}][{_LO}]+(?:['\u2019-][{_UP}]?[{_LO}]+)*"
_CAPITALS = rf"[{_UP}]{{2,}}(?:['\u2019-][{_UP}]+)*"
_PARTICLE = r"(?:d[aeo]s?|D[AEO]S?|e|E|di|del|van|von)"
# A middle or leading initial: "Paul S Edelman", "Maria J. Souza", "J.R.R. Tolkien".
_INITIAL = rf"(?:[{_UP}]\.)+|[{_UP}](?=[ ])"


def _run(word: str) -> str:
    word = rf"(?:{word}|{_INITIAL})"
    return rf"{word}(?:[ ]+(?:{_PARTICLE}[ ]+){{0,2}}{word}){{1,6}}"


# Runs of two or more capitalised words (or of words in capitals), particles between.
_RUNS = re.compile(rf"(?<![\w@./-])(?:{_run(_CAPITALISED)}|{_run(_CAPITALS)})(?![\w@-])")
_WORD = re.compile(rf"[{_UP}{_LO}'\u2019-]+")
# A capitalised word standing alone, for a surname after a lower-case title ("o padre
# Rossi"); what precedes it is checked apart, so that sre scans for the capital first.
_LONE_CAPITALISED = re.compile(rf"{_CAPITALISED}(?![\w@-])")
_PARTICLES = frozenset({"da", "de", "do", "das", "dos", "e", "di", "del", "van", "von"})


def find_names(text: str) -> list[tuple[int, int]]:
    """Where names stand in ``text`` (start, end), by the rules above."""
    if not _maybe_names(text):
        return []
    found = []
    for m in _RUNS.finditer(text):
        span = _person_in_run(text, m.start(), m.group())
        if span is not None:
            found.append(span)
    lone = _surnames_after_lower_titles(text) + cued_names(text) + acting_names(text)
    return _merged(found + lone) if lone else found


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans in order, those that overlap joined ("Cliente Maria Silva" is read both
    by its run and by its cue)."""
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if out and a < out[-1][1]:
            out[-1] = out[-1][0], max(b, out[-1][1])
        else:
            out.append((a, b))
    return out


def _surnames_after_lower_titles(text: str) -> list[tuple[int, int]]:
    """A lone known surname right after a lower-case or abbreviated title ("falar com o
    delegado Queiroz", "Prof. Abreu"); one opening a run is read with the run."""
    found = []
    for m in _LONE_CAPITALISED.finditer(text):
        at, end = m.start(), m.end()
        if at < 2 or text[at - 1] != " " or not (text[at - 2].islower() or text[at - 2] == "."):
            continue
        if text[end : end + 1] == " " and _RUNS.match(text, at):
            continue  # "o padre Rossi Bianchi": a run, read above
        before = _word_before(text, at)
        abbreviated = text[at - 2] == "." and at - 2 == text.rfind(before, 0, at) + len(before)
        if not (before.islower() or abbreviated) or fold(before) not in SURNAME_TITLES:
            continue
        if (
            _titled_surname(fold(m[0]))
            and not ends_elided_place(text, end, [fold(m[0])])
            and fold(f"{before} {m[0]}") not in TITLED_FIGURES  # "o frei Galvão", a saint
        ):
            found.append((at, end))
    return found


def name_hits(value: str, start: int = 0) -> list[Hit]:
    """Findings for the names in a free-text value that stands at ``start``: what a
    reader of fields by their keys (forms, key lines, log pairs...) adds for one."""
    return [Hit(start + a, start + b, "name") for a, b in find_names(value)]


_REFERENCE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def find_markup_names(raw: str) -> list[tuple[int, int]]:
    """``find_names`` in XML or HTML text holding references (``Jo&#227;o``,
    ``Jo&atilde;o``): read decoded, the spans given in the raw text."""
    return _find_decoded_names(raw, _REFERENCE, html.unescape) if "&" in raw else find_names(raw)


# One character percent-encoded (its UTF-8 bytes together), or "+" for a space.
_PERCENT_CHAR = re.compile(
    r"%[CDcd][0-9A-Fa-f](?:%[89ABab][0-9A-Fa-f])|%[Ee][0-9A-Fa-f](?:%[89ABab][0-9A-Fa-f]){2}"
    r"|%[Ff][0-7](?:%[89ABab][0-9A-Fa-f]){3}|%[0-9A-Fa-f]{2}|\+"
)


def find_encoded_names(raw: str) -> list[tuple[int, int]]:
    """``find_names`` in a form's or a query's value (``Jo%C3%A3o+Pereira``): read
    decoded, the spans given in the raw value."""
    return _find_decoded_names(raw, _PERCENT_CHAR, unquote_plus)


def _find_decoded_names(
    raw: str, escape: re.Pattern[str], decode: Callable[[str], str]
) -> list[tuple[int, int]]:
    decoded: list[str] = []
    spans: list[tuple[int, int]] = []  # each decoded character's raw span
    last = 0
    for m in escape.finditer(raw):
        decoded.append(raw[last : m.start()])
        spans.extend((i, i + 1) for i in range(last, m.start()))
        text = decode(m.group())
        decoded.append(text)
        spans.extend([(m.start(), m.end())] * len(text))
        last = m.end()
    decoded.append(raw[last:])
    spans.extend((i, i + 1) for i in range(last, len(raw)))
    return [(spans[a][0], spans[b - 1][1]) for a, b in find_names("".join(decoded))]


def _maybe_names(text: str) -> bool:
    """Two capitalised letters at least, one of them after a space: a cheap gate."""
    return len(text) >= 5 and " " in text and not text.islower()  # the cheaper test first


def _person_in_run(text: str, at: int, run: str) -> tuple[int, int] | None:
    words = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(run)]
    # An initial keeps its "." ("Mary E. Lewis": "E." is no "e" between two names).
    folded = [fold(w) + run[b : b + 1].strip(" ") * (len(w) == 1) for _, b, w in words]
    if " ".join(folded) in TITLED_FIGURES:
        return None
    before = _word_before(text, at)
    if fold(before) in NOT_PERSON and not (before.islower() and fold(before) in TITLES):
        return None  # "Rua Maria Aparecida", but "o presidente João Pereira"
    if ends_elided_place(text, at + len(run), folded[1:] if folded[0] in TITLES else folded):
        return None
    # "Presidente João Pereira": a title opening a run is a person's, not a street's,
    # unless the whole run is a known place ("Coronel José Dias", "Governador Luiz Rocha").
    skip = 1 if folded[0] in TITLES and len(folded) > 2 and not _bare_title(words[0][2]) else 0
    if skip and names_a_place(folded):
        return None
    cut = place_cut(folded)
    titled = bool(skip) or _is_title(before)
    # "Sargento Torres Souza": the title opening the run was passed over above.
    surname_titled = (fold(before) in SURNAME_TITLES and _is_title(before)) or (
        skip == 1 and folded[0] in SURNAME_TITLES
    )
    span = _person_in_words(
        folded[skip:cut], run, words[skip:cut], titled=titled, surname_titled=surname_titled
    )
    # "Ana Belén Barranco", "María Jesús Real Piña": names only, some words too
    skip, span = names_only_span([w for _, _, w in words[:cut]], skip, span)
    if span is None:
        return None
    end = at + words[skip + span[1]][1]
    named_ends = [at + b for (_, b, _), f in zip(words, folded, strict=True) if not _is_initial(f)]
    if _firm_named(text, end, named_ends):
        return None  # "Santos Farias - ME", "Pastor Andrade S/A": a firm's name
    return at + words[skip + span[0]][0], end


def _firm_named(text: str, end: int, word_ends: list[int]) -> bool:
    """Whether a firm's suffix follows a name ending at ``end``, or the run's last word
    but initials ("Aitor Priego Nevado S.A.": the name read stops before "Nevado")."""
    return firm_suffix_at(text, end) or (bool(word_ends) and firm_suffix_at(text, word_ends[-1]))


def _bare_title(word: str) -> bool:
    """Whether ``word`` is a title written without its accent: a first name ("Irma")."""
    return word.lower() in FIRST_NAME_TITLES


def _is_title(word: str) -> bool:
    """A title before a run ("Dr. Marcelo Rossi", "o padre Marcelo Rossi"); "seu" and
    "dom" in lower case are words ("seu Pedido")."""
    folded = fold(word)
    return folded in TITLES and not (word.islower() and folded in LOWER_CASE_WORDS)


def _person_in_words(
    folded: list[str],
    run: str,
    words: list[tuple[int, int, str]],
    *,
    titled: bool = False,
    surname_titled: bool = False,
) -> tuple[int, int] | None:
    """A person's name among a run's words (first and last index), by the rules above.
    After a title (``titled``, or one in the run: "ENTREGAR AO PADRE MARCELO ROSSI") a
    known first name opens a name whatever word ends it; after most titles
    (``surname_titled``, or one in the run: "Padre Rossi") a known surname alone does."""
    if not folded or any(f in NOT_PERSON for f in _meaning_words(folded)):
        return None
    first = next((i for i in range(len(folded)) if _opens_name(folded, i)), None)
    if first is not None and _titles_name(folded, first) and not _bare_title(words[first][2]):
        first += 1  # "Irmã Agatha Aguado"; "Irma Agatha Aguado" is a first name
    if first is not None:  # the title right before the first name ("Irmão Sol Irmã Lua")
        titled = (titled and first == 0) or (
            first > 0 and folded[first - 1] in TITLES and not _brand_title(folded, first - 1)
        )
    last = None if first is None else _name_end(folded, first, titled=titled)
    if first is not None and last is None:
        last = surnames_end(folded, first)  # "Narcisa Verdugo Campoy"
    if first is not None and last is None:
        last = lone_word_surname_end(folded, first)  # "Bruno Durante"
    if first is not None and last is None:
        last = first_names_end(folded, first)  # "Telmo Vera": a surname that is a first name
    if first is not None and last is not None:
        span = first, last
    else:
        span = (
            _initials_name(folded, run, words)
            or _titled_surnames(folded, surname_titled)
            or word_first_name(folded)
        )
    if span is None or (names_a_place(folded) and not _town_among_names(folded)):
        return None
    while span[0] > 0 and folded[span[0] - 1] in any_first_names():
        span = span[0] - 1, span[1]  # "Morena Nicolasa Balaguer", "Luz Amor Soria"
    return span


def _town_among_names(folded: list[str]) -> bool:
    """Whether a run opening with a first name is a town named as people are and name
    words ("Godofredo Viana Gaya"; "Cruz Machado Paraná" is no one's): a person's."""
    places = places_in(folded)
    inside = {i for a, b in places for i in range(a, b)}
    rest = [f for i, f in enumerate(folded) if i not in inside and f not in _PARTICLES]
    if not rest or not _opens_name(folded, 0):
        return False
    lists, surnames = word_lists(), faker_surnames()
    return all(
        (f in lists.prose_first_folded or f in lists.prose_last_folded or f in surnames)
        and not (f in NOT_PERSON or f in PLACE_OPENERS or f in STATES)
        for f in rest
    )


def _brand_title(folded: list[str], i: int) -> bool:
    """Whether a run's ``i``-th word, a title that is also a common word ("seu", "dom"),
    is its second, after a word that is no name, title or small word: a brand's
    ("Cachaça Seu Elias Ouro", "Doces Dom Bosco"), so the words after it need a known
    last name to be a person's ("Cachaça Seu Elias Pereira" is still read, and so is
    "Ligar Para Seu Elias Ouro" written in title case)."""
    if i != 1 or folded[i] not in LOWER_CASE_WORDS:
        return False
    before, lists = folded[0], word_lists()
    return not (
        before in TITLES
        or before in _SMALL_WORDS
        or before in lists.prose_first_folded
        or before in lists.prose_last_folded
    )


# Prepositions, articles and contractions a title-case sentence puts before a title.
_SMALL_WORDS = _PARTICLES | frozenset(
    {"a", "o", "as", "os", "ao", "aos", "para", "pra", "com", "por", "pelo", "pela", "sem",
     "ate", "em", "no", "na", "nos", "nas", "num", "numa", "ou", "que", "of", "to",
     "for", "with", "from", "by"}
)  # fmt: skip


def _opens_name(folded: list[str], i: int) -> bool:
    """Whether a run's ``i``-th word can be a first name: a known one, or a census first
    name that also writes a last name ("Rosa", "Aparecida", "Nelson") when the next word
    past particles is a known first or whole last name ("Rosa Souza", "Aparecida da
    Silva"), not an ordinary word ("Rosa Choque", "Rosa dos Ventos", "Nelson Mandela
    Avenue")."""
    word, lists = folded[i], word_lists()
    if word in _PARTICLES:
        return False
    if word in lists.prose_first_folded or joined_first_name(word):
        return True  # "Mia-Patrícia Correia": first names joined are one
    if word not in lists.first_or_last_folded and word not in foreign_first_or_last():
        return False
    after = next((f for f in folded[i + 1 :] if f not in _PARTICLES), None)
    # A whole last name, not a word of one: Faker's towns are "Oliveira Grande".
    return after is not None and (
        after in lists.prose_first_folded
        or after in lists.prose_last_folded
        or joined_surname(after)  # "Duarte Assunção-Pires"
    )


def _initials_name(
    folded: list[str], run: str, words: list[tuple[int, int, str]]
) -> tuple[int, int] | None:
    """Two initials or more, then a last name ("J. R. Tolkien", "J.R.R. Tolkien"): the
    initials apart, or the last name known ("U.S. Army" is no one)."""
    first = next((i for i, f in enumerate(folded) if _is_initial(f)), None)
    if first is None:
        return None
    end = next((i for i in range(first, len(folded)) if not _is_initial(folded[i])), None)
    if end is None or end - first < 2 or folded[end] in _PARTICLES:
        return None
    if any(len(f) == 1 for f in folded[first:end]):
        return None  # "U S Dollar": initials that open a name are written with a "."
    spaced = " " in run[words[first][0] : words[end - 1][1]]
    if not spaced and folded[end] not in word_lists().last_words_folded:
        return None
    return first, end


def _meaning_words(folded: list[str]) -> list[str]:
    """The words that can make a run a place's: not initials ("J. R. Tolkien"), but a
    lone one opening it ("R. Maria Aparecida" is a street); not a title before a first
    name ("Padre Marcelo Rossi"), nor a surname that is a place's word standing last
    after a name ("Maria Serra", "Ana Vale")."""
    lone = len(folded) > 1 and _is_initial(folded[0]) and not _is_initial(folded[1])
    return [
        f.rstrip(".")
        for i, f in enumerate(folded)
        if (not _is_initial(f) or (i == 0 and lone))
        and not _titles_name(folded, i)
        and not _place_surname(folded, i)
    ]


def _titles_name(folded: list[str], i: int) -> bool:
    """Whether a run's ``i``-th word is a title before a first name ("Padre Marcelo"),
    or before a known surname alone ("Padre Rossi")."""
    if folded[i] not in TITLES or i + 1 == len(folded):
        return False
    return _opens_name(folded, i + 1) or (
        folded[i] in SURNAME_TITLES and _titled_surname(folded[i + 1])
    )


def _titled_surnames(folded: list[str], titled: bool) -> tuple[int, int] | None:
    """Known surnames right after a title, with no first name before them ("Padre
    Rossi", "SARGENTO TORRES DA SILVA"), and the names after them ("Irmã Giménez
    Carlos": surname first): their first and last index. ``titled``: a title stands
    before the run ("o delegado Queiroz Lima")."""
    starts = [0] if titled else []
    starts += [i + 1 for i in range(len(folded) - 1) if folded[i] in SURNAME_TITLES]
    start = next((i for i in starts if _titled_surname(folded[i])), None)
    if start is None:
        return None
    last = start
    for i in range(start + 1, len(folded)):
        if _name_after_surname(folded[i]):
            last = i
        elif folded[i] not in _PARTICLES:
            break
    return start, last


_WORD_SURNAMES = frozenset(map(fold, WORD_SURNAMES))


def titled_surnames_only(words: list[str], titles: frozenset[str] = SURNAME_TITLES) -> bool:
    """Whether ``words`` (as written) are a title and known surnames alone, first names
    after them, as prose reads them ("Padre Rossi", "Delegado Queiroz Lima", "Prof.
    Abreu", "Irmã Giménez Carlos"): a ``name``
    field that could be a product's holds a person's then ("Pastor Alemão", "Padre
    Prado", "Dom Bosco" and known places stay). ``titles``: those that may open one."""
    folded = [fold(w) for w in words]
    if len(folded) < 2 or folded[0].rstrip(".") not in titles:
        return False
    if not _titled_surname(folded[1]) or names_a_place(folded):
        return False
    if " ".join(folded) in TITLED_FIGURES:
        return False
    return all(_name_after_surname(f) or f in _PARTICLES for f in folded[2:])


def _name_after_surname(word: str) -> bool:
    """A known last or first name, after a titled surname ("Irmã Giménez Carlos")."""
    lists = word_lists()
    return (
        word in lists.prose_last_folded or word in lists.prose_first_folded
    ) and word not in NOT_PERSON


def _titled_surname(word: str) -> bool:
    """A known surname that alone after a title is a person's: no first name (read
    above), no word (``Padre Prado``, ``Pastor Alemão``) nor place's word (``Conde``)."""
    lists = word_lists()
    return (
        len(word) > 2
        and word in lists.prose_last_folded
        and word not in lists.prose_first_folded
        and word not in lists.place_last_folded
        and word not in _WORD_SURNAMES
        and word not in NOT_PERSON
        and word not in PLACE_OPENERS
    )


def _place_surname(folded: list[str], i: int) -> bool:
    """Whether a run's ``i``-th word is a surname that is also a place's word, right
    after a first or last name and last or before another name ("Maria Serra", "Maria
    Serra da Silva", "Ana Vale e José Souza"; "Serra da Mantiqueira", "Maria Serra
    Verde" and "Maria da Serra" stay places)."""
    lists = word_lists()
    if i > 0 and folded[i] in BUILDING_LAST:
        return _building_surname(folded, i)
    if i == 0 or folded[i] not in lists.place_last_folded:
        return False
    # "Maria de Sá": no place is "de Sá" (the word is a firm's "S.A." elsewhere)
    before = i - 2 if folded[i] == "sa" and i > 1 and folded[i - 1] == "de" else i - 1
    if folded[before] in TITLES:
        return False  # "Irmã Ponte 2 de Julho": a title, though "Irma" is a first name too
    if not _is_name_word(folded[before], lists.prose_first_folded, lists.prose_last_folded):
        return False
    after = next((f for f in folded[i + 1 :] if f not in _PARTICLES), None)
    return after is None or _is_name_word(after, lists.prose_first_folded, lists.prose_last_folded)


def _building_surname(folded: list[str], i: int) -> bool:
    """Whether a run's ``i``-th word, a building's or a street's word that is a surname
    (``Hall``, ``Vila``), ends a name: last in the run, a known first name opening it
    (after a title, if one), every word between a first or last name, a particle or an
    initial ("Kristen Lori Mercado"; "Royal Albert Hall", "Pedro Vila Nova" stay)."""
    if i != len(folded) - 1:
        return False
    lists = word_lists()
    start = 1 if folded[0] in TITLES else 0
    if start >= i or folded[start] not in lists.prose_first_folded:
        return False
    return all(
        f in _PARTICLES
        or _is_initial(f)
        or _is_name_word(f, lists.prose_first_folded, lists.prose_last_folded)
        for f in folded[start + 1 : i]
    )


def _is_name_word(word: str, first: frozenset[str], last: frozenset[str]) -> bool:
    return word not in NOT_PERSON and (word in first or word in last)


def _is_initial(word: str) -> bool:
    """A letter alone ("Paul S Edelman"), or with its "." ("J.", "E.")."""
    return (len(word) == 1 and word != "e") or (len(word) == 2 and word[1] == ".")


def _name_end(folded: list[str], first: int, *, titled: bool = False) -> int | None:
    """The index of a name's last word, from its first name on: known first and last
    names, and a word after a particle ("da Cassiano") or ending the run ("Thomas
    Mitchell Echenner"); the name stops before an unknown word that ends none
    ("Andrew Chan Regarding Claim Transfer"). None without a known last name or a
    particle after the first name, unless a title stands before it ("Padre Marcelo
    Rossi": the title says a person)."""
    lists = word_lists()
    first_names, last_words = lists.prose_first_folded, lists.last_words_folded
    last = None
    surnamed = False
    for i in range(first + 1, len(folded)):
        word = folded[i]
        if word == "e" and not surnamed:
            break  # "Ana e Souza", "Maria e João": two people, or a name and a word
        if word in _PARTICLES or _is_initial(word):
            continue  # "da Silva", "Paul S Edelman", "Maria J. Souza"
        after_particle = folded[i - 1] in _PARTICLES or _is_initial(folded[i - 1])
        surname = word in last_words or joined_surname(word)  # "Coelho-Barros"
        surname = surname or (word in BUILDING_LAST and _building_surname(folded, i))
        if word in first_names or surname or after_particle or i == len(folded) - 1:
            last = i
            surnamed = surnamed or after_particle or surname
        else:
            break
    return last if surnamed or titled else None


def _word_before(text: str, at: int) -> str:
    """The word just before ``at``, across spaces and a "." ("Av. ")."""
    end = at
    while end > 0 and text[end - 1] in " .":
        end -= 1
    start = end
    while start > 0 and (text[start - 1].isalpha()):
        start -= 1
    return text[start:end]
