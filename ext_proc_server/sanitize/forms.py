"""Form-urlencoded bodies: each field by its name (``cliente[endereco][cep]``), a
value holding a JSON document or base64 of text read as one, coordinates coarsened.
Query strings share the value readers (``checked``, ``url_document``,
``unquote_lenient``) and the remembered classes of their names."""

from __future__ import annotations

import functools
from bisect import bisect_left
from collections.abc import Callable
from urllib.parse import quote, quote_plus, unquote_plus

from ext_proc_server.sanitize import base64_text, cpf_or_cnpj, geo, layered_values
from ext_proc_server.sanitize.detectors import FIELD_WITH_WORD_DFA
from ext_proc_server.sanitize.fields import (
    PROSE,
    FieldRules,
    Verdict,
    flat_classes,
    resolved,
    value_fits,
)
from ext_proc_server.sanitize.form_text import prose_hits
from ext_proc_server.sanitize.graphql_requests import Request, bound_variables, fields_request
from ext_proc_server.sanitize.hits import Hit
from ext_proc_server.sanitize.json_body import nested_json
from ext_proc_server.sanitize.run import Run, is_token, positions, quote_plus_lazy

# Everything classify_key ignores in a name (kept: "&" between form fields, "=").
_NOT_NAME_BYTES = bytes(
    b for b in range(256) if chr(b) not in "abcdefghijklmnopqrstuvwxyz0123456789&="
)


def sanitize_form(run: Run, text: str, where: str) -> str:
    text = _prose_fields(run, _layered_fields(run, text, where), where)
    replaced = _base64_fields(run, _replaced_form(run, text, where), where)
    return _coarsened_form(run, replaced, where)


def _layered_fields(run: Run, text: str, where: str) -> str:
    """Fields whose value is percent-encoded twice or more (``nome=Maria%2520Souza``),
    each read through its layers as a form of that one field."""
    if "%25" not in text:
        return text
    fields = text.split("&")
    changed = False
    for i, field in enumerate(fields):
        raw_name, eq, raw_value = field.partition("=")
        fresh = layered_values.sanitize_layers(
            run,
            raw_value,
            lambda inner, n=raw_name: _replaced_form(run, n + "=" + inner, where)[len(n) + 1 :],
        )
        if fresh is not None and fresh != raw_value:
            fields[i] = raw_name + eq + fresh
            changed = True
            run.locations.add(f"{where}.form.{_form_name(raw_name)}")
    return "&".join(fields) if changed else text


def _prose_fields(run: Run, text: str, where: str) -> str:
    """Free-text fields (``obs=Jo%C3%A3o+Pereira+ligou``): the names in them, and in a
    person's record the diagnoses a cue announces, each replaced where it stands; the
    rest of the value is read as any field's."""
    fields = text.split("&")
    names = [_form_name(f.partition("=")[0]) for f in fields]
    classes = record_classes(run.scanner.field_rules, tuple(names), _values_of(fields))
    changed = False
    for i, name in enumerate(names):
        if classes.get(name) is not PROSE:
            continue
        raw_name, eq, raw_value = fields[i].partition("=")
        hits = prose_hits(run, raw_value, tuple(names), name)
        if hits:
            fields[i] = raw_name + eq + run.apply(raw_value, hits)
            changed = True
            run.locations.add(f"{where}.form.{name}")
    return "&".join(fields) if changed else text


def _base64_fields(run: Run, text: str, where: str) -> str:
    """Fields whose value is base64 of text, read decoded and written back so: SAML's
    ``SAMLResponse`` (an assertion naming its subject), a blob of ``name;cpf``."""
    fields = text.split("&")
    changed = False
    for i, field in enumerate(fields):
        raw_name, eq, raw_value = field.partition("=")
        if len(raw_value) < _BASE64_MIN_CHARS:
            continue
        fresh = base64_text.rewrap_value(run, raw_value, _form_name(raw_name).lower())
        if fresh != raw_value:
            fields[i] = raw_name + eq + fresh
            changed = True
            run.locations.add(f"{where}.form.{_form_name(raw_name)}")
    return "&".join(fields) if changed else text


_BASE64_MIN_CHARS = 16


def unquote_lenient(raw: str) -> str:
    """A form or query value decoded: UTF-8, else latin-1 (a page in ISO-8859-1 sends
    "%E7" for "ç"; read as UTF-8 the name came out with U+FFFD and fit no field)."""
    try:
        return unquote_plus(raw, errors="strict")
    except UnicodeDecodeError:
        return unquote_plus(raw, encoding="latin-1")


def _coarsened_form(run: Run, text: str, where: str) -> str:
    """Form fields holding a coordinate (``lat=-23.561414``), coarsened."""
    fields = text.split("&")
    names = [_form_name(f.partition("=")[0]) for f in fields]
    coordinates = geo.coarsen_pairs(run, names, lambda i: fields[i].partition("=")[2])
    for i, fresh in coordinates.items():
        fields[i] = fields[i].partition("=")[0] + "=" + fresh
        run.locations.add(f"{where}.form.{names[i]}")
    return "&".join(fields) if coordinates else text


