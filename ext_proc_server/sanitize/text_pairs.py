"""Keys and values quoted inside text: a GraphQL error echoing the variables it
refused (``Variable "$input" got invalid value { nome: "Maria Souza", cpf: "…" }``,
graphql-js; older servers wrote JSON), a validation message quoting a document, a log
line. The text is no document, so no walker reads it by its keys; each quoted value
is read here as the field its key names, in the place its keys together make (a
``cpf`` beside ``nome`` makes a person's object).
"""

from __future__ import annotations

import re

from ext_proc_server.sanitize import fields
from ext_proc_server.sanitize.free_text_names import name_hits
from ext_proc_server.sanitize.hits import Hit
from ext_proc_server.sanitize.run import Run, is_token

_PAIR = re.compile(
    r"(?P<quote>[\"']?)(?P<key>[A-Za-z_$][\w$-]{0,40})(?P=quote)[ \t]*:[ \t]*"
    r"\"(?P<value>(?:[^\"\\\r\n]|\\.){1,200})\""
)


def may_hold(text: str) -> bool:
    """Whether ``text`` may quote a key's value (C substring searches)."""
    return '":' in text or ': "' in text or ':"' in text


def pair_hits(run: Run, text: str) -> list[Hit]:
    """Findings for the quoted values whose keys name a personal field."""
    pairs = list(_PAIR.finditer(text))
    if not pairs:
        return []
    place = fields.object_place(fields.ROOT, "", frozenset(m.group("key") for m in pairs))
    rules = run.scanner.field_rules
    hits = []
    for m in pairs:
        cls = fields.field_verdict(rules, place, m.group("key"), [])
        value = m.group("value")
        if cls is None or "\\" in value or is_token(value):
            continue
        if cls is fields.PROSE:  # "observacao": "João Pereira ligou": its names
            hits.extend(name_hits(value, m.start("value")))
            continue
        if type(cls) is fields.Verdict and not fields.value_fits(cls, value):
            continue
        hits.append(Hit(m.start("value"), m.end("value"), fields.resolved(cls)))
    return hits
