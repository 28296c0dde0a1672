"""What a change to the name rules changes elsewhere: every exchange of the world corpus
(GitHub's and APIs.guru's examples, the fiscal XML samples; ``make tools`` installs
them into ``.tools``), ``personal.json`` and ``corpus.json``, sanitized in tokens mode,
each by a digest of its sanitized request and response.

Run it on two trees and compare (no byte changed is the bar for a new name rule)::

    PYTHONPATH=$OLD python -m tests.unit.sanitize.sanitized_digests > old.json
    PYTHONPATH=$NEW python -m tests.unit.sanitize.sanitized_digests > new.json
    python -m tests.unit.sanitize.sanitized_digests --compare old.json new.json
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.exchange import Exchange
from ext_proc_server.sanitize import Sanitizer
from tests.support.fiscal_xml import fiscal_examples
from tests.support.openapi_examples import api_examples, directory_sources
from tests.unit.sanitize import labelled_cases, personal_eval

PER_API = 80  # as tests/integration/test_world_corpus_apis.py reads the directory


def exchanges() -> Iterator[tuple[str, Exchange]]:
    """Every exchange, by a name that is stable across trees."""
    world = api_examples() + api_examples(directory_sources(), per_api=PER_API)
    for i, example in enumerate(world):
        yield f"world/{i}", example.exchange
    for i, (_, example) in enumerate(fiscal_examples()):
        yield f"fiscal/{i}", example.exchange
    for case in personal_eval.load():
        yield (
            f"personal/{case['name']}",
            Exchange(id=case["name"], request=personal_eval.request(case)),
        )
    for case in labelled_cases.load():
        request = labelled_cases.request(case)
        yield f"labelled/{case['name']}", Exchange(id=case["name"], request=request)


def digests() -> dict[str, str]:
    sanitizer = Sanitizer(CollectorConfig())
    out = {}
    for name, exchange in exchanges():
        clean = sanitizer.sanitize(exchange)
        out[name] = hashlib.sha256(repr((clean.request, clean.response)).encode()).hexdigest()
    return out


def changed(old: dict[str, str], new: dict[str, str]) -> list[str]:
    """The exchanges whose sanitized form differs, or that one side lacks."""
    return sorted(name for name in old.keys() | new.keys() if old.get(name) != new.get(name))


def main(argv: list[str]) -> int:
    if argv[:1] == ["--compare"]:
        old, new = (json.loads(Path(p).read_text("utf-8")) for p in argv[1:3])
        differing = changed(old, new)
        print(f"{len(differing)} of {len(new)} exchanges changed")
        print("\n".join(differing))
        return 1 if differing else 0
    json.dump(digests(), sys.stdout, indent=0, sort_keys=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
