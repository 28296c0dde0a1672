"""The rendered Redis ACL users follow the server's version: Redis 7's selectors and
read-only / write-only keys, or the rules Redis 6 knows for a 6.x image."""

from __future__ import annotations

import fnmatch

import pytest
import yaml

from control_plane.render import render_k8s_manifests
from control_plane.render.redis_users import has_selectors, redis_major_version
from ext_proc_server.core.config import load_config
from ext_proc_server.core.errors import RenderError


def _acl_args(redis_image: str) -> list[str]:
    config = load_config(None, env={}, overrides={"control_plane.redis_image": redis_image})
    (deployment,) = (d for d in yaml.safe_load_all(render_k8s_manifests(config)["deploy/redis.yaml"])
                     if d and d["kind"] == "Deployment")  # fmt: skip
    argv = deployment["spec"]["template"]["spec"]["containers"][0]["command"]
    return argv[argv.index("--user") :]


def _rules_of(args: list[str], user: str) -> list[str]:
    start = args.index(user) + 1
    end = args.index("--user", start) if "--user" in args[start:] else len(args)
    return args[start:end]


@pytest.mark.parametrize(("image", "major"), [
    ("redis:7.4-alpine", 7), ("redis:6.2", 6), ("redis:6", 6), ("redis:8.0.2-bookworm", 8),
    ("registry.example:5000/cache/redis:6.2.14", 6), ("registry.example:5000/redis", None),
    ("redis", None), ("redis:latest", None), ("redis@sha256:" + "a" * 64, None),
    ("redis:7.2@sha256:" + "b" * 64, 7), ("redis:alpine", None),
])  # fmt: skip
def test_the_major_version_is_read_from_the_image_tag(image, major):
    assert redis_major_version(image) == major
    assert has_selectors(image) is (major is None or major >= 7)


def test_on_redis_7_the_collector_only_writes_the_queue_and_only_reads_the_removed_log():
    rules = _rules_of(_acl_args("redis:7.4-alpine"), "mockado-collector")
    assert "(%W~mockado:mappings +xadd)" in rules
    assert "(%R~mockado:mappings:removed +xrange)" in rules
    # No command outside a selector reaches a key.
    root = [r for r in rules if not r.startswith("(")]
    assert root == ["reset", "on", ">$(REDIS_COLLECTOR_PASSWORD)", "resetchannels", "-@all",
                    "+ping", "+select", "+script|load"]  # fmt: skip
    keeper = _rules_of(_acl_args("redis:7.4-alpine"), "mockado-keeper")
    assert "(%W~mockado:mappings:removed +xadd)" in keeper


def test_a_6x_image_gets_rules_redis_6_knows():
    args = _acl_args("redis:6.2-alpine")
    assert not [a for a in args if a.startswith(("(", "%"))]
    collector = _rules_of(args, "mockado-collector")
    assert "~mockado:mappings" in collector and "+xadd" in collector
    assert "~mockado:mappings:removed" in collector and "+xrange" in collector


@pytest.mark.parametrize("queue", ["mockado mappings", 'mockado:"q"', "it's"])
def test_a_queue_name_a_selector_cannot_hold_is_refused_naming_its_key(queue):
    # Redis 7.0 splits a selector at spaces and garbles one with a quote (it then allows
    # none of its commands): refused at render, not found in production.
    config = load_config(None, env={}, overrides={"collector.redis_queue": queue})
    with pytest.raises(RenderError, match=r"^collector\.redis_queue: "):
        render_k8s_manifests(config)


@pytest.mark.parametrize("image", ["redis:7.4-alpine", "redis:6.2-alpine"])
def test_the_loader_is_given_no_key_of_the_collector_claims(image):
    rules = _rules_of(_acl_args(image), "mockado-loader")
    patterns = {word.lstrip("(").rstrip(")").removeprefix("%R").removeprefix("%W")
                for rule in rules for word in rule.split() if "~" in word}  # fmt: skip
    assert "~mockado:mappings" in patterns and "~mockado:mappings:record:*" in patterns
    for pattern in patterns:
        key = pattern.removeprefix("~")
        # Neither a catch-all nor one that reaches a dedup or a repeat claim.
        assert not fnmatch.fnmatchcase("mockado:mappings:dedup:h1", key), pattern
        assert not fnmatch.fnmatchcase("mockado:mappings:seen:r1", key), pattern
