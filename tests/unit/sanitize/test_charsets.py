"""Text in a declared charset is sanitized like UTF-8 text and written back in that charset."""

from __future__ import annotations

import codecs
import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from urllib.parse import parse_qsl

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ext_proc_server.core.exchange import BODY_DROP_REASONS, Exchange, HttpResponse
from ext_proc_server.sanitize.charsets import charset_for, declared_label
from tests.unit.sanitize.sanitize_helpers import fmt_cpf, make_cpf, request_exchange, sanitizer

CPF = make_cpf("529982247")
TOKENS = sanitizer()
PSEUDONYMS = sanitizer(sanitize_mode="pseudonyms", pseudonym_key="k" * 32)
LEGACY = ("iso-8859-1", "windows-1252", "iso-8859-15")
# Characters whose bytes differ between the three (or that one of them lacks).
DIFFERING = {
    "iso-8859-1": "¤ ¦ ½",
    "windows-1252": "€ Š œ “aspas” \u2013 ‰",
    "iso-8859-15": "€ Š œ Ž",
}


def body_of(body: bytes, content_type: str, sanitizer_=TOKENS) -> HttpResponse:
    exchange = request_exchange(content_type=content_type).replace(
        response=HttpResponse(status=200, headers=(("content-type", content_type),), body=body)
    )
    out = sanitizer_.sanitize(exchange).response
    assert out is not None
    return out


def nfe(name: str, cpf: str) -> str:
    """An NF-e (Brazilian electronic invoice) as issuers still send it: ISO-8859-1 XML."""
    return (
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n'
        '<nfeProc versao="4.00" xmlns="http://www.portalfiscal.inf.br/nfe"><NFe><infNFe>'
        "<emit><CNPJ>11222333000181</CNPJ><xNome>Padaria São João Ltda</xNome>"
        "<enderEmit><xLgr>Rua da Conceição</xLgr><nro>100</nro><xMun>São Paulo</xMun>"
        "</enderEmit></emit>"
        f"<dest><CPF>{cpf}</CPF><xNome>{name}</xNome>"
        "<enderDest><xLgr>Avenida Getúlio Vargas</xLgr><nro>1500</nro><xBairro>Funcionários"
        "</xBairro><xMun>Belo Horizonte</xMun><UF>MG</UF></enderDest></dest>"
        '<det nItem="1"><prod><xProd>Pão francês (kg) - promoção</xProd><vProd>12.90</vProd>'
        "</prod></det><infAdic><infCpl>Obrigado pela preferência</infCpl></infAdic>"
        "</infNFe></NFe></nfeProc>"
    )


def test_an_iso_8859_1_nfe_is_sanitized_and_stays_iso_8859_1() -> None:
    raw = nfe("José Antônio Conceição", CPF).encode("iso-8859-1")
    out = body_of(raw, "application/xml")
    assert not out.body_dropped
    text = out.body.decode("iso-8859-1")
    assert CPF not in text and "José Antônio" not in text
    # Everything else is the same, accents included, in the same bytes.
    assert "Padaria São João Ltda".encode("iso-8859-1") in out.body
    assert "<xProd>Pão francês (kg) - promoção</xProd>".encode("iso-8859-1") in out.body
    assert "Funcionários" not in text  # a person's neighbourhood
    root = ET.fromstring(out.body)  # still well-formed, read in its declared encoding
    ns = {"n": "http://www.portalfiscal.inf.br/nfe"}
    assert root.find(".//n:emit/n:xNome", ns).text == "Padaria São João Ltda"
    assert root.find(".//n:dest/n:CPF", ns).text == "SANITIZED_DOCUMENT"


