"""A response to a request that carried credentials answers only requests that carry
some.

Credentials are sanitized, so a stub cannot tell one token from another, and a canary
sends its own. But a request without any is another request: the upstream answers it
401 (or a login redirect), and a stub that served it the recorded 200 would hide a client
that lost its token, the regression a canary is there to catch. So a request's
``Authorization`` is matched present (any value) unless the response already chose by it
(``Vary``, a 401's absent one: ``Exchange.varied``). It joins the request's key as a
``Vary`` does: an anonymous call to the same endpoint records its own stub, which still
answers everyone (a public answer), and a credentialed call prefers its own (one more
constraint, a lower priority number).
"""

from __future__ import annotations

from typing import Any

from ext_proc_server.core.exchange import HttpRequest

# The request header whose presence a stub matches: the one that says a request is
# authenticated. A Cookie may carry anything (consent, analytics), and a key in another
# header is named by each API as it likes.
CREDENTIAL_HEADER = "authorization"


def with_credentials(varied: tuple[tuple[str, Any], ...], request: HttpRequest, hole: Any):
    """``varied`` (the normalized headers that chose the response, sorted by name) with
    ``Authorization`` as ``(hole,)`` (any value, but sent) when the request carried it and
    ``varied`` does not hold it."""
    if request.header(CREDENTIAL_HEADER) is None:
        return varied
    if any(name == CREDENTIAL_HEADER for name, _ in varied):
        return varied
    return tuple(sorted((*varied, (CREDENTIAL_HEADER, (hole,))), key=lambda item: item[0]))
