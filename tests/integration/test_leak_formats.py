"""People in vCard, iCalendar, LDIF, YAML, TOML, ``.properties``, base64 text (a
Kubernetes Secret, a CSV in a JSON field, a MIME part in 76-character lines, a document
after a byte order mark), HTML cells holding markup, JavaScript literals and Nuxt's
state, sent through a real Envoy to an upstream that echoes each body with its content
type, captured by ``mockado ext-proc`` into a real Redis. No planted value (as written,
case-folded, as bare digits or in the base64 it came in) may reach Redis, the stubs or
the collector's log; the stubs must still hold each body, sanitized.
"""

from __future__ import annotations

import httpx
import pytest

from tests.support.ext_proc_rig import capture_sinks, wait_for_stubs
from tests.support.raw_capture import capture_echoes
from tests.unit.sanitize.personal_formats import BUILDERS, leaked, person, seeded_faker

pytestmark = pytest.mark.integration


# Request bodies of text whose only change is inside a base64 block: no marker shows
# where a value was replaced, so no matcher could tell another request from this one,
# and they get no stub (docs/mappings.md, request_body_unmatchable).
UNMATCHABLE = {"mime_base64", "ldif_base64"}


def test_personal_formats_reach_redis_sanitized(
    redis_server, upstream, envoy_factory, ext_proc_factory
) -> None:
    ext, envoy = capture_echoes(redis_server, upstream, envoy_factory, ext_proc_factory)
    fake = seeded_faker(20261205)
    planted: list[str] = []
    with httpx.Client(base_url=f"http://127.0.0.1:{envoy.port}", timeout=10) as client:
        for name, build in sorted(BUILDERS.items()):
            content_type, body, values = build(person(fake))
            planted.extend(values)
            sent = client.post(f"/echo/{name}", content=body.encode(),
                               headers={"Content-Type": content_type})  # fmt: skip
            assert sent.status_code == 200
            assert sent.text == body  # the proxied answer is the person's, untouched
    mockable = sorted(set(BUILDERS) - UNMATCHABLE)
    stubs = wait_for_stubs(
        ext,
        len(mockable),
        skipped={"request_body_unmatchable": len(UNMATCHABLE)},
        what="a stub per mockable format, the others counted",
    )
    # Not vacuous: every format's request and response bodies are in its stub, sanitized.
    by_path = {stub["request"]["urlPath"]: stub for stub in stubs}
    assert sorted(by_path) == [f"/echo/{name}" for name in mockable]
    for path, stub in by_path.items():
        assert stub["response"].get("body"), path
    assert "FN:SANITIZED_NAME" in by_path["/echo/vcard"]["response"]["body"]
    assert "nome: SANITIZED_NAME" in by_path["/echo/yaml"]["response"]["body"]
    leaks = {sink: found for sink, text in capture_sinks(ext, stubs).items()
             if (found := leaked(text, planted))}  # fmt: skip
    assert leaks == {}, leaks
