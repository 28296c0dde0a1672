"""JSON bodies: edited in place at each sensitive value's span, from the parsed tree."""

from __future__ import annotations

import json
import operator
import re
from bisect import bisect_left
from collections.abc import Iterable
from itertools import chain
from typing import Any

from ext_proc_server.sanitize import base64_codec, cpf_or_cnpj, fields, geo, secret_keys, text_pairs
from ext_proc_server.sanitize.company_records import plan_if_company
from ext_proc_server.sanitize.diagnosis_text import person_diagnoses
from ext_proc_server.sanitize.free_text_names import find_names
from ext_proc_server.sanitize.graphql import is_graphql, sanitize_graphql
from ext_proc_server.sanitize.graphql_bindings import read_keys, variables_place
from ext_proc_server.sanitize.graphql_requests import string_variables
from ext_proc_server.sanitize.hits import Hit, resolve
from ext_proc_server.sanitize.json_markup import (
    inside_markup,
    is_markup,
    may_hold_markup,
    scrub_found,
    scrub_text,
)
from ext_proc_server.sanitize.json_tree import CLOSING, OBJECTS, Members, masked, parse
from ext_proc_server.sanitize.name_pairs import is_pair
from ext_proc_server.sanitize.name_parts import note_whole_names
from ext_proc_server.sanitize.raw_controls import note_raw_controls, quoted_as_sent, read_string
from ext_proc_server.sanitize.run import Run, is_token, positions, quoted_json
from ext_proc_server.sanitize.typed_entries import TYPED
from ext_proc_server.sanitize.urls import path_name_hits, with_url_fields

_KEY = operator.itemgetter(0)
_VALUE = operator.itemgetter(1)
# Values the walk reads without descending (anything but an object or array).
_PLAIN = frozenset({str, int, float, bool, type(None)})
# What lies in the gaps between strings: numbers and literals.
_GAP_VALUES = _PLAIN - {str}
# A string that may hide a value behind an escape: JSON "\", "%XX" or an "&...;" entity.
_MAYBE_ENCODED = re.compile(r"[\\%&]")
# A string that opens with a tag, or spaces and one (other whitespace is escaped).
_MARKUP_OPENING = re.compile(r'" *<')

# -- JSON ------------------------------------------------------------------------------


# Numbers and literals: all a gap between two strings can hold besides punctuation.
# Bodies longer than this find their quotes only as far as the spans they need go.
_STEPPED_CHARS = 1024
_GAP_SCALAR = re.compile(r"-?[0-9][0-9.eE+-]*|true|false|null|NaN|-?Infinity")


def sanitize_json(run: Run, text: str, where: str) -> str | None:
    """Edit a JSON document at each sensitive value's span, and coarsen its
    coordinates; None if it is not JSON."""
    # With a finding the document is parsed and every key read anyway: the probe for
    # personal keys would change nothing.
    hits, key_seen = run.scanner.find_with_keys(text, unless_found=True)
    named = path_name_hits(run, text)  # "href": "https://…/clientes/maria-souza"
    if named:
        hits = with_url_fields(hits, named)
    # Three memchr scans: a regex character class over the whole text costs 100x more.
    encoded = "\\" in text or "%" in text or "&" in text
    # A GraphQL request's variables are read by its query (graphql_bindings).
    # A string holding XML has its elements read by name (_index_markup).
    if not (hits or key_seen or encoded or '"variables"' in text or may_hold_markup(text)):
        return geo.coarsen_json(run, text, where)
    plain = masked(text)
    try:
        document = parse(text, plain)
    except ValueError:
        return None
    edits = _JsonEditor(run, text, plain, where, hits, encoded=encoded).edits(document)
    if not edits:
        return geo.coarsen_json(run, text, where)
    out = []
    last = 0
    for start, end, fresh in sorted(edits):
        out.append(text[last:start])
        out.append(fresh)
        last = end
    out.append(text[last:])
    return geo.coarsen_json(run, "".join(out), where)


