"""The Sanitizer: every part of an exchange, failing closed on anything uncertain."""

from __future__ import annotations

import logging
import operator
import re
from typing import TypeVar

from ext_proc_server.core.config import CollectorConfig, pseudonym_key
from ext_proc_server.core.errors import (
    ConfigError,
    DecodedTooLarge,
    MockadoError,
    SanitizeError,
)
from ext_proc_server.core.exchange import (
    Exchange,
    HttpMessage,
    HttpRequest,
    evolve,
    get_header,
)
from ext_proc_server.core.metrics import (
    COLLECTOR_BODIES_DROPPED,
    COLLECTOR_SANITIZATION,
    COLLECTOR_SANITIZE_BYTES,
    SANITIZE_TYPES,
)
from ext_proc_server.sanitize import (
    base64_json,
    base64_text,
    binary,
    charsets,
    delimited,
    formats,
    forms,
    graphql,
    jcard,
    json_body,
    key_lines,
    log_text,
    media,
)
from ext_proc_server.sanitize.changed_places import changed_places
from ext_proc_server.sanitize.detectors import Scanner
from ext_proc_server.sanitize.echoed_names import replace_echoed
from ext_proc_server.sanitize.field_names import FieldRules, compile_rule
from ext_proc_server.sanitize.images import image_format
from ext_proc_server.sanitize.pseudonym import Replacer
from ext_proc_server.sanitize.request_echoes import echo_in_form, echo_in_request
from ext_proc_server.sanitize.run import Run

log = logging.getLogger(__name__)

M = TypeVar("M", bound=HttpMessage)
# A body cut at the size limit may end inside a secret ("4532 7777 77"): drop the
# unfinished last value, back to the previous structural delimiter (spaces are not one).
_VALUE_END = frozenset("\r\n\"'<>,;&{}[]()=:")
_MAX_PARTIAL_WORD = 256
UNENCODABLE = "charset_unencodable"
# Compressed data inside the body (a gzipped base64 token) past what is read.
DECODED_TOO_LARGE = "decoded_too_large"


