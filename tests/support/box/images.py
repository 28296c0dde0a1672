"""The images the box runs, built here because no public registry is reachable.

A Debian base from ``debootstrap`` (python3 in /usr/bin); on it the project's own
``Dockerfile`` (``--build-arg BASE_IMAGE``) and stand-ins for the images the manifests
name: Redis, a JDK, WireMock (the jar ``make install`` fetched) and the sidecars' Envoy (the
1.37 binary ``make install`` fetched, as Istio 1.29's proxies run). Each tag carries a hash of
its inputs, so an unchanged image is reused.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import astuple, dataclass, field
from pathlib import Path

from control_plane.validate import envoy_version
from ext_proc_server.core.config.control_plane import ENVOY_VERSION
from tests.support.box.engine import Docker
from tests.support.box.errors import BoxError
from tests.support.paths import sidecar_envoy

IMAGE_PREFIX = "mockado-box"
DOCKERFILES = Path(__file__).with_name("dockerfiles")
BASE_SUITE = "bookworm"
BASE_MIRROR = "http://deb.debian.org/debian"
BASE_PACKAGES = ("python3", "python3-venv", "ca-certificates")
BASE_SOURCES = f"""\
deb {BASE_MIRROR} {BASE_SUITE} main
deb {BASE_MIRROR} {BASE_SUITE}-updates main
deb http://deb.debian.org/debian-security {BASE_SUITE}-security main
"""
# Image config of the imported root (an import has none of its own).
BASE_CHANGES = (
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    'CMD ["/bin/bash"]',
)
# This machine's own CAs (Debian's place for them), trusted in the base too: builds that
# download (pip, apt over https) then work behind the same TLS-inspecting egress.
LOCAL_CA_DIR = Path("/usr/local/share/ca-certificates")
PIP_CONF = "[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n"
DEBOOTSTRAP_TIMEOUT_S = 900.0
BUILD_TIMEOUT_S = 1200.0
_SKIPPED_NAMES = {"__pycache__", ".pytest_cache", ".ruff_cache"}


@dataclass(frozen=True)
class BoxImages:
    """Tags of every image a box run uses."""

    base: str
    mockado: str
    redis: str
    jdk: str
    wiremock: str
    # The sidecars' proxy: Envoy as control_plane.envoy_version (1.37), not the bundled 1.40.
    envoy: str


@dataclass(frozen=True)
class StandIn:
    """A stand-in image: a Dockerfile from dockerfiles/ and the files its context holds."""

    name: str
    build_args: dict[str, str]
    files: dict[str, Path] = field(default_factory=dict)


def tree_hash(*inputs: str | Path) -> str:
    """sha256 over strings and file contents (directories walked in sorted order)."""
    digest = hashlib.sha256()
    for item in inputs:
        if isinstance(item, str):
            digest.update(b"s" + item.encode() + b"\0")
            continue
        for path in _files(item):
            digest.update(b"f" + str(path.relative_to(item.parent)).encode() + b"\0")
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise BoxError(f"{root}: missing (an image input)")
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIPPED_NAMES)
        found += [Path(dirpath, f) for f in sorted(filenames) if not f.endswith(".pyc")]
    return found


def dockerfile_sources(dockerfile: Path) -> list[Path]:
    """The context paths the Dockerfile's COPY/ADD lines read (not ``--from`` stages)."""
    sources = []
    for line in dockerfile.read_text(encoding="utf-8").splitlines():
        words = line.split()
        if not words or words[0].upper() not in ("COPY", "ADD"):
            continue
        args = [w for w in words[1:] if not w.startswith("--")]
        if any(w.startswith("--from") for w in words[1:]):
            continue
        sources += [dockerfile.parent / src for src in args[:-1]]
    return sources


def build_base_image(docker: Docker, *, work_dir: Path) -> str:
    """The Debian base (debootstrap minbase + python3), built once per recipe."""
    recipe = (BASE_SUITE, BASE_MIRROR, *BASE_PACKAGES, BASE_SOURCES, *BASE_CHANGES, PIP_CONF)
    tag = f"{IMAGE_PREFIX}/debian:{BASE_SUITE}-{tree_hash(*recipe, *_local_cas())}"
    if docker.image_exists(tag):
        return tag
    work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="base-", dir=work_dir) as tmp:
        root = Path(tmp) / "root"
        _run(
            ["debootstrap", "--variant=minbase", f"--include={','.join(BASE_PACKAGES)}",
             BASE_SUITE, str(root), BASE_MIRROR],
            what="debootstrap", timeout_s=DEBOOTSTRAP_TIMEOUT_S,
        )  # fmt: skip
        _trim_root(root)
        archive = Path(tmp) / "root.tar"
        _run(["tar", "-C", str(root), "-cf", str(archive), "."], what="tar", timeout_s=300)
        changes = [arg for change in BASE_CHANGES for arg in ("--change", change)]
        docker.run("import", *changes, str(archive), tag, timeout_s=600)
    return tag


