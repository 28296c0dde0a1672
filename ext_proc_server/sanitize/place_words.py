"""Words that name a place, an institution or a business, or open a place's name: a run
of capitalised words holding one is no person's (free_text_names), and no such word is
read as a first name (wordlists: the census counts people named Santa, Santo, Natal).
"""

from __future__ import annotations

# Words that make a run a place's or a business's name, in it or just before it.
NOT_PERSON = frozenset(
    {
        # places
        "rua", "r", "avenida", "av", "travessa", "alameda", "praca", "largo", "rodovia",
        "estrada", "viela", "beco", "ladeira", "bairro", "jardim", "jd", "vila", "parque",
        "condominio", "residencial", "edificio", "ed", "conjunto", "quadra", "setor",
        "loteamento", "fazenda", "sitio", "chacara", "sao", "santa", "santo", "sta", "sto",
        "nossa", "senhora", "rio", "porto", "ponte", "praia", "morro", "lagoa", "serra",
        "vale", "ilha", "cidade", "municipio", "distrito", "regiao", "estado", "aeroporto",
        "estacao", "terminal", "rodoviaria", "shopping", "centro", "street", "st", "avenue",
        "ave", "road", "rd", "lane", "square", "park", "lake", "mount", "fort", "port",
        "saint", "city", "county", "station", "airport", "bridge",
        # institutions named after people
        "escola", "colegio", "universidade", "faculdade", "instituto", "fundacao",
        "hospital", "clinica", "igreja", "paroquia", "capela", "museu", "teatro", "biblioteca",
        "estadio", "ginasio", "creche", "escritorio", "cartorio", "forum", "tribunal",
        "delegacia", "prefeitura", "camara", "secretaria", "ministerio", "presidente",
        "governador", "marechal", "general", "coronel",
        "dom", "padre", "frei", "papa", "rei", "princesa", "duque", "visconde", "barao",
        "senador", "deputado", "prefeito", "vereador", "bom", "bela", "belo", "nova", "novo",
        "conde", "school", "college", "university", "institute", "foundation", "church",
        "museum", "theatre", "theater", "hall", "center", "centre", "memorial", "courthouse",
        "building", "award", "prize",
        # businesses
        "ltda", "lda", "me", "epp", "eireli", "sa", "cia", "companhia", "comercio", "industria",
        "servicos", "transportes", "distribuidora", "representacoes", "empreendimentos",
        "participacoes", "construtora", "incorporadora", "imobiliaria", "padaria",
        "farmacia", "drogaria", "mercado", "supermercado", "mercearia", "restaurante",
        "lanchonete", "bar", "cafe", "pizzaria", "churrascaria", "loja", "lojas", "magazine",
        "posto", "oficina", "auto", "pecas", "materiais", "moveis", "confeccoes", "modas",
        "boutique", "salao", "studio", "estudio", "academia", "pet", "shop", "store",
        "market", "inc", "llc", "ltd", "corp", "co", "group", "grupo", "holding", "bank",
        "banco", "hotel", "pousada", "motel", "editora", "livraria", "associacao",
        "cooperativa", "sindicato", "clube", "club", "time", "equipe", "team", "brothers",
        "irmaos", "filhos", "sons", "family", "familia",
        # days, months and holidays written with a name ("Dia de São João")
        "dia", "day", "festa", "natal", "pascoa", "carnaval",
        # what ends a town's name ("Jesus do Sul", "Aurora de Minas")
        "sul", "norte", "oeste", "leste", "minas", "goias",
    }
)  # fmt: skip

