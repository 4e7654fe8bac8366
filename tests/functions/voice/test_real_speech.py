"""seed 003's frontend flow on a real `voicefn serve` with the espeak engine: a cloned voice speaks real
speech at its sample's pitch (the embedded DashScope imitates pitch and pace, not timbre)."""

from __future__ import annotations

import httpx
import pytest

from tests.functions.voice.helpers import MODEL, create_voice, speechlike_wav, wait_for_voice_ready
from tests.stack import ServeProcess
from voicefn.audio.decode import decode_to_pcm
from voicefn.audio.pcm import rms

TEXT = "Hello, this is my own voice. We will meet at the station after lunch."


@pytest.mark.slow
def test_clones_of_a_low_and_a_high_sample_speak_real_speech_at_their_pitch(tmp_path) -> None:
    from voicefn_local.engines.pitch import median_f0

    server = ServeProcess(tmp_path / "data", engine="espeak").start()
    pitches = {}
    try:
        with server.client("real-cloner") as client:
            for name, f0 in (("low", 100.0), ("high", 240.0)):
                sample = speechlike_wav(f0, 12.0)
                made = create_voice(client, sample, prefix=name)
                assert made["code"] == 200, made
                wait_for_voice_ready(client, made["data"]["voice_id"], interval_s=0.3)
                spoken = client.post("/api/audio/tts/synthesize", json={
                    "model": MODEL, "voice": made["data"]["voice_id"], "text": TEXT, "format": "wav",
                    "sample_rate": 16000}).json()
                assert spoken["code"] == 200, spoken
                pcm, rate = decode_to_pcm(httpx.get(spoken["data"]["audio_url"]).content)
                window = rate // 20 * 2
                levels = [rms(pcm[i:i + window]) for i in range(0, len(pcm) - window, window)]
                assert rms(pcm) > 0.02 and min(levels) < 0.25 * max(levels)  # speech, with pauses
                assert 2.0 < len(pcm) / 2 / rate < 15.0
                sample_pcm, sample_rate = decode_to_pcm(sample)
                pitches[name] = (median_f0(sample_pcm, sample_rate), median_f0(pcm, rate))
                mismatch = client.post("/api/audio/tts/synthesize", json={
                    "model": "cosyvoice-v3-plus", "voice": made["data"]["voice_id"], "text": TEXT}).json()
                assert mismatch["error"] == "MODEL_VOICE_MISMATCH"
    finally:
        server.stop()
    print(f"\nmedian F0 (sample, speech): {pitches}")
    for sample_f0, speech_f0 in pitches.values():
        assert sample_f0 and speech_f0 and abs(speech_f0 - sample_f0) <= 0.2 * sample_f0
    assert pitches["high"][1] >= 1.3 * pitches["low"][1]
