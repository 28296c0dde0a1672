"""Which argument each variable of a GraphQL request fills. A request's ``variables``
are named by its client, not by the schema: ``criarPaciente(obs: $o)`` sends the note
as ``{"o": "..."}`` and ``customerCreate(input: {email: $e, phone: $p})`` the contact
as ``{"e": ..., "p": ...}``. Read by the names of the arguments and input fields they
are bound to (a filter's comparison, ``where: {email: {_eq: $e}}``, by the field),
the variables are read as the same values written in the document are, whatever the
client called them; of several operations, ``operationName``'s is read.
"""

from __future__ import annotations

import functools
import re
from typing import Any, NamedTuple

from ext_proc_server.sanitize import fields
from ext_proc_server.sanitize.graphql import called_place, calling_place, is_graphql
from ext_proc_server.sanitize.json_tree import Members

# Strings and comments (skipped whole), names and variables, and the punctuation that
# nests arguments; commas, numbers, "!" and "..." need no token.
_TOKEN = re.compile(
    r'"""[\s\S]*?"""|"(?:[^"\\\n]|\\.)*"|#[^\n]*|\$?[_A-Za-z][_0-9A-Za-z]*|[(){}\[\]:]'
)
_OPERATIONS = frozenset({"query", "mutation", "subscription"})
_DEFINITIONS = _OPERATIONS | {"fragment"}
_CLOSERS = frozenset(")}]")
_VARIABLES = "variables"
# Filters' comparison operators besides Hasura's ("_eq", "_ilike", "_in": any "_x"):
# Prisma's and PostGraphile's (connection-filter) for strings and lists.
_OPERATORS = frozenset(
    {"equals", "not", "in", "notIn", "contains", "startsWith", "endsWith", "equalTo",
     "notEqualTo", "includes", "includesInsensitive", "like", "likeInsensitive",
     "equalToInsensitive", "startsWithInsensitive", "endsWithInsensitive"}
)  # fmt: skip


class Binding(NamedTuple):
    argument: str  # the argument or input field it fills: "obs", "email"
    field: str  # the field called with it: "criarPaciente", "customerCreate"


@functools.lru_cache(maxsize=256)
def bindings(query: str, operation: str | None = None) -> dict[str, tuple[Binding, ...]]:
    """Each variable's bindings in the document (``operation``'s and its fragments'
    when the document defines an operation so named), in document order."""
    found: list[tuple[int, str, Binding]] = []  # (definition, variable, binding)
    named: dict[int, str] = {}  # definition -> its operation's name
    definition, opened = -1, False  # opened: a definition's keyword read, its body not
    frames: list[tuple[str, str]] = []  # ("(", field called) or ("{" / "[", argument)
    argument = before = ""  # the name before the last ":", the previous token
    tokens = [m.group() for m in _TOKEN.finditer(query)]
    for i, token in enumerate(tokens):
        head = token[0]
        if head == '"' or head == "#":
            before = token
            continue
        if not frames and (token in _DEFINITIONS or (head == "{" and not opened)):
            definition += 1
            if token in _OPERATIONS and i + 1 < len(tokens) and tokens[i + 1][0] not in "({":
                named[definition] = tokens[i + 1]
        opened = (not frames and token in _DEFINITIONS) or (opened and bool(frames or head != "{"))
        if head == "(":
            frames.append(("(", before))
        elif head == "{" or head == "[":
            value = before == ":" or (frames and frames[-1][0] == "[")
            frames.append((head, argument if value or head == "[" else ""))
        elif head in _CLOSERS:
            if frames:
                frames.pop()
        elif head == ":":
            argument = before
        elif head == "$" and not (i + 1 < len(tokens) and tokens[i + 1] == ":"):
            filled = _compared(argument, frames) if before == ":" else _listed(frames)
            field = next((name for opener, name in reversed(frames) if opener == "("), "")
            if filled and field:
                found.append((definition, token[1:], Binding(filled, field)))
        before = token
    return _selected(found, named, operation)


def _compared(argument: str, frames: list[tuple[str, str]]) -> str:
    """The input field a filter's comparison compares (``where: {email: {_eq: $e}}``,
    Hasura's; ``email: {equals: $e}``, Prisma's; ``{equalTo: $e}``, PostGraphile's):
    the field, not the operator; else the argument itself."""
    if argument[:1] == "_" or argument in _OPERATORS:
        return frames[-1][1] if frames and frames[-1][0] == "{" and frames[-1][1] else argument
    return argument


def _listed(frames: list[tuple[str, str]]) -> str:
    """The argument whose list holds a variable there (``names: [$a, $b]``), if any."""
    return frames[-1][1] if frames and frames[-1][0] == "[" else ""


def _selected(
    found: list[tuple[int, str, Binding]], named: dict[int, str], operation: str | None
) -> dict[str, tuple[Binding, ...]]:
    """The bindings of ``operation`` and of the fragments (or every one's, when no
    operation of the document is so named)."""
    others = {d for d, name in named.items() if name != operation}
    if operation is None or len(others) == len(named):
        others = set()
    out: dict[str, tuple[Binding, ...]] = {}
    for definition, variable, binding in found:
        if definition not in others:
            out[variable] = (*out.get(variable, ()), binding)
    return out


def read_keys(document: object, path: list[str | int], keys: tuple[str, ...]) -> tuple[str, ...]:
    """The keys of the object at ``path`` as they are read: a GraphQL request's
    ``variables`` each by the argument it fills (``{"o": …}`` as ``obs`` for
    ``criarPaciente(obs: $o)``); any other object's as they are."""
    request = request_at(document, path[:-1]) if path and path[-1] == _VARIABLES else None
    if request is None:
        return keys
    bound = bindings(*request)
    if not bound:
        return keys
    return tuple(_read_as(key, bound.get(key, ())) for key in keys)


def _read_as(key: str, bound: tuple[Binding, ...]) -> str:
    """The name a variable is read by: the first it fills (or its own) that names a
    value; else the first it fills, which may still tell whose the record is (``cpf``)."""
    if not bound:
        return key
    for name in (*(binding.argument for binding in bound), key):
        if fields.builtin_verdict(fields.ROOT, name) is not None:
            return name
    return bound[0].argument


def variables_place(document: object, path: list[str | int], place: fields.Place) -> fields.Place:
    """The record a GraphQL request's variable at ``path`` fills, when a person's or a
    clinical one: the first such field called with the operation's variables
    (``criarPaciente(obs: $o)``), else the first the document calls; else ``place``."""
    at = path.index(_VARIABLES) if _VARIABLES in path[:2] else -1
    request = request_at(document, path[:at]) if at >= 0 else None
    if request is None or not is_graphql(request[0]):
        return place
    called = (binding.field for found in bindings(*request).values() for binding in found)
    return calling_place(called) or called_place(request[0]) or place


def request_at(document: object, path: list[str | int]) -> tuple[str, str | None] | None:
    """The query and operation name of the GraphQL request at ``path`` (the document,
    or one of a batch's), if that is one."""
    if path:
        if len(path) != 1 or type(path[0]) is not int or type(document) is not list:
            return None
        document = document[path[0]]
    query, operation = _member(document, "query"), _member(document, "operationName")
    if type(query) is not str:
        return None  # a persisted query's hash, or no request at all
    return query, operation if type(operation) is str else None


def _member(members: Any, key: str) -> object:
    if type(members) is Members:
        return next((value for name, value in members if name == key), None)
    return members.get(key) if type(members) is dict else None
