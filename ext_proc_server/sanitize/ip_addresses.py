"""A client's IP address: personal data under the LGPD (it points at a subscriber), so a
public one is coarsened as analytics tools anonymise them: an IPv4 address keeps its
/24 (``189.45.12.200`` -> ``189.45.12.0``), an IPv6 one its /48
(``2804:14c:5b70:8015::1`` -> ``2804:14c:5b70::``). The value stays an address of the
same family, a mock still answers for the same network; a private, loopback or
documentation address (a service's, not a person's) stays as it is. Counted as class
``ip``, in both modes.
"""

from __future__ import annotations

import functools
import ipaddress
import re

CLASS = "ip"
_V4_PREFIX = 24
_V6_PREFIX = 48


@functools.lru_cache(maxsize=2048)
def coarsened(value: str) -> str | None:
    """``value`` (an address, as written) coarsened; None when it is no public address
    or already coarse."""
    text = value.strip()
    if not 2 <= len(text) <= 45 or not (text[0].isalnum() or text[0] == ":"):
        return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if not address.is_global or address.is_multicast:
        return None
    prefix = _V4_PREFIX if address.version == 4 else _V6_PREFIX
    network = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
    fresh = str(network.network_address)
    return None if fresh == text else value.replace(text, fresh)


# A run of what an address is written with, in a header's list.
ADDRESS_LIKE = re.compile(r"[0-9A-Fa-f]*[.:][0-9A-Fa-f.:]+")
# Headers that carry the client's address (a proxy's, Envoy's, a CDN's).
HEADERS = frozenset(
    {"x-forwarded-for", "x-real-ip", "true-client-ip", "cf-connecting-ip", "x-client-ip",
     "x-cluster-client-ip", "fastly-client-ip", "x-envoy-external-address", "forwarded",
     "x-original-forwarded-for"}
)  # fmt: skip
