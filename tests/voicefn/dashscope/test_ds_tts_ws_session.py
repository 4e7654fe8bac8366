"""CosyVoiceSession and synthesize() against an in-test fake CosyVoice server."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from voicefn.dashscope.errors import UpstreamError, to_api_error
from voicefn.dashscope.tts_ws import CosyVoiceSession, synthesize, synthesize_to_bytes

PARAMS = dict(model="cosyvoice-v3-flash", voice="longanyang", format="pcm", sample_rate=22050)


def session(fake, **overrides) -> CosyVoiceSession:
    api_key = overrides.pop("api_key", "sk-test")
    options = {**PARAMS, "connect_timeout_s": 2.0, "idle_timeout_s": 2.0, **overrides}
    return CosyVoiceSession(fake.url, api_key, **options)


async def test_one_shot_returns_audio_in_order_and_billed_characters(cosyvoice):
    cosyvoice.chunks_per_text = 3
    result = await synthesize_to_bytes(cosyvoice.url, "sk-test", text="你好，world", **PARAMS,
                                       timeout_s=2.0)
    assert result.audio == b"".join(cosyvoice.chunk("你好，world", i) for i in range(3))
    assert result.characters == cosyvoice.billed("你好，world") == 10
    actions = [m["header"]["action"] for m in cosyvoice.messages()]
    assert actions == ["run-task", "continue-task", "finish-task"]
    assert result.request_id == cosyvoice.messages()[0]["header"]["task_id"]


async def test_stream_yields_chunks_as_they_arrive(cosyvoice):
    stream = synthesize(cosyvoice.url, "sk-test", text="abc", **PARAMS, timeout_s=2.0)
    chunks = [chunk async for chunk in stream]
    assert chunks == [cosyvoice.chunk("abc", 0), cosyvoice.chunk("abc", 1)]
    assert stream.characters == 3
    assert stream.first_audio_delay_s is not None and stream.first_audio_delay_s >= 0


async def test_duplex_session_many_texts_cumulative_characters(cosyvoice):
    async with session(cosyvoice) as s:
        received: list[bytes] = []

        async def consume() -> None:
            async for chunk in s.audio():
                received.append(chunk)

        reader = asyncio.create_task(consume())
        await s.send_text("第一句。")
        await s.send_text("第二句。")
        await s.finish()
        await asyncio.wait_for(reader, 2)
    expected = [cosyvoice.chunk(t, i) for t in ("第一句。", "第二句。") for i in range(2)]
    assert received == expected
    assert s.characters == 2 * cosyvoice.billed("第一句。")
    assert s.finished and s.request_uuid == "req-" + s.task_id[:8]


async def test_task_failed_raises_upstream_code(cosyvoice):
    with pytest.raises(UpstreamError) as info:
        await synthesize_to_bytes(cosyvoice.url, "sk-test", text="hi", timeout_s=2.0,
                                  **{**PARAMS, "voice": "fail"})
    err = info.value
    assert err.code == "InvalidParameter" and "418" in err.message
    assert not err.retryable
    assert to_api_error(err).code == "INVALID_PARAMETER"


async def test_task_failed_after_audio_raises_from_the_stream(cosyvoice):
    cosyvoice.fault, cosyvoice.fail_code = "fail_after_audio", "InternalError"
    stream = synthesize(cosyvoice.url, "sk-test", text="hi", **PARAMS, timeout_s=2.0)
    got = []
    with pytest.raises(UpstreamError) as info:
        async for chunk in stream:
            got.append(chunk)
    assert got == [cosyvoice.chunk("hi", 0)]
    assert info.value.code == "InternalError" and info.value.retryable


async def test_handshake_401_is_unauthorized(cosyvoice):
    started = time.monotonic()
    with pytest.raises(UpstreamError) as info:
        async with session(cosyvoice, api_key="sk-wrong"):
            pass
    assert time.monotonic() - started < 1.0  # refused at once, not after a timeout
    err = info.value
    assert (err.code, err.http_status, err.retryable) == ("InvalidApiKey", 401, False)
    api = to_api_error(err)
    assert (api.code, api.status) == ("UNAUTHORIZED", 401)
    assert "sk-wrong" not in str(err) and "sk-wrong" not in api.message
    assert cosyvoice.received == []  # the handler never ran


async def test_server_dropping_mid_stream_is_retryable(cosyvoice):
    cosyvoice.fault = "drop"
    got = []
    with pytest.raises(UpstreamError) as info:
        async for chunk in synthesize(cosyvoice.url, "sk-test", text="hi", **PARAMS,
                                      timeout_s=2.0):
            got.append(chunk)
    assert got == [cosyvoice.chunk("hi", 0)]
    assert info.value.code == "ConnectionError" and info.value.retryable
    assert to_api_error(info.value).code == "UPSTREAM_ERROR"


async def test_task_started_never_comes_times_out_within_bound(cosyvoice):
    cosyvoice.fault = "no_start"
    started = time.monotonic()
    with pytest.raises(UpstreamError) as info:
        async with session(cosyvoice, connect_timeout_s=0.3):
            pass
    elapsed = time.monotonic() - started
    assert 0.3 <= elapsed < 1.5
    assert info.value.code == "RequestTimeOut" and info.value.retryable
    assert to_api_error(info.value).code == "TIMEOUT"


async def test_silence_mid_stream_hits_idle_timeout(cosyvoice):
    cosyvoice.fault = "stall"
    started = time.monotonic()
    with pytest.raises(UpstreamError) as info:
        async for _ in synthesize(cosyvoice.url, "sk-test", text="hi", **PARAMS, timeout_s=0.3):
            pass
    assert time.monotonic() - started < 1.5
    assert info.value.code == "RequestTimeOut" and info.value.retryable


async def test_cancel_sends_finish_task_with_directive_cancel(cosyvoice):
    async with session(cosyvoice) as s:
        await s.send_text("hello")
        await s.cancel()
        chunks = [c async for c in s.audio()]  # ends at the task-finished that answers cancel
    finish = cosyvoice.messages()[-1]
    assert finish["header"]["action"] == "finish-task"
    assert finish["payload"] == {"input": {"directive": "cancel"}}
    assert finish["header"]["task_id"] == s.task_id
    assert chunks == []  # frames still in flight after cancel are dropped


async def test_consumer_leaving_early_cancels_upstream(cosyvoice):
    cosyvoice.chunks_per_text = 5
    stream = synthesize(cosyvoice.url, "sk-test", text="long text", **PARAMS, timeout_s=2.0)
    async for _ in stream:
        break
    await stream.aclose()
    await asyncio.wait_for(cosyvoice.closed.wait(), 2)
    actions = [(m["header"]["action"], m["payload"].get("input")) for m in cosyvoice.messages()]
    assert actions[-1] == ("finish-task", {"directive": "cancel"})


async def test_slow_consumer_holds_the_server_back(cosyvoice):
    # 100 frames of 256 KiB: far more than socket buffers plus websockets' max_queue hold.
    cosyvoice.chunks_per_text, cosyvoice.chunk_size = 100, 256 * 1024
    async with session(cosyvoice, max_queue=4) as s:
        await s.send_text("x")
        await s.finish()
        frames = s.audio()
        first = await frames.__anext__()
        await asyncio.sleep(0.3)  # a stalled consumer
        assert cosyvoice.frames_sent < 100, "the client read ahead of its consumer"
        rest = [chunk async for chunk in frames]
    assert [first, *rest] == [cosyvoice.chunk("x", i, 256 * 1024) for i in range(100)]


async def test_enable_ssml_allows_one_text(cosyvoice):
    async with session(cosyvoice, enable_ssml=True) as s:
        await s.send_text("<speak>hi</speak>")
        with pytest.raises(ValueError):
            await s.send_text("again")
        await s.finish()
        assert [c async for c in s.audio()]


async def test_connection_refused_is_retryable():
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(UpstreamError) as info:
        async with CosyVoiceSession(f"ws://127.0.0.1:{port}/", "k", **PARAMS,
                                    connect_timeout_s=1.0):
            pass
    assert info.value.code == "ConnectionError" and info.value.retryable


async def test_debug_logging_never_shows_the_key_or_audio(cosyvoice, caplog):
    caplog.set_level(logging.DEBUG)
    await synthesize_to_bytes(cosyvoice.url, "sk-test", text="secret words", **PARAMS,
                              timeout_s=2.0)
    client_side = [r.getMessage() for r in caplog.records if not r.name.endswith(".server")]
    assert not [m for m in client_side if "sk-test" in m or "secret words" in m]


async def test_events_report_sentences_and_the_sentence_of_every_frame(cosyvoice):
    from voicefn.dashscope.tts_ws_messages import AudioFrame, SentenceBegin, SentenceEnd

    async with session(cosyvoice) as s:
        await s.send_text("第一句。")
        await s.finish()
        events = [e async for e in s.events()]
    billed = cosyvoice.billed("第一句。")
    assert events == [SentenceBegin(0, "第一句。"),
                      AudioFrame(cosyvoice.chunk("第一句。", 0), 0),
                      AudioFrame(cosyvoice.chunk("第一句。", 1), 0),
                      SentenceEnd(0, "第一句。", billed)]
    assert s.characters == billed


async def test_a_cancelled_receive_stays_a_cancellation_not_a_timeout(cosyvoice):
    cosyvoice.fault = "stall"

    async def listen() -> None:
        async for _ in synthesize(cosyvoice.url, "sk-test", text="hi", **PARAMS, timeout_s=0.3):
            pass

    task = asyncio.ensure_future(listen())
    await asyncio.sleep(0.1)  # waiting for audio that does not come
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_the_idle_timeout_counts_from_the_last_frame_not_the_first(cosyvoice):
    # frames keep coming for longer than the idle timeout: no timeout, however long the stream
    cosyvoice.chunks_per_text = 8
    cosyvoice.frame_delay_s = 0.1  # 0.8 s of stream, a frame every 0.1 s
    chunks = [c async for c in synthesize(cosyvoice.url, "sk-test", text="hi", **PARAMS, timeout_s=0.3)]
    assert len(chunks) == 8
