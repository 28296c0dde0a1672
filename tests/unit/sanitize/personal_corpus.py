"""Builds sanitize_corpus/personal.json: personal data planted in real payload shapes.

Values come from external references, never from the sanitizer: names, streets,
neighbourhoods, cities, companies, RGs and birth dates from Faker's pt_BR and en_US
providers (seeded), phone numbers from phonenumbers' BR metadata (every number type's
example number, varied and re-validated, in every layout). Shapes follow real APIs:
NF-e XML (emit vs dest), customer onboarding JSON in Portuguese and English, payment
APIs, signup forms, search query strings, support tickets in free text.

Each case lists ``planted`` [class, value] pairs (must not survive) and ``decoys``
(must survive: product, plan, bank and company names, company addresses, cities,
dates that are not birth dates, ids). The file is committed; regenerate it with
``python -m tests.unit.sanitize.personal_corpus`` only on purpose.

Faker draws dates relative to the day it runs (``date_of_birth`` counts ages back from
today, ``date_between("-2y")`` two years back): every date is drawn from ``TODAY``, the
day the stored file was built, so the same seed and Faker release build it byte for
byte on any day.
"""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote_plus, urlencode

import phonenumbers
from faker import Faker
from phonenumbers import PhoneNumberFormat, PhoneNumberType

OUT = Path(__file__).parent / "sanitize_corpus" / "personal.json"
SEED = 20260514
CASES_PER_SHAPE = 45
# The day personal.json was built: dates are drawn as Faker drew them that day.
TODAY = date(2026, 12, 4)

PHONE_TYPES = (
    PhoneNumberType.FIXED_LINE,
    PhoneNumberType.MOBILE,
    PhoneNumberType.TOLL_FREE,
    PhoneNumberType.PREMIUM_RATE,
    PhoneNumberType.SHARED_COST,
)
PLANS = ("Plano Família Premium", "Plano Básico", "Conta Digital Plus", "Seguro Auto Total")
PRODUCTS = ("Camiseta Polo Azul", "Tênis Corrida Pro", "Cafeteira Expresso", "Notebook 15")
CATEGORIES = ("Eletrônicos", "Moda Feminina", "Casa e Jardim", "Esporte e Lazer")
BANKS = ("Banco do Brasil S.A.", "Caixa Econômica Federal", "Itaú Unibanco S.A.")
STREET_TYPES = ("Rua", "Avenida", "Av.", "Travessa", "Alameda", "Rua", "Estrada", "Praça")


