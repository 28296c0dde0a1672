"""A JSON text's tree, keeping an object's duplicate keys when it has any."""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Iterator
from typing import Any

import orjson

_VALUE = operator.itemgetter(1)


class Members(list):  # type: ignore[type-arg]
    """A JSON object as its (key, value) pairs in document order: duplicates are kept."""

    __slots__ = ()

    def items(self) -> Members:
        """The pairs, as ``dict.items`` gives them: the walk takes either kind."""
        return self

    def values(self) -> Iterator[Any]:
        return map(_VALUE, self)


# The two trees an object can parse to: orjson's dicts, the pairs decoder's lists.
OBJECTS = (dict, Members)
# One decoder for every body: json.loads with a hook builds a new one (and its
# scanner) per call, which cost as much as decoding a 2 KiB body. Not strict: a string
# holding a raw tab or line break (a hand-built body, raw_controls) is read too.
_DECODER = json.JSONDecoder(object_pairs_hook=Members, strict=False)
# Same-length mask for escapes, so every '"' left in the copy delimits a string.
_ESCAPED_CHAR = re.compile(r"\\.")
CLOSING = {"{": "}", "[": "]"}  # a document's opening and closing brackets


def masked(text: str) -> str:
    """``text`` with each escape masked at the same length: every '"' left delimits a
    string."""
    return _ESCAPED_CHAR.sub("__", text) if "\\" in text else text


def parse(text: str, plain: str) -> object:
    """The document's tree: orjson's when it kept every string, else the pairs decoder's.

    orjson is several times cheaper but keeps one member per key, and refuses NaN,
    Infinity, lone surrogates and raw control characters in a string. A tree that
    dropped a member dropped its key, so it holds fewer strings than the text's quotes
    delimit: then the pairs decoder reads it.
    """
    try:
        document = orjson.loads(text)
        # Serialized again (in C) to count its strings; nesting past orjson's limit
        # raises, and such a document goes to the pairs decoder too.
        dumped = orjson.dumps(document)
    except (orjson.JSONDecodeError, orjson.JSONEncodeError):
        return _DECODER.decode(text)
    # A compact body as orjson writes it (the usual case): a text that is the tree's own
    # serialization holds no duplicate key, and two memcmp-speed calls replace the counts.
    if len(dumped) == len(text) and dumped == text.encode():
        return document
    if b"\\" in dumped:
        # Only a quote inside a string is escaped: drop escaped backslashes, then
        # every quote after a backslash is one.
        dumped = dumped.replace(b"\\\\", b"")
        quotes = dumped.count(b'"') - dumped.count(b'\\"')
    else:
        quotes = dumped.count(b'"')
    if quotes != plain.count('"'):
        return _DECODER.decode(text)
    return document