def _trim_root(root: Path) -> None:
    (root / "etc/apt/sources.list").write_text(BASE_SOURCES, encoding="utf-8")
    # As in Debian's own images: package scripts never start services during a build.
    policy = root / "usr/sbin/policy-rc.d"
    policy.write_text("#!/bin/sh\nexit 101\n", encoding="utf-8")
    policy.chmod(0o755)
    bundle = root / "etc/ssl/certs/ca-certificates.crt"
    for ca in _local_cas():
        (root / "usr/local/share/ca-certificates" / ca.name).write_bytes(ca.read_bytes())
        with bundle.open("ab") as out:
            out.write(b"\n" + ca.read_bytes())
    # pip reads its CA bundle from certifi unless told otherwise.
    (root / "etc/pip.conf").write_text(PIP_CONF, encoding="utf-8")
    # Package lists and downloaded .debs: a build that installs more fetches them again.
    for leftover in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for path in (root / leftover).glob("*"):
            if path.is_file():
                path.unlink()


def _local_cas() -> list[Path]:
    return sorted(LOCAL_CA_DIR.glob("*.crt")) if LOCAL_CA_DIR.is_dir() else []


def build_standin(docker: Docker, standin: StandIn, *, work_dir: Path) -> str:
    dockerfile = DOCKERFILES / f"{standin.name}.Dockerfile"
    args = [f"{k}={v}" for k, v in sorted(standin.build_args.items())]
    tag = f"{IMAGE_PREFIX}/{standin.name}:{tree_hash(dockerfile, *args, *standin.files.values())}"
    if docker.image_exists(tag):
        return tag
    work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"{standin.name}-", dir=work_dir) as context:
        shutil.copy(dockerfile, Path(context) / "Dockerfile")
        for name, source in standin.files.items():
            shutil.copy(source, Path(context) / name)
        _docker_build(docker, tag=tag, context=Path(context), build_args=args)
    return tag


def build_project_image(docker: Docker, *, repo: Path, base: str) -> str:
    """The project's real Dockerfile, on the box's base image."""
    dockerfile = repo / "Dockerfile"
    inputs = [dockerfile, *_optional(repo / ".dockerignore"), *dockerfile_sources(dockerfile)]
    tag = f"{IMAGE_PREFIX}/mockado:{tree_hash(f'BASE_IMAGE={base}', *inputs)}"
    if not docker.image_exists(tag):
        _docker_build(docker, tag=tag, context=repo, build_args=[f"BASE_IMAGE={base}"])
    return tag


def _optional(path: Path) -> list[Path]:
    return [path] if path.exists() else []


def _docker_build(docker: Docker, *, tag: str, context: Path, build_args: list[str]) -> None:
    argv = ["build", "--network", "host", "--quiet", "-t", tag]
    for arg in build_args:
        argv += ["--build-arg", arg]
    docker.run(*argv, str(context), timeout_s=BUILD_TIMEOUT_S)


def sidecar_envoy_binary() -> Path:
    """The sidecars' Envoy (control_plane.envoy_version, Istio 1.29's 1.37) that `make
    install` fetched: the box's sidecars run what the mesh's do, not the bundled 1.40."""
    try:
        path = sidecar_envoy()
    except FileNotFoundError as exc:
        raise BoxError(str(exc)) from exc
    if (version := envoy_version(path)) != ENVOY_VERSION:
        raise BoxError(f"{path} is Envoy {version}, not the sidecars' {ENVOY_VERSION}")
    return Path(path)


def build_images(
    docker: Docker, *, repo: Path, wiremock_jar: Path, wiremock_jar_path: str, work_dir: Path
) -> BoxImages:
    """Every image, each reused when its inputs have not changed."""
    if not wiremock_jar.is_file():
        raise BoxError(f"{wiremock_jar}: missing (run `make install`, which fetches it)")
    base = build_base_image(docker, work_dir=work_dir)
    jdk = build_standin(docker, StandIn("jdk", {"BASE_IMAGE": base}), work_dir=work_dir)
    standins = {
        "redis": StandIn("redis", {"BASE_IMAGE": base}),
        "wiremock": StandIn(
            "wiremock",
            {"JDK_IMAGE": jdk, "JAR_PATH": wiremock_jar_path},
            {"wiremock-standalone.jar": wiremock_jar},
        ),
        "envoy": StandIn("envoy", {"BASE_IMAGE": base}, {"envoy": sidecar_envoy_binary()}),
    }
    tags = {name: build_standin(docker, s, work_dir=work_dir) for name, s in standins.items()}
    images = BoxImages(
        base=base, mockado=build_project_image(docker, repo=repo, base=base), jdk=jdk, **tags
    )
    remove_stale_images(docker, keep=set(astuple(images)))
    return images


def remove_stale_images(docker: Docker, *, keep: set[str]) -> None:
    """Untag the box's images built from older inputs, so their layers can go."""
    listed = docker.text("images", "--format", "{{.Repository}}:{{.Tag}}", f"{IMAGE_PREFIX}/*")
    stale = [tag for tag in listed.split() if tag not in keep and not tag.endswith(":<none>")]
    if stale:
        docker.run("rmi", *stale, check=False)


def _run(argv: list[str], *, what: str, timeout_s: float) -> None:
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as exc:
        raise BoxError(f"{what}: no result in {timeout_s:.0f} s") from exc
    if proc.returncode != 0:
        raise BoxError(f"{what} failed ({proc.returncode}):\n{(proc.stdout + proc.stderr)[-3000:]}")
