"""The deterministic ASR engine: scripted text by PCM hash, else a description; exact times."""

from __future__ import annotations

import pytest

from voicefn.audio.pcm import silence, tone
from voicefn_local.engines.asr_base import AsrEngine
from voicefn_local.engines.asr_deterministic import (AsrScripts, DeterministicAsrEngine,
                                                     describe_audio, pcm_sha256)
from voicefn_local.engines.asr_engines import get_asr_engine, new_asr_engine


def test_unscripted_audio_is_described_by_its_duration() -> None:
    transcript = DeterministicAsrEngine().transcribe(tone(2.34, 16000), 16000, language=None)
    assert transcript.text == "audio of 2.3 seconds" == describe_audio(2.34)
    assert transcript.language == "en"
    [sentence] = transcript.sentences
    assert (sentence.begin_ms, sentence.end_ms, sentence.text) == (0, 2340, "audio of 2.3 seconds")
    assert [w.text for w in sentence.words] == ["audio", "of", "2.3", "seconds"]


def test_a_script_is_found_by_the_sha256_of_the_pcm() -> None:
    pcm = tone(3.0, 8000)
    scripts = AsrScripts()
    scripts.update({pcm_sha256(pcm).upper(): "Hello, world. How are you?"})
    engine = DeterministicAsrEngine(scripts)
    transcript = engine.transcribe(pcm, 8000, language=None)
    assert transcript.text == "Hello, world. How are you?"
    assert [s.text for s in transcript.sentences] == ["Hello, world.", "How are you?"]
    # other audio (one sample shorter) is not scripted
    assert engine.transcribe(pcm[:-2], 8000, language=None).text == "audio of 3.0 seconds"


def test_times_follow_the_documented_formula() -> None:
    pcm = silence(3.0, 16000)  # D = 3000 ms
    scripts = AsrScripts()
    scripts.update({pcm_sha256(pcm): "Hello, world. How are you?"})
    transcript = DeterministicAsrEngine(scripts).transcribe(pcm, 16000, language=None)
    # weights: Hello 5, world 5, How 3, are 3, you 3 -> C = 19
    first, second = transcript.sentences
    assert [(w.text, w.punctuation, w.begin_ms, w.end_ms) for w in first.words] == [
        ("Hello", ",", 0, round(3000 * 5 / 19)), ("world", ".", round(3000 * 5 / 19), round(3000 * 10 / 19))]
    assert [(w.begin_ms, w.end_ms) for w in second.words] == [
        (round(3000 * 10 / 19), round(3000 * 13 / 19)), (round(3000 * 13 / 19), round(3000 * 16 / 19)),
        (round(3000 * 16 / 19), 3000)]
    assert (first.begin_ms, first.end_ms, second.begin_ms, second.end_ms) == (
        0, round(3000 * 10 / 19), round(3000 * 10 / 19), 3000)


def test_chinese_scripts_have_one_word_per_character_and_report_zh() -> None:
    pcm = tone(1.2, 16000)
    scripts = AsrScripts()
    scripts.update({pcm_sha256(pcm): "你好，世界！"})
    transcript = DeterministicAsrEngine(scripts).transcribe(pcm, 16000, language=None)
    assert transcript.language == "zh"
    [sentence] = transcript.sentences
    assert [(w.text, w.punctuation) for w in sentence.words] == [
        ("你", ""), ("好", "，"), ("世", ""), ("界", "！")]
    assert [w.end_ms for w in sentence.words] == [300, 600, 900, 1200]


def test_the_language_hint_wins() -> None:
    assert DeterministicAsrEngine().transcribe(tone(1, 16000), 16000, language="ja").language == "ja"


def test_bad_scripts_are_refused() -> None:
    with pytest.raises(ValueError, match="SHA-256"):
        AsrScripts().update({"abc": "text"})
    with pytest.raises(ValueError, match="non-empty"):
        AsrScripts().update({"0" * 64: " "})


def test_registry() -> None:
    assert get_asr_engine("deterministic") is get_asr_engine("deterministic")
    scripts = AsrScripts()
    engine = new_asr_engine("deterministic", scripts=scripts)
    assert isinstance(engine, AsrEngine) and engine.scripts is scripts  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="unknown ASR engine"):
        get_asr_engine("wav2vec")
