"""Payloads of APIs that hold LGPD's sensitive personal data, in the shapes those APIs
publish: HL7 FHIR R4 resources (US Core race and ethnicity extensions, RNDS's
BRIndividuo with its BRRacaCorEtnia extension, Condition coded in ICD-10,
AllergyIntolerance, a blood type Observation, MedicationStatement, DiagnosticReport),
an eSocial S-2200 worker record, an HR system's employee, an IBGE census-like record
and a health plan's beneficiary form. Each names the values that must not survive
sanitizing and those that must (code systems, references, numbers, flags)."""

from __future__ import annotations

import json
from typing import NamedTuple


class Payload(NamedTuple):
    name: str
    body: str
    content_type: str
    sensitive: tuple[str, ...]  # each must be gone from the sanitized body
    kept: tuple[str, ...]  # each must still be there


def _json(name: str, doc: object, sensitive: tuple[str, ...], kept: tuple[str, ...]) -> Payload:
    return Payload(name, json.dumps(doc, ensure_ascii=False), "application/json", sensitive, kept)


_US_CORE_PATIENT = {
    "resourceType": "Patient",
    "id": "example",
    "meta": {"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"]},
    "extension": [
        {
            "url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race",
            "extension": [
                {
                    "url": "ombCategory",
                    "valueCoding": {
                        "system": "urn:oid:2.16.840.1.113883.6.238",
                        "code": "2106-3",
                        "display": "White",
                    },
                },
                {
                    "url": "detailed",
                    "valueCoding": {
                        "system": "urn:oid:2.16.840.1.113883.6.238",
                        "code": "1586-7",
                        "display": "Shoshone",
                    },
                },
                {"url": "text", "valueString": "Mixed"},
            ],
        },
        {
            "url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-ethnicity",
            "extension": [
                {
                    "url": "ombCategory",
                    "valueCoding": {
                        "system": "urn:oid:2.16.840.1.113883.6.238",
                        "code": "2135-2",
                        "display": "Hispanic or Latino",
                    },
                },
                {"url": "text", "valueString": "Hispanic or Latino"},
            ],
        },
    ],
    "identifier": [{"system": "http://hospital.smarthealthit.org", "value": "1032702"}],
    "active": True,
    "gender": "female",
    "birthDate": "1987-02-20",
}

_RNDS_INDIVIDUO = {
    "resourceType": "Patient",
    "meta": {"profile": ["http://www.saude.gov.br/fhir/r4/StructureDefinition/BRIndividuo-1.0"]},
    "extension": [
        {
            "url": "http://www.saude.gov.br/fhir/r4/StructureDefinition/BRRacaCorEtnia-1.0",
            "extension": [
                {
                    "url": "race",
                    "valueCodeableConcept": {
                        "coding": [
                            {
                                "system": "http://www.saude.gov.br/fhir/r4/CodeSystem/BRRacaCor",
                                "code": "05",
                                "display": "Indígena",
                            }
                        ]
                    },
                },
                {
                    "url": "indigenousEthnicity",
                    "valueCodeableConcept": {
                        "coding": [
                            {
                                "system": "http://www.saude.gov.br/fhir/r4/CodeSystem/BREtniaIndigena",
                                "code": "X271",
                            }
                        ]
                    },
                },
            ],
        }
    ],
    "active": True,
    "gender": "female",
    "birthDate": "1990-08-04",
}

_ICD10 = "http://hl7.org/fhir/sid/icd-10"
_CONDITION = {
    "resourceType": "Condition",
    "id": "f201",
    "text": {
        "status": "generated",
        "div": '<div xmlns="http://www.w3.org/1999/xhtml">Diabetes mellitus tipo 2</div>',
    },
    "clinicalStatus": {
        "coding": [
            {"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}
        ]
    },
    "category": [
        {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                    "code": "encounter-diagnosis",
                }
            ]
        }
    ],
    "code": {
        "coding": [{"system": _ICD10, "code": "E11.9", "display": "Type 2 diabetes mellitus"}],
        "text": "Diabetes tipo 2",
    },
    "bodySite": [{"coding": [{"system": "http://snomed.info/sct", "code": "181414000"}]}],
    "subject": {"reference": "Patient/f201"},
    "onsetDateTime": "2013-03-11",
}

