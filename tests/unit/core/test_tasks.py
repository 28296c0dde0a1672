"""cancel_and_wait: every task cancelled, the wait bounded even when a task swallows its cancel."""

import asyncio
import logging

from ext_proc_server.core.tasks import cancel_and_wait


async def _swallows_cancels(stop: asyncio.Event) -> None:
    # What redis-py 8.2 can do inside a pipelined write: the cancel is lost, the loop goes on.
    while not stop.is_set():
        try:
            await asyncio.sleep(0.01)
        except asyncio.CancelledError:
            continue


def test_a_task_that_swallows_its_cancel_is_left_after_the_deadline():
    async def go():
        stop = asyncio.Event()
        stubborn = asyncio.create_task(_swallows_cancels(stop))
        polite = asyncio.create_task(asyncio.sleep(3600))
        await asyncio.sleep(0.05)  # both running, waiting in a sleep
        started = asyncio.get_running_loop().time()
        left = await cancel_and_wait([stubborn, None, polite], timeout_s=0.2)
        waited_s = asyncio.get_running_loop().time() - started
        stop.set()
        await asyncio.wait([stubborn])
        return left, stubborn, polite, waited_s

    left, stubborn, polite, waited_s = asyncio.run(go())
    assert left == {stubborn}
    assert polite.cancelled()
    assert waited_s < 60  # bounded: the old open-ended await never returned


def test_an_error_a_task_ended_with_is_logged_not_raised(caplog):
    async def fails():
        raise RuntimeError("relay broke")

    async def go():
        task = asyncio.create_task(fails(), name="relay")
        await asyncio.sleep(0)
        return await cancel_and_wait([task], timeout_s=1)

    with caplog.at_level(logging.ERROR, logger="ext_proc_server.core.tasks"):
        assert asyncio.run(go()) == set()
    assert "relay" in caplog.text and "relay broke" in caplog.text


def test_nothing_to_stop():
    assert asyncio.run(cancel_and_wait([None], timeout_s=1)) == set()
