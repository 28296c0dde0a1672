"""The first-seen steps, one exchange at a time, as the pipeline runs them: for measuring
a cut in instructions and for proving it changed no output.

Each exchange takes the repeat key the stream would hand over, ``sanitize_one``,
``map_sanitized`` (dedup, mapping, the queue entry) and ``RepeatIndex.remember`` (the
raw response's fingerprint). Corpora: ``bench`` (the ext_proc bench's 2 KiB JSON
exchanges), ``realistic`` (bench_sanitizer's), ``labelled`` and ``personal`` (the
sanitizer's corpora, each body sent and answered), ``generated`` (bench_sanitizer's
generated bodies) and ``json`` (generated JSON requests: compact, json.dumps's default
form, pretty-printed, with floats, repeated keys and inexact numbers).

Differential run (two trees, same corpora: the outputs must be byte for byte equal)::

    PYTHONHASHSEED=0 PYTHONPATH=<tree> python -m bench.first_seen_steps outputs > a.txt

Instructions of N exchanges after a warm-up, nothing else counted (the import and the
warm-up run uninstrumented; ``bench/first_seen_callgrind.sh`` does it)::

    FIRST_SEEN_READY=/tmp/ready PYTHONHASHSEED=0 PYTHONPATH=<tree> valgrind \\
        --tool=callgrind --instr-atstart=no python -m bench.first_seen_steps run bench 100
    # once /tmp/ready holds the pid: callgrind_control -i on <pid>; touch /tmp/ready.go

``run-mapped`` in place of ``run`` counts the steps after sanitizing alone (the exchanges
are sanitized before the count begins; ``RUN=run-mapped bench/first_seen_callgrind.sh``).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from pydantic import SecretStr

from bench.ext_proc_breakdown import collector_gc
from bench.ext_proc_servers import json_body
from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.exchange import Exchange, HttpRequest, HttpResponse
from ext_proc_server.core.queue_entries import FIELD_ENQUEUED_AT
from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.pipeline import default_stages
from ext_proc_server.pipeline.skips import Skipped
from ext_proc_server.pipeline.stages import Prepared, map_sanitized, sanitize_one

WARM_UP = 30
_JSON = "application/json"


def bench_exchanges(count: int, *, start: int = 0) -> list[Exchange]:
    """The ext_proc bench's exchanges (bench.ext_proc_breakdown.bench_stream's parts)."""
    out = []
    for n in range(start, start + count):
        request = HttpRequest(
            method="POST",
            path=f"/api/b/order{n}",
            query=(("page", str(n)),),
            authority="orders.bench",
            headers=(("content-type", _JSON), ("x-request-id", f"id-{n}")),
            body=json_body(n),
        )
        response = HttpResponse(status=200, headers=(("content-type", _JSON),), body=json_body(0))
        out.append(Exchange(id=f"bench-{n}", request=request, response=response))
    return out


def _answered(index: int, name: str, request: HttpRequest, content_type: str) -> Exchange:
    response = HttpResponse(
        status=200, headers=(("content-type", content_type),), body=request.body
    )
    return Exchange(id=f"{name}-{index}", request=request, response=response)


def labelled_exchanges() -> list[Exchange]:
    from bench.bench_sanitizer import corpus_request, load_corpus

    return [
        _answered(i, "labelled", corpus_request(case), case["content_type"])
        for i, case in enumerate(load_corpus())
    ]


def personal_exchanges() -> list[Exchange]:
    from tests.unit.sanitize import personal_eval

    return [
        _answered(i, "personal", personal_eval.request(case), case["content_type"])
        for i, case in enumerate(personal_eval.load())
    ]


def generated_exchanges(count: int) -> list[Exchange]:
    from bench.bench_sanitizer import generated_bodies

    bodies = generated_bodies(count * 2, seed=7)
    out = []
    for i in range(count):
        (req_type, req_body), (resp_type, resp_body) = bodies[2 * i], bodies[2 * i + 1]
        request = HttpRequest(
            method="POST",
            path=f"/api/generated/{i % 17}",
            authority="api.example.com.br",
            headers=(("content-type", req_type),),
            body=req_body,
        )
        response = HttpResponse(status=200, headers=(("content-type", resp_type),), body=resp_body)
        out.append(Exchange(id=f"generated-{i}", request=request, response=response))
    return out


# Number texts a double holds and does not (16+ digits, 3-digit exponents), and others.
_NUMBERS = (
    "0", "-0", "-0.0", "1", "10", "0.1", "0.30000000000000004", "1e2", "1E+2", "1.0",
    "10.000000000000000001", "12345678901234567", "123456789012345678901", "1e400",
    "4.123e-320", "1e-400", "2.5e-5", "1e16", "1e+16", "9007199254740993", "3.14159",
    "0.1000000000000000055511151231257827", "100.50", "-7.25e+100",
)  # fmt: skip
# Strings with what the json.dumps form's check deletes spaces after (", ", '": ').
_WORDS = (
    "a", "id", "nome", "São Paulo", "é", 'x"y', "tab\tbed", "\u2028", "😀", "a/b", "",
    "Rua das Flores, 123", 'say ": " twice', "a,b", "12:30",
)  # fmt: skip


def _value(rng: random.Random, depth: int) -> object:
    roll = rng.random()
    if depth < 3 and roll < 0.15:
        return {_key(rng): _value(rng, depth + 1) for _ in range(rng.randrange(0, 5))}
    if depth < 3 and roll < 0.25:
        return [_value(rng, depth + 1) for _ in range(rng.randrange(0, 5))]
    if roll < 0.45:
        return rng.choice(_WORDS) + str(rng.randrange(100))
    if roll < 0.6:
        return rng.randrange(-(10**6), 10**6)
    if roll < 0.75:
        return rng.choice((0.1, 1.5, -2.25, 1e16, 1e-5, 1.7976931348623157e308, 0.0, -0.0)) * (
            rng.randrange(1, 9)
        )
    if roll < 0.85:
        return rng.choice((True, False, None))
    return _NumberText(rng.choice(_NUMBERS))


class _NumberText(float):
    """A number written as its text (json cannot write an inexact one otherwise)."""

    def __new__(cls, text: str) -> _NumberText:
        made = super().__new__(cls, 0.0)
        made.text = text  # type: ignore[attr-defined]
        return made


def _key(rng: random.Random) -> str:
    return rng.choice(("id", "nome", "cpf", "email", "price", "qty", "a", "é", 'k"q', "b, ", "b,"))


def _written(rng: random.Random, document: object) -> str:
    """``document`` in one of the forms clients write, each number as its own text."""
    form = rng.randrange(5)
    if form == 0:
        text = json.dumps(_marked(document), separators=(",", ":"), ensure_ascii=False)
    elif form == 1:
        text = json.dumps(_marked(document), indent=2)
    elif form == 2:
        text = json.dumps(_marked(document), ensure_ascii=False)
    else:
        text = json.dumps(_marked(document))  # the default form, twice as often
    pieces = text.split(_MARK)
    texts = _number_texts(document)
    return "".join(p if i == 0 else next(texts) + p for i, p in enumerate(pieces))


def _number_texts(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for value in node.values():
            yield from _number_texts(value)
    elif isinstance(node, list):
        for value in node:
            yield from _number_texts(value)
    elif isinstance(node, _NumberText):
        yield node.text  # type: ignore[attr-defined]


# Where a _NumberText goes, as json writes the string standing for it.
_MARK = '"\\u0000N\\u0000"'


def _marked(node: object) -> object:
    if isinstance(node, dict):
        return {k: _marked(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_marked(v) for v in node]
    if isinstance(node, _NumberText):
        return "\x00N\x00"
    return node


def json_exchanges(count: int) -> list[Exchange]:
    """JSON requests in the forms clients write them, some with a key given twice."""
    rng = random.Random(20261206)
    out = []
    for i in range(count):
        document = {_key(rng): _value(rng, 1) for _ in range(rng.randrange(1, 9))}
        text = _written(rng, document)
        if rng.random() < 0.15 and text.startswith("{") and len(text) > 2:
            # A key given twice: the first member again, written as the text writes it.
            first = text[1:].split(",")[0].strip()
            if first and not first.startswith("\n"):
                text = "{" + first + ("," if '": ' not in text else ", ") + text[1:]
        request = HttpRequest(
            method="POST",
            path=f"/api/json/{i % 13}",
            authority="api.example.com.br",
            headers=(("content-type", _JSON),),
            body=text.encode("utf-8", "surrogatepass"),
        )
        answer = json.dumps({_key(rng): _value(rng, 1) for _ in range(4)}, default=float)
        response = HttpResponse(
            status=200, headers=(("content-type", _JSON),), body=answer.encode()
        )
        out.append(Exchange(id=f"json-{i}", request=request, response=response))
    return out


def corpus(name: str, count: int) -> list[Exchange]:
    if name == "bench":
        return bench_exchanges(count, start=1000)
    if name == "realistic":
        from bench.bench_sanitizer import realistic_exchanges

        return realistic_exchanges(count, seed=4242)
    if name == "labelled":
        return labelled_exchanges()[:count]
    if name == "personal":
        return personal_exchanges()[:count]
    if name == "generated":
        return generated_exchanges(count)
    if name == "json":
        return json_exchanges(count)
    raise SystemExit(f"unknown corpus {name}")


class Steps:
    """The first-seen steps with the collector's default stages (no Redis)."""

    def __init__(self) -> None:
        # A fixed key: the fingerprints of two runs compare (never a deployment's key).
        self.config = CollectorConfig(dedup_key=SecretStr("bench-first-seen-steps-key"))
        self.stages = default_stages(self.config, redis=None, keys=RedisKeys(queue="bench:fs"))
        assert self.stages.repeats is not None
        self.repeats = self.stages.repeats

    def one(self, exchange: Exchange) -> object:
        """What the steps made of ``exchange`` (no time): the dedup and stub hashes, the
        repeat fingerprint and the queue entry."""
        key = self.repeats.key_of(exchange)
        clean = sanitize_one(exchange, self.stages, mark_truncated=False)
        if clean is None:
            return "dropped"
        prepared = map_sanitized(clean, self.stages, dedup_enabled=False, repeat_key=key)
        if prepared is None:
            return "dropped"
        if isinstance(prepared, Skipped):
            return f"skipped {prepared.entry}"
        assert isinstance(prepared, Prepared)
        self.repeats.remember(key, prepared.mapping_id)
        entry = dict(prepared.entry or {})
        entry.pop(FIELD_ENQUEUED_AT, None)
        fingerprint = self.repeats.fingerprint_of(key).hex()
        return (prepared.dedup_hash, prepared.stub_hash, fingerprint, sorted(entry.items()))


