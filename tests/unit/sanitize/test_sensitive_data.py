"""LGPD's sensitive personal data (sensitive_names): replaced by field name in a
person's record, in a FHIR resource by where it sits, and kept where the same name
means something else (a sports race, a product's colour, a certificate's fingerprint)."""

from __future__ import annotations

import inspect
import json
import re
from urllib.parse import parse_qsl

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import REGISTRY

from ext_proc_server.sanitize import field_probe, fields, sensitive_names
from ext_proc_server.sanitize.run import is_token
from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer
from tests.unit.sanitize.sensitive_corpus import CORPUS, Payload

TOKEN = "SANITIZED_SENSITIVE"
_TOKENS = sanitizer()
_PSEUDONYMS = sanitizer(sanitize_mode="pseudonyms", pseudonym_key="k" * 32)


def _sanitized(
    body: str, content_type: str = "application/json", *, pseudonyms: bool = False
) -> str:
    exchange = request_exchange(body=body, content_type=content_type)
    out = (_PSEUDONYMS if pseudonyms else _TOKENS).sanitize(exchange)
    return out.request.body.decode()


def _person(key: str, value: object) -> dict[str, object]:
    return json.loads(_sanitized(json.dumps({"cpf": "11144477735", key: value})))


# -- one case per class -------------------------------------------------------------

_CLASSES = [
    ("race", "racaCor", "parda"),
    ("race", "raca_cor", "preta"),
    ("race", "corRaca", "indígena"),
    ("race", "etnia", "Guarani Kaiowá"),
    ("race", "ethnicity", "Not Hispanic or Latino"),
    ("race", "raca", "amarela"),
    ("race", "race", "Asian"),
    ("religion", "religiao", "Umbanda"),
    ("religion", "religion", "Muslim"),
    ("religion", "crencaReligiosa", "Espírita"),
    ("politics", "partidoPolitico", "PSDB"),
    ("politics", "politicalParty", "Green"),
    ("politics", "filiacaoPartidaria", "PCdoB"),
    ("politics", "opiniaoPolitica", "conservador"),
    ("politics", "partido", "MDB"),
    ("union", "filiacaoSindical", "Sindicato dos Metalúrgicos do ABC"),
    ("union", "unionMembership", "Teamsters Local 727"),
    ("union", "sindicato", "SINTUFRJ"),
    ("health", "diagnostico", "Transtorno de ansiedade generalizada"),
    ("health", "diagnosis", "Major depressive disorder"),
    ("health", "cid10", "F41.1"),
    ("health", "CID_10", "F41.1"),
    ("health", "icd10", "F41.1"),
    ("health", "codigoCid", "F41.1"),
    ("health", "cid", "F41.1"),
    ("health", "tipoSanguineo", "B-"),
    ("health", "bloodType", "B-"),
    ("health", "fatorRh", "negativo"),
    ("health", "alergias", "Amendoim"),
    ("health", "allergies", "Peanuts"),
    ("health", "medicamentos", "Fluoxetina 20mg"),
    ("health", "deficiencia", "auditiva"),
    ("health", "disability", "wheelchair user"),
    ("health", "hiv", "reagente"),
    ("health", "hivStatus", "positive"),
    ("health", "gestante", "sim"),
    ("health", "comorbidades", "hipertensão"),
    ("sex life", "orientacaoSexual", "homossexual"),
    ("sex life", "sexualOrientation", "lesbian"),
    ("sex life", "vidaSexual", "ativa"),
    ("genetic", "dadosGeneticos", "BRCA1 c.68_69delAG"),
    ("genetic", "genotype", "APOE e4/e4"),
    ("biometric", "impressaoDigital", "Rk1SACAyMAAAAAFiAAABQAHg"),
    ("biometric", "biometria", "Rk1SACAyMAAAAAFiAAABQAHg"),
    ("biometric", "faceTemplate", "AAECAwQFBgcICQoLDA0ODw"),
]


@pytest.mark.parametrize(("kind", "key", "value"), _CLASSES, ids=[c[1] for c in _CLASSES])
def test_a_persons_sensitive_field_is_replaced(kind: str, key: str, value: str) -> None:
    assert _person(key, value)[key] == TOKEN, kind


@pytest.mark.parametrize(("kind", "key", "value"), _CLASSES[::4], ids=[c[1] for c in _CLASSES[::4]])
def test_pseudonyms_mode_writes_the_fixed_token(kind: str, key: str, value: str) -> None:
    # A keyed pseudonym of a value drawn from a handful would still tell them apart.
    body = json.dumps({"cpf": "11144477735", key: value})
    assert json.loads(_sanitized(body, pseudonyms=True))[key] == TOKEN, kind


