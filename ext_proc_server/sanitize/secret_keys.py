"""Secrets by field name: ``password``, ``api_key``, ``client_secret``, ``X-Api-Key``..."""

from __future__ import annotations

import functools
import re
from collections.abc import Container


class Verdict(str):
    """A class read from a field's name: the value is checked before it is replaced
    (a phone-named field holding "N/A" is left to the shape detectors; a secret's
    name holding a dependency's version constraint, ``"passport-jwt": "4.0.1"``, to
    them too). The user's field rules give plain class names, replaced whatever the
    value."""

    __slots__ = ()


PASSWORD = Verdict("password")
API_KEY = Verdict("api_key")
# The same classes for a name with a word no secret's name is made of: a dependency
# ("passport-jwt", "password-validator", "jsonwebtoken"), whose version constraint is no
# secret. A name of secret words alone ("password", "api_key", "user_password") is
# replaced whatever it holds (equal to the classes above, told apart by identity).
PACKAGE_PASSWORD = Verdict("password")
PACKAGE_API_KEY = Verdict("api_key")

# A name ending in "sid" ("sid", "account_sid", "AccountSid", "MessageSid") holding a
# Twilio resource's SID, kept (is_resource_sid): API_KEY's class, told apart by
# identity, for a name with no other secret's word ("auth_sid" stays a secret's).
RESOURCE_SID = Verdict("api_key")
PACKAGE_RESOURCE_SID = Verdict("api_key")  # "MessageSid": a dependency's name, too

# -- field names -----------------------------------------------------------------

_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_PASSWORD_WORDS = frozenset(
    {"password", "passwords", "passwd", "pwd", "pass", "senha", "senhas", "passphrase",
     "passcode", "cvv", "cvc", "cvv2", "cvc2"}
)  # fmt: skip
_PASSWORD_PARTS = ("password", "passwd", "senha", "passphrase")
# A card or account PIN; but "pincode"/"pin_code" is India's postal code.
_PIN_WORDS = frozenset({"pin", "pins"})
_SECRET_WORDS = frozenset(
    {"secret", "secrets", "token", "tokens", "apikey", "apikeys", "credential", "credentials",
     "auth", "authorization", "bearer", "signature", "sig", "session", "sessionid",
     "jsessionid", "phpsessid", "sessid", "sid", "otp", "jwt", "cookie", "cookies", "hmac"}
)  # fmt: skip
# "key" alone is usually harmless (cacheKey, sortKey): only these qualifiers make it secret.
_KEY_QUALIFIERS = frozenset(
    {"api", "access", "private", "secret", "client", "signing", "encryption", "auth",
     "license", "master", "subscription", "session", "app", "consumer", "account",
     "service", "shared", "hmac", "x"}
)  # fmt: skip
_SECRET_SUFFIXES = (
    "token", "tokens", "secret", "apikey", "accesskey", "privatekey", "secretkey",
    "sessionid", "sessid",
)  # fmt: skip
# The words a secret's own field name is made of ("new_password", "x_api_key",
# "db_pass"): with no other word, the field holds the secret whatever it looks like.
_SECRET_NAME_WORDS = (
    _PASSWORD_WORDS | _PIN_WORDS | _SECRET_WORDS | _KEY_QUALIFIERS
    | {"key", "keys", "user", "new", "old", "current", "confirm", "confirmation", "db",
       "database", "admin", "root", "login", "default", "my", "id", "access", "refresh"}
)  # fmt: skip
# A trailing word that makes the field describe a secret rather than hold it.
_META_SUFFIXES = frozenset(
    {"type", "types", "at", "in", "on", "date", "time", "expires", "expiry", "expiration",
     "exp", "ttl", "length", "len", "size", "count", "url", "uri", "endpoint", "path", "hint",
     "policy", "policies", "rule", "rules", "strength", "required", "enabled", "changed",
     "updated", "created", "reset", "method", "methods", "mode", "scheme", "provider",
     "status", "name", "format", "version", "algorithm", "alg", "kind", "label", "valid",
     "validity", "lifetime", "duration", "age", "set", "mask"}
)  # fmt: skip
# Pagination cursors are opaque but must survive for mocks to page correctly.
_PAGINATION_WORDS = frozenset(
    {"page", "next", "prev", "previous", "continuation", "cursor", "sync"}
)
_PAGINATION_PARTS = ("pagetoken", "nexttoken", "cursor", "continuation", "synctoken")


# A run of two or more digits is its own word and no rule names one (only "1" and "2"
# are read: name_1, name_2), so keys that differ only there classify alike: a form
# numbering its fields per row (item_123456=) is classified once, not per field.
_LONG_DIGITS = re.compile(r"[0-9]{2,}")


def digits_folded(name: str) -> str:
    """``name`` with every run of two or more digits written "00"."""
    return _LONG_DIGITS.sub("00", name)


