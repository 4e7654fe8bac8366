"""Warm CosyVoice connections are reused for the next task, and only when that is safe."""

from __future__ import annotations

import time

import pytest

from voicefn.dashscope.errors import UpstreamError
from voicefn.dashscope.tts_ws import CosyVoiceSession
from voicefn.dashscope.ws_pool import ConnectionPool, pool_key

ARGS = {"model": "cosyvoice-v3-flash", "voice": "longanyang", "format": "mp3", "sample_rate": 22050}


async def run_task(url: str, pool: ConnectionPool, text: str = "你好。", voice: str = "longanyang",
                   api_key: str = "sk-test") -> tuple[bytes, bool]:
    async with CosyVoiceSession(url, api_key, pool=pool, **{**ARGS, "voice": voice}) as session:
        await session.send_text(text)
        await session.finish()
        audio = b"".join([chunk async for chunk in session.audio()])
        return audio, session.reused_connection


async def test_sequential_tasks_share_one_connection(cosyvoice) -> None:
    pool = ConnectionPool()
    first, reused_first = await run_task(cosyvoice.url, pool, "第一句。")
    second, reused_second = await run_task(cosyvoice.url, pool, "第二句。")
    assert len(cosyvoice.received) == 1  # one WebSocket, two run-tasks on it
    actions = [m["header"]["action"] for m in cosyvoice.messages(0)]
    assert actions.count("run-task") == 2 and actions.count("finish-task") == 2
    assert (reused_first, reused_second) == (False, True)
    assert first and second and first != second


async def test_a_failed_task_does_not_return_its_connection(cosyvoice) -> None:
    pool = ConnectionPool()
    with pytest.raises(UpstreamError):
        await run_task(cosyvoice.url, pool, voice="fail")
    assert pool.idle_count() == 0
    await run_task(cosyvoice.url, pool)
    assert len(cosyvoice.received) == 2


async def test_an_abandoned_task_is_cancelled_and_not_reused(cosyvoice) -> None:
    pool = ConnectionPool()
    async with CosyVoiceSession(cosyvoice.url, "sk-test", pool=pool, **ARGS) as session:
        await session.send_text("很长的一段话。")
        async for _ in session.audio():
            break  # the consumer leaves early
    assert cosyvoice.cancelled.is_set()
    assert pool.idle_count() == 0


async def test_expired_and_closed_connections_are_not_handed_out(cosyvoice) -> None:
    pool = ConnectionPool(idle_ttl_s=0.05)
    await run_task(cosyvoice.url, pool)
    time.sleep(0.1)
    _, reused = await run_task(cosyvoice.url, pool)
    assert reused is False and len(cosyvoice.received) == 2
    # a connection the server closed while idle is skipped transparently
    live = ConnectionPool()
    await run_task(cosyvoice.url, live)
    ws = live.take(pool_key(cosyvoice.url, "sk-test"))
    await ws.close()
    live.give(pool_key(cosyvoice.url, "sk-test"), ws)
    audio, reused = await run_task(cosyvoice.url, live)
    assert audio and reused is False


async def test_connections_are_kept_per_api_key(cosyvoice) -> None:
    pool = ConnectionPool()
    await run_task(cosyvoice.url, pool)
    assert pool.take(pool_key(cosyvoice.url, "sk-other")) is None
    assert pool.take(pool_key(cosyvoice.url, "sk-test")) is not None
