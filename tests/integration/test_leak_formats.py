"""People in vCard, iCalendar, LDIF, YAML, TOML, ``.properties``, base64 text (a
Kubernetes Secret, a CSV in a JSON field, a MIME part in 76-character lines, a document
after a byte order mark), HTML cells holding markup, JavaScript literals and Nuxt's
state, sent through a real Envoy to an upstream that echoes each body with its content
type, captured by ``mockado ext-proc`` into a real Redis. No planted value (as written,
case-folded, as bare digits or in the base64 it came in) may reach Redis, the stubs or
the collector's log; the stubs must still hold each body, sanitized.
"""

from __future__ import annotations

import ast
import json
import re

import httpx
import pytest
from faker import Faker

from tests.support.ext_proc_rig import (
    collector_settings,
    counters,
    envoy_for,
    make_config,
    wait_until,
)
from tests.support.redis_dump import dump_redis
from tests.unit.sanitize.personal_formats import BUILDERS, leaked, person

pytestmark = pytest.mark.integration


_BYTES_LITERAL = re.compile(r"b'(?:[^'\\]|\\.)*'" + r'|b"(?:[^"\\]|\\.)*"')


def _redis_texts(url: str) -> dict[str, str]:
    """Each key's dump, and its bytes read back as UTF-8 (the dump is a repr, which
    escapes every non-ASCII byte)."""
    out = {}
    for key, dumped in dump_redis(url).items():
        out[key] = dumped
        found = _BYTES_LITERAL.findall(dumped)
        out[f"{key} (decoded)"] = "\n".join(
            ast.literal_eval(literal).decode("utf-8", "replace") for literal in found
        )
    return out


def test_personal_formats_reach_redis_sanitized(
    redis_server, upstream, envoy_factory, ext_proc_factory
) -> None:
    collector = collector_settings(redis_server.url)
    ext = ext_proc_factory(collector)
    envoy = envoy_for(
        envoy_factory, make_config(collector), upstream_port=upstream.port,
        ext_proc_port=ext.grpc_port,
    )  # fmt: skip
    fake = Faker("pt_BR")
    fake.seed_instance(20261205)
    planted: list[str] = []
    with httpx.Client(base_url=f"http://127.0.0.1:{envoy.port}", timeout=10) as client:
        for name, build in sorted(BUILDERS.items()):
            content_type, body, values = build(person(fake))
            planted.extend(values)
            sent = client.post(f"/echo/{name}", content=body.encode(),
                               headers={"Content-Type": content_type})  # fmt: skip
            assert sent.status_code == 200
            assert sent.text == body  # the proxied answer is the person's, untouched
    wait_until(
        lambda: len(ext.captured()) >= len(BUILDERS),
        what="a stub per format",
        explain=lambda: counters(ext),
    )
    stubs = ext.captured()
    # Not vacuous: every format's request and response bodies are in its stub, sanitized.
    by_path = {stub["request"]["urlPath"]: stub for stub in stubs}
    assert sorted(by_path) == sorted(f"/echo/{name}" for name in BUILDERS)
    for path, stub in by_path.items():
        assert stub["response"].get("body"), path
    assert "FN:SANITIZED_NAME" in by_path["/echo/vcard"]["response"]["body"]
    assert "nome: SANITIZED_NAME" in by_path["/echo/yaml"]["response"]["body"]
    sinks = {"stubs": json.dumps(stubs, ensure_ascii=False)}
    sinks.update(_redis_texts(redis_server.url))
    sinks["ext-proc log"] = ext.process.log_text()
    leaks = {sink: found for sink, text in sinks.items() if (found := leaked(text, planted))}
    assert leaks == {}, leaks