@pytest.mark.parametrize("mode", ["tokens", "pseudonyms"])
def test_a_users_rule_may_name_the_class_and_the_metric_counts_it(mode: str) -> None:
    """``sanitize_fields`` may mark a field of one's own as sensitive (a name the rules
    do not know), and each replacement counts under its own type, not ``custom``."""
    ruled = sanitizer(
        sanitize_mode=mode, pseudonym_key="k" * 32, sanitize_fields={"credo": "sensitive"}
    )

    def counted() -> float:
        labels = {"type": "sensitive"}
        return REGISTRY.get_sample_value("collector_sanitization_operations_total", labels) or 0.0

    before = counted()
    body = json.dumps({"pedido": "4821", "credo": "Candomblé", "religiao": "Umbanda"})
    out = json.loads(ruled.sanitize(request_exchange(body=body)).request.body)
    assert out == {"pedido": "4821", "credo": TOKEN, "religiao": TOKEN}
    assert counted() - before == 2


def test_a_list_and_an_object_held_by_a_sensitive_name_are_replaced_inside() -> None:
    out = _person("alergias", [{"id": 3, "substancia": "Penicilina", "reacao": "urticária"}])
    assert out["alergias"] == [{"id": 3, "substancia": TOKEN, "reacao": TOKEN}]
    bio = _person("biometria", {"tipo": "digital", "fingerprint": "Rk1SACAy", "formato": "ISO"})
    assert bio["biometria"] == {"tipo": "digital", "fingerprint": TOKEN, "formato": "ISO"}


# -- names that mean something else ------------------------------------------------


@pytest.mark.parametrize(
    "doc",
    [
        {"event": {"race": "São Silvestre 15K", "distance_km": 15}},  # a sports race
        {"produto": {"nome": "Camiseta", "cor": "azul", "raca": "n/a"}},  # a product
        {"raca": "Labrador", "especie": "cão", "porte": "grande"},  # a pet's breed
        {"cid": "image001.png@01DA2B3C.4D5E6F70", "filename": "logo.png"},  # a content id
        {"certificate": {"fingerprint": "AB:CD:EF:01:23:45", "issuer": "Let's Encrypt"}},
        {"ssh_key": {"fingerprint": "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8"}},
        {"politicaPrivacidade": "https://example.com/privacidade", "versao": "2"},
        {"medicamentos": ["Dipirona 500mg", "Paracetamol 750mg"], "farmacia": "Drogaria"},
        {"empresa": {"cnpj": "11222333000181", "sindicato": "SINDICOMERCIO"}},
        {"user": {"biometricEnabled": "true", "login": "ana"}},
    ],
    ids=["race", "cor", "pet", "cid", "cert", "ssh", "policy", "pharmacy", "company", "flag"],
)
def test_an_unrelated_meaning_is_kept(doc: dict[str, object]) -> None:
    assert TOKEN not in _sanitized(json.dumps(doc))


# -- where the walk reads them -------------------------------------------------------


def test_a_form_and_a_query_string_are_read_by_name() -> None:
    form = "cpf=11144477735&religiao=Budista&tipo_sanguineo=A%2B&nome_plano=Ouro"
    out = dict(parse_qsl(_sanitized(form, "application/x-www-form-urlencoded")))
    assert (out["religiao"], out["tipo_sanguineo"], out["nome_plano"]) == (TOKEN, TOKEN, "Ouro")
    exchange = request_exchange(query=(("etnia", "Terena"), ("page", "2")))
    query = dict(_TOKENS.sanitize(exchange).request.query)
    assert query == {"etnia": TOKEN, "page": "2"}


def test_xml_elements_are_read_by_name() -> None:
    xml = (
        "<trabalhador><cpfTrab>52998224725</cpfTrab><racaCor>3</racaCor>"
        "<deficiencia><defFisica>S</defFisica></deficiencia><estCiv>1</estCiv></trabalhador>"
    )
    out = _sanitized(xml, "application/xml")
    assert "<racaCor>SANITIZED_SENSITIVE</racaCor>" in out
    assert "<defFisica>SANITIZED_SENSITIVE</defFisica>" in out
    assert "<estCiv>1</estCiv>" in out


# -- the published shapes --------------------------------------------------------------


