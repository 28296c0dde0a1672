"""Headers a proxy sets to the signed-in user: a login, an e-mail, or a display name.

oauth2-proxy (``X-Auth-Request-User``, ``X-Forwarded-User``,
``X-Forwarded-Preferred-Username``), Apache's and nginx's ``Remote-User``, Azure App
Service's ``X-MS-Client-Principal-Name``, Kong's ``X-Consumer-Username``. Their names
say whose the value is, but a login (``msouza``) is no person's name; a value of two
to eight capitalised words of letters (``Maria Souza``) is.
"""

from __future__ import annotations

import functools

from ext_proc_server.sanitize.fields import reads_as_name
from ext_proc_server.sanitize.wordlists import fold

# Lowered. Names holding "auth", "key", "token" or "secret" are secret already
# (secret_keys.header_class): X-Auth-Request-User, X-Authenticated-User, X-WebAuth-User.
USER_HEADERS = frozenset(
    {"remote-user", "x-remote-user", "x-forwarded-user", "x-forwarded-preferred-username",
     "x-forwarded-email", "x-user", "x-username", "x-user-id", "x-ms-client-principal-name",
     "x-consumer-username", "x-credential-username", "x-remote-name", "x-user-display-name"}
)  # fmt: skip
# The same names in any hyphenation: X-User-Name is X-Username's.
_USER_HEADERS_JOINED = frozenset(name.replace("-", "") for name in USER_HEADERS)
_PARTICLES = frozenset({"da", "de", "do", "das", "dos", "e", "di", "du", "del", "van", "von"})


def names_person(lower_name: str, value: str) -> bool:
    """Whether a user header's value is a person's name: capitalised words, not a login."""
    if " " not in value and "\t" not in value:
        return False
    if lower_name not in USER_HEADERS and lower_name.replace("-", "") not in _USER_HEADERS_JOINED:
        return False
    if not reads_as_name(value, known=False):
        return False
    return all(word[0].isupper() or fold(word) in _PARTICLES for word in value.split())


# Words a header's name joins in camelCase (x-holderName, x-nomeCliente, x-userEmail),
# which arrive lowered (HTTP/2 header names are lower case; Envoy lowers HTTP/1.1's).
_JOINED_WORDS = frozenset(
    {"nome", "name", "completo", "full", "first", "last", "given", "family", "display",
     "social", "cliente", "customer", "holder", "titular", "user", "usuario", "pagador",
     "payer", "comprador", "buyer", "consumidor", "paciente", "patient", "portador",
     "owner", "member", "pessoa", "person", "contato", "contact", "cpf", "email", "mail",
     "phone", "telefone", "celular", "mobile", "birth", "date", "data", "nascimento"}
)  # fmt: skip
_JOINED_MAX = 12  # letters of the longest word above


@functools.lru_cache(maxsize=1024)
def spelled_out(lower_name: str) -> str:
    """A lowered header name with each part that joins two or more of the words above
    written apart ("x-holdername" as "x-holder-name"), so that it reads as those words."""
    return "-".join(_split(part) for part in lower_name.split("-"))


def _split(part: str) -> str:
    # ways[i]: the fewest words spelling part[i:] (None: none do), found from the end.
    ways: list[tuple[str, ...] | None] = [None] * len(part) + [()]
    for start in range(len(part) - 1, -1, -1):
        spellings = [
            (part[start:end], *rest)
            for end in range(start + 1, min(len(part), start + _JOINED_MAX) + 1)
            if (rest := ways[end]) is not None and part[start:end] in _JOINED_WORDS
        ]
        ways[start] = min(spellings, key=len, default=None)
    found = ways[0]
    return "-".join(found) if found is not None and len(found) > 1 else part
