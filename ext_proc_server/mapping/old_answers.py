"""The answers of stubs written before SQS sends were pinned to their message, echoed request
ids served as the replayed request's, and more expiry forms served from now
(``sent_messages``, ``echoed_headers``, ``moments_from_now``), made faithful from what each
stub holds, or the stub retired:

* An SQS send (``X-Amz-Target: AmazonSQS.SendMessage[Batch]``, or ``Action=SendMessage[Batch]``
  in a form) whose answer gives MD5s answered any message with the recorded message's MD5s
  (a Java or .NET SDK throws). When the stub's matchers say exactly which message (the body,
  the attributes and a batch entry's ``Id`` as literals, no ``${json-unit...}`` placeholder,
  no regex: ``equalToJson`` or ``formParameters`` ``equalTo``) and the answer's MD5s are of
  that message, it gets today's pins (``sent_messages.pinned``); else it is retired
  (:data:`RETIRED_MESSAGE_UNKNOWN`): a value was sanitized, or a wildcard took any.
* ``x-ms-client-request-id``: Azure answers it only when the client sent one, always with
  the client's value, so the recorded value is the recorded request's: served as
  ``{{request.headers.x-ms-client-request-id}}``. The other echoed ids (``ECHOED``) are also
  sent by services that make their own when the client sends none (Azure Resource Manager's
  correlation id, Microsoft Graph's ``client-request-id``) and the stub does not hold the
  request's headers: nothing it holds says the value was an echo, so they stay as recorded.
* An expiry moment in a form served from now since (``moment_forms``; a body whose only
  digest is optional): served from now when the stub holds the answer's time (its ``Date``
  header, else ``captured_at_s`` in its metadata); a stub with neither, or already a
  template (its old-form moments are from now already), is served as recorded.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import urllib.parse
from typing import Any

from ext_proc_server.core.exchange import Exchange, HttpRequest, HttpResponse
from ext_proc_server.mapping.echoed_headers import serving_echoes
from ext_proc_server.mapping.moments_from_now import TEMPLATE_TRANSFORMER, served_from_now
from ext_proc_server.mapping.sent_messages import (
    SEND_MATCHER,
    answer_agrees,
    message_form_field,
    pinned,
)

# Why an old SQS send stub was retired (the loader's ``wiremock_loader_stubs_retired`` reason).
RETIRED_MESSAGE_UNKNOWN = "old_stub_message_unknown"
_TARGETS = {"amazonsqs.sendmessage": False, "amazonsqs.sendmessagebatch": True}
_TARGETS_BY_BATCH = {False: "AmazonSQS.SendMessage", True: "AmazonSQS.SendMessageBatch"}
_ACTIONS = {"SendMessage": False, "SendMessageBatch": True}
_FORM = "application/x-www-form-urlencoded"
_PLACEHOLDER = "${json-unit."
_MESSAGE_FIELDS = ("MessageBody", "MessageAttributes", "MessageSystemAttributes")
_AZURE_CLIENT_ID = "x-ms-client-request-id"
_ECHO = f"{{{{request.headers.{_AZURE_CLIENT_ID}}}}}"


def pinned_send(mapping: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """-> (the stub's ``request``, pinned to its message when it is an SQS send whose answer
    gives MD5s, ""), or (its request, :data:`RETIRED_MESSAGE_UNKNOWN`) when such a send's
    message is not exactly held."""
    request, response = mapping.get("request"), mapping.get("response")
    if not isinstance(request, dict) or not isinstance(response, dict):
        return request, ""
    answer = _answer_bytes(response)
    if b"MD5OfMessage" not in answer or _already_pinned(request):
        return request, ""
    sent = _held_send(request)
    if sent is None:
        # A send the stub cannot say the message of; anything else is no send.
        return request, RETIRED_MESSAGE_UNKNOWN if "SendMessage" in json.dumps(request) else ""
    status = response.get("status")
    exchange = Exchange(
        id="held",
        sanitized=True,
        request=sent,
        response=HttpResponse(status=status if type(status) is int else 200, body=answer),
    )
    if not answer_agrees(exchange):
        return request, RETIRED_MESSAGE_UNKNOWN
    narrowed = pinned(copy.deepcopy(request), exchange)
    return (narrowed, "") if narrowed != request else (request, RETIRED_MESSAGE_UNKNOWN)


def _answer_bytes(response: dict[str, Any]) -> bytes:
    body = response.get("body")
    if isinstance(body, str):
        return body.encode("utf-8")
    encoded = response.get("base64Body")
    if isinstance(encoded, str):
        try:
            return base64.b64decode(encoded, validate=True)
        except binascii.Error:
            return b""
    return b""


def _already_pinned(request: dict[str, Any]) -> bool:
    """Pinned as today's stubs are: a JSON message's body by its path, or a form held to the
    message fields it sent; or computing its MD5s at serve time (the launcher's matcher)."""
    matcher = request.get("customMatcher")
    if isinstance(matcher, dict) and matcher.get("name") == SEND_MATCHER:
        return True
    for pattern in request.get("bodyPatterns") or ():
        if not isinstance(pattern, dict):
            continue
        path = pattern.get("matchesJsonPath")
        if isinstance(path, dict) and str(path.get("expression", "")).endswith(".MessageBody"):
            return True
        if "doesNotMatch" in pattern and "formParameters" in request:
            return True
    return False


def _held_send(request: dict[str, Any]) -> HttpRequest | None:
    """The send the stub's matchers hold exactly (its message's fields as literals; other
    fields may be anything), or None."""
    if str(request.get("method") or "").upper() != "POST":
        return None
    headers = request.get("headers")
    for name, matcher in headers.items() if isinstance(headers, dict) else ():
        if name.lower() == "x-amz-target" and isinstance(matcher, dict):
            batch = _TARGETS.get(str(matcher.get("equalTo", "")).strip().lower())
            return None if batch is None else _held_json_send(request, name, batch=batch)
    parameters = request.get("formParameters")
    if isinstance(parameters, dict):
        return _held_form_send(parameters)
    return None


def _held_json_send(request: dict[str, Any], target: str, *, batch: bool) -> HttpRequest | None:
    document = None
    for pattern in request.get("bodyPatterns") or ():
        if isinstance(pattern, dict) and "equalToJson" in pattern:
            document = pattern["equalToJson"]
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return None
    if not isinstance(document, dict):
        return None
    entries = document.get("Entries") if batch else [document]
    if not isinstance(entries, list) or not entries:
        return None
    for entry in entries:
        if not _literal_message(entry, batch=batch):
            return None
    headers = ((target, _TARGETS_BY_BATCH[batch]), ("content-type", "application/x-amz-json-1.0"))
    return HttpRequest(method="POST", path="/", headers=headers, body=json.dumps(document).encode())


def _literal_message(entry: Any, *, batch: bool) -> bool:
    """Whether a message's fields the MD5s cover are literals (no placeholder matches them)."""
    if not isinstance(entry, dict) or not isinstance(entry.get("MessageBody"), str):
        return False
    if batch and not isinstance(entry.get("Id"), str):
        return False
    fields = [entry.get(name) for name in (*_MESSAGE_FIELDS, "Id") if name in entry]
    return not any(_holds_placeholder(value) for value in fields)


def _holds_placeholder(node: Any) -> bool:
    if isinstance(node, str):
        return node.startswith(_PLACEHOLDER)
    if isinstance(node, dict):
        return any(_holds_placeholder(value) for value in node.values())
    if isinstance(node, list):
        return any(_holds_placeholder(value) for value in node)
    return False


def _held_form_send(parameters: dict[str, Any]) -> HttpRequest | None:
    action = _exact_values(parameters.get("Action"))
    if action is None or len(action) != 1 or action[0] not in _ACTIONS:
        return None
    batch = _ACTIONS[action[0]]
    fields = [("Action", action[0])]
    for name, matcher in parameters.items():
        if name == "Action":
            continue
        values = _exact_values(matcher)
        if values is not None:
            fields.extend((name, value) for value in values)
        elif message_form_field(name, batch=batch):
            return None  # a message field matched as any value
    body = urllib.parse.urlencode(fields).encode()
    return HttpRequest(method="POST", path="/", headers=(("content-type", _FORM),), body=body)


def _exact_values(matcher: Any) -> list[str] | None:
    """The values a form field's matcher takes, when it takes exactly those; else None."""
    if not isinstance(matcher, dict):
        return None
    if isinstance(matcher.get("equalTo"), str) and len(matcher) == 1:
        return [matcher["equalTo"]]
    exactly = matcher.get("hasExactly")
    if not isinstance(exactly, list) or len(matcher) != 1:
        return None
    out = []
    for one in exactly:
        if isinstance(one, dict) and isinstance(one.get("equalTo"), str) and len(one) == 1:
            out.append(one["equalTo"])
        elif one == {"matches": "^$"}:
            out.append("")
        else:
            return None
    return out


def faithful_response(mapping: dict[str, Any]) -> dict[str, Any]:
    """The stub's ``response`` with its expiries from now and Azure's echoed client id as the
    replayed request's (a copy), or the response itself when neither applies."""
    response = mapping.get("response")
    if not isinstance(response, dict):
        return response
    served = _moments_from_now(mapping, response)
    headers = served.get("headers")
    echoes = {
        name: _ECHO
        for name, value in (headers.items() if isinstance(headers, dict) else ())
        if name.lower() == _AZURE_CLIENT_ID and isinstance(value, str) and value and value != _ECHO
    }
    return serving_echoes(served, echoes)


def _moments_from_now(mapping: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    if TEMPLATE_TRANSFORMER in (response.get("transformers") or ()):
        return response  # its moments were served from now when it was written
    headers = response.get("headers")
    date = None
    for name, value in headers.items() if isinstance(headers, dict) else ():
        if name.lower() == "date" and isinstance(value, str):
            date = value
    metadata = mapping.get("metadata")
    mockado = metadata.get("mockado") if isinstance(metadata, dict) else None
    captured_s = mockado.get("captured_at_s") if isinstance(mockado, dict) else None
    if not isinstance(captured_s, int | float) or isinstance(captured_s, bool):
        captured_s = 0.0
    return served_from_now(response, date=date, captured_at_s=float(captured_s))
