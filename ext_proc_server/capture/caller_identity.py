"""Which namespace a capture stream's caller may capture for: its mesh identity's.

A stream names its namespace itself (``x-mockado-namespace``, or Envoy's node metadata),
so any workload that reaches the gRPC port could record stubs in another namespace's name.
The caller's identity does not come from the caller: it is the SPIFFE ID
(``spiffe://<trust domain>/ns/<namespace>/sa/<account>``) of the certificate it presented,
seen either by the collector's own TLS (``collector.tls.client_ca_file``) or by the
collector's sidecar, which passes it on in ``x-forwarded-client-cert``
(``collector.caller_identity.forwarded_by_sidecar``). A workload shares its network with
its own sidecar, so it can always capture for its own namespace; it cannot claim another.

A refused stream is answered as any other (capture fails open) and counted:
``caller_namespace`` (it claimed another namespace) or ``caller_unidentified``
(``collector.caller_identity.required`` and no identity came with it).
"""

from __future__ import annotations

import re
from typing import Any

from ext_proc_server.capture.phases import Finished
from ext_proc_server.core.config import CollectorConfig

XFCC_HEADER = "x-forwarded-client-cert"
# gRPC's auth context: the peer certificate's SPIFFE ID (when it has one spiffe:// URI SAN),
# and its URI SANs.
_PEER_SPIFFE_ID = "peer_spiffe_id"
_PEER_URIS = "peer_uri"
CALLER_NAMESPACE = Finished(drop_reason="caller_namespace")
CALLER_UNIDENTIFIED = Finished(drop_reason="caller_unidentified")
# An x-forwarded-client-cert element (elements are separated by ","), and its key=value
# pairs (separated by ";"): Envoy quotes a value that holds one of ",;=" (\" escapes a quote).
_QUOTED = r'"(?:\\.|[^"\\])*"'
_XFCC_ELEMENT = re.compile(rf'(?:{_QUOTED}|[^,"])+')
_XFCC_PAIR = re.compile(rf"([^;=\s]+)=({_QUOTED}|[^;]*)")
# Distinct header values remembered (a sidecar sends the same one on every stream).
_CACHE_SIZE = 1024


def spiffe_namespace(uri: str) -> str | None:
    """The namespace of ``spiffe://<td>/ns/<namespace>/sa/<account>``, else None."""
    if not uri.startswith("spiffe://"):
        return None
    parts = uri[len("spiffe://") :].split("/")
    if len(parts) != 5 or parts[1] != "ns" or parts[3] != "sa" or not all(parts):
        return None
    return parts[2]


def xfcc_namespace(header: str) -> str | None:
    """The namespace of the client certificate in the LAST element of an
    ``x-forwarded-client-cert`` value: the one the nearest proxy (the collector's own
    sidecar) appended; earlier ones came with the request. None when that element has
    no SPIFFE URI, or more than one namespace."""
    elements = _XFCC_ELEMENT.findall(header)
    if not elements:
        return None
    found = {
        namespace
        for key, value in _XFCC_PAIR.findall(elements[-1])
        if key.lower() == "uri" and (namespace := spiffe_namespace(value.strip('"')))
    }
    return found.pop() if len(found) == 1 else None


def peer_namespace(auth_context: dict[str, list[bytes]]) -> str | None:
    """The namespace of the TLS peer certificate's SPIFFE ID, else None."""
    uris = auth_context.get(_PEER_SPIFFE_ID) or auth_context.get(_PEER_URIS) or ()
    found = {ns for uri in uris if (ns := spiffe_namespace(uri.decode(errors="replace")))}
    return found.pop() if len(found) == 1 else None


class CallerCheck:
    """Decides, at a stream's request headers, whether its claimed namespace is its
    caller's. Built from ``collector.caller_identity`` and ``collector.tls``; see
    :func:`caller_check` (None when nothing is checked)."""

    def __init__(self, *, from_header: bool, from_peer: bool, required: bool) -> None:
        self._from_header = from_header
        self._from_peer = from_peer
        self._required = required
        self._namespaces: dict[str, str | None] = {}

    def refusal(
        self, metadata: tuple[Any, ...], context: Any, claimed: str
    ) -> tuple[Finished | None, str]:
        """(None, the stream's namespace) when it may be captured, else (the refusal,
        ``claimed``). A stream that names no namespace takes its caller's."""
        caller = self.caller_namespace(metadata, context)
        if caller is None:
            return (CALLER_UNIDENTIFIED if self._required else None), claimed
        if claimed and claimed != caller:
            return CALLER_NAMESPACE, claimed
        return None, caller

    def caller_namespace(self, metadata: tuple[Any, ...], context: Any) -> str | None:
        """The caller's namespace from its identity, or None when none came with it."""
        if self._from_peer:
            namespace = peer_namespace(context.auth_context() or {})
            if namespace is not None:
                return namespace
        if not self._from_header:
            return None
        headers = [v for k, v in metadata if k == XFCC_HEADER]
        # One value, joined by the sidecar; more than one: which is the sidecar's is unknown.
        if len(headers) != 1 or not isinstance(header := headers[0], str):
            return None
        if header not in self._namespaces:
            if len(self._namespaces) >= _CACHE_SIZE:
                self._namespaces.clear()
            self._namespaces[header] = xfcc_namespace(header)
        return self._namespaces[header]


def caller_check(config: CollectorConfig) -> CallerCheck | None:
    """The check ``config`` asks for, or None when no identity can be known and none is
    required (a collector without mutual TLS or a sidecar in front)."""
    identity = config.caller_identity
    from_peer = config.tls.enabled and bool(config.tls.client_ca_file)
    if not (identity.forwarded_by_sidecar or from_peer or identity.required):
        return None
    return CallerCheck(
        from_header=identity.forwarded_by_sidecar, from_peer=from_peer, required=identity.required
    )
