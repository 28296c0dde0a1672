"""Exchanges from the world: the request and response examples of GitHub's REST API
descriptions (``@octokit/openapi``, fetched by ``make tools``: github.com's and
Enterprise Cloud's), each as the ``Exchange`` a capture of that call would make.

Each operation gives one exchange per distinct request: its method, a concrete path
from the template (each path parameter's example, else a value of its type), its
required query parameters and the optional ones that document a value, the headers
and token Octokit sends, its JSON request example (if any; ``+json`` types too), and
the first status with a JSON response example, with the response's documented headers
and that example as its body. Operations and examples are read in a fixed order, so a
capped corpus is the same on every run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from ext_proc_server.core.exchange import Exchange, HttpRequest, HttpResponse
from tests.support.paths import REPO

OPENAPI_VERSION = "23.0.2"
GENERATED = REPO / ".tools/npm/node_modules/@octokit/openapi/generated"
# github.com's API, then GitHub Enterprise Cloud's (SCIM provisioning, enterprise admin).
SPEC_PATHS = (GENERATED / "api.github.com.json", GENERATED / "ghec.json")
HOST = "api.github.com"
METHODS = ("get", "put", "post", "patch", "delete")
# Concrete values of the path parameters most operations share (GitHub's own examples).
PATH_VALUES = {"owner": "octocat", "repo": "Hello-World", "org": "github", "username": "octocat"}
# What Octokit sends with each call; the token is a made-up one of GitHub's format.
TOKEN = "ghp_" + "R4nd0mT0k3nV4lu3F0rT3st1ng0nlyAbCdE1"
REQUEST_HEADERS = (
    ("accept", "application/vnd.github+json"),
    ("authorization", f"token {TOKEN}"),
    ("user-agent", "octokit-rest.js/22.0.0 octokit-core.js/7.0.3 Node.js/22"),
    ("x-github-api-version", "2022-11-28"),
)
JSON_TYPE = "application/json"


@dataclass(frozen=True)
class ApiExample:
    """One example call: the operation it documents and the exchange a capture makes."""

    operation_id: str
    exchange: Exchange


@cache
def load_spec(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _resolved(spec: dict[str, Any], node: Any) -> Any:
    """``node`` with its ``$ref`` (a local JSON pointer) followed, as often as it has one."""
    while isinstance(node, dict) and "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def _example_value(spec: dict[str, Any], parameter: dict[str, Any]) -> str:
    """A concrete value of a parameter: its example, a known one, its first enum value,
    its default, else one of its type."""
    schema = _resolved(spec, parameter.get("schema") or {})
    name = parameter["name"]
    if "example" in parameter:
        value = parameter["example"]
    elif name in PATH_VALUES:
        value = PATH_VALUES[name]
    elif "example" in schema:
        value = schema["example"]
    elif schema.get("enum"):
        value = schema["enum"][0]
    elif "default" in schema:
        value = schema["default"]
    elif schema.get("type") == "integer":
        value = 42
    else:
        value = f"{name.replace('_', '-')}-1"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _documented(spec: dict[str, Any], parameter: dict[str, Any]) -> bool:
    """Whether an optional parameter documents a value (an example, a default, an enum):
    one a client sends as the description shows it."""
    schema = _resolved(spec, parameter.get("schema") or {})
    return "example" in parameter or bool({"example", "default", "enum"} & schema.keys())


def _json_examples(spec: dict[str, Any], content: dict[str, Any]) -> tuple[str, list[Any]]:
    """The JSON media type of a request or response body (``application/json``, else the
    first ``+json`` one: SCIM's, SARIF's) and its examples, in the order written."""
    types = sorted(t for t in content if t == JSON_TYPE or t.endswith("+json"))
    if not types:
        return JSON_TYPE, []
    media_type = JSON_TYPE if JSON_TYPE in types else types[0]
    media = content[media_type]
    if "examples" in media:
        found = [_resolved(spec, ex).get("value") for _, ex in sorted(media["examples"].items())]
    else:
        found = [media.get("example")]
    return media_type, [example for example in found if example is not None]


def _response_headers(
    spec: dict[str, Any], response: dict[str, Any], media_type: str
) -> tuple[tuple[str, str], ...]:
    headers = [("content-type", f"{media_type}; charset=utf-8")]
    for name, header in sorted((response.get("headers") or {}).items()):
        header = _resolved(spec, header)
        example = header.get("example", _resolved(spec, header.get("schema") or {}).get("example"))
        if example is not None and name.lower() != "content-type":
            headers.append((name.lower(), str(example)))
    return tuple(headers)


def _first_response(spec: dict[str, Any], operation: dict[str, Any]) -> HttpResponse | None:
    """The first status (in numeric order) with a JSON example, as a response."""
    for status, response in sorted(operation.get("responses", {}).items()):
        if not status.isdigit():
            continue
        response = _resolved(spec, response)
        media_type, examples = _json_examples(spec, response.get("content") or {})
        if examples:
            body = json.dumps(examples[0], ensure_ascii=False).encode()
            headers = _response_headers(spec, response, media_type)
            return HttpResponse(status=int(status), headers=headers, body=body)
    return None


def _requests(
    spec: dict[str, Any], template: str, method: str, operation: dict[str, Any]
) -> Iterator[HttpRequest]:
    """The operation's requests: one per JSON request example (one without a body when it
    has none)."""
    path, query = template, []
    for parameter in operation.get("parameters", []):
        parameter = _resolved(spec, parameter)
        value = _example_value(spec, parameter)
        if parameter["in"] == "path":
            path = path.replace("{" + parameter["name"] + "}", value)
        elif parameter["in"] == "query" and (
            parameter.get("required") or _documented(spec, parameter)
        ):
            query.append((parameter["name"], value))
    content = _resolved(spec, operation.get("requestBody") or {}).get("content") or {}
    media_type, examples = _json_examples(spec, content)
    for body in examples or [None]:
        headers = REQUEST_HEADERS
        data = b""
        if body is not None:
            headers = (*REQUEST_HEADERS, ("content-type", media_type))
            data = json.dumps(body, ensure_ascii=False).encode()
        yield HttpRequest(
            method=method.upper(),
            path=path,
            query=tuple(query),
            headers=headers,
            body=data,
            authority=HOST,
        )


def api_examples(
    specs: tuple[Path, ...] = SPEC_PATHS, *, limit: int | None = None
) -> list[ApiExample]:
    """Every operation's example calls, description by description, each sorted by path
    and method (a request an earlier description made is not made again); the first
    ``limit``."""
    out: list[ApiExample] = []
    seen: set[tuple[str, str, tuple[tuple[str, str], ...], bytes]] = set()
    for path in specs:
        spec = load_spec(path)
        for template, item in sorted(spec["paths"].items()):
            for method in METHODS:
                operation = item.get(method)
                response = _first_response(spec, operation) if operation else None
                if operation is None or response is None:
                    continue
                for request in _requests(spec, template, method, operation):
                    key = (request.method, request.path, request.query, request.body)
                    if key in seen:
                        continue
                    seen.add(key)
                    exchange = Exchange(
                        id=f"openapi-{len(out)}",
                        request=request,
                        response=response,
                        namespace="world",
                    )
                    out.append(ApiExample(operation["operationId"], exchange))
    return out[:limit] if limit is not None else out
