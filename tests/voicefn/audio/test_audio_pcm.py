"""PCM maths, checked on the samples themselves: lengths, spectra, levels."""

from __future__ import annotations

import math

import pytest

from voicefn.audio.pcm import duration, resample_pcm16, rms, scale_volume, silence, tone


def _dominant_hz(pcm: bytes, rate: int) -> float:
    import numpy as np

    x = np.frombuffer(pcm, dtype="<i2").astype(float)
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spectrum)) * rate / len(x)


def test_tone_and_silence_have_exact_lengths_and_levels():
    t = tone(0.5, 16000, 440, amplitude=0.3)
    assert len(t) == 2 * 8000
    assert rms(t) == pytest.approx(0.3 / math.sqrt(2), abs=1e-3)
    assert _dominant_hz(t, 16000) == pytest.approx(440, abs=2)
    s = silence(0.25, 22050)
    assert len(s) == 2 * round(0.25 * 22050) and rms(s) == 0.0
    assert duration(t, 16000) == 0.5


@pytest.mark.parametrize("src,dst", [(24000, 16000), (16000, 24000), (22050, 16000), (44100, 48000),
                                     (48000, 8000), (24000, 22050), (8000, 44100)])
def test_resample_keeps_duration_pitch_and_level(src, dst):
    pcm = tone(1.0, src, 1000, amplitude=0.5)
    out = resample_pcm16(pcm, src, dst)
    assert len(out) // 2 == round(len(pcm) // 2 * dst / src)
    assert _dominant_hz(out, dst) == pytest.approx(1000, abs=2)
    assert rms(out) == pytest.approx(rms(pcm), rel=0.02)


def test_downsampling_filters_what_the_new_rate_cannot_hold():
    above_nyquist = tone(1.0, 48000, 11000, amplitude=0.5)  # 16 kHz keeps up to 8 kHz
    assert rms(resample_pcm16(above_nyquist, 48000, 16000)) < 0.01 * rms(above_nyquist)


def test_resample_edge_cases():
    pcm = tone(0.1, 16000)
    assert resample_pcm16(pcm, 16000, 16000) == pcm
    assert resample_pcm16(b"", 16000, 8000) == b""
    with pytest.raises(ValueError):
        resample_pcm16(b"\x00\x00\x00", 16000, 8000)
    with pytest.raises(ValueError):
        resample_pcm16(pcm, 0, 8000)


def test_scale_volume_scales_and_clips():
    pcm = tone(0.2, 16000, 300, amplitude=0.4)
    assert rms(scale_volume(pcm, 0.5)) == pytest.approx(rms(pcm) * 0.5, rel=1e-3)
    loud = scale_volume(pcm, 10.0)
    import numpy as np

    peak = np.abs(np.frombuffer(loud, dtype="<i2").astype(int)).max()
    assert peak <= 32768 and rms(loud) > 0.9  # a clipped, square-ish wave
    assert scale_volume(pcm, 0.0) == bytes(len(pcm))
    with pytest.raises(ValueError):
        scale_volume(pcm, -1)


def test_rms_of_nothing_is_zero():
    assert rms(b"") == 0.0
