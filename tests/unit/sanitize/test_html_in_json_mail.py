"""HTML and SOAP faults in JSON strings (markup_prose): an e-mail API's message body
(SendGrid v3's ``content[].value``, Mailgun's ``html``, Brevo's ``htmlContent``,
Mandrill's ``message.html``, Postmark's ``HtmlBody``) greets its reader by name, and a
JSON error payload echoing a SOAP fault says whom it failed for. Names, e-mails and
phones there are replaced; tags, styles, product names, towns and firms stay."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import phonenumbers
import pytest
from faker import Faker

from tests.unit.sanitize.name_prose import order_note
from tests.unit.sanitize.people import leaked
from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

_SANITIZER = sanitizer()
# (locale, greeting, "write to", "or call"): the people and the words of one country.
LOCALES = [
    ("pt_BR", "Olá", "Dúvidas? Escreva para", "ou ligue"),
    ("pt_PT", "Olá", "Alguma dúvida? Escreva para", "ou ligue"),
    ("es_ES", "Hola", "¿Dudas? Escribe a", "o llama al"),
    ("en_US", "Hi", "Questions? Write to", "or call"),
]


def html_message(greeting: str, name: str, write: str, email: str, call: str, phone: str) -> str:
    """A transactional e-mail's HTML, as a template renders one."""
    return (
        '<!DOCTYPE html><html><head><style>p { font-family: "Helvetica Neue", Arial; }'
        "</style></head><body>"
        f'<table width="600"><tr><td><p>{greeting} {name},</p>'
        "<p>Seu pedido #48213 saiu para entrega.</p>"
        f'<p>{write} <a href="mailto:{email}">{email}</a> {call} {phone}.</p>'
        '<img src="https://cdn.loja.example/logo.png" alt="Loja"></td></tr></table>'
        "</body></html>"
    )


def api_bodies(html: str, name: str, email: str) -> dict[str, dict]:
    """The message as each provider's published send API takes it; the recipient's
    name is given only in the HTML, as Mailgun's and Brevo's take it."""
    return {
        "sendgrid": {
            "personalizations": [{"to": [{"email": email}], "subject": "Pedido enviado"}],
            "from": {"email": "pedidos@loja.example", "name": "Loja"},
            "content": [{"type": "text/html", "value": html}],
        },
        "mailgun": {"from": "pedidos@loja.example", "to": email, "html": html},
        "brevo": {
            "sender": {"email": "pedidos@loja.example"},
            "to": [{"email": email}],
            "subject": "Pedido",
            "htmlContent": html,
        },
        "mandrill": {"key": "k", "message": {"html": html, "to": [{"email": email}]}},
        "postmark": {"From": "pedidos@loja.example", "To": email, "HtmlBody": html},
    }


def soap_fault(name: str, email: str, version: int, key: str) -> dict:
    """A JSON error payload echoing, under ``key``, a SOAP 1.1 or 1.2 fault whose
    message names a person (no cue before the name: "Cadastro de ...")."""
    message = f"Cadastro de {name} ({email}) bloqueado"
    if version == 11:
        fault = (
            '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
            f"<soap:Fault><faultcode>soap:Client</faultcode><faultstring>{message}"
            "</faultstring></soap:Fault></soap:Body></soap:Envelope>"
        )
    else:
        fault = (
            '<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body>'
            "<env:Fault><env:Code><env:Value>env:Sender</env:Value></env:Code><env:Reason>"
            f'<env:Text xml:lang="pt">{message}</env:Text></env:Reason></env:Fault>'
            "</env:Body></env:Envelope>"
        )
    return {"error": {"code": 502, "message": "upstream SOAP fault", key: fault}}


def people(locale: str, seed: int, count: int) -> list[tuple[str, str, str]]:
    """``count`` of Faker's people of ``locale``: (name, e-mail, phone)."""
    fake = Faker(locale)
    fake.seed_instance(seed)
    return [
        (f"{fake.first_name()} {fake.last_name()}", fake.free_email(), _phone(fake, locale))
        for _ in range(count)
    ]


