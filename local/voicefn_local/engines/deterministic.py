"""A test engine whose output length is known in advance: no speech, no randomness.

Duration of ``synthesize(text, ...)`` is exactly::

    SECONDS_PER_CHARACTER * billable_characters(text) / rate     (rounded to whole samples)

i.e. 0.2 s per billable character (a CJK character counts 2, anything else 1), shortened by a
faster ``rate``. The audio is a sine tone (female 440 Hz, male 220 Hz, a cloned voice at its
sample's median F0; times ``pitch``, rounded to whole hertz) at an amplitude proportional to
``volume`` (0.3 of full scale at the default 50), so it is never silent unless ``volume`` is 0.
"""

from __future__ import annotations

from functools import lru_cache

from voicefn.audio.pcm import tone
from voicefn.billing import billable_characters

from voicefn_local.engines.clone import CloneProfile

SECONDS_PER_CHARACTER = 0.2
_FREQUENCY_BY_GENDER = {"female": 440.0, "male": 220.0}


def expected_seconds(text: str, rate: float = 1.0) -> float:
    """How long the deterministic engine's audio for ``text`` lasts, before sample rounding."""
    return SECONDS_PER_CHARACTER * billable_characters(text) / rate


def expected_samples(text: str, sample_rate: int, rate: float = 1.0) -> int:
    """The exact number of samples the deterministic engine returns for ``text``."""
    return round(expected_seconds(text, rate) * sample_rate)


class DeterministicEngine:
    """Tone of a documented, exact duration: what tests use where real speech isn't the point."""

    name = "deterministic"

    def synthesize(self, text: str, *, language: str, gender: str, sample_rate: int,
                   rate: float = 1.0, pitch: float = 1.0, volume: int = 50,
                   clone: CloneProfile | None = None) -> bytes:
        samples = expected_samples(text, sample_rate, rate)
        if samples <= 0:
            return b""
        # A cloned voice's tone is at its sample's median F0 (its duration stays the documented one).
        base = clone.f0_hz if clone is not None else _FREQUENCY_BY_GENDER.get(gender, 330.0)
        frequency = round(base * pitch)
        amplitude = 0.3 * max(0, min(100, volume)) / 50
        second = _one_second(sample_rate, frequency, amplitude)
        whole, rest = divmod(samples, sample_rate)
        return second * whole + second[: rest * 2]


@lru_cache(maxsize=64)
def _one_second(sample_rate: int, frequency: int, amplitude: float) -> bytes:
    # A whole number of periods fits in one second, so repeating it is seamless; and long
    # audio at 48 kHz never needs large float arrays (streaming tests measure server memory).
    return tone(1.0, sample_rate, frequency, amplitude)