class Sanitizer:
    """Built once from config (compiled patterns, key); ``sanitize`` is thread-safe."""

    def __init__(self, config: CollectorConfig) -> None:
        self._enabled = config.sanitize_enabled
        if not self._enabled:
            log.warning(
                "collector.sanitize_enabled is false: captures are stored without sanitizing"
            )
        key = None
        if config.sanitize_mode == "pseudonyms":
            key = pseudonym_key(config)
            if not key:
                raise ConfigError(
                    "collector.pseudonym_key: required when collector.sanitize_mode is "
                    "pseudonyms (or set collector.pseudonym_key_file)"
                )
        own = {p.name: p.replacement for p in config.sanitize_patterns}
        self._replacer = Replacer(key=key, custom=own)
        self._scanner = Scanner(
            custom=[(re.compile(p.regex), p.replacement) for p in config.sanitize_patterns],
            field_rules=FieldRules(
                compile_rule(pattern, cls) for pattern, cls in config.sanitize_fields.items()
            ),
        )
        self._binary_base64 = config.binary_bodies == "base64"
        self._type_counters = {t: COLLECTOR_SANITIZATION.labels(type=t) for t in SANITIZE_TYPES}
        # A dropped body is not a dropped capture: the exchange goes on without it.
        self._dropped_error = COLLECTOR_BODIES_DROPPED.labels(reason="sanitize_error")
        self._dropped_unsanitizable = COLLECTOR_BODIES_DROPPED.labels(reason="unsanitizable")

    # -- public ---------------------------------------------------------------------

    def sanitize(self, exchange: Exchange) -> Exchange:
        """A new exchange with sensitive values replaced and ``sanitized=True``.

        A body that cannot be sanitized with certainty is dropped (``body_dropped``).
        Raises SanitizeError if headers, path or query could not be processed: the
        caller must then drop the whole exchange.
        """
        if not self._enabled:
            return exchange.replace(sanitized=True)
        run = Run(self._scanner, self._replacer)
        try:
            request = self._request(run, exchange.request)
            response = exchange.response
            if response is not None:
                response = self._message(run, response, "response")
            request = echo_in_request(run, request)  # ?q=<a name the answer holds>
        except MockadoError:
            raise
        except Exception as exc:
            raise SanitizeError(
                f"sanitizer failed outside the body ({type(exc).__name__})"
            ) from exc
        finally:
            if run.body_bytes:  # read even when the exchange then failed
                COLLECTOR_SANITIZE_BYTES.inc(run.body_bytes)
        self._count(run)
        return evolve(
            exchange,
            {
                "request": request,
                "response": response,
                "sanitized": True,
                "redactions": exchange.redactions | frozenset(run.locations),
            },
        )

    def sanitize_text(self, text: str) -> str:
        """Free text (log lines, error messages): every detector, no structure."""
        if not self._enabled:
            return text
        run = Run(self._scanner, self._replacer)
        fresh = run.scrub(text)
        self._count(run)
        return fresh

    # -- parts ----------------------------------------------------------------------

    def _count(self, run: Run) -> None:
        """One increment per class per exchange: run.counts sums them as they happen
        (a Prometheus increment costs a lock and ~45 bytecodes)."""
        counters = self._type_counters
        for cls, count in run.counts.items():
            # The user's own classes (sanitize_fields) count as "custom".
            (counters.get(cls) or counters["custom"]).inc(count)

    def _request(self, run: Run, request: HttpRequest) -> HttpRequest:
        where = "request"
        path = formats.sanitize_path(run, request.path, where)
        query = formats.sanitize_query(run, request.query, where)
        authority = formats.sanitize_authority(run, request.authority)
        message = self._message(run, request, where)
        if (path, query, authority) == (request.path, request.query, request.authority):
            return message
        return evolve(message, {"path": path, "query": query, "authority": authority})

    def _message(self, run: Run, message: M, where: str) -> M:
        headers = formats.sanitize_headers(run, message.headers, where)
        trailers = formats.sanitize_headers(run, message.trailers, None)
        changes: dict[str, object] = {}
        if headers is not message.headers:
            changes["headers"] = headers
        if trailers is not message.trailers:
            changes["trailers"] = trailers
        if message.body:
            changes.update(self._body(run, message, where))
        return evolve(message, changes) if changes else message

    def _body(self, run: Run, message: HttpMessage, where: str) -> dict[str, object]:
        content_type, encoding = _content_headers(message.headers)
        encoding = encoding.strip().lower()
        if encoding not in ("", "identity"):
            # Still compressed: the bytes cannot be read, so they cannot be checked.
            return self._drop("content_encoding")
        run.body_bytes += len(message.body)
        body_run = run.child()
        try:
            changes = self._read_body(body_run, message, content_type, where)
        except DecodedTooLarge:
            log.info("dropping a %s body: %s", where, DECODED_TOO_LARGE)
            return self._drop(DECODED_TOO_LARGE)
        except UnicodeEncodeError:
            # The sanitized text holds a character its charset cannot write: a lone
            # surrogate (half a UTF-16 pair, from an escape such as "\\ud83d" or
            # "&#xD800;" in a value that was edited), or a decoded character a
            # one-byte charset lacks. Nothing is known to be wrong with the input.
            log.info("dropping a %s body: %s", where, UNENCODABLE)
            return self._drop(UNENCODABLE)
        except Exception:
            log.exception("sanitizer failed on a %s body; dropping it", where)
            return self._drop("sanitize_error")
        if not changes.get("body_dropped"):
            run.merge(body_run)
        return changes

    def _read_body(
        self, run: Run, message: HttpMessage, header: str, where: str
    ) -> dict[str, object]:
        """Text in its charset, sanitized by format and written back in that charset;
        binary by its kind (``binary``); anything uncertain dropped with its reason.
        ``header``: the message's content-type ("" when it has none)."""
        body = message.body
        media_type = header.split(";", 1)[0].strip().lower()
        kind = media.media_kind(media_type)
        if kind == media.UNKNOWN and (image_format(body) or media.is_container(body)):
            kind = media.BINARY
        if kind != media.TEXT and kind != media.UNKNOWN:
            return self._binary(run, body, media_type, message.body_truncated)
        text, charset, reason = charsets.read_text(
            body, header, media_type, truncated=message.body_truncated
        )
        if text is None or charset is None:
            if kind == media.UNKNOWN and reason == charsets.UNDECLARED:
                return self._binary(run, body, media_type, message.body_truncated)
            if media_type.startswith("multipart/"):
                return self._drop(binary.STRUCTURED)  # a file part that is not text
            return self._drop(reason)
        if not charset.is_utf8:
            run.charset = charset
        fresh = self._body_text(run, text, message, media_type, header, where)
        if fresh is text or fresh == text:
            return {}
        return {"body": charset.encode(fresh)}

    def _binary(self, run: Run, body: bytes, media_type: str, truncated: bool) -> dict[str, object]:
        if not self._binary_base64:
            return self._drop("binary_skipped")
        verdict = binary.judge_binary(run, body, media_type, truncated=truncated)
        if verdict.reason:
            return self._drop(verdict.reason)
        return {} if verdict.body == body else {"body": verdict.body}

    def _drop(self, reason: str) -> dict[str, object]:
        if reason == "sanitize_error":
            self._dropped_error.inc()
        else:
            self._dropped_unsanitizable.inc()
        return {"body": b"", "body_dropped": True, "body_drop_reason": reason}

    # Long because it is the one dispatch over the body's formats, two lines a format.
    def _body_text(
        self,
        run: Run,
        text: str,
        message: HttpMessage,
        content_type: str,
        content_type_header: str,
        where: str,
    ) -> str:
        if message.body_truncated:
            text = _drop_partial_word(text)
        body_where = f"{where}.body"
        fresh: str | None = None
        if content_type == "application/graphql":  # "{ user(...) }" is no JSON
            fresh = graphql.sanitize_graphql(run, text)
            if fresh != text:
                run.locations.add(body_where)
        elif content_type == key_lines.EVENT_STREAM:
            fresh = key_lines.sanitize_event_stream(run, text)
            if fresh != text:
                run.locations.add(body_where)
        elif key_lines.is_key_lines(content_type, text):  # before JSON: TOML opens with "["
            fresh = key_lines.sanitize_key_lines(run, text)
            if fresh is not None and fresh != text:
                run.locations.add(body_where)
        elif content_type.endswith(("/json", "+json")) or (
            not content_type.startswith(("multipart/", "application/x-www-form-urlencoded"))
            and text.lstrip()[:1] in ("{", "[")
        ):
            fresh = json_body.sanitize_json(run, text, body_where)
            if fresh is None and "\n" in text:
                fresh = json_body.sanitize_json_lines(run, text, body_where)
            if fresh is not None and jcard.may_hold(content_type, text):  # RDAP's vcardArray
                carded = jcard.sanitize_jcard(run, fresh)
                if carded is not fresh:
                    run.locations.add(body_where)
                fresh = carded
        elif content_type == "application/x-www-form-urlencoded":
            fresh = forms.sanitize_form(run, text, body_where)
        elif content_type.startswith("multipart/"):
            fresh = formats.sanitize_multipart(run, text, content_type_header, body_where)
        elif content_type in delimited.DELIMITED_TYPES or (
            content_type == "text/plain" and delimited.reads_as_table(text)
        ):
            fresh = delimited.sanitize_delimited(run, text)
            if fresh is not None and fresh != text:
                run.locations.add(body_where)
        if fresh is None and content_type == "text/plain":  # a log: key=value, JSON lines
            fresh = log_text.sanitize_log_text(run, text)
            if fresh is not None and fresh != text:
                run.locations.add(body_where)
        if fresh is None:  # not parseable as declared (or plain text/XML): every detector
            fresh = formats.sanitize_xml(run, text)
            if fresh != text:
                run.locations.add(body_where)
        echoed = replace_echoed(run, fresh)  # "… de Maria Souza não confere"
        if content_type == "application/x-www-form-urlencoded":
            echoed = echo_in_form(run, echoed, body_where)  # busca=Maria+Souza
        if echoed is not fresh:
            run.locations.update(
                changed_places(fresh, echoed, content_type=content_type, where=body_where)
            )
            fresh = echoed
        wrapped = base64_json.rewrap(run, fresh)  # {"data": "eyJjcGYiOi..."}
        wrapped = base64_text.rewrap(run, wrapped)  # a Secret's "cpf": "NTI5Ljk4..."
        if wrapped is not fresh:
            run.locations.update(
                changed_places(fresh, wrapped, content_type=content_type, where=body_where)
            )
        return wrapped


_NAME = operator.itemgetter(0)


def _content_headers(headers: tuple[tuple[str, str], ...]) -> tuple[str, str]:
    """The first content-type and content-encoding values ("" when absent), names
    compared lowered: found in the names joined and lowered at once (C calls, where a
    Python loop over 10-30 headers per body showed)."""
    joined = "\n" + "\n".join(map(_NAME, headers)).lower() + "\n"
    if joined.count("\n") != len(headers) + 1:  # a name holding a line break (or none)
        content_type = get_header(headers, "content-type") or ""
        return content_type, get_header(headers, "content-encoding") or ""
    # The n-th name starts after the n-th line break: count those before a match.
    at = joined.find("\ncontent-type\n")
    content_type = "" if at < 0 else headers[joined.count("\n", 0, at)][1]
    at = joined.find("\ncontent-encoding\n")
    return content_type, "" if at < 0 else headers[joined.count("\n", 0, at)][1]


def _drop_partial_word(text: str) -> str:
    end = len(text)
    floor = max(0, end - _MAX_PARTIAL_WORD)
    while end > floor and text[end - 1] not in _VALUE_END:
        end -= 1
    return text[:end]