def sanitize_json_lines(run: Run, text: str, where: str) -> str | None:
    """JSON Lines (NDJSON): one document per line, each edited as one; None unless
    every line that is not blank is a document. Replacements are located at ``where``
    (a pointer would not say which line)."""
    first = text.lstrip().partition("\n")[0].rstrip()
    if CLOSING.get(first[:1]) != first[-1:]:  # a document over many lines, cut or not
        return None
    lines = text.split("\n")
    lines_run = run.child(run.charset)
    for i, line in enumerate(lines):
        if line.strip():
            fresh = sanitize_json(lines_run, line, where)
            if fresh is None:
                return None
            lines[i] = fresh
    run.add_counts(lines_run.counts)
    fresh_text = "\n".join(lines)
    if fresh_text != text:
        run.locations.add(where)
    return fresh_text


def nested_json(run: Run, value: str) -> str | None:
    """A string value that is a JSON document itself (``"payload": "{\\"cpf\\": ...}"``,
    a form field or query value holding JSON), edited as one, so its keys name what its
    values are; None when it is not one. Its replacements are located where the string is."""
    stripped = value.strip()
    if len(stripped) < 2 or CLOSING.get(stripped[0]) != stripped[-1]:
        return None
    try:  # sanitize_json returns a text with nothing to find without parsing it
        parse(value, masked(value))
    except ValueError:
        return None
    inner = run.child(run.charset)
    fresh = sanitize_json(inner, value, "")
    if fresh is not None:
        run.add_counts(inner.counts)
    return fresh


