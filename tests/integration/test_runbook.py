"""docs/runbook.md, run as written: every command that needs no API server runs in order in a
copy of the repository (make install, mockado render/--check/config show, docker build of
the image...), each `kubectl apply -f` and `kubectl create secret` is replayed in the cluster
in a box, which then starts every rendered pod after the install and after the upgrade.

The box has no public registry: the images named by mockado.yaml's defaults
(python:3.11-slim, redis, WireMock, the JDK) are tagged onto the box's stand-ins, so the
runbook's own `docker build` and the rendered manifests run unchanged.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from ext_proc_server.core.config import ControlPlaneConfig, ServingConfig
from tests.support.box import Box, BoxImages, Docker, build_images, running_engine
from tests.support.paths import REPO
from tests.support.runbook import Step, merge, runbook_steps

pytestmark = [pytest.mark.integration, pytest.mark.timeout(2400)]

WIREMOCK_JAR = REPO / ".tools/npm/node_modules/wiremock/build/wiremock-standalone-3.13.2.jar"
# The namespaces of the user's cluster that exist before mockado (its apps').
CLUSTER_NAMESPACES = {"default", "kube-system", "istio-system"}
# Sections after which the applied objects must start (a new box each time).
STARTED_AFTER = ("Install", "Upgrade")


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Docker]:
    with running_engine(log_dir=tmp_path_factory.mktemp("engine")) as docker:
        yield docker


@pytest.fixture(scope="module")
def images(engine: Docker) -> Iterator[BoxImages]:
    built = build_images(
        engine,
        repo=REPO,
        wiremock_jar=WIREMOCK_JAR,
        wiremock_jar_path=ServingConfig().wiremock_jar_path,
        work_dir=Path("/var/tmp/mockado-box"),
    )
    serving, cp = ServingConfig(), ControlPlaneConfig()
    stand_ins = {
        "python:3.11-slim": built.base,  # the Dockerfile's default BASE_IMAGE
        cp.redis_image: built.redis,
        serving.wiremock_image: built.wiremock,
        serving.jdk_image: built.jdk,
    }
    for public, local in stand_ins.items():
        engine.run("tag", local, public)
    try:
        yield built
    finally:
        for public in stand_ins:
            engine.run("rmi", "--no-prune", public, check=False)


def repository_copy(target: Path) -> Path:
    """The tracked files, as a clone has them; .venv and .tools shared (make install is
    then up to date, as on a machine that ran it)."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True,
                            check=True).stdout.decode().split("\0")  # fmt: skip
    # Each copy no newer than the shared install's stamp, as in a clone that then ran
    # `make install`: a checkout that touched pyproject.toml or a schema model after it
    # would otherwise make the runbook's `make install` rebuild the shared .venv (as an
    # editable install of this temporary copy) and .tools.
    installed_s = (REPO / ".venv" / ".installed").stat().st_mtime - 1
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
            copied_s = min(source.stat().st_mtime, installed_s)
            os.utime(target / name, (copied_s, copied_s))
    for shared in (".venv", ".tools"):
        (target / shared).symlink_to(REPO / shared)
    return target


class Shell:
    """One terminal: each command runs in bash with the variables the previous ones
    exported (``source .venv/bin/activate`` included); kubectl only records its argv."""

    def __init__(self, cwd: Path, state_dir: Path) -> None:
        self.cwd = cwd
        self.state = state_dir / "exported.sh"
        self.recorded = state_dir / "kubectl.jsonl"
        self.state.write_text("", encoding="utf-8")
        fake = state_dir / "bin"
        fake.mkdir()
        recorder = fake / "kubectl"
        recorder.write_text(
            f"#!{sys.executable}\nimport json, sys\n"
            f"open({str(self.recorded)!r}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n",
            encoding="utf-8",
        )
        recorder.chmod(0o755)
        env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKADO_")}
        env.pop("VIRTUAL_ENV", None)
        self.env = {**env, "PATH": f"{fake}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin"}

    def run(self, command: str) -> subprocess.CompletedProcess[str]:
        script = (f"set -eo pipefail\nsource {shlex.quote(str(self.state))}\n{command}\n"
                  f"export -p > {shlex.quote(str(self.state))}\n")  # fmt: skip
        return subprocess.run(["bash", "-c", script], cwd=self.cwd, env=self.env,
                              capture_output=True, text=True, timeout=1200, check=False)  # fmt: skip

    def kubectl_argv(self, command: str) -> list[str]:
        """The argv kubectl gets from ``command`` once the shell expanded it."""
        self.recorded.unlink(missing_ok=True)
        proc = self.run(command)
        assert proc.returncode == 0, proc.stderr
        return json.loads(self.recorded.read_text(encoding="utf-8"))


