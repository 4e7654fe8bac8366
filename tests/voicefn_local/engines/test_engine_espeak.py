"""espeak-ng through ctypes: real speech in Mandarin, Cantonese and English."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from voicefn.audio.pcm import rms
from voicefn_local.engines import get_engine
from voicefn_local.engines.espeak import voice_name

ZH = "你好，世界。今天天气很好。"
EN = "Hello world. The weather is nice today."


def _synth(text: str, **kw: object) -> bytes:
    params: dict[str, object] = {"language": "zh", "gender": "female", "sample_rate": 22050}
    params.update(kw)
    return get_engine("espeak").synthesize(text, **params)  # type: ignore[arg-type]


def _seconds(pcm: bytes, rate: int = 22050) -> float:
    return len(pcm) / 2 / rate


@pytest.mark.parametrize(
    ("text", "language", "low", "high"),
    [(ZH, "zh", 1.0, 8.0), (EN, "en", 1.0, 6.0), ("你好，世界。", "yue", 0.5, 5.0)],
)
def test_speaks_each_language(text: str, language: str, low: float, high: float) -> None:
    pcm = _synth(text, language=language)
    assert low < _seconds(pcm) < high
    assert rms(pcm) > 0.03  # speech, not silence


def test_output_is_resampled_to_the_requested_rate() -> None:
    # espeak adds a little random jitter, so lengths match to a few samples, not exactly.
    native = _seconds(_synth(ZH))
    at_16k = _synth(ZH, sample_rate=16000)
    assert _seconds(at_16k, 16000) == pytest.approx(native, abs=0.01)
    assert rms(at_16k) > 0.03


def test_language_is_picked_per_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    from voicefn_local.engines import espeak

    used: list[str] = []
    original = espeak._Library.set_voice

    def spy(self: espeak._Library, name: str) -> None:
        used.append(name)
        original(self, name)

    monkeypatch.setattr(espeak._Library, "set_voice", spy)
    pcm = _synth("你好。Hello world. 再见。", language="zh", gender="male")
    assert used == ["cmn+m3", "en-us+m3", "cmn+m3"]
    assert rms(pcm) > 0.03


def test_rate_volume_and_gender() -> None:
    normal = _synth(EN, language="en")
    assert _seconds(_synth(EN, language="en", rate=2.0)) < 0.75 * _seconds(normal)
    assert rms(_synth(EN, language="en", volume=100)) > 1.5 * rms(_synth(EN, language="en",
                                                                         volume=25))
    assert _synth(EN, language="en", gender="male") != normal


def test_voice_names() -> None:
    assert voice_name("zh", "female") == "cmn+f3"
    assert voice_name("yue", "male") == "yue+m3"
    assert voice_name("en", "female") == "en-us+steph"  # see _VARIANT_OVERRIDES


def test_concurrent_calls_are_serialised_correctly() -> None:
    # The library has one global voice and callback: without the lock, calls would mix audio.
    texts = [ZH, EN, "第三句话。", "Fourth one."] * 2
    langs = ["zh", "en", "zh", "en"] * 2
    serial = [_seconds(_synth(t, language=lang)) for t, lang in zip(texts, langs)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        parallel = list(pool.map(lambda tl: _seconds(_synth(tl[0], language=tl[1])),
                                 zip(texts, langs)))
    assert parallel == pytest.approx(serial, abs=0.01)


def test_punctuation_only_text_does_not_fail() -> None:
    assert isinstance(_synth("。。。"), bytes)
