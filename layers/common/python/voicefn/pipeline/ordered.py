"""Bounded, ordered concurrency: run jobs side by side, deliver their output in submission order.

``ordered_streams`` is the general form (each job yields a stream, e.g. one sentence's audio):
the oldest job's items pass straight through; younger jobs run ahead into a bounded buffer each,
and wait when it is full, so a slow consumer slows every job (backpressure) and memory stays
bounded by ``limit × buffer`` items. At most ``limit`` jobs run at once. Leaving the iteration
early (or a failing job) cancels every job still running: nothing outlives the consumer.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable
from typing import Any, Generic, TypeVar, Union

from voicefn.pipeline.scope import TurnScope

T = TypeVar("T")
R = TypeVar("R")

_END: Any = object()


class _Lane(Generic[R]):
    """One job's output on its way to the consumer."""

    def __init__(self, buffer: int) -> None:
        self.items: asyncio.Queue[Any] = asyncio.Queue(maxsize=max(1, buffer))


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


async def _aiter(source: Union[Iterable[T], AsyncIterable[T]]) -> AsyncIterator[T]:
    if isinstance(source, AsyncIterable):
        async for item in source:
            yield item
    else:
        for item in source:
            yield item


async def ordered_streams(source: Union[Iterable[T], AsyncIterable[T]],
                          job: Callable[[T], AsyncIterator[R]], *, limit: int,
                          buffer: int = 16) -> AsyncGenerator[R, None]:
    """``job(item)`` for every item of ``source``, at most ``limit`` at once; items in order."""
    limit = max(1, limit)
    lanes: asyncio.Queue[Any] = asyncio.Queue(maxsize=limit)  # bounds the jobs started ahead
    slots = asyncio.Semaphore(limit)

    async def run(item: T, lane: _Lane[R]) -> None:
        try:
            stream = job(item)
            try:
                async for value in stream:
                    await lane.items.put(value)
            finally:
                aclose = getattr(stream, "aclose", None)
                if aclose is not None:
                    await aclose()
            await lane.items.put(_END)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # handed to the consumer, in order
            await lane.items.put(_Failed(exc))
        finally:
            slots.release()

    async def feed(scope: TurnScope) -> None:
        try:
            async for item in _aiter(source):
                await slots.acquire()
                lane: _Lane[R] = _Lane(buffer)
                await lanes.put(lane)
                scope.spawn(run(item, lane))
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # the source failed: after the jobs before it, in order
            await lanes.put(_Failed(exc))
            return
        await lanes.put(_END)

    async with TurnScope(cancel_owner=False) as scope:
        scope.spawn(feed(scope))
        while True:
            lane = await lanes.get()
            if lane is _END:
                break
            if isinstance(lane, _Failed):
                raise lane.error
            while True:
                value = await lane.items.get()
                if value is _END:
                    break
                if isinstance(value, _Failed):
                    raise value.error
                yield value


async def ordered_map(source: Union[Iterable[T], AsyncIterable[T]],
                      job: Callable[[T], Awaitable[R]], *, limit: int) -> AsyncGenerator[R, None]:
    """``await job(item)`` for every item, at most ``limit`` at once; results in order.

    A job that finished frees its slot at once, even while an older one still runs: its lane
    holds its result and the end mark (buffer 2), so the next job starts as soon as a slot frees
    (with buffer 1, a finished job waited for the consumer to reach it before letting the next
    one start). Finished results wait at most ``limit`` deep behind the oldest.
    """
    async def one(item: T) -> AsyncGenerator[R, None]:
        yield await job(item)

    async for result in ordered_streams(source, one, limit=limit, buffer=2):
        yield result
