"""POST /v1/audio/transcriptions with the official openai client."""

from __future__ import annotations

import asyncio
import json
import time
from decimal import Decimal

import httpx
import pytest
from openai import BadRequestError, OpenAI

from tests.functions.asr.audio_samples import script, wav
from tests.stack import Stack


def client_for(stack: Stack) -> OpenAI:
    return OpenAI(api_key=stack.token("openai-asr"), base_url=f"{stack.base_url}/v1", max_retries=0)


@pytest.mark.usefixtures("no_faults")
def test_openai_client_transcriptions_create(stack: Stack) -> None:
    audio = wav(2.5, freq=700)
    script(stack, audio, "hello from the openai client")
    client = client_for(stack)
    result = client.audio.transcriptions.create(model="whisper-1", file=("clip.wav", audio, "audio/wav"))
    assert result.text == "hello from the openai client"
    text = client.audio.transcriptions.create(model="whisper-1", file=("clip.wav", audio, "audio/wav"),
                                              response_format="text")
    assert text.strip() == "hello from the openai client"
    srt = client.audio.transcriptions.create(model="whisper-1", file=("clip.wav", audio, "audio/wav"),
                                             response_format="srt")
    assert srt.startswith("1\n00:00:00,000 --> 00:00:02,500\nhello from the openai client")
    vtt = client.audio.transcriptions.create(model="qwen3-asr-flash", file=("clip.wav", audio, "audio/wav"),
                                             response_format="vtt", language="en", prompt="greetings")
    assert vtt.startswith("WEBVTT") and "00:00:00.000 --> 00:00:02.500" in vtt
    verbose = client.audio.transcriptions.create(model="whisper-1", file=("clip.wav", audio, "audio/wav"),
                                                 response_format="verbose_json")
    assert verbose.text == "hello from the openai client" and verbose.duration == pytest.approx(2.5)
    assert verbose.segments[0].end == pytest.approx(2.5)


def test_errors_are_openai_shaped(stack: Stack) -> None:
    client = client_for(stack)
    with pytest.raises(BadRequestError) as fake:
        client.audio.transcriptions.create(model="whisper-1", file=("x.wav", b"nope" * 100, "audio/wav"))
    assert fake.value.body["code"] == "invalid_audio"
    with pytest.raises(BadRequestError) as model:
        client.audio.transcriptions.create(model="tts-1", file=("x.wav", wav(1), "audio/wav"))
    assert model.value.body["code"] == "invalid_model"


# -- timed formats: file transcription's sentences are the cues ------------------------------------

TWO_SENTENCES = "Hello there. This is the second sentence."
# 3.3 s of audio and 33 letters: the deterministic engine gives each letter 100 ms exactly
CUES_MS = [(0, 1000, "Hello there."), (1000, 3300, "This is the second sentence.")]
WORDS_MS = [("Hello", 0, 500), ("there", 500, 1000), ("This", 1000, 1400), ("is", 1400, 1600),
            ("the", 1600, 1900), ("second", 1900, 2500), ("sentence", 2500, 3300)]


def two_sentence_clip(stack: Stack, freq: float) -> bytes:
    audio = wav(3.3, freq=freq)
    script(stack, audio, TWO_SENTENCES)
    return audio


def asr_history(stack: Stack, user: str) -> list[dict]:
    with stack.client(user) as client:
        return client.get("/api/audio/history", params={"type": "asr"}).json()["data"]["items"]


@pytest.mark.usefixtures("no_faults")
def test_srt_and_vtt_have_one_cue_per_sentence_at_its_times(stack: Stack) -> None:
    audio = two_sentence_clip(stack, 810)
    client = client_for(stack)
    srt = client.audio.transcriptions.create(model="whisper-1", file=("clip.wav", audio, "audio/wav"),
                                             response_format="srt")
    assert srt == ("1\n00:00:00,000 --> 00:00:01,000\nHello there.\n\n"
                   "2\n00:00:01,000 --> 00:00:03,300\nThis is the second sentence.\n")
    vtt = client.audio.transcriptions.create(model="whisper-1", file=("clip.wav", audio, "audio/wav"),
                                             response_format="vtt")
    assert vtt == ("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nHello there.\n\n"
                   "00:00:01.000 --> 00:00:03.300\nThis is the second sentence.\n")


@pytest.mark.usefixtures("no_faults")
def test_verbose_json_segments_and_words_parse_in_the_openai_client(stack: Stack) -> None:
    audio = two_sentence_clip(stack, 820)
    client = client_for(stack)
    verbose = client.audio.transcriptions.create(model="whisper-1", file=("clip.wav", audio, "audio/wav"),
                                                 response_format="verbose_json", timestamp_granularities=["segment"])
    assert verbose.text == TWO_SENTENCES and verbose.language == "en"
    assert verbose.duration == pytest.approx(3.3)
    assert [(s.id, s.start, s.end, s.text) for s in verbose.segments or []] == [
        (i, a / 1000, b / 1000, text) for i, (a, b, text) in enumerate(CUES_MS)]
    assert verbose.words is None                         # not asked for
    both = client.audio.transcriptions.create(model="whisper-1", file=("clip.wav", audio, "audio/wav"),
                                              response_format="verbose_json",
                                              timestamp_granularities=["word", "segment"])
    assert [(w.word, w.start, w.end) for w in both.words or []] == [(w, a / 1000, b / 1000) for w, a, b in WORDS_MS]
    assert len(both.segments or []) == 2
    words_only = client.audio.transcriptions.create(model="whisper-1", file=("clip.wav", audio, "audio/wav"),
                                                    response_format="verbose_json", timestamp_granularities=["word"])
    assert words_only.segments is None and len(words_only.words or []) == len(WORDS_MS)


