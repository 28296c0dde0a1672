"""Who may read the console: HTTP Basic with ``loader.console_user``/``console_password``.

Secure by default: without credentials the console answers 401 to everyone, except that
``loader.console_open_on_loopback`` (set by ``mockado up`` for its own loader) lets
clients on 127.0.0.1/::1 in without them. The client address is the socket's peer:
forwarded-for headers are not trusted (the probe server runs with ``proxy_headers`` off).
"""

from __future__ import annotations

import base64
import binascii
import hmac

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from ext_proc_server.core.config import LoaderConfig

LOOPBACK = frozenset({"127.0.0.1", "::1"})
REALM = 'Basic realm="mockado console", charset="UTF-8"'


class ConsoleAuth:
    def __init__(self, config: LoaderConfig) -> None:
        self._credentials = config.console_auth()
        self._open_on_loopback = config.console_open_on_loopback

    @property
    def enabled(self) -> bool:
        return self._credentials is not None or self._open_on_loopback

    def refuse(self, request: Request) -> Response | None:
        """None when ``request`` may read the console, else the answer to send."""
        client = request.client.host if request.client else ""
        if self._open_on_loopback and client in LOOPBACK:
            return None
        if self._credentials is None:
            return PlainTextResponse(
                "The console is off: set loader.console_user and loader.console_password.",
                status_code=401,
            )
        if self._matches(request.headers.get("authorization", "")):
            return None
        return PlainTextResponse(
            "Credentials required.", status_code=401, headers={"WWW-Authenticate": REALM}
        )

    def _matches(self, header: str) -> bool:
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic" or self._credentials is None:
            return False
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        want_user, want_password = self._credentials
        # Both compared, always: the time taken says nothing about which one was wrong.
        user_ok = hmac.compare_digest(user.encode(), want_user.encode())
        password_ok = hmac.compare_digest(password.encode(), want_password.encode())
        return user_ok and password_ok
