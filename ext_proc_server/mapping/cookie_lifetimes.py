"""A stub written before ``Set-Cookie`` got ``Max-Age`` (``mapping.moments``): its cookie
carries ``Expires`` alone, a moment that passed, so a client's jar drops the session
cookie the mock serves, days after its capture. Each such value gets the ``Max-Age`` it
was from the stub's answer: its ``Date`` when the stub kept one, else the capture time its
metadata records (``captured_at_s``). A stub that records neither is served as written:
nothing tells how long the cookie had to live.
"""

from __future__ import annotations

from typing import Any

from ext_proc_server.mapping.moments import answered_at_s, with_lifetime

_SET_COOKIE = "set-cookie"


def cookies_without_lifetime(mapping: dict[str, Any]) -> bool:
    """Whether :func:`with_cookie_lifetimes` changes the stub: a ``Set-Cookie`` of its
    response with a readable ``Expires`` and no ``Max-Age``, and its answer's time known."""
    headers = _headers(mapping)
    if headers is None or not any(name.lower() == _SET_COOKIE for name in headers):
        return False
    return with_cookie_lifetimes(mapping) is not mapping


def with_cookie_lifetimes(mapping: dict[str, Any]) -> dict[str, Any]:
    """``mapping`` with ``Max-Age`` on each cookie that has only ``Expires`` (a copy), or
    ``mapping`` itself when none changes."""
    answered_s = _answered_s(mapping)
    headers = _headers(mapping)
    if answered_s is None or headers is None:
        return mapping
    changed = dict(headers)
    for name, value in headers.items():
        if name.lower() != _SET_COOKIE:
            continue
        if isinstance(value, str):
            changed[name] = with_lifetime(value, answered_s)
        elif isinstance(value, list):
            changed[name] = [
                with_lifetime(v, answered_s) if isinstance(v, str) else v for v in value
            ]
    if changed == headers:
        return mapping
    return {**mapping, "response": {**mapping["response"], "headers": changed}}


def _headers(mapping: dict[str, Any]) -> dict[str, Any] | None:
    response = mapping.get("response")
    headers = response.get("headers") if isinstance(response, dict) else None
    return headers if isinstance(headers, dict) else None


def _answered_s(mapping: dict[str, Any]) -> float | None:
    date = None
    for name, value in (_headers(mapping) or {}).items():
        if name.lower() == "date":
            date = value if isinstance(value, str) else None
    metadata = mapping.get("metadata")
    mockado = metadata.get("mockado") if isinstance(metadata, dict) else None
    # This answer's capture; first_seen is an earlier one's when the stub was replaced.
    captured_s = mockado.get("captured_at_s") if isinstance(mockado, dict) else None
    if not isinstance(captured_s, int | float) or isinstance(captured_s, bool):
        captured_s = 0.0
    return answered_at_s(date, float(captured_s))
