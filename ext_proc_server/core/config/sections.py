"""What every config section shares: strict keys, URL checks, TLS settings, redaction."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlsplit

from pydantic import BaseModel, ConfigDict

from ext_proc_server.core.config.checks import KeyedValueError

KIB = 1024
MIB = 1024 * 1024
REDACTED = "**********"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
# Query parameters that carry a credential (redis-py reads ?password=... from a Redis URL).
_SECRET_QUERY = re.compile(r"(?i)([?&][^=&#]*(?:password|passwd|pwd|secret|token)[^=&#]*=)[^&#]*")


def redact_url(value: str) -> str:
    """``value`` with any user:password@ and credential query parameters masked.

    Everything up to the LAST "@" is masked, so a password holding an unencoded "@"
    or "/" is hidden whole (over-masking a display value is the safe side).
    """
    scheme, sep, rest = value.partition("://")
    if not sep:
        return value
    if "@" in rest:
        rest = f"{REDACTED}@{rest.rpartition('@')[2]}"
    return f"{scheme}{sep}{_SECRET_QUERY.sub(lambda m: m.group(1) + REDACTED, rest)}"


class ConfigSection(BaseModel):
    # Unknown keys are errors, so a typo never silently falls back to a default.
    model_config = ConfigDict(extra="forbid", frozen=True)

    def __repr_args__(self) -> Any:
        # repr()/str() of any section never show a password held in a URL.
        for name, value in super().__repr_args__():
            yield name, redact_url(value) if isinstance(value, str) else value


def _url_parts(value: str, *, schemes: tuple[str, ...], expected: str) -> Any:
    # Errors never quote the value: a URL can hold a password.
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises on a port that is not a number in range
    except ValueError:
        raise ValueError(f"invalid URL (expected {expected})") from None
    if parts.scheme not in schemes:
        raise ValueError(f"invalid URL (expected {expected})")
    return parts


def check_redis_url(value: str) -> str:
    expected = "redis://, rediss:// or unix://"
    parts = _url_parts(value, schemes=("redis", "rediss", "unix"), expected=expected)
    # A host is required: redis-py would quietly use localhost (and a password holding an
    # unencoded "/" or "@" splits the URL so that no host is left).
    if not (parts.path if parts.scheme == "unix" else parts.hostname):
        raise ValueError(f"invalid URL (expected {expected})")
    return value


def check_http_url(value: str) -> str:
    expected = "http:// or https://"
    parts = _url_parts(value, schemes=("http", "https"), expected=expected)
    if not parts.hostname:
        raise ValueError(f"invalid URL (expected {expected})")
    return value.rstrip("/")


def check_tls_scheme(url: str, tls: TLSClient, *, key: str, scheme: str) -> None:
    # Fail closed: TLS switched on with a plaintext URL would otherwise connect in the clear.
    if tls.enabled and urlsplit(url).scheme != scheme:
        raise ValueError(f"{key}.enabled needs a {scheme}:// URL")


class TLSClient(ConfigSection):
    enabled: bool = False
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    verify: bool = True


class TLSServer(ConfigSection):
    enabled: bool = False
    cert_file: str | None = None
    key_file: str | None = None
    # When set, clients must present a certificate signed by this CA (mTLS).
    client_ca_file: str | None = None


# A Redis ACL user name as mockado writes them (no spaces, nothing a URL would re-read).
_REDIS_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def check_redis_username(value: str | None) -> str | None:
    """A Redis ACL user name (``redis_username``): letters, digits, ``.``, ``_``, ``-``."""
    if value is not None and not _REDIS_USERNAME.fullmatch(value):
        raise ValueError("not a Redis user name (letters, digits, '.', '_', '-'; at most 64)")
    return value


def _secret_text(raw: Any) -> str:
    return raw.get_secret_value() if hasattr(raw, "get_secret_value") else str(raw)


def merge_redis_password(data: Any) -> Any:
    """Put ``redis_username`` and ``redis_password`` (from a Secret) into ``redis_url``, so
    every client built from the URL authenticates as that ACL user (``default`` without a
    name); credentials already in the URL win. The fields stay, for ``config show`` to
    report them (the password redacted)."""
    if not isinstance(data, dict):
        return data
    user = data.get("redis_username")
    if not data.get("redis_password"):
        if user and "@" not in str(data.get("redis_url", "")):
            # A user without a password could not authenticate: say so at load.
            raise KeyedValueError("redis_username", "set redis_password too (from a Secret)")
        return data
    password = _secret_text(data["redis_password"])
    if user is not None and not (isinstance(user, str) and _REDIS_USERNAME.fullmatch(user)):
        return data  # the field's own check names the key
    url = str(data.get("redis_url", DEFAULT_REDIS_URL))
    scheme, sep, rest = url.partition("://")
    if not sep or scheme == "unix" or "@" in rest.split("/", 1)[0]:
        return data
    userinfo = f"{quote(user or '', safe='')}:{quote(password, safe='')}"
    return {**data, "redis_url": f"{scheme}://{userinfo}@{rest}"}
