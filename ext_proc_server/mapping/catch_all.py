"""The lowest-priority catch-all stub every WireMock shard gets.

Without it, a request that matches nothing makes WireMock compute a near-miss
diff against every stub (about 194 ms of CPU each at 10k stubs). With it, a
miss is answered at once with a clear JSON 404 naming the method and path.
When ``notify_url`` is set, WireMock's built-in webhook tells the loader about
each miss: the loader counts it in ``mockado_serving_unmatched_requests_total``
(shard and method) and records it in the miss report (``ext_proc_server.misses``),
sanitized there before anything is stored. The webhook is rendered and sent after
the response; its body is cut to ``MISS_BODY_LIMIT_CHARS``.

A host whose canary asks for ``on_miss: passthrough`` gets a second fallback, just above
the catch-all (:func:`passthrough_mapping`): WireMock proxies the miss to the real service,
where it is captured like any other call, so the next one is mocked.
"""

from __future__ import annotations

import uuid
from typing import Any

from ext_proc_server.mapping.matchers import host_matcher

# WireMock serves the lowest number first; captured mappings use 1-100 by specificity.
CATCH_ALL_PRIORITY = 10_000
# Below every recorded stub, above the catch-all.
PASSTHROUGH_PRIORITY = CATCH_ALL_PRIORITY - 1
MISS_HEADER = "x-mockado-miss"
# Enough to tell which body fields a stub expected; the rest is never looked at.
MISS_BODY_LIMIT_CHARS = 4096
_NAMESPACE = uuid.UUID("6d6f636b-6164-6f00-0000-000000000000")


def catch_all_id(shard: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"catch-all:{shard}"))


def catch_all_mapping(*, shard: str, notify_url: str | None = None) -> dict[str, Any]:
    # Handlebars HTML-escapes {{...}}, so a quote in the path cannot break the JSON.
    body = (
        '{"error":"no recording matched","method":"{{request.method}}",'
        '"path":"{{request.path}}","shard":"' + shard + '"}'
    )
    mapping: dict[str, Any] = {
        "id": catch_all_id(shard),
        "uuid": catch_all_id(shard),
        "name": f"mockado catch-all ({shard})",
        "priority": CATCH_ALL_PRIORITY,
        "request": {"method": "ANY", "urlPattern": ".*"},
        "response": {
            "status": 404,
            "body": body,
            "headers": {"Content-Type": "application/json", MISS_HEADER: "true"},
            "transformers": ["response-template"],
        },
        "metadata": {"mockado": {"catch_all": True, "shard": shard}},
    }
    if notify_url:
        mapping["serveEventListeners"] = [
            {
                "name": "webhook",
                "parameters": {
                    "method": "POST",
                    "url": notify_url,
                    "headers": {"Content-Type": "application/json"},
                    "body": miss_event_template(shard),
                },
            }
        ]
    return mapping


def miss_event_template(shard: str) -> str:
    """The webhook body: JSON built by WireMock's toJson helper (which escapes every
    value), so no request can break it. The loader sanitizes it on arrival."""
    request = "originalRequest"
    return (
        '{"shard":"' + shard + '",'
        f'"method":{{{{{{toJson {request}.method}}}}}},'
        f'"host":{{{{{{toJson {request}.host}}}}}},'
        f'"port":{{{{{{toJson {request}.port}}}}}},'
        f'"url":{{{{{{toJson {request}.url}}}}}},'
        f'"headers":{{{{{{toJson {request}.headers}}}}}},'
        f'"body":{{{{#if {request}.body}}}}'
        f"{{{{{{toJson (abbreviate {request}.body {MISS_BODY_LIMIT_CHARS})}}}}}}"
        '{{else}}""{{/if}} }'
    )


def passthrough_id(shard: str, host: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"passthrough:{shard}:{host}"))


def passthrough_mapping(
    *, shard: str, host: str, aliases: tuple[str, ...] = (), proxy_base_url: str | None = None
) -> dict[str, Any]:
    """Misses of ``host`` (any of its ``aliases``) go to ``proxy_base_url``, a capturing
    proxy in front of the services, or by default to the real service on the port the
    call was made to (a Service's ports answer differently); the recorded stubs still win."""
    stub_id = passthrough_id(shard, host)
    if proxy_base_url:
        response: dict[str, Any] = {"proxyBaseUrl": proxy_base_url.rstrip("/")}
    else:
        # WireMock reads the port from Host (80 when none) and renders only this URL:
        # the proxied answer is passed on as it came, never templated.
        response = {
            "proxyBaseUrl": f"http://{host}:{{{{request.port}}}}",
            "transformers": ["response-template"],
        }
    return {
        "id": stub_id,
        "uuid": stub_id,
        "name": f"mockado pass-through ({shard}, {host})",
        "priority": PASSTHROUGH_PRIORITY,
        "request": {"method": "ANY", "urlPattern": ".*", "host": host_matcher(host, aliases)},
        "response": response,
        "metadata": {
            "mockado": {"catch_all": True, "on_miss": "passthrough", "shard": shard, "host": host}
        },
    }
