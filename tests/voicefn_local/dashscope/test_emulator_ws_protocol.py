"""The CosyVoice WebSocket protocol in detail, with a raw client (reference §1, §7)."""

from __future__ import annotations

import asyncio

import pytest
import websockets

from tests.voicefn_local.dashscope.ds_helpers import (WsSession, continue_task, event_kind,
                                                      finish_task, run_task, set_faults, stats)
from voicefn.billing import billable_characters

RATE = 22050


async def test_event_sequence_frames_and_cumulative_usage(emulator) -> None:
    sentences = ["第一句话比较长一些。", "第二句。"]
    async with WsSession(emulator) as session:
        await session.send(run_task("t1"))
        assert event_kind(await session.recv()) == "task-started"
        await session.send(continue_task("t1", "".join(sentences)))
        await session.send(finish_task("t1"))
        messages = await session.until("task-finished")
    kinds = [event_kind(m) for m in messages]
    # per sentence: begin, (synthesis + ONE binary frame) x N, end
    cumulative = 0
    position = 0
    for index, sentence in enumerate(sentences):
        assert kinds[position] == "sentence-begin"
        assert messages[position]["payload"]["output"]["original_text"] == sentence
        assert messages[position]["payload"]["output"]["sentence"]["index"] == index
        position += 1
        frames = []
        while kinds[position] == "sentence-synthesis":
            assert kinds[position + 1] == "audio"
            frames.append(messages[position + 1])
            position += 2
        assert len(frames) >= 2
        for frame in frames[:-1]:
            assert 0.1 <= len(frame) / 2 / RATE <= 0.2  # ~100-200 ms of audio per frame
        assert sum(len(f) for f in frames) == round(0.2 * billable_characters(sentence) * RATE) * 2
        cumulative += billable_characters(sentence)
        assert kinds[position] == "sentence-end"
        assert messages[position]["payload"]["usage"]["characters"] == cumulative
        position += 1
    assert kinds[position:] == ["task-finished"]
    assert messages[-1]["payload"]["usage"]["characters"] == cumulative
    assert messages[-1]["header"]["task_id"] == "t1"


async def test_connection_is_reusable_and_trailing_slash_accepted(emulator) -> None:
    async with WsSession(emulator, path="/api-ws/v1/inference/") as session:
        for task_id in ("a", "b"):
            await session.send(run_task(task_id))
            assert event_kind(await session.recv()) == "task-started"
            await session.send(continue_task(task_id, "你好。"))
            await session.send(finish_task(task_id))
            finished = (await session.until("task-finished"))[-1]
            assert finished["header"]["task_id"] == task_id
            assert finished["payload"]["usage"]["characters"] == 5
    assert stats(emulator)["tts_ws_tasks"] == 2


async def test_new_run_task_aborts_the_current_one(emulator) -> None:
    set_faults(emulator, [{"match": {"api": "tts_ws"},
                           "fault": {"kind": "slow_frames", "frame_delay_ms": 50, "times": 1}}])
    async with WsSession(emulator) as session:
        await session.send(run_task("old"))
        await session.recv()
        await session.send(continue_task("old", "旧任务的句子。" * 20))
        await session.until("sentence-synthesis")
        await session.send(run_task("new"))
        messages = await session.until("task-started")
        assert messages[-1]["header"]["task_id"] == "new"
        await session.send(continue_task("new", "新。"))
        await session.send(finish_task("new"))
        after = await session.until("task-finished")
    assert all(isinstance(m, bytes) or m["header"]["task_id"] == "new" for m in after)
    assert after[-1]["payload"]["usage"]["characters"] == 3
    assert stats(emulator)["engine_calls"] < 10


async def test_text_is_buffered_until_a_sentence_completes_or_is_flushed(emulator) -> None:
    async with WsSession(emulator) as session:
        await session.send(run_task("t"))
        await session.recv()
        await session.send(continue_task("t", "今天天气"))
        await session.send(continue_task("t", "很好。明天"))
        begin = (await session.until("sentence-end"))[0]
        assert begin["payload"]["output"]["original_text"] == "今天天气很好。"
        await session.send(continue_task("t", flush=True))  # speaks "明天" without an ending
        flushed = await session.until("sentence-end")
        assert flushed[0]["payload"]["output"]["original_text"] == "明天"
        await session.send(finish_task("t"))
        finished = (await session.until("task-finished"))[-1]
    assert finished["payload"]["usage"]["characters"] == billable_characters("今天天气很好。明天")


async def test_ssml_is_spoken_without_tags_and_allows_one_text(emulator) -> None:
    async with WsSession(emulator) as session:
        await session.send(run_task("s", enable_ssml=True))
        await session.recv()
        await session.send(continue_task("s", '<speak>你好<break time="500ms"/>世界。</speak>'))
        begin = (await session.until("sentence-begin"))[-1]
        assert begin["payload"]["output"]["original_text"] == "你好世界。"
        await session.send(continue_task("s", "<speak>again</speak>"))
        failed = (await session.until("task-failed"))[-1]
    assert failed["header"]["error_code"] == "InvalidParameter"
    assert "expected 1" in failed["header"]["error_message"]


