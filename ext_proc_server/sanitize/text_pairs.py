"""Keys and values quoted inside text: a GraphQL error echoing the variables it
refused (``Variable "$input" got invalid value { nome: "Maria Souza", cpf: "…" }``,
graphql-js; older servers wrote JSON), a validation message quoting a document, a log
line. The text is no document, so no walker reads it by its keys; each quoted value
is read here as the field its key names, in the place its keys together make (a
``cpf`` beside ``nome`` makes a person's object).
"""

from __future__ import annotations

import re

from ext_proc_server.sanitize import cpf_or_cnpj, fields
from ext_proc_server.sanitize.free_text_names import name_hits
from ext_proc_server.sanitize.graphql import find_graphql_arguments, is_graphql
from ext_proc_server.sanitize.hits import Hit, resolve
from ext_proc_server.sanitize.run import Run, is_token

# A key, bare or quoted, then ":" (JSON, a JavaScript or Python object, YAML's flow
# style) or "=>" (a PHP array, a Ruby hash, a Perl hash); then its value, in double or
# single quotes.
_PAIR = re.compile(
    r"(?P<quote>[\"']?)(?P<key>[A-Za-z_$][\w$-]{0,40})(?P=quote)[ \t]*(?::|=>)[ \t]*"
    r"(?:\"(?P<value>(?:[^\"\\\r\n]|\\.){1,200})\""
    r"|'(?P<single>(?:[^'\\\r\n]|\\.){1,200})')"
)


def may_hold(text: str) -> bool:
    """Whether ``text`` may quote a key's value (C substring searches)."""
    return (
        '":' in text
        or ': "' in text
        or ':"' in text
        or "':" in text
        or ": '" in text
        or "=> " in text
        or "=>'" in text
        or '=>"' in text
    )


def quoted_hits(run: Run, text: str) -> list[Hit]:
    """Findings for a string's quoted values: a GraphQL document's (a JSON request's
    ``query``) read as the GraphQL reader reads one, by its arguments' names and the
    field they call (a person's diagnoses in ``criarPaciente(obs: "...")``), any
    other text's by the keys before its values (``pair_hits``)."""
    if is_graphql(text):
        return resolve(find_graphql_arguments(text, run.scanner.field_rules))
    return pair_hits(run, text)


def pair_hits(run: Run, text: str) -> list[Hit]:
    """Findings for the quoted values whose keys name a personal field."""
    pairs = list(_PAIR.finditer(text))
    if not pairs:
        return []
    keys = tuple(m.group("key") for m in pairs)
    # "cpfCnpj": "<a CPF>" makes the record a person's, as "cpf": does (cpf_or_cnpj)
    marked = cpf_or_cnpj.marked_names(keys, lambda i: _value(pairs[i]))
    place = fields.object_place(fields.ROOT, "", frozenset(marked))
    rules = run.scanner.field_rules
    hits = []
    for m in pairs:
        cls = fields.field_verdict(rules, place, m.group("key"), [])
        group = "value" if m.group("value") is not None else "single"
        value = m.group(group)
        if cls is None or "\\" in value or is_token(value):
            continue
        if cls is fields.PROSE:  # "observacao": "João Pereira ligou": its names
            hits.extend(name_hits(value, m.start(group)))
            continue
        if type(cls) is fields.Verdict and not fields.value_fits(cls, value):
            continue
        hits.append(Hit(m.start(group), m.end(group), fields.resolved(cls)))
    return hits


def _value(pair: re.Match[str]) -> str:
    found = pair.group("value")
    return pair.group("single") if found is None else found
