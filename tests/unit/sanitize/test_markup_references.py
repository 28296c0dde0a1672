"""A personal element or attribute holding character or entity references
("Jo&#227;o", "Ana &amp; Cia") was given a pseudonym built from its raw text: words
cut at the reference and a reference left dangling ("Joana &montenegro; Nogueira"),
so the XML or HTML was no longer well-formed. The value is read decoded and its
pseudonym written escaped."""

from __future__ import annotations

import html
import json
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

PSEUDONYMS = sanitizer(sanitize_mode="pseudonyms", pseudonym_key="k-markup")
TOKENS = sanitizer()

NAMES = ["Jo&#227;o da Silva", "Ana &amp; Cia", "Jos&#xE9; Pereira", "Maria &apos;Bia&apos; Souza",
         "Concei&#231;&#227;o &lt;Souza&gt;", "M&#xFC;ller &amp; Filhos Costa"]  # fmt: skip


def _out(body: str, content_type: str, sanitizer_=PSEUDONYMS) -> str:
    exchange = request_exchange(body=body, content_type=content_type)
    return sanitizer_.sanitize(exchange).request.body.decode()


@pytest.mark.parametrize("raw", NAMES)
def test_an_element_with_references_stays_well_formed(raw: str) -> None:
    body = f"<cliente><cpf>x</cpf><nome>{raw}</nome><cidade>Recife</cidade></cliente>"
    out = _out(body, "application/xml")
    root = ET.fromstring(out)  # raises on a dangling or unknown reference
    fresh = root.findtext("nome")
    original = html.unescape(raw)
    assert fresh and fresh != original
    assert not set(original.split()) - {"&", "da"} & set(fresh.split())
    assert root.findtext("cidade") == "Recife"


@pytest.mark.parametrize("raw", NAMES)
def test_an_attribute_and_a_form_control_with_references(raw: str) -> None:
    body = (
        f'<html><body><form><input name="nomeCompleto" value="{raw}"><span>ok</span>'
        f'<cliente nomeCompleto="{raw}"/></form></body></html>'
    )
    out = _out(body, "text/html")
    values: list[str] = []

    class Reader(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            values.extend(v or "" for k, v in attrs if k in ("value", "nomecompleto"))

    Reader().feed(out)
    assert len(values) == 2
    original = html.unescape(raw)
    for value in values:
        assert value != original
        assert not set(original.split()) - {"&", "da"} & set(value.split())
    # The pseudonym is written so that "&" and quotes cannot end or corrupt the value.
    assert out.count('value="') == 1 and "&#" not in out.replace("&#x27;", "")


def test_one_name_gets_one_pseudonym_whatever_its_writing() -> None:
    xml_out = _out("<cliente><nome>Jo&#227;o da Silva</nome></cliente>", "application/xml")
    json_out = _out('{"cliente": {"nome": "João da Silva"}}', "application/json")
    assert ET.fromstring(xml_out).findtext("nome") == json.loads(json_out)["cliente"]["nome"]


def test_tokens_mode_is_unchanged() -> None:
    body = "<cliente><nome>Jo&#227;o da Silva</nome></cliente>"
    assert _out(body, "application/xml", TOKENS) == "<cliente><nome>SANITIZED_NAME</nome></cliente>"


def test_cdata_is_read_as_literal_text() -> None:
    body = "<cliente><nome><![CDATA[Ana &amp; Cia Souza]]></nome></cliente>"
    out = _out(body, "application/xml")
    fresh = ET.fromstring(out).findtext("nome")
    assert out.startswith("<cliente><nome><![CDATA[") and out.endswith("]]></nome></cliente>")
    assert fresh and "Souza" not in fresh and "Ana" not in fresh
