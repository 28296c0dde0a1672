"""Mapping: a sanitized exchange -> its dedup key and its WireMock stub.

* ``faithful`` - :func:`skip_reason`: the rule, a stub only when it replays the
  recording faithfully (else why not).
* ``digests`` - the digests of a body in response headers, computed again over the
  body a stub serves (or why they cannot be).
* ``sent_messages`` - an SQS send, whose answer gives the MD5s of its message: its stub
  computes them at serve time (with a stub of the recorded ones beside it for its exact
  repeats), or matches that message alone, its dedup key holding it (or none is written,
  when it was sanitized).
* ``noise`` - :class:`NoiseNormalizer`: the dynamic parts of a request, found once
  for the dedup hash and the matchers.
* ``json_tree`` - reading a JSON body for the normalizer, and ``JsonFacts``: what
  its one walk of the tree counts, so the matcher need not walk it again.
* ``dedup`` - :class:`Deduplicator` (hash, in-process LRU), :func:`claim_batch`
  (the Redis claim shared by every replica).
* ``repeats`` - :class:`RepeatIndex`: the repeat fast path (keyed digests of raw
  exchanges, the in-process LRU of recorded ones, repeat counts per mapping).
* ``removals`` - :class:`RemovedStubs`: the stubs the loader removed, forgotten by both
  in-process LRUs so their next capture records them again.
* ``matchers`` - :func:`request_pattern`: WireMock request matchers and specificity.
* ``framed_bodies`` - the matcher of a body sent ``aws-chunked`` (an S3 upload): the
  launcher's ``mockado-aws-chunked``, its payload's digest or regex out of any framing.
* ``framed_uploads`` - the payload an ``aws-chunked`` upload's stub matches; the payload of
  one sent in that framing without ``Content-Encoding``.
* ``priority`` - :func:`stub_priority`: a stub's priority from its specificity, and
  :func:`on_current_scale`: a stub written on the older scale, moved to this one.
* ``stub_format`` - :func:`on_current_format`: a stub written by an earlier version,
  narrowed to today's matchers (and moved to this scale), or retired when it cannot be;
  ``old_answers``: its SQS send pinned to its message, its echoed Azure client id and
  expiries served as today's stubs serve them.
* ``echoed_headers`` - a request id the answer echoed (``x-ms-client-request-id``...),
  served as the replayed request's.
* ``stubs`` - :func:`build_mapping`: the whole stub (priority, scenarios, response);
  ``exact_repeats_mapping``: the stub beside it answering an SQS send's exact repeats.
* ``catch_all`` - :func:`catch_all_mapping`: the lowest-priority stub of each shard.
"""

from ext_proc_server.mapping.catch_all import CATCH_ALL_PRIORITY, catch_all_mapping
from ext_proc_server.mapping.dedup import Deduplicator, claim_batch
from ext_proc_server.mapping.faithful import skip_reason
from ext_proc_server.mapping.matchers import JsonWalk, request_pattern
from ext_proc_server.mapping.noise import NoiseNormalizer, NormalizedRequest
from ext_proc_server.mapping.priority import (
    encoded_on_current_scale,
    on_current_scale,
    stub_priority,
)
from ext_proc_server.mapping.repeats import RepeatIndex, RepeatKey
from ext_proc_server.mapping.stub_format import (
    OldStubs,
    encoded_on_current_format,
    old_stubs,
    on_current_format,
)
from ext_proc_server.mapping.stubs import ScenarioTracker, build_mapping

__all__ = [
    "CATCH_ALL_PRIORITY",
    "Deduplicator",
    "JsonWalk",
    "NoiseNormalizer",
    "NormalizedRequest",
    "OldStubs",
    "RepeatIndex",
    "RepeatKey",
    "ScenarioTracker",
    "build_mapping",
    "catch_all_mapping",
    "claim_batch",
    "encoded_on_current_format",
    "encoded_on_current_scale",
    "old_stubs",
    "on_current_format",
    "on_current_scale",
    "request_pattern",
    "skip_reason",
    "stub_priority",
]
