"""The one place an ``:authority`` becomes a host."""

from __future__ import annotations


def host_of(authority: str) -> str:
    """The host of an authority: lower-cased, without port, IPv6 brackets or a final dot.

    "Api.Example:8080" -> "api.example"; "[::1]:8443" -> "::1"; "::1" -> "::1".
    """
    value = authority.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        return value[1:end] if end > 0 else value
    if value.count(":") == 1:
        name, _, port = value.partition(":")
        if port.isdigit() or not port:
            value = name
    return value.rstrip(".") if value != "." else value


def url_host(host: str) -> str:
    """``host`` as it appears in a URL or a Host header: an IPv6 literal in brackets."""
    return f"[{host}]" if ":" in host else host