_ALLERGY = {
    "resourceType": "AllergyIntolerance",
    "id": "example",
    "clinicalStatus": {
        "coding": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                "code": "active",
            }
        ]
    },
    "type": "allergy",
    "category": ["food"],
    "criticality": "high",
    "code": {
        "coding": [
            {"system": "http://snomed.info/sct", "code": "227493005", "display": "Cashew nuts"}
        ]
    },
    "patient": {"reference": "Patient/example"},
    "reaction": [
        {
            "substance": {
                "coding": [
                    {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "1160593"}
                ]
            },
            "manifestation": [
                {
                    "coding": [
                        {
                            "system": "http://snomed.info/sct",
                            "code": "39579001",
                            "display": "Anaphylactic reaction",
                        }
                    ]
                }
            ],
            "description": "Challenge Protocol. Severe reaction to cashew",
            "severity": "severe",
        }
    ],
}

_BLOOD_TYPE = {
    "resourceType": "Bundle",
    "type": "searchset",
    "total": 1,
    "entry": [
        {
            "fullUrl": "https://fhir.example.org/Observation/bt-1",
            "resource": {
                "resourceType": "Observation",
                "id": "bt-1",
                "status": "final",
                "code": {
                    "coding": [
                        {"system": "http://loinc.org", "code": "882-1", "display": "ABO+Rh group"}
                    ]
                },
                "subject": {"reference": "Patient/123"},
                "valueCodeableConcept": {
                    "coding": [
                        {
                            "system": "http://snomed.info/sct",
                            "code": "278149003",
                            "display": "Blood group A Rh(D) positive",
                        }
                    ],
                    "text": "A+",
                },
            },
        },
        {
            "resource": {
                "resourceType": "Observation",
                "status": "final",
                "code": {
                    "coding": [{"system": "http://loinc.org", "code": "7918-6"}],
                    "text": "HIV 1+2 Ab",
                },
                "subject": {"reference": "Patient/123"},
                "valueString": "Reagente",
                "valueQuantity": None,
            }
        },
    ],
}

_MEDICATION = {
    "resourceType": "MedicationStatement",
    "status": "active",
    "medicationCodeableConcept": {
        "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "1049221"}],
        "text": "Zidovudina 300 mg",
    },
    "subject": {"reference": "Patient/123"},
    "dosage": [{"text": "1 comprimido de 12 em 12 horas", "timing": {"repeat": {"frequency": 2}}}],
}

_REPORT = {
    "resourceType": "DiagnosticReport",
    "status": "final",
    "code": {"coding": [{"system": "http://loinc.org", "code": "24627-2"}], "text": "TC de tórax"},
    "subject": {"reference": "Patient/123"},
    "conclusion": "Nódulo pulmonar suspeito de neoplasia",
    "conclusionCode": [{"coding": [{"system": _ICD10, "code": "C34.9"}]}],
}

_ESOCIAL_WORKER = {
    "evtAdmissao": {
        "trabalhador": {
            "cpfTrab": "52998224725",
            "nmTrab": "Maria Aparecida Souza",
            "sexo": "F",
            "racaCor": 3,
            "estCiv": 1,
            "grauInstr": "07",
            "nascimento": {"dtNascto": "1988-04-12", "paisNascto": "105"},
            "deficiencia": {
                "defFisica": "S",
                "defVisual": "N",
                "defAuditiva": "N",
                "defMental": "N",
                "defIntelectual": "N",
                "reabReadap": "N",
                "observacao": "Amputação do membro inferior esquerdo",
            },
        },
        "vinculo": {"matricula": "A-1021", "tpRegTrab": 1},
    }
}

_HR_EMPLOYEE = {
    "employee": {
        "id": 8812,
        "fullName": "Joana Pereira Lima",
        "gender": "female",
        "ethnicity": "Black or African American",
        "religion": "Candomblé",
        "sexualOrientation": "Bisexual",
        "unionMembership": "Sindicato dos Bancários de São Paulo",
        "politicalParty": "PSOL",
        "disability": "Visual impairment",
        "bloodType": "O-",
        "allergies": ["Penicilina", "Dipirona"],
        "medications": ["Sertralina 50mg"],
        "hivStatus": "positive",
        "biometrics": {
            "type": "fingerprint",
            "fingerprint": "Rk1SACAyMAAAAAFiAAABQAHgAMUAxQEAAAAo",
            "format": "ISO-19794-2",
        },
        "department": "Finance",
    },
    "company": {"name": "Acme Ltda", "race": "Corrida de São Silvestre"},
}

