"""How many processes a server should run: the CPUs this process may use, cgroup-aware.

Imports nothing heavy: ``mockado ext-proc`` calls it before prometheus_client is
imported (a multi-process server needs PROMETHEUS_MULTIPROC_DIR set first).
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from ext_proc_server.core.errors import ConfigError

CGROUP_ROOT = Path("/sys/fs/cgroup")
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
AUTO = "auto"


def cgroup_cpu_limit(root: Path = CGROUP_ROOT) -> float | None:
    """The CPU quota of this process's cgroup in cores (cgroup v2 ``cpu.max``, else v1
    ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``), or None when there is none."""
    try:
        quota, _, period = (root / "cpu.max").read_text().strip().partition(" ")
        if quota != "max":
            return int(quota) / int(period or "100000")
        return None
    except (OSError, ValueError):
        pass
    try:
        quota_us = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        period_us = int((root / "cpu" / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return quota_us / period_us if quota_us > 0 and period_us > 0 else None


def available_cpus(root: Path = CGROUP_ROOT) -> int:
    """CPUs this process may run on (sched_getaffinity), capped by the cgroup quota
    rounded up (a pod limited to 1.5 cores gets 2 processes); at least 1."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    limit = cgroup_cpu_limit(root)
    if limit is not None:
        cpus = min(cpus, math.ceil(limit))
    return max(1, cpus)


def worker_count(value: str | int, *, root: Path = CGROUP_ROOT) -> int:
    """``--workers``: a positive number, or "auto" (one process per available CPU)."""
    if str(value).strip().lower() == AUTO:
        return available_cpus(root)
    try:
        count = int(value)
    except ValueError:
        raise ConfigError("--workers: a number of processes, or auto") from None
    if count < 1:
        raise ConfigError("--workers: must be at least 1")
    return count


@contextlib.contextmanager
def multiprocess_metrics(workers: int) -> Iterator[None]:
    """With several processes: PROMETHEUS_MULTIPROC_DIR set to a fresh directory while
    they run (each writes its metrics there; the probe port adds them up), removed after.
    Enter it before prometheus_client is imported."""
    if workers <= 1 or os.environ.get(MULTIPROC_ENV):
        yield
        return
    directory = tempfile.mkdtemp(prefix="mockado-ext-proc-metrics-")
    os.environ[MULTIPROC_ENV] = directory
    try:
        yield
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(directory, ignore_errors=True)
