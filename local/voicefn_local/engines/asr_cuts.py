"""Where to cut long audio into utterances a recognizer decodes one at a time."""

from __future__ import annotations

_CUT_SEARCH_S = 5           # where to look for a quiet cut before each utterance limit
_CUT_WINDOW_S = 0.05


def cut_points(pcm: bytes, rate: int, max_s: int) -> list[int]:
    """Sample offsets where utterances of 16-bit mono ``pcm`` start: every ``max_s`` seconds,
    moved back to the quietest ``_CUT_WINDOW_S`` of the preceding ``_CUT_SEARCH_S`` (a pause,
    if there is one), so that no utterance is longer than ``max_s``."""
    import numpy as np

    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    limit = max_s * rate
    window = int(_CUT_WINDOW_S * rate)
    cuts, start = [0], 0
    while len(samples) - start > limit:
        lo = start + limit - _CUT_SEARCH_S * rate
        region = samples[lo:start + limit]
        energy = np.convolve(region * region, np.ones(window), mode="valid")
        start = lo + int(np.argmin(energy)) + window // 2
        cuts.append(start)
    return cuts
