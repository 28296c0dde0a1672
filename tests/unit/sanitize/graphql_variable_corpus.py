"""GraphQL requests whose ``variables`` carry a person's data, in the shapes public
APIs publish (GitHub's profile update, Shopify Admin's ``customerCreate(input:)``,
Stripe's customer, Hasura's ``insert_users(objects:)``, graphql.org's and Apollo's
examples) and Brazilian clinical ones, with Faker's pt_BR and en_US people. Each
request is written three ways: its variables named like the arguments they fill,
abbreviated (``$fn`` for ``firstName``) and unlike them (``$v1``); the planted values
are what must not survive sanitizing. Product and order mutations are the records
whose variables must stay."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import NamedTuple

from faker import Faker

STYLES = ("like", "abbreviated", "unlike")
# A variable in a template: "$firstName" (named like the argument it fills).
_VARIABLE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_WORD_START = re.compile(r"(?:^|_)([a-z])|([A-Z])")


class Request(NamedTuple):
    shape: str
    style: str
    body: str  # the JSON request
    planted: tuple[str, ...]  # each must be gone; or, for a must-stay request, each kept


class _Shape(NamedTuple):
    name: str
    operation: str  # with "$argument" variables and "{header}" for their definitions
    variables: Callable[[Faker], tuple[dict[str, object], tuple[str, ...]]]
    operation_name: str | None = None
    whole_input: bool = False  # one variable holds the whole input object, keys named


def _icd10(fake: Faker) -> str:
    """A code in ICD-10's shape: a chapter letter, two digits and a subcategory."""
    return fake.bothify("?##.#", letters="ABCDEFGHIJKLMNOPQRSTZ")


def _patient(fake: Faker) -> tuple[dict[str, object], tuple[str, ...]]:
    name, code = fake.name(), _icd10(fake)
    return {"nome": name, "obs": f"Paciente com CID {code}, retorno em 30 dias"}, (name, code)


def _github_profile(fake: Faker) -> tuple[dict[str, object], tuple[str, ...]]:
    name = fake.name()
    return {"name": name, "bio": fake.job(), "location": fake.city()}, (name,)


def _shopify_fields(fake: Faker) -> tuple[dict[str, object], tuple[str, ...]]:
    first, last, email, phone = fake.first_name(), fake.last_name(), fake.email(), fake.msisdn()
    values = {"firstName": first, "lastName": last, "email": email, "phone": f"+{phone}"}
    return values, (f"{first} {last}", email, phone)


def _shopify_input(fake: Faker) -> tuple[dict[str, object], tuple[str, ...]]:
    values, planted = _shopify_fields(fake)
    street = fake.street_address()
    address = {"address1": street, "city": fake.city(), "zip": fake.postcode()}
    return {"input": {**values, "addresses": [address]}}, (*planted, street)


def _stripe_customer(fake: Faker) -> tuple[dict[str, object], tuple[str, ...]]:
    name, email, street = fake.name(), fake.email(), fake.street_address()
    values = {"name": name, "email": email, "line1": street, "postal_code": fake.postcode()}
    return values, (name, email, street)


def _hasura_objects(fake: Faker) -> tuple[dict[str, object], tuple[str, ...]]:
    people = [(fake.name(), fake.email()) for _ in range(2)]
    objects = [{"name": name, "email": email} for name, email in people]
    return {"objects": objects}, tuple(value for pair in people for value in pair)


def _hasura_one(fake: Faker) -> tuple[dict[str, object], tuple[str, ...]]:
    name, email = fake.name(), fake.email()
    return {"name": name, "email": email}, (name, email)


def _apollo_user(fake: Faker) -> tuple[dict[str, object], tuple[str, ...]]:
    name, birth = fake.name(), fake.date_of_birth(minimum_age=18).isoformat()
    return {"id": fake.uuid4(), "fullName": name, "birthDate": birth}, (name, birth)


def _contact_lists(fake: Faker) -> tuple[dict[str, object], tuple[str, ...]]:
    first, second = fake.name(), fake.name()
    return {"listId": fake.uuid4(), "names": [first, second]}, (first, second)


def _customer(fake: Faker) -> tuple[dict[str, object], tuple[str, ...]]:
    name, phone = fake.name(), fake.msisdn()
    birth = fake.date_of_birth(minimum_age=18).isoformat()
    return {"nome": name, "telefone": phone, "dataNascimento": birth}, (name, phone, birth)


def _search(fake: Faker) -> tuple[dict[str, object], tuple[str, ...]]:
    name = fake.name()
    return {"nome": name}, (name,)


def _product(fake: Faker) -> tuple[dict[str, object], tuple[str, ...]]:
    title = f"{fake.word().capitalize()} {fake.color_name()}"
    sku, vendor = fake.bothify("??-####").upper(), fake.company()
    values = {"title": title, "sku": sku, "vendor": vendor, "price": "19.90", "quantity": 3}
    return values, (title, sku, vendor)