async def test_too_long_text_fails_and_the_connection_closes(emulator) -> None:
    async with WsSession(emulator) as session:
        await session.send(run_task("long"))
        await session.recv()
        await session.send(continue_task("long", "长" * 20_001))
        failed = await session.recv()
        assert failed["header"]["event"] == "task-failed"
        assert failed["header"]["error_code"] == "InvalidParameter"
        with pytest.raises(websockets.ConnectionClosedOK):
            await session.recv()


async def test_run_task_without_input_and_unknown_task_ids_fail(emulator) -> None:
    async with WsSession(emulator) as session:
        message = run_task("x")
        del message["payload"]["input"]
        await session.send(message)
        failed = await session.recv()
        assert failed["header"]["error_message"] == "task can not be null"
    async with WsSession(emulator) as session:
        await session.send(continue_task("never-started", "你好"))
        failed = await session.recv()
        assert failed["header"]["event"] == "task-failed"


async def test_unsupported_format_or_parameters_fail(emulator) -> None:
    for bad in ({"format": "aac"}, {"sample_rate": 11025}, {"format": "opus", "sample_rate": 22050},
                {"rate": 3.0}, {"volume": 101}):
        async with WsSession(emulator) as session:
            await session.send(run_task("p", **bad))
            failed = await session.recv()
            assert failed["header"]["event"] == "task-failed", bad
            assert failed["header"]["error_code"] == "InvalidParameter"


async def test_malformed_json_closes_with_1007(emulator) -> None:
    async with WsSession(emulator) as session:
        await session.ws.send("{not json")
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await session.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1007


async def test_bad_or_missing_key_gets_401_before_accept(emulator) -> None:
    for headers in ({"Authorization": "Bearer sk-invalid"}, {}):
        with pytest.raises(websockets.InvalidStatus) as refused:
            await websockets.connect(f"{emulator.ws_base_url}/api-ws/v1/inference",
                                     additional_headers=headers)
        assert refused.value.response.status_code == 401
        assert b"InvalidApiKey" in refused.value.response.body
    assert stats(emulator)["auth_failures"] == 2


async def test_client_disconnect_stops_synthesis(emulator) -> None:
    set_faults(emulator, [{"match": {"api": "tts_ws"},
                           "fault": {"kind": "slow_frames", "frame_delay_ms": 10}}])
    async with WsSession(emulator) as session:
        await session.send(run_task("d"))
        await session.recv()
        await session.send(continue_task("d", "这是一个句子。" * 50))  # 50 sentences
        await session.until("sentence-synthesis")
    await asyncio.sleep(0.3)
    calls = stats(emulator)["engine_calls"]
    await asyncio.sleep(0.5)
    assert stats(emulator)["engine_calls"] == calls <= 2  # stopped, not still burning CPU


async def test_voicefn_session_sees_each_frames_sentence_and_sentence_end_usage(emulator) -> None:
    """The emulator tells, as DashScope does, which sentence each frame speaks."""
    from voicefn.billing import billable_characters
    from voicefn.dashscope.tts_ws import CosyVoiceSession
    from voicefn.dashscope.tts_ws_messages import AudioFrame, SentenceBegin, SentenceEnd

    sentences = ["第一句话。", "第二句话比较长一些。", "Third."]
    url = f"{emulator.ws_base_url}/api-ws/v1/inference"
    async with CosyVoiceSession(url, "sk-test", model="cosyvoice-v3-flash", voice="longanyang",
                                format="pcm", sample_rate=8000, idle_timeout_s=10) as s:
        for text in sentences:
            await s.send_text(text)
        await s.finish()
        events = [e async for e in s.events()]
    begins = [e for e in events if isinstance(e, SentenceBegin)]
    ends = [e for e in events if isinstance(e, SentenceEnd)]
    assert [(b.index, b.text) for b in begins] == list(enumerate(sentences))
    running = 0
    for end, text in zip(ends, sentences):
        running += billable_characters(text)
        assert end.characters == running  # cumulative, as DashScope reports it
    # every frame between a sentence's begin and end carries that sentence's index
    current = -1
    for e in events:
        if isinstance(e, SentenceBegin):
            current = e.index
        elif isinstance(e, AudioFrame):
            assert e.sentence == current
    frames = [e for e in events if isinstance(e, AudioFrame)]
    assert {f.sentence for f in frames} == {0, 1, 2}
    # deterministic engine: 0.2 s per billed character, 16-bit mono
    assert sum(len(f.data) for f in frames) == pytest.approx(0.2 * running * 8000 * 2, abs=3 * 2 * 8000 * 0.01)