def _replaced_form(run: Run, text: str, where: str) -> str:
    hits, key_seen = run.scanner.find_with_keys(text)
    if not hits and not key_seen and "%" not in text and "+" not in text:
        return text
    fields = text.split("&")
    todo, overlapped = _form_fields_to_check(text, hits, key_seen=key_seen)
    names = [_form_name(f.partition("=")[0]) for f in fields]
    classes = (
        record_classes(run.scanner.field_rules, tuple(names), _values_of(fields))
        if key_seen or todo
        else {}
    )
    todo.update(i for i, name in enumerate(names) if name in classes)
    plan = []
    for i in sorted(todo):
        raw_name, eq, raw_value = fields[i].partition("=")
        cls = checked(classes.get(names[i]), unquote_lenient(raw_value))
        if cls is None and i not in overlapped and "%" not in fields[i] and "+" not in fields[i]:
            continue
        plan.append((i, raw_name, eq, raw_value, cls))
    # A value holding a JSON document is edited as one; every name, and every other
    # value not replaced whole, in one batch (one scan per reading).
    request = fields_request(names, lambda i: unquote_lenient(fields[i].partition("=")[2]))
    documents = {
        p[0]: d
        for p in plan
        if p[4] is None
        and (d := url_document(run, p[3], request if names[p[0]] == "variables" else None))
    }
    scrubbed = run.scrub_url_values(
        [p[1] for p in plan] + [p[3] for p in plan if p[4] is None and p[0] not in documents],
        plus=True,
    )
    fresh_values = iter(scrubbed[len(plan) :])
    changed = False
    for (i, raw_name, eq, raw_value, cls), fresh_name in zip(plan, scrubbed, strict=False):
        if i in documents:
            fresh = documents[i]
        elif cls is None:
            fresh = next(fresh_values)
        elif (value := unquote_lenient(raw_value)) and not is_token(value):
            fresh = quote_plus_lazy(run.whole(resolved(cls), value))
        else:
            fresh = raw_value
        if fresh != raw_value or fresh_name != raw_name:
            fields[i] = fresh_name + eq + fresh
            changed = True
            run.locations.add(f"{where}.form.{_form_name(fresh_name)}")
    return "&".join(fields) if changed else text


def url_document(run: Run, raw: str, request: Request | None = None) -> str | None:
    """A percent-encoded value holding a JSON document (``q={"telefone": ...}``),
    sanitized as one (a GraphQL ``request``'s variables: as its variables) and encoded
    again; None when it holds none."""
    if "%7B" not in raw and "%5B" not in raw and "%7b" not in raw and "%5b" not in raw:
        return None
    value = unquote_plus(raw)
    fresh = None if request is None else bound_variables(value, request, run, nested_json)
    fresh = nested_json(run, value) if fresh is None else fresh
    if fresh is None:
        return None
    if fresh == value:
        return raw
    return quote_plus(fresh) if "+" in raw else quote(fresh, safe="")


def _form_name(raw: str) -> str:
    return unquote_plus(raw) if "%" in raw or "+" in raw else raw


def checked(cls: str | None, value: str) -> str | None:
    """A class read from a name, if the value fits it (see fields.Verdict)."""
    if type(cls) is Verdict and not value_fits(cls, value):
        return None
    return cls


def _form_fields_to_check(
    text: str, hits: list[Hit], *, key_seen: bool
) -> tuple[set[int], set[int]]:
    """Indexes of the fields that may change (every other one is left untouched), and
    of those a finding overlaps.

    Those are the fields with an encoded byte ("%", "+"), those a finding overlaps,
    and, when a secret-ish key may be present, those whose name may classify.
    """
    ampersands = positions(text, "&")
    overlapped: set[int] = set()
    for hit in hits:
        first = bisect_left(ampersands, hit.start)
        overlapped.update(range(first, bisect_left(ampersands, hit.end - 1) + 1))
    todo = set(overlapped)
    for marker in "%+":
        at = text.find(marker)
        while at >= 0:
            field = bisect_left(ampersands, at)
            todo.add(field)
            at = -1 if field == len(ampersands) else text.find(marker, ampersands[field])
    if key_seen:
        # classify_key reads a name as its ASCII letters and digits, so a secret name
        # shows one of the secret-ish words once everything else is deleted ("&" kept
        # to tell fields apart).
        compact = text.encode("ascii", "replace").lower().translate(None, _NOT_NAME_BYTES)
        field = counted_to = 0
        for match in FIELD_WITH_WORD_DFA.finditer(compact):
            field += compact.count(b"&", counted_to, match.start())
            counted_to = match.start()
            todo.add(field)
    return todo, overlapped


@functools.lru_cache(maxsize=2048)
def cached_classes(rules: FieldRules, names: tuple[str, ...]) -> dict[str, str]:
    """Forms and query strings recur with the same names: their classes are remembered
    (the dict is shared: read it, never change it)."""
    return flat_classes(names, rules)


def record_classes(
    rules: FieldRules, names: tuple[str, ...], raw_value_of: Callable[[int], str]
) -> dict[str, str]:
    """``cached_classes`` of one record's fields (``raw_value_of(i)``: the i-th field's
    value as sent): a ``cpfCnpj`` holding a CPF makes it a person's (cpf_or_cnpj)."""
    marked = cpf_or_cnpj.marked_names(names, lambda i: unquote_lenient(raw_value_of(i)))
    return cached_classes(rules, marked)


def _values_of(fields: list[str]) -> Callable[[int], str]:
    return lambda i: fields[i].partition("=")[2]
