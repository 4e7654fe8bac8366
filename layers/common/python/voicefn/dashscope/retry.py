"""Retry an upstream call, within a time budget.

Only :class:`UpstreamError` with ``retryable`` set is retried (throttling, 5xx, timeouts, broken
connections); everything else is raised at once. Delays grow exponentially with jitter (so that
many FC instances throttled together do not come back together) and never undercut a
``Retry-After`` the server gave.

The budget is a deadline for the *retrying*: counted from the first call, no sleep and no retry
attempt runs past it. The first attempt is bounded by its own timeout, not the budget, because
a single healthy call may legitimately take longer than the budget allows for retries.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import TypeVar

from voicefn.dashscope.errors import UpstreamError

T = TypeVar("T")
log = logging.getLogger("voicefn.dashscope")


def backoff_delay(attempt: int, base_delay_s: float, retry_after: float | None = None) -> float:
    """Delay before retry ``attempt`` (0 = the first): equal jitter, Retry-After as a floor."""
    ceiling: float = base_delay_s * (2 ** attempt)
    delay = ceiling / 2 + random.uniform(0, ceiling / 2)
    return float(max(delay, retry_after or 0.0))


async def with_retries(op: Callable[[], Awaitable[T]], *, retries: int, budget_s: float,
                       base_delay_s: float = 0.2) -> T:
    """Run ``op``; on a retryable :class:`UpstreamError` retry up to ``retries`` times."""
    deadline = time.monotonic() + budget_s
    attempt = 0
    last: UpstreamError | None = None
    while True:
        try:
            if last is None:
                return await op()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise last
            try:
                return await asyncio.wait_for(op(), remaining)
            except asyncio.TimeoutError:
                # The retry ran into the deadline: report what made us retry, not the cut-off.
                raise last from None
        except UpstreamError as e:
            if e is last:
                raise
            last = e
            if not e.retryable or attempt >= retries:
                raise
            delay = backoff_delay(attempt, base_delay_s, e.retry_after)
            if time.monotonic() + delay >= deadline:
                raise
            attempt += 1
            log.info("DashScope call failed (%s, HTTP %s, request_id %s); retry %d in %.2f s",
                     e.code, e.http_status, e.request_id, attempt, delay)
            await asyncio.sleep(delay)


async def retry_until_first(make: Callable[[], AsyncIterator[T]], *, retries: int, budget_s: float,
                            base_delay_s: float = 0.2,
                            counts: Callable[[T], bool] | None = None) -> AsyncGenerator[T, None]:
    """The items of ``make()``; a fresh ``make()`` replaces one that fails before its first item.

    Until the first item reaches the caller, a retryable :class:`UpstreamError` is invisible to
    it, so it is retried (up to ``retries`` times, no retry starting past ``budget_s``); after
    that, errors propagate. ``counts`` says which items count as delivered (say, audio but not
    the sentence events before it): items before the first that counts are held back, and
    dropped with the attempt that failed. Each attempt is bounded by its own timeouts, not by the
    budget: a live stream may wait a long time for its text before any audio can exist. This is
    the one "retry until the first audio byte" of the code base.
    """
    deadline = time.monotonic() + budget_s
    attempt = 0
    while True:
        stream = make()
        held: list[T] = []
        try:
            while True:
                item = await stream.__anext__()
                held.append(item)
                if counts is None or counts(item):
                    break
            break
        except StopAsyncIteration:
            await _aclose(stream)
            for item in held:
                yield item
            return
        except UpstreamError as e:
            await _aclose(stream)
            delay = backoff_delay(attempt, base_delay_s, e.retry_after)
            if not e.retryable or attempt >= retries or time.monotonic() + delay >= deadline:
                raise
            attempt += 1
            log.info("DashScope stream failed before its first item (%s, request_id %s); "
                     "retry %d in %.2f s", e.code, e.request_id, attempt, delay)
            await asyncio.sleep(delay)
        except BaseException:
            await _aclose(stream)
            raise
    try:
        for item in held:
            yield item
        held.clear()
        async for item in stream:
            yield item
    finally:
        await _aclose(stream)


async def _aclose(stream: AsyncIterator[T]) -> None:
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        await aclose()
