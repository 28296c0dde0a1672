"""The protocol loop: read, dispatch to the phases, answer in blocking mode, submit."""

import asyncio

import grpc
import pytest

from ext_proc_server.capture import ExtProcServicer, dispatch
from ext_proc_server.capture.protos import HttpHeaders, ProcessingRequest
from ext_proc_server.core import metrics
from ext_proc_server.core.config import CollectorConfig
from tests.unit.capture.stream_helpers import (
    hmap,
    make,
    req_body,
    req_headers,
    resp_body,
    resp_headers,
)


class FakeContext:
    """A stream's server side: the messages Envoy sends, then end of input."""

    def __init__(self, messages, metadata=()):
        self._messages = list(messages)
        self._metadata = metadata
        self.reads = 0
        self.written = []

    def invocation_metadata(self):
        return self._metadata

    async def read(self):
        self.reads += 1
        return self._messages.pop(0) if self._messages else grpc.aio.EOF

    async def write(self, reply):
        self.written.append(reply)


def process(messages, config=None):
    submitted = []
    servicer = ExtProcServicer(config=config or CollectorConfig(), submit=submitted.append)
    context = FakeContext(messages)
    asyncio.run(servicer.Process(iter(()), context))
    servicer.flush_metrics()  # as before a scrape
    return submitted, context


def blocking(message: ProcessingRequest) -> ProcessingRequest:
    message.observability_mode = False
    return message


def dropped(reason):
    return metrics.COLLECTOR_DROPPED.labels(reason=reason)._value.get()


def test_a_finished_exchange_is_submitted_and_the_stream_closes_at_once():
    later = req_body(b"never read")
    submitted, context = process(
        [
            req_headers(),
            req_body(b"{}", eos=True),
            resp_headers(),
            resp_body(b"{}", eos=True),
            later,
        ]
    )
    assert len(submitted) == 1
    assert submitted[0].request.body == b"{}" and submitted[0].response.body == b"{}"
    assert context.reads == 4  # the message after the response's end is never read
    assert context.written == []  # observability mode: nothing to answer


def test_blocking_mode_answers_each_message_with_continue_for_its_phase():
    messages = [
        req_headers(),
        req_body(b"{}", eos=True),
        resp_headers(),
        resp_body(b"{}", eos=True),
    ]
    submitted, context = process([blocking(m) for m in messages])
    assert len(submitted) == 1
    assert [r.WhichOneof("response") for r in context.written] == [
        "request_headers",
        "request_body",
        "response_headers",
        "response_body",
    ]
    assert not any(r.HasField("mode_override") for r in context.written)


def test_a_stream_not_captured_is_answered_with_skip_and_closed():
    config = CollectorConfig(exclude_paths=["/health"])
    before = dropped("filtered")
    submitted, context = process([blocking(req_headers(path="/health")), req_body(b"x")], config)
    assert submitted == [] and context.reads == 1
    (reply,) = context.written
    assert reply.WhichOneof("response") == "request_headers"
    assert reply.mode_override.request_body_mode == 0  # NONE: send nothing more
    assert dropped("filtered") - before == 1


def test_a_stream_that_ends_early_is_counted_incomplete():
    before = dropped("incomplete")
    submitted, context = process([req_headers(), req_body(b"{}", eos=True), resp_headers()])
    assert submitted == [] and context.reads == 4
    assert dropped("incomplete") - before == 1


def test_garbage_before_request_headers_is_counted_malformed():
    before = dropped("malformed")
    submitted, _ = process([ProcessingRequest()])
    assert submitted == []
    assert dropped("malformed") - before == 1


def test_dispatch_hands_each_phase_to_its_hook():
    asm = make()
    assert dispatch(asm, req_headers()) is None
    assert dispatch(asm, ProcessingRequest()).drop_reason == "malformed"


def test_streams_past_max_concurrent_streams_are_refused_until_one_ends():
    servicer = ExtProcServicer(config=CollectorConfig(max_concurrent_streams=1), submit=print)

    class Refused(Exception):
        pass

    class Held(FakeContext):
        """A stream that waits for Envoy (blocks on read) until released."""

        def __init__(self, messages):
            super().__init__(messages)
            self.release = asyncio.Event()
            self.aborted = None

        async def read(self):
            if not self._messages:
                await self.release.wait()
            return await super().read()

        async def abort(self, code, details):
            self.aborted = code
            raise Refused

    async def go():
        first = Held([req_headers()])
        running = asyncio.ensure_future(servicer.Process(iter(()), first))
        await asyncio.sleep(0)
        second = Held([req_headers()])
        refused_before = dropped("stream_limit")
        with pytest.raises(Refused):
            await servicer.Process(iter(()), second)
        assert second.aborted == grpc.StatusCode.RESOURCE_EXHAUSTED and second.reads == 0
        servicer.flush_metrics()
        # Counted: Envoy counts a refusal only while its exchange is still in progress.
        assert dropped("stream_limit") == refused_before + 1
        first.release.set()
        await running
        third = FakeContext([req_headers(eos=True), resp_headers(eos=True)])
        await servicer.Process(iter(()), third)  # the slot is free again
        assert third.reads == 2

    asyncio.run(go())