_CENSUS = [
    {
        "controle": 1,
        "pessoa": 1,
        "idade": 34,
        "sexo": "M",
        "raca_cor": "parda",
        "religiao": "evangélica",
        "deficiencia_visual": "sim",
    },
    {
        "controle": 1,
        "pessoa": 2,
        "idade": 31,
        "sexo": "F",
        "corRaca": "preta",
        "religiao": "católica",
        "deficiencia_visual": "não",
    },
]

_PLAN_BENEFICIARY = {
    "beneficiario": {
        "cpf": "11144477735",
        "tipoSanguineo": "AB+",
        "cid10": "F32.1",
        "diagnostico": "Episódio depressivo moderado",
        "alergias": [{"substancia": "Látex", "gravidade": "alta"}],
        "gestante": "S",
        "filiacaoPartidaria": "PT",
        "filiacaoSindical": "SINDMETAL",
        "partido": "NOVO",
        "raca": "amarela",
    },
    "produto": {"nome": "Plano Ouro", "cor": "dourado"},
}

CORPUS: tuple[Payload, ...] = (
    _json(
        "fhir us core patient",
        _US_CORE_PATIENT,
        ("2106-3", "White", "1586-7", "Shoshone", "Mixed", "2135-2", "Hispanic or Latino"),
        ("us-core-race", "urn:oid:2.16.840.1.113883.6.238", "ombCategory", "female"),
    ),
    _json(
        "rnds brindividuo",
        _RNDS_INDIVIDUO,
        ('"05"', "Indígena", "X271"),
        ("BRRacaCorEtnia-1.0", "CodeSystem/BRRacaCor", "indigenousEthnicity"),
    ),
    _json(
        "fhir condition icd-10",
        _CONDITION,
        ("E11.9", "Type 2 diabetes mellitus", "Diabetes tipo 2", "Diabetes mellitus tipo 2", "181414000"),
        (_ICD10, "Patient/f201", "encounter-diagnosis", "2013-03-11"),
    ),
    _json(
        "fhir allergy intolerance",
        _ALLERGY,
        ("227493005", "Cashew nuts", "1160593", "Anaphylactic reaction", "39579001"),
        ("Patient/example", "http://snomed.info/sct", '"food"'),
    ),
    _json(
        "fhir blood type and hiv observations",
        _BLOOD_TYPE,
        ("882-1", "ABO+Rh group", "278149003", "Blood group A Rh(D) positive", '"A+"', "7918-6", "HIV 1+2 Ab", "Reagente"),
        ("http://loinc.org", "Patient/123", '"total": 1', '"valueQuantity": null'),
    ),
    _json(
        "fhir medication statement",
        _MEDICATION,
        ("1049221", "Zidovudina 300 mg", "1 comprimido de 12 em 12 horas"),
        ('"frequency": 2', "Patient/123"),
    ),
    _json(
        "fhir diagnostic report",
        _REPORT,
        ("24627-2", "TC de tórax", "Nódulo pulmonar", "C34.9"),
        ("Patient/123", '"status": "final"'),
    ),
    _json(
        "esocial s-2200 worker",
        _ESOCIAL_WORKER,
        ('"racaCor": 3', '"defFisica": "S"', "Amputação"),
        ('"tpRegTrab": 1', '"sexo": "F"', "A-1021"),
    ),
    _json(
        "hr employee",
        _HR_EMPLOYEE,
        ("Black or African American", "Candomblé", "Bisexual", "Sindicato dos Bancários", "PSOL",
         "Visual impairment", '"O-"', "Penicilina", "Dipirona", "Sertralina", '"positive"',
         "Rk1SACAyMAAAAAFiAAABQAHgAMUAxQEAAAAo"),
        ("Finance", "ISO-19794-2", "Corrida de São Silvestre", '"id": 8812'),
    ),
    _json(
        "ibge census-like records",
        _CENSUS,
        ("parda", "preta", "evangélica", "católica", '"sim"', '"não"'),
        ('"idade": 34', '"sexo": "F"'),
    ),
    _json(
        "health plan beneficiary",
        _PLAN_BENEFICIARY,
        ('"AB+"', "F32.1", "Episódio depressivo", "Látex", '"gravidade": "alta"', '"gestante": "S"',
         '"PT"', "SINDMETAL", "NOVO", "amarela"),
        ("Plano Ouro", "dourado"),
    ),
    Payload(
        "beneficiary form",
        "cpf=11144477735&tipo_sanguineo=O%2B&religiao=Esp%C3%ADrita&orientacao_sexual=gay&cid10=B20",
        "application/x-www-form-urlencoded",
        ("O%2B", "Esp%C3%ADrita", "gay", "B20"),
        ("cpf=",),
    ),
)  # fmt: skip