class Values:
    """One seeded source of planted values and decoys."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.br = Faker("pt_BR")
        self.br.seed_instance(seed)
        self.en = Faker("en_US")
        self.en.seed_instance(seed + 1)

    # -- planted ---------------------------------------------------------------------

    def full_name(self) -> str:
        first = self.br.first_name()
        middle = self.rng.choice(["", " da", " de", " dos"])
        last = " ".join(self.br.last_name() for _ in range(self.rng.choice([1, 2])))
        name = f"{first}{middle} {last}" if middle else f"{first} {last}"
        return name.upper() if self.rng.random() < 0.15 else name

    def birth_date(self) -> date:
        """As Faker's ``date_of_birth(minimum_age=18, maximum_age=90)`` draws it on ``TODAY``."""
        start, end = TODAY.replace(year=TODAY.year - 91), TODAY.replace(year=TODAY.year - 18)
        born = self.br.date_time_ad(start_datetime=start, end_datetime=end).date()
        return born if born != start else born + timedelta(days=1)

    def birth(self) -> tuple[str, str]:
        """(ISO date, the same date in a layout APIs use)."""
        date = self.birth_date()
        layout = self.rng.choice(["iso", "br", "iso", "br", "datetime", "dash"])
        shown = {
            "iso": date.isoformat(),
            "br": date.strftime("%d/%m/%Y"),
            "datetime": date.isoformat() + "T00:00:00Z",
            "dash": date.strftime("%d-%m-%Y"),
        }[layout]
        return date.isoformat(), shown

    def street(self) -> str:
        return f"{self.rng.choice(STREET_TYPES)} {self.br.last_name()} {self.br.last_name()}"

    def number(self) -> str:
        return str(self.rng.randrange(1000, 9999))

    def complement(self) -> str:
        return self.rng.choice(["apto", "Apto", "Bloco B apto", "Casa", "Sala"]) + (
            f" {self.rng.randrange(11, 999)}"
        )

    def neighbourhood(self) -> str:
        return self.br.bairro()

    def cep(self) -> str:
        return self.br.postcode(formatted=self.rng.random() < 0.7)

    def rg(self) -> str:
        digits = f"{self.rng.randrange(10**8, 10**9)}"
        return self.rng.choice(
            [
                f"{digits[:2]}.{digits[2:5]}.{digits[5:8]}-{digits[8]}",
                digits,
                f"{self.br.estado_sigla()}-{digits[:2]}.{digits[2:5]}.{digits[5:8]}",
            ]
        )

    def phone(self, *, context: bool) -> str:
        """A valid BR number of any type, in any layout; without ``context`` only in
        layouts a phone has on its own (short and bare national numbers need a cue)."""
        while True:
            kind = self.rng.choice(PHONE_TYPES)
            number = _varied(self.rng, kind)
            layouts = _layouts(number)
            nsn = str(number.national_number)
            if not context:
                if len(nsn) <= 9:
                    layouts = {k: v for k, v in layouts.items() if k in ("e164", "intl")}
                layouts.pop("bare_national", None)
                if len(nsn) == 10:
                    layouts.pop("trunk_bare", None)
            if layouts:
                return layouts[self.rng.choice(sorted(layouts))]

    # -- decoys ------------------------------------------------------------------------

    def company(self) -> str:
        return self.br.company()

    def company_address(self) -> dict[str, str]:
        return {
            "logradouro": self.street(),
            "numero": self.number(),
            "bairro": self.neighbourhood(),
            "cidade": self.br.city(),
            "uf": self.br.estado_sigla(),
            "cep": self.br.postcode(),
        }

    def city(self) -> str:
        return self.br.city()

    def other_date(self) -> str:
        # Faker reads "-2y" as 730.48 days back, a date's arithmetic as 731.
        return self.br.date_between(TODAY - timedelta(days=731), TODAY).isoformat()

    def order_id(self) -> str:
        return f"PED-{self.rng.randrange(10**5, 10**6)}"

    def pick(self, options: tuple[str, ...]) -> str:
        return self.rng.choice(options)


def _varied(rng: random.Random, kind: int) -> phonenumbers.PhoneNumber:
    """The type's example number with random trailing digits, still valid and of the type."""
    example = phonenumbers.example_number_for_type("BR", kind)
    nsn = str(example.national_number)
    while True:
        keep = max(3, len(nsn) - 6)
        candidate = nsn[:keep] + "".join(rng.choice("0123456789") for _ in nsn[keep:])
        if kind in (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE):
            ddd = rng.choice(["11", "21", "31", "41", "51", "61", "71", "81", "85", "92"])
            candidate = ddd + candidate[2:]
        number = phonenumbers.PhoneNumber(country_code=55, national_number=int(candidate))
        if phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) == kind:
            return number


def _layouts(number: phonenumbers.PhoneNumber) -> dict[str, str]:
    nsn = str(number.national_number)
    national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    out = {
        "e164": phonenumbers.format_number(number, PhoneNumberFormat.E164),
        "intl": phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL),
        "national": national,
        "bare_national": ("0" + nsn) if national.startswith("0") else nsn,
        "bare_55": "55" + nsn,
    }
    if national.startswith("("):  # geographic: trunk prefix and carrier code forms
        ddd, rest = nsn[:2], national.partition(") ")[2]
        out["trunk"] = f"(0{ddd}) {rest}"
        out["trunk_bare"] = "0" + nsn
        out["carrier"] = phonenumbers.format_national_number_with_carrier_code(number, "15")
        out["carrier_bare"] = "015" + nsn
    return out


