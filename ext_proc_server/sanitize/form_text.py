"""Text of ``name=value`` pairs (``nome=Maria Souza&cpf=...``), as a gateway writes a
user's context into base64: each value read by its name, as a form's field is.

Values may be percent-encoded or written as they are (a space in a name); a value
replaced comes back encoded as it came.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus

from ext_proc_server.sanitize import cpf_or_cnpj, fields
from ext_proc_server.sanitize.diagnosis_text import encoded_diagnoses
from ext_proc_server.sanitize.fields import PROSE, Verdict, flat_classes, resolved, value_fits
from ext_proc_server.sanitize.free_text_names import find_encoded_names, name_hits
from ext_proc_server.sanitize.hits import Hit, resolve
from ext_proc_server.sanitize.run import Run, is_token, quote_plus_lazy

# Pairs, and nothing else: a name of word characters (brackets and dots as a form's),
# "=", a value up to "&" or a line break; separated by "&", ";" or line breaks.
_NAME = r"[A-Za-z_][\w.\[\]-]{0,63}"
_VALUE = r"[^&;=\r\n]*"
_FORM_TEXT = re.compile(rf"{_NAME}={_VALUE}(?:(?:&|;|\r?\n){_NAME}={_VALUE})+|{_NAME}=[^&;=\r\n]+")
_PAIR = re.compile(rf"({_NAME})=([^&;=\r\n]*)")


def form_text_hits(run: Run, text: str) -> list[Hit]:
    """Findings for the values whose names make them personal, in a text that is only
    ``name=value`` pairs; none for any other text."""
    if "=" not in text or not _FORM_TEXT.fullmatch(text.strip()):
        return []
    pairs = list(_PAIR.finditer(text))
    names = tuple(p.group(1) for p in pairs)
    names = cpf_or_cnpj.marked_names(names, lambda i: unquote_plus(pairs[i].group(2)))
    classes = flat_classes(names, run.scanner.field_rules)
    hits = []
    for pair in pairs:
        cls = classes.get(pair.group(1))
        raw = pair.group(2)
        if type(cls) is not Verdict or not raw.strip():
            continue
        encoded = "%" in raw or "+" in raw
        value = unquote_plus(raw) if encoded else raw
        if cls is PROSE:  # obs=João Pereira ligou: its names (and a diagnosis it names)
            hits.extend(prose_hits(run, raw, names, pair.group(1), pair.start(2)))
            continue
        if is_token(value) or not value_fits(cls, value):
            continue
        fresh = run.replacer(resolved(cls), value)
        if encoded:
            note_name(run, resolved(cls), value)
            fresh = quote_plus_lazy(fresh)
        hits.append(Hit(pair.start(2), pair.end(2), resolved(cls), fresh))
    return hits


def prose_hits(run: Run, raw: str, names: tuple[str, ...], name: str, start: int = 0) -> list[Hit]:
    """Findings for a free-text value of a form as sent, ``name`` among the record's
    ``names``: the names it holds, and the diagnoses a cue announces in it when the
    record is a person's or a clinical one (``observacoes=Paciente+com+CID+F32.1``)."""
    found = encoded_name_hits(run, raw, start)
    diagnoses = encoded_diagnoses(record_place(names, name), raw, start)
    return resolve([*found, *diagnoses]) if diagnoses else found


_PATH = re.compile(r"[^\[\].]+")


def record_place(names: tuple[str, ...], name: str) -> fields.Place:
    """Where a form's field ``name`` sits, its record read from all the ``names``
    (``cpf`` makes it a person's) and its own path (``paciente[obs]``), as
    ``fields.flat_classes`` reads them."""
    members = frozenset(path[-1] for path in map(_PATH.findall, names) if path)
    place = fields.object_place(fields.ROOT, "", members)
    for parent in _PATH.findall(name)[:-1]:
        place = fields.object_place(place, parent, frozenset())
    return place


def encoded_name_hits(run: Run, raw: str, start: int = 0) -> list[Hit]:
    """Findings for the names in a free-text value of a form (``obs=Jo%C3%A3o+Pereira+
    ligou``), each where it stands, its replacement encoded as the value is."""
    if "%" not in raw and "+" not in raw:
        return name_hits(raw, start)
    hits = []
    for a, b in find_encoded_names(raw):
        name = unquote_plus(raw[a:b])
        note_name(run, "name", name)
        hits.append(Hit(start + a, start + b, "name", quote_plus_lazy(run.replacer("name", name))))
    return hits


def note_name(run: Run, cls: str, decoded: str) -> None:
    """Remember a name found encoded (``Jo%C3%A3o+Pereira``) as it reads: the hit is
    applied to the encoded text, so ``Run.replace`` sees no space and cannot tell the
    name to the exchange's echo readers (request_echoes, echoed_names)."""
    if cls == "name" and " " in decoded.strip():
        run.names_seen.add(decoded.strip())
