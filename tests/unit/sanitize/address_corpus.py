"""Addresses and birth dates no one on the project wrote: Faker's pt_BR, pt_PT, es_ES and
en_US providers, placed where APIs and people put them (fields under their usual names,
Stripe's, ViaCEP's, BrasilAPI's and Google's answers, prose notes, form bodies and query
strings), each counted as a leak when it comes out of the sanitizer whole.

``python -m tests.unit.sanitize.address_corpus`` prints the leaks per class.
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from datetime import date
from urllib.parse import quote_plus, urlencode

from faker import Faker

from ext_proc_server.sanitize import Sanitizer
from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

SEEDS = (1, 2, 3)
PER_SEED = 30
LOCALES = ("pt_BR", "pt_PT", "es_ES", "en_US")
_MESES = ("janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto",
          "setembro", "outubro", "novembro", "dezembro")  # fmt: skip
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")  # fmt: skip

ADDRESS_KEYS = {
    "street_address": ("endereco", "logradouro", "address", "street", "addressLine1",
                       "address_line1", "enderecoResidencial"),
    "address": ("endereco", "address", "enderecoCompleto", "formatted_address",
                "endereco_completo", "residencia"),
    "postcode": ("cep", "postal_code", "zip", "zipCode", "postcode"),
    "bairro": ("bairro", "neighborhood", "district"),
    "building_number": ("numero", "number", "nro"),
    "secondary_address": ("complemento", "address2", "line2", "addressLine2"),
}  # fmt: skip
BIRTH_KEYS = ("dataNascimento", "data_nascimento", "birthdate", "birthDate", "dob",
              "date_of_birth", "nascimento", "dtNascimento", "birthday", "dateOfBirth",
              "fechaNacimiento")  # fmt: skip
# Prose: a note as a person writes it, the address or date in its middle.
ADDRESS_NOTES = ("mora na {a}", "Cliente mora na {a} - {s}", "Endereço: {a}, {s}",
                 "entregar em {a}.", "Lives at {a}, {s}.", "Vive en {a}.", "morada: {a}")  # fmt: skip
BIRTH_NOTES = ("nascido em {d}", "Data de nascimento: {d}", "DN: {d}", "born on {d}",
               "Date of birth: {d}", "nasc. {d}", "DOB {d}", "fecha de nacimiento: {d}",
               "data nasc: {d}", "nacida el {d}")  # fmt: skip


def birth_writings(born: date) -> dict[str, str]:
    """One birth date in each way APIs and people write it."""
    return {
        "iso": born.isoformat(),
        "dd/mm/yyyy": born.strftime("%d/%m/%Y"),
        "dd-mm-yyyy": born.strftime("%d-%m-%Y"),
        "de": f"{born.day} de {_MESES[born.month - 1]} de {born.year}",
        "english": f"{_MONTHS[born.month - 1]} {born.day}, {born.year}",
        "yyyymmdd": born.strftime("%Y%m%d"),
    }


def _faker_address(fake: Faker, locale: str) -> dict[str, str]:
    out = {
        "street_address": fake.street_address().strip(),
        "address": fake.address().replace("\n", ", "),
        "postcode": fake.postcode(),
        "building_number": fake.building_number(),
    }
    if hasattr(fake, "secondary_address"):  # not pt_BR's nor pt_PT's
        out["secondary_address"] = fake.secondary_address().strip()
    if locale == "pt_BR":
        out["bairro"] = fake.bairro()
    return out


def leaked(value: str, out: str) -> bool:
    """Whether ``value`` comes out whole: as written, JSON-escaped or form-encoded."""
    value = value.strip()
    return (
        value in out
        or json.dumps(value, ensure_ascii=False)[1:-1] in out
        or (quote_plus(value) in out)
    )


Place = tuple[str, str, Callable[[Sanitizer], str]]  # class, value, what comes out


def _json(body: object) -> Callable[[Sanitizer], str]:
    exchange = request_exchange(body=json.dumps(body, ensure_ascii=False))
    return lambda s: s.sanitize(exchange).request.body.decode()


def _text(text: str) -> Callable[[Sanitizer], str]:
    exchange = request_exchange(body=text, content_type="text/plain; charset=utf-8")
    return lambda s: s.sanitize(exchange).request.body.decode()


def _form(pairs: list[tuple[str, str]]) -> Callable[[Sanitizer], str]:
    exchange = request_exchange(
        body=urlencode(pairs), content_type="application/x-www-form-urlencoded", query=tuple(pairs)
    )

    def out(s: Sanitizer) -> str:
        clean = s.sanitize(exchange)
        return clean.request.body.decode() + repr(clean.request.query)

    return out


def _api_answers(values: dict[str, str], locale: str) -> Iterator[Place]:
    """Stripe's customer and shipping, ViaCEP's and BrasilAPI's answers, Google's
    geocoding result, holding the address."""
    street = values["street_address"].split(",")[0]
    line2, cep = values.get("secondary_address", "Bloco B"), values["postcode"]
    stripe = _json({"object": "customer", "name": "Ana Lima", "email": "a@example.com",
                    "address": {"line1": values["street_address"], "line2": line2,
                                "postal_code": cep, "city": "X", "state": "SP", "country": "BR"},
                    "shipping": {"name": "Ana Lima", "address": {
                        "line1": values["street_address"], "postal_code": cep}}})  # fmt: skip
    yield from (("stripe", v, stripe) for v in (values["street_address"], cep))
    if "secondary_address" in values:
        yield "stripe", line2, stripe
    google = _json({"results": [{"formatted_address": values["address"], "address_components": [
        {"long_name": values["building_number"], "short_name": values["building_number"],
         "types": ["street_number"]},
        {"long_name": street, "short_name": street, "types": ["route"]},
        {"long_name": cep, "short_name": cep, "types": ["postal_code"]}]}],
        "status": "OK"})  # fmt: skip
    yield from (("google", v, google) for v in (values["address"], street, cep))
    if locale == "pt_BR":
        bairro = values["bairro"]
        viacep = _json({"cep": cep, "logradouro": street, "complemento": line2, "bairro": bairro,
                        "localidade": "São Paulo", "uf": "SP", "ibge": "3550308"})  # fmt: skip
        brasilapi = _json({"cep": cep.replace("-", ""), "state": "SP", "city": "São Paulo",
                           "neighborhood": bairro, "street": street, "service": "viacep"})  # fmt: skip
        yield from (("viacep", v, viacep) for v in (cep, street, bairro))
        yield from (("brasilapi", v, brasilapi) for v in (cep.replace("-", ""), street, bairro))
        sublocality = {"long_name": bairro, "short_name": bairro,
                       "types": ["political", "sublocality", "sublocality_level_1"]}  # fmt: skip
        yield "google", bairro, _json({"results": [{"address_components": [sublocality]}]})


def places(seed: int, locale: str, count: int = PER_SEED) -> Iterator[Place]:
    """Every placement of ``count`` Faker addresses and birth dates of one locale."""
    fake = Faker(locale)
    fake.seed_instance(seed)
    for _ in range(count):
        values = _faker_address(fake, locale)
        born = birth_writings(fake.date_of_birth())
        for kind, value in values.items():
            for key in ADDRESS_KEYS[kind]:
                yield f"json {kind} in a person", value, _json({"cliente": {"nome": "Ana Lima",
                                                                             key: value}})  # fmt: skip
                yield (
                    f"form {kind} beside a name",
                    value,
                    _form([("nome", "Ana Lima"), (key, value)]),
                )
        yield from _api_answers(values, locale)
        for writing, value in born.items():
            for key in BIRTH_KEYS:
                yield f"json birth date ({writing})", value, _json({key: value})
            yield f"form birth date ({writing})", value, _form([(BIRTH_KEYS[0], value)])
            for note in BIRTH_NOTES:
                yield f"prose birth date ({writing})", value, _text(note.format(d=value))
        for note in ADDRESS_NOTES:
            text = note.format(a=values["street_address"], s=values.get("secondary_address", ""))
            yield f"prose street ({locale})", values["street_address"], _text(text)
        yield "prose CEP after its name", values["postcode"], _text(f"CEP {values['postcode']}.")


def leaks(
    s: Sanitizer, seeds: tuple[int, ...] = SEEDS, count: int = PER_SEED
) -> tuple[Counter[str], Counter[str], dict[str, list[str]]]:
    """Leaks and placements per class, and up to five leaked values of each."""
    leaked_by, total = Counter[str](), Counter[str]()
    examples: dict[str, list[str]] = defaultdict(list)
    for seed in seeds:
        for locale in LOCALES:
            for cls, value, out in places(seed, locale, count):
                total[cls] += 1
                if leaked(value, out(s)):
                    leaked_by[cls] += 1
                    if len(examples[cls]) < 5:
                        examples[cls].append(value)
    return leaked_by, total, examples


if __name__ == "__main__":
    found, placed, seen = leaks(sanitizer())
    for cls in sorted(placed):
        print(f"{cls:44} {found[cls]:5} / {placed[cls]:5}  {seen.get(cls, [])[:3]}")
    print(f"{'all':44} {sum(found.values()):5} / {sum(placed.values()):5}", file=sys.stderr)
