"""A log as text (``text/plain``): ``key=value`` pairs (logfmt, as Go's slog, logrus
and Heroku write them: ``nome=Maria Souza cpf=…``, ``user="Maria Souza"``), JSON
objects, one a line, keys and values quoted inside a line (``payload {"nome": …}``, a
PHP array's ``'nome' => '…'``: text_pairs), and access log lines
(``"GET /clientes/maria-souza HTTP/1.1"``: a name in a URL's path, read as the
request's own), between plain lines. No cue comes
before such a name, so the detectors alone let it through; each pair's value is read
here as the field its key names (a dotted key by its last part: ``user.name``), and
each JSON line by its keys.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from itertools import accumulate

from ext_proc_server.sanitize import cpf_or_cnpj, fields, text_pairs
from ext_proc_server.sanitize.formats import sanitize_xml
from ext_proc_server.sanitize.free_text_names import name_hits
from ext_proc_server.sanitize.hits import Hit, resolve
from ext_proc_server.sanitize.json_body import sanitize_json
from ext_proc_server.sanitize.run import Run, is_token
from ext_proc_server.sanitize.urls import path_name_hits, url_field_hits, with_url_fields

_KEY = r"[A-Za-z_][\w.-]{0,40}"
# A value quoted, or bare up to the next pair or the end of the line; never a query
# string's ("?nome=…&…": the URL readers').
_PAIR = re.compile(
    rf"(?<![\w.&?;/%-])(?P<key>{_KEY})="
    r"(?:\"(?P<quoted>(?:[^\"\\\r\n]|\\.){1,200})\""
    rf"|(?P<bare>[^\s\"=&][^\r\n=&\"]{{0,200}}?))(?=[ \t]+{_KEY}=|[ \t]*(?:\r?\n|$))",
    re.MULTILINE,
)


def sanitize_log_text(run: Run, text: str) -> str | None:
    """``text`` with its pairs and JSON lines read by their keys; None when it holds
    none naming anything (then it is read as any text is)."""
    lines = text.splitlines(keepends=True)
    quoted = _QuotedPairs(run, lines)
    read: dict[int, str] = {}
    for i, line in enumerate(lines):
        fresh = _json_line(run, line) if line.lstrip().startswith("{") else None
        pairs = _pair_hits(run, line) if fresh is None and "=" in line else []
        if fresh is None and text_pairs.may_hold(line):  # … payload {"nome": "…"}
            pairs = resolve([*pairs, *quoted.hits(i)])
        named = path_name_hits(run, line) if fresh is None else []  # GET /clientes/ana-lima
        if pairs or named:
            in_urls = resolve([*url_field_hits(run, line), *named])
            hits = with_url_fields(run.scanner.find(line), in_urls)
            fresh = run.scrub(line, with_url_fields(hits, pairs))
        if fresh is not None:
            read[i] = fresh
    if not read:
        return None
    # The other lines are read as any text is.
    return "".join(
        read[i] if i in read else sanitize_xml(run, line) for i, line in enumerate(lines)
    )


# A line opening with a blank or a closing bracket goes on the record the lines before
# opened (PHP's var_export, JSON pretty-printed into a log).
_GOES_ON = (" ", "\t", ")", "]", "}")


class _QuotedPairs:
    """Values quoted under their keys (text_pairs) in a log's lines, read a record at a
    time: a record written over several lines is one, so ``'cpfCnpj' => '<a CPF>'`` on
    one line makes the ``'cep'`` on another a person's."""

    def __init__(self, run: Run, lines: list[str]) -> None:
        self.run = run
        self.lines = lines
        self.by_line: dict[int, list[Hit]] = {}
        self.read_to = 0  # the lines before it are read

    def hits(self, i: int) -> list[Hit]:
        """Findings in the i-th line, at its own offsets."""
        if i >= self.read_to:
            self._read_record(i)
        return self.by_line.get(i, [])

    def _read_record(self, i: int) -> None:
        lines = self.lines
        start = i
        while start > self.read_to and lines[start][:1] in _GOES_ON:
            start -= 1
        end = i + 1
        while end < len(lines) and lines[end][:1] in _GOES_ON:
            end += 1
        self.read_to = end
        record = "".join(lines[start:end])
        starts = list(accumulate((len(line) for line in lines[start : end - 1]), initial=0))
        for hit in text_pairs.pair_hits(self.run, record):
            at = bisect_right(starts, hit.start) - 1
            shifted = hit._replace(start=hit.start - starts[at], end=hit.end - starts[at])
            self.by_line.setdefault(start + at, []).append(shifted)


def _json_line(run: Run, line: str) -> str | None:
    body = line.rstrip("\r\n")
    if not body.rstrip().endswith("}"):
        return None
    part = run.child()  # its JSON pointers are the line's: not kept
    fresh = sanitize_json(part, body, "")
    if fresh is None or fresh == body:
        return None
    run.add_counts(part.counts)
    return fresh + line[len(body) :]


def _pair_hits(run: Run, line: str) -> list[Hit]:
    pairs = list(_PAIR.finditer(line))
    if not pairs:
        return []
    keys = tuple(m.group("key").rpartition(".")[2] for m in pairs)
    # cpfCnpj=<a CPF> makes the line's record a person's, as cpf= does
    marked = cpf_or_cnpj.marked_names(keys, lambda i: pairs[i].group("quoted") or pairs[i]["bare"])
    place = fields.object_place(fields.ROOT, "", frozenset(marked))
    rules = run.scanner.field_rules
    hits = []
    for m, key in zip(pairs, keys, strict=True):
        parents = m.group("key").split(".")[:-1]
        cls = fields.field_verdict(rules, place, key, parents)
        group = "quoted" if m.group("quoted") is not None else "bare"
        value = m.group(group).rstrip()
        if cls is None or not value or "\\" in value or is_token(value):
            continue
        start = m.start(group)
        if cls is fields.PROSE:  # obs="João Pereira ligou": its names
            hits.extend(name_hits(value, start))
            continue
        if type(cls) is fields.Verdict and not fields.value_fits(cls, value):
            continue
        hits.append(Hit(start, start + len(value), fields.resolved(cls)))
    return hits
