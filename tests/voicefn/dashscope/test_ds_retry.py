"""with_retries: what is retried, how long it waits, and that the budget bounds the time."""

from __future__ import annotations

import asyncio
import time

import pytest

from voicefn.dashscope.errors import UpstreamError
from voicefn.dashscope.retry import backoff_delay, with_retries


class Flaky:
    """Fails with the given errors in turn, then returns "ok"."""

    def __init__(self, *errors: UpstreamError, hang_after: int | None = None) -> None:
        self.errors = list(errors)
        self.calls = 0
        self.hang_after = hang_after

    async def __call__(self) -> str:
        self.calls += 1
        if self.hang_after is not None and self.calls > self.hang_after:
            await asyncio.sleep(30)
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def throttled(retry_after: float | None = None) -> UpstreamError:
    return UpstreamError("Throttling.RateQuota", "slow down", http_status=429,
                         retry_after=retry_after)


async def test_retryable_errors_are_retried_until_success():
    op = Flaky(throttled(), UpstreamError("InternalError", "boom", http_status=500))
    assert await with_retries(op, retries=2, budget_s=5, base_delay_s=0.01) == "ok"
    assert op.calls == 3


async def test_non_retryable_errors_are_not_retried():
    op = Flaky(UpstreamError("InvalidParameter", "bad", http_status=400))
    with pytest.raises(UpstreamError) as info:
        await with_retries(op, retries=5, budget_s=5, base_delay_s=0.01)
    assert op.calls == 1 and info.value.code == "InvalidParameter"


async def test_retries_are_counted():
    op = Flaky(*[throttled() for _ in range(10)])
    with pytest.raises(UpstreamError):
        await with_retries(op, retries=2, budget_s=5, base_delay_s=0.001)
    assert op.calls == 3


async def test_budget_bounds_total_time_of_fast_failures():
    op = Flaky(*[throttled() for _ in range(1000)])
    started = time.monotonic()
    with pytest.raises(UpstreamError) as info:
        await with_retries(op, retries=1000, budget_s=0.5, base_delay_s=0.05)
    elapsed = time.monotonic() - started
    assert elapsed <= 0.55
    assert 2 < op.calls < 20  # it did retry, with growing delays
    assert info.value.code == "Throttling.RateQuota"


async def test_budget_cuts_a_hanging_retry_and_raises_the_error_that_caused_it():
    first = UpstreamError("ConnectionError", "reset")
    op = Flaky(first, hang_after=1)
    started = time.monotonic()
    with pytest.raises(UpstreamError) as info:
        await with_retries(op, retries=3, budget_s=0.4, base_delay_s=0.01)
    assert time.monotonic() - started < 0.6
    assert info.value is first and op.calls == 2


async def test_retry_after_is_honoured():
    op = Flaky(throttled(retry_after=0.3))
    started = time.monotonic()
    assert await with_retries(op, retries=1, budget_s=5, base_delay_s=0.001) == "ok"
    assert time.monotonic() - started >= 0.3


async def test_retry_after_beyond_the_budget_gives_up_at_once():
    op = Flaky(throttled(retry_after=60))
    started = time.monotonic()
    with pytest.raises(UpstreamError) as info:
        await with_retries(op, retries=3, budget_s=1.0, base_delay_s=0.01)
    assert time.monotonic() - started < 0.1 and op.calls == 1
    assert info.value.retry_after == 60


def test_backoff_grows_with_jitter():
    delays = [backoff_delay(n, 0.2) for n in range(4)]
    for n, d in enumerate(delays):
        assert 0.1 * 2 ** n <= d <= 0.2 * 2 ** n
    assert len({backoff_delay(3, 0.2) for _ in range(20)}) > 1  # jittered
    assert backoff_delay(0, 0.2, retry_after=2.0) == 2.0
