"""--workers auto: one process per CPU this process may use, cgroup quota included."""

from __future__ import annotations

import os

import pytest

from ext_proc_server.core.cpus import (
    MULTIPROC_ENV,
    available_cpus,
    cgroup_cpu_limit,
    multiprocess_metrics,
    worker_count,
)
from ext_proc_server.core.errors import ConfigError


def _v2(tmp_path, text: str):
    (tmp_path / "cpu.max").write_text(text)
    return tmp_path


def _v1(tmp_path, quota: int, period: int = 100_000):
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text(f"{quota}\n")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text(f"{period}\n")
    return tmp_path


def test_cgroup_v2_and_v1_quotas_in_cores(tmp_path):
    assert cgroup_cpu_limit(_v2(tmp_path, "150000 100000\n")) == 1.5
    assert cgroup_cpu_limit(_v2(tmp_path, "max 100000\n")) is None
    assert cgroup_cpu_limit(tmp_path / "absent") is None


def test_cgroup_v1_quota(tmp_path):
    assert cgroup_cpu_limit(_v1(tmp_path, 250_000)) == 2.5
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    assert cgroup_cpu_limit(tmp_path) is None


def test_auto_is_the_affinity_capped_by_the_quota_rounded_up(tmp_path):
    affinity = len(os.sched_getaffinity(0))
    assert available_cpus(tmp_path / "none") == affinity
    assert available_cpus(_v2(tmp_path, "50000 100000")) == 1
    assert available_cpus(_v2(tmp_path, "150000 100000")) == min(affinity, 2)
    assert available_cpus(_v2(tmp_path, "6400000 100000")) == affinity
    assert worker_count("auto", root=tmp_path) == min(affinity, 64)
    assert worker_count("AUTO", root=tmp_path / "none") == affinity


@pytest.mark.parametrize("value", ["0", "-2", "many", ""])
def test_a_bad_worker_count_names_the_option(value):
    with pytest.raises(ConfigError, match="--workers"):
        worker_count(value)


def test_the_metrics_directory_exists_only_while_several_processes_run(monkeypatch):
    monkeypatch.delenv(MULTIPROC_ENV, raising=False)
    with multiprocess_metrics(1):
        assert MULTIPROC_ENV not in os.environ
    with multiprocess_metrics(3):
        directory = os.environ[MULTIPROC_ENV]
        assert os.path.isdir(directory)
    assert MULTIPROC_ENV not in os.environ and not os.path.exists(directory)
