"""The labelled corpus (sanitize_corpus/corpus.json): its cases, and each as the request it
stands for."""

from __future__ import annotations

import json
from pathlib import Path

from ext_proc_server.core.exchange import HttpRequest

LABELLED = Path(__file__).parent / "sanitize_corpus" / "corpus.json"


def load() -> list[dict]:
    return json.loads(LABELLED.read_text("utf-8"))


def request(case: dict) -> HttpRequest:
    """``case`` as the POST it labels: its path, query, headers and body."""
    return HttpRequest(
        method="POST",
        path=case.get("path", "/"),
        query=tuple((case.get("query") or {}).items()),
        headers=(
            *(tuple(h) for h in case.get("headers", [])),
            ("content-type", case["content_type"]),
        ),
        body=case["body"].encode(),
    )
