"""Identity providers' answers: OIDC userinfo and ID token claims, SCIM users (GitHub
Enterprise's SCIM API, RFC 7643's enterprise extension), Azure App Service's
``/.auth/me`` claims as ``typ``/``val`` pairs, claims keyed by their WS-Federation URI,
Ory Kratos identities (``traits.name.first``), Cognito's ``custom:`` attributes.

The personal claims go (``name``, ``given_name``, ``family_name``, ``birthdate``,
``phone_number``, ``address.street_address``, ``email``, a document number); the ids
the mock must echo stay (``sub``, ``aud``, ``nonce``, SCIM's ``id`` and ``externalId``,
Kratos's identity id, roles and groups). People from Faker's pt_BR, en_US and es_ES
profiles."""

from __future__ import annotations

import json

from faker import Faker

from tests.unit.sanitize.people import leaked
from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

SANITIZER = sanitizer()
LOCALES = ("pt_BR", "en_US", "es_ES")
PER_LOCALE = 40  # 120 people per case
CLAIMS = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/"
ROLE_CLAIM = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"
OBJECT_ID_CLAIM = "http://schemas.microsoft.com/identity/claims/objectidentifier"


def _fakers(seed: int) -> list[Faker]:
    out = []
    for i, locale in enumerate(LOCALES):
        fake = Faker(locale)
        fake.seed_instance(seed + i)
        out += [fake] * PER_LOCALE
    return out


def _uuid(fake: Faker) -> str:
    """A UUID with a letter in its second group: one whose middle groups are all digits
    ("5aa71072-0869-4605-9570-…") reads as a phone number wherever it stands, a case of
    the phone detector's, not of these names."""
    uuid = fake.uuid4()
    return f"{uuid[:9]}a{uuid[10:]}"


def _json_answer(document: object) -> str:
    body = json.dumps(document, ensure_ascii=False)
    out = SANITIZER.sanitize(request_exchange(body="{}", response_body=body))
    return out.response.body.decode()


# -- OAuth/OIDC answers: personal claims go, technical ids stay --------------------------


def test_oidc_userinfo_and_scim_users_keep_their_ids_and_lose_their_claims() -> None:
    leaks, changed = [], []
    for fake in _fakers(30):
        given, family = fake.first_name(), fake.last_name()
        sub, external = _uuid(fake), _uuid(fake)
        claims = {"sub": sub, "iss": "https://login.example.com/", "aud": "app-4f1c",
                  "nonce": fake.sha1()[:16], "name": f"{given} {family}", "given_name": given,
                  "family_name": family, "birthdate": fake.date_of_birth().isoformat(),
                  "phone_number": fake.phone_number(), "email": fake.free_email(),
                  "address": {"street_address": fake.street_name(), "postal_code": fake.postcode()},
                  "identities": [{"provider": "google-oauth2", "user_id": str(fake.random_number(21, fix_len=True))}],
                  "identity": {"id": external, "type": "user"}}  # fmt: skip
        scim = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": sub,
                "externalId": external, "userName": claims["email"],
                "name": {"givenName": given, "familyName": family, "formatted": claims["name"]},
                "emails": [{"value": claims["email"], "type": "work", "primary": True}],
                "meta": {"resourceType": "User", "location": f"https://api.github.com/scim/v2/enterprises/octo/Users/{sub}"}}  # fmt: skip
        personal = [claims[k] for k in ("name", "given_name", "family_name", "birthdate",
                                        "phone_number", "email")]  # fmt: skip
        personal.append(claims["address"]["street_address"])
        for out in (_json_answer(claims), _json_answer(scim)):
            leaks += leaked(out, personal)
            changed += [v for v in (sub, external) if v not in out]
        technical = (claims["nonce"], claims["aud"], claims["identities"][0]["user_id"])
        changed += [v for v in technical if v not in _json_answer(claims)]
    assert leaks == []
    assert changed == []


def test_azure_app_service_claims_lose_the_names_and_keep_the_ids_and_roles() -> None:
    leaks, changed = [], []
    for fake in _fakers(31):
        given, family, oid = fake.first_name(), fake.last_name(), _uuid(fake)
        me = [{"provider_name": "aad", "user_id": fake.free_email(),
               "user_claims": [{"typ": CLAIMS + "name", "val": f"{given} {family}"},
                               {"typ": CLAIMS + "givenname", "val": given},
                               {"typ": CLAIMS + "surname", "val": family},
                               {"typ": OBJECT_ID_CLAIM, "val": oid},
                               {"typ": ROLE_CLAIM, "val": "Admin"}]}]  # fmt: skip
        out = _json_answer(me)
        leaks += leaked(out, [f"{given} {family}", given, family, me[0]["user_id"]])
        claims = {c["typ"]: c["val"] for c in json.loads(out)[0]["user_claims"]}
        changed += [v for v in (oid, "Admin") if v not in claims.values()]
    assert leaks == []
    assert changed == []


