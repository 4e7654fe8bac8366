"""The deterministic engine: exact, documented durations of a non-silent tone."""

from __future__ import annotations

import numpy as np
import pytest

from voicefn.audio.pcm import rms
from voicefn_local.engines import get_engine
from voicefn_local.engines.base import TtsEngine
from voicefn_local.engines.deterministic import DeterministicEngine, expected_samples


def _synth(text: str, **kw: object) -> bytes:
    params: dict[str, object] = {"language": "zh", "gender": "female", "sample_rate": 22050}
    params.update(kw)
    return DeterministicEngine().synthesize(text, **params)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "sample_rate", "rate", "samples"),
    [
        ("你好", 22050, 1.0, 17640),       # 2 CJK = 4 billable chars -> 0.8 s
        ("你好", 22050, 2.0, 8820),        # twice as fast -> 0.4 s
        ("abc", 16000, 1.0, 9600),         # 3 chars -> 0.6 s
        ("你好。", 24000, 0.5, 24000 * 2),  # 5 chars -> 1.0 s, half speed -> 2.0 s
    ],
)
def test_duration_is_exact(text: str, sample_rate: int, rate: float, samples: int) -> None:
    pcm = _synth(text, sample_rate=sample_rate, rate=rate)
    assert len(pcm) == samples * 2
    assert expected_samples(text, sample_rate, rate) == samples


def test_is_a_tone_not_silence_and_repeatable() -> None:
    pcm = _synth("测试一下")
    assert rms(pcm) > 0.15  # a 0.3 full-scale sine has RMS ~0.21
    assert pcm == _synth("测试一下")


def test_volume_scales_level() -> None:
    assert rms(_synth("音量", volume=100)) > 1.8 * rms(_synth("音量", volume=50))
    assert rms(_synth("音量", volume=0)) == 0.0


def _zero_crossings(pcm: bytes) -> int:
    x = np.frombuffer(pcm, dtype="<i2").astype(np.int32)
    return int(np.count_nonzero(np.diff(np.sign(x)) != 0))


def test_gender_and_pitch_change_the_frequency() -> None:
    female, male = _synth("声音"), _synth("声音", gender="male")
    assert _zero_crossings(female) == pytest.approx(2 * _zero_crossings(male), rel=0.02)
    assert _zero_crossings(_synth("声音", pitch=2.0)) == pytest.approx(
        2 * _zero_crossings(female), rel=0.02)


def test_get_engine_shares_instances_and_rejects_unknown_names() -> None:
    engine = get_engine("deterministic")
    assert engine is get_engine("deterministic")
    assert isinstance(engine, TtsEngine)
    with pytest.raises(ValueError, match="unknown TTS engine"):
        get_engine("festival")
