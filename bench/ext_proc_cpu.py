"""CPU time of the ext_proc bench's collector processes (psutil, user + system)."""

from __future__ import annotations

import psutil

from control_plane.local import procs


def loop_thread_cpu_s(process: procs.ManagedProcess) -> float:
    """CPU seconds of the process's main thread: its event loop, where the streams run
    (one worker; gRPC's own threads left out). Steadier than the whole process."""
    for thread in psutil.Process(process.pid).threads():
        if thread.id == process.pid:
            return thread.user_time + thread.system_time
    return 0.0


def cpu_s(process: procs.ManagedProcess) -> float:
    """CPU seconds of the ext-proc process and its worker processes (--workers N)."""
    total = 0.0
    main = psutil.Process(process.pid)
    for proc in (main, *main.children(recursive=True)):
        try:
            times = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total
