"""PIX codes ("Pix copia e cola", the text of a BR Code QR): an EMV payload of
ID-length-value fields, where the receiver's key (a CPF, CNPJ, e-mail, phone or random
key), name and CEP sit between digits that no other detector can split
("...0111529982247255204...5913JOAO DA SILVA6009SAO PAULO...").

A code is found by its structure: the payload format field ``000201`` first, fields
that follow one another exactly up to the CRC field ``6304``, and a merchant account
(IDs 26 to 51) whose GUI is ``br.gov.bcb.pix``. It is rewritten whole: the key, the
receiver's name (unless the key is a CNPJ: a company's) and the CEP are replaced as
their classes are, the free-text description is scrubbed, and every length and the
CRC are written anew, so a mock still hands out a code a payment app reads. A random
key (a UUID) is replaced as a bank account's number is (another UUID as a pseudonym):
the central bank's directory maps it to one person's account.
"""

from __future__ import annotations

import binascii
from typing import Protocol

from ext_proc_server.sanitize import cut_code
from ext_proc_server.sanitize import validators as v
from ext_proc_server.sanitize.hits import Hit
from ext_proc_server.sanitize.identifier_names import BANK_ACCOUNT, is_uuid


class Run(Protocol):
    """What a rewrite needs of the exchange's run (sanitize.run.Run)."""

    def replace(self, cls: str, value: str, fixed: str | None = None) -> str: ...

    def scrub(self, text: str, hits: list[Hit] | None = None) -> str: ...


CLASS = "pix_code"  # a finding's class: rewritten by ``rewrite``, never a token itself
START = "000201"
_PIX_ACCOUNT = "0014br.gov.bcb.pix"
_MAX_CODE_CHARS = 512  # EMV QR payloads hold at most 512 characters
_MAX_NAME_CHARS = 25  # the merchant name field's limit

Fields = list[tuple[str, str]]


def find_codes(text: str) -> list[Hit]:
    """A finding for each PIX code in ``text``, whole or cut short."""
    hits = []
    at = text.find(START)
    while at >= 0:
        read = _read(text, at, stop_at_crc=True)
        if read is None or not _is_pix(read[0]):
            read = cut_code.read(text, at)
        if read is None or not _is_pix(read[0]):
            at = text.find(START, at + 1)
            continue
        hits.append(Hit(at, read[1], CLASS))
        at = text.find(START, read[1])
    return hits


def rewrite(run: Run, code: str) -> str:
    """``code`` with its personal fields replaced, lengths and CRC written anew."""
    read = _read(code, 0, stop_at_crc=True)
    if read is None:
        cut = cut_code.read(code, 0)
        if cut is not None and cut[1] == len(code):
            return cut_code.rewrite(run, cut[0], _key_class)
    if read is None or read[1] != len(code):  # not expected: found by the same reading
        return run.replace("api_key", code)
    fields = read[0][:-1]  # the CRC is computed again
    key_class: str | None = None
    for index, (tag, value) in enumerate(fields):
        if "26" <= tag <= "51" and value.lower().startswith(_PIX_ACCOUNT):
            fresh, key_class = _account(run, value)
            fields[index] = (tag, fresh)
    out = []
    for tag, value in fields:
        if tag == "59" and key_class != "cnpj" and value.strip():
            value = run.replace("name", value)[:_MAX_NAME_CHARS]
        elif tag == "61" and value.strip():
            value = run.replace("cep", value)
        if len(value) > 99:  # a replacement longer than the field can say: no code
            return run.replace("api_key", code)
        out.append(f"{tag}{len(value):02d}{value}")
    payload = "".join(out) + "6304"
    return payload + f"{binascii.crc_hqx(payload.encode('utf-8'), 0xFFFF):04X}"


def _account(run: Run, value: str) -> tuple[str, str | None]:
    """A PIX merchant account with its key replaced (and the key's class) and its
    description scrubbed."""
    read = _read(value, 0, stop_at_crc=False)
    if read is None or read[1] != len(value):
        return run.scrub(value), None
    key_class = None
    out = []
    for tag, item in read[0]:
        if tag == "01":
            key_class = _key_class(item)
            if key_class is not None:
                item = run.replace(key_class, item)
        elif tag == "02":
            item = run.scrub(item)
        out.append(f"{tag}{len(item):02d}{item}")
    return "".join(out), key_class


def _key_class(key: str) -> str | None:
    """A PIX key's class: a CPF, a CNPJ (numeric or alphanumeric), an e-mail, a phone,
    or a random key (a UUID: the directory maps it to one account, as a bank account's
    number)."""
    if len(key) == 14 and key.isascii() and key.isalnum() and v.cnpj_valid(key.upper()):
        return "cnpj"
    if key.isascii() and key.isdigit():
        if len(key) == 11 and v.cpf_valid(key):
            return "cpf"
        return None
    if "@" in key:
        return "email"
    if key.startswith("+"):
        return "phone"
    if is_uuid(key):
        return BANK_ACCOUNT
    return None


def _read(text: str, at: int, *, stop_at_crc: bool) -> tuple[Fields, int] | None:
    """The fields from ``at`` on, and where they end: up to the CRC field (a code), or
    as far as fields follow one another (inside a field). None when they do not."""
    fields: Fields = []
    limit = min(len(text), at + _MAX_CODE_CHARS)
    while at + 4 <= limit:
        head = text[at : at + 4]
        if not (head.isascii() and head.isdigit()):
            break
        end = at + 4 + int(head[2:])
        if end > limit:
            return None
        tag = head[:2]
        fields.append((tag, text[at + 4 : end]))
        at = end
        if stop_at_crc and tag == "63":
            crc = fields[-1][1]
            ok = head == "6304" and all(c in "0123456789ABCDEFabcdef" for c in crc)
            return (fields, at) if ok else None
    if stop_at_crc or not fields:
        return None
    return fields, at


def _is_pix(fields: Fields) -> bool:
    return any(
        "26" <= tag <= "51" and value.lower().startswith(_PIX_ACCOUNT) for tag, value in fields
    )
