"""POST /v1/audio/transcriptions with the official openai client."""

from __future__ import annotations

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
