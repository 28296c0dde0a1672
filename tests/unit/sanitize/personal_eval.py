"""Scores the sanitizer on the personal-data corpus: what survives, what was destroyed."""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from pathlib import Path
from urllib.parse import unquote_plus

from ext_proc_server.core.exchange import Exchange, HttpRequest
from ext_proc_server.sanitize import Sanitizer

CORPUS = Path(__file__).parent / "sanitize_corpus" / "personal.json"


def load() -> list[dict]:
    return json.loads(CORPUS.read_text(encoding="utf-8"))


def request(case: dict) -> HttpRequest:
    return HttpRequest(
        method="POST",
        path=case.get("path", "/"),
        query=tuple(tuple(p) for p in case.get("query", [])),
        headers=(("content-type", case["content_type"]),),
        body=case["body"].encode("utf-8"),
    )


def haystack(message: HttpRequest, content_type: str) -> str:
    """Everything a request carries, decoded the way its format encodes it."""
    body = message.body.decode("utf-8", "replace")
    decoded = body
    if content_type.endswith("json") and body:
        try:
            decoded = json.dumps(json.loads(body), ensure_ascii=False)
        except ValueError:
            decoded = body
    elif content_type.endswith("urlencoded"):
        decoded = unquote_plus(body)
    elif content_type.endswith("xml"):
        decoded = html.unescape(body)
    return "\n".join(
        [message.path]
        + [f"{n}={unquote_plus(v)}" for n, v in message.query]
        + [f"{n}: {v}" for n, v in message.headers]
        + [body, decoded]
    )


class Score:
    def __init__(self) -> None:
        self.planted: Counter[str] = Counter()
        self.leaked: Counter[str] = Counter()
        self.decoys = 0
        self.destroyed = 0
        self.details: list[str] = []

    @property
    def recall(self) -> float:
        total = sum(self.planted.values())
        return 1.0 if not total else 1 - sum(self.leaked.values()) / total

    @property
    def decoys_kept(self) -> float:
        return 1.0 if not self.decoys else 1 - self.destroyed / self.decoys


def score(sanitizer: Sanitizer, cases: list[dict] | None = None) -> Score:
    result = Score()
    for case in cases if cases is not None else load():
        original = request(case)
        out = sanitizer.sanitize(Exchange(id=case["name"], request=original)).request
        before = haystack(original, case["content_type"])
        after = haystack(out, case["content_type"])
        for cls, value in case["planted"]:
            result.planted[cls] += 1
            # As a whole word: a fake CEP may hold a planted street number's digits.
            if re.search(rf"(?<!\w){re.escape(value)}(?!\w)", after):
                result.leaked[cls] += 1
                result.details.append(f"{case['name']}: {cls} survived")
        for index, decoy in enumerate(case["decoys"]):
            result.decoys += 1
            if after.count(decoy) < before.count(decoy):
                result.destroyed += 1
                result.details.append(f"{case['name']}: decoy #{index} destroyed")
    return result
