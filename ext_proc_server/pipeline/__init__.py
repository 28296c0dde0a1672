"""The pipeline: finished exchanges -> sanitize, dedup, mapping -> the Redis queue.

* :class:`CapturePipeline` - the bounded buffer and its workers (``buffer``).
* :class:`Stages`, :func:`default_stages` - the per-exchange parts, wired in one
  place (``stages``).
* :func:`redis_error_kind`, :class:`RedisRetry` - how a failed Redis write is
  named and retried (``retry``).
* ``queue_writer`` - the producer side of the queue.
"""

from ext_proc_server.pipeline.buffer import CapturePipeline
from ext_proc_server.pipeline.queue_writer import ClaimAndEnqueue, enqueue_batch
from ext_proc_server.pipeline.retry import RedisRetry, redis_error_kind
from ext_proc_server.pipeline.stages import (
    DedupStage,
    Keyed,
    MappingStage,
    Prepared,
    RedisStages,
    Stages,
    default_stages,
    prepare,
)

__all__ = [
    "CapturePipeline",
    "ClaimAndEnqueue",
    "DedupStage",
    "Keyed",
    "MappingStage",
    "Prepared",
    "RedisRetry",
    "RedisStages",
    "Stages",
    "default_stages",
    "enqueue_batch",
    "prepare",
    "redis_error_kind",
]