# -- payload shapes ----------------------------------------------------------------


def case(name: str, content_type: str, body: str, planted: list, decoys: list, **extra) -> dict:
    # A decoy that shares text with a planted value (a company named like the
    # customer's surname) cannot be told apart by counting: it is left out.
    values = [value for _, value in planted]
    decoys = [d for d in decoys if not any(d in value or value in d for value in values)]
    return {
        "name": name,
        "content_type": content_type,
        "body": body,
        "planted": planted,
        "decoys": decoys,
        **extra,
    }


def onboarding_pt(v: Values, i: int) -> dict:
    name, mother = v.full_name(), v.full_name()
    _, birth = v.birth()
    street, number, comp, hood, cep = (
        v.street(),
        v.number(),
        v.complement(),
        v.neighbourhood(),
        v.cep(),
    )
    rg, phone = v.rg(), v.phone(context=True)
    plan, company, city, created = v.pick(PLANS), v.company(), v.city(), v.other_date()
    firm = v.company_address()
    body = {
        "cliente": {
            "nomeCompleto": name,
            "dataNascimento": birth,
            "nome_mae": mother,
            "rg": rg,
            "telefone": phone,
            "endereco": {"logradouro": street, "numero": number, "complemento": comp,
                         "bairro": hood, "cidade": v.city(), "uf": "SP", "cep": cep},
        },
        "plano": {"nome": plan, "valor": 49.9},
        "loja": {"nome": company, "cidade": city},
        "empresa": {"razaoSocial": company, "endereco": firm},
        "createdAt": created,
        "vencimento": v.other_date(),
    }  # fmt: skip
    planted = [["name", name], ["name", mother], ["birth_date", birth], ["rg", rg],
               ["phone", phone], ["address", street], ["address", number], ["address", comp],
               ["address", hood], ["cep", cep]]  # fmt: skip
    decoys = [plan, company, city, created, firm["logradouro"], firm["bairro"], firm["cep"]]
    return case(f"onboarding_pt_{i}", "application/json", json.dumps(body, ensure_ascii=False),
                 planted, decoys)  # fmt: skip


def customer_en(v: Values, i: int) -> dict:
    first, last = v.en.first_name(), v.en.last_name()
    _, birth = v.birth()
    street, number, hood, cep = v.street(), v.number(), v.neighbourhood(), v.cep()
    phone = v.phone(context=True)
    product, bank, company, ordered = v.pick(PRODUCTS), v.pick(BANKS), v.company(), v.other_date()
    firm = v.company_address()
    body = {
        "data": {
            "customer": {"id": 1000 + i, "first_name": first, "last_name": last,
                         "fullName": f"{first} {last}", "birthDate": birth, "phone": phone,
                         "address": {"street": street, "number": number, "neighborhood": hood,
                                     "city": v.city(), "state": "RJ", "zipCode": cep}},
            "items": [{"product": {"name": product, "sku": f"SKU-{i:05d}"}, "qty": 2}],
            "bank_name": bank,
            "company": {"name": company, "address": {"street": firm["logradouro"],
                                                     "zipCode": firm["cep"]}},
            "order_date": ordered,
        }
    }  # fmt: skip
    planted = [["name", first], ["name", last], ["name", f"{first} {last}"],
               ["birth_date", birth], ["phone", phone], ["address", street],
               ["address", number], ["address", hood], ["cep", cep]]  # fmt: skip
    decoys = [product, bank, company, ordered, firm["logradouro"], firm["cep"], f"SKU-{i:05d}"]
    return case(f"customer_en_{i}", "application/json", json.dumps(body), planted, decoys)


