"""The ``serving`` section: how the WireMock shards run."""

from __future__ import annotations

from pydantic import Field

from ext_proc_server.core.config.sections import ConfigSection


class ServingConfig(ConfigSection):
    # WireMock serving flags: a bounded journal and no per-request logging.
    max_request_journal_entries: int = Field(default=0, ge=0)
    heap_mb: int | None = Field(default=None, ge=64)
    # Group destination hosts into shards by fnmatch pattern; unlisted hosts share "default".
    shard_groups: dict[str, list[str]] = Field(default_factory=dict)
    # Where each shard's catch-all reports a miss (the loader's /unmatched). Default: the
    # loader's own http_port on 127.0.0.1; in Kubernetes, the loader Service.
    unmatched_webhook_url: str | None = None
    # WireMock of the rendered Kubernetes manifests (deploy/wiremock.yaml): image, and the
    # standalone jar inside it, run with `java -jar`.
    wiremock_image: str = "wiremock/wiremock:3.13.2"
    wiremock_jar_path: str = "/var/wiremock/lib/wiremock-standalone.jar"
    # Run each rendered shard with mockado's launcher (stubs indexed by exact URL or path):
    # the jar is copied from wiremock_image, and the launcher runs from source on a JDK
    # image (a JRE cannot compile it). False: stock WireMock, `java -jar` in wiremock_image.
    indexed_stubs: bool = True
    jdk_image: str = "eclipse-temurin:17-jdk"