def outputs(counts: dict[str, int]) -> Iterator[str]:
    steps = Steps()
    for name, count in counts.items():
        for exchange in corpus(name, count):
            line = repr(steps.one(exchange))
            yield f"{name} {exchange.id} {hashlib.sha256(line.encode()).hexdigest()}"


DIFF_COUNTS = {
    "bench": 400, "realistic": 3000, "labelled": 10_000, "personal": 10_000,
    "generated": 600, "json": 1500,
}  # fmt: skip


def _warm_and_measured(name: str, count: int) -> tuple[list[Exchange], list[Exchange]]:
    """The warm-up exchanges and ``count`` others to measure, none of them the same."""
    if name == "bench":
        return bench_exchanges(WARM_UP, start=90_000), corpus(name, count)
    exchanges = corpus(name, WARM_UP + count)
    return exchanges[:WARM_UP], exchanges[WARM_UP:]


def run(name: str, count: int) -> None:
    """Warm up on other exchanges, then ``count`` first-seen ones (callgrind's N)."""
    steps = Steps()
    warm, measured = _warm_and_measured(name, count)
    with collector_gc():
        for exchange in warm:
            steps.one(exchange)
        counted = _wait_for_instrumentation()
        for exchange in measured:
            steps.one(exchange)
        if counted:
            os._exit(0)  # nothing after the measured exchanges: no teardown counted