# Titles and forms of address before a person's name, folded (Brazil's clergy, forces,
# police, courts, offices and everyday address: "Padre Marcelo Rossi", "Seu Jorge
# Chaves", "Sargento João Torres", "Dra. Ana Campos"): a known first name after one
# opens a name, whatever its last word (free_text_names, fields). Several name streets
# and places too ("Av. Presidente Vargas", "Padre Bernardo"): a place's word or a known
# place still keeps the run.
TITLES = frozenset(
    {"presidente", "presidenta", "governador", "governadora", "senador", "senadora",
     "deputado", "deputada", "prefeito", "prefeita", "vereador", "vereadora", "ministro",
     "ministra", "secretario", "secretaria", "marechal", "general", "coronel", "capitao",
     "major", "tenente", "sargento", "cabo", "soldado", "comandante", "almirante",
     "brigadeiro", "delegado", "delegada", "inspetor", "inspetora", "escrivao", "padre",
     "frei", "dom", "madre", "irma", "irmao", "pastor", "pastora", "bispo", "apostolo",
     "reverendo", "monsenhor", "cardeal", "diacono", "juiz", "juiza", "desembargador",
     "desembargadora", "promotor", "promotora", "procurador", "procuradora", "doutor",
     "doutora", "dr", "dra", "professor", "professora", "prof", "profa", "mestre", "sr",
     "sra", "srta", "senhor", "senhora", "dona", "seu"}
)  # fmt: skip
# Brazil's states of one word, folded: one after a town is its state ("Cruz Machado
# Paraná"), not a surname.
STATES = frozenset(
    {"acre", "alagoas", "amapa", "amazonas", "bahia", "ceara", "goias", "maranhao", "para",
     "paraiba", "parana", "pernambuco", "piaui", "rondonia", "roraima", "sergipe",
     "tocantins", "brasil", "brazil"}
)  # fmt: skip
# Titles whose folded spelling, written without the accent, is a first name: "Irma
# Giménez" is a woman's name, "Irmã Dulce" a nun's title.
FIRST_NAME_TITLES = frozenset({"irma"})
# Titles that are common words in lower case ("seu pedido", "dom de cantar", "cabo
# USB", "a secretaria"): a title only when capitalised.
LOWER_CASE_WORDS = frozenset({"seu", "dom", "cabo", "secretaria", "mestre", "major"})
# Titles after which a known surname alone is a person's ("Padre Rossi", "Sargento
# Torres", "Delegado Queiroz"): not those that are words or name places, streets and
# brands as often as people ("Dom Bosco", "Cabo Frio", "General Motors", "Mestre Cuca",
# "Marechal Deodoro", "Brigadeiro Faria Lima", "Presidente Vargas").
SURNAME_TITLES = TITLES - {
    "dom", "cabo", "seu", "secretaria", "secretario", "mestre", "major", "general",
    "marechal", "almirante", "brigadeiro", "presidente", "presidenta",
}  # fmt: skip

# Words that open a place's name: after "e" or a particle they end a person's name
# ("Maria Silva e São Paulo", "João Pereira de Santa Catarina").
PLACE_OPENERS = frozenset(
    {"sao", "santa", "santo", "sta", "sto", "nossa", "rio", "porto", "belo", "bela", "bom",
     "nova", "novo", "vila", "jardim", "parque", "bairro", "cidade", "rua", "avenida",
     "av", "travessa", "alameda", "praca", "rodovia", "estrada", "praia", "ilha", "serra",
     "lagoa", "fazenda", "sitio", "chacara", "escola", "hospital", "igreja", "shopping",
     "centro", "saint", "san", "los", "las", "new", "fort", "port", "mount", "lake"}
)  # fmt: skip

# Words of NOT_PERSON that open a person's name in an ambiguous ``name`` field: titles
# ("Coronel Torres", "Dom Pedro"), "Natal" (a first name the census counts), "Sá" (a
# surname a name may open with), "R." (an initial there: "R. Torres"; in prose it opens
# a street's name) and "Ed" without its "." (a first name; "Ed." is an edifício).
_OPEN_PEOPLES_NAMES = frozenset(
    {"presidente", "governador", "marechal", "general", "coronel", "dom", "padre", "frei",
     "papa", "rei", "princesa", "duque", "visconde", "barao", "senador", "deputado",
     "prefeito", "vereador", "conde", "natal", "sa", "r", "ed"}
)  # fmt: skip
_NAME_FIELD_OPENERS = NOT_PERSON - _OPEN_PEOPLES_NAMES


def opens_place_name(first_word: str) -> bool:
    """Whether a value opening with ``first_word`` (folded, as written: "hotel", "av.")
    names a place, an institution or a business rather than a person: "Hotel Torres",
    "Farmácia Bezerra", "Rua Medeiros", "Auto Posto Silva" in a ``name`` field, where a
    known last name alone otherwise makes two words a person's."""
    bare = first_word.rstrip(".")
    return bare in _NAME_FIELD_OPENERS or (bare == "ed" and first_word != bare)
