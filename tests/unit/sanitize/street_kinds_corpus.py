"""Brazil's streets of every kind Correios' DNE names ("tipos de logradouro"), none
written on the project: Faker pt_BR street names with their prefix replaced by each
type, numbered ("Servidão Ana Lima, 12") and not, placed in a person's JSON object, a
form beside a name and prose notes (address_corpus's); each counted as a leak when it
comes out of the sanitizer whole.

The types are the DNE's as the IPEA's enderecobr package (R/padronizar_tipos_de_logradouro.R)
and Faker pt_BR's street_prefixes list them, reproduced here.

``python -m tests.unit.sanitize.street_kinds_corpus`` prints the leaks per type and class.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Iterator
from urllib.parse import urlencode

from faker import Faker

from ext_proc_server.sanitize import Sanitizer
from tests.unit.sanitize.address_corpus import ADDRESS_NOTES, leaked
from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

# Correios' DNE types, written as a street's sign writes them (enderecobr expands its
# abbreviations to these; "Via", "Rua" and the rest of Faker's prefixes among them).
DNE_TYPES = (
    "Acampamento", "Acesso", "Adro", "Aeroporto", "Alameda", "Alto", "Área", "Artéria",
    "Atalho", "Avenida", "Baixa", "Beco", "Bloco", "Bosque", "Boulevard", "Buraco", "Cais",
    "Calçada", "Campo", "Chácara", "Colônia", "Condomínio", "Conjunto", "Distrito",
    "Elevada", "Esplanada", "Estação", "Estância", "Estrada", "Favela", "Fazenda", "Feira",
    "Ferrovia", "Fonte", "Forte", "Galeria", "Granja", "Ilha", "Jardim", "Ladeira", "Lago",
    "Lagoa", "Largo", "Loteamento", "Módulo", "Monte", "Morro", "Núcleo", "Parque",
    "Passagem", "Pátio", "Porto", "Praça", "Praia", "Quadra", "Recanto", "Residencial",
    "Reta", "Rodovia", "Rótula", "Rua", "Servidão", "Setor", "Sítio", "Subida", "Terminal",
    "Travessa", "Trecho", "Trevo", "Trincheira", "Túnel", "Unidade", "Vala", "Vale",
    "Variante", "Vereda", "Via", "Viaduto", "Viela", "Vila", "Zigue-Zague",
)  # fmt: skip
SEEDS = (1, 2)
PER_TYPE = 4


def _json(value: str) -> str:
    return json.dumps({"cliente": {"nome": "Ana Lima", "endereco": value}}, ensure_ascii=False)


def placements(seed: int, per_type: int = PER_TYPE) -> Iterator[tuple[str, str, str, dict]]:
    """(type, class, value, exchange's parts) of Faker streets re-prefixed by each type."""
    fake = Faker("pt_BR")
    fake.seed_instance(seed)
    for kind in DNE_TYPES:
        for _ in range(per_type):
            name = fake.street_name().split(" ", 1)[1]
            number = fake.building_number()
            for form, value in (
                ("numbered", f"{kind} {name}, {number}"),
                ("no number", f"{kind} {name}"),
            ):
                yield kind, f"json ({form})", value, {"body": _json(value)}
                pairs = [("nome", "Ana Lima"), ("endereco", value)]
                yield (
                    kind,
                    f"form ({form})",
                    value,
                    {
                        "body": urlencode(pairs),
                        "content_type": "application/x-www-form-urlencoded",
                    },
                )
                for note in ADDRESS_NOTES:
                    text = note.format(a=value, s="")
                    yield (
                        kind,
                        f"prose ({form})",
                        value,
                        {
                            "body": text,
                            "content_type": "text/plain; charset=utf-8",
                        },
                    )


def leaks(
    s: Sanitizer, seeds: tuple[int, ...] = SEEDS, per_type: int = PER_TYPE
) -> tuple[Counter[tuple[str, str]], Counter[str]]:
    """Leaks per (type, class), and placements per class."""
    found, placed = Counter[tuple[str, str]](), Counter[str]()
    for seed in seeds:
        for kind, cls, value, parts in placements(seed, per_type):
            placed[cls] += 1
            if leaked(value, s.sanitize(request_exchange(**parts)).request.body.decode()):
                found[kind, cls] += 1
    return found, placed


if __name__ == "__main__":
    found_by, placed_by = leaks(sanitizer())
    per_class = Counter[str]()
    for (kind, cls), count in sorted(found_by.items()):
        per_class[cls] += count
        print(f"{kind:14} {cls:22} {count:4}")
    for cls in sorted(placed_by):
        print(f"{'all':14} {cls:22} {per_class[cls]:4} / {placed_by[cls]:5}")
    print(f"all {sum(found_by.values())} / {sum(placed_by.values())}", file=sys.stderr)
