"""LGPD's sensitive personal data (Art. 5 II, Art. 11) by field name and by where it sits.

Racial or ethnic origin, religious conviction, political opinion, union membership,
health (a diagnosis, a CID-10/ICD-10 code, allergies, medications, blood type,
disability, HIV status, pregnancy), sex life and sexual orientation, genetic and
biometric data. Such a value is replaced whole by a fixed token in both modes: a
keyed pseudonym of a value drawn from a handful ("parda", "O+") would still tell
equal values apart.

A name alone decides where it cannot mean anything else (``racaCor``, ``religiao``,
``tipoSanguineo``); an ambiguous one only in a person's record (``raca`` is also a
dog's breed, ``race`` a sports event, ``cid`` a content id or a CID-10 table's own
code, ``medicamentos`` a pharmacy's catalogue). A company's or a product's record
keeps them all.

Where a name says nothing, the place does (fields.Place.sensitive):

- a FHIR resource about a patient (``resourceType`` beside ``subject`` or
  ``patient``, or a person's own: Patient) is a RESOURCE: its ``value[x]`` strings
  and its coded members (``code``, ``valueCodeableConcept``, ``reaction``, ``note``,
  its narrative ``text``) are CONCEPTs;
- a person's FHIR ``extension`` (US Core race and ethnicity, RNDS's BRRacaCorEtnia)
  is a CONCEPT too;
- in a CONCEPT every ``code``, ``display``, ``text``, ``description``, ``div`` and
  ``value[x]`` string is replaced (a code system's URL, ``system``, and a quantity's
  number are kept);
- an object held by a sensitive name (``alergias``, ``deficiencia``, ``biometria``)
  is HELD: every member but its id, type and format is replaced (a biometric
  record's ``fingerprint`` too, which elsewhere is a key's or a certificate's hash);
- a person's record held by ``paciente`` or ``patient`` (and what it holds) is a
  PATIENT's: its ``queixa`` or ``complaint`` is a symptom, replaced whole (in a
  customer's record, a consumer complaint site's ``queixa``, it is kept);
- a record written flat with a complaint beside a clinical mark (clinical_records:
  ``numeroProntuario``, ``triagem``, ``crm``) is CLINICAL: its complaint goes whole,
  and the rest is read as a person's record is.
"""

from __future__ import annotations

from ext_proc_server.sanitize.clinical_records import COMPLAINTS
from ext_proc_server.sanitize.secret_keys import Verdict

SENSITIVE = Verdict("sensitive")

RESOURCE = "resource"
CONCEPT = "concept"
HELD = "held"  # an object held by a sensitive name: its members' values are too
PATIENT = "patient"  # a patient's record: a complaint there is a symptom
CLINICAL = "clinical"  # an attendance's or a triage's record (clinical_records): the same

