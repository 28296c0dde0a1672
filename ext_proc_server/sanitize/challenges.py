"""Authentication challenges (``WWW-Authenticate``, ``Proxy-Authenticate``, RFC 9110 11.6).

A challenge tells a client where and how to authenticate: a Docker registry names its
token service in ``realm`` and ``scope``, an OAuth resource its metadata in
``resource_metadata`` (RFC 9728), a bearer error its reason. Clients parse it, so it is
kept as written and only its values are read: each auth-param value as text (whole when
the param's name is a secret's, ``token=``), and a token68 (``Negotiate <token>``, a
server's own credentials) replaced whole.
"""

from __future__ import annotations

import re

from ext_proc_server.sanitize.run import Run
from ext_proc_server.sanitize.secret_keys import classify_key
from ext_proc_server.sanitize.urls import scrub_with_urls

CHALLENGE_HEADERS = frozenset({"www-authenticate", "proxy-authenticate"})

_TCHAR = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
# An auth-param (name = token or quoted-string), or a scheme and its token68 if any.
_PART = re.compile(
    rf'(?P<name>{_TCHAR})[ \t]*=[ \t]*(?:"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<token>{_TCHAR}))'
    rf"|(?P<scheme>{_TCHAR})"
    r"(?:[ \t]+(?P<token68>[A-Za-z0-9._~+/-]+=*)(?=[ \t]*(?:,|$)))?"
)


def sanitize_challenge(run: Run, value: str) -> str:
    """``value`` with every auth-param's value read as text and each token68 replaced;
    names, schemes, quoting and separators stay as they were."""
    out: list[str] = []
    at = 0
    for m in _PART.finditer(value):
        group = "quoted" if m.group("quoted") is not None else "token"
        if m.group("token68"):
            group = "token68"
        elif m.group("scheme"):
            continue
        start, end = m.span(group)
        piece = m.group(group)
        if not piece:
            continue
        secret = "api_key" if group == "token68" else classify_key(m.group("name").lower())
        fresh = run.whole(str(secret), piece) if secret else scrub_with_urls(run, piece)
        if fresh != piece:
            out.append(value[at:start])
            out.append(fresh)
            at = end
    if not out:
        return value
    out.append(value[at:])
    return "".join(out)