def payment(v: Values, i: int) -> dict:
    payer, holder = v.full_name(), v.full_name().upper()
    phone = v.phone(context=True)
    merchant, due, category = v.company(), v.other_date(), v.pick(CATEGORIES)
    body = {
        "payment": {"amount": 129.9, "due_date": due, "description": f"Pedido {v.order_id()}"},
        "payer": {"name": payer, "phone": phone, "type": "individual"},
        "card": {"holder_name": holder, "brand": "visa", "last4": "4242"},
        "merchant": {"name": merchant, "category": category, "city": v.city()},
    }  # fmt: skip
    planted = [["name", payer], ["name", holder], ["phone", phone]]
    decoys = [merchant, due, category, "visa", "4242"]
    return case(f"payment_{i}", "application/json", json.dumps(body, ensure_ascii=False),
                 planted, decoys)  # fmt: skip


def nfe(v: Values, i: int) -> dict:
    name, street, number, hood, cep = (
        v.full_name(),
        v.street(),
        v.number(),
        v.neighbourhood(),
        v.cep(),
    )
    comp, phone = v.complement(), v.phone(context=True)
    company, firm, product, issued = (
        v.company(),
        v.company_address(),
        v.pick(PRODUCTS),
        v.other_date(),
    )
    body = (
        '<?xml version="1.0" encoding="UTF-8"?><nfeProc><NFe xmlns="http://www.portalfiscal.inf.br/nfe">'
        f'<infNFe Id="NFe{i:044d}" versao="4.00"><ide><dhEmi>{issued}T10:00:00-03:00</dhEmi></ide>'
        f"<emit><CNPJ>11222333000181</CNPJ><xNome>{company}</xNome><enderEmit>"
        f"<xLgr>{firm['logradouro']}</xLgr><nro>{firm['numero']}</nro><xBairro>{firm['bairro']}</xBairro>"
        f"<xMun>{firm['cidade']}</xMun><UF>SP</UF><CEP>{firm['cep'].replace('-', '')}</CEP></enderEmit></emit>"
        f"<dest><CPF>52998224725</CPF><xNome>{name}</xNome><enderDest><xLgr>{street}</xLgr>"
        f"<nro>{number}</nro><xCpl>{comp}</xCpl><xBairro>{hood}</xBairro><xMun>{v.city()}</xMun>"
        f"<UF>MG</UF><CEP>{cep}</CEP><fone>{phone}</fone></enderDest></dest>"
        f"<det nItem=\"1\"><prod><xProd>{product}</xProd><vProd>99.90</vProd></prod></det>"
        "</infNFe></NFe></nfeProc>"
    )  # fmt: skip
    planted = [["name", name], ["address", street], ["address", number], ["address", comp],
               ["address", hood], ["cep", cep], ["phone", phone]]  # fmt: skip
    decoys = [company, firm["logradouro"], firm["bairro"], firm["cidade"],
              firm["cep"].replace("-", ""), product, issued]  # fmt: skip
    return case(f"nfe_{i}", "application/xml", body, planted, decoys)


def signup_form(v: Values, i: int) -> dict:
    name = v.full_name()
    _, birth = v.birth()
    phone, street, number, hood, cep = (
        v.phone(context=True),
        v.street(),
        v.number(),
        v.neighbourhood(),
        v.cep(),
    )
    plan, city, rg = v.pick(PLANS), v.city(), v.rg()
    fields = {"nome": name, "rg": rg, "data_nascimento": birth, "telefone": phone, "logradouro": street,
              "numero": number, "bairro": hood, "cep": cep, "cidade": city, "plano": plan,
              "aceite": "on"}  # fmt: skip
    body = urlencode(fields, quote_via=quote_plus)
    planted = [["name", name], ["birth_date", birth], ["phone", phone], ["address", street],
               ["address", number], ["address", hood], ["cep", cep], ["rg", rg]]  # fmt: skip
    decoys = [quote_plus(plan), quote_plus(city), "aceite=on"]
    return case(f"signup_form_{i}", "application/x-www-form-urlencoded", body, planted, decoys)