# -- HL7 FHIR R4 in XML (application/fhir+xml), the shapes of the specification's own
# examples: values in "value" attributes, the narrative in an XHTML <div>.
_FHIR_XML = ' xmlns="http://hl7.org/fhir"'
_XML_US_CORE_PATIENT = (
    f'<Patient{_FHIR_XML}><id value="example"/>'
    '<meta><profile value="http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"/></meta>'
    '<text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml">'
    "<p>Amy V. Shaw, <b>Black or African American</b></p></div></text>"
    '<extension url="http://hl7.org/fhir/us/core/StructureDefinition/us-core-race">'
    '<extension url="ombCategory"><valueCoding><system value="urn:oid:2.16.840.1.113883.6.238"/>'
    '<code value="2054-5"/><display value="Black or African American"/></valueCoding></extension>'
    '<extension url="text"><valueString value="Afro-Caribbean"/></extension></extension>'
    '<identifier><system value="http://hospital.smarthealthit.org"/><value value="1032702"/></identifier>'
    '<active value="true"/><gender value="female"/><birthDate value="1987-02-20"/></Patient>'
)
_XML_CONDITION = (
    f'<Condition{_FHIR_XML}><id value="f205"/>'
    '<text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml">'
    "Doença pelo HIV resultando em doenças infecciosas</div></text>"
    '<clinicalStatus><coding><system value="http://terminology.hl7.org/CodeSystem/condition-clinical"/>'
    '<code value="active"/></coding></clinicalStatus>'
    '<code><coding><system value="http://hl7.org/fhir/sid/icd-10"/><code value="B20"/>'
    '<display value="HIV disease"/></coding><text value="Doença pelo HIV"/></code>'
    '<subject><reference value="Patient/f201"/></subject>'
    '<onsetDateTime value="2013-04-02"/></Condition>'
)
_XML_BLOOD_TYPE = (
    f'<Observation{_FHIR_XML}><id value="blood-type"/><status value="final"/>'
    '<code><coding><system value="http://loinc.org"/><code value="882-1"/>'
    '<display value="ABO and Rh group [Type] in Blood"/></coding></code>'
    '<subject><reference value="Patient/123"/></subject>'
    '<valueString value="O+"/></Observation>'
)
_XML_ALLERGY = (
    f'<AllergyIntolerance{_FHIR_XML}><id value="example"/>'
    '<category value="food"/><criticality value="high"/>'
    '<code><coding><system value="http://snomed.info/sct"/><code value="227493005"/>'
    '<display value="Cashew nuts"/></coding></code>'
    '<patient><reference value="Patient/example"/></patient>'
    '<reaction><substance><coding><system value="http://www.nlm.nih.gov/research/umls/rxnorm"/>'
    '<code value="1160593"/><display value="cashew nut allergenic extract Injectable Product"/>'
    '</coding></substance><manifestation><coding><system value="http://snomed.info/sct"/>'
    '<code value="39579001"/><display value="Anaphylactic reaction"/></coding></manifestation>'
    '<description value="Challenge Protocol. Severe reaction to subcutaneous cashew extract."/>'
    "</reaction></AllergyIntolerance>"
)
_XML_MEDICATION = (
    f'<MedicationStatement{_FHIR_XML}><id value="example001"/><status value="active"/>'
    '<medicationCodeableConcept><coding><system value="http://www.nlm.nih.gov/research/umls/rxnorm"/>'
    '<code value="1049221"/><display value="Zidovudina 300 mg"/></coding></medicationCodeableConcept>'
    '<subject><reference value="Patient/pat1"/></subject>'
    '<dosage><text value="1 comprimido de 12 em 12 horas"/><timing><repeat>'
    '<frequency value="2"/><period value="1"/><periodUnit value="d"/></repeat></timing></dosage>'
    "</MedicationStatement>"
)
# A terminology server's CodeSystem: codes and displays of no one.
_XML_CODE_SYSTEM = (
    f'<CodeSystem{_FHIR_XML}><id value="icd-10-excerpt"/><url value="http://hl7.org/fhir/sid/icd-10"/>'
    '<status value="active"/><content value="fragment"/>'
    '<concept><code value="B20"/><display value="HIV disease"/></concept>'
    '<concept><code value="F32.1"/><display value="Moderate depressive episode"/></concept></CodeSystem>'
)

