"""Issue 7's TTS contract fixes, as a seed 003 / seed 004 client sees them."""

from __future__ import annotations

import io
import struct
import wave

import httpx
import pytest

from tests.stack import Stack
from voicefn.audio.probe import audio_info


def synth(client: httpx.Client, **body: object) -> httpx.Response:
    payload = {"model": "cosyvoice-v3-flash", "voice": "longanyang", "text": "Hello there."}
    payload.update(body)
    return client.post("/api/audio/tts/synthesize", json=payload)


@pytest.mark.usefixtures("no_faults")
@pytest.mark.parametrize("text", ["\u200b\u200d\u2060\ufeff", "\x07\x1b\x00\x7f", "😀🎉👍🏽", "\u200b😀\x07 \u3000"])
def test_text_with_nothing_speakable_is_refused_and_not_billed(stack: Stack, text: str) -> None:
    before = stack.stats()
    with stack.client("silent-text") as client:
        response = synth(client, text=text)
        history = client.get("/api/audio/history").json()["data"]
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "INVALID_PARAMETER" and "text" in response.json()["message"]
    assert stack.stats()["characters"] == before["characters"]
    assert history["total"] == 0


@pytest.mark.usefixtures("no_faults")
def test_unspeakable_characters_are_stripped_before_synthesis_and_billing(stack: Stack) -> None:
    with stack.client("strip-text") as client:
        response = synth(client, text="Hel\u200blo\u2060 😀world\x07!")
    assert response.status_code == 200, response.text
    assert response.json()["data"]["characters"] == len("Hello world!")


@pytest.mark.usefixtures("no_faults")
def test_the_limit_and_the_count_use_dashscopes_rule(stack: Stack) -> None:
    with stack.client("char-units") as client:
        too_long = synth(client, text="好" * 1500)          # 3000 as DashScope counts
        fits = synth(client, text="好" * 1000)              # 2000: exactly the limit
    assert too_long.status_code == 400 and too_long.json()["error"] == "TEXT_TOO_LONG"
    assert "3000" in too_long.json()["message"]
    assert fits.status_code == 200, fits.text
    assert fits.json()["data"]["characters"] == 2000


@pytest.mark.usefixtures("no_faults")
def test_a_stored_wav_has_its_true_sizes(stack: Stack) -> None:
    with stack.client("wav-sizes") as client:
        data = synth(client, text="A stored wave file.", format="wav", sample_rate=16000).json()["data"]
    audio = stack.fetch(data["audio_url"])
    riff, = struct.unpack_from("<I", audio, 4)
    assert riff == len(audio) - 8
    with wave.open(io.BytesIO(audio)) as w:
        frames, rate = w.getnframes(), w.getframerate()
    assert rate == 16000
    assert frames * 2 + 44 == len(audio)
    assert frames / rate == pytest.approx(data["duration"], abs=0.01)


@pytest.mark.usefixtures("no_faults")
def test_opus_with_the_default_sample_rate_uses_the_nearest_opus_rate(stack: Stack) -> None:
    with stack.client("opus-default") as client:
        response = synth(client, format="opus")             # seed 003's default sample_rate 22050
        high = synth(client, format="opus", sample_rate=44100, text="Higher.")
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["format"] == "opus" and data["sample_rate"] == 24000
    assert audio_info(stack.fetch(data["audio_url"])).format == "opus"
    assert high.status_code == 200 and high.json()["data"]["sample_rate"] == 48000


@pytest.mark.usefixtures("no_faults")
def test_seed_004s_own_speech_example_works(stack: Stack) -> None:
    with stack.client("seed004-example") as client:
        response = client.post("/v1/audio/speech", json={"model": "liang", "input": "要合成的文本"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("audio/mpeg")
    assert audio_info(response.content).format == "mp3" and audio_info(response.content).duration > 0.5
