"""Authentication challenges are served as the server wrote them: clients parse them to
find where and how to authenticate. Only what is sensitive in them is replaced."""

from __future__ import annotations

import re
from urllib.request import parse_http_list, parse_keqv_list

import pytest
from faker import Faker
from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.core.exchange import Exchange, HttpRequest, HttpResponse
from ext_proc_server.sanitize.secret_keys import classify_key
from tests.unit.sanitize.sanitize_helpers import make_cpf, make_jwt, sanitizer

# Challenges as real servers send them.
CHALLENGES = [
    # RFC 9110 11.6.1
    'Basic realm="simple"',
    'Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"',
    # RFC 6750 3
    'Bearer realm="example"',
    'Bearer realm="example", error="invalid_token", error_description="The access token expired"',
    'Bearer error="insufficient_scope", scope="openid profile email"',
    # The Docker registry's token authentication
    'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
    'scope="repository:library/nginx:pull"',
    # RFC 9728 5.1 (OAuth protected resource metadata, as MCP servers send it)
    'Bearer resource_metadata="https://resource.example.com/.well-known/oauth-protected-resource"',
    # Microsoft Entra ID
    'Bearer authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", '
    'error="invalid_token", resource_id="00000003-0000-0000-c000-000000000000"',
    # RFC 7616 3.9.1, with the realm of a host rather than an address
    'Digest realm="http-auth.example.org", qop="auth, auth-int", algorithm=SHA-256, '
    'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", '
    'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
    "Negotiate",
    "AWS4-HMAC-SHA256",
    'Bearer realm="Acesso restrito à API de pagamentos", charset="UTF-8"',
]


def _served(value: str, name: str = "www-authenticate") -> str:
    exchange = Exchange(
        id="t",
        request=HttpRequest(method="GET", path="/v2/", authority="registry", headers=()),
        response=HttpResponse(status=401, headers=((name, value),), body=b""),
    )
    return sanitizer().sanitize(exchange).response.headers[0][1]


def _params(challenge: str) -> dict[str, str]:
    """The auth-params as the standard library reads a list of them (scheme dropped)."""
    items = parse_http_list(challenge)
    items[0] = items[0].split(" ", 1)[-1]
    return parse_keqv_list([item for item in items if "=" in item])


@pytest.mark.parametrize("name", ["www-authenticate", "proxy-authenticate"])
@pytest.mark.parametrize("challenge", CHALLENGES)
def test_a_challenge_with_nothing_sensitive_is_served_as_written(challenge: str, name: str) -> None:
    assert _served(challenge, name) == challenge


@pytest.mark.parametrize(
    ("planted", "param"),
    [
        ("maria.silva@example.com", "realm"),
        (make_jwt(sub="user-42"), "error_description"),
        (make_cpf("529982247"), "error_description"),
    ],
)
def test_a_sensitive_value_in_a_param_goes_and_the_challenge_stays_parseable(
    planted: str, param: str
) -> None:
    challenge = f'Bearer realm="api", {param}="denied for {planted} today", scope="read"'
    served = _served(challenge)
    assert planted not in served
    params = _params(served)
    assert params["scope"] == "read"
    assert params[param].startswith("denied for ") and params[param].endswith(" today")
    assert served.startswith("Bearer realm=")


def test_a_secret_named_param_and_a_token68_are_replaced_whole() -> None:
    assert _served('Bearer realm="x", token="opaque_0123456789abcdef0123"') == (
        'Bearer realm="x", token="SANITIZED_HEADER"'
    )
    assert _served("Negotiate oRQwEqADCgEAoQsGCSqGSIb3EgECAg==") == "Negotiate SANITIZED_HEADER"


_FAKE = Faker("pt_BR")
# Param names that name no secret or personal field (those are replaced whole, above).
_TOKEN = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_-", min_size=1, max_size=12).filter(
    lambda name: classify_key(name) is None
)
# Words with no "otp:"-style label: a secret's name followed by ":" makes what follows a
# secret in any text, which is right, and not what this test plants.
_LABEL = re.compile(r"([a-z_.-]+) *:")
_WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz /:.", min_size=0, max_size=30).filter(
    lambda words: all(classify_key(m.group(1)) is None for m in _LABEL.finditer(words))
)


@settings(max_examples=150, deadline=None)
@given(
    scheme=st.sampled_from(["Bearer", "Basic", "Digest", "Newauth"]),
    # "contact" is the planted param's own name: drawn again, it would be sent twice.
    params=st.lists(
        st.tuples(_TOKEN.filter(lambda name: name != "contact"), _WORDS),
        min_size=1,
        max_size=5,
        unique_by=lambda p: p[0],
    ),
    seed=st.integers(0, 10_000),
)
def test_planted_emails_go_and_every_other_part_stays(scheme, params, seed) -> None:
    _FAKE.seed_instance(seed)
    email = _FAKE.email()
    params = [*params, ("contact", f"write to {email}")]
    challenge = scheme + " " + ", ".join(f'{name}="{value}"' for name, value in params)
    served = _served(challenge)
    assert email not in served
    got = _params(served)
    assert list(got) == [name for name, _ in params]
    for name, value in params[:-1]:
        assert got[name] == value, (challenge, served)
    assert got["contact"].startswith("write to ")