def _shape(doc: object) -> object:
    """A document's structure: its keys, list lengths and the type of each scalar,
    strings and the numbers a sensitive name replaced with a token told apart."""
    if isinstance(doc, dict):
        return {k: _shape(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_shape(v) for v in doc]
    return type(doc).__name__


@pytest.mark.parametrize("payload", CORPUS, ids=[p.name for p in CORPUS])
def test_published_shapes_lose_their_sensitive_values(payload: Payload) -> None:
    out = _sanitized(payload.body, payload.content_type)
    assert [v for v in payload.sensitive if v in out] == []
    assert [v for v in payload.kept if v not in out] == []
    if payload.content_type == "application/json":
        before, after = json.loads(payload.body), json.loads(out)
        # Same keys, same lists; only eSocial's numeric racaCor becomes a string token.
        assert _shape(after) == _shape(before) or payload.name == "esocial s-2200 worker"
        assert _keys(after) == _keys(before)


def _keys(doc: object) -> list[str]:
    if isinstance(doc, dict):
        return [k for key, v in doc.items() for k in (key, *_keys(v))]
    if isinstance(doc, list):
        return [k for v in doc for k in _keys(v)]
    return []


def test_a_fhir_resource_without_a_patient_is_left_alone() -> None:
    # A terminology server's CodeSystem: codes and displays of no one.
    doc = {
        "resourceType": "CodeSystem",
        "url": "http://www.saude.gov.br/fhir/r4/CodeSystem/BRRacaCor",
        "concept": [{"code": "01", "display": "Branca"}, {"code": "03", "display": "Parda"}],
    }
    assert json.loads(_sanitized(json.dumps(doc))) == doc


# -- key spellings -------------------------------------------------------------------

_WORDS = [
    ("raca", "cor"), ("orientacao", "sexual"), ("sexual", "orientation"), ("tipo", "sanguineo"),
    ("blood", "type"), ("filiacao", "sindical"), ("union", "membership"), ("partido", "politico"),
    ("political", "party"), ("filiacao", "partidaria"), ("religiao",), ("etnia",), ("cid", "10"),
    ("icd", "10"), ("diagnostico",), ("alergias",), ("deficiencia",), ("hiv",),
    ("dados", "geneticos"), ("impressao", "digital"),
]  # fmt: skip


def _spelled(words: tuple[str, ...], style: str) -> str:
    if style == "camel":
        return words[0] + "".join(w.capitalize() for w in words[1:])
    if style == "pascal":
        return "".join(w.capitalize() for w in words)
    if style == "upper":
        return "_".join(words).upper()
    return {"snake": "_", "kebab": "-", "dot": "."}.get(style, "_").join(words)


_VALUES = st.text(
    alphabet=st.characters(categories=("L", "Nd"), max_codepoint=0x24F), min_size=1, max_size=20
).filter(lambda v: not is_token(v) and v.strip() == v)


@settings(max_examples=120, deadline=None)
@given(
    words=st.sampled_from(_WORDS),
    style=st.sampled_from(["camel", "pascal", "upper", "snake", "kebab"]),
    value=_VALUES,
    holder=st.sampled_from(["paciente", "employee", "beneficiario", "titular"]),
)
def test_any_spelling_of_a_sensitive_key_is_replaced(
    words: tuple[str, ...], style: str, value: str, holder: str
) -> None:
    key = _spelled(words, style)
    doc = {holder: {"id": 7, key: value}}
    out = json.loads(_sanitized(json.dumps(doc, ensure_ascii=False)))
    assert out[holder] == {"id": 7, key: TOKEN}


# -- the body probe --------------------------------------------------------------------

# Every word the sensitive rules compare keys with, read from their source.
_VOCABULARY = sorted(set(re.findall(r'"([a-z][a-z0-9]*)"', inspect.getsource(sensitive_names))))
_JOINS = ("{}", "{}_id", "{}Code", "tipo_{}", "dados_{}", "{}_descricao", "cid_{}", "{}_cid")


def _probe(text: str) -> bytes:
    return text.lower().encode("ascii", "replace")


def test_vocabulary_is_read() -> None:
    assert {"racacor", "religiao", "hiv", "sindicato", "fatorrh"} <= set(_VOCABULARY)


@pytest.mark.parametrize("join", _JOINS)
def test_probe_sees_every_key_the_rules_replace_at_the_root(join: str) -> None:
    # A body the probe passes over is never walked: every key sensitive_class replaces
    # outside a person's record must hold one of the probe's words (a body of product
    # names alone, "name": "Camiseta", is no person's record: not walked for them).
    missed = []
    for word in _VOCABULARY:
        key = join.format(word)
        text = json.dumps({"id": 1, key: "Valor Qualquer"})
        if fields.field_class(fields.ROOT, key) is not sensitive_names.SENSITIVE:
            continue
        probe = field_probe.FieldProbe(None)
        if not probe.may_hold(text, _probe(text)):
            missed.append(key)
    assert missed == []


def test_probe_reads_a_fhir_resource() -> None:
    text = json.dumps({"resourceType": "Condition", "subject": {"reference": "Patient/1"}})
    assert field_probe.FieldProbe(None).may_hold(text, _probe(text))