class _JsonEditor:
    """Edits for one parsed document.

    The parsed tree gives the structure (JSON pointers, the key a value belongs to);
    the text gives the spans: in document order, string number k lies between the
    2k-th and (2k+1)-th unescaped quote, and numbers lie in the gaps between strings.
    Walking the tree is far cheaper than tokenizing the text with a regex in Python.
    """

    def __init__(
        self, run: Run, text: str, plain: str, where: str, hits: list[Hit], *, encoded: bool
    ) -> None:
        self.run = run
        rules = run.scanner.field_rules
        self.rules = rules if rules else None  # the user's field rules, when there are any
        self.text = text
        self.where = where
        self.plain = plain  # the text with escapes masked: every '"' delimits a string
        # The first quote offsets, found only as far as a span needs (most findings
        # sit early in a body, and splitting all of it cost as much as the walk).
        self.quotes: list[int] = []
        self.all_quotes = False  # whether self.quotes holds every quote
        self.spans: dict[int, tuple[int, int]] = {}  # string index -> span, when known
        self.gaps: dict[int, tuple[int, int]] = {}  # gap index -> span, when known
        self.inside: dict[int, list[Hit]] = {}  # string index -> findings within it
        self.alone: set[int] = set()  # strings to rescan on their own (escapes, crossings)
        self.gap_hits: dict[int, list[Hit]] = {}  # gap index -> findings outside strings
        self._index_hits(hits)
        if encoded:
            self._index_encoded()
        if may_hold_markup(plain):
            self._index_markup()
        self.todo = self.alone | self.inside.keys()
        # What the walk must stop at, by string index: strings to edit, and the string
        # before each gap with a finding (gap g lies between strings g-1 and g).
        self.marks = sorted(self.todo.union([gap - 1 for gap in self.gap_hits]))
        self.out: list[tuple[int, int, str]] = []
        self.path: list[str | int] = []
        self.places: list[fields.Place] = [fields.ROOT]
        self.k = 0  # strings seen so far: the index of the next string and of this gap
        self.j_gap = -1  # the gap self.j counts in
        self.j = 0  # numbers and literals seen so far in that gap
        self.gap_tokens: tuple[int, list[tuple[int, int]]] | None = None
        self.document: object = None

    def _index_hits(self, hits: list[Hit]) -> None:
        """Which string or gap each finding is in: quotes counted before it (C scans)."""
        plain = self.plain
        before = counted_to = 0
        for hit in hits:  # by position
            before += plain.count('"', counted_to, hit.start)
            counted_to = hit.start
            crossed = plain.count('"', hit.start, hit.end)
            if before % 2 and not crossed:
                k = before // 2
                self.inside.setdefault(k, []).append(hit)
                if k not in self.spans:
                    opening = plain.rfind('"', 0, hit.start)
                    self.spans[k] = (opening, plain.find('"', hit.end) + 1)
                continue
            if not before % 2 and before // 2 not in self.gaps:
                closing = plain.find('"', hit.start)
                self.gaps[before // 2] = (
                    plain.rfind('"', 0, hit.start) + 1,
                    len(plain) if closing < 0 else closing,
                )
            # Outside strings or across a quote: rescan each string and number it touches.
            self.alone.update(range(before // 2, (before + crossed + 1) // 2))
            last_gap = (before + plain.count('"', hit.start, hit.end - 1)) // 2
            for gap in range((before + 1) // 2, last_gap + 1):
                self.gap_hits.setdefault(gap, []).append(hit)

    def _index_encoded(self) -> None:
        """Strings that may hide a value behind an escape ("\\", "%XX", "&...;")."""
        plain = self.plain
        before = counted_to = 0
        found = _MAYBE_ENCODED.search(self.text)
        while found:
            at = found.start()
            before += plain.count('"', counted_to, at)
            counted_to = at
            k = before // 2
            self.alone.add(k)
            closing = plain.find('"', at)
            self.spans.setdefault(k, (plain.rfind('"', 0, at), closing + 1))
            found = _MAYBE_ENCODED.search(self.text, closing + 1)

    def _index_markup(self) -> None:
        """Strings that are XML (``"<dest><xNome>…"``): read on their own, by element."""
        plain = self.plain
        before = counted_to = 0
        for opening in _MARKUP_OPENING.finditer(plain):  # JSON has no "<" outside a string
            at = opening.start()
            before += plain.count('"', counted_to, at)
            counted_to = at
            closing = plain.find('"', at + 1)
            if is_markup(self.text[at + 1 : closing]):
                self.alone.add(before // 2)
                self.spans.setdefault(before // 2, (at, closing + 1))

    def _span(self, k: int) -> tuple[int, int]:
        """Where string k is, quotes included."""
        span = self.spans.get(k)
        if span is None:
            quotes = self._quotes(2 * k + 2)
            span = self.spans[k] = (quotes[2 * k], quotes[2 * k + 1] + 1)
        return span

    def _quotes(self, count: int) -> list[int]:
        """At least the first ``count`` quote offsets (all of them if there are fewer)."""
        quotes = self.quotes
        if len(quotes) < count and not self.all_quotes:
            # Each quote costs about 1k instructions to find, and each step a good many
            # more: short bodies take all at once, long ones in doubling steps.
            have = len(quotes)
            wanted = max(count - have, have + 16) if len(self.plain) > _STEPPED_CHARS else -1
            found = positions(self.plain, '"', wanted, quotes[-1] + 1 if quotes else 0)
            quotes.extend(found)
            self.all_quotes = wanted < 0 or len(found) < wanted
        return quotes

    def edits(self, document: object) -> list[tuple[int, int, str]]:
        self.document = document
        kind = type(document)
        if kind is dict or kind is Members:
            self._object(document, "")  # type: ignore[arg-type]
        elif kind is list:
            self._array(document, None, "")  # type: ignore[arg-type]
        elif kind is str:
            self.k = 1
            if 0 in self.todo:
                self._string(0, document, None)  # type: ignore[arg-type]
        else:
            self._scalar(document, None)
        return self.out

    # -- the walk (inlined fast paths: most nodes need nothing) ----------------------

    def _object(self, members: dict[str, Any] | Members, holder: str) -> None:
        """``holder``: the key holding this object (or the list it is in)."""
        keys = tuple(members) if type(members) is dict else tuple(map(_KEY, members))
        # A GraphQL request's variables: each read by the argument it fills.
        read = read_keys(self.document, self.path, keys) if holder == "variables" else keys
        if self.rules is None:  # _plan's usual case, without its frame
            place, verdicts = fields.object_plan(self.places[-1], holder, read)
        else:
            place, verdicts = self._plan(holder, read)
        if place.either is not None:  # "cpfCnpj": a CPF makes the object a person's
            place, verdicts = self._either_plan(members, holder, read, place, verdicts)
        if verdicts is None and self._skipped(members.values()):
            return
        path = self.path
        places = self.places
        places.append(place)
        path.append("")
        todo = self.todo
        gap_hits = self.gap_hits
        pairs = members.items()
        for (key, value), cls in zip(pairs, verdicts or (None,) * len(keys), strict=True):
            path[-1] = key
            k = self.k
            if k in todo:
                self._key(k)
            if cls is TYPED:
                cls = self._typed(members, keys, place)
            kind = type(value)
            if kind is str:
                self.k = k + 2
                if cls is not None or k + 1 in todo:
                    self._string(k + 1, value, cls)
                continue
            self.k = k + 1
            if kind is dict or kind is Members:
                self._object(value, key)
            elif kind is list:
                self._array(value, cls, key)  # items inherit the name: "tokens": ["a", "b"]
            elif cls is not None or k + 1 in gap_hits:
                # A member's number is the first of its gap: one to look at, else none.
                self._scalar(value, cls)
        if keys and kind in _GAP_VALUES:
            self._opened_gap()
        if verdicts is not None and fields.NAME in verdicts:  # "Maria" "Souza" -> "Maria Souza"
            note_whole_names(self.run, pairs, verdicts)
        path.pop()
        places.pop()

    def _either_plan(
        self,
        members: dict[str, Any] | Members,
        holder: str,
        keys: tuple[str, ...],
        place: fields.Place,
        verdicts: tuple[str | None, ...] | None,
    ) -> tuple[fields.Place, tuple[str | None, ...] | None]:
        """The plan of an object whose member naming a CPF or a CNPJ holds a CPF: a
        person's (cpf_or_cnpj); one holding a CNPJ, a company's (company_records);
        else ``place`` and ``verdicts`` as they were."""
        value_of, company = tuple(members.values()).__getitem__, place.owner == fields.OTHER
        if not cpf_or_cnpj.persons_record(keys, value_of, company=company):  # or its kind's
            if company or self.rules is not None:
                return place, verdicts
            return plan_if_company(self.places[-1], holder, keys, value_of) or (place, verdicts)
        if self.rules is not None:
            return self._plan(holder, keys, cpf_held=True)
        return cpf_or_cnpj.person_plan(self.places[-1], holder, keys)

    @staticmethod
    def _typed(
        members: dict[str, Any] | Members, keys: tuple[str, ...], place: fields.Place
    ) -> str | None:
        """The class of a typed entry's value, from its type member's value."""
        pair = fields.typed_pair(keys)
        if pair is None:
            return None
        kind = members[pair[0]][1] if type(members) is Members else members[keys[pair[0]]]
        return fields.typed_class(place, kind, pair=is_pair(keys))

    def _opened_gap(self) -> None:
        """The last member's number or literal is the first of gap ``self.k``: a value
        after this object in the same gap ([{"n": 1}, 912345678]) is counted from it,
        looked at or not."""
        self.j_gap, self.j = self.k, 0

    def _plan(
        self, holder: str, keys: tuple[str, ...], *, cpf_held: bool = False
    ) -> tuple[fields.Place, tuple[str | None, ...] | None]:
        """The place of an object with these keys here, and its members' verdicts
        (None when every one is None); ``cpf_held``: its member naming either document
        holds a CPF (cpf_or_cnpj), which makes it a person's."""
        rules = self.rules
        if rules is None:
            return fields.object_plan(self.places[-1], holder, keys)
        members = frozenset((*keys, cpf_or_cnpj.MARK)) if cpf_held else frozenset(keys)
        place = fields.object_place(self.places[-1], holder, members)
        if not cpf_held:
            place = cpf_or_cnpj.with_either(place, keys)
        parents = [p for p in self.path if type(p) is str]
        found = tuple(fields.field_verdict(rules, place, key, parents) for key in keys)
        found = fields.typed_verdicts(keys, found)
        return place, found if any(cls is not None for cls in found) else None

    def _skipped(self, values: Iterable[Any]) -> bool:
        """Members (of one object or of records alike) none of whose keys names a class:
        if their values are plain and no finding lies in one of their strings or
        numbers, the walk only counts their strings (in C) and skips them."""
        kinds = list(map(type, values))
        if not _PLAIN.issuperset(kinds):
            return False
        k = self.k
        end = k + len(kinds) + kinds.count(str)
        marks = self.marks
        at = bisect_left(marks, k)
        if at < len(marks) and marks[at] < end:
            return False
        self.k = end
        if kinds and kinds[-1] in _GAP_VALUES:
            self._opened_gap()
        return True

    def _skipped_records(self, items: list[Any], holder: str) -> bool:
        """``_skipped`` for a list of objects with the same keys (records of one kind),
        told from a few C passes over all of them."""
        if len(set(map(type, items))) != 1 or len(set(map(len, items))) != 1:
            return False
        if type(items[0]) is dict:  # iterating a dict gives its keys
            keys = tuple(items[0])
            names = list(chain.from_iterable(items))
            values: Iterable[Any] = chain.from_iterable(map(dict.values, items))
        else:
            keys = tuple(map(_KEY, items[0]))
            members = list(chain.from_iterable(items))
            names = list(map(_KEY, members))
            values = map(_VALUE, members)
        if names != list(keys) * len(items):
            return False
        return self._plan(holder, keys)[1] is None and self._skipped(values)

    def _array(self, items: list[Any], cls: str | None, holder: str) -> None:
        if len(items) > 1 and type(items[0]) in OBJECTS and self._skipped_records(items, holder):
            return
        path = self.path
        path.append(0)
        todo = self.todo
        for index, item in enumerate(items):
            path[-1] = index
            kind = type(item)
            if kind is str:
                k = self.k
                self.k = k + 1
                if cls is not None or k in todo:
                    self._string(k, item, cls)
            elif kind is dict or kind is Members:
                self._object(item, holder)
            elif kind is list:
                self._array(item, cls, holder)
            else:
                self._scalar(item, cls)
        path.pop()

    # -- one value ---------------------------------------------------------------------

    def _key(self, k: int) -> None:
        """Object keys can hold data too ({"ana@x.com": 3}): scrub them in place."""
        start, end = self._span(k)
        token = self.text[start:end]
        fresh = _scrub_json_string(self.run, token)
        if fresh != token:
            self._edit(start, end, fresh, self.path[:-1])

    def _string(self, k: int, value: str, cls: str | None) -> None:
        if cls is fields.PROSE:
            self._prose(k, value)
            return
        if cls is secret_keys.OPEN_ID_SESSION:  # no class: value_fits says so
            self.alone.add(k)  # read on its own, without the key=value detector's finding
        if type(cls) is fields.Verdict and not fields.value_fits(cls, value):
            cls = None  # a phone-named "N/A": left to the shape detectors
            if k not in self.todo:
                return
        start, end = self._span(k)
        token = self.text[start:end]
        if cls is not None:
            if not value or is_token(value):
                return
            fresh = quoted_json(_whole(self.run, fields.resolved(cls), value))
        elif k in self.alone:  # a GraphQL request's variables sent as a string: bound
            bound = string_variables(self.run, nested_json, self.document, self.path, value)
            if bound is None:
                fresh = _scrub_json_string(self.run, token)
            else:
                fresh = token if bound == value else quoted_json(bound)
        else:
            fresh = self._apply_inside(start, end, self.inside[k])
        if fresh != token:
            self._edit(start, end, fresh, self.path)

    def _prose(self, k: int, value: str) -> None:
        """A free-text field: the names in it (free_text_names) and every detector's
        findings, read in the decoded string."""
        found = [Hit(a, b, "name") for a, b in find_names(value)]
        place = self.places[-1]
        if place.owner is None and place.sensitive is None:  # a GraphQL request's variable
            place = variables_place(self.document, self.path, place)
        found += person_diagnoses(place, value)  # "CID F32.1" in a person's notes
        if not found:
            if k in self.todo:
                self._string(k, value, None)
            return
        run = self.run
        hits = resolve(run.scanner.find(value) + found)
        start, end = self._span(k)
        token = self.text[start:end]
        fresh = quoted_as_sent(token, scrub_found(run, value, hits))  # "<x xmlns=…>", kept
        if fresh != token:
            self._edit(start, end, fresh, self.path)

    def _apply_inside(self, start: int, end: int, hits: list[Hit]) -> str:
        """A plain string (no escapes, else it is rescanned alone): use the findings."""
        text = self.text
        if is_markup(text[start + 1 : end - 1]):  # by element name, namespaces kept
            hits = inside_markup(self.run, text[start + 1 : end - 1], hits, start + 1)
        out = []
        last = start + 1
        for hit in hits:
            out.append(text[last : hit.start])
            out.append(self.run.replace(hit.cls, text[hit.start : hit.end], hit.fixed))
            last = hit.end
        out.append(text[last : end - 1])
        return quoted_as_sent(text[start:end], "".join(out))

    def _scalar(self, value: object, cls: str | None) -> None:
        k = self.k
        if self.j_gap == k:
            self.j += 1
        else:
            self.j_gap, self.j = k, 0
        if (cls is None and k not in self.gap_hits) or value is None:
            return
        if type(value) is bool and cls != "sensitive":  # "hiv": true tells the fact
            return
        start, end = self._gap_token(k, self.j)
        token = self.text[start:end]
        if type(cls) is fields.Verdict and not fields.value_fits(cls, token):
            cls = None
            if k not in self.gap_hits:
                return
        if cls is not None:
            fresh = quoted_json(self.run.replace(fields.resolved(cls), token))
        else:
            if not any(h.start < end and h.end > start for h in self.gap_hits[k]):
                return
            found = self.run.scanner.find(token)
            if not found:
                return
            # A sensitive number becomes a quoted token: never a float round trip.
            fresh = quoted_json(self.run.replace(found[0].cls, token, found[0].fixed))
        self._edit(start, end, fresh, self.path)

    def _gap_token(self, k: int, j: int) -> tuple[int, int]:
        """Span of the j-th number or literal after string k-1 (before string k)."""
        if self.gap_tokens is None or self.gap_tokens[0] != k:
            bounds = self.gaps.get(k)
            if bounds is None:
                quotes = self._quotes(2 * k + 1)
                low = quotes[2 * k - 1] + 1 if k else 0
                bounds = (low, quotes[2 * k] if 2 * k < len(quotes) else len(self.text))
            spans = [m.span() for m in _GAP_SCALAR.finditer(self.plain, *bounds)]
            self.gap_tokens = (k, spans)
        return self.gap_tokens[1][j]

    def _edit(self, start: int, end: int, fresh: str, path: list[str | int]) -> None:
        self.out.append((start, end, fresh))
        self.run.locations.add(f"{self.where}.json:{json_pointer(path)}")
        note_raw_controls(self.run.locations, self.where, self.text, start, end)


_BASE64_MIN_CHARS = 8  # "QW5hIExp": six bytes of text


def _whole(run: Run, cls: str, value: str) -> str:
    """A value its key names, replaced whole; one written in base64 (a Kubernetes
    Secret's ``data``: ``"nome": "TWFyaWEgU291emE="``) replaced decoded and written
    back in base64, so the document still decodes."""
    if " " not in value and (value.endswith("=") or len(value) % 4 == 0):
        found = base64_codec.read_text(value, min_chars=_BASE64_MIN_CHARS)
        if found is not None and not is_token(found[0]):
            return base64_codec.write(run.whole(cls, found[0]).encode("utf-8"), found[1])
    return run.whole(cls, value)


def json_pointer(path: list[str | int]) -> str:
    if not path:
        return ""
    joined = "/".join(map(str, path))
    # Escaping only when a key holds "~" or "/" (one more "/" than the separators).
    if "~" not in joined and joined.count("/") == len(path) - 1:
        return "/" + joined
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _scrub_json_string(run: Run, token: str) -> str:
    escaped = "\\" in token
    value = read_string(token) if escaped else token[1:-1]
    fresh = nested_json(run, value) if escaped else None  # a document's quotes are escaped
    if fresh is None and escaped and value[:1] == '"' and value[-1:] == '"' and len(value) > 1:
        fresh = _double_encoded(run, value)  # "\"{\\\"cpf\\\": ...}\"": JSON in JSON in JSON
    if fresh is None:
        if escaped and text_pairs.may_hold(value):  # {"message": "… value {\"nome\": …}"}
            hits = text_pairs.quoted_hits(run, value)
            if hits:
                value_before, value = value, run.apply(value, hits)
                fresh = scrub_text(run, value)
                return quoted_as_sent(token, fresh) if fresh != value_before else token
        fresh = sanitize_graphql(run, value) if is_graphql(value) else scrub_text(run, value)
    if fresh == value:
        return token
    return quoted_as_sent(token, fresh)


def _double_encoded(run: Run, value: str) -> str | None:
    """A string whose value is itself a JSON string (an encoder run twice), read as
    that string is; None when it is not one."""
    try:
        json.loads(value)
    except ValueError:
        return None
    fresh = _scrub_json_string(run, value)
    return None if fresh == value else fresh