def _phone(fake: Faker, locale: str) -> str:
    """en_US's numbers written for the world, and only those of an area code the
    numbering plan holds (national ones, "447-359-3824", extensions, "x533", and
    unassigned codes are a question for the phone shapes, not for markup)."""
    if locale != "en_US":
        return fake.phone_number()
    number = phonenumbers.parse(fake.basic_phone_number(), "US")
    while not phonenumbers.is_valid_number(number):
        number = phonenumbers.parse(fake.basic_phone_number(), "US")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _kept_in_a_note(sentence: str, name: str) -> list[str]:
    """[name] if the names of a free-text field keep it in ``sentence`` (a name no list
    knows is a question for them, not for markup), else []."""
    return leaked(order_note(sentence), [name])


def sanitized(document: dict) -> str:
    body = json.dumps(document, ensure_ascii=False)
    return _SANITIZER.sanitize(
        request_exchange(body=body, path="/v3/mail/send")
    ).request.body.decode()


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    return [s for item in items for s in _strings(item)]


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, [(k, v) for k, v in attrs if k != "href"]))


def _tags(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


@pytest.mark.parametrize(("locale", "greeting", "write", "call"), LOCALES)
@pytest.mark.parametrize("seed", [0, 1])
def test_names_emails_and_phones_in_mail_html_are_replaced(
    locale: str, greeting: str, write: str, call: str, seed: int
) -> None:
    for name, email, phone in people(locale, seed, 6):
        html = html_message(greeting, name, write, email, call, phone)
        for api, document in api_bodies(html, name, email).items():
            out = sanitized(document)
            kept = _kept_in_a_note(f"{greeting} {name},", name)
            assert leaked(out, [name, email, phone]) == kept, (api, name, out)
            assert "#48213" in out and "Helvetica Neue" in out
            (html_out,) = [v for v in _strings(json.loads(out)) if "<body>" in v]
            assert _tags(html_out) == _tags(html)  # every tag and attribute but the link


@pytest.mark.parametrize("version", [11, 12])
@pytest.mark.parametrize("key", ["response", "raw", "fault"])
@pytest.mark.parametrize("locale", ["pt_BR", "es_ES", "en_US"])
def test_names_in_soap_fault_messages_are_replaced(version: int, key: str, locale: str) -> None:
    for name, email, _ in people(locale, 7, 6):
        out = sanitized(soap_fault(name, email, version, key))
        assert leaked(out, [name, email]) == _kept_in_a_note(f"Cadastro de {name} bloqueado", name)
        fault = json.loads(out)["error"][key]
        assert ") bloqueado</" in fault and ("soap:Client" in fault or "env:Sender" in fault)


# Must stay: no person in these, though capitalised words (first names among them) run
# through them.
_KEPT_HTML = [
    ("<p>Obrigado por comprar na Casas Bahia!</p>", "Casas Bahia"),
    ("<p>Entrega prevista em São José dos Campos amanhã.</p>", "São José dos Campos"),
    ("<p>Seu pedido de Maria Mole e Pé de Moleque foi enviado.</p>", "Maria Mole"),
    ("<p>Retire na Padaria João Pereira, no centro.</p>", "Padaria João Pereira"),
    ("<p>Agência em João Pessoa aberta das 9h às 16h.</p>", "João Pessoa"),
]


@pytest.mark.parametrize(("html", "kept"), _KEPT_HTML)
def test_places_firms_products_and_tags_stay(html: str, kept: str) -> None:
    out = json.loads(sanitized({"html": html}))["html"]
    assert kept in out


def test_xml_that_is_no_html_is_still_read_by_element_names_only() -> None:
    xml = "<pedido><produto>Maria Mole</produto><cliente><nome>Ana Costa</nome></cliente></pedido>"
    out = json.loads(sanitized({"xml": xml}))["xml"]
    assert "<produto>Maria Mole</produto>" in out
    assert "Ana Costa" not in out
