"""Common Brazilian surnames that neither of Faker's Portuguese lists has (pt_BR's 102,
pt_PT's 96): without them ``Francisca Bezerra`` in a note, NF-e's ``infCpl`` or a search
query fit no name and went out.

No installable list of Brazilian surnames with their counts exists: IBGE published
surname counts only with the 2022 census (its "Nomes no Brasil" site, not a package);
``names-dataset`` is a 55 MB wheel that takes 3.2 GB to load, built from leaked user
data; ``mimesis``'s pt-br list (1,652) reads as a genealogy sample holding words
(``Seguro``, ``Suave``, ``Prata``, ``Curitiba``), Scandinavian patronymics and ``S``,
and lacks ``Aguiar``, ``Pimentel``, ``Galvão``, ``Feitosa``; ``pt-name-gen``'s 586 "last
names" mix first names and places (``Clara Farias``, ``São Pedro``). So the list below
is chosen by hand, common Brazilian surnames each checked to be no common word: none
but ``Bezerra`` is a lower-case word of the Brazilian Portuguese spelling dictionary
(Debian's ``wbrazilian``), and ``bezerra`` (a female calf) is not written capitalised
after a first name. None is a word of ``place_words``. Each ends a name only after a
first name (in prose and URLs; in an ambiguous ``name`` field after a first name that
also writes a last name, ``Rosa Bastos``), never alone: ``Sobral``, ``Lins``,
``Resende``, ``Toledo`` name towns too, and a known place named like a person
(``Afonso Bezerra``, ``Presidente Dutra``: municipalities) is kept whole. Pseudonyms
never draw them (``wordlists``).
"""

from __future__ import annotations

BRAZILIAN_SURNAMES = (
    "Aguiar", "Alcântara", "Aquino", "Barreto", "Barroso", "Bastos", "Bezerra",
    "Bittencourt", "Brandão", "Brum", "Bueno", "Cabral", "Calixto", "Cerqueira", "Couto",
    "Coutinho", "Dantas", "Diniz", "Dutra", "Fagundes", "Feitosa", "Fialho", "Freire",
    "Galvão", "Godinho", "Godoy", "Guedes", "Guimarães", "Gusmão", "Holanda", "Lacerda",
    "Lessa", "Lins", "Mattos", "Medeiros", "Meireles", "Mello", "Menezes", "Motta",
    "Muniz", "Nóbrega", "Padilha", "Pimentel", "Portela", "Queiroz", "Rabelo", "Resende",
    "Sena", "Sobral", "Tenório", "Toledo", "Uchoa", "Veloso", "Vidal", "Xavier", "Ximenes",
)  # fmt: skip
