"""Server-rendered pages hand their state to the client as JSON assigned in an inline
script (Redux's and Apollo's documented `window.__PRELOADED_STATE__ = <JSON with < as
\\u003c>`, VTEX's `__STATE__ = {...}`, `window.__INITIAL_STATE__`, Remix's
`window.__remixContext`, Shopify's `var meta = {...};`) or in a script of a non-code
type (Magento's `text/x-magento-init`). Such a script was read as text only: a name,
a birth date, an address under its key went out as they came.

The documents are found, sanitized by their keys like any JSON, and written back so
the script stays the same code: the literal still parses as JSON, and every byte
around it is unchanged.
"""

from __future__ import annotations

import json
import re

import pytest
from faker import Faker
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.sanitize.sanitize_helpers import make_cpf, request_exchange, sanitizer

SANITIZER = sanitizer()
PSEUDONYMS = sanitizer(sanitize_mode="pseudonyms", pseudonym_key="k-script-state")
CPF = make_cpf("529982247")


def _state(name: str = "Maria Souza", birth: str = "1985-03-14") -> dict:
    return {
        "session": {"user": {"nome": name, "cpf": CPF, "dataNascimento": birth}},
        "checkout": {"endereco": {"logradouro": "Rua das Flores", "numero": "123"}},
        "catalog": {"plano": "Ouro", "sku": "SKU-1"},
    }


def _redux(state: dict) -> str:  # JSON.stringify(state).replace(/</g, '\\u003c')
    return json.dumps(state, separators=(",", ":")).replace("<", "\\u003c")


SHAPES = [
    "<script>window.__PRELOADED_STATE__ = {json}</script>",
    "<script>window.__APOLLO_STATE__={json};</script>",
    "<script>__STATE__ = {json}</script>",
    '<script type="text/javascript">window.__INITIAL_STATE__ = {json};\nwindow.flag = true;</script>',
    "<script>window['__STATE__'] = {json};</script>",
    '<script nonce="abc">self.__remixContext = {json};</script>',
    "<script>\n  var meta = {json};\n  for (var attr in meta) {{ window.ShopifyAnalytics.meta[attr] = meta[attr]; }}\n</script>",
    '<script type="module">const data = {json}; render(data);</script>',
    '<script type="text/x-magento-init">{json}</script>',
]
PLANTED = ["Maria Souza", CPF, "1985-03-14", "Rua das Flores"]


def _html(body: str, sanitizer_=SANITIZER) -> str:
    exchange = request_exchange(body=body, content_type="text/html; charset=utf-8")
    return sanitizer_.sanitize(exchange).request.body.decode()


def _literal(page: str, before: str) -> tuple[object, str, str]:
    """The JSON literal after ``before`` in ``page``, and the text on either side."""
    start = page.index(before) + len(before)
    document, end = json.JSONDecoder().raw_decode(page, start)
    return document, page[:start], page[end:]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("sanitizer_", [SANITIZER, PSEUDONYMS], ids=["tokens", "pseudonyms"])
def test_state_assigned_in_a_script_is_sanitized_by_its_keys(shape: str, sanitizer_) -> None:
    script = shape.replace("{json}", _redux(_state()), 1)
    page = f"<!doctype html><html><body><div id=app></div>{script}<p>Plano Ouro</p></body></html>"
    out = _html(page, sanitizer_)
    assert [value for value in PLANTED if value in out] == []
    before = shape.split("{json}")[0]
    document, head, tail = _literal(out, before)
    _, old_head, old_tail = _literal(page, before)
    assert (head, tail) == (old_head, old_tail)  # the code around the literal unchanged
    assert document["catalog"] == {"plano": "Ouro", "sku": "SKU-1"}
    assert document["session"]["user"]["nome"] != "Maria Souza"


# Scripts that are not JSON state, or hold nothing personal: the page comes back as it was.
KEPT = [
    "<script>var data = {nome: 'Camiseta Polo', plano: {nome: 'Ouro'}};</script>",
    "<script>var data = {nome: f('Maria Souza')};</script>",  # code: read as text
    '<script>window.config = {"plano": "Ouro", "versao": "1.2.3"};</script>',
    "<script>if (a == {}) { b = [1, 2]; }</script>",
    "<script>const f = (x) => {return x;};</script>",
    '<script type="text/template"><p>{{nome}}</p></script>',
    '<script src="/app.js"></script><script>window.dataLayer = [];</script>',
]


@pytest.mark.parametrize("page", KEPT)
def test_scripts_without_personal_json_stay(page: str) -> None:
    assert _html(page) == page


def test_a_template_script_is_not_read_as_code() -> None:
    # A non-code type whose content is not a whole JSON document: text, as before.
    page = f'<script type="text/template">var x = {json.dumps({"plano": "Ouro"})};</script>'
    assert _html(page) == page


_FAKE = Faker("pt_BR")
_FAKE.seed_instance(20261205)
NAMES = sorted({_FAKE.name() for _ in range(60)})


@settings(max_examples=120, deadline=None)
@given(
    shape=st.sampled_from(SHAPES),
    name=st.sampled_from(NAMES),
    birth=st.dates().map(lambda d: d.isoformat()),
    code_before=st.sampled_from(["", "var a = 1; ", "window.x = [1]; ", "/* {} */ "]),
    code_after=st.sampled_from(["", " window.y = 2;", " var z = {a: 1};"]),
)
def test_any_state_script_leaves_no_planted_value(
    shape: str, name: str, birth: str, code_before: str, code_after: str
) -> None:
    body = _redux(_state(name, birth))
    script = shape.replace("{json}", body, 1)
    if "magento" not in shape:
        script = re.sub(r"(<script[^>]*>)", rf"\g<1>{code_before}", script, count=1)
        script = script.replace("</script>", f"{code_after}</script>", 1)
    out = _html(f"<body>{script}</body>")
    assert name not in out and birth not in out and CPF not in out
    assert '"plano":"Ouro"' in out
