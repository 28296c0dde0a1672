"""Brazil's fiscal XML (CT-e, MDF-e): a person's record under a name the sanitizer does
not know, and a plate next to a phone.

* CT-e's sender (``<rem>``), shipper, receiver and payer are a person when they hold a
  ``<CPF>``; a rural producer also holds a state registration (``<IE>``), a company's
  mark, which made the record a company's: the name, street and CEP went out.
* NF-e's issuer (``<emit>``) and carrier (``<transporta>``) are a company's records,
  unless they hold a CPF where a company has its CNPJ (a rural producer, a
  self-employed carrier): their names and the issuer's address went out.
* BP-e's passenger holds an identity document's number (``<nDoc>``, its kind in
  ``<tpDoc>``: RG, passport, CNH): it went out.
* eSocial names its people and streets its own way (``nmTrab``, ``nmDep``,
  ``dscLograd``, ``nrLograd``): they went out.
* SEFAZ's distribution web service answers each document gzipped in base64
  (``<docZip>H4sIAAAA...</docZip>``): it went out whole, CPFs, names and addresses.
* An MDF-e with a trailer's ``<placa>`` and a ``<fone>`` found the plate twice; the two
  findings were ranked by a table that did not know plates, and the sanitizer failed:
  the whole body was dropped, the exchange got no stub.
"""

from __future__ import annotations

import base64
import gzip
import re

from ext_proc_server.sanitize import hits, pseudonym
from tests.unit.sanitize.sanitize_helpers import make_cpf, request_exchange, sanitizer

SANITIZER = sanitizer()
CPF = make_cpf("723045539")


def _xml(body: str) -> str:
    exchange = request_exchange(body=body, content_type="application/xml")
    clean = SANITIZER.sanitize(exchange)
    assert not clean.request.body_dropped
    return clean.request.body.decode()


def _filled(record: str, **fields: tuple[str, str]) -> tuple[str, str]:
    """``record`` with each field's raw value, and with what it is replaced by."""
    raw = record.format(**{k: v[0] for k, v in fields.items()})
    return raw, record.format(**{k: v[1] for k, v in fields.items()})


def test_a_sender_with_a_cpf_and_a_state_registration_is_a_person() -> None:
    record = (
        "<CTe><infCte><rem><CPF>{cpf}</CPF><IE>ISENTO</IE><xNome>{name}</xNome>"
        "<enderReme><xLgr>{street}</xLgr><nro>38</nro><xBairro>{district}</xBairro>"
        "<cMun>5101407</cMun><xMun>ARIPUANA</xMun><CEP>{cep}</CEP><UF>MT</UF></enderReme>"
        "</rem></infCte></CTe>"
    )
    body, clean = _filled(
        record,
        cpf=(CPF, "SANITIZED_DOCUMENT"),
        name=("ROGERIO MARCIO TOLARDO", "SANITIZED_NAME"),
        street=("GLEBA GUARIBA VI LOTE RURAL 38", "SANITIZED_ADDRESS"),
        district=("ZONA RURAL", "SANITIZED_ADDRESS"),
        cep=("78325000", "SANITIZED_CEP"),
    )
    assert _xml(body) == clean.replace("<nro>38</nro>", "<nro>SANITIZED_ADDRESS</nro>")


def test_a_sender_with_a_cnpj_is_a_company() -> None:
    body = (
        "<CTe><infCte><rem><CNPJ>24686092000173</CNPJ><IE>133542173</IE>"
        "<xNome>TRANSPORTES TOLARDO LTDA</xNome><enderReme><xLgr>AVENIDA BRASIL</xLgr>"
        "<nro>1200</nro><xBairro>CENTRO</xBairro><CEP>78325000</CEP></enderReme>"
        "</rem></infCte></CTe>"
    )
    clean = _xml(body)
    for kept in ("TRANSPORTES TOLARDO LTDA", "AVENIDA BRASIL", "CENTRO", "78325000"):
        assert f">{kept}<" in clean