def test_pseudonyms_in_a_latin_charset_keep_their_accents_and_encode() -> None:
    raw = nfe("JOSÉ ANTÔNIO CONCEIÇÃO", fmt_cpf(CPF)).encode("iso-8859-1")
    out = body_of(raw, "application/xml; charset=ISO-8859-1", PSEUDONYMS)
    text = out.body.decode("iso-8859-1")
    assert fmt_cpf(CPF) not in text and "CONCEIÇÃO" not in text
    # No byte ISO-8859-1 leaves to control codes (where windows-1252 puts € or Š).
    assert not any(0x80 <= byte <= 0x9F for byte in out.body)
    fake = ET.fromstring(out.body).find(".//{*}dest/{*}xNome").text
    assert fake.isupper() and len(fake.split()) == 3 and fake != "JOSÉ ANTÔNIO CONCEIÇÃO"
    for kept in (
        "Padaria São João Ltda",
        "<xMun>Belo Horizonte</xMun>",
        "Obrigado pela preferência",
    ):
        assert kept.encode("iso-8859-1") in out.body


@pytest.mark.parametrize("charset", LEGACY)
def test_each_legacy_charset_round_trips_its_own_characters(charset: str) -> None:
    text = f"Extrato: {DIFFERING[charset]} — cliente Maria Souza, CPF {fmt_cpf(CPF)}. Obrigado."
    text = text.replace("—", "-") if charset != "windows-1252" else text
    raw = text.encode(charset)
    out = body_of(raw, f"text/plain; charset={charset}")
    assert not out.body_dropped
    fresh = out.body.decode(charset)
    assert fmt_cpf(CPF) not in fresh and "Maria Souza" not in fresh
    assert fresh.startswith(f"Extrato: {DIFFERING[charset]}")
    assert fresh.endswith(". Obrigado.")


@pytest.mark.parametrize("charset", LEGACY)
def test_a_clean_body_comes_back_as_the_same_bytes(charset: str) -> None:
    raw = f"Saldo em conta: R$ 1.234,56 {DIFFERING[charset]} atualizado às 10h".encode(charset)
    assert body_of(raw, f"text/plain; charset={charset}").body == raw


def test_a_windows_1252_html_page_declares_its_charset_in_a_meta_tag() -> None:
    page = (
        "<!DOCTYPE html><html><head>"
        '<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">'
        "<title>Extrato \u2013 Banco “Confiança”</title></head><body>"
        f"<p>Prezada Sra. Conceição Araújo, CPF {fmt_cpf(CPF)}</p>"
        "<p>Saldo: € 1.000,00 • œuvre</p></body></html>"
    )
    raw = page.encode("windows-1252")
    out = body_of(raw, "text/html")
    assert not out.body_dropped
    fresh = out.body.decode("windows-1252")
    assert fmt_cpf(CPF) not in fresh and "Conceição Araújo" not in fresh
    assert "<title>Extrato \u2013 Banco “Confiança”</title>" in fresh
    assert "<p>Saldo: € 1.000,00 • œuvre</p>" in fresh
    parser = HTMLParser()
    parser.feed(fresh)  # still HTML a parser reads to the end
    parser.close()


def test_meta_charset_short_form_and_the_header_wins() -> None:
    raw = '<html><head><meta charset="iso-8859-15"></head><body>€ ana@x.com</body></html>'
    assert declared_label(raw.encode("iso-8859-15"), "text/html", "text/html") == "iso-8859-15"
    out = body_of(raw.encode("iso-8859-15"), "text/html")
    assert out.body.decode("iso-8859-15").endswith("<body>€ SANITIZED_EMAIL</body></html>")
    # The Content-Type charset comes first (HTTP), whatever the page says.
    assert declared_label(raw.encode(), "text/html; charset=utf-8", "text/html") == "utf-8"


@pytest.mark.parametrize("charset", LEGACY)
def test_json_and_forms_in_a_legacy_charset(charset: str) -> None:
    doc = {"cliente": {"nome": "Conceição Araújo", "cpf": CPF}, "loja": "Açougue Bom Preço"}
    raw = json.dumps(doc, ensure_ascii=False).encode(charset)
    out = body_of(raw, f"application/json; charset={charset}")
    parsed = json.loads(out.body.decode(charset))
    assert parsed["cliente"] == {"nome": "SANITIZED_NAME", "cpf": "SANITIZED_DOCUMENT"}
    assert parsed["loja"] == "Açougue Bom Preço"
    form = f"nome=Jos%E9+Concei%E7%E3o&cpf={CPF}&obs=p%E3o".encode(charset)
    out = body_of(form, f"application/x-www-form-urlencoded; charset={charset}")
    fields = dict(parse_qsl(out.body.decode(charset), encoding="latin-1"))
    assert fields["cpf"] == "SANITIZED_DOCUMENT" and fields["obs"] == "pão"


