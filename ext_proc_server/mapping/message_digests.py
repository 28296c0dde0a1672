"""Digests of a queued message inside an answer's body, written again over the message the
stub serves.

SQS answers ``ReceiveMessage`` with each message's ``Body`` and its MD5 (``MD5OfBody``), in
JSON (``{"Messages": [{"MD5OfBody": ..., "Body": ...}]}``) or, to a query-protocol
client, in XML. The AWS SDKs for Java and .NET check it by default and refuse the answer
when it differs: a message whose body had values sanitized would be refused with its
recorded MD5. Each ``MD5OfBody`` that does not give its served ``Body`` is computed again
over it; every other byte of the answer stays as recorded. (``MD5OfMessageAttributes`` is
served as recorded: message attributes are seldom sanitized.)
"""

from __future__ import annotations

import hashlib
import html
import json
import re

from ext_proc_server.core.exchange import HttpResponse

_MARKER = b"MD5OfBody"
# A message of the XML answer: its MD5 and its body, in either order, within one <Message>.
_XML_MESSAGE = re.compile(r"<Message>.*?</Message>", re.DOTALL)
_XML_MD5 = re.compile(r"<MD5OfBody>([0-9a-fA-F]{32})</MD5OfBody>")
_XML_BODY = re.compile(r"<Body>(.*?)</Body>", re.DOTALL)


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def _json_replacements(text: str) -> dict[str, str]:
    try:
        document = json.loads(text)
    except ValueError:
        return {}
    messages = document.get("Messages") if isinstance(document, dict) else None
    out: dict[str, str] = {}
    for message in messages if isinstance(messages, list) else ():
        if not isinstance(message, dict):
            continue
        recorded, body = message.get("MD5OfBody"), message.get("Body")
        if isinstance(recorded, str) and isinstance(body, str) and _md5(body) != recorded:
            out[recorded] = _md5(body)
    return out


def _xml_replacements(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for message in _XML_MESSAGE.finditer(text):
        recorded, body = _XML_MD5.search(message.group()), _XML_BODY.search(message.group())
        if recorded and body and _md5(html.unescape(body.group(1))) != recorded.group(1):
            out[recorded.group(1)] = _md5(html.unescape(body.group(1)))
    return out


def with_message_digests(response: HttpResponse) -> HttpResponse:
    """``response`` with each message's ``MD5OfBody`` giving its body (itself when all do,
    or when it holds none)."""
    if _MARKER not in response.body:
        return response
    try:
        text = response.body.decode("utf-8")
    except UnicodeDecodeError:
        return response
    stripped = text.lstrip()
    found = _json_replacements(text) if stripped.startswith("{") else _xml_replacements(text)
    if not found:
        return response
    for recorded, served in found.items():
        # A 32-digit hex MD5 never occurs elsewhere in the answer by chance.
        text = text.replace(recorded, served)
    return response.replace(body=text.encode("utf-8"))
