"""What a WireMock pod served, by kind of answer: the denominator of the miss ratio.

mockado's launcher counts the requests each stub answered and lists the counts at
``GET /__admin/mockado/hits`` (no request journal). The pod's keeper reads them each round
and adds them to ``mockado_serving_requests_total{shard, answer}``: the catch-all's hits are
the misses, the pass-throughs' are proxied, every other stub's are recorded answers.

Each read adds what each stub's count gained since the last read. A removed stub's count
stays listed (the launcher keeps it, and counts on if the stub comes back), so the hits it
took between the last read and its removal (a move, drift, aging) are added by the next
read: a read taken by the loader before each removal could not catch the requests between
that read and the removal, nor reach the keeper's baseline. An admin reset keeps the counts
(the launcher drops none), so the hits before it are added too. A restarted WireMock lists
counts from 0: a count lower than the last one started anew and adds in full.
The first read is the baseline: the pod is not Ready before it (the keeper's first
round), so nothing was served that it leaves out. A stock WireMock lists no counts:
nothing is added.
"""

from __future__ import annotations

from ext_proc_server.core.metrics import SERVED_ANSWERS, SERVING_REQUESTS
from ext_proc_server.loader.shards import Shard


class ServedTally:
    """Adds ``shard``'s WireMock's hit counts to ``mockado_serving_requests_total``.
    ``await read()`` each round; WireMock errors go to the caller."""

    def __init__(self, shard: Shard) -> None:
        self._shard = shard
        self._last: dict[str, int] | None = None
        catch_all = [shard.catch_all["id"]] if shard.catch_all is not None else []
        self._fallbacks = {
            **dict.fromkeys(catch_all, "catch_all"),
            **{p["id"]: "passthrough" for p in shard.passthroughs},
        }
        for answer in SERVED_ANSWERS:
            # Every series exists from the start: a ratio over them has a value at once.
            SERVING_REQUESTS.labels(shard=shard.name, answer=answer).inc(0)

    async def read(self) -> bool:
        """Read the counts and add what they gained. -> False when WireMock keeps none."""
        counts = await self._shard.client.stub_hits()
        if counts is None:
            return False
        last, self._last = self._last, counts
        if last is None:
            return True
        gained = dict.fromkeys(SERVED_ANSWERS, 0)
        for stub_id, count in counts.items():
            before = last.get(stub_id, 0)
            answer = self._fallbacks.get(stub_id, "recorded")
            gained[answer] += count - before if count >= before else count
        for answer, n in gained.items():
            SERVING_REQUESTS.labels(shard=self._shard.name, answer=answer).inc(n)
        return True