def test_claims_keyed_by_their_uri_lose_the_names() -> None:
    leaks, changed = [], []
    for fake in _fakers(32):
        given, family, oid = fake.first_name(), fake.last_name(), _uuid(fake)
        claims = {CLAIMS + "givenname": given, CLAIMS + "surname": family,
                  CLAIMS + "name": f"{given} {family}", CLAIMS + "emailaddress": fake.free_email(),
                  OBJECT_ID_CLAIM: oid, ROLE_CLAIM: "Admin",
                  "https://app.example.com/roles": ["admin"]}  # fmt: skip
        out = json.loads(_json_answer(claims))
        leaks += leaked(json.dumps(out, ensure_ascii=False), [given, family, f"{given} {family}"])
        changed += [k for k in (OBJECT_ID_CLAIM, ROLE_CLAIM, "https://app.example.com/roles")
                    if out[k] != claims[k]]  # fmt: skip
    assert leaks == []
    assert changed == []


def test_a_kratos_identity_loses_its_traits_and_keeps_its_ids() -> None:
    leaks, changed = [], []
    for fake in _fakers(33):
        first, last, email, identity = (
            fake.first_name(),
            fake.last_name(),
            fake.free_email(),
            _uuid(fake),
        )
        session = {"id": _uuid(fake), "active": True,
                   "identity": {"id": identity, "schema_id": "default", "state": "active",
                                "traits": {"email": email, "name": {"first": first, "last": last}},
                                "verifiable_addresses": [{"id": _uuid(fake), "value": email,
                                                          "verified": True, "via": "email"}]}}  # fmt: skip
        out = json.loads(_json_answer(session))
        leaks += leaked(json.dumps(out, ensure_ascii=False), [first, last, email])
        kept = (out["id"], out["identity"]["id"], out["identity"]["schema_id"])
        changed += [
            v for v, was in zip(kept, (session["id"], identity, "default"), strict=True) if v != was
        ]
    assert leaks == []
    assert changed == []


def test_a_name_objects_first_and_last_are_a_persons_only_there() -> None:
    """A page's "first" and "last" (its links, a person list's cursors) stay."""
    for fake in _fakers(34)[::10]:
        page = {"users": [{"login": fake.user_name(), "id": 7}],
                "links": {"first": "/users?page=1", "last": "/users?page=9"},
                "cursors": {"first": "Y3Vyc29yOjE=", "last": "Y3Vyc29yOjk="}}  # fmt: skip
        assert json.loads(_json_answer(page)) == page


def test_cognito_custom_attributes_are_read_by_their_names() -> None:
    leaks, changed = [], []
    for fake in _fakers(35):
        br = Faker("pt_BR")
        br.seed_instance(fake.random_int())
        claims = {"sub": _uuid(fake), "cognito:username": "google_" + str(fake.random_number(21)),
                  "cognito:groups": ["us-east-1_Ab12Cd_Google"],
                  "custom:identity_number": br.rg(), "custom:nome_completo": fake.name(),
                  "custom:cpf_titular": br.cpf(), "given_name": fake.first_name()}  # fmt: skip
        out = json.loads(_json_answer(claims))
        planted = [claims[k] for k in ("custom:identity_number", "custom:nome_completo",
                                       "custom:cpf_titular", "given_name")]  # fmt: skip
        leaks += leaked(json.dumps(out, ensure_ascii=False), planted)
        changed += [k for k in ("sub", "cognito:username", "cognito:groups") if out[k] != claims[k]]
    assert leaks == []
    assert changed == []


def test_scims_enterprise_extension_keeps_its_organisation_and_loses_the_manager() -> None:
    """RFC 7643's enterprise User: keyed by its URN, read by its last part ("User")."""
    for fake in _fakers(36)[::4]:
        manager = fake.name()
        extension = {"employeeNumber": "701984", "costCenter": "4130",
                     "organization": "Universal Studios", "division": "Theme Park",
                     "department": "Tour Operations",
                     "manager": {"value": _uuid(fake), "displayName": manager}}  # fmt: skip
        urn = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        user = {"schemas": [urn], "id": _uuid(fake), urn: extension}
        out = json.loads(_json_answer(user))
        assert leaked(json.dumps(out, ensure_ascii=False), [manager]) == []
        got = out[urn]
        assert {k: got[k] for k in extension if k != "manager"} == {
            k: v for k, v in extension.items() if k != "manager"
        }
        assert got["manager"]["value"] == extension["manager"]["value"]