def run_mapped(name: str, count: int) -> None:
    """:func:`run` with the measured exchanges sanitized before the count begins: what
    callgrind counts is the rest of the steps alone (the repeat key, ``map_sanitized``,
    the fingerprint), as :meth:`Steps.one` runs them."""
    steps = Steps()
    warm, measured = _warm_and_measured(name, count)
    with collector_gc():
        for exchange in warm:
            steps.one(exchange)
        sanitized = [
            (exchange, sanitize_one(exchange, steps.stages, mark_truncated=False))
            for exchange in measured
        ]
        counted = _wait_for_instrumentation()
        for exchange, clean in sanitized:
            key = steps.repeats.key_of(exchange)
            if clean is None:
                continue
            prepared = map_sanitized(clean, steps.stages, dedup_enabled=False, repeat_key=key)
            if isinstance(prepared, Prepared):
                steps.repeats.remember(key, prepared.mapping_id)
                steps.repeats.fingerprint_of(key)
        if counted:
            os._exit(0)


def _wait_for_instrumentation() -> bool:
    """With ``FIRST_SEEN_READY`` set (a path): say so there, then wait for the path plus
    ".go", which the caller creates once ``callgrind_control -i on`` has returned. Run
    with ``--instr-atstart=no``, callgrind then counts the measured exchanges alone."""
    ready = os.environ.get("FIRST_SEEN_READY")
    if not ready:
        return False
    Path(ready).write_text(str(os.getpid()))
    go = Path(ready + ".go")
    while not go.exists():
        time.sleep(0.01)
    return True


def cpu_us(name: str, count: int) -> float:
    """CPU µs per exchange (time.process_time) of ``count`` exchanges after the warm-up;
    run two trees' processes alternately to compare them on a shared box."""
    steps = Steps()
    exchanges = corpus(name, WARM_UP + count)
    with collector_gc():
        for exchange in exchanges[:WARM_UP]:
            steps.one(exchange)
        started = time.process_time()
        for exchange in exchanges[WARM_UP:]:
            steps.one(exchange)
        return (time.process_time() - started) / count * 1e6


def main(argv: list[str]) -> None:
    if argv[:1] == ["cpu"]:
        print(f"{argv[1]} {int(argv[2])} {cpu_us(argv[1], int(argv[2])):.1f}")
    elif argv[:1] == ["outputs"]:
        for line in outputs(DIFF_COUNTS):
            print(line)
    elif argv[:1] == ["run"]:
        run(argv[1], int(argv[2]))
    elif argv[:1] == ["run-mapped"]:
        run_mapped(argv[1], int(argv[2]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
