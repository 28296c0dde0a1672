"""What a namespace with a ResourceQuota on limits and the "restricted" Pod Security
Standard admits: every container, init containers included, states CPU and memory
requests and limits, and the restricted profile's settings."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.control_plane.render.shards import config_with
from tests.unit.control_plane.render.support import deployments, files_of


def all_containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [*(pod.get("initContainers") or []), *pod["containers"]]


@pytest.mark.parametrize("indexed", [True, False])
def test_every_container_states_requests_and_limits_and_is_restricted(indexed: bool) -> None:
    files = files_of(config_with(serving={"indexed_stubs": indexed}))
    for name, doc in deployments(files).items():
        pod = doc["spec"]["template"]["spec"]
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        for container in all_containers(pod):
            where = f"{name}/{container['name']}"
            resources = container.get("resources") or {}
            for side in ("requests", "limits"):
                assert set(resources.get(side) or {}) >= {"cpu", "memory"}, (where, side)
            sc = container["securityContext"]
            assert sc["runAsNonRoot"] is True, where
            assert sc["allowPrivilegeEscalation"] is False, where
            assert sc["capabilities"] == {"drop": ["ALL"]}, where
