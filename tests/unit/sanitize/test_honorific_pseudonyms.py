"""A name field holding a title and a name (``"nome": "Sr. João Silva"``): the title is
no part of the name, and a pseudonym keeps it. Before, a fake first name took its place
(``Danilo. Rafael Novais``)."""

from __future__ import annotations

import json

from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

PSEUDONYMS = sanitizer(sanitize_mode="pseudonyms", pseudonym_key="k-honorifics")


def _body(document: dict) -> dict:
    exchange = request_exchange(body=json.dumps(document, ensure_ascii=False))
    return json.loads(PSEUDONYMS.sanitize(exchange).request.body)


def test_titles_are_kept_and_the_name_is_faked_as_without_them() -> None:
    bare = _body({"nome": "João Silva"})["nome"]
    for title in ("Sr.", "Sra.", "Dr.", "Dra.", "Srta.", "Prof.", "Dona", "Senhor", "Mr."):
        fresh = _body({"nome": f"{title} João Silva"})["nome"]
        assert fresh == f"{title} {bare}", title
    assert _body({"cliente": {"nome": "SRA. MARIA SOUZA"}})["cliente"]["nome"].startswith("SRA. ")
    # Only before the name: after a first name, a title's word is a surname.
    fresh = _body({"nome": "Maria Dona"})["nome"]
    assert fresh.split()[1] != "Dona" and fresh.split()[0] != "Maria"