# Words that make a field sensitive in any record but a company's or a product's.
_WORDS = frozenset(
    {"etnia", "etnias", "ethnicity", "ethnic", "racial", "religiao", "religion", "religious",
     "religiosa", "religioso", "sexualidade", "sexuality", "sexual", "sindicato", "sindical",
     "sindicalizado", "sindicalizada", "sindicalizacao", "partidario", "partidaria",
     "diagnostico", "diagnosticos", "diagnosis", "diagnoses", "sanguineo", "sanguinea",
     "alergia", "alergias", "allergy", "allergies", "deficiencia", "deficiencias",
     "disability", "disabilities", "hiv", "soropositivo", "sorologia", "doenca", "doencas",
     "disease", "diseases", "comorbidade", "comorbidades", "comorbidity", "comorbidities",
     "genetico", "geneticos", "genetica", "geneticas", "genetic", "genotipo", "genotype",
     "biometria", "biometrias", "biometric", "biometrics", "biometrico", "biometricos",
     "prontuario"}
)  # fmt: skip
# Names written as one word, or whose words mean more together ("fatorRh", eSocial's
# defFisica and its siblings, a fingerprint's template).
_COMPACT = frozenset(
    {"racacor", "corraca", "racaetnia", "bloodtype", "bloodgroup", "orientacaosexual",
     "vidasexual", "dadosgeneticos", "dadosbiometricos"}
)  # fmt: skip
# Sensitive only in a person's record (or a clinical one).
_PERSON_WORDS = frozenset(
    {"raca", "race", "races", "partido", "medicamento", "medicamentos", "medicacao",
     "medicacoes", "medication", "medications", "remedio", "remedios", "cid", "ideologia",
     "ideology", "religiosidade", "crenca", "crencas", "icd"}
)  # fmt: skip
# The same, written whole ("pregnant_woman" is GitHub's emoji, "gestante" a patient's),
# and names too rare outside a person's record to be worth the body probe's time.
_PERSON_COMPACT = frozenset(
    {"gestante", "gravidez", "gestacao", "pregnant", "pregnancy", "pregnancystatus",
     "ispregnant", "fatorrh", "pcd", "deffisica", "defvisual", "defauditiva", "defmental",
     "defintelectual", "impressaodigital", "impressoesdigitais", "fingerprinttemplate",
     "facetemplate", "iristemplate", "unionmember", "unionmembership", "tradeunion",
     "laborunion", "labourunion", "healthcondition", "healthconditions", "medicalcondition",
     "medicalconditions", "condicaosaude", "condicaodesaude", "condicoesdesaude",
     "condicoessaude", "condicaomedica", "condicoesmedicas", "sexlife",
     # a clinical history, all of it health data ("queixa" alone is also a customer's)
     "anamnese", "anamnesis", "queixaprincipal", "chiefcomplaint", "historiaclinica",
     "historicoclinico", "historiamedica", "historicomedico", "medicalhistory",
     "sintoma", "sintomas", "symptom", "symptoms",
     # smoking and drinking, as a clinical record asks them
     "fumante", "tabagista", "tabagismo", "smoker", "smokingstatus", "etilista", "etilismo"}
)  # fmt: skip
# "cid" followed by one of these is CID-10's wherever it is ("cid10", "codigoCid").
_CID_WORDS = frozenset({"cid", "icd"})
_CID_QUALIFIERS = frozenset(
    {"codigo", "cod", "code", "principal", "secundario", "secundaria", "doenca",
     "diagnostico", "cm"}
)  # fmt: skip
_POLITICAL = frozenset({"politico", "politica", "political", "politicos", "politicas"})
# What makes "politica" a political opinion, not a policy ("politicaPrivacidade").
_POLITICAL_OPINION = frozenset(
    {"partido", "party", "opiniao", "opinion", "opinions", "affiliation", "filiacao",
     "view", "views", "orientacao", "orientation", "preference", "preferencia",
     "ideologia", "ideology", "posicao"}
)  # fmt: skip
# A last word that makes the field describe such a value rather than hold it.
_DESCRIBING_LAST = frozenset(
    {"enabled", "required", "obrigatorio", "verified", "verificado", "consent", "optin",
     "visible", "visivel", "label", "hint", "format", "formato", "mask", "count", "length",
     "url", "link", "available", "supported", "policy", "version", "versao"}
)  # fmt: skip

# Every word and whole name the rules above read: a name with none of them is no
# sensitive field outside a clinical or sensitive place (one set test, before the rules).
KEY_WORDS = (
    _WORDS
    | _PERSON_WORDS
    | _CID_WORDS
    | _POLITICAL
    | {"raca"}
    # the words of the names written whole ("tipoSanguineo" is read as one: "bloodType"
    # as two): split as key_words splits their usual spellings
    | {"blood", "fator", "pcd", "impressao", "impressoes", "dados", "orientacao", "vida",
       "sexlife", "life", "gestacao", "ispregnant", "pregnancystatus", "condicao", "condicoes",
       "condition", "conditions", "union", "trade", "labor", "labour", "template",
       "fingerprint", "facetemplate", "iristemplate", "corraca", "racacor", "racaetnia",
       "def", "deffisica", "defvisual", "defauditiva", "defmental", "defintelectual",
       "unionmember", "unionmembership", "tradeunion", "laborunion", "labourunion",
       "queixa", "chief", "complaint", "historia", "historico", "history", "medical",
       "clinica", "clinico", "medica", "medico", "smoking", "paciente", "pacientes",
       "patient", "patients", "sintoma", "sintomas", "symptom", "symptoms"}
    | _COMPACT
    | _PERSON_COMPACT
)  # fmt: skip
RESOURCE_MARK = "resourceType"
RESOURCE_KEY = "resourcetype"

# -- FHIR ---------------------------------------------------------------------------

_PATIENT_MEMBERS = frozenset({"subject", "patient"})
# A clinical resource's members that hold coded health data.
_CLINICAL_HOLDERS = frozenset(
    {"code", "bodysite", "reaction", "manifestation", "substance", "reasoncode",
     "conclusioncode", "note", "text", "component", "evidence", "severity",
     "vaccinecode", "interpretation", "stage", "dosage", "dosageinstruction", "extension",
     "modifierextension"}
)  # fmt: skip
# In a CONCEPT: what holds the datum itself.
_CONCEPT_MEMBERS = frozenset({"code", "display", "text", "div", "description"})
# FHIR's value[x] of a number or a boolean: kept, so the document keeps its types.
_FHIR_NUMBERS = frozenset(
    {"value", "valueinteger", "valuedecimal", "valuepositiveint", "valueunsignedint",
     "valueboolean", "valueinteger00"}
)  # fmt: skip
# What holds a patient's record (a clinic's triage form: {"paciente": {"queixa": …}}).
_PATIENT_KEYS = frozenset({"paciente", "pacientes", "patient", "patients"})
# Health data only in a patient's record: a consumer complaint site's "queixa" is about
# a product, a triage form's is the patient's symptom.
_PATIENT_FIELDS = frozenset({"queixa", "queixas", "complaint", "complaints"})
# In a HELD object: what describes the datum rather than holds it.
_HELD_KEPT = frozenset(
    {"id", "type", "tipo", "format", "formato", "status", "version", "versao", "createdat",
     "updatedat"}
)  # fmt: skip


