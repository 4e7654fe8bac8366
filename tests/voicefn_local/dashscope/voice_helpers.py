"""Helpers for the voice-enrollment tests: speech-like samples, waiting for a voice, errors."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from voicefn.audio.encode import encode_pcm


def speechlike_pcm(f0_hz: float, seconds: float, rate: int = 16000,
                   syllables_per_s: float = 4.0, amplitude: float = 0.4) -> bytes:
    """A voiced signal with speech's two traits the cloning engine measures: a harmonic series
    on ``f0_hz`` (10 harmonics, falling 6 dB per octave) and an energy envelope peaking
    ``syllables_per_s`` times a second, with a near-silent dip between syllables."""
    t = np.arange(int(seconds * rate)) / rate
    voiced = sum(np.sin(2 * np.pi * f0_hz * k * t) / k for k in range(1, 11))
    envelope = 0.05 + 0.95 * np.sin(np.pi * syllables_per_s * t) ** 2
    signal = voiced / np.max(np.abs(voiced)) * envelope * amplitude
    return (signal * 32767).astype("<i2").tobytes()


def speechlike_wav(f0_hz: float = 150.0, seconds: float = 12.0, rate: int = 16000,
                   syllables_per_s: float = 4.0) -> bytes:
    return encode_pcm(speechlike_pcm(f0_hz, seconds, rate, syllables_per_s), "wav", rate)


def wait_status(service: Any, voice_id: str, timeout: float = 20.0) -> dict[str, Any]:
    """``query_voice`` until the voice is no longer DEPLOYING (as DashScope's samples poll)."""
    deadline = time.monotonic() + timeout
    while True:
        voice = service.query_voice(voice_id)
        if voice["status"] != "DEPLOYING":
            return voice  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, f"{voice_id} still DEPLOYING after {timeout} s"
        time.sleep(0.05)


def error_of(call: Any, *args: Any, **kwargs: Any) -> tuple[int, str, str]:
    """(status, code, message) of the VoiceEnrollmentException the SDK call raises."""
    from dashscope.audio.tts_v2 import VoiceEnrollmentException

    try:
        call(*args, **kwargs)
    except VoiceEnrollmentException as exc:
        return exc._status_code, exc._code, exc._error_message
    raise AssertionError("the call did not fail")
