"""XML inside a JSON string (an issuing API's authorised NF-e in an ``xml`` field, as
Focus NFe, NFE.io, eNotas and PlugNotas answer; SOAP wrapped in JSON by a gateway) is
read by its elements' names, as an XML body is: a person's ``<xNome>``, ``<xLgr>``,
``<nro>``, ``<CEP>`` and ``<fone>`` go even with no shape to find, whether the string
is escaped (``json.dumps``) or not, and whatever whitespace opens it."""

from __future__ import annotations

import html
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.sanitize.run import is_token
from tests.support.fiscal_xml import personal_values, samples
from tests.unit.sanitize.sanitize_helpers import make_cpf, request_exchange, sanitizer

_SANITIZER = sanitizer()
NFE = "http://www.portalfiscal.inf.br/nfe"


def _sanitized_body(body: str, content_type: str = "application/json") -> str:
    exchange = request_exchange(body=body, content_type=content_type, path="/v2/nfe/ref-1")
    return _SANITIZER.sanitize(exchange).request.body.decode()


def _sanitized(doc: object) -> dict[str, object]:
    return json.loads(_sanitized_body(json.dumps(doc)))


def _dest(name: str, street: str, number: str, cep: str, phone: str) -> str:
    """A consumer's ``<dest>`` as SEFAZ's layout writes it, with no CPF: nothing in it has
    a shape a detector finds, only its elements' names say what it holds."""
    return (
        f"<dest><xNome>{name}</xNome><enderDest><xLgr>{street}</xLgr><nro>{number}</nro>"
        f"<xBairro>Bela Vista</xBairro><cMun>3550308</cMun><xMun>Sao Paulo</xMun><UF>SP</UF>"
        f"<CEP>{cep}</CEP><fone>{phone}</fone></enderDest><indIEDest>9</indIEDest></dest>"
    )


def _nfe_proc(dest: str, *, namespace: bool = True) -> str:
    xmlns = f' xmlns="{NFE}" versao="4.00"' if namespace else ""
    return (
        f"<nfeProc{xmlns}><NFe><infNFe><emit><CNPJ>12345678000195</CNPJ>"
        f"<xNome>Loja Exemplo LTDA</xNome></emit>{dest}</infNFe></NFe><protNFe><infProt>"
        "<cStat>100</cStat><xMotivo>Autorizado o uso da NF-e</xMotivo></infProt></protNFe>"
        "</nfeProc>"
    )


_PERSON = ("Maria Souza", "Rua das Flores", "1234", "01310100", "1132654321")


def _personal_in(text: str) -> list[str]:
    return [value for value in _PERSON if value in text]


# -- the leak: a person's lines known only by their elements' names ----------------------


@pytest.mark.parametrize("namespace", [True, False])  # escaped quotes in JSON, or none
def test_a_consumers_lines_in_an_nfe_in_a_json_field_are_replaced(namespace: bool) -> None:
    xml = _nfe_proc(_dest(*_PERSON), namespace=namespace)
    out = _sanitized({"status": "autorizado", "ref": "pedido-1234", "xml": xml})
    fresh = out["xml"]
    assert isinstance(fresh, str)
    assert _personal_in(fresh) == []
    # What must stay: the structure, the issuer (a company), the authorisation, status.
    assert fresh.startswith(f'<nfeProc xmlns="{NFE}" versao="4.00">' if namespace else "<nfeProc>")
    for kept in ("<xNome>Loja Exemplo LTDA</xNome>", "<cStat>100</cStat>", "<UF>SP</UF>",
                 "<xMotivo>Autorizado o uso da NF-e</xMotivo>", "<cMun>3550308</cMun>"):  # fmt: skip
        assert kept in fresh
    assert out["status"] == "autorizado" and out["ref"] == "pedido-1234"


def test_a_json_xml_field_is_read_as_the_same_document_posted_as_xml() -> None:
    xml = _nfe_proc(_dest(*_PERSON))
    as_xml = _sanitized_body(xml, "application/xml; charset=utf-8")
    in_json = _sanitized({"xml": xml})["xml"]
    assert in_json == as_xml


@pytest.mark.parametrize("opening", ["\n", "\r\n  ", "  ", "\t"])
def test_a_document_opening_with_whitespace_is_read_as_xml(opening: str) -> None:
    xml = opening + _nfe_proc(_dest(*_PERSON))
    fresh = _sanitized({"xml": xml})["xml"]
    assert isinstance(fresh, str)
    assert _personal_in(fresh) == []
    assert fresh.startswith(f'{opening}<nfeProc xmlns="{NFE}"')


def test_soap_in_json_reads_a_clients_nome_and_endereco() -> None:
    """A gateway's JSON answer wrapping a SOAP service's (``<nome>``, ``<endereco>``)."""
    soap = (
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
        '<soap:Body><ns2:consultaClienteResponse xmlns:ns2="http://ws.cliente.example.com.br/">'
        "<cliente><nome>Joaquim Pereira Neto</nome><endereco>Avenida Atlantica 1702"
        "</endereco><situacao>ATIVO</situacao></cliente></ns2:consultaClienteResponse>"
        "</soap:Body></soap:Envelope>"
    )
    out = _sanitized({"httpStatus": 200, "body": soap})
    fresh = out["body"]
    assert isinstance(fresh, str)
    assert "Joaquim Pereira Neto" not in fresh and "Avenida Atlantica" not in fresh
    assert "<situacao>ATIVO</situacao>" in fresh
    assert 'xmlns:ns2="http://ws.cliente.example.com.br/"' in fresh