def test_an_issuer_and_a_carrier_with_a_cpf_are_people() -> None:
    record = (
        "<NFe><infNFe><emit><CPF>{cpf}</CPF><xNome>{name}</xNome><enderEmit>"
        "<xLgr>{street}</xLgr><nro>{number}</nro><xBairro>{district}</xBairro><xMun>CUIABA</xMun>"
        "<CEP>{cep}</CEP></enderEmit><IE>133542173</IE><CRT>1</CRT></emit>"
        "<transp><transporta><CPF>{cpf}</CPF><xNome>{carrier}</xNome><IE>ISENTO</IE>"
        "<xEnder>{line}</xEnder><xMun>CUIABA</xMun><UF>MT</UF></transporta></transp>"
        "</infNFe></NFe>"
    )
    body, clean = _filled(
        record,
        cpf=(CPF, "SANITIZED_DOCUMENT"),
        name=("JOSE CARLOS PEREIRA", "SANITIZED_NAME"),
        street=("SITIO BOA VISTA", "SANITIZED_ADDRESS"),
        number=("KM 12", "SANITIZED_ADDRESS"),
        district=("ZONA RURAL", "SANITIZED_ADDRESS"),
        cep=("78325000", "SANITIZED_CEP"),
        carrier=("MARIA APARECIDA SOUZA", "SANITIZED_NAME"),
        line=("RUA DAS FLORES 12", "SANITIZED_ADDRESS"),
    )
    assert _xml(body) == clean


def test_an_issuer_with_a_cnpj_keeps_its_name_and_address() -> None:
    body = (
        "<NFe><infNFe><emit><CNPJ>24686092000173</CNPJ><xNome>JOSE CARLOS PEREIRA ME</xNome>"
        "<xFant>SITIO BOA VISTA</xFant><enderEmit><xLgr>AVENIDA BRASIL</xLgr><nro>1200</nro>"
        "<xBairro>CENTRO</xBairro><CEP>78325000</CEP></enderEmit><IE>133542173</IE></emit>"
        "</infNFe></NFe>"
    )
    clean = _xml(body)
    for kept in ("JOSE CARLOS PEREIRA ME", "AVENIDA BRASIL", "CENTRO", "78325000", "1200"):
        assert f">{kept}<" in clean


def test_esocial_names_and_streets() -> None:
    record = (
        "<eSocial><evtAdmissao><trabalhador><cpfTrab>{cpf}</cpfTrab><nmTrab>{worker}</nmTrab>"
        "<nmSoc>{social}</nmSoc><sexo>F</sexo><endereco><brasil><tpLograd>R</tpLograd>"
        "<dscLograd>{street}</dscLograd><nrLograd>{number}</nrLograd><bairro>{district}</bairro>"
        "<cep>{cep}</cep><codMunic>5103403</codMunic><uf>MT</uf></brasil></endereco>"
        "</trabalhador><dependente><tpDep>03</tpDep><nmDep>{child}</nmDep>"
        "<dtNascto>{born}</dtNascto></dependente><contato><nmCtt>{contact}</nmCtt></contato>"
        "</evtAdmissao></eSocial>"
    )
    body, clean = _filled(
        record,
        cpf=(CPF, "SANITIZED_DOCUMENT"),
        worker=("MARIA APARECIDA SOUZA", "SANITIZED_NAME"),
        social=("MARIA SOUZA", "SANITIZED_NAME"),
        street=("DAS FLORES", "SANITIZED_ADDRESS"),
        number=("12", "SANITIZED_ADDRESS"),
        district=("CENTRO", "SANITIZED_ADDRESS"),
        cep=("78325000", "SANITIZED_CEP"),
        child=("ANA SOUZA PEREIRA", "SANITIZED_NAME"),
        born=("2015-01-02", "SANITIZED_DATE"),
        contact=("JOSE CARLOS PEREIRA", "SANITIZED_NAME"),
    )
    assert _xml(body) == clean


def test_a_plate_beside_a_phone_is_replaced_and_the_body_kept() -> None:
    body = (
        "<MDFe><emit><fone>04431414900</fone></emit>"
        "<veicReboque><placa>RER7878</placa><tara>7500</tara></veicReboque></MDFe>"
    )
    assert _xml(body) == (
        "<MDFe><emit><fone>SANITIZED_PHONE</fone></emit>"
        "<veicReboque><placa>SANITIZED_PLATE</placa><tara>7500</tara></veicReboque></MDFe>"
    )


