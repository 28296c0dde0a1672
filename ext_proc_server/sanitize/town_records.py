"""Whether a record is a town's by its shape: IBGE's localidades API writes a
municipality or a district as ``{"id": 4212106, "nome": "Paulo Lopes", "microrregiao":
{…}, "regiao-imediata": {…}}`` and holds one under ``municipio``; about 400 of Brazil's
municipalities are named as people are (``Paulo Lopes``, ``Pedro Gomes``, ``Luis
Eduardo Magalhães``), and read as a person's under ``nome`` a mock answered another
town. Such a record is no person's: its name is the town's and stays (fields.object_place).
A person's record never holds IBGE's regions, and one marked as a person's (a ``cpf``,
a birth date) stays a person's whatever its holder's name."""

from __future__ import annotations

from collections.abc import Iterable, Set

# IBGE's members only a place's record holds (compacted: "regiao-imediata" too).
_REGION_MEMBERS = frozenset(
    {"microrregiao", "mesorregiao", "regiaoimediata", "regiaointermediaria"}
)  # fmt: skip
# Names holding a town's record in IBGE's answers ("municipio": {"id": …, "nome": …}),
# alone: a "municipioNascimento" or "codigoMunicipio" names no record.
_TOWN_HOLDERS = frozenset(
    {"municipio", "municipios", "distrito", "distritos", "subdistrito", "subdistritos"}
)  # fmt: skip


def names_town(holder: Iterable[str], marks: Set[str]) -> bool:
    """Whether a record held by a name of words ``holder``, with members whose names
    compacted are ``marks``, is a town's (or a district's) as IBGE writes one."""
    if not marks.isdisjoint(_REGION_MEMBERS):
        return True
    return "".join(holder) in _TOWN_HOLDERS
