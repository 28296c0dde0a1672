"""Server-rendered HTML pages posted or answered as ``text/html``: an account page
(Bootstrap), a Django admin change form, a Rails scaffold "show" page, WooCommerce's
"My account", a marketplace receipt and a Gmail-like HTML e-mail, filled with Faker's
pt_BR, en_US and es_ES people. Their prose greets the person ("Olá, Maria Souza"),
a value follows its label (``<strong>Name:</strong> ...``, ``<label>`` then a value),
an ``<address>`` holds a name and a street: only shapes (e-mail, CPF, phone) were
replaced there. Menus, headings, product names, brands and a shop's own address stay."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

import phonenumbers
import pytest
from faker import Faker
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ext_proc_server.sanitize.run import is_token
from tests.unit.sanitize.people import leaked
from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

_SANITIZER = sanitizer()
_PSEUDONYMS = sanitizer(sanitize_mode="pseudonyms", pseudonym_key="k-pages")
LOCALES = {"pt_BR": "BR", "en_US": "US", "es_ES": "ES"}
_DATES = {"pt_BR": "%d/%m/%Y", "en_US": "%m/%d/%Y", "es_ES": "%d/%m/%Y"}
# The words each locale's pages use: (hello, name, address, birth date, phone, city).
_WORDS = {
    "pt_BR": ("Olá", "Nome", "Endereço", "Data de nascimento", "Telefone", "Cidade"),
    "en_US": ("Hello", "Name", "Address", "Birth date", "Phone", "City"),
    "es_ES": ("Hola", "Nombre", "Dirección", "Fecha de nacimiento", "Teléfono", "Ciudad"),
}


@dataclass(frozen=True)
class Someone:
    locale: str
    first: str
    last: str
    street: str
    city: str
    birth: str
    phone: str
    email: str

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"

    def planted(self) -> list[str]:
        return [self.name, self.street, self.birth, self.phone]


def _national(fake: Faker, region: str) -> str:
    """A phone number of the locale, in its national layout."""
    while True:
        try:
            number = phonenumbers.parse(fake.phone_number(), region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            number.extension = None  # an extension is no part of the number's layout
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def people(locale: str, seed: int, count: int) -> list[Someone]:
    fake = Faker(locale)
    fake.seed_instance(seed)
    return [
        Someone(
            locale=locale,
            first=fake.first_name(),
            last=fake.last_name(),
            street=fake.street_address(),
            city=fake.city(),
            birth=fake.date_of_birth(minimum_age=18, maximum_age=90).strftime(_DATES[locale]),
            phone=_national(fake, LOCALES[locale]),
            email=fake.free_email(),
        )
        for _ in range(count)
    ]


def _document(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html><html lang="pt-BR"><head><meta charset="utf-8">'
        f'<title>{title}</title><link rel="stylesheet" href="/assets/app.css"></head>'
        f"<body>{body}</body></html>"
    )


def bootstrap_account(p: Someone) -> str:
    hello, name, address, birth, phone, _ = _WORDS[p.locale]
    return _document(
        "Minha conta",
        '<nav class="navbar navbar-expand-lg"><a class="navbar-brand" href="/">Loja Azul</a>'
        '<ul class="navbar-nav"><li class="nav-item"><a class="nav-link" href="/produtos">'
        "Produtos</a></li></ul>"
        f'<span class="navbar-text user-name">{p.name}</span></nav>'
        f'<main class="container"><h1 class="h3">Minha conta</h1><p class="lead">{hello}, '
        f"{p.name}</p>"
        f'<div class="card"><div class="card-body"><dl class="row"><dt class="col-sm-3">{name}'
        f'</dt><dd class="col-sm-9">{p.name}</dd><dt class="col-sm-3">{address}</dt>'
        f'<dd class="col-sm-9">{p.street}</dd><dt class="col-sm-3">{birth}</dt>'
        f'<dd class="col-sm-9">{p.birth}</dd><dt class="col-sm-3">{phone}</dt>'
        f'<dd class="col-sm-9">{p.phone}</dd></dl></div></div></main>',
    )


def django_admin(p: Someone) -> str:
    return _document(
        f"{p.name} | Change user | Django site admin",
        '<div id="header"><div id="branding"><h1 id="site-name"><a href="/admin/">Django '
        'administration</a></h1></div><div id="user-tools">Welcome, <strong>admin</strong>.'
        '</div></div><div class="breadcrumbs"><a href="/admin/">Home</a> &rsaquo; '
        f'<a href="/admin/auth/user/">Users</a> &rsaquo; {p.name}</div>'
        f'<div id="content"><h1>Change user</h1><h2>{p.name}</h2>'
        '<form method="post" id="user_form"><fieldset class="module aligned">'
        '<div class="form-row field-first_name"><label for="id_first_name">First name:</label>'
        '<input type="text" name="first_name" class="vTextField" maxlength="150" '
        f'id="id_first_name" value="{p.first}"></div>'
        '<div class="form-row field-last_name"><label for="id_last_name">Last name:</label>'
        '<input type="text" name="last_name" class="vTextField" maxlength="150" '
        f'id="id_last_name" value="{p.last}"></div>'
        '<div class="form-row field-address"><label>Address:</label>'
        f'<div class="readonly">{p.street}</div></div>'
        '<div class="form-row field-birth_date"><label>Birth date:</label>'
        f'<div class="readonly">{p.birth}</div></div>'
        '<div class="form-row field-phone"><label for="id_phone">Phone:</label>'
        f'<input type="text" name="phone" id="id_phone" value="{p.phone}"></div>'
        "</fieldset></form></div>",
    )


def rails_show(p: Someone) -> str:
    _, name, address, birth, phone, _ = _WORDS[p.locale]
    return _document(
        "People",
        '<p style="color: green">Person was successfully created.</p>'
        f'<div id="person_1"><p>\n  <strong>{name}:</strong>\n  {p.name}\n</p>\n'
        f"<p>\n  <strong>{address}:</strong>\n  {p.street}\n</p>\n"
        f"<p>\n  <strong>{birth}:</strong>\n  {p.birth}\n</p>\n"
        f"<p>\n  <strong>{phone}:</strong>\n  {p.phone}\n</p>\n</div>"
        '<div><a href="/people/1/edit">Edit this person</a> | '
        '<a href="/people">Back to people</a></div>',
    )


def woocommerce_account(p: Someone) -> str:
    hello = _WORDS[p.locale][0]
    return _document(
        "Minha conta - Loja Azul",
        '<div class="woocommerce"><nav class="woocommerce-MyAccount-navigation"><ul>'
        '<li><a href="/minha-conta/">Painel</a></li><li><a href="/minha-conta/orders/">'
        "Pedidos</a></li></ul></nav>"
        '<div class="woocommerce-MyAccount-content">'
        f"<p>{hello} <strong>{p.first}</strong> (não é <strong>{p.first}</strong>? "
        '<a href="/minha-conta/sair/">Sair</a>)</p>'
        '<div class="woocommerce-Address"><header class="woocommerce-Address-title title">'
        "<h3>Endereço de cobrança</h3></header>"
        f"<address>{p.name}<br/>{p.street}<br/>{p.city}</address></div>"
        '<form class="woocommerce-EditAccountForm edit-account" method="post">'
        '<p class="form-row"><label for="account_first_name">Nome&nbsp;<span class="required">'
        '*</span></label><input type="text" class="woocommerce-Input input-text" '
        'name="account_first_name" id="account_first_name" autocomplete="given-name" '
        f'value="{p.first}" /></p>'
        '<p class="form-row"><input type="text" class="woocommerce-Input input-text" '
        'name="account_last_name" id="account_last_name" autocomplete="family-name" '
        f'value="{p.last}" /></p>'
        '<p class="form-row"><input type="text" class="woocommerce-Input input-text" '
        f'name="account_display_name" id="account_display_name" value="{p.name}" /></p>'
        "</form></div></div>",
    )


def marketplace_receipt(p: Someone) -> str:
    return _document(
        "Comprovante de compra",
        '<div class="receipt"><h1>Comprovante de compra</h1>'
        '<div class="item"><span class="title">Fone de Ouvido JBL Tune 510BT Bluetooth</span>'
        '<span class="price">R$ 229,90</span></div>'
        '<div class="seller">Vendido por <a href="/loja/jbl">JBL Store</a></div>'
        f'<div class="buyer"><span class="label">Comprador</span><span class="value">{p.name}'
        "</span></div>"
        f'<div class="shipping"><p>Enviar para {p.name}</p><p>{p.street}, {p.city}</p>'
        f"<p>Telefone: {p.phone}</p></div></div>",
    )


def gmail_message(p: Someone) -> str:
    hello = _WORDS[p.locale][0]
    return (
        f'<div dir="ltr">{hello} {p.first},<br><br>Segue o orçamento em anexo.<br><br>'
        f"Abraço,<br>{p.name}<br>{p.phone}</div><br>"
        '<div class="gmail_quote"><div dir="ltr" class="gmail_attr">Em seg., 7 de dez. de '
        f'2026 às 10:15, {p.name} &lt;<a href="mailto:{p.email}">{p.email}</a>&gt; escreveu:'
        '<br></div><blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex">'
        "Pode mandar o orçamento?</blockquote></div>"
    )


PAGES = {
    "bootstrap": bootstrap_account,
    "django_admin": django_admin,
    "rails_show": rails_show,
    "woocommerce": woocommerce_account,
    "receipt": marketplace_receipt,
    "gmail": gmail_message,
}
# What each page plants: WooCommerce's and Gmail's show no birth date, and so on.
_SHOWN = {
    "bootstrap": ("name", "street", "birth", "phone"),
    "django_admin": ("name", "first", "last", "street", "birth", "phone"),
    "rails_show": ("name", "street", "birth", "phone"),
    "woocommerce": ("name", "first", "last", "street"),
    "receipt": ("name", "street", "phone"),
    "gmail": ("name", "first", "phone", "email"),
}


def planted(page: str, p: Someone) -> list[str]:
    """The values a page shows of ``p``; a phone only in Brazil's layout (the phone
    shapes read other countries' numbers only in international form)."""
    shown = [part for part in _SHOWN[page] if part != "phone" or p.locale == "pt_BR"]
    return [p.name if part == "name" else getattr(p, part) for part in shown]


