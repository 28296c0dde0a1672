"""Value checks shared by the config sections; each raises ValueError, which pydantic
reports under the key that holds the value (``control_plane.namespaces.shop.include_paths.0``).

Patterns are checked for both engines that will run them: Python's ``re`` (the collector)
and RE2 (Envoy's ``safe_regex``, rendered by the control plane), so anything the config
accepts, every process accepts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

import re2

REGEX_PREFIX = "re:"
# RFC 1123 label: Kubernetes namespace and Service names.
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
# RFC 1123 subdomain: the optional prefix of a label key.
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
# A label name, and a label value (which may also be empty).
_LABEL_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?")
# Host patterns: DNS characters plus fnmatch's * ? [ ] !, or an IPv6 literal (two or more
# colons); no scheme, path or port.
_HOST_PATTERN = re.compile(
    r"[A-Za-z0-9*?\[\]!.\-_]+|[0-9A-Fa-f:.*?]*:[0-9A-Fa-f:.*?]*:[0-9A-Fa-f:.*?]*"
)


class KeyedValueError(ValueError):
    """A problem with one item of a list or mapping: ``subkey`` extends the reported key."""

    def __init__(self, subkey: str | int, message: str) -> None:
        super().__init__(message)
        self.subkey = str(subkey)


def check_each(values: Sequence[str], check: Callable[[str], str]) -> list[str]:
    """``check`` on every item; an error names the item's index."""
    for index, value in enumerate(values):
        try:
            check(value)
        except ValueError as exc:
            raise KeyedValueError(index, str(exc)) from None
    return list(values)


def check_regex(body: str) -> str:
    """``body`` compiles in Python's re and in RE2 (Envoy)."""
    try:
        re.compile(body)
    except re.error as exc:
        raise ValueError(f"invalid regex ({exc.msg})") from None
    options = re2.Options()
    options.log_errors = False  # the error is ours to report, not RE2's to print
    try:
        re2.compile(body, options)
    except re2.error:
        raise ValueError(
            "regex not supported by RE2, which Envoy uses (no lookarounds or backreferences)"
        ) from None
    return body


def check_path_filters(patterns: Sequence[str]) -> list[str]:
    """Each filter is a path prefix starting with "/", or ``re:REGEX`` over the whole path."""
    for index, pattern in enumerate(patterns):
        try:
            if pattern.startswith(REGEX_PREFIX):
                check_regex(pattern[len(REGEX_PREFIX) :])
            elif not pattern.startswith("/"):
                raise ValueError("a prefix must start with '/' (or use 're:' for a regex)")
        except ValueError as exc:
            raise KeyedValueError(index, str(exc)) from None
    return list(patterns)


def check_host_patterns(patterns: Sequence[str], *, allow_regex: bool = False) -> list[str]:
    """Each filter is a host glob (``*.shop.svc.cluster.local``), or ``re:REGEX`` where
    ``allow_regex`` (the filters rendered into Envoy)."""
    for index, pattern in enumerate(patterns):
        if allow_regex and pattern.startswith(REGEX_PREFIX):
            try:
                check_regex(pattern[len(REGEX_PREFIX) :])
            except ValueError as exc:
                raise KeyedValueError(index, str(exc)) from None
        elif not _HOST_PATTERN.fullmatch(pattern):
            raise KeyedValueError(
                index, "not a host pattern (a host name with * or ?, without scheme, port or path)"
            )
    return list(patterns)


def check_dns_label(name: str) -> str:
    """A Kubernetes namespace or Service name."""
    if not _DNS_LABEL.fullmatch(name):
        raise ValueError(
            f"{name!r} is not a valid Kubernetes name (lower-case letters, digits and '-', "
            "at most 63, starting and ending with a letter or digit)"
        )
    return name


def check_optional_dns_label(name: str | None) -> str | None:
    """A namespace that may be left unset (None: its default is another key's)."""
    return None if name is None else check_dns_label(name)


_LABEL_CHARACTERS = (
    "at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit"
)


def check_qualified_name(key: str) -> str:
    """A label or annotation key: ``[prefix/]name``, the prefix a DNS subdomain."""
    prefix, slash, name = key.rpartition("/")
    if slash and (len(prefix) > 253 or not _DNS_SUBDOMAIN.fullmatch(prefix)):
        raise ValueError("the key's prefix (before '/') must be a non-empty DNS subdomain")
    if not _LABEL_NAME.fullmatch(name):
        raise ValueError(f"a label name is {_LABEL_CHARACTERS}")
    return key


def check_label_value(value: str) -> str:
    """A label value (which may be empty)."""
    if value and not _LABEL_NAME.fullmatch(value):
        raise ValueError(f"a label value is {_LABEL_CHARACTERS}")
    return value


def check_labels(labels: Mapping[str, str]) -> dict[str, str]:
    """Kubernetes label keys (``[prefix/]name``) and values."""
    for key, value in labels.items():
        try:
            check_qualified_name(key)
            check_label_value(value)
        except ValueError as exc:
            raise KeyedValueError(key, str(exc)) from None
    return dict(labels)


def check_dns_subdomain(name: str) -> str:
    """A Kubernetes object name such as a Secret's."""
    if len(name) > 253 or not _DNS_SUBDOMAIN.fullmatch(name):
        raise ValueError(
            f"{name!r} is not a valid Kubernetes name (lower-case letters, digits, '-' and '.')"
        )
    return name


# [registry[:port]/]path[:tag][@digest], as the kubelet reads an image reference.
_IMAGE = re.compile(
    r"([a-zA-Z0-9.-]+(:[0-9]+)?/)?[a-z0-9]+([._/-][a-z0-9]+)*(:[\w][\w.-]{0,127})?"
    r"(@sha256:[0-9a-f]{64})?"
)


def check_image(image: str) -> str:
    """A container image reference (no spaces, no scheme)."""
    if not _IMAGE.fullmatch(image):
        raise ValueError(f"{image!r} is not an image reference (e.g. registry/name:tag)")
    return image
