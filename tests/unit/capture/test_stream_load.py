"""The servicer counts its streams in the StreamLoad it shares with the pipeline."""

import asyncio

import grpc
import pytest

from ext_proc_server.capture import ExtProcServicer
from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.stream_load import StreamLoad
from tests.unit.capture.stream_helpers import req_body, req_headers, resp_body, resp_headers


class HeldStream:
    """A stream whose next message waits until ``release`` is set."""

    def __init__(self, messages):
        self._messages = list(messages)
        self.release = asyncio.Event()

    def invocation_metadata(self):
        return ()

    async def read(self):
        if not self._messages:
            await self.release.wait()
            return grpc.aio.EOF
        return self._messages.pop(0)

    async def write(self, reply):
        pass


def test_streams_in_progress_make_the_shared_load_busy_until_they_end():
    async def go():
        load = StreamLoad(busy_above=2)
        submitted = []
        servicer = ExtProcServicer(config=CollectorConfig(), submit=submitted.append, load=load)
        streams = [HeldStream([req_headers(), req_body(b"{}", eos=True)]) for _ in range(3)]
        running = [asyncio.ensure_future(servicer.Process(iter(()), s)) for s in streams]
        await asyncio.sleep(0)
        assert load.active == 3 and load.busy
        streams[0].release.set()
        streams[1].release.set()
        await asyncio.gather(*running[:2])
        assert load.active == 1 and not load.busy
        finished = HeldStream(
            [req_headers(), req_body(b"{}", eos=True), resp_headers(), resp_body(b"{}", eos=True)]
        )
        await servicer.Process(iter(()), finished)  # ends by itself: counted out again
        assert load.active == 1 and len(submitted) == 1
        streams[2].release.set()
        await running[2]
        assert load.active == 0

    asyncio.run(go())


def test_max_concurrent_streams_is_checked_against_the_shared_load():
    async def go():
        load = StreamLoad(busy_above=8)
        config = CollectorConfig(max_concurrent_streams=2)
        servicer = ExtProcServicer(config=config, submit=print, load=load)
        held = [HeldStream([req_headers()]) for _ in range(2)]
        running = [asyncio.ensure_future(servicer.Process(iter(()), s)) for s in held]
        await asyncio.sleep(0)
        assert load.active == 2

        class Refused(Exception):
            pass

        class Third(HeldStream):
            code = None

            async def abort(self, code, details):
                self.code = code
                raise Refused

        third = Third([req_headers()])
        with pytest.raises(Refused):
            await servicer.Process(iter(()), third)
        assert third.code == grpc.StatusCode.RESOURCE_EXHAUSTED
        for stream in held:
            stream.release.set()
        await asyncio.gather(*running)
        assert load.active == 0

    asyncio.run(go())
