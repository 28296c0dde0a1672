"""JavaScript object literals that are not JSON, in a page's scripts, read by their keys:
``var cliente = {nome: 'Maria Souza', cpf: '...'}`` (unquoted keys, single quotes), and
Nuxt 2's state, a function called with the page's values as arguments:
``window.__NUXT__=(function(a,b){return {data:[{nome:a,cpf:b}]}}("Maria Souza","..."))``,
where each argument is read as the field of the key its parameter sits under.

Only literals are read: strings, numbers, ``true``/``false``/``null``/``undefined``,
objects, arrays and (in Nuxt's form) the function's parameters. Anything else (a call,
an operator, a template with ``${}``) and the literal is left to the text detectors.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from ext_proc_server.sanitize import cpf_or_cnpj, fields, key_lines
from ext_proc_server.sanitize.hits import Hit, resolve
from ext_proc_server.sanitize.run import Run, is_token

_TOKEN = re.compile(
    r"""[ \t\r\n]*(?:(?P<str>"(?:[^"\\\r\n]|\\.)*"|'(?:[^'\\\r\n]|\\.)*')"""
    r"|(?P<name>[A-Za-z_$][\w$]*)|(?P<num>-?\.?[0-9][\w.+-]*)|(?P<punct>[{}\[\]:,()!;=.]))"
)
_LITERAL_NAMES = frozenset({"true", "false", "null", "undefined", "NaN", "Infinity"})
_MAX_TOKENS = 20000
_MAX_DEPTH = 64  # objects and lists inside one another (no recursion past it)
# Nuxt 2: "(function(a,b,...){" opens the state's function.
_NUXT_OPEN = re.compile(r"\(\s*function\s*\(([\w$,\s]*)\)\s*\{")


class _Value(NamedTuple):
    path: tuple[str, ...]  # the keys down to it (a list's items keep their list's key)
    start: int  # a string's content, or a parameter's name
    end: int
    reference: bool  # a parameter of Nuxt's function, not a string


class _Unreadable(Exception):
    """Not a literal this reader knows."""


class _Reader:
    def __init__(self, text: str, pos: int, end: int) -> None:
        self.text = text
        self.pos = pos
        self.end = end
        self.values: list[_Value] = []
        self.steps = 0
        self.depth = 0

    def token(self) -> re.Match[str]:
        self.steps += 1
        m = _TOKEN.match(self.text, self.pos, self.end)
        if m is None or self.steps > _MAX_TOKENS:
            raise _Unreadable
        self.pos = m.end()
        return m

    def peek(self) -> str:
        m = _TOKEN.match(self.text, self.pos, self.end)
        return "" if m is None else m.group().strip()

    def value(self, path: tuple[str, ...]) -> None:
        m = self.token()
        if m.group("str") is not None:
            self.values.append(_Value(path, m.start("str") + 1, m.end("str") - 1, False))
        elif m.group("name") is not None:
            name = m.group("name")
            if name == "void":  # "void 0", minified undefined
                self.token()
            elif name not in _LITERAL_NAMES:
                if self.peek()[:1] in ("(", ".", "["):
                    raise _Unreadable  # a call or a member: code, not a literal
                self.values.append(_Value(path, m.start("name"), m.end("name"), True))
        elif m.group("num") is not None:
            return
        elif m.group().strip() == "!" and self.peek()[:1].isdigit():
            self.token()  # "!0", "!1": minified true and false
        elif m.group().strip() in ("{", "["):
            self.depth += 1
            if self.depth > _MAX_DEPTH:
                raise _Unreadable
            if m.group().strip() == "{":
                self.members(path)
            else:
                self.items(path)
            self.depth -= 1
        else:
            raise _Unreadable

    def members(self, path: tuple[str, ...]) -> None:
        while True:
            m = self.token()
            mark = m.group().strip()
            if mark == "}":
                return
            if mark == ",":
                continue
            if m.group("str") is not None:
                key = m.group("str")[1:-1]
            elif m.group("name") is not None or m.group("num") is not None:
                key = m.group("name") or m.group("num")
            else:
                raise _Unreadable
            after = self.token().group().strip()
            if after == ":":
                self.value((*path, key))
            elif after in (",", "}"):  # shorthand {nome}: a variable, not read
                if after == "}":
                    return
            else:
                raise _Unreadable

    def items(self, path: tuple[str, ...]) -> None:
        while True:
            mark = self.peek()
            if mark == "]":
                self.token()
                return
            if mark == ",":
                self.token()
                continue
            self.value(path)


def literal_end(text: str, start: int, end: int) -> int | None:
    """Where the object or array literal opening at ``start`` ends, or None."""
    reader = _Reader(text, start, end)
    try:
        reader.value(())
    except _Unreadable:
        return None
    _remember(text, start, reader.pos, [v for v in reader.values if not v.reference])
    return reader.pos


