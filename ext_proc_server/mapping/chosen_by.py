"""Request headers that choose an answer whatever its ``Vary`` says: a stub of a request
that sent them answers only requests that send them too.

* ``Authorization``, present (any value). Credentials are sanitized, so a stub cannot tell
  one token from another, and a canary sends its own. But a request without any is
  another request: the upstream answers it 401 (or a login redirect), and a stub that
  served it the recorded 200 would hide a client that lost its token, the regression a
  canary is there to catch.
* ``Prefer`` (RFC 7240), as sent. A client sends it to choose the answer:
  ``return=representation`` or ``return=minimal`` (PostgREST, OData: the created row, or
  nothing), ``count=exact`` (a total in ``Content-Range``), ``odata.maxpagesize``. Servers
  seldom name it in ``Vary``, and a client that asked for the row got the empty answer.
* The operation, as sent: ``X-Amz-Target`` (AWS JSON APIs take every call as ``POST /``
  and name the operation there: DynamoDB's ``DescribeTable`` and ``DeleteTable`` send the
  same body), ``SOAPAction`` (SOAP 1.1), and the method a ``POST`` stands for
  (``X-HTTP-Method-Override``, ``X-HTTP-Method``, ``X-Method-Override``: Google APIs,
  Express's method-override, OData). Another operation is another answer. So is another
  source of S3's copies (``x-amz-copy-source``, ``-range``): ``CopyObject`` and
  ``UploadPartCopy`` are a ``PUT`` of the destination without a body, and their answer
  gives the ETag and checksum of the source copied. Azure Storage names operations in
  headers too: ``x-ms-lease-action`` (acquire, renew, change, release and break a lease
  are each a bodiless ``PUT ?comp=lease``; the SDK refuses a release answered with the
  acquire's 201), ``x-ms-copy-source`` (as S3's), ``x-ms-blob-type`` (a block, page or
  append blob is created by the same ``PUT``) and ``x-ms-page-write`` (update or clear).
* The part of a blob asked for, as sent: ``x-ms-range`` (Azure Storage's ``Range``, which
  every download sends, the whole blob's too) and ``x-ms-range-get-content-md5`` and
  ``-crc64`` (the digest of that part in the answer). A ranged read answered with another
  range's part, or the whole blob, would be wrong.
* ``x-amz-decoded-content-length``, as sent: an S3 upload sent ``aws-chunked`` (the
  payload framed in chunks, signed or with its checksum in a trailer) names its payload's
  length there. Its stub matches the payload inside that framing (mapping.framed_bodies),
  which a plain upload of the same bytes does not send: each is its own stub. So are the
  checksum asked for (``x-amz-sdk-checksum-algorithm``) and the trailer that carries it
  (``x-amz-trailer``), as sent: S3 answers an upload with the checksum of the algorithm
  asked (``x-amz-checksum-crc32`` or ``-crc64nvme``), and an SDK that moved to another
  algorithm would otherwise get the recorded one's header, and no value for its own.
* ``X-Requested-With``, as sent: Rails' ``request.xhr?`` and Laravel's ``ajax()`` answer
  a script's call with JSON (a 422 naming the invalid fields) and a browser's form with a
  redirect, on the same method, path and body.
* The account and the API version a call is made for, as sent: ``Stripe-Account`` (a
  Connect platform calls ``GET /v1/balance`` for each connected account alike),
  ``Stripe-Version``, ``X-GitHub-Api-Version``, ``x-ms-version`` (Azure Storage),
  ``Notion-Version``: another account's data, another version's shape.

Each is added unless the response already chose by it (``Vary``, a 401's absent
``Authorization``: ``Exchange.varied``), and joins the request's key as a ``Vary``'d header
does: a request without it records its own stub, which answers everyone (as before), and
one with it prefers its own (more constraints, a lower priority number).
"""

from __future__ import annotations

from typing import Any

from ext_proc_server.core.exchange import HttpRequest, Pairs

# A Cookie may carry anything (consent, analytics), and a key in another header is named by
# each API as it likes: only Authorization says a request is authenticated.
CREDENTIAL_HEADER = "authorization"
PREFER_HEADER = "prefer"
# Sent with an aws-chunked body (S3), and only then: the length of the payload it frames.
DECODED_LENGTH_HEADER = "x-amz-decoded-content-length"
# The AWS SDKs' flexible checksums: the algorithm, and the trailer an aws-chunked body ends in.
CHECKSUM_ALGORITHM_HEADER = "x-amz-sdk-checksum-algorithm"
CHECKSUM_TRAILER_HEADER = "x-amz-trailer"
# Headers that name the operation a request asks for, beside its method and path.
OPERATION_HEADERS = frozenset(
    {
        "x-amz-target",
        "soapaction",
        "x-http-method-override",
        "x-http-method",
        "x-method-override",
        "x-requested-with",
        "x-amz-copy-source",
        "x-amz-copy-source-range",
        "x-ms-lease-action",
        "x-ms-copy-source",
        "x-ms-blob-type",
        "x-ms-page-write",
        # Not operations, but they choose the answer as an operation does (the part read).
        "x-ms-range",
        "x-ms-range-get-content-md5",
        "x-ms-range-get-content-crc64",
        # How the body is framed: aws-chunked, the payload this long.
        DECODED_LENGTH_HEADER,
        # The checksum asked for: S3 answers the upload with that algorithm's
        # x-amz-checksum-* header, and the launcher's aws-chunked matcher reads no trailer.
        CHECKSUM_ALGORITHM_HEADER,
        CHECKSUM_TRAILER_HEADER,
    }
)
# Headers that name the account or the API version a call is made for.
SCOPE_HEADERS = frozenset(
    {"stripe-account", "stripe-version", "x-github-api-version", "x-ms-version", "notion-version"}
)
_CHOOSING = OPERATION_HEADERS | SCOPE_HEADERS | {CREDENTIAL_HEADER, PREFER_HEADER}


def request_choices(headers: Pairs) -> tuple[bool, tuple[str, ...]]:
    """-> (whether ``headers`` hold ``Authorization``, their ``Prefer`` values in order):
    what :func:`with_choices` adds, and what the repeat key holds of them."""
    credentials = False
    prefer: list[str] = []
    for name, value in headers:
        lower = name.lower()
        if lower == CREDENTIAL_HEADER:
            credentials = True
        elif lower == PREFER_HEADER:
            prefer.append(value)
    return credentials, tuple(prefer)


def with_choices(varied: tuple[tuple[str, Any], ...], request: HttpRequest, hole: Any):
    """``varied`` (the normalized headers that chose the response, sorted by name) with
    the request's ``Authorization`` as ``(hole,)`` (any value, but sent), its ``Prefer``,
    operation and scope headers with their values as sent, each when the request sent it and
    ``varied`` does not hold it."""
    sent: dict[str, list[str]] = {}
    for name, value in request.headers:
        lower = name.lower()
        if lower in _CHOOSING:
            sent.setdefault(lower, []).append(value)
    if not sent:
        return varied
    held = {name for name, _ in varied}
    added = list(varied)
    for name, values in sent.items():
        if name not in held:
            added.append((name, (hole,) if name == CREDENTIAL_HEADER else tuple(values)))
    if len(added) == len(varied):
        return varied
    return tuple(sorted(added, key=lambda item: item[0]))
