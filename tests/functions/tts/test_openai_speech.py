"""POST /v1/audio/speech and GET /v1/audio/models with the official openai client."""

from __future__ import annotations

import pytest
from openai import BadRequestError, OpenAI

from tests.stack import Stack
from voicefn.audio.probe import audio_info


def openai_client(stack: Stack, user: str) -> OpenAI:
    return OpenAI(api_key=stack.token(user), base_url=f"{stack.base_url}/v1", max_retries=0)


@pytest.mark.usefixtures("no_faults")
def test_openai_client_speech_create_returns_a_valid_mp3(stack: Stack) -> None:
    client = openai_client(stack, "openai-user")
    response = client.audio.speech.create(model="tts-1", voice="alloy", input="Hello from the OpenAI client.")
    audio = response.content
    info = audio_info(audio)
    assert info.format == "mp3"
    assert info.duration > 1.0


@pytest.mark.usefixtures("no_faults")
@pytest.mark.parametrize("fmt, detected", [("wav", "wav"), ("opus", "opus"), ("flac", "flac")])
def test_other_response_formats(stack: Stack, fmt: str, detected: str) -> None:
    client = openai_client(stack, "openai-user")
    audio = client.audio.speech.create(model="tts-1-hd", voice="nova", input=f"Format {fmt}.",
                                       response_format=fmt).content
    assert audio_info(audio).format == detected


@pytest.mark.usefixtures("no_faults")
def test_pcm_is_24khz_16bit_mono(stack: Stack) -> None:
    client = openai_client(stack, "openai-user")
    text = "PCM output."
    pcm = client.audio.speech.create(model="tts-1", voice="echo", input=text, response_format="pcm").content
    seconds = len(pcm) / (24000 * 2)
    assert seconds == pytest.approx(0.2 * len(text), abs=0.1)


@pytest.mark.usefixtures("no_faults")
def test_streaming_response_reads_incrementally(stack: Stack) -> None:
    client = openai_client(stack, "openai-user")
    chunks = []
    with client.audio.speech.with_streaming_response.create(
            model="tts-1", voice="alloy", input="Stream one. Stream two. Stream three.") as response:
        for chunk in response.iter_bytes():
            chunks.append(chunk)
    assert len(chunks) > 1
    assert audio_info(b"".join(chunks)).format == "mp3"


def test_errors_use_openais_shape(stack: Stack) -> None:
    client = openai_client(stack, "openai-user")
    # (an unknown model is no error: it means the default model, as in seed 004's proxy)
    with pytest.raises(BadRequestError) as silent:
        client.audio.speech.create(model="tts-1", voice="alloy", input="\u200b\u200d")
    assert silent.value.body["code"] == "invalid_parameter" and silent.value.body["param"] == "input"
    with pytest.raises(BadRequestError) as aac:
        client.audio.speech.create(model="tts-1", voice="alloy", input="x", response_format="aac")
    assert "aac" in aac.value.body["message"]


def test_models_route_is_public_and_openai_shaped(stack: Stack) -> None:
    import httpx

    data = httpx.get(f"{stack.base_url}/v1/audio/models").json()
    assert data["object"] == "list"
    assert {m["id"] for m in data["data"]} >= {"cosyvoice-v3-flash", "cosyvoice-v3-plus"}
