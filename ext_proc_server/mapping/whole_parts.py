"""A 206 whose part is the whole representation (``Content-Range: bytes 0-(n-1)/n``).

Azure Storage's SDKs read every blob as a range (``x-ms-range: bytes=0-33554431``), and
a blob smaller than that is answered 206 with its whole body. Sanitized, that body is
still the whole one: its stub serves it with a ``Content-Range`` written for the served
length, and its digests computed again over it, as a 200's (``mapping.digests``). A part
of a larger whole with a value sanitized still gets no stub (``mapping.faithful``): its
offsets in the whole would be off.
"""

from __future__ import annotations

import re

from ext_proc_server.core.exchange import HttpResponse

CONTENT_RANGE_HEADER = "content-range"
# "bytes <first>-<last>/<complete length>" (RFC 9110); a multipart/byteranges answer has
# none in its headers.
_RANGE = re.compile(r"bytes\s+0-(\d{1,19})/(\d{1,19})")


def is_whole_part(response: HttpResponse) -> bool:
    """Whether ``response`` is a 206 whose one part runs from the first byte to the last."""
    if response.status != 206:
        return False
    value = response.header(CONTENT_RANGE_HEADER)
    found = _RANGE.fullmatch(value.strip()) if value is not None else None
    return found is not None and int(found[1]) + 1 == int(found[2])


def whole_range(body: bytes, recorded: str) -> str:
    """The ``Content-Range`` of ``body`` served whole (``recorded`` for an empty body,
    which a range cannot name)."""
    if not body:
        return recorded
    return f"bytes 0-{len(body) - 1}/{len(body)}"
