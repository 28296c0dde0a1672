"""GraphQL requests whose ``variables`` are not a JSON object beside their ``query``:
sent over GET (``?query=…&operationName=…&variables={…}``, as the GraphQL-over-HTTP
spec and persisted queries do), as a form (``query=…&variables=…``), or as a JSON
string (``"variables": "{\\"o\\": …}"``, as some clients send them). Each variables
document is read inside a request written with its query, so its variables are read
by the arguments they fill (graphql_bindings) as a JSON body's are; the query is
written there with its strings emptied, so only the variables can change.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence

from ext_proc_server.sanitize.graphql import is_graphql
from ext_proc_server.sanitize.graphql_bindings import request_at
from ext_proc_server.sanitize.run import Run

# A document's strings (emptied) and comments (kept as "#": bindings skip both).
_STRING_OR_COMMENT = re.compile(r'"""[\s\S]*?"""|"(?:[^"\\\n]|\\.)*"|#[^\n]*')
_PREFIX = '{"variables": '
_DECODER = json.JSONDecoder()

Request = tuple[str, str | None]  # a query, written without its strings; an operation
ReadJson = Callable[[Run, str], str | None]  # json_body.nested_json


def skeleton(query: str) -> str:
    """The query with every string emptied: what binds variables, and nothing to find."""
    if '"' not in query and "#" not in query:
        return query
    return _STRING_OR_COMMENT.sub(lambda m: "#" if m.group()[0] == "#" else '""', query)


def fields_request(names: Sequence[str], value_of: Callable[[int], str]) -> Request | None:
    """The request sent as URL query or form fields (``query``, ``operationName``,
    ``variables``; ``value_of(i)``: the i-th field's value decoded), when it has both
    a document and variables to bind."""
    if "variables" not in names or "query" not in names:
        return None
    query = value_of(names.index("query"))
    if not is_graphql(query):
        return None
    operation = value_of(names.index("operationName")) if "operationName" in names else ""
    return skeleton(query), operation or None


def string_request(document: object, path: list[str | int]) -> Request | None:
    """The request whose ``variables`` are the string at ``path``, if they are some."""
    if not path or path[-1] != "variables":
        return None
    request = request_at(document, path[:-1])
    if request is None or not is_graphql(request[0]):
        return None
    return skeleton(request[0]), request[1]


def string_variables(
    run: Run, read_json: ReadJson, document: object, path: list[str | int], value: str
) -> str | None:
    """The string ``value`` at ``path`` sanitized (``read_json``: a JSON document
    sanitized) as its request's variables, when it is a GraphQL request's
    ``variables`` document; else None."""
    request = string_request(document, path)
    return None if request is None else bound_variables(value, request, run, read_json)


def bound_variables(variables: str, request: Request, run: Run, read_json: ReadJson) -> str | None:
    """The variables document (JSON text) sanitized by ``read_json`` as the request's
    variables; None when it is no JSON object."""
    stripped = variables.strip()
    if stripped[:1] != "{" or stripped[-1:] != "}":
        return None
    query, operation = request
    suffix = f', "query": {json.dumps(query)}'
    if operation is not None:
        suffix += f', "operationName": {json.dumps(operation)}'
    suffix += "}"
    fresh = read_json(run, _PREFIX + variables + suffix)
    if fresh is None or not fresh.startswith(_PREFIX):
        return None
    if fresh.endswith(suffix):
        return fresh[len(_PREFIX) : len(fresh) - len(suffix)]
    try:  # the query changed: its variables end where their value does
        end = _DECODER.raw_decode(fresh, len(_PREFIX) + len(variables) - len(variables.lstrip()))[1]
    except ValueError:
        return None
    return fresh[len(_PREFIX) : end] + variables[len(variables.rstrip()) :]