def test_overlapping_findings_of_every_class_are_ranked() -> None:
    for cls in pseudonym.TOKENS:
        kept = hits.resolve([hits.Hit(4, 11, cls), hits.Hit(0, 11, "phone")])
        assert len(kept) == 1, cls


def _distribution(document: str) -> str:
    zipped = base64.b64encode(gzip.compress(document.encode(), mtime=1733480000)).decode()
    return (
        '<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body>'
        '<retDistDFeInt versao="1.01"><cStat>138</cStat><loteDistDFeInt>'
        f'<docZip NSU="000000000000201" schema="procNFe_v4.00.xsd">{zipped}</docZip>'
        "</loteDistDFeInt></retDistDFeInt></soap:Body></soap:Envelope>"
    )


_DOC_ZIP = re.compile(r'(?<=schema="procNFe_v4.00.xsd">)[^<]+')


def _docs(body: str) -> list[str]:
    return [gzip.decompress(base64.b64decode(t)).decode() for t in _DOC_ZIP.findall(body)]


def test_a_gzipped_document_in_base64_is_read_and_written_back_gzipped() -> None:
    document = (
        '<?xml version="1.0" encoding="UTF-8"?><nfeProc><NFe><infNFe><dest>'
        f"<CPF>{CPF}</CPF><xNome>MARIA APARECIDA SOUZA</xNome><enderDest>"
        "<xLgr>RUA DAS FLORES</xLgr><nro>12</nro><CEP>78325000</CEP></enderDest>"
        "<email>maria.souza@example.com.br</email></dest></infNFe></NFe></nfeProc>"
    )
    body = _distribution(document)
    clean = _xml(body)
    assert _docs(clean) == [
        '<?xml version="1.0" encoding="UTF-8"?><nfeProc><NFe><infNFe><dest>'
        "<CPF>SANITIZED_DOCUMENT</CPF><xNome>SANITIZED_NAME</xNome><enderDest>"
        "<xLgr>SANITIZED_ADDRESS</xLgr><nro>SANITIZED_ADDRESS</nro><CEP>SANITIZED_CEP</CEP>"
        "</enderDest><email>SANITIZED_EMAIL</email></dest></infNFe></NFe></nfeProc>"
    ]
    assert _xml(body) == clean  # written the same way each time (no timestamp)
    # Outside the token, not a byte changed.
    assert _DOC_ZIP.sub("", clean) == _DOC_ZIP.sub("", body)


def test_a_gzipped_document_with_nothing_personal_stays_as_it_came() -> None:
    body = _distribution(
        "<resEvento><cOrgao>35</cOrgao><tpEvento>110111</tpEvento>"
        "<xEvento>Cancelamento</xEvento></resEvento>"
    )
    assert _xml(body) == body


def test_a_passengers_document_number_is_replaced_and_another_documents_kept() -> None:
    record = (
        "<BPe><infPassageiro><xNome>{name}</xNome><CPF>{cpf}</CPF>"
        "<tpDoc>1</tpDoc><nDoc>{number}</nDoc></infPassageiro>"
        "<infOutros><tpDoc>99</tpDoc><nDoc>000123456</nDoc></infOutros></BPe>"
    )
    body, clean = _filled(
        record,
        name=("MARIA APARECIDA SOUZA", "SANITIZED_NAME"),
        cpf=(CPF, "SANITIZED_DOCUMENT"),
        number=("123456789", "SANITIZED_DOCUMENT"),
    )
    assert _xml(body) == clean


def test_a_gzipped_document_too_large_to_read_drops_the_body() -> None:
    """What inflates past what is read cannot be checked: the body is dropped with its
    reason, never stored as it came."""
    filler = "<obsCont><xTexto>" + "0" * (1 << 20) + "</xTexto></obsCont>"
    document = f"<nfeProc><dest><CPF>{CPF}</CPF><xNome>MARIA SOUZA</xNome></dest>{filler}</nfeProc>"
    body = _distribution(document)
    exchange = SANITIZER.sanitize(request_exchange(body=body, content_type="application/xml"))
    assert exchange.request.body_dropped
    assert exchange.request.body_drop_reason == "decoded_too_large"
    assert exchange.request.body == b""
