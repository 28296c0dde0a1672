"""The pipeline: finished exchanges -> sanitize, dedup, mapping -> the Redis queue.

* :class:`CapturePipeline` - the bounded buffer and its workers (``buffer``).
* :class:`Stages`, :func:`default_stages` - the per-exchange parts, wired in one
  place (``stages``).
* :func:`redis_error_kind`, :class:`RedisRetry` - how a failed Redis write is
  named and retried (``retry``).
* ``queue_writer`` - the producer side of the queue.
* ``loop_demand`` - :class:`LoopDemand`: how much the event-loop thread wants a CPU, so
  the pipeline pauses only for streams that keep the loop busy.
* :class:`Skipped`, :func:`read_skips`, :func:`skipped_hosts` - the per-host record of
  stubs not written because they would not replay faithfully (``skips``).
* :class:`KeptWrites` - whether Redis still holds the stubs queued; when it lost them
  (restarted empty), the in-process LRUs forget every recorded request (``kept_writes``).
"""

from ext_proc_server.pipeline.buffer import CapturePipeline
from ext_proc_server.pipeline.kept_writes import KeptWrites
from ext_proc_server.pipeline.queue_writer import ClaimAndEnqueue, ReportSeen, enqueue_batch
from ext_proc_server.pipeline.retry import RedisRetry, redis_error_kind
from ext_proc_server.pipeline.skips import HostSkips, Skipped, read_skips, skipped_hosts
from ext_proc_server.pipeline.stages import (
    DedupStage,
    Keyed,
    MappingStage,
    Prepared,
    RedisStages,
    Stages,
    default_stages,
    map_sanitized,
    prepare,
    sanitize_one,
)

__all__ = [
    "CapturePipeline",
    "ClaimAndEnqueue",
    "DedupStage",
    "HostSkips",
    "KeptWrites",
    "Keyed",
    "MappingStage",
    "Prepared",
    "RedisRetry",
    "RedisStages",
    "ReportSeen",
    "Skipped",
    "Stages",
    "default_stages",
    "enqueue_batch",
    "map_sanitized",
    "prepare",
    "read_skips",
    "redis_error_kind",
    "sanitize_one",
    "skipped_hosts",
]
