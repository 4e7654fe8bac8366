"""The Invoker contract for the in-process adapter: at-least-once background jobs like FC async.

(The FC adapter cannot run here; test_fc_invoker.py checks the requests it sends.)
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from voicefn.invoke.base import Invoker
from voicefn.invoke.inprocess import InProcessInvoker


@pytest.fixture
def invoker() -> InProcessInvoker:
    return InProcessInvoker(max_attempts=3, backoff_s=0.001)


async def test_satisfies_the_protocol(invoker: InProcessInvoker) -> None:
    assert isinstance(invoker, Invoker)


async def test_job_runs_in_the_background_with_the_payload_intact(invoker: InProcessInvoker) -> None:
    received: list[dict[str, Any]] = []
    started = asyncio.Event()

    async def handler(payload: dict[str, Any]) -> None:
        started.set()
        received.append(payload)

    invoker.register("asr-worker", handler)
    payload = {"bucket": "b", "key": "uploads/asr/u1/语音.wav", "size": 3, "nested": {"list": [1, 2.5, None, True]}}
    invocation_id = await invoker.invoke_async("asr-worker", payload)
    assert isinstance(invocation_id, str) and invocation_id
    assert received == []  # invoke_async only queues
    payload["key"] = "changed by the caller afterwards"
    await invoker.drain()
    assert started.is_set()
    assert received == [{"bucket": "b", "key": "uploads/asr/u1/语音.wav", "size": 3,
                         "nested": {"list": [1, 2.5, None, True]}}]


async def test_failing_job_is_retried_up_to_max_attempts(invoker: InProcessInvoker,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    attempts: list[int] = []

    async def always_fails(payload: dict[str, Any]) -> None:
        attempts.append(payload["n"])
        raise RuntimeError("upstream down")

    invoker.register("f", always_fails)
    await invoker.invoke_async("f", {"n": 1})
    await invoker.drain()
    assert attempts == [1, 1, 1]
    assert any("failed after 3 attempts" in r.getMessage() for r in caplog.records)


async def test_job_that_recovers_stops_retrying(invoker: InProcessInvoker) -> None:
    attempts = 0

    async def flaky(payload: dict[str, Any]) -> None:
        nonlocal attempts
        attempts += 1
        if attempts < 2:
            raise RuntimeError("transient")

    invoker.register("f", flaky)
    await invoker.invoke_async("f", {})
    await invoker.drain()
    assert attempts == 2


async def test_duplicate_idempotency_key_runs_once(invoker: InProcessInvoker) -> None:
    runs: list[str] = []

    async def handler(payload: dict[str, Any]) -> None:
        await asyncio.sleep(0)
        runs.append(payload["v"])

    invoker.register("f", handler)
    invoker.register("g", handler)
    first = await invoker.invoke_async("f", {"v": "a"}, idempotency_key="bucket/key/etag")
    queued_twice = await invoker.invoke_async("f", {"v": "b"}, idempotency_key="bucket/key/etag")
    await invoker.drain()
    after_done = await invoker.invoke_async("f", {"v": "c"}, idempotency_key="bucket/key/etag")
    await invoker.drain()
    assert runs == ["a"]
    assert first == queued_twice == after_done
    # keys are per function, and other keys run
    await invoker.invoke_async("f", {"v": "d"}, idempotency_key="other")
    await invoker.invoke_async("g", {"v": "e"}, idempotency_key="bucket/key/etag")
    await invoker.drain()
    assert sorted(runs) == ["a", "d", "e"]


async def test_a_key_whose_job_gave_up_may_run_again(invoker: InProcessInvoker) -> None:
    runs = 0

    async def fails(payload: dict[str, Any]) -> None:
        nonlocal runs
        runs += 1
        raise RuntimeError("no")

    invoker.register("f", fails)
    await invoker.invoke_async("f", {}, idempotency_key="k")
    await invoker.drain()
    await invoker.invoke_async("f", {}, idempotency_key="k")
    await invoker.drain()
    assert runs == 6


async def test_drain_waits_for_jobs_started_by_jobs(invoker: InProcessInvoker) -> None:
    done: list[str] = []

    async def child(payload: dict[str, Any]) -> None:
        await asyncio.sleep(0.01)
        done.append("child")

    async def parent(payload: dict[str, Any]) -> None:
        await invoker.invoke_async("child", {})
        done.append("parent")

    invoker.register("child", child)
    invoker.register("parent", parent)
    await invoker.invoke_async("parent", {})
    await invoker.drain()
    assert done == ["parent", "child"] and invoker.pending == 0


async def test_unknown_function_and_bad_payloads_fail_at_invoke_time(invoker: InProcessInvoker) -> None:
    async def handler(payload: dict[str, Any]) -> None:
        pass

    invoker.register("f", handler)
    with pytest.raises(LookupError):
        await invoker.invoke_async("nope", {})
    with pytest.raises(TypeError):
        await invoker.invoke_async("f", {"audio": b"bytes are not JSON"})
    with pytest.raises(ValueError, match="128"):
        await invoker.invoke_async("f", {"audio": "x" * (129 * 1024)})


async def test_close_cancels_pending_jobs(invoker: InProcessInvoker) -> None:
    finished: list[bool] = []

    async def slow(payload: dict[str, Any]) -> None:
        await asyncio.sleep(10)
        finished.append(True)

    invoker.register("slow", slow)
    await invoker.invoke_async("slow", {})
    await invoker.close()
    assert finished == [] and invoker.pending == 0


async def test_handlers_come_from_the_resolver_built_in_once() -> None:
    """The job registry is the invoker's handler source: nobody registers on submit."""
    ran: list[str] = []
    asked: list[str] = []

    async def tts_jobs(payload: dict[str, Any]) -> None:
        ran.append(payload["job"])

    def resolve(function: str) -> Any:
        asked.append(function)
        return tts_jobs if function == "tts" else None

    invoker = InProcessInvoker(backoff_s=0.001, resolve=resolve)
    await invoker.invoke_async("tts", {"job": "tts_long"})
    await invoker.invoke_async("tts", {"job": "tts_seed000"})
    await invoker.drain()
    assert ran == ["tts_long", "tts_seed000"] and asked == ["tts", "tts"]
    with pytest.raises(LookupError):
        await invoker.invoke_async("chat", {})


def test_adapters_say_whether_queued_jobs_survive_a_restart() -> None:
    from voicefn.invoke.fc import FcInvoker

    assert InProcessInvoker.keeps_jobs_across_restarts is False
    assert FcInvoker.keeps_jobs_across_restarts is True
