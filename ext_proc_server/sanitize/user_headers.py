"""Headers a proxy sets to the signed-in user: a login, an e-mail, or a display name.

oauth2-proxy (``X-Auth-Request-User``, ``X-Forwarded-User``,
``X-Forwarded-Preferred-Username``), Apache's and nginx's ``Remote-User``, Azure App
Service's ``X-MS-Client-Principal-Name``, Kong's ``X-Consumer-Username``. Their names
say whose the value is, but a login (``msouza``) is no person's name; a value of two
to eight capitalised words of letters (``Maria Souza``) is.
"""

from __future__ import annotations

from ext_proc_server.sanitize.fields import reads_as_name
from ext_proc_server.sanitize.wordlists import fold

# Lowered. Names holding "auth", "key", "token" or "secret" are secret already
# (secret_keys.header_class): X-Auth-Request-User, X-Authenticated-User, X-WebAuth-User.
USER_HEADERS = frozenset(
    {"remote-user", "x-remote-user", "x-forwarded-user", "x-forwarded-preferred-username",
     "x-forwarded-email", "x-user", "x-username", "x-user-id", "x-ms-client-principal-name",
     "x-consumer-username", "x-credential-username", "x-remote-name", "x-user-display-name"}
)  # fmt: skip
_PARTICLES = frozenset({"da", "de", "do", "das", "dos", "e", "di", "du", "del", "van", "von"})


def names_person(lower_name: str, value: str) -> bool:
    """Whether a user header's value is a person's name: capitalised words, not a login."""
    if lower_name not in USER_HEADERS or (" " not in value and "\t" not in value):
        return False
    if not reads_as_name(value, known=False):
        return False
    return all(word[0].isupper() or fold(word) in _PARTICLES for word in value.split())