@pytest.mark.parametrize(
    ("bom", "codec"),
    [
        (b"", "utf-16"),  # Python writes the little-endian BOM
        (codecs.BOM_UTF16_BE, "utf-16-be"),
        (b"", "utf-32"),
        (b"", "utf-8-sig"),
    ],
)
def test_unicode_with_a_byte_order_mark(bom: bytes, codec: str) -> None:
    text = f'{{"titular": "Ana Souza", "cpf": "{CPF}", "moeda": "€"}}'
    raw = bom + text.encode(codec)
    codec = "utf-16" if bom else codec
    out = body_of(raw, "application/json")
    assert out.body[:2] == raw[:2]  # the same BOM, the same byte order
    fresh = out.body.decode(codec)
    assert json.loads(fresh) == {
        "titular": "SANITIZED_NAME",
        "cpf": "SANITIZED_DOCUMENT",
        "moeda": "€",
    }


@pytest.mark.parametrize(
    ("raw", "content_type", "reason"),
    [
        # Not UTF-8 and nothing says what it is: not guessed at.
        ("Olá João".encode("latin-1"), "text/plain", "charset_undeclared"),
        ('{"nome": "João"}'.encode("cp1252"), "application/json", "charset_undeclared"),
        (b"caf\xe9", "text/plain; charset=x-made-up", "charset_unsupported"),
        # A shift state a replacement could break; UTF-16 without its byte order.
        ("caf\u00e9".encode("utf-7"), "text/plain; charset=utf-7", "charset_unsupported"),
        ("olá".encode("utf-16-le"), "text/plain; charset=utf-16", "charset_unsupported"),
        (b"caf\xe9", "text/plain; charset=utf-8", "charset_mismatch"),
        # UTF-16 sent as ISO-8859-1: one byte per character would hide every digit.
        (f"cpf {CPF}".encode("utf-16-le"), "text/plain; charset=iso-8859-1", "charset_mismatch"),
    ],
)
def test_text_that_cannot_be_read_with_certainty_is_dropped(
    raw: bytes, content_type: str, reason: str
) -> None:
    out = body_of(raw, content_type)
    assert out.body == b"" and out.body_dropped and out.body_drop_reason == reason
    assert reason in BODY_DROP_REASONS
    record = Exchange(id="x", request=request_exchange().request, response=out).to_record()
    assert record["response"]["body_drop_reason"] == reason


@pytest.mark.parametrize(
    ("label", "value", "fitted"),
    [
        ("iso-8859-1", "Zoë Conceição", "Zoë Conceição"),
        ("iso-8859-1", "€ “Ŝ”", "? ?S?"),  # windows-1252 has € and “, ISO-8859-1 does not
        ("windows-1252", "€ “Šœ” Ŝ", "€ “Šœ” S"),
        ("iso-8859-15", "€ Šœ ¤", "€ Šœ ?"),
        ("us-ascii", "Conceição Ñusta", "Conceicao Nusta"),
        ("koi8-r", "Жанна Conceição", "Жанна Conceicao"),
        ("utf-16le", "Conceição 中", "Conceição 中"),
    ],
)
def test_a_replacement_the_charset_cannot_hold_is_transliterated(
    label: str, value: str, fitted: str
) -> None:
    charset = charset_for(label)
    assert charset is not None and charset.fit(value) == fitted
    charset.encode(fitted).decode(label)  # strict: the declared charset holds every byte


@pytest.mark.parametrize("label", ["us-ascii", "iso-8859-1"])
def test_pseudonyms_in_a_narrow_charset_hold_only_its_bytes(label: str) -> None:
    raw = b"Prezada Sra. Maria Conceicao dos Santos, seu boleto venceu. Att, Sr. Joao Pereira"
    out = body_of(raw, f"text/plain; charset={label}", PSEUDONYMS).body
    assert b"Maria Conceicao" not in out and b"Joao Pereira" not in out
    out.decode(label)  # strict
    assert not any(0x80 <= byte <= 0x9F for byte in out)


