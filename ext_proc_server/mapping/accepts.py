"""A response chosen by the request's ``Accept`` without ``Vary: Accept``.

Spring MVC with ``jackson-dataformat-xml`` on its classpath answers one path in JSON for
``Accept: application/json`` and in XML for ``Accept: application/xml``, and names neither
in ``Vary``: one stub held both, and the one recorded last answered both. So when the
request listed the response's media type in its ``Accept`` (``*/*`` alone lists none), its
stub answers only requests that list that type too, whatever else they list (axios sends
``application/json, text/plain, */*``), and the type joins the request's key: each
representation is its own stub. A request that lists no type (none, ``*/*``) keeps a stub
without the matcher, as before.

A type given ``q=0`` is refused, not listed (RFC 9110 12.4.2): ``application/json;q=0,
application/xml`` asks for anything but JSON, and a server answers it XML or 406. Neither a
recording lists it, nor a stub's matcher takes it.
"""

from __future__ import annotations

import re
from typing import Any

from ext_proc_server.core.exchange import Exchange
from ext_proc_server.mapping.java_regex import java_regex_escape

ACCEPT_HEADER = "accept"
# A media range's parameters (up to the next ",") holding a zero weight: q=0, 0.0 to 0.000.
_REFUSED_REGEX = r"(?:;[^,;]*)*;[ \t]*q[ \t]*=[ \t]*0(?:\.0{0,3})?[ \t]*(?:[;,]|$)"
_REFUSED = re.compile(_REFUSED_REGEX, re.IGNORECASE)


def accepted_type(exchange: Exchange, varied_names: frozenset[str]) -> str:
    """The response's media type (lower-cased, no parameters) when the request's Accept
    lists it and the response does not already vary on Accept, else ""."""
    response = exchange.response
    if response is None or ACCEPT_HEADER in varied_names:
        return ""
    media_type = response.content_type
    if not media_type or "/" not in media_type:
        return ""
    for name, value in exchange.request.headers:
        if name.lower() == ACCEPT_HEADER and _lists(value, media_type):
            return media_type
    return ""


def listed_type(accept: str, media_type: str) -> str:
    """``media_type`` (bare, lower-cased) when ``accept`` (every Accept value, joined by
    ",") lists it, else "": :func:`accepted_type` of a stream that has not built its
    exchange (the repeat key), the Vary test left to the caller."""
    if "/" in media_type and _lists(accept, media_type):
        return media_type
    return ""


def _lists(accept: str, media_type: str) -> bool:
    """Whether ``accept`` lists ``media_type`` (bare, lower-cased) with a weight above 0."""
    for item in accept.split(","):
        listed, _, parameters = item.partition(";")
        if listed.strip().lower() == media_type and not (
            parameters and _REFUSED.match(";" + parameters)
        ):
            return True
    return False


def accept_matcher(media_type: str) -> dict[str, Any]:
    """An Accept that lists ``media_type`` (any case, with parameters, among others), not
    with ``q=0``."""
    listed = java_regex_escape(media_type)
    return {"matches": rf"(?i)(?:.*,)?[ \t]*{listed}[ \t]*(?!{_REFUSED_REGEX})(?:[;,].*)?"}
