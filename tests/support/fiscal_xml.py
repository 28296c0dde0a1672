"""Brazil's fiscal XML as a corpus: the published samples of nfelib (NF-e, NFC-e, CT-e,
MDF-e, NFS-e, BP-e, NF3e, NFCom and their events; fetched by ``make tools``), each
wrapped as the exchanges an integration makes with it:

* a SOAP ``POST`` to a SEFAZ-like web service, the document in ``nfeDadosMsg`` and a
  ``retEnviNFe``-style receipt in the answer;
* a REST ``POST /v1/nfe`` of the document (``application/xml``), answered ``201`` with
  the new note's ``Location``;
* a ``GET /v1/notas/{chave}`` answering the document;
* a SOAP ``nfeDistDFeInteresse`` (SEFAZ's distribution of documents to the companies
  they name), answered with the document gzipped in base64 (``<docZip>``).

What is personal in a document: a record that holds a ``<CPF>`` of its own is a
person's (``<dest>``, ``<rem>``, ``<toma>``, ``<condutor>``, ``<infPassageiro>``, an
``<autXML>``, ...); its CPF, its names (``<xNome>``, ``<xFant>``), its phone and
e-mail, its birth date, its identity document's number (``<nDoc>``) and the lines of
its address (``<xLgr>``, ``<nro>``, ``<xCpl>``, ``<xBairro>``, ``<CEP>``, held by it or
by its ``<ender*>``) are that person's; a placeholder (``11111111111``, ``XXXXXXXX``, a
CPF whose check digits are wrong) names nobody. A record with a ``<CNPJ>`` is a
company's and is public. The 44-digit access key (``chave``) is the document's id.
"""

from __future__ import annotations

import base64
import gzip
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from stdnum.br import cpf

from ext_proc_server.core.exchange import Exchange, HttpRequest, HttpResponse
from tests.support.openapi_examples import ApiExample
from tests.support.paths import REPO

NFELIB = REPO / ".tools/pypi/nfelib-3.2.0"
SEFAZ = "nfe.sefaz.sp.gov.br"
REST = "api.notas.example.com.br"
SOAP_TYPE = 'application/soap+xml; charset=utf-8; action="{action}"'
XML_TYPE = "application/xml; charset=utf-8"
CLIENT = (("user-agent", "erp-fiscal/4.2"), ("accept", "application/xml"))
# An access key: the document kind and its 44 digits, in the ``Id`` of its ``inf*``.
KEY_ID = re.compile(r'\bId="[A-Za-z]{2,5}(\d{44})"')
# The lines of a person's record that are theirs, by element name.
PERSON_FIELDS = frozenset(
    {"CPF", "xNome", "xFant", "fone", "email", "dNasc", "dtNascto", "xLgr", "nro", "xCpl"}
    | {"xBairro", "CEP", "nDoc"}
)
DISTRIBUTION = "www1.nfe.fazenda.gov.br"
_DOC_ZIP = re.compile(r"H4sI[A-Za-z0-9+/]+=*")
# Shorter values (``nro`` 12, ``S/N``) name nobody on their own.
MIN_CHECKED = 4


@dataclass(frozen=True)
class FiscalSample:
    """One published document: its file, text and access key (or ``""``)."""

    path: Path
    text: str
    chave: str

    @property
    def name(self) -> str:
        return str(self.path.relative_to(NFELIB))


def samples() -> list[FiscalSample]:
    """Every sample document of nfelib's distribution, sorted by path."""
    out = []
    for path in sorted(NFELIB.rglob("*")):
        if path.suffix.lower() != ".xml" or "samples" not in path.parts:
            continue
        text = path.read_bytes().decode("utf-8-sig")
        match = KEY_ID.search(text)
        out.append(FiscalSample(path, text, match.group(1) if match else ""))
    return out


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _records(root: ET.Element) -> Iterator[ET.Element]:
    """The person records of a document: elements holding a ``<CPF>`` of their own."""
    for element in root.iter():
        if any(_local(child.tag) == "CPF" and (child.text or "").strip() for child in element):
            yield element


