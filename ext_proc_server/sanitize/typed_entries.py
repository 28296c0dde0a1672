"""Typed entries: objects whose value is personal or not by what a sibling member names.

``{"tipo": "telefone", "valor": "..."}``, ``{"type": "RG", "number": "..."}``, and
Google's address components, ``{"long_name": "1578", "short_name": "1578",
"types": ["street_number"]}``: the value members are what the type member's value names
(:data:`TYPED` until that value is read), whatever their own names would say.

Name/value pairs are typed entries too, their name member saying what the value is:
HAR's ``{"name": "nome", "value": "..."}``, Pix's ``infoAdicionais`` ``{"nome":
"Cliente", "valor": "..."}``, ``{"key": "cpf", "value": ...}``, ``{"field": "email",
"value": ...}``, a Kubernetes container's ``env`` ``{"name": "USER_NAME", "value": ...}``.
"""

from __future__ import annotations

from collections.abc import Sequence

from ext_proc_server.sanitize.secret_keys import Verdict

TYPED = Verdict("typed")
# Field names folded to their compact words (fields.key_words, joined).
# "typ"/"val": Azure App Service's claims ({"typ": ".../identity/claims/surname", "val": …}).
_TYPE_KEYS = frozenset({"tipo", "type", "types", "kind", "categoria", "category", "tipocontato",
                        "tipodocumento", "documenttype", "contacttype", "typ"})  # fmt: skip
_VALUE_KEYS = frozenset({"valor", "value", "numero", "number", "nro", "num", "conteudo",
                         "contato", "contact", "dado", "descricao", "val"})  # fmt: skip
# A pair's name member: what its value member is.
_PAIR_NAME_KEYS = frozenset({"name", "nome", "key", "chave", "field", "campo", "fieldname",
                             "nomecampo", "attribute", "atributo", "label", "rotulo"})  # fmt: skip
# A pair has its name, its value and a comment at most (HAR's): a bigger object with a
# "chave" and a "valor" (a Pix charge: its key, its amount) is a record, not a pair.
_PAIR_MAX_MEMBERS = 3
# One value written twice (Google's address components).
_NAME_PAIR = frozenset({"longname", "shortname"})
# Google's address component types that locate one address, as the field name that says
# so; the others (locality, administrative areas, country) name a region. A sublocality
# or neighborhood is the address's bairro in Brazil ("Bela Vista"), replaced as a
# bairro is (before 2026-12-07 it stayed).
_COMPONENT_FIELDS = {
    "neighborhood": "bairro",
    "sublocality": "bairro",
    "sublocality_level_1": "bairro",
    "street_address": "endereco",
    "street_number": "street_number",
    "route": "logradouro",
    "premise": "endereco",
    "subpremise": "complemento",
    "postal_code": "cep",
    "postal_code_suffix": "cep",
}


def typed_members(compact_keys: Sequence[str]) -> tuple[int, tuple[int, ...]] | None:
    """The index of an entry's type member and those of its value members, if it is a
    typed entry: a few members, one naming a type, and one naming a value (or Google's
    long and short name); or a name/value pair, whose name member stands for the type."""
    if not 2 <= len(compact_keys) <= 6:
        return None
    types = [i for i, c in enumerate(compact_keys) if c in _TYPE_KEYS]
    values = [i for i, c in enumerate(compact_keys) if c in _VALUE_KEYS]
    names = tuple(i for i, c in enumerate(compact_keys) if c in _NAME_PAIR)
    if not types and len(values) == 1 and len(compact_keys) <= _PAIR_MAX_MEMBERS:
        named = [i for i, c in enumerate(compact_keys) if c in _PAIR_NAME_KEYS]
        return (named[0], (values[0],)) if len(named) == 1 else None
    if len(types) != 1:
        return None
    if len(values) == 1 and not names:
        return types[0], (values[0],)
    if not values and len(names) == 2:
        return types[0], names
    return None


def is_pair_name(compact_key: str) -> bool:
    """Whether a typed entry's type member is a pair's name (``name``, ``key``...)."""
    return compact_key in _PAIR_NAME_KEYS


def with_typed(
    verdicts: tuple[str | None, ...], members: tuple[int, tuple[int, ...]] | None
) -> tuple[str | None, ...]:
    """``verdicts`` with :data:`TYPED` for each value member of a typed entry. A value
    member whose own name gave a class keeps it, unless the entry is Google's pair."""
    if members is None:
        return verdicts
    values = members[1]
    pair = len(values) == 2
    out = list(verdicts)
    for at in values:
        if pair or out[at] is None:
            out[at] = TYPED
    return tuple(out)


def type_field(kind: object) -> str | None:
    """The field name a type member's value stands for: the value itself ("telefone",
    "CELULAR", "RG"), or for a list of Google's types the one that locates an address."""
    if type(kind) is str:
        if len(kind) > 40 and "/" in kind:  # a claim's URI: its last part names it
            kind = kind.rpartition("/")[2]
        return kind if kind and len(kind) <= 40 else None
    if type(kind) is list:
        for item in kind[:8]:
            if type(item) is str and item in _COMPONENT_FIELDS:
                return _COMPONENT_FIELDS[item]
    return None
