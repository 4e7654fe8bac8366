"""How espeak-ng speaks a cloned voice: the pitch and speed settings that reproduce a sample's
measured median F0 and pace (:mod:`.clone`).

espeak's pitch setting (0-100) is not in hertz, and each voice variant has its own base pitch,
so each espeak voice is calibrated once per process: a sentence is spoken at several pitch
settings and measured with the same estimators that measured the sample; the setting for a
target F0 is interpolated from those figures. Pace works the same way: espeak is measured at
several speeds, and the speed whose pace matches the sample's is used.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from voicefn_local.engines.clone import CloneProfile
from voicefn_local.engines.pace import syllables_per_second
from voicefn_local.engines.pitch import median_f0

# (text, words per minute, espeak pitch) -> (16-bit PCM, its sample rate)
Synth = Callable[[str, int, int], tuple[bytes, int]]

DEFAULT_WPM = 175
PITCH_STEPS = (0, 20, 40, 60, 80, 100)
WPM_STEPS = (80, 110, 140, 175, 220, 280, 360, 450)
_SENTENCES = {
    "zh": "今天天气很好，我们一起去公园散步吧。请记得带上雨伞，下午可能会下雨。",
    "en": "The weather is lovely today, so let us take a walk in the park before it rains.",
}


@dataclass(frozen=True)
class Calibration:
    settings: tuple[int, ...]        # espeak pitch settings...
    f0_hz: tuple[float, ...]         # ...and the median F0 each produced (non-decreasing)
    wpm: tuple[int, ...]             # espeak speeds...
    syllables_per_s: tuple[float, ...]  # ...and the pace each produced (non-decreasing)

    def pitch_for(self, f0_hz: float) -> int:
        """The espeak pitch setting closest to ``f0_hz`` (clamped to what the voice reaches)."""
        return int(round(float(np.interp(f0_hz, self.f0_hz, self.settings))))

    def wpm_for(self, syllables_per_s: float) -> int:
        """The espeak speed whose measured pace is ``syllables_per_s`` (clamped likewise)."""
        return int(round(float(np.interp(syllables_per_s, self.syllables_per_s, self.wpm))))


def _non_decreasing(values: list[float]) -> tuple[float, ...]:
    return tuple(float(v) for v in np.maximum.accumulate(np.array(values)))  # as np.interp needs


def calibrate(synth: Synth, language: str) -> Calibration:
    """Measure the voice at each pitch setting (default speed) and each speed (default pitch);
    the pace estimator is not linear in espeak's speed, hence a table rather than a ratio."""
    text = _SENTENCES["en" if language == "en" else "zh"]
    f0 = [median_f0(*synth(text, DEFAULT_WPM, setting)) or 0.0 for setting in PITCH_STEPS]
    pace = [syllables_per_second(*synth(text, wpm, 50)) or 0.0 for wpm in WPM_STEPS]
    return Calibration(PITCH_STEPS, _non_decreasing(f0), WPM_STEPS, _non_decreasing(pace))


def clone_settings(calibration: Calibration, profile: CloneProfile, *, rate: float,
                   pitch: float) -> tuple[int, int]:
    """(words per minute, espeak pitch) for ``profile``, with DashScope's ``rate`` and ``pitch``
    multipliers applied on top, as they are for any voice."""
    wpm = max(80, min(450, round(calibration.wpm_for(profile.syllables_per_s) * rate)))
    return wpm, max(0, min(100, calibration.pitch_for(profile.f0_hz * pitch)))