_HEADER = "{header}"
PERSONAL_SHAPES = (
    _Shape("criarPaciente", "mutation CriarPaciente({header}) { criarPaciente(nome: $nome, "
           "obs: $obs) { id } }", _patient),
    _Shape("updateUserProfile", "mutation UpdateProfile({header}) { updateUserProfile(input: "
           "{name: $name, bio: $bio, location: $location}) { user { login } } }", _github_profile),
    _Shape("customerCreate fields", "mutation customerCreate({header}) { customerCreate(input: "
           "{firstName: $firstName, lastName: $lastName, email: $email, phone: $phone}) "
           "{ customer { id } userErrors { field message } } }", _shopify_fields),
    _Shape("customerCreate input", "mutation customerCreate({header}) { customerCreate(input: "
           "$input) { customer { id } userErrors { field message } } }", _shopify_input,
           whole_input=True),
    _Shape("createCustomer", "mutation CreateCustomer({header}) { createCustomer(name: $name, "
           "email: $email, address: {line1: $line1, postal_code: $postal_code}) { id } }",
           _stripe_customer),
    _Shape("insert_users", "mutation InsertUsers({header}) { insert_users(objects: $objects) "
           "{ affected_rows } }", _hasura_objects, whole_input=True),
    _Shape("insert_users_one", "mutation InsertUser({header}) { insert_users_one(object: "
           "{name: $name, email: $email}) { id } }", _hasura_one),
    _Shape("updateUser", "mutation UpdateUser({header}) { updateUser(id: $id, input: "
           "{fullName: $fullName, birthDate: $birthDate}) { id } }", _apollo_user),
    _Shape("list argument", "mutation AddContacts({header}) { addContacts(listId: $listId, "
           "names: $names) { count } }", _contact_lists),
    _Shape("alias", "mutation Cadastro({header}) { novo: cadastrarCliente(nome: $nome, "
           "telefone: $telefone, dataNascimento: $dataNascimento) { id } }", _customer),
    _Shape("nested", "mutation Atualizar({header}) { paciente(id: 7) { atualizar(input: "
           "{nome: $nome, obs: $obs}) { id } } }", _patient),
    _Shape("fragment", "query Busca({header}) { ...Resultado } fragment Resultado on Query "
           "{ pacientes(nome: $nome) { id } }", _search),
    _Shape("operationName", "mutation CriarProduto($sku: String) { criarProduto(sku: $sku) "
           "{ id } } mutation CriarPaciente({header}) { criarPaciente(nome: $nome, obs: $obs) "
           "{ id } }", _patient, "CriarPaciente"),
    _Shape("used twice", "mutation Ficha({header}) { criarPaciente(nome: $nome, obs: $obs) "
           "{ id } enviarBoasVindas(destinatario: $nome) { ok } }", _patient),
)  # fmt: skip
PRODUCT_SHAPES = (
    _Shape("productCreate", "mutation productCreate({header}) { productCreate(input: "
           "{title: $title, vendor: $vendor, variants: [{sku: $sku, price: $price, "
           "inventoryQuantity: $quantity}]}) { product { id } } }", _product),
    _Shape("orderCreate", "mutation orderCreate({header}) { orderCreate(order: {lineItems: "
           "[{title: $title, sku: $sku, quantity: $quantity, price: $price}], "
           "note: $vendor}) { order { id } } }", _product),
)  # fmt: skip


def abbreviated(argument: str) -> str:
    """``firstName`` -> ``fn``, ``postal_code`` -> ``pc``, ``obs`` -> ``o``."""
    return "".join(a or b.lower() for a, b in _WORD_START.findall(argument)) or argument


def _renamed(arguments: list[str], style: str) -> dict[str, str]:
    """Each argument's variable name in ``style``, one name per argument."""
    names: dict[str, str] = {}
    for i, argument in enumerate(arguments, 1):
        name = {"like": argument, "abbreviated": abbreviated(argument), "unlike": f"v{i}"}[style]
        names[argument] = name if name not in names.values() else f"{name}{i}"
    return names


def request(shape: _Shape, fake: Faker, style: str) -> Request:
    values, planted = shape.variables(fake)
    header_at = shape.operation.index(_HEADER)
    arguments = list(dict.fromkeys(_VARIABLE.findall(shape.operation, header_at)))
    names = _renamed(arguments, style)
    body = _VARIABLE.sub(lambda m: "$" + names[m.group(1)], shape.operation[header_at:])
    header = ", ".join(f"${names[a]}: String" for a in arguments)
    query = shape.operation[:header_at] + body.replace(_HEADER, header, 1)
    document: dict[str, object] = {
        "query": query,
        "variables": {names[a]: values[a] for a in arguments if a in values},
    }
    if shape.operation_name:
        document["operationName"] = shape.operation_name
    return Request(shape.name, style, json.dumps(document, ensure_ascii=False), planted)


def twins(shape: _Shape, locale: str, seed: int) -> list[Request]:
    """The shape's request in each style, with the same values (Faker seeded alike)."""
    out = []
    for style in STYLES:
        fake = Faker(locale)
        fake.seed_instance(seed)
        out.append(request(shape, fake, style))
    return out


def corpus(shapes: tuple[_Shape, ...], seeds: range, locales: tuple[str, ...]) -> list[Request]:
    """Every shape in every style, once per seed and locale."""
    return [
        twin
        for locale in locales
        for seed in seeds
        for shape in shapes
        for twin in twins(shape, locale, seed)
    ]