def search_query(v: Values, i: int) -> dict:
    name, rg = v.full_name(), v.rg()
    _, birth = v.birth()
    category, city, since = v.pick(CATEGORIES), v.city(), v.other_date()
    query = [["nomeCliente", name], ["dtNasc", birth], ["rg", rg], ["categoria", category],
             ["cidade", city], ["desde", since], ["page", "2"]]  # fmt: skip
    planted = [["name", name], ["birth_date", birth], ["rg", rg]]
    decoys = [category, city, since]
    return case(f"search_query_{i}", "application/json", "", planted, decoys, query=query,
                 path="/v1/clientes/busca")  # fmt: skip


def ticket_text(v: Values, i: int) -> dict:
    name = v.full_name()
    written = v.birth_date().strftime("%d/%m/%Y")
    street, number, hood = v.street(), v.number(), v.neighbourhood()
    phone, free_phone, rg = v.phone(context=True), v.phone(context=False), v.rg()
    honorific = v.br.last_name()
    company, product, order, city, when = (
        v.company(),
        v.pick(PRODUCTS),
        v.order_id(),
        v.city(),
        v.other_date(),
    )
    body = (
        f"Atendimento {order} de {when}: cliente {name}, nascida em {written}, mora na "
        f"{street}, {number} - {hood}. Tel: {phone}. Documento RG {rg}. Retorno para "
        f"{free_phone} combinado com a Sra. {honorific}. Produto {product} comprado na loja "
        f"{company} em {city}."
    )
    planted = [["name", name], ["birth_date", written], ["address", street],
               ["address", f"{street}, {number}"], ["address", hood], ["phone", phone],
               ["phone", free_phone], ["rg", rg], ["name", f"Sra. {honorific}"]]  # fmt: skip
    decoys = [order, when, product, company, city]
    return case(f"ticket_text_{i}", "text/plain", body, planted, decoys)


def soap_xml(v: Values, i: int) -> dict:
    name, father = v.full_name(), v.full_name()
    _, birth = v.birth()
    address = f"{v.street()}, {v.number()} - {v.neighbourhood()}"
    cep, rg, phone = v.cep(), v.rg(), v.phone(context=True)
    plan, bank, since = v.pick(PLANS), v.pick(BANKS), v.other_date()
    body = (
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        f"<ns:cadastrarCliente xmlns:ns=\"urn:x\"><ns:cliente><ns:nome>{name}</ns:nome>"
        f"<ns:nomePai>{father}</ns:nomePai><ns:dataNascimento>{birth}</ns:dataNascimento>"
        f"<ns:rg>{rg}</ns:rg><ns:celular>{phone}</ns:celular><ns:endereco>{address}</ns:endereco>"
        f"<ns:cep>{cep}</ns:cep></ns:cliente><ns:plano>{plan}</ns:plano>"
        f"<ns:banco nome=\"{bank}\"/><ns:dataAdesao>{since}</ns:dataAdesao>"
        "</ns:cadastrarCliente></soap:Body></soap:Envelope>"
    )  # fmt: skip
    planted = [["name", name], ["name", father], ["birth_date", birth], ["rg", rg],
               ["phone", phone], ["address", address], ["cep", cep]]  # fmt: skip
    decoys = [plan, bank, since]
    return case(f"soap_xml_{i}", "text/xml", body, planted, decoys)


SHAPES = (onboarding_pt, customer_en, payment, nfe, signup_form, search_query, ticket_text,
          soap_xml)  # fmt: skip


def build(seed: int = SEED) -> list[dict]:
    values = Values(seed)
    return [shape(values, i) for i in range(CASES_PER_SHAPE) for shape in SHAPES]


def main() -> None:
    OUT.write_text(json.dumps(build(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