def object_mode(
    parent: str | None,
    words: tuple[str, ...],
    members: frozenset[str],
    *,
    person: bool,
    other: bool,
) -> str | None:
    """The sensitive place of an object held by a key of ``words`` in a record of mode
    ``parent`` (a ``person``'s, an ``other``'s or neither), with these ``members``:
    RESOURCE, CONCEPT, HELD, PATIENT, CLINICAL (a clinical record's, where no other
    applies) or None."""
    if parent in (CONCEPT, HELD):
        return parent  # a coding inside a code, a reaction's manifestation
    if RESOURCE_MARK in members and (person or members & _PATIENT_MEMBERS):
        return RESOURCE
    if not words:
        return CLINICAL if parent == CLINICAL else None
    compact = "".join(words)
    held = sensitive_class(parent, words, person=person, other=other) is not None
    if parent == RESOURCE and (
        held or compact in _CLINICAL_HOLDERS or (compact.startswith("value") and compact != "value")
    ):
        # "code", "valueCodeableConcept", "medicationCodeableConcept", "extension": its
        # code system's URL is kept
        return CONCEPT
    if held:
        return HELD  # "alergias": [{...}], "biometria": {...}
    if person and (parent == PATIENT or (parent is None and not _PATIENT_KEYS.isdisjoint(words))):
        return PATIENT  # {"paciente": {"triagem": {"queixa": …}}} too
    return CLINICAL if parent == CLINICAL else None  # a triage's, its "alergias" HELD


def sensitive_class(
    mode: str | None, words: tuple[str, ...], *, person: bool, other: bool
) -> Verdict | None:
    """SENSITIVE if a field of these words holds sensitive data in a place of ``mode``,
    in a ``person``'s record or in an ``other``'s (a company's, a product's)."""
    compact = "".join(words)
    if mode == CLINICAL:  # a complaint is a symptom, and what a person's record holds
        if compact in COMPLAINTS:
            return SENSITIVE
        mode, person = None, True
    if mode == PATIENT:
        if compact in _PATIENT_FIELDS:
            return SENSITIVE
        mode = None  # otherwise a person's record as any other
    if mode is not None:
        if mode == HELD:
            return None if compact in _HELD_KEPT or words[-1] in _DESCRIBING_LAST else SENSITIVE
        if compact.startswith("value") and compact not in _FHIR_NUMBERS:
            return SENSITIVE  # valueString, valueCode, valueCodeableConcept's strings
        if mode == CONCEPT and compact in _CONCEPT_MEMBERS:
            return SENSITIVE
        if mode == RESOURCE and compact == "conclusion":  # DiagnosticReport's
            return SENSITIVE
    if other or words[-1] in _DESCRIBING_LAST:
        return None
    owned = set(words)
    if owned & _WORDS or compact in _COMPACT:
        return SENSITIVE
    if owned & _POLITICAL and owned & _POLITICAL_OPINION:
        return SENSITIVE
    if "raca" in owned and owned & {"cor", "etnia"}:
        return SENSITIVE  # "cor_raca", "raca_etnia"
    if not person and mode is None:
        return None  # a CID-10 table's "cid10" is no one's diagnosis
    if owned & _PERSON_WORDS or compact in _PERSON_COMPACT:
        return SENSITIVE
    if owned & _CID_WORDS and (owned & _CID_QUALIFIERS or "cid00" in compact):
        return SENSITIVE  # (digits_folded wrote "cid10" as "cid00")
    return None


# Byte patterns for the body probe (field_probe.SENSITIVE_WORDS): every field
# sensitive_class finds outside a person's record holds one. Person-only names need
# none: a person's record has a personal word of its own (cpf, paciente, sexo, gender).
PROBE_PATTERNS = (
    rb"etni", rb"ethnic", rb"racial", rb"raca", rb"religi", rb"sexual", rb"sindica",
    rb"partidari", rb"diagnos", rb"sanguin", rb"alergi", rb"allerg", rb"deficien",
    rb"disabilit", rb"[^c]hiv", rb"soropositiv", rb"sorologia", rb"doenca", rb"disease",
    rb"comorbid", rb"genetic", rb"genotip", rb"genotyp", rb"biometri", rb"prontuario",
    rb"politic", rb"blood",
    # FHIR in XML: no resourceType key, its namespace instead (xml_fields)
    rb'hl7\.org/fhir"',
)  # fmt: skip