def nuxt_end(text: str, start: int, end: int) -> int | None:
    """Where Nuxt's state function call opening at ``start`` ends, or None."""
    found = _nuxt_values(text, start, end)
    if found is None:
        return None
    _remember(text, start, found[1], found[0])
    return found[1]


# Literals read while their ends were found, by their text, for sanitize_literal to
# take instead of reading them again (a page's state is read once, not twice).
_READ: dict[str, list[_Value]] = {}
_READ_MAX = 64


def _remember(text: str, start: int, end: int, values: list[_Value]) -> None:
    if len(_READ) >= _READ_MAX:
        _READ.clear()
    _READ[text[start:end]] = [
        _Value(v.path, v.start - start, v.end - start, v.reference) for v in values
    ]


def sanitize_literal(run: Run, literal: str) -> str | None:
    """The literal (or Nuxt's call) with its named values replaced, every detector's
    findings too; None when it is not one this reader knows."""
    values = _READ.pop(literal, None)
    if values is None:
        values = _read(literal)
        if values is None:
            return None
    siblings: dict[tuple[str, ...], set[str]] = {}
    for value in values:
        siblings.setdefault(value.path[:-1], set()).add(value.path[-1] if value.path else "")
    if cpf_or_cnpj.may_name_record(literal):  # {cpfCnpj: "<a CPF>"}: a person's record
        cpf_or_cnpj.mark_records(((v.path, literal[v.start : v.end]) for v in values), siblings)
    rules = run.scanner.field_rules
    hits = []
    for value in values:
        if not value.path:
            continue
        place = key_lines.place_of(value.path[:-1], siblings)
        cls = fields.field_verdict(rules, place, value.path[-1], list(value.path[:-1]))
        raw = literal[value.start : value.end]
        if cls is None or not raw or "\\" in raw or is_token(raw):
            continue
        if type(cls) is fields.Verdict and not fields.value_fits(cls, raw):
            continue
        hits.append(Hit(value.start, value.end, fields.resolved(cls)))
    return run.scrub(literal, resolve([*run.scanner.find(literal), *hits]))


def _read(literal: str) -> list[_Value] | None:
    """The string values of a literal (or of Nuxt's call's arguments), or None."""
    if _NUXT_OPEN.match(literal):
        found = _nuxt_values(literal, 0, len(literal))
        return None if found is None else found[0]
    reader = _Reader(literal, 0, len(literal))
    try:
        reader.value(())
    except _Unreadable:
        return None
    return [v for v in reader.values if not v.reference]


def _nuxt_values(text: str, start: int, end: int) -> tuple[list[_Value], int] | None:
    """The arguments of Nuxt's state function, each under the path of the parameter
    it is passed as; and where the call ends."""
    opened = _NUXT_OPEN.match(text, start, end)
    if opened is None:
        return None
    params = [p.strip() for p in opened.group(1).split(",") if p.strip()]
    body_end = _block_end(text, opened.end(), end)
    if body_end is None:
        return None
    body = text[opened.end() : body_end - 1]
    under: dict[str, tuple[str, ...]] = {}
    under_values: list[_Value] = []
    at = body.find("return")
    if at >= 0:
        reader = _Reader(body, at + len("return"), len(body))
        try:
            reader.value(())
        except _Unreadable:
            return None
        under_values = reader.values
        for value in reader.values:
            if value.reference:
                under.setdefault(body[value.start : value.end], value.path)
    call = re.compile(r"[ \t\r\n]*\)?[ \t\r\n]*\(").match(text, body_end, end)
    if call is None:
        return None
    reader = _Reader(text, call.end(), end)
    values: list[_Value] = []
    try:
        index = 0
        while (mark := reader.peek()) != ")":
            if mark == ",":
                reader.token()
                continue
            before = len(reader.values)
            name = params[index] if index < len(params) else ""
            reader.value(under.get(name, ()))
            values.extend(reader.values[before:])
            index += 1
        reader.token()
    except _Unreadable:
        return None
    inline = [
        _Value(v.path, v.start + opened.end(), v.end + opened.end(), False)
        for v in under_values
        if not v.reference
    ]
    return [*inline, *(v for v in values if not v.reference)], reader.pos


def _block_end(text: str, pos: int, end: int) -> int | None:
    """Just past the ``}`` closing a block opened before ``pos`` (strings skipped)."""
    depth = 1
    reader = _Reader(text, pos, end)
    while reader.pos < end:
        m = _TOKEN.match(text, reader.pos, end)
        if m is None:
            reader.pos += 1  # an operator or other code: step over it
            continue
        reader.pos = m.end()
        mark = m.group().strip()
        if mark == "{":
            depth += 1
        elif mark == "}":
            depth -= 1
            if depth == 0:
                return reader.pos
    return None
