"""Request ids a service echoes in its answer, served as the replayed request's own.

Azure answers every call with the ``x-ms-client-request-id`` its client sent (the SDKs make
a new one per call), Azure Resource Manager also with ``x-ms-correlation-request-id``,
Microsoft Graph with ``client-request-id``; apps and gateways often echo ``X-Request-ID`` or
``X-Correlation-ID``. A stub sent every caller the recorded id: a client that pairs answers
with its calls by it, or logs it to trace a call, saw another call's. When the recorded
answer's value of such a header (:data:`ECHOED`) is the recorded request's (one value each),
the stub serves ``{{request.headers.<name>}}``: WireMock's response templating, the rest of
the answer as literals that render back to themselves (``moments_from_now.templated``; a
``base64Body`` is never templated). A request without the header gets it empty: a template
cannot leave a header out. A value other than the request's is the service's own id, and AWS
echoes none (``amz-sdk-invocation-id`` is the SDK's, never answered): those stay as recorded,
and ``X-Request-ID`` not echoed stays out, as before (``stubs._PER_REQUEST``).
"""

from __future__ import annotations

from typing import Any

from ext_proc_server.core.exchange import HttpRequest, HttpResponse
from ext_proc_server.mapping.moments_from_now import TEMPLATE_TRANSFORMER, templated

ECHOED = frozenset(
    {
        "x-ms-client-request-id",
        "x-ms-correlation-request-id",
        "client-request-id",
        "x-client-request-id",
        "x-request-id",
        "x-correlation-id",
    }
)


def _values(headers: tuple[tuple[str, str], ...], lower: str) -> list[tuple[str, str]]:
    return [(name, value) for name, value in headers if name.lower() == lower]


def echoed(request: HttpRequest, response: HttpResponse) -> dict[str, str]:
    """Each response header that echoes the request's (its name as recorded) -> the template
    serving the replayed request's value."""
    out: dict[str, str] = {}
    for name, value in response.headers:
        lower = name.lower()
        if lower not in ECHOED or lower in (n.lower() for n in out):
            continue
        answered, sent = _values(response.headers, lower), _values(request.headers, lower)
        if len(answered) == 1 and len(sent) == 1 and sent[0][1] == value and value:
            out[name] = f"{{{{request.headers.{lower}}}}}"
    return out


def served_echoing(
    definition: dict[str, Any], request: HttpRequest, response: HttpResponse
) -> dict[str, Any]:
    """A stub's ``response`` (``stubs.response_definition``) serving each echoed request id
    as the replayed request's (a copy), or ``definition`` itself when none is echoed."""
    return serving_echoes(definition, echoed(request, response))


def serving_echoes(definition: dict[str, Any], echoes: dict[str, str]) -> dict[str, Any]:
    """A stub's ``response`` serving each header of ``echoes`` as its template (a copy), or
    ``definition`` itself when there is none."""
    if not echoes:
        return definition
    if TEMPLATE_TRANSFORMER not in (definition.get("transformers") or ()):
        return templated(definition, headers=echoes)
    # Already a template (an expiry from now): its other values are literals already.
    served = dict(definition)
    served["headers"] = {**(definition.get("headers") or {}), **echoes}
    return served