@functools.lru_cache(maxsize=8192)
def classify_key(name: str) -> Verdict | None:
    """PASSWORD / API_KEY when a field of this name holds a secret, else None."""
    folded = digits_folded(name)
    if folded != name:
        return classify_key(folded)
    words = [w.lower() for w in _WORD.findall(name)]
    if not words:
        return None
    compact = "".join(words)
    if _PAGINATION_WORDS.intersection(words) or any(p in compact for p in _PAGINATION_PARTS):
        return None
    if len(words) > 1 and words[-1] in _META_SUFFIXES:
        return None
    verdict = _secret_class(words, compact)
    package = verdict is not None and not _SECRET_NAME_WORDS.issuperset(
        word for word in words if not word.isdigit()
    )
    if verdict is API_KEY and words[-1] == _SID and _NOT_SID_WORDS.isdisjoint(words[:-1]):
        return PACKAGE_RESOURCE_SID if package else RESOURCE_SID
    if package:
        return PACKAGE_PASSWORD if verdict is PASSWORD else PACKAGE_API_KEY
    return verdict


# "sid" alone names two things. Beside "iss", the issuer, in one JSON object or one query
# string or form, it is OpenID Connect's session id (Front-Channel Logout 1.0 section 3,
# Back-Channel Logout 1.0 section 2.4): an id the OP issues, opaque to the RP, sent
# through the browser in the RP's logout URL (?iss=...&sid=...) and in the ID token's and
# the logout token's claims, and no credential alone (a back-channel logout needs the
# signed logout token). Kept, so a logout and the claims naming the session still match.
# Anywhere else it is a login session's credential: Pi-hole's API ({"session": {"sid":
# ...}}, ?sid=...), Synology DSM's ({"data": {"sid": ...}}). A secret, as "_sid" is.
_OPEN_ID_SESSION = "sid"
_OPEN_ID_ISSUER = "iss"
# A JSON member's verdict for that session id: no class, its value read alone by the
# shape detectors (the key=value detector, reading the document's text, took "sid" for
# a secret's name).
OPEN_ID_SESSION = Verdict("open_id_session")


def is_open_id_session(name: str, verdict: str | None, siblings: Container[str]) -> bool:
    """Whether a field is OpenID Connect's session id, kept: named ``sid``, a secret by
    that name alone (no user's rule gave its class), beside ``iss`` in ``siblings`` (the
    names of its JSON object, or of its query string or form)."""
    return (
        (verdict is API_KEY or verdict is RESOURCE_SID)
        and name == _OPEN_ID_SESSION
        and _OPEN_ID_ISSUER in siblings
    )


def open_id_kept(keys: tuple[str, ...], verdicts: tuple[str | None, ...]) -> tuple[str | None, ...]:
    """A JSON object's members' ``verdicts`` (in the order of ``keys``), with
    :data:`OPEN_ID_SESSION` for OpenID Connect's session id beside its issuer
    (:func:`is_open_id_session`)."""
    if _OPEN_ID_ISSUER not in keys:
        return verdicts
    return tuple(
        OPEN_ID_SESSION if is_open_id_session(key, cls, keys) else cls
        for key, cls in zip(keys, verdicts, strict=True)
    )


def _secret_class(words: list[str], compact: str) -> Verdict | None:
    if _PASSWORD_WORDS.intersection(words) or any(p in compact for p in _PASSWORD_PARTS):
        return PASSWORD
    if _PIN_WORDS.intersection(words) and "pincode" not in compact:
        return PASSWORD
    if _SECRET_WORDS.intersection(words) or compact.endswith(_SECRET_SUFFIXES):
        return API_KEY
    for i, word in enumerate(words):
        if word in ("key", "keys") and i > 0 and words[i - 1] in _KEY_QUALIFIERS:
            return API_KEY
    return None


def is_no_secret_by_shape(verdict: str | None, value: str) -> bool:
    """Whether a secret-named field's value is no secret by its shape: a dependency's
    version constraint, ``"passport-jwt": "4.0.1"``, not ``"password": "1.2.3"`` (a name
    that may be a dependency's, and :func:`is_version_spec`); or a Twilio resource's SID
    under a name ending in "sid" (:func:`is_resource_sid`)."""
    if verdict is RESOURCE_SID or verdict is PACKAGE_RESOURCE_SID:
        if is_resource_sid(value):
            return True
        return verdict is PACKAGE_RESOURCE_SID and is_version_spec(value)
    return (verdict is PACKAGE_PASSWORD or verdict is PACKAGE_API_KEY) and is_version_spec(value)


