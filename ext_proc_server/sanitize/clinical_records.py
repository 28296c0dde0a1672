"""Whether a record with a complaint or symptoms and no patient's key is a clinical
one: an attendance's or a triage's written flat, as e-SUS and hospital systems export
them ({"prontuario": …, "dataAtendimento": …, "crm": …, "queixa": …}). There the
complaint is the patient's symptom, health data under LGPD Art. 11, and goes whole
(sensitive_names.CLINICAL). Its context is read from the record's members and the
name holding it: one clinical mark (a medical record's number, a triage, a CID-10
code, a doctor's CRM, a SUS card, a health unit's CNES) makes any complaint a
symptom; an attendance alone ("dataAtendimento", "atendimento": {…}) is also a
customer service's, so it makes only a name no shop uses a symptom (``sintomas``,
``queixaPrincipal``): a consumer complaint site's ``queixa`` stays. A clinical mark
makes the whole record a clinical one, its nested objects too (``{"prontuario": …,
"dados": {"queixa": …}}``): the complaint there is the same patient's."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Set

from ext_proc_server.sanitize.field_names import key_words

# A name no consumer complaint is filed under: a clinical record's own.
CLINICAL_COMPLAINTS = frozenset(
    {"queixaprincipal", "queixasprincipais", "chiefcomplaint", "queixaatual", "sintoma",
     "sintomas", "symptom", "symptoms", "sinaisesintomas"}
)  # fmt: skip
# Every complaint's name: these and a shop's too.
COMPLAINTS = CLINICAL_COMPLAINTS | {"queixa", "queixas", "complaint", "complaints"}
# What the body probe looks for: every name above holds one.
PROBE_COMPLAINTS = frozenset({"queixa", "sintoma", "symptom", "complaint"})

# Words of a member (or its holder) only a clinical record has.
_CLINICAL_MARKS = frozenset(
    {"prontuario", "prontuarios", "triagem", "triage", "cid", "icd", "crm", "cns", "cnes",
     "vitais", "sus"}
)  # fmt: skip
# The marks of a record, not of a catalogue's row (a code's "cid10"), that carry to
# the objects it holds.
_CARRIED_MARKS = _CLINICAL_MARKS - {"cid", "icd"}
# Words a customer service's record has too.
_ATTENDANCE = frozenset(
    {"atendimento", "atendimentos", "consulta", "consultas", "encounter", "medico", "medica"}
)


def is_clinical(holder: Iterable[str], members: Iterable[str], marks: Set[str]) -> bool:
    """Whether a record of these ``members`` (``marks``: their names compacted), held
    by a name of words ``holder``, is a clinical one holding a complaint."""
    if marks.isdisjoint(COMPLAINTS):
        return False
    words = set(holder)
    for member in members:
        words.update(key_words(member))
    if not words.isdisjoint(_CLINICAL_MARKS):
        return True
    return not words.isdisjoint(_ATTENDANCE) and not marks.isdisjoint(CLINICAL_COMPLAINTS)


def clinical_record(holder: Iterable[str], members: Iterable[str], marks: Set[str]) -> bool:
    """Whether a record is a clinical one (is_clinical), or one whose members or holder
    carry a clinical mark: a complaint in an object it holds is a symptom. A CID-10
    code alone does not carry: a catalogue's row has one (``{"cid10": "F32.1",
    "descricao": …}``)."""
    if not marks.isdisjoint(COMPLAINTS) and is_clinical(holder, members, marks):
        return True
    return not _CARRIED_MARKS.isdisjoint(holder) or any(map(_marked, members))


@functools.lru_cache(maxsize=4096)
def _marked(member: str) -> bool:
    """Whether a member's name holds a clinical mark (``numeroProntuario``, ``cid10``)."""
    return not _CARRIED_MARKS.isdisjoint(key_words(member))