def sanitized_page(body: str, sanitizer_=_SANITIZER) -> str:
    exchange = request_exchange(body=body, content_type="text/html; charset=utf-8")
    return sanitizer_.sanitize(exchange).request.body.decode()


# Attributes that are structure: never personal, so never changed.
_STRUCTURE = frozenset({"class", "id", "for", "type", "name", "style", "dir", "lang", "rel"})


class _Tags(HTMLParser):
    """The start tags of a page, with their attribute names and structural values."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, [(k, v if k in _STRUCTURE else "") for k, v in attrs]))


def _tags(text: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    reader = _Tags()
    reader.feed(text)
    return reader.tags


@pytest.mark.parametrize("page", sorted(PAGES))
@pytest.mark.parametrize("locale", sorted(LOCALES))
def test_page_values_are_replaced(page: str, locale: str) -> None:
    for p in people(locale, seed=7, count=4):
        body = PAGES[page](p)
        text = sanitized_page(body)
        assert leaked(text, planted(page, p)) == [], (page, p)
        assert _tags(text) == _tags(body)  # every tag and structural attribute as it was


@pytest.mark.parametrize("page", sorted(PAGES))
def test_pseudonyms_replace_page_names(page: str) -> None:
    p = people("pt_BR", seed=11, count=1)[0]
    text = sanitized_page(PAGES[page](p), _PSEUDONYMS)
    assert leaked(text, [p.name]) == []


KEPT_WORDS = [
    "Minha conta",
    "Produtos",
    "Loja Azul",
    "Fone de Ouvido JBL Tune 510BT Bluetooth",
    "JBL Store",
    "Comprovante de compra",
    "Change user",
    "Django administration",
    "Person was successfully created.",
    "Endereço de cobrança",
    "Segue o orçamento em anexo.",
]


@pytest.mark.parametrize("page", sorted(PAGES))
def test_page_furniture_stays(page: str) -> None:
    p = people("pt_BR", seed=3, count=1)[0]
    body = PAGES[page](p)
    text = sanitized_page(body)
    assert [w for w in KEPT_WORDS if w in body and w not in text] == []


# A company's own page: its products, brands, towns and streets are no person's.
COMPANY_PAGES = [
    "<main><h1>Nossas lojas</h1><address>Loja Azul Centro<br>Shopping Estação<br>"
    "Curitiba - PR</address><p>Olá, visitante! Conheça a coleção Maria Filó e os tênis "
    "Santa Lolla.</p></main>",
    '<ul class="menu"><li><a href="/feminino">Feminino</a></li><li><a href="/marcas/'
    'carmen-steffens">Carmen Steffens</a></li><li><a href="/sao-paulo">São Paulo</a></li>'
    "</ul><h2>Bolsa Anita Bocchi Couro</h2><p>Vendido e entregue por Magazine Luiza.</p>",
    "<table><tr><th>Produto</th><th>Marca</th><th>Cidade</th></tr><tr><td>Sandália "
    "Vizzano</td><td>Beira Rio</td><td>Novo Hamburgo</td></tr></table>",
    '<form><label for="q">Buscar</label><input name="q" value="Camiseta Hering"></form>'
    "<p><strong>Frete:</strong> Grátis</p><p><strong>Marca:</strong> Tramontina</p>"
    '<div><span class="label">Modelo</span><span class="value">Ana 3 Portas</span></div>',
]


@pytest.mark.parametrize("body", COMPANY_PAGES)
def test_company_pages_stay(body: str) -> None:
    page = _document("Loja", body)
    assert sanitized_page(page) == page


@pytest.mark.parametrize(
    ("body", "kept"),
    [
        ("<p>Hi <b>Hope</b>, your order shipped.</p><p>Hope you enjoy it!</p>", "Hope you"),
        ('<ul><li><a href="/c/rosa">Rosa</a></li></ul><p>Olá <b>Rosa</b>!</p>', ">Rosa</a>"),
    ],
)
def test_a_first_name_is_found_again_only_as_a_run_of_its_own(body: str, kept: str) -> None:
    # A greeted first name is replaced where it stands alone again ("(não é <strong>
    # Julia</strong>?)"); in a sentence, or a menu's link to a colour, it is a word.
    text = sanitized_page(_document("Pedido", body))
    assert kept in text


_TAG = re.compile(r"<[^<>]*>")
_WORDS_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"), exclude_characters="<>&\"'"),
    max_size=40,
).filter(lambda s: not is_token(s.strip()))


_NAMES = st.sampled_from(
    [p.name for locale in sorted(LOCALES) for p in people(locale, seed=5, count=8)]
)
_LABELS = st.sampled_from([word for words in _WORDS.values() for word in words])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    label=st.one_of(_WORDS_TEXT, _LABELS),
    value=st.one_of(_WORDS_TEXT, _NAMES),
    greeted=st.one_of(_WORDS_TEXT, _NAMES),
)
def test_page_tags_stay_whatever_its_text(label: str, value: str, greeted: str) -> None:
    body = _document(
        "Conta",
        f'<p><strong>{label}:</strong> {value}</p><p class="lead">Olá <b>{greeted}</b>, '
        f'{value}</p><label for="x">{label}</label><div class="readonly">{value}</div>'
        f'<span class="label">{label}</span><span class="value">{greeted}</span>',
    )
    text = sanitized_page(body)
    assert _TAG.findall(text) == _TAG.findall(body)
