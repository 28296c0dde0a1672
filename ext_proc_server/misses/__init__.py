"""The miss report: what canaries asked for that no recording answers.

Each shard's catch-all webhook reports a miss to the loader (``parse_miss_event``); the
``MissRecorder`` sanitizes it (``describe_miss``), folds it into its logical miss (host,
method, path template, query keys), finds the closest recorded stub (``closest_stub``)
and keeps it in the bounded ``MissStore``. ``mockado misses`` and the console read it.
See docs/misses.md.
"""

from ext_proc_server.misses.closest import Closest, Difference, closest_stub
from ext_proc_server.misses.event import InvalidMissEvent, MissEvent, parse_miss_event
from ext_proc_server.misses.matching import split_path_pattern
from ext_proc_server.misses.recorder import MissRecorder
from ext_proc_server.misses.store import MissRecord, MissStore
from ext_proc_server.misses.template import (
    ID_SEGMENT,
    MissSample,
    describe_miss,
    miss_sanitizer,
    template_path,
)

__all__ = [
    "ID_SEGMENT",
    "Closest",
    "Difference",
    "InvalidMissEvent",
    "MissEvent",
    "MissRecord",
    "MissRecorder",
    "MissSample",
    "MissStore",
    "closest_stub",
    "describe_miss",
    "miss_sanitizer",
    "parse_miss_event",
    "split_path_pattern",
    "template_path",
]