@pytest.mark.parametrize("opening", ["", " "])
def test_plain_xml_with_no_finding_elsewhere_in_the_body_is_read(opening: str) -> None:
    """No escape, no shape anywhere: the body is still parsed for the string's sake."""
    body = '{"id": 7, "xml": "' + opening + '<dest><xNome>Maria Souza</xNome></dest>"}'
    fresh = json.loads(_sanitized_body(body))
    assert "Maria Souza" not in fresh["xml"]
    assert fresh["xml"].startswith(f"{opening}<dest><xNome>")
    assert fresh["id"] == 7


def test_plain_xml_with_a_finding_of_its_own_is_read_by_element_too() -> None:
    """Unescaped, after two spaces: read with the body's findings, its elements added."""
    cpf = make_cpf("529982247")
    xml = f"  <dest><CPF>{cpf}</CPF><xNome>Maria Souza</xNome><xLgr>Rua das Flores</xLgr></dest>"
    body = '{"id": 7, "xml": "' + xml + '"}'
    fresh = json.loads(_sanitized_body(body))["xml"]
    assert fresh.startswith("  <dest><CPF>")
    assert cpf not in fresh and "Maria Souza" not in fresh and "Rua das Flores" not in fresh


@pytest.mark.parametrize(
    "text",
    ["<3 obrigado, volte sempre", "a < b e Rua das Flores > c", "<b>Rua das Flores",
     "  < 12 itens", "<nota>Rua das Flores</nota>"],
)  # fmt: skip
def test_text_that_is_not_a_person_s_element_stays(text: str) -> None:
    """Must stay: text that only looks like markup, and an element no name makes personal."""
    out = _sanitized({"obs": text, "id": 3})
    assert out["obs"] == text


# -- nfelib's published samples, as an issuing API's JSON answer -------------------------


def _leaks(text: str, personal: dict[str, str]) -> list[str]:
    return [
        f"<{element}> {value!r}"
        for value, element in sorted(personal.items())
        if value in text or html.escape(value, quote=False) in text
    ]


def test_no_personal_value_of_a_published_sample_in_a_json_field_stays() -> None:
    leaks: list[str] = []
    checked = 0
    for sample in samples():
        personal = personal_values(sample)
        if not personal:
            continue
        checked += len(personal)
        answer = {"status": "autorizado", "chave": sample.chave, "xml": sample.text}
        fresh = _sanitized(answer)["xml"]
        assert isinstance(fresh, str)
        leaks += [f"{sample.name}: {leak}" for leak in _leaks(fresh, personal)]
    assert checked > 30  # 39 values in 3.2.0's samples
    assert leaks == [], f"{len(leaks)} personal values stay: {leaks}"


# -- property: generated consumers ---------------------------------------------------------

_FIRST = st.sampled_from(["Maria", "João", "Ana Clara", "Rafael", "Lúcia", "Pedro Henrique"])
_LAST = st.sampled_from(["Souza", "Oliveira", "Pereira Lima", "Castro", "Nogueira Prado"])
_STREET = st.builds(
    "{} {}".format,
    st.sampled_from(["Rua", "Avenida", "Travessa", "Alameda"]),
    st.sampled_from(["das Acácias", "Brigadeiro Faria Lima", "Dom Pedro II", "do Ouvidor"]),
)


@settings(max_examples=40, deadline=None)
@given(
    st.builds("{} {}".format, _FIRST, _LAST),
    _STREET,
    st.from_regex(r"[1-9][0-9]{2,4}", fullmatch=True),
    st.from_regex(r"[0-9]{8}", fullmatch=True),
    st.from_regex(r"[1-9][0-9]{9}", fullmatch=True),
    st.sampled_from(["xml", "xmlNfe", "nfeProc", "documento"]),
    st.booleans(),
)
def test_generated_consumers_in_a_json_nfe_lose_their_lines(
    name: str, street: str, number: str, cep: str, phone: str, key: str, cpf: bool
) -> None:
    values = [name, street, number, cep, phone]
    assert not any(is_token(value) for value in values)
    dest = _dest(name, street, number, cep, phone)
    if cpf:
        dest = dest.replace("<dest>", f"<dest><CPF>{make_cpf('529982247')}</CPF>")
    fresh = _sanitized({"id": 7, key: _nfe_proc(dest), "ok": True})[key]
    assert isinstance(fresh, str)
    for element, value in zip(("xNome", "xLgr", "nro", "CEP", "fone"), values, strict=True):
        assert f"<{element}>{value}</{element}>" not in fresh
    assert name not in fresh and street not in fresh
    assert fresh.startswith(f'<nfeProc xmlns="{NFE}" versao="4.00">')
    assert "<xNome>Loja Exemplo LTDA</xNome>" in fresh
