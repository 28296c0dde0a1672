"""PIX codes cut short: by a body limit (a JSON string ends mid-code), or by a page or
an app that shows only the start of a "copia e cola" text ("...5913JOAO DA SI...").

No CRC closes such a code, so brcode's reading does not find it, yet its receiver's
key, name and city are all there, in fields no other detector can split. A code
opening with ``000201`` and holding a PIX account, whose fields follow one another
until the text stops being fields (or a field runs past where the code can go), is
one. It can no longer be paid, so nothing in it is worth keeping: every field that may
name or place the receiver (key, name, city, CEP) is replaced, the cut field too, the
description and any other text scrubbed as text is, and the lengths written to match;
no CRC is added. The amount, currency and country stay.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Protocol

from ext_proc_server.sanitize.hits import Hit
from ext_proc_server.sanitize.identifier_names import BANK_ACCOUNT


class Run(Protocol):
    """What a rewrite needs of the exchange's run (sanitize.run.Run)."""

    def replace(self, cls: str, value: str, fixed: str | None = None) -> str: ...

    def scrub(self, text: str, hits: list[Hit] | None = None) -> str: ...


_MAX_CODE_CHARS = 512
# Characters no code holds that end one shown in markup, a string or a log line; the
# ellipsis a page puts where it cut.
_CODE_END = re.compile("[<>\"'\n\r\t\u2026]")
# The fields that carry nothing of the receiver's: format, point of initiation, category,
# currency, amount, country.
_KEPT_TAGS = frozenset({"00", "01", "52", "53", "54", "58"})
_CLASS_BY_TAG = {"59": "name", "60": "address", "61": "cep"}
_PIX_ACCOUNT = "0014br.gov.bcb.pix"

_UUID_START = re.compile(r"[0-9a-fA-F]{1,8}(?:-[0-9a-fA-F]{0,4}){0,3}(?:-[0-9a-fA-F]{0,12})?")

Fields = list[tuple[str, str]]
KeyClass = Callable[[str], str | None]


def read(text: str, at: int) -> tuple[Fields, int] | None:
    """The fields of a code cut short from ``at`` on and where it ends (the cut field's
    part included); None when ``at`` opens no code without a CRC."""
    end_at = min(len(text), at + _MAX_CODE_CHARS)
    stop = _CODE_END.search(text, at, end_at)
    if stop is not None:
        end_at = stop.start()
    fields: Fields = []
    while at + 4 <= end_at:
        head = text[at : at + 4]
        if not (head.isascii() and head.isdigit()):
            break
        tag, end = head[:2], _skip(text, at + 4, int(head[2:]))
        if tag == "63":  # a CRC field: brcode's reading decides
            return None
        fields.append((tag, text[at + 4 : min(end, end_at)]))
        at = min(end, end_at)
    else:
        if text[at:end_at].isdigit():  # a field's head cut in two
            at = end_at
    if len(fields) < 3 or fields[0] != ("00", "01"):
        return None
    return fields, at


def _skip(text: str, at: int, count: int) -> int:
    """Where ``count`` characters from ``at`` end, a JSON escape (``\\u00cd``, ``\\/``)
    read as the one character it stands for: a body cut short is no JSON document, so
    its strings are read as written."""
    end = at + count
    if "\\" not in text[at:end]:
        return end
    while count and at < len(text):
        if text[at] == "\\":
            at += 6 if text.startswith("u", at + 1) else 2
        else:
            at += 1
        count -= 1
    return at


def rewrite(run: Run, fields: Fields, key_class: KeyClass) -> str:
    """The code's fields with everything of its receiver replaced, lengths rewritten."""
    out = []
    key_cls: str | None = None
    for tag, value in fields:
        if "26" <= tag <= "51" and value.lower().startswith(_PIX_ACCOUNT):
            value, key_cls = _account(run, value, key_class)
        elif tag in _KEPT_TAGS or not value.strip():
            pass
        elif tag == "59" and key_cls == "cnpj":
            pass  # a company's name, as in a whole code
        elif tag in _CLASS_BY_TAG:
            value = run.replace(_CLASS_BY_TAG[tag], value)
        else:  # additional data (a txid), another scheme's template: as any text
            value = run.scrub(value)
        out.append(f"{tag}{len(value):02d}{value}")
    return "".join(out)


def _account(run: Run, value: str, key_class: KeyClass) -> tuple[str, str | None]:
    """The account with its key replaced (what a cut key starts like: an e-mail, a
    phone, a random key's part, else a document) and its description scrubbed."""
    out = []
    cls: str | None = None
    at = 0
    while at + 4 <= len(value) and value[at : at + 4].isdigit():
        tag, end = value[at : at + 2], at + 4 + int(value[at + 2 : at + 4])
        item = value[at + 4 : end]
        if tag == "01":
            # Whole, it may still be cut where a page put "...": read as a cut key.
            cls = key_class(item) or _cut_key_class(item)
            if cls is not None:
                item = run.replace(cls, item)
        elif tag == "02":
            item = run.scrub(item)
        out.append(f"{tag}{len(item):02d}{item}")
        at = end
    return "".join(out) + value[at:], cls  # a subfield's head cut in two: digits


def _cut_key_class(key: str) -> str | None:
    key = key.rstrip(".")  # "52998...": where a page cut it
    if key.startswith("+"):
        return "phone"
    if key.isascii() and key.isdigit():
        return "cpf"
    if _UUID_START.fullmatch(key):
        return BANK_ACCOUNT  # the start of a random key (a UUID), replaced as whole ones are
    return "email"  # "joao.silva": an e-mail cut before its "@"
