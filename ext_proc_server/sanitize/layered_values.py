"""Query and form values percent-encoded more than once, read through their layers
(percent_layers): the innermost as the caller reads a value, or, when it is a URL
carrying a query (a ``redirect_uri`` encoded twice), by its parameters' names.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ext_proc_server.sanitize.percent_layers import MAX_LAYERS, peeled, wrapped
from ext_proc_server.sanitize.run import Run
from ext_proc_server.sanitize.urls import scrub_with_urls

# A URL (absolute, or a path) carrying a query: its parameters are read by name.
_URL_WITH_QUERY = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.-]*:)?/[^\s?#]*\?[^\s#]*=")


def sanitize_layers(run: Run, raw: str, read: Callable[[str], str], depth: int = 0) -> str | None:
    """``raw`` sanitized through its layers, when encoded twice or more; None when it
    is encoded once at most (the caller reads it as usual). ``read(inner)``
    sanitizes a layer encoded once, as the caller reads a value; a URL carrying a query
    is read by its parameters instead."""
    inner = peeled(raw) if depth < MAX_LAYERS else None
    if inner is None:
        return None
    deeper = sanitize_layers(run, inner, read, depth + 1)
    if deeper is not None:
        fresh = deeper
    elif _URL_WITH_QUERY.match(inner):
        fresh = scrub_with_urls(run, inner)
    else:
        fresh = read(inner)
    return raw if fresh == inner else wrapped(raw, fresh)