def test_an_unknown_granularity_is_an_openai_400(stack: Stack) -> None:
    client = client_for(stack)
    with pytest.raises(BadRequestError) as bad:
        client.audio.transcriptions.create(model="whisper-1", file=("x.wav", wav(1), "audio/wav"),
                                           response_format="verbose_json",
                                           timestamp_granularities=["sentence"])  # type: ignore[list-item]
    assert bad.value.body["code"] == "invalid_parameter" and bad.value.body["param"] == "timestamp_granularities"


@pytest.mark.usefixtures("no_faults")
def test_a_timed_request_is_one_transcription_of_our_own_signed_object_billed_once(
        stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    from voicefn.storage.owners import owns

    dashscope = stack.services.dashscope
    given: list[str] = []
    submit = dashscope.submit_transcription

    async def spy(**kwargs: object) -> str:
        given.append(str(kwargs["file_url"]))
        return await submit(**kwargs)

    monkeypatch.setattr(dashscope, "submit_transcription", spy)
    audio = two_sentence_clip(stack, 830)
    user = "openai-timed-bill"
    before = stack.stats()
    client = OpenAI(api_key=stack.token(user), base_url=f"{stack.base_url}/v1", max_retries=0)
    srt = client.audio.transcriptions.create(model="whisper-1", file=("clip.wav", audio, "audio/wav"),
                                             response_format="srt")
    after = stack.stats()
    assert srt.count(" --> ") == 2
    assert after.get("asr_filetrans_tasks", 0) - before.get("asr_filetrans_tasks", 0) == 1
    assert after.get("asr_sync", 0) == before.get("asr_sync", 0)  # not also run through sync recognition
    # DashScope got a valid signed URL of a copy in our store, owned by the caller
    objects = stack.services.objects
    assert len(given) == 1
    key = objects.key_from_url(given[0])
    assert key is not None and key.startswith("audio/asr/") and objects.signed_key_from_url(given[0]) == key
    assert stack.fetch(given[0]) == audio
    assert asyncio.run(owns(stack.services.state, key, user))
    [record] = asr_history(stack, user)
    assert record["model_name"] == "qwen3-asr-flash-filetrans" and record["output_text"] == TWO_SENTENCES
    assert record["duration"] == 4 and Decimal(record["bill"]) == Decimal("0.000035") * 4
    assert json.loads(record["input_data"])["object_key"] == key


@pytest.mark.usefixtures("no_faults")
def test_json_and_text_stay_on_sync_recognition(stack: Stack) -> None:
    audio = two_sentence_clip(stack, 840)
    before = stack.stats()
    client_for(stack).audio.transcriptions.create(model="whisper-1", file=("clip.wav", audio, "audio/wav"))
    after = stack.stats()
    assert after.get("asr_filetrans_tasks", 0) == before.get("asr_filetrans_tasks", 0)
    assert after.get("asr_sync", 0) - before.get("asr_sync", 0) == 1


def test_a_transcription_that_outlasts_the_wait_is_an_openai_504(stack: Stack, settings_override) -> None:
    settings_override(request_deadline_s=3.0)
    # slow, not stuck: a stuck task would hold one of the emulator's two task slots for good
    stack.set_faults([{"match": {"api": "asr_filetrans"}, "fault": {"kind": "latency", "latency_ms": 4000,
                                                                   "times": 1}}])
    user = "openai-timed-slow"
    try:
        started = time.monotonic()
        response = httpx.post(f"{stack.base_url}/v1/audio/transcriptions", headers=stack.headers(user),
                              data={"model": "whisper-1", "response_format": "srt"},
                              files={"file": ("clip.wav", wav(1.1, freq=850), "audio/wav")}, timeout=30)
        took = time.monotonic() - started
    finally:
        stack.clear_faults()
    assert response.status_code == 504, response.text
    error = response.json()["error"]
    assert error["code"] == "timeout" and "did not finish within 2.7 s" in error["message"]
    assert took < 3.0                                    # ours, before the request deadline's
    assert asr_history(stack, user) == []                # nothing billed


def test_a_failed_upstream_transcription_is_an_openai_502_and_unbilled(stack: Stack) -> None:
    stack.set_faults([{"match": {"api": "asr_filetrans"}, "fault": {"kind": "task_failed"}}])
    user = "openai-timed-failed"
    try:
        response = httpx.post(f"{stack.base_url}/v1/audio/transcriptions", headers=stack.headers(user),
                              data={"model": "whisper-1", "response_format": "vtt"},
                              files={"file": ("clip.wav", wav(1.3, freq=860), "audio/wav")}, timeout=30)
    finally:
        stack.clear_faults()
    assert response.status_code == 502, response.text
    assert response.json()["error"]["code"] == "upstream_error"
    assert asr_history(stack, user) == []
