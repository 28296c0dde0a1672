"""The one exception hierarchy of mockado.

Library errors (redis, httpx, grpc, yaml, json) are translated at the module
boundary with ``raise MockadoError(...) from exc``. Messages never carry raw
request or response data: they name a key, a part or a count, never a value.
"""

from __future__ import annotations


class MockadoError(Exception):
    """Base of every error mockado raises on purpose."""


class ConfigError(MockadoError):
    """A configuration key is missing, mistyped or out of range. The message names the key."""


class CaptureError(MockadoError):
    """An ext_proc stream could not be assembled into an exchange."""


class SanitizeError(MockadoError):
    """The sanitizer could not guarantee a body is clean; the caller drops it."""


class DecodedTooLarge(SanitizeError):
    """Compressed data inside a body inflates past what the sanitizer reads: it cannot
    be checked, so the caller drops the body (``decoded_too_large``)."""


class QueueError(MockadoError):
    """Redis refused or could not be reached."""


class WireMockError(MockadoError):
    """WireMock's admin API refused a request or could not be reached."""

    def __init__(
        self, message: str, *, status_code: int | None = None, item_index: int | None = None
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        # For a rejected import: the position of the mapping WireMock blamed, when it said.
        self.item_index = item_index

    @property
    def is_terminal(self) -> bool:
        """A 4xx (other than 408/429) means the mapping itself is bad: retrying won't help."""
        code = self.status_code
        return code is not None and 400 <= code < 500 and code not in (408, 429)


class BackupError(MockadoError):
    """A backup could not be written or read. The message names the path, never content."""


class RenderError(MockadoError):
    """A template could not be rendered or a rendered file failed validation."""


class StackError(MockadoError):
    """A part of the local stack failed to start or died. The message names the part and its log."""