class WaitingContext(FakeContext):
    """A stream whose next message does not come: after ``messages``, a read waits until
    it is cancelled (a gRPC call whose server has not answered)."""

    async def read(self):
        if self._messages:
            return await super().read()
        self.reads += 1
        await asyncio.Event().wait()


def grpc_call_headers() -> ProcessingRequest:
    pairs = [(":method", "POST"), (":path", "/shop.Inbox/Poll"), (":authority", "inbox"),
             (":scheme", "http"), ("content-type", "application/grpc"), ("te", "trailers")]  # fmt: skip
    return ProcessingRequest(
        request_headers=HttpHeaders(headers=hmap(pairs)), observability_mode=True
    )


def serve(context, config):
    submitted = []
    servicer = ExtProcServicer(config=config, submit=submitted.append)
    asyncio.run(asyncio.wait_for(servicer.Process(iter(()), context), timeout=30))
    servicer.flush_metrics()
    return submitted


def test_a_grpc_call_unanswered_past_the_wait_is_decided_and_counted():
    before = dropped("grpc_answer_late")
    config = CollectorConfig(grpc_answer_wait_s=0.05)
    context = WaitingContext([grpc_call_headers(), req_body(b"\0\0\0\0\0", eos=True)])
    assert serve(context, config) == []
    assert dropped("grpc_answer_late") == before + 1


def test_a_grpc_error_in_headers_alone_within_the_wait_is_recorded():
    before = dropped("grpc_answer_late")
    config = CollectorConfig(grpc_answer_wait_s=30)
    answer = resp_headers(
        eos=True, extra=(("content-type", "application/grpc"), ("grpc-status", "5"))
    )
    context = WaitingContext([grpc_call_headers(), req_body(b"\0\0\0\0\0", eos=True), answer])
    [exchange] = serve(context, config)
    assert exchange.response.status == 200
    assert ("grpc-status", "5") in exchange.response.headers
    assert dropped("grpc_answer_late") == before


class TricklingContext(FakeContext):
    """After ``messages``, one more body chunk every ``gap_s``, never the last (a body that
    trickles: the answer's by default)."""

    def __init__(self, messages, gap_s, chunk=None):
        super().__init__(messages)
        self.gap_s = gap_s
        self.chunk = chunk or resp_body(b" ")

    async def read(self):
        if self._messages:
            return await super().read()
        self.reads += 1
        await asyncio.sleep(self.gap_s)
        return self.chunk


class SlowContext(FakeContext):
    """Each message ``delay_s`` after the one before (a slow API, well within its wait)."""

    def __init__(self, messages, delay_s):
        super().__init__(messages)
        self.delay_s = delay_s

    async def read(self):
        await asyncio.sleep(self.delay_s)
        return await super().read()


def test_an_http_answer_not_begun_within_the_wait_is_decided_and_counted():
    before = dropped("answer_late")
    config = CollectorConfig(answer_wait_s=0.05)
    context = WaitingContext([req_headers(method="GET", eos=True)])
    assert serve(context, config) == []
    assert dropped("answer_late") == before + 1


def test_a_slow_request_body_is_decided_at_the_wait_too():
    before = dropped("answer_late")
    config = CollectorConfig(answer_wait_s=0.05)
    context = TricklingContext([req_headers()], gap_s=0.1, chunk=req_body(b"x"))
    assert serve(context, config) == []
    assert dropped("answer_late") == before + 1


def test_an_answer_whose_body_trickles_past_the_wait_is_decided_and_counted():
    before = dropped("answer_body_late")
    config = CollectorConfig(answer_wait_s=0.05)
    context = TricklingContext([req_headers(eos=True), resp_headers()], gap_s=0.1)
    assert serve(context, config) == []
    assert dropped("answer_body_late") == before + 1
    # Each chunk came well within the wait: the body's whole length is what is bounded.
    assert context.reads > 3


def test_a_slow_answer_within_the_wait_is_recorded():
    before = dropped("answer_late"), dropped("answer_body_late")
    messages = [req_headers(eos=True), resp_headers(), resp_body(b"{}", eos=True)]
    submitted = serve(SlowContext(messages, delay_s=0.3), CollectorConfig(answer_wait_s=5))
    assert [e.response.body for e in submitted] == [b"{}"]
    assert (dropped("answer_late"), dropped("answer_body_late")) == before


def test_a_stream_cancelled_from_outside_is_incomplete_not_late():
    before = dropped("incomplete"), dropped("answer_late")
    submitted = []
    servicer = ExtProcServicer(config=CollectorConfig(answer_wait_s=30), submit=submitted.append)

    async def go():
        running = asyncio.ensure_future(
            servicer.Process(iter(()), WaitingContext([req_headers(eos=True)]))
        )
        await asyncio.sleep(0.05)
        running.cancel()  # Envoy reset the stream
        with pytest.raises(asyncio.CancelledError):
            await running

    asyncio.run(go())
    servicer.flush_metrics()
    assert submitted == []
    assert (dropped("incomplete"), dropped("answer_late")) == (before[0] + 1, before[1])
