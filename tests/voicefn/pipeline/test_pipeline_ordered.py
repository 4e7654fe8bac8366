"""ordered_streams / ordered_map: concurrent under a bound, delivered in order, backpressure,
and nothing left running when the consumer leaves or a job fails."""

from __future__ import annotations

import asyncio
import contextlib
import random

import pytest

from voicefn.pipeline import ordered_map, ordered_streams


async def test_results_come_in_submission_order_while_jobs_run_concurrently() -> None:
    running = peak = 0

    async def job(i: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(random.uniform(0, 0.02) if i % 2 else 0.03)
        running -= 1
        return i * 10

    out = [r async for r in ordered_map(range(12), job, limit=3)]
    assert out == [i * 10 for i in range(12)]
    assert peak == 3


async def test_streams_pass_through_in_order_and_the_head_is_not_held_back() -> None:
    delivered: list[str] = []
    first_seen = asyncio.Event()

    async def job(name: str):
        for k in range(3):
            if name == "b":
                await first_seen.wait()  # b may only finish after a's first item got out
            yield f"{name}{k}"
            await asyncio.sleep(0.001)

    async for item in ordered_streams(["a", "b", "c"], job, limit=3, buffer=4):
        delivered.append(item)
        first_seen.set()
    assert delivered == ["a0", "a1", "a2", "b0", "b1", "b2", "c0", "c1", "c2"]


async def test_a_slow_consumer_bounds_what_jobs_produce_ahead() -> None:
    produced = 0

    async def job(i: int):
        nonlocal produced
        for k in range(1000):
            produced += 1
            yield (i, k)

    stream = ordered_streams(range(4), job, limit=2, buffer=5)
    async with contextlib.aclosing(stream):
        await stream.__anext__()
        await asyncio.sleep(0.05)  # the consumer dawdles; the jobs must wait for it
        # head: its buffer plus one in hand; the next job: its buffer plus one waiting to go in
        assert produced <= 2 * (5 + 2)


async def test_leaving_early_cancels_every_job() -> None:
    started, cancelled = 0, 0

    async def job(i: int):
        nonlocal started, cancelled
        started += 1
        try:
            for k in range(10_000):
                yield k
                await asyncio.sleep(0.001)
        except asyncio.CancelledError:
            cancelled += 1
            raise

    before = len(asyncio.all_tasks())
    stream = ordered_streams(range(10), job, limit=3, buffer=2)
    async for value in stream:
        if value == 3:
            break
    await stream.aclose()
    assert len(asyncio.all_tasks()) == before  # no orphan tasks
    assert started <= 4 and cancelled >= 1


async def test_a_failing_job_raises_in_order_and_stops_the_rest() -> None:
    async def job(i: int) -> int:
        if i == 2:
            raise ValueError("job 2 failed")
        await asyncio.sleep(0.01 * (5 - i))
        return i

    got: list[int] = []
    before = len(asyncio.all_tasks())
    with pytest.raises(ValueError, match="job 2"):
        async for r in ordered_map(range(6), job, limit=3):
            got.append(r)
    assert got == [0, 1]  # what came before the failure, in order
    assert len(asyncio.all_tasks()) == before


async def test_a_failing_source_raises_after_the_jobs_before_it() -> None:
    async def source():
        yield 1
        yield 2
        raise RuntimeError("source broke")

    async def job(i: int) -> int:
        return i

    got: list[int] = []
    with pytest.raises(RuntimeError, match="source broke"):
        async for r in ordered_map(source(), job, limit=2):
            got.append(r)
    assert got == [1, 2]
