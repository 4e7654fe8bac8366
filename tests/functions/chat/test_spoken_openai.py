"""OpenAI's ``modalities: ["text", "audio"]`` with the official client: the audio is real speech
of the reply (espeak speaks it, Whisper recognizes it)."""

from __future__ import annotations

import base64

import pytest

from tests.functions.chat.helpers import openai_client, script
from tests.stack import Stack
from tests.voicefn_local.dashscope.test_asr_support import word_error_rate
from voicefn.audio.decode import decode_to_pcm
from voicefn.audio.probe import audio_info

REPLY = "Hello from Changsha. The weather is sunny today, so take a walk by the river."
RATE = 24000


def heard(pcm: bytes, rate: int = RATE) -> str:
    from voicefn_local.engines.asr_engines import get_asr_engine

    return get_asr_engine("whisper").transcribe(pcm, rate, language="en").text


@pytest.mark.slow
def test_non_streamed_mp3_is_speech_of_the_reply(speech_stack: Stack) -> None:
    script(speech_stack, {"reply": REPLY, "when_contains": "weather-mp3", "tokens_per_s": 300})
    client = openai_client(speech_stack, "spoken-mp3")
    done = client.chat.completions.create(model="qwen-plus", messages=[{"role": "user", "content": "weather-mp3"}],
                                          modalities=["text", "audio"], audio={"voice": "alloy", "format": "mp3"})
    audio = done.choices[0].message.audio
    assert audio is not None and audio.transcript == REPLY and audio.id and audio.expires_at > 0
    mp3 = base64.b64decode(audio.data)
    info = audio_info(mp3)
    assert info.format == "mp3" and info.duration > 2.0
    pcm, rate = decode_to_pcm(mp3)
    text = heard(pcm, rate)
    print(f"whisper heard {text!r}")
    assert word_error_rate(REPLY, text) <= 0.3
    assert done.usage is not None and done.usage.completion_tokens > 0


@pytest.mark.slow
def test_streamed_pcm16_is_speech_of_the_reply(speech_stack: Stack) -> None:
    script(speech_stack, {"reply": REPLY, "when_contains": "weather-pcm", "tokens_per_s": 300})
    client = openai_client(speech_stack, "spoken-pcm")
    chunks = list(client.chat.completions.create(
        model="qwen-plus", messages=[{"role": "user", "content": "weather-pcm"}], stream=True,
        modalities=["text", "audio"], audio={"voice": "alloy", "format": "pcm16"}))
    pieces = [getattr(c.choices[0].delta, "audio", None) for c in chunks if c.choices]
    pieces = [p for p in pieces if p]
    data = [base64.b64decode(p.data) for p in pieces if p.data]
    assert len(data) > 2  # audio arrived in pieces as it was produced
    transcript = "".join(p.transcript or "" for p in pieces)
    assert transcript == REPLY
    pcm = b"".join(data)
    assert len(pcm) / (2 * RATE) > 2.0
    text = heard(pcm)
    print(f"whisper heard {text!r}")
    assert word_error_rate(REPLY, text) <= 0.3
