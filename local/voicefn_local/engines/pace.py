"""Speaking pace: syllable nuclei per second of speech, from peaks of the smoothed energy.

Crude in absolute terms, but the cloning engine only compares a sample's pace with espeak-ng's
measured the same way, so the estimator's bias cancels out.
"""

from __future__ import annotations

import numpy as np

from voicefn_local.engines.pitch import HOP, RATE, as_float, frame_db, frames

SPEECH_DB = -30.0           # frames this far below the loudest are pauses
MIN_GAP_S = 0.10            # two syllable nuclei are at least this far apart
PROMINENCE_DB = 3.0         # a nucleus stands this far above the dip before it


def speech_seconds(pcm: bytes, sample_rate: int) -> float:
    """Seconds of frames within ``SPEECH_DB`` of the loudest (silence is not speech)."""
    levels = frame_db(frames(as_float(pcm, sample_rate), size=400))
    if len(levels) == 0 or levels.max() < -60:
        return 0.0
    return float(np.count_nonzero(levels > levels.max() + SPEECH_DB)) * HOP / RATE


def syllables_per_second(pcm: bytes, sample_rate: int) -> float | None:
    """Energy peaks per second of speech; None when there is less than a second of speech."""
    levels = frame_db(frames(as_float(pcm, sample_rate), size=400))  # 25 ms frames, 10 ms hop
    if len(levels) == 0 or levels.max() < -60:
        return None
    kernel = np.hanning(7)
    smooth = np.convolve(levels, kernel / kernel.sum(), mode="same")
    floor = smooth.max() + SPEECH_DB
    active = smooth > floor
    speech_s = float(np.count_nonzero(active)) * HOP / RATE
    if speech_s < 1.0:
        return None
    min_gap = int(MIN_GAP_S * RATE / HOP)
    peaks, last, valley = 0, -min_gap, smooth[0]
    for i in range(1, len(smooth) - 1):
        valley = min(valley, smooth[i])
        is_peak = smooth[i] >= smooth[i - 1] and smooth[i] > smooth[i + 1]
        if is_peak and active[i] and smooth[i] - valley >= PROMINENCE_DB and i - last >= min_gap:
            peaks += 1
            last, valley = i, smooth[i]
    return peaks / speech_s