def _person_lines(record: ET.Element) -> Iterator[tuple[str, str]]:
    for child in record:
        name = _local(child.tag)
        if name.startswith("ender"):
            yield from _person_lines(child)
        elif name in PERSON_FIELDS and (child.text or "").strip():
            value = child.text.strip()
            # A placeholder (XXXXXXXX, 11111111111: Receita's rule) names nobody.
            if len(set(value)) > 1 and (name != "CPF" or cpf.is_valid(value)):
                yield name, value


def personal_values(sample: FiscalSample) -> dict[str, str]:
    """A document's personal values, each with the element that holds it; those the
    same document also holds in a public place are public there and left out."""
    root = ET.fromstring(sample.text.encode())
    personal: dict[str, str] = {}
    for record in _records(root):
        personal.update((value, name) for name, value in _person_lines(record))
    mine = {id(child) for record in _records(root) for child in record.iter()}
    public = {(element.text or "").strip() for element in root.iter() if id(element) not in mine}
    return {
        value: name
        for value, name in personal.items()
        if len(value) >= MIN_CHECKED and value not in public
    }


def _body(sample: FiscalSample) -> str:
    return re.sub(r"^\s*<\?xml[^>]*\?>\s*", "", sample.text)


def _soap(sample: FiscalSample, index: int) -> Exchange:
    action = "http://www.portalfiscal.inf.br/nfe/wsdl/NFeAutorizacao4/nfeAutorizacaoLote"
    envelope = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<soap12:Envelope xmlns:soap12="http://www.w3.org/2003/05/soap-envelope">'
        '<soap12:Body><nfeDadosMsg xmlns="http://www.portalfiscal.inf.br/nfe/wsdl/'
        'NFeAutorizacao4"><enviNFe xmlns="http://www.portalfiscal.inf.br/nfe" versao="4.00">'
        f"<idLote>{index + 1}</idLote><indSinc>1</indSinc>{_body(sample)}</enviNFe>"
        "</nfeDadosMsg></soap12:Body></soap12:Envelope>"
    )
    answer = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body>'
        '<nfeResultMsg xmlns="http://www.portalfiscal.inf.br/nfe/wsdl/NFeAutorizacao4">'
        '<retEnviNFe xmlns="http://www.portalfiscal.inf.br/nfe" versao="4.00">'
        "<tpAmb>2</tpAmb><verAplic>SP_NFE_PL009_V4</verAplic><cStat>104</cStat>"
        "<xMotivo>Lote processado</xMotivo><cUF>35</cUF>"
        '<protNFe versao="4.00"><infProt><tpAmb>2</tpAmb>'
        f"<chNFe>{sample.chave}</chNFe><dhRecbto>2026-12-01T10:00:00-03:00</dhRecbto>"
        f"<nProt>13526{index:010d}</nProt><cStat>100</cStat>"
        "<xMotivo>Autorizado o uso da NF-e</xMotivo></infProt></protNFe>"
        "</retEnviNFe></nfeResultMsg></soap:Body></soap:Envelope>"
    )
    request = HttpRequest(
        method="POST",
        path="/ws/NFeAutorizacao4.asmx",
        headers=(("content-type", SOAP_TYPE.format(action=action)),),
        body=envelope.encode(),
        authority=SEFAZ,
        scheme="https",
    )
    response = HttpResponse(
        status=200,
        headers=(("content-type", SOAP_TYPE.format(action=action)),),
        body=answer.encode(),
    )
    return Exchange(
        id=f"fiscal-soap-{index}", request=request, response=response, namespace="world"
    )


def _rest(sample: FiscalSample, index: int) -> tuple[Exchange, Exchange]:
    location = f"/v1/notas/{sample.chave}"
    created = (
        f'<?xml version="1.0" encoding="utf-8"?><nota><chave>{sample.chave}</chave>'
        "<situacao>autorizada</situacao></nota>"
    )
    post = Exchange(
        id=f"fiscal-post-{index}",
        request=HttpRequest(
            method="POST",
            path="/v1/nfe",
            headers=(*CLIENT, ("content-type", XML_TYPE)),
            body=sample.text.encode(),
            authority=REST,
            scheme="https",
        ),
        response=HttpResponse(
            status=201,
            headers=(("content-type", XML_TYPE), ("location", location)),
            body=created.encode(),
        ),
        namespace="world",
    )
    get = Exchange(
        id=f"fiscal-get-{index}",
        request=HttpRequest(
            method="GET", path=location, headers=CLIENT, authority=REST, scheme="https"
        ),
        response=HttpResponse(
            status=200, headers=(("content-type", XML_TYPE),), body=sample.text.encode()
        ),
        namespace="world",
    )
    return post, get


