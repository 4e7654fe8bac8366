"""The F0 and pace estimators the cloning engine measures samples with (and tests measure
cloned speech with)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.voicefn_local.dashscope.voice_helpers import speechlike_pcm
from voicefn_local.engines.pace import speech_seconds, syllables_per_second
from voicefn_local.engines.pitch import f0_track, median_f0


@pytest.mark.parametrize("f0", [70.0, 95.0, 150.0, 220.0, 330.0, 450.0])
@pytest.mark.parametrize("rate", [16000, 24000, 48000])
def test_median_f0_of_a_harmonic_voice(f0: float, rate: int) -> None:
    assert median_f0(speechlike_pcm(f0, 3.0, rate), rate) == pytest.approx(f0, rel=0.02)


def test_a_gliding_voice_is_tracked_frame_by_frame() -> None:
    rate = 16000
    t = np.arange(2 * rate) / rate
    f0 = 100 + 50 * t  # 100 -> 200 Hz over two seconds
    phase = 2 * np.pi * np.cumsum(f0) / rate
    signal = sum(np.sin(k * phase) / k for k in range(1, 8))
    pcm = (signal / np.max(np.abs(signal)) * 0.5 * 32767).astype("<i2").tobytes()
    track = f0_track(pcm, rate)
    frames = np.arange(len(track)) * 0.01 + 0.02  # frame centres, in seconds
    voiced = np.isfinite(track)
    assert voiced.mean() > 0.9
    assert np.allclose(track[voiced], 100 + 50 * frames[voiced], rtol=0.03)


def test_silence_and_noise_have_no_pitch() -> None:
    assert median_f0(b"\0\0" * 32000, 16000) is None
    noise = (np.random.default_rng(1).normal(0, 0.2, 32000) * 32767).astype("<i2").tobytes()
    assert median_f0(noise, 16000) is None
    assert median_f0(b"", 16000) is None


@pytest.mark.parametrize("pace", [2.5, 4.0, 6.0])
def test_syllable_rate_of_a_rhythmic_voice(pace: float) -> None:
    pcm = speechlike_pcm(150.0, 10.0, 16000, syllables_per_s=pace)
    assert syllables_per_second(pcm, 16000) == pytest.approx(pace, rel=0.05)


def test_pauses_are_not_speech() -> None:
    speech = speechlike_pcm(150.0, 4.0, 16000)
    pcm = speech + b"\0\0" * 16000 * 3 + speech
    assert speech_seconds(pcm, 16000) == pytest.approx(8.0, abs=0.2)
    assert syllables_per_second(pcm, 16000) == pytest.approx(4.0, rel=0.05)  # pauses don't slow it
    assert speech_seconds(b"\0\0" * 16000, 16000) == 0.0
    assert syllables_per_second(b"\0\0" * 16000, 16000) is None
