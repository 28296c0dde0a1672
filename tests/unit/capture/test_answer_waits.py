"""Stream deadlines: a task past its deadline is cancelled, and told apart."""

import asyncio

from ext_proc_server.capture.answer_waits import AnswerWaits


def test_a_task_past_its_deadline_is_cancelled_and_known_as_expired_once():
    waits = AnswerWaits()

    async def go():
        task = asyncio.ensure_future(asyncio.sleep(30))
        await asyncio.sleep(0)
        slot = waits.start(task, 0.01)
        assert len(waits) == 1
        started = asyncio.get_running_loop().time()
        await asyncio.gather(task, return_exceptions=True)
        waited = asyncio.get_running_loop().time() - started
        assert task.cancelled()
        assert waits.expired(task) and not waits.expired(task)
        waits.end(task, slot)
        return waited

    # Deadlines are kept per whole second: at most a second late.
    assert asyncio.run(go()) < 1.5
    assert len(waits) == 0


def test_an_ended_task_is_never_cancelled_and_its_neighbours_still_are():
    waits = AnswerWaits()

    async def go():
        done_early = asyncio.ensure_future(asyncio.sleep(30))
        waiting = asyncio.ensure_future(asyncio.sleep(30))
        await asyncio.sleep(0)
        slot = waits.start(done_early, 0.01)
        waits.start(waiting, 0.01)  # the same slot, one timer for both
        waits.end(done_early, slot)
        await asyncio.gather(waiting, return_exceptions=True)
        assert waiting.cancelled() and waits.expired(waiting)
        assert not done_early.done() and not waits.expired(done_early)
        done_early.cancel()

    asyncio.run(go())
