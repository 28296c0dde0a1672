"""A package manifest's dependencies are named like secrets ("passport-jwt",
"jsonwebtoken", "express-session", "firebase/php-jwt", "password-validator") and
their versions were replaced as secrets. A version constraint is kept under such a
name; anything else there is still replaced, and so is anything under a name made of
secret words alone ("password": "1.2.3")."""

from __future__ import annotations

import json

import pytest

from tests.unit.sanitize.sanitize_helpers import make_jwt, request_exchange, sanitizer

SANITIZER = sanitizer()

# Shapes of package.json, package-lock.json (v3), composer.json, Pipfile.lock and a
# JSON list of requirements, with dependencies real projects use.
MANIFESTS = [
    {"name": "api", "version": "1.0.0",
     "dependencies": {"passport-jwt": "4.0.1", "jsonwebtoken": "^9.0.2",
                      "express-session": "~1.17.3", "cookie-parser": "~1.4.6",
                      "@nestjs/jwt": "^10.2.0", "tough-cookie": ">=4.1.3 <5",
                      "address": "^1.2.2", "phone": "^3.1.42"},
     "devDependencies": {"password-validator": "^5.3.0", "@types/jsonwebtoken": "9.0.5",
                         "jwt-decode": "4.0.0-beta.1"},
     "peerDependencies": {"keytar": "7.x", "secret-handshake": "1.1.*"}},
    {"packages": {"": {"dependencies": {"passport-jwt": "^4.0.1"}},
                  "node_modules/jsonwebtoken": {
                      "version": "9.0.2",
                      "resolved": "https://registry.npmjs.org/jsonwebtoken/-/jsonwebtoken-9.0.2.tgz",
                      "dependencies": {"jws": "^3.2.2", "ms": "^2.1.1"}}}},
    {"require": {"php": ">=8.1", "firebase/php-jwt": "^6.10", "lcobucci/jwt": "^5.0 || ^4.3",
                 "tymon/jwt-auth": "2.1.*"},
     "require-dev": {"laravel/sanctum": "^3.3", "paragonie/random_compat": "v9.99.100"}},
    {"default": {"pyjwt": {"version": "==2.8.0"}, "flask-jwt-extended": {"version": "==4.6.0"}}},
    {"requirements": ["flask-jwt-extended==4.6.0", "django-rest-auth>=0.9.5",
                      "itsdangerous~=2.1"]},
]  # fmt: skip


@pytest.mark.parametrize("manifest", MANIFESTS)
@pytest.mark.parametrize("indent", [None, 2])
def test_a_package_manifest_passes_unchanged(manifest: dict, indent: int | None) -> None:
    body = json.dumps(manifest, indent=indent)
    out = SANITIZER.sanitize(request_exchange(body=body, response_body=body))
    assert out.request.body.decode() == body
    assert out.response.body.decode() == body
    assert out.redactions == frozenset()


@pytest.mark.parametrize(
    ("document", "token"),
    [({"jwt": make_jwt()}, "SANITIZED_JWT"), ({"api-key": "sk_live_51Hc8sQ2eZvKYlo2C"}, "SANITIZED_HEADER"),
     ({"passport-jwt": "d8f3a1c29b7e4f60"}, "SANITIZED_HEADER"), ({"password": "4.0.1a"}, "SANITIZED_PASSWORD"),
     ({"pin": "1234"}, "SANITIZED_PASSWORD"), ({"cvv": "123"}, "SANITIZED_PASSWORD"),
     ({"client_secret": "192.168.10.20"}, "SANITIZED_HEADER"),
     ({"session_token": "1.2.3.4"}, "SANITIZED_HEADER"),
     ({"dependencies": {"jsonwebtoken": make_jwt()}}, "SANITIZED_JWT")],
)  # fmt: skip
def test_secrets_under_such_names_are_still_replaced(document: dict, token: str) -> None:
    body = json.dumps(document)
    out = json.loads(SANITIZER.sanitize(request_exchange(body=body)).request.body)
    leaf = out.get("dependencies", out)
    assert list(leaf.values()) == [token]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [("passport-jwt=4.0.1&jsonwebtoken=^9.0.2", "application/x-www-form-urlencoded"),
     ("<deps><passport-jwt>4.0.1</passport-jwt><password-validator>^5.3.0</password-validator>"
      "</deps>", "application/xml"),
     ("jsonwebtoken: ^9.0.2\nexpress-session: ~1.17.3\n", "application/yaml")],
)  # fmt: skip
def test_versions_in_other_formats_are_kept(body: str, content_type: str) -> None:
    out = SANITIZER.sanitize(request_exchange(body=body, content_type=content_type))
    assert out.request.body.decode() == body


@pytest.mark.parametrize(
    "key",
    ["password", "senha", "api_key", "apiKey", "x-api-key", "client_secret", "access_token",
     "new_password", "user_password", "db_pass", "pin", "token", "password_2", "secret"],
)  # fmt: skip
def test_a_secret_s_own_field_is_replaced_even_when_it_reads_like_a_version(key):
    """Only a name with a word no secret's field is named with may be a dependency's."""
    for body, content_type in (
        (json.dumps({key: "1.2.3", "note": "x"}), "application/json"),
        (f"{key}=1.2.3&note=x", "application/x-www-form-urlencoded"),
        (f"<form><{key}>1.2.3</{key}></form>", "application/xml"),
    ):
        out = SANITIZER.sanitize(request_exchange(body=body, content_type=content_type))
        assert b"1.2.3" not in out.request.body, (key, content_type)
