"""A cluster in a box: the rendered Kubernetes workloads run as real containers, the way a
kubelet would run them, on a docker daemon this package installs and starts when needed.

``running_engine`` (docker.io, the daemon), ``build_images`` (the project's Dockerfile and
stand-ins for the images no registry here serves), ``Box`` (apply manifests, start every
pod until Ready, call Services from inside), ``inject_sidecar`` (an Envoy with the rendered
EnvoyFilter patches in a workload's pod). Every failure is a ``BoxError`` naming the
container, the argv it ran and its last log lines.
"""

from tests.support.box.cluster import Box, HttpReply
from tests.support.box.engine import Docker, running_engine
from tests.support.box.errors import BoxError
from tests.support.box.images import BoxImages, build_images
from tests.support.box.sidecar import inject_sidecar

__all__ = [
    "Box",
    "BoxError",
    "BoxImages",
    "Docker",
    "HttpReply",
    "build_images",
    "inject_sidecar",
    "running_engine",
]
