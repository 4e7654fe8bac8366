"""voicefn.tts.live against a fake DashScope client: text pieces in, audio out, recorded once."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from voicefn.auth.principal import Principal
from voicefn.billing import billable_characters
from voicefn.errors import ApiError
from voicefn.pipeline import AudioChunk, EndOfTurn, Sentence
from voicefn.services import Services
from voicefn.tts.live import LiveSynthesis, texts_of
from voicefn.tts.params import VoiceSettings

from .conftest import FRAME_BYTES, FakeDashScope, frame

SETTINGS = VoiceSettings(model="cosyvoice-v3-flash", voice="longanyang", format="pcm", sample_rate=8000)


def live(services: Services, principal: Principal, texts: AsyncIterator[str], **kw: bool) -> LiveSynthesis:
    return LiveSynthesis(services, principal, SETTINGS, "sk-platform", texts, **kw)


async def history(services: Services, principal: Principal) -> list[dict]:
    items, _ = await services.state.list_history(principal.user_id, page=1, page_size=50)
    return items


async def test_audio_comes_in_order_with_its_sentence_and_is_stored_cached_and_billed(
        services: Services, principal: Principal, fake_dashscope: FakeDashScope) -> None:
    pieces = ["第一句。", "第二句。", "Third one."]
    synthesis = live(services, principal, texts_of(pieces))
    events = [e async for e in synthesis.events()]

    chunks = [e for e in events if isinstance(e, AudioChunk)]
    assert [c.data for c in chunks] == [frame(t, k) for t in pieces for k in range(3)]
    assert [c.sentence for c in chunks] == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert [e for e in events if isinstance(e, Sentence)] == [Sentence(i, t) for i, t in enumerate(pieces)]
    assert events[-1] == EndOfTurn(billable_characters("".join(pieces)))

    recorded = synthesis.recorded
    assert recorded is not None and recorded.audio_url
    assert recorded.duration == pytest.approx(9 * FRAME_BYTES / 16000)
    [record] = await history(services, principal)
    assert record["id"] == recorded.record_id and float(record["bill"]) > 0
    # the cache now knows this text with these settings
    from voicefn.tts.service import TtsService
    hit = await TtsService(services).cached(SETTINGS.with_text("".join(pieces)))
    assert hit is not None and await services.objects.get(hit.object_key) == b"".join(c.data for c in chunks)
    assert len(fake_dashscope.sessions) == 1 and not fake_dashscope.sessions[0].cancelled


async def test_a_failure_before_the_first_audio_is_retried_with_all_the_text_so_far(
        services: Services, principal: Principal, fake_dashscope: FakeDashScope) -> None:
    fake_dashscope.faults = ["fail_start", "fail_before_audio", None]
    pieces = ["一。", "二。"]
    synthesis = live(services, principal, texts_of(pieces))
    audio = b"".join([c async for c in synthesis.audio()])
    assert audio == b"".join(frame(t, k) for t in pieces for k in range(3))  # once, not twice
    assert len(fake_dashscope.sessions) == 3
    assert fake_dashscope.sessions[-1].texts == pieces  # the replacement got the whole log
    assert len(await history(services, principal)) == 1  # one bill


async def test_a_failure_after_audio_was_delivered_ends_the_stream_with_an_error_and_no_bill(
        services: Services, principal: Principal, fake_dashscope: FakeDashScope) -> None:
    fake_dashscope.faults = ["fail_after_audio"]
    got: list[bytes] = []
    with pytest.raises(ApiError) as failed:
        async for chunk in live(services, principal, texts_of(["一。"])).audio():
            got.append(chunk)
    assert got == [frame("一。", 0)]
    assert failed.value.status == 502
    assert len(fake_dashscope.sessions) == 1  # not retried: the listener had audio already
    assert await history(services, principal) == []


async def test_a_refused_key_fails_open_before_anything_is_sent(
        services: Services, principal: Principal, fake_dashscope: FakeDashScope) -> None:
    fake_dashscope.faults = ["bad_key"]
    synthesis = live(services, principal, texts_of(["x"]))
    with pytest.raises(ApiError) as refused:
        await synthesis.open()
    assert refused.value.status in (401, 403)
    assert len(fake_dashscope.sessions) == 1


async def test_a_listener_that_leaves_cancels_the_upstream_and_every_stage(
        services: Services, principal: Principal, fake_dashscope: FakeDashScope) -> None:
    fake_dashscope.frames_per_text = 1000
    fake_dashscope.frame_delay_s = 0.001
    reader_stopped = asyncio.Event()

    async def endless() -> AsyncIterator[str]:
        try:
            while True:
                yield "再来一句。"
                await asyncio.sleep(0.01)
        finally:
            reader_stopped.set()

    before = len(asyncio.all_tasks())
    synthesis = live(services, principal, endless())
    audio = synthesis.audio()
    await audio.__anext__()
    await audio.aclose()  # the client went away
    assert reader_stopped.is_set()
    assert fake_dashscope.sessions[0].cancelled and fake_dashscope.sessions[0].closed
    assert len(asyncio.all_tasks()) == before  # no orphan task
    assert await history(services, principal) == []  # not delivered in full: not billed


async def test_text_pieces_are_regrouped_into_sentences_as_they_arrive(
        services: Services, principal: Principal, fake_dashscope: FakeDashScope) -> None:
    sent_at_first_audio: list[str] = []

    async def slow_client() -> AsyncIterator[str]:
        for piece in ["你好，", "这是双向", "流式合成。", "Second sentence", " in English."]:
            yield piece
            await asyncio.sleep(0.01)

    synthesis = live(services, principal, slow_client(), regroup=True)
    async for _ in synthesis.audio():
        if not sent_at_first_audio:
            sent_at_first_audio = list(fake_dashscope.sessions[0].texts)
    assert fake_dashscope.sessions[0].texts == ["你好，这是双向流式合成。", "Second sentence in English."]
    assert sent_at_first_audio == ["你好，这是双向流式合成。"]  # spoken before the text ended
    assert synthesis.text == "你好，这是双向流式合成。Second sentence in English."


async def test_a_source_that_fails_ends_the_stream_with_its_error_and_cancels_upstream(
        services: Services, principal: Principal, fake_dashscope: FakeDashScope) -> None:
    async def bad_client() -> AsyncIterator[str]:
        yield "一句。"
        await asyncio.sleep(0.05)
        raise ApiError("INVALID_PARAMETER", "message is not JSON")

    fake_dashscope.frame_delay_s = 0.001
    with pytest.raises(ApiError, match="not JSON"):
        async for _ in live(services, principal, bad_client()).audio():
            pass
    assert fake_dashscope.sessions[0].cancelled


async def test_a_stream_too_long_to_keep_is_delivered_and_billed_but_not_stored(
        services: Services, principal: Principal, fake_dashscope: FakeDashScope,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import voicefn.tts.recorder as recorder

    monkeypatch.setattr(recorder, "STORE_MAX_BYTES", 4 * FRAME_BYTES)
    monkeypatch.setattr(recorder, "SPOOL_MEMORY_BYTES", 1024)
    synthesis = live(services, principal, texts_of(["一。", "二。"]))
    received = sum([len(c) async for c in synthesis.audio()])
    assert received == 6 * FRAME_BYTES
    assert synthesis.recorded is not None and synthesis.recorded.audio_url is None
    assert synthesis.recorded.duration == pytest.approx(6 * FRAME_BYTES / 16000)
    [record] = await history(services, principal)
    assert float(record["bill"]) > 0 and not record.get("output_key")


def test_the_recorder_spools_to_disk_and_stops_keeping_past_its_bound() -> None:
    from voicefn.tts.recorder import StreamRecorder

    rec = StreamRecorder(memory_bytes=1000, store_max_bytes=5000)
    rec.write(b"a" * 800)
    assert not rec._spool._rolled  # type: ignore[attr-defined]  # still in memory
    rec.write(b"b" * 800)
    assert rec._spool._rolled  # type: ignore[attr-defined]  # on disk past the memory bound
    rec.write(b"c" * 5000)
    assert rec.size == 6600 and not rec.storable
    rec.discard()


async def test_sessions_are_asked_for_dashscopes_parameter_names(
        services: Services, principal: Principal, fake_dashscope: FakeDashScope) -> None:
    settings = VoiceSettings(model="cosyvoice-v3-flash", voice="longanyang", format="pcm",
                             sample_rate=8000, speech_rate=1.5, pitch_rate=0.8, volume=70)
    synthesis = LiveSynthesis(services, principal, settings, "sk-platform", texts_of(["一。"]))
    async with contextlib.aclosing(synthesis.audio()) as audio:
        async for _ in audio:
            pass
    params = fake_dashscope.sessions[0].params
    assert (params.rate, params.pitch, params.volume, params.enable_ssml) == (1.5, 0.8, 70, False)


async def test_sentences_are_spoken_concurrently_delivered_in_order_cached_and_not_billed(
        services: Services, principal: Principal, fake_dashscope: FakeDashScope) -> None:
    from voicefn.tts.live import speak_sentences
    from voicefn.tts.service import TtsService

    fake_dashscope.frame_delay_s = 0.002
    texts = ["第一句。", "第二句。", "第三句。", "第四句。"]

    async def sentences() -> AsyncIterator[Sentence]:
        for i, text in enumerate(texts):
            yield Sentence(i, text)

    totals: list[int] = []
    events = [e async for e in speak_sentences(services, principal, SETTINGS, "sk-platform", sentences(),
                                               limit=2, totals=totals)]
    chunks = [e for e in events if isinstance(e, AudioChunk)]
    assert [c.data for c in chunks] == [frame(t, k) for t in texts for k in range(3)]
    assert [c.sentence for c in chunks] == [i for i in range(4) for _ in range(3)]
    assert totals == [billable_characters(t) for t in texts]
    spoke = [s for s in fake_dashscope.sessions if s.texts]
    assert [s.texts for s in spoke] == [[t] for t in texts]
    # a task started ahead that no sentence needed got no text, and was cancelled unbilled
    unused = [s for s in fake_dashscope.sessions if not s.texts]
    assert len(unused) <= 1 and all(s.cancelled and s.characters == 0 for s in unused)
    assert await history(services, principal) == []  # the turn bills, not each sentence
    hit = await TtsService(services).cached(SETTINGS.with_text("第三句。"))
    assert hit is not None
    assert await services.objects.get(hit.object_key) == b"".join(frame("第三句。", k) for k in range(3))


async def test_a_listener_leaving_mid_reply_stops_every_sentence_synthesis(
        services: Services, principal: Principal, fake_dashscope: FakeDashScope) -> None:
    from voicefn.tts.live import speak_sentences

    fake_dashscope.frames_per_text = 500
    fake_dashscope.frame_delay_s = 0.001

    async def sentences() -> AsyncIterator[Sentence]:
        for i in range(100):
            yield Sentence(i, f"第{i}句。")

    before = len(asyncio.all_tasks())
    spoken = speak_sentences(services, principal, SETTINGS, "sk-platform", sentences(), limit=3)
    async for event in spoken:
        if isinstance(event, AudioChunk):
            break
    await spoken.aclose()
    assert len(asyncio.all_tasks()) == before
    assert 1 <= len(fake_dashscope.sessions) <= 4
    assert all(s.closed for s in fake_dashscope.sessions)
    assert all(s.cancelled for s in fake_dashscope.sessions)


async def test_the_next_sentence_finds_its_task_started_ahead(
        services: Services, principal: Principal, fake_dashscope: FakeDashScope) -> None:
    """A task takes 0.2 s to start here; a sentence that comes later than that after the previous
    one starts speaking at once (the first pays its start: nothing is started before it)."""
    from voicefn.tts.live import speak_sentences

    fake_dashscope.start_delay_s = 0.2
    came: dict[int, float] = {}

    async def sentences() -> AsyncIterator[Sentence]:
        for i, text in enumerate(["第一句。", "第二句。", "第三句。"]):
            await asyncio.sleep(0.3)  # the LLM writing it
            came[i] = asyncio.get_running_loop().time()
            yield Sentence(i, text)

    first_audio: dict[int, float] = {}
    async for event in speak_sentences(services, principal, SETTINGS, "sk-platform", sentences(), limit=3):
        if isinstance(event, AudioChunk):
            first_audio.setdefault(event.sentence, asyncio.get_running_loop().time())
    waits = [first_audio[i] - came[i] for i in range(3)]
    assert waits[0] >= 0.2 and all(w < 0.1 for w in waits[1:]), waits  # not the 0.2 s of a task start
    spoke = [s for s in fake_dashscope.sessions if s.texts]
    assert len(spoke) == 3 and all(s.finished and not s.cancelled for s in spoke)
    assert all(s.cancelled and s.characters == 0 for s in fake_dashscope.sessions if not s.texts)
    assert len(fake_dashscope.sessions) <= 4


async def test_a_task_started_ahead_too_long_ago_is_replaced(
        services: Services, principal: Principal, fake_dashscope: FakeDashScope) -> None:
    from voicefn.tts.live import LiveSynthesis
    from voicefn.tts.prestart import Prestarted

    ahead = Prestarted(lambda texts: LiveSynthesis(services, principal, SETTINGS, "sk-platform", texts,
                                                   bill=False), max_age_s=0.05)
    ahead.prepare()
    await asyncio.sleep(0.1)
    synthesis = await ahead.take("一。")
    audio = b"".join([c async for c in synthesis.audio()])
    assert audio == b"".join(frame("一。", k) for k in range(3))
    assert ahead.used_ahead == 0
    stale, used = fake_dashscope.sessions
    assert stale.cancelled and not stale.texts and used.texts == ["一。"]
    await ahead.aclose()


async def test_a_task_started_ahead_that_failed_is_replaced(
        services: Services, principal: Principal, fake_dashscope: FakeDashScope) -> None:
    from voicefn.tts.live import LiveSynthesis
    from voicefn.tts.prestart import Prestarted

    fake_dashscope.faults = ["bad_key"]  # not retryable: the task started ahead fails at once
    ahead = Prestarted(lambda texts: LiveSynthesis(services, principal, SETTINGS, "sk-platform", texts,
                                                   bill=False))
    ahead.prepare()
    await asyncio.sleep(0.05)
    synthesis = await ahead.take("二。")
    audio = b"".join([c async for c in synthesis.audio()])
    assert audio == b"".join(frame("二。", k) for k in range(3))
    assert ahead.used_ahead == 0 and [s.texts for s in fake_dashscope.sessions] == [[], ["二。"]]
    await ahead.aclose()
