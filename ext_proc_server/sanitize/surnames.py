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
    "Bittencourt", "Brandão", "Brum", "Bueno", "Cabral", "Calixto", "Cerqueira",
    "Coutinho", "Couto", "Dantas", "Diniz", "Dutra", "Fagundes", "Feijó", "Feitosa",
    "Ferraz", "Fialho", "Fontoura", "Freire", "Galvão", "Godinho", "Godoy", "Guedes",
    "Guimarães", "Gusmão", "Holanda", "Lacerda", "Lessa", "Lins", "Mattos", "Medeiros",
    "Meireles", "Mello", "Meneses", "Menezes", "Motta", "Muniz", "Nóbrega", "Padilha",
    "Pedrosa", "Pimentel", "Portela", "Prates", "Queiroz", "Quintana", "Rabelo",
    "Ramalho", "Resende", "Seixas", "Sena", "Sobral", "Souto", "Tenório", "Toledo",
    "Toscano", "Uchoa", "Valadares", "Veloso", "Vidal", "Vilela", "Xavier", "Ximenes",
)  # fmt: skip

# Common Brazilian surnames that are also ordinary words (``chaves`` keys, ``prado``
# meadow, ``lobo`` wolf, ``cordeiro`` lamb): left out above, so ``José Chaves Prado`` and
# ``Carlos Lobo`` in a note went out. They end a name only where the list above does
# (after a known first name, capitalised, in prose and URLs), never decide an ambiguous
# ``name`` field alone and are never drawn as pseudonyms: ``o prado``, ``Chaves Gold``
# and ``Rua das Chaves`` stay. Non-words from the same check join the list above.
WORD_SURNAMES = (
    "Arruda", "Bandeira", "Barata", "Bispo", "Bravo", "Calado", "Castelo", "Chaves",
    "Cordeiro", "Falcão", "Fontes", "Frade", "Frota", "Lobo", "Louro", "Monte", "Mourão",
    "Paixão", "Paredes", "Pessoa", "Pestana", "Pontes", "Prado", "Quaresma", "Raposo",
    "Rebelo", "Romano", "Salgado", "Sardinha", "Sobrinho", "Teles", "Bragança",
)  # fmt: skip

# Surnames that are words of place_words (``Serra``, ``Vale``, ``Porto``): a run holding
# one is a place's ("Serra da Mantiqueira", "Vale do Anhangabaú"), but one standing last,
# right after a known first or last name, ends a person's: ``Maria Serra``, ``Ana Vale``.
PLACE_SURNAMES = ("Câmara", "Conde", "Duque", "Estrada", "Ponte", "Porto", "Sá", "Serra", "Vale")

# Surnames that are words of a building, a business or a street (place_words): ``Hall``,
# ``Church``, ``Park``, ``Lane``, ``Day`` (Faker's en_US), ``Mercado`` (en_US, es_ES),
# ``Vila`` (es_ES, Portugal's). Stricter than those above: one ends a name only last in
# a run that is a name up to it, a known first name before it (``Jesse Hall``, ``Kristen
# Lori Mercado``, ``Pedro Vila``); ``Royal Albert Hall``, ``Pedro Vila Nova``, ``Rua
# Pedro Vila`` and ``Vila Maria`` stay places.
BUILDING_SURNAMES = ("Church", "Day", "Hall", "Lane", "Mercado", "Park", "Vila")

# Words of the Brazilian Portuguese spelling dictionary (Debian's ``wbrazilian``, lower
# case) that Faker's it_IT and es_ES lists hold as surnames: ``Alegre``, ``Amor``,
# ``Mesa``, ``Vento``. The rest of those lists (Rossi, Bianchi, Esposito, García's
# kin) are last names in prose and URLs as pt_PT's are: Brazil's Italian and Spanish
# surnames (``Padre Marcelo Rossi``) went out.
FOREIGN_SURNAME_WORDS = frozenset(
    {"abate", "abril", "aguado", "agudo", "alamo", "alegre", "alegria", "altera",
     "amador", "amigo", "amo", "amor", "amores", "angulo", "aragones", "arco", "arcos",
     "arenas", "armas", "arribas", "barba", "barco", "barranco", "barriga", "berre",
     "borras", "bravo", "burgos", "bustos", "cabanas", "cabo", "cal", "calvo", "campo",
     "canas", "cano", "caro", "carrasco", "carro", "casado", "casal", "casares", "casas",
     "cases", "cassara", "catala", "cerda", "cerro", "chaves", "checa", "chico", "coca",
     "comas", "conde", "conte", "correr", "cortes", "cortina", "crespo", "criado",
     "dona", "duque", "durante", "eco", "escalona", "escriva", "espada", "esteve",
     "ferrando", "ferrara", "frias", "frutos", "garrido", "grau", "guarana", "guardia",
     "heras", "jurado", "lago", "laguna", "lobo", "luzi", "mancebo", "manso", "mas",
     "mascaro", "matas", "mate", "mesa", "miro", "moles", "monaco", "monte", "muro",
     "napolitano", "nevado", "nino", "oliva", "ortese", "palacio", "palacios", "palma",
     "pardo", "paredes", "patino", "penas", "pera", "peralta", "pino", "pintor", "plana",
     "planas", "polo", "pomares", "pombo", "porta", "posada", "prado", "praga", "quero",
     "real", "redondo", "reina", "rico", "rio", "roca", "roda", "roma", "romano",
     "rosado", "sala", "salgado", "salva", "salvo", "seco", "segui", "segura", "serao",
     "serra", "sola", "sole", "soprano", "tirado", "toldo", "tome", "tomei", "toro",
     "torre", "toso", "tosto", "valera", "vara", "veneziano", "vento", "verdugo",
     "verga", "vespa", "vila", "viola", "vives", "volta"}
)  # fmt: skip