# "sid" alone is also Twilio's String Identifier: every resource's id, two letters naming
# its kind and 32 lowercase hex digits (account_sid "AC…", a message's sid "SM…", a
# number's "PN…"), and no secret (the account's Auth Token is). Twilio's answers name
# them under "sid", "account_sid", "messaging_service_sid", its webhooks under
# "AccountSid", "MessageSid", "CallSid"; the same SIDs stand in the URIs beside them.
# Kept only in that shape with a prefix Twilio documents (its OpenAPI descriptions'
# patterns, "^AC[0-9a-fA-F]{32}$", and its glossary of SIDs: SM, MM…); a "sid" of any
# other shape is a session's (Pi-hole's, Synology's), replaced.
_SID = "sid"
# Words that make a "…sid" name a secret's whatever it holds ("auth_sid", "X-FTL-SID");
# not the names of Twilio's resources ("credential_sid": a Credential's, "session_sid":
# a Proxy Session's).
_NOT_SID_WORDS = (_SECRET_WORDS | _PASSWORD_WORDS | _PIN_WORDS | {"x"}) - {
    "credential", "credentials", "session"
}  # fmt: skip
_TWILIO_PREFIXES = frozenset(
    {"AC", "AD", "AE", "AI", "AL", "AP", "BH", "BL", "BN", "BS", "BU", "BV", "BY", "CA", "CF",
     "CH", "CJ", "CL", "CN", "CP", "CR", "CW", "CY", "DC", "DE", "DF", "DG", "DL", "DN", "DY",
     "EC", "EL", "ES", "ET", "EV", "EY", "FC", "FJ", "FM", "FN", "FO", "FT", "FW", "FX", "FY",
     "GA", "GE", "GM", "GN", "GO", "GP", "GT", "GX", "HA", "HB", "HC", "HF", "HG", "HH", "HJ",
     "HK", "HP", "HQ", "HR", "HS", "HW", "HX", "IB", "IG", "IL", "IM", "IN", "IP", "IS", "IT",
     "JS", "KA", "KC", "KD", "KG", "KI", "KP", "KS", "KV", "KW", "KX", "KY", "KZ", "LY", "MB",
     "ME", "MG", "MM", "MP", "MT", "MZ", "NE", "NO", "NT", "NY", "OB", "OU", "OY", "PA", "PK",
     "PN", "PX", "QE", "QQ", "QU", "RA", "RD", "RE", "RI", "RK", "RL", "RM", "RN", "RQ", "RT",
     "SC", "SD", "SK", "SM", "SR", "TC", "TH", "TK", "TO", "TR", "TZ", "UA", "UB", "UC", "UD",
     "UE", "UF", "UG", "UH", "UK", "UM", "UO", "US", "UT", "UV", "VA", "VE", "VJ", "VL", "VT",
     "WA", "WC", "WH", "WK", "WP", "WQ", "WR", "WS", "WT", "WW", "XB", "XE", "XF", "XH", "XR",
     "YC", "YE", "YF", "YK", "YW", "ZB", "ZD", "ZE", "ZH", "ZK", "ZN", "ZS", "ZV", "ZX", "ZY"}
)  # fmt: skip
_HEX_32 = re.compile(r"[0-9a-f]{32}")
_TWILIO_SID_CHARS = 34


def is_resource_sid(value: str) -> bool:
    """Whether a value is a Twilio resource's SID: a documented prefix, then 32
    lowercase hex digits, nothing else."""
    return (
        len(value) == _TWILIO_SID_CHARS
        and value[:2] in _TWILIO_PREFIXES
        and _HEX_32.fullmatch(value, 2) is not None
    )


# A package manifest's version constraint (npm, composer, PEP 440: "4.0.1", "^3.1.2",
# ">=4.1.3 <5", "^5.0 || ^4.3", "2.1.*", "==2.8.0"): the dependency map of a
# package.json names packages ("passport-jwt", "express-session", "firebase/php-jwt")
# whose names read like secrets. A dot is required and three parts at most, so a PIN, a
# card code, an IPv4 address or digits grouped by dots are no version.
_CONSTRAINT = r"(?:[~^]|[<>]=?|={1,3}|~=|!=)?[ \t]*v?\d{1,4}(?:\.(?:\d{1,8}|[xX*])){0,2}"
_VERSION_SPEC = re.compile(
    rf"{_CONSTRAINT}(?:-[0-9A-Za-z.]+)?(?:\+[0-9A-Za-z.]+)?"
    rf"(?:[ \t]*(?:\|\|?|,|[ \t]-[ \t]|[ \t])[ \t]*{_CONSTRAINT}(?:-[0-9A-Za-z.]+)?)*"
)


def is_version_spec(value: str) -> bool:
    """Whether a value is a dependency's version constraint, never a secret."""
    return len(value) <= 64 and "." in value and _VERSION_SPEC.fullmatch(value) is not None


_CHALLENGE_HEADERS = frozenset({"www-authenticate", "proxy-authenticate"})


@functools.lru_cache(maxsize=1024)
def header_class(lower_name: str) -> str | None:
    """Header rule of the spec: a name containing key, token, secret or auth is secret."""
    if lower_name in ("cookie", "set-cookie"):
        return "cookie"
    if lower_name in _CHALLENGE_HEADERS:
        return None  # a server's challenge, read by its parts (sanitize.challenges)
    if any(part in lower_name for part in ("key", "token", "secret", "auth")):
        return "api_key"
    return classify_key(lower_name)
