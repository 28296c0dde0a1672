"""The ``serving`` section: how the WireMock shards run."""

from __future__ import annotations

from pydantic import Field, field_validator

from ext_proc_server.core.config.checks import (
    KeyedValueError,
    check_dns_label,
    check_host_patterns,
)
from ext_proc_server.core.config.sections import ConfigSection, check_http_url

DEFAULT_SHARD = "default"
# A group names the Kubernetes Service "mockado-wiremock-<group>" (at most 63 characters).
MAX_SHARD_GROUP_NAME = 46


class ServingConfig(ConfigSection):
    # WireMock serving flags: a bounded journal and no per-request logging.
    max_request_journal_entries: int = Field(default=0, ge=0)
    heap_mb: int | None = Field(default=None, ge=64)
    # Group destination hosts into shards by fnmatch pattern; unlisted hosts share "default".
    shard_groups: dict[str, list[str]] = Field(default_factory=dict)
    # Where each shard's catch-all reports a miss (the loader's /unmatched). Default: the
    # loader's own http_port on 127.0.0.1; in Kubernetes, the loader Service.
    unmatched_webhook_url: str | None = None
    # Where a pass-through miss (canary on_miss: passthrough) is proxied. Default: the
    # real host itself (http://<host>), through WireMock's capturing sidecar; `mockado up`
    # sets its capturing proxy. Host is kept either way.
    passthrough_url: str | None = None
    # WireMock of the rendered Kubernetes manifests (deploy/wiremock.yaml): image, and the
    # standalone jar inside it, run with `java -jar`.
    wiremock_image: str = "wiremock/wiremock:3.13.2"
    wiremock_jar_path: str = "/var/wiremock/lib/wiremock-standalone.jar"
    # Run each rendered shard with mockado's launcher (stubs indexed by exact URL or path):
    # the jar is copied from wiremock_image, and the launcher runs from source on a JDK
    # image (a JRE cannot compile it). False: stock WireMock, `java -jar` in wiremock_image.
    indexed_stubs: bool = True
    jdk_image: str = "eclipse-temurin:17-jdk"

    _passthrough = field_validator("passthrough_url")(
        classmethod(lambda cls, v: v if v is None else check_http_url(v))
    )

    @field_validator("shard_groups")
    @classmethod
    def _groups(cls, groups: dict[str, list[str]]) -> dict[str, list[str]]:
        owner: dict[str, str] = {}
        for group, patterns in groups.items():
            try:
                _check_group(group, patterns, owner)
            except KeyedValueError as exc:
                raise KeyedValueError(f"{group}.{exc.subkey}", str(exc)) from None
            except ValueError as exc:
                raise KeyedValueError(group, str(exc)) from None
        return groups


def _check_group(group: str, patterns: list[str], owner: dict[str, str]) -> None:
    if group == DEFAULT_SHARD:
        raise ValueError("'default' is the shard of hosts no group claims")
    if len(group) > MAX_SHARD_GROUP_NAME:
        raise ValueError(f"at most {MAX_SHARD_GROUP_NAME} characters (it names a Service)")
    check_dns_label(group)
    if not patterns:
        raise ValueError("list at least one host pattern")
    check_host_patterns(patterns)
    for index, pattern in enumerate(patterns):
        if pattern.lower() in owner:
            raise KeyedValueError(
                index,
                f"also listed by group {owner[pattern.lower()]!r} "
                "(the first one would take every mapping)",
            )
        owner[pattern.lower()] = group
