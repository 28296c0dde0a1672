"""Java regex literals, for WireMock's ``matches`` and URL patterns."""

from __future__ import annotations


def java_regex_escape(text: str) -> str:
    """Escape for java.util.regex: a backslash before any ASCII punctuation is
    always literal there; control characters become \\xhh."""
    return text.translate(_JAVA_REGEX_ESCAPES)


# java_regex_escape's table (str.translate: one C pass, not a call per character): every
# ASCII character but a letter or a digit; anything else is kept as it is.
_JAVA_REGEX_ESCAPES = {
    code: f"\\x{code:02x}" if code < 0x20 or code == 0x7F else "\\" + chr(code)
    for code in range(128)
    if not chr(code).isalnum()
}
