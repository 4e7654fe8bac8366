"""Long audio is cut into utterances no longer than the limit, inside pauses."""

from __future__ import annotations

from voicefn.audio.pcm import silence, tone
from voicefn_local.engines.asr_cuts import cut_points

RATE = 16000


def test_long_audio_is_cut_at_a_quiet_point() -> None:
    loud = tone(2.3, RATE)
    pcm = (loud + silence(0.7, RATE)) * 14   # 42 s: one cut, before 30 s
    cuts = cut_points(pcm, RATE, 30)
    assert cuts[0] == 0 and len(cuts) == 2
    assert 25 * RATE <= cuts[1] <= 30 * RATE
    assert not any(pcm[cuts[1] * 2 - 400:cuts[1] * 2 + 400])  # inside a pause
    ends = cuts[1:] + [len(pcm) // 2]
    assert all(end - start <= 30 * RATE for start, end in zip(cuts, ends))


def test_short_audio_is_one_utterance() -> None:
    assert cut_points(tone(29.9, RATE), RATE, 30) == [0]
    assert cut_points(b"", RATE, 30) == [0]