def foreign_surnames() -> tuple[str, ...]:
    """Faker's Italian and Spanish surnames, every capitalised word of each."""
    from faker.providers.person.es_ES import Provider as SpanishPerson
    from faker.providers.person.it_IT import Provider as ItalianPerson

    names = (*ItalianPerson.last_names, *SpanishPerson.last_names)
    return tuple(w for n in names for w in n.split() if w[0].isupper())


# Faker's it_IT and es_ES first names that are lower-case words of ``wbrazilian``
# (``Amor``, ``Luz``, ``Pastor``, ``Santos``) or read as words, places, saints' feasts
# and nicknames more than as names (``America``, ``Corona``, ``Esperanza``, ``Remedios``,
# ``Rafa``, ``Pier``): kept out of the first names they add (``foreign_first_names``).
FOREIGN_FIRST_NAME_WORDS = frozenset(
    {"abril", "adora", "alma", "amada", "amador", "amando", "amor", "amparo", "aura",
     "benigna", "benigno", "chiara", "concha", "coral", "cruz", "daria", "del", "durante",
     "ema", "encarna", "evita", "fito", "florentino", "franco", "gala", "galo", "gema",
     "liberto", "luz", "mar", "marcial", "modesta", "modesto", "morena", "moreno", "nino",
     "paca", "pacifica", "pastor", "pastora", "paz", "pepita", "pia", "pilar", "pio",
     "primitiva", "primitivo", "regulo", "reina", "rico", "rolando", "romana", "rosa",
     "sabatino", "santos", "serena", "severo", "sol", "sole", "tecla", "urbano", "violeta",
     # words, places, feasts, brands and nicknames
     "africa", "america", "angeles", "anunciacion", "ascension", "asuncion", "azahar",
     "azucena", "ambar", "candela", "candelas", "caridad", "chus", "concepcion", "corona",
     "dani", "encarnacion", "esperanza", "estrella", "felicidad", "greca", "inmaculada",
     "javi", "kike", "lope", "manu", "maxi", "milagros", "natividad", "nico", "nieves",
     "perla", "piedad", "pier", "pili", "purificacion", "quique", "rafa", "rembrandt",
     "remedios", "salud", "salvi", "samu", "seve", "soledad", "tere", "trini", "trinidad",
     "visitacion"}
)  # fmt: skip


def foreign_first_names() -> tuple[str, ...]:
    """Faker's Italian, Spanish and Portuguese first names, every capitalised word of
    each: Portugal's (``Duarte``, ``Nuno``, ``Martim``, ``Constança``) are in neither
    Brazilian list."""
    from faker.providers.person.es_ES import Provider as SpanishPerson
    from faker.providers.person.it_IT import Provider as ItalianPerson
    from faker.providers.person.pt_PT import Provider as PortuguesePerson

    names = (
        *ItalianPerson.first_names,
        *SpanishPerson.first_names,
        *PortuguesePerson.first_names,
    )
    return tuple(w for n in names for w in n.split() if w[0].isupper())


# First names that are ordinary words in no Faker first-name list (``Hope``, ``Will``,
# ``Pérola``) or left out of them as words (``Luz``, ``Graça``): a name only before a
# surname no word spells (``Hope Smith``, ``Will Turner``) or after a word that says a
# person (``Olá, Rosa``, ``Paciente Dolores``: cued_names), never drawn as pseudonyms.
WORD_FIRST_NAMES = (
    "Amparo", "Aurora", "Dolores", "Dores", "Estrela", "Glória", "Graça", "Luz",
    "Pérola", "Rosa", "Socorro", "Hope", "Will", "Faith", "Joy", "Grace", "Rose", "Mark",
    "Bill", "Frank", "Dawn", "Holly", "Ruby", "Iris", "Ivy",
)  # fmt: skip