def test_a_truncated_body_cut_inside_a_character() -> None:
    text = '{"itens": [{"desc": "pão"}, {"email": "ana@x.com"}, {"desc": "açúcar"}]}'
    raw = text.encode("utf-16-le")[:-3]  # cut inside a code unit
    exchange = request_exchange(content_type="application/json; charset=utf-16le")
    response = HttpResponse(
        status=200,
        headers=(("content-type", "application/json; charset=utf-16le"),),
        body=raw,
        body_truncated=True,
    )
    out = TOKENS.sanitize(exchange.replace(response=response)).response
    fresh = out.body.decode("utf-16-le")
    assert "ana@x.com" not in fresh and fresh.startswith('{"itens": [{"desc": "pão"}')


# -- properties -------------------------------------------------------------------------

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CHARSETS = ("iso-8859-1", "windows-1252", "iso-8859-15", "iso-8859-2", "koi8-r", "utf-16")


def alphabet(codec: str) -> list[str]:
    """Printable characters the charset holds (no C0/C1 controls: they are not text)."""
    chars = set("abcdefxyz ABC0123456789,.;:-_()[]{}\"'/@\n\táéçãõüß€ŠœЖ中")
    if codec != "utf-16":
        chars |= {bytes([b]).decode(codec, "ignore") for b in range(256)}
    return sorted(c for c in chars if c and (c.isprintable() or c in "\n\t") and _holds(c, codec))


def _holds(ch: str, codec: str) -> bool:
    try:
        ch.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


@st.composite
def texts_in_a_charset(draw: st.DrawFn) -> tuple[str, str]:
    codec = draw(st.sampled_from(CHARSETS))
    return codec, draw(st.text(alphabet=alphabet(codec), max_size=80))


@SETTINGS
@given(texts_in_a_charset(), st.sampled_from(["text/plain", "application/xml", "text/html"]))
def test_any_text_in_a_charset_round_trips_or_is_sanitized_as_in_utf8(
    case: tuple[str, str], media_type: str
) -> None:
    codec, text = case
    raw = text.encode(codec)
    out = body_of(raw, f"{media_type}; charset={codec}")
    as_utf8 = body_of(text.encode("utf-8"), media_type)
    if as_utf8.body == text.encode("utf-8"):
        assert out.body == raw  # nothing found: byte for byte the same
    else:
        assert out.body.decode(codec) == as_utf8.body.decode("utf-8")


@SETTINGS
@given(
    st.sampled_from(CHARSETS),
    st.sampled_from(["text/plain", "application/xml", "application/json", "text/html"]),
    st.text(alphabet="abc xyzÀÉçã€-_:,.()", max_size=20),
    st.text(alphabet="abc xyzÀÉçã€-_:,.()", max_size=20),
    st.booleans(),
)
def test_a_planted_cpf_never_survives_in_any_charset(
    codec: str, media_type: str, before: str, after: str, formatted: bool
) -> None:
    cpf = fmt_cpf(CPF) if formatted else CPF
    before, after = ("".join(c for c in part if _holds(c, codec)) for part in (before, after))
    if media_type == "application/json":
        text = json.dumps({"obs": f"{before} {cpf} {after}"}, ensure_ascii=False)
    else:
        text = f"{before} {cpf} {after}"
    out = body_of(text.encode(codec), f"{media_type}; charset={codec}")
    assert not out.body_dropped
    assert cpf not in out.body.decode(codec)


def test_an_html_page_that_starts_with_blank_lines_still_declares_its_charset() -> None:
    page = '\r\n\r\n<html><head><meta charset="windows-1252"></head><body>Sr. João Silva</body>'
    out = body_of(page.encode("windows-1252"), "text/html")
    assert not out.body_dropped
    assert "João Silva" not in out.body.decode("windows-1252")