# Holders whose name says whose record they hold only with their first word.
_HOLDERS = {
    "pacienteInfo": {"raca": "parda", "medicamentos": ["Losartana 50mg"], "cid": "I10"},
    "patientInfo": {"race": "Asian", "pregnant": "yes", "icd10": "O24.4"},
    "beneficiarioInfo": {"fatorRh": "negativo", "pcd": "S"},
}
# A person's free text in XML (a clinic's appointment record).
_XML_NOTES = (
    "<consulta><paciente><cpf>52998224725</cpf>"
    "<observacoes>Paciente com CID F32.1, retorno em 30 dias</observacoes>"
    "<notas>Relata cansaço. Diagnóstico: diabetes tipo 2; segue dieta</notas>"
    "<anamnese>Hipertensa há 10 anos</anamnese>"
    "<obs>Sala B20, exame de rotina</obs></paciente></consulta>"
)

CORPUS_MORE: tuple[Payload, ...] = (
    Payload(
        "fhir xml us core patient",
        _XML_US_CORE_PATIENT,
        "application/fhir+xml",
        ("2054-5", "Black or African American", "Afro-Caribbean", "Amy V. Shaw", "1987-02-20"),
        ("us-core-race", "urn:oid:2.16.840.1.113883.6.238", "ombCategory", '"female"',
         '<active value="true"/>'),
    ),
    Payload(
        "fhir xml condition icd-10",
        _XML_CONDITION,
        "application/fhir+xml",
        ('"B20"', "HIV disease", "Doença pelo HIV"),
        ("http://hl7.org/fhir/sid/icd-10", "Patient/f201", '"active"', "2013-04-02"),
    ),
    Payload(
        "fhir xml blood type observation",
        _XML_BLOOD_TYPE,
        "application/fhir+xml",
        ('"O+"', "882-1", "ABO and Rh group"),
        ("http://loinc.org", "Patient/123", '"final"'),
    ),
    Payload(
        "fhir xml allergy intolerance",
        _XML_ALLERGY,
        "application/fhir+xml",
        ("227493005", "Cashew nuts", "1160593", "cashew nut", "39579001", "Anaphylactic", "Challenge"),
        ("Patient/example", "http://snomed.info/sct", '"food"', '"high"'),
    ),
    Payload(
        "fhir xml medication statement",
        _XML_MEDICATION,
        "application/fhir+xml",
        ("1049221", "Zidovudina", "1 comprimido"),
        ('<frequency value="2"/>', "Patient/pat1", "rxnorm"),
    ),
    Payload(
        "fhir xml code system of no one",
        _XML_CODE_SYSTEM,
        "application/fhir+xml",
        (),
        ('"B20"', "HIV disease", '"F32.1"', "Moderate depressive episode"),
    ),
    _json(
        "holders named by their first word",
        _HOLDERS,
        ('"parda"', "Losartana", '"I10"', '"Asian"', '"yes"', "O24.4", "negativo", '"S"'),
        ("pacienteInfo", "patientInfo", "beneficiarioInfo"),
    ),
    Payload(
        "a person's free text in xml",
        _XML_NOTES,
        "application/xml",
        ("F32.1", "diabetes tipo 2", "Hipertensa"),
        ("Paciente com CID", "retorno em 30 dias", "Relata cansaço", "segue dieta", "Sala B20"),
    ),
)  # fmt: skip