class Cluster:
    """What the replayed kubectl commands applied, in order; a namespaced object applied
    before its Namespace fails as it would against an API server."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self.namespaces = set(CLUSTER_NAMESPACES)
        self.actions: list[tuple[str, object]] = []

    def app_namespaces(self) -> set[str]:
        """The user's namespaces mockado.yaml names: they exist before mockado."""
        config = yaml.safe_load((self.cwd / "mockado.yaml").read_text(encoding="utf-8"))
        return set(config["control_plane"].get("namespaces") or {})

    def _apply_text(self, text: str, source: str) -> None:
        self.namespaces |= self.app_namespaces()
        for doc in (d for d in yaml.safe_load_all(text) if d):
            meta = doc["metadata"]
            if doc["kind"] == "Namespace":
                self.namespaces.add(meta["name"])
            else:
                assert meta.get("namespace") in self.namespaces, (
                    f"{source}: {doc['kind']} {meta['name']} applied before namespace "
                    f"{meta.get('namespace')} exists"
                )
        self.actions.append(("yaml", text))

    def replay(self, argv: list[str]) -> bool:
        """Apply ``kubectl apply -f`` / ``create secret generic``; False for the others."""
        if argv[:1] == ["apply"]:
            path = self.cwd / argv[argv.index("-f") + 1]
            files = [path] if path.is_file() else sorted(
                path.rglob("*.yaml") if "-R" in argv else path.glob("*.yaml"))  # fmt: skip
            for file in files:
                self._apply_text(file.read_text(encoding="utf-8"), str(file))
            return True
        if argv[:2] == ["-n", argv[1]] and argv[2:5] == ["create", "secret", "generic"]:
            assert argv[1] in self.namespaces, f"secret created before namespace {argv[1]}"
            literals = dict(a.split("=", 1)[1].split("=", 1) for a in argv[6:])
            self.actions.append(("secret", (argv[1], argv[5], literals)))
            return True
        return False

    def start(self, engine: Docker, images: BoxImages, run_dir: Path) -> set[str]:
        """A fresh box with everything applied so far; the workloads it started."""
        with Box(engine, sandbox_image=images.base, run_dir=run_dir) as box:
            for name in sorted(self.app_namespaces() | (CLUSTER_NAMESPACES - {"default"})):
                box.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
            for kind, what in self.actions:
                if kind == "yaml":
                    box.apply_yaml(what)
                else:
                    box.create_secret_generic(*what)
            box.start()
            box.check_running()
            return {f"{pod.workload.namespace}/{pod.workload.name}" for pod in box.pods}


def rendered_workloads(deploy: Path) -> set[str]:
    docs = [d for p in deploy.glob("*.yaml") for d in yaml.safe_load_all(p.read_text()) if d]
    return {f"{d['metadata']['namespace']}/{d['metadata']['name']}" for d in docs
            if d["kind"] == "Deployment"}  # fmt: skip


def edit_config(workdir: Path, step: Step) -> None:
    path = workdir / "mockado.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    path.write_text(yaml.safe_dump(merge(data, step.edit or {}), sort_keys=False), "utf-8")


# Long because it is the runbook's order, step by step, with what each kind of step checks.
def test_the_runbook_runs_in_order(engine, images, tmp_path):
    workdir = repository_copy(tmp_path / "repo")
    shell = Shell(workdir, tmp_path)
    cluster = Cluster(workdir)
    steps = runbook_steps()
    ran, replayed, listed = [], [], []
    for index, step in enumerate(steps):
        if step.kind == "edit":
            edit_config(workdir, step)
        elif step.needs is None:
            proc = shell.run(step.command)
            assert proc.returncode == 0, (
                f"{step.command}\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
            )
            ran.append(step.command)
        elif step.needs == "registry":
            assert step.command.startswith("docker push "), step.command
            listed.append(step.command)
        else:
            assert step.command.split()[0] in ("kubectl", "istioctl"), step.command
            if step.command.startswith("kubectl") and cluster.replay(
                shell.kubectl_argv(step.command)
            ):
                replayed.append(step.command)
            else:
                listed.append(step.command)
        last_of_section = index + 1 == len(steps) or steps[index + 1].section != step.section
        if last_of_section and step.section in STARTED_AFTER:
            started = cluster.start(engine, images, tmp_path / f"box-{index}")
            assert rendered_workloads(workdir / "deploy") <= started, step.section
    print("ran:", *ran, "replayed in the box:", *replayed, "needs a real cluster or registry:",
          *listed, sep="\n  ")  # fmt: skip
    assert "mockado render --config mockado.yaml --check" in ran
    assert any(c.startswith("docker build") for c in ran)
    assert any(c.startswith("kubectl apply -f deploy/ ") for c in replayed)
    # The dashboard's ConfigMap applies on its own, with or without the Operator.
    assert any(c.startswith("kubectl apply -f deploy/grafana-sidecar/ ") for c in replayed)