def _distribution(sample: FiscalSample, index: int) -> Exchange:
    action = "http://www.portalfiscal.inf.br/nfe/wsdl/NFeDistribuicaoDFe/nfeDistDFeInteresse"
    query = (
        f"<consChNFe><chNFe>{sample.chave}</chNFe></consChNFe>"
        if sample.chave
        else f"<distNSU><ultNSU>{index:015d}</ultNSU></distNSU>"
    )
    envelope = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<soap12:Envelope xmlns:soap12="http://www.w3.org/2003/05/soap-envelope">'
        '<soap12:Body><nfeDistDFeInteresse xmlns="http://www.portalfiscal.inf.br/nfe/wsdl/'
        'NFeDistribuicaoDFe"><nfeDadosMsg><distDFeInt xmlns="http://www.portalfiscal.inf.br/nfe"'
        ' versao="1.01"><tpAmb>1</tpAmb><cUFAutor>35</cUFAutor><CNPJ>11222333000181</CNPJ>'
        f"{query}</distDFeInt></nfeDadosMsg></nfeDistDFeInteresse></soap12:Body>"
        "</soap12:Envelope>"
    )
    zipped = base64.b64encode(gzip.compress(sample.text.encode(), mtime=0)).decode()
    answer = (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body>'
        '<nfeDistDFeInteresseResponse xmlns="http://www.portalfiscal.inf.br/nfe/wsdl/'
        'NFeDistribuicaoDFe"><nfeDistDFeInteresseResult><retDistDFeInt versao="1.01" '
        'xmlns="http://www.portalfiscal.inf.br/nfe"><tpAmb>1</tpAmb><cStat>138</cStat>'
        "<xMotivo>Documento localizado</xMotivo><dhResp>2026-12-01T10:00:00-03:00</dhResp>"
        f"<ultNSU>{index + 1:015d}</ultNSU><maxNSU>{index + 1:015d}</maxNSU><loteDistDFeInt>"
        f'<docZip NSU="{index + 1:015d}" schema="procNFe_v4.00.xsd">{zipped}</docZip>'
        "</loteDistDFeInt></retDistDFeInt></nfeDistDFeInteresseResult>"
        "</nfeDistDFeInteresseResponse></soap:Body></soap:Envelope>"
    )
    content_type = (("content-type", SOAP_TYPE.format(action=action)),)
    return Exchange(
        id=f"fiscal-dist-{index}",
        request=HttpRequest(
            method="POST",
            path="/NFeDistribuicaoDFe/NFeDistribuicaoDFe.asmx",
            headers=content_type,
            body=envelope.encode(),
            authority=DISTRIBUTION,
            scheme="https",
        ),
        response=HttpResponse(status=200, headers=content_type, body=answer.encode()),
        namespace="world",
    )


def unzipped(stored: str) -> str:
    """``stored`` with the text of every gzipped document in base64 it holds."""
    found = [gzip.decompress(base64.b64decode(m.group())) for m in _DOC_ZIP.finditer(stored)]
    return "\n".join([stored, *(data.decode() for data in found)])


def fiscal_examples(
    chosen: list[FiscalSample] | None = None,
) -> list[tuple[FiscalSample, ApiExample]]:
    """Each sample's exchanges (those with an access key: all three), with the sample;
    of every sample, or of the ``chosen`` ones."""
    out: list[tuple[FiscalSample, ApiExample]] = []
    for index, sample in enumerate(samples() if chosen is None else chosen):
        exchanges = [
            ("nfeAutorizacaoLote", _soap(sample, index)),
            ("nfeDistDFeInteresse", _distribution(sample, index)),
        ]
        if sample.chave:
            post, get = _rest(sample, index)
            exchanges += [("POST /v1/nfe", post), ("GET /v1/notas/{chave}", get)]
        for operation, exchange in exchanges:
            out.append((sample, ApiExample(operation, exchange, sample.name)))
    return out
