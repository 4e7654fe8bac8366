"""pocketsphinx: real English recognition of the espeak engine's speech, sentences split on pauses."""

from __future__ import annotations

import threading
import time

import pytest

from tests.voicefn_local.dashscope.test_asr_support import word_error_rate, words
from voicefn.audio.pcm import silence
from voicefn_local.engines import get_engine
from voicefn_local.engines.asr_engines import get_asr_engine
from voicefn_local.engines.asr_pocketsphinx import MAX_UTTERANCE_S, cut_points

FIRST = "Please call me tomorrow morning at the office."
SECOND = "We are going to the market."
CONTENT = {"please", "call", "tomorrow", "morning", "office", "going", "market"}


def speech(text: str, sample_rate: int = 16000) -> bytes:
    # A slower female voice is what this model recognises best.
    return get_engine("espeak").synthesize(text, language="en", gender="female",
                                           sample_rate=sample_rate, rate=0.8)


def test_recognises_espeak_speech_and_splits_sentences_on_the_pause() -> None:
    first = speech(FIRST)
    pcm = first + silence(1.0, 16000) + speech(SECOND)
    transcript = get_asr_engine("pocketsphinx").transcribe(pcm, 16000, language="zh")
    wer = word_error_rate(f"{FIRST} {SECOND}", transcript.text)
    print(f"pocketsphinx heard {transcript.text!r}; WER {wer:.0%}")
    assert len(CONTENT & set(words(transcript.text))) >= 3
    assert transcript.language == "en"  # the model only knows English, whatever the hint
    assert len(transcript.sentences) == 2
    gap_start, gap_end = len(first) * 1000 // 32000, len(first) * 1000 // 32000 + 1000
    one, two = transcript.sentences
    assert one.end_ms <= gap_start + 100 and two.begin_ms >= gap_end - 100
    for sentence in transcript.sentences:
        assert sentence.text[0].isupper() and sentence.text.endswith(".")
        assert sentence.words[-1].punctuation == "."
        times = [t for w in sentence.words for t in (w.begin_ms, w.end_ms)]
        assert times == sorted(times) and sentence.begin_ms == times[0] and sentence.end_ms == times[-1]
    assert transcript.sentences[-1].end_ms <= len(pcm) * 1000 // 32000


def test_any_sample_rate_and_the_same_answer_twice() -> None:
    engine = get_asr_engine("pocketsphinx")
    pcm = speech(FIRST, 24000)  # (espeak itself varies a little from call to call)
    at_24k = engine.transcribe(pcm, 24000, language=None)
    assert len(CONTENT & set(words(at_24k.text))) >= 2
    assert engine.transcribe(pcm, 24000, language=None) == at_24k


def test_silence_has_no_words() -> None:
    engine = get_asr_engine("pocketsphinx")
    assert engine.transcribe(silence(2.0, 16000), 16000, language=None).sentences == []
    assert engine.transcribe(b"", 16000, language=None).text == ""


def test_long_audio_is_cut_at_a_quiet_point() -> None:
    loud = speech(FIRST)
    pcm = (loud + silence(0.7, 16000)) * (MAX_UTTERANCE_S * 32000 // len(loud) + 2)
    [start, cut] = cut_points(pcm)
    assert start == 0 and (MAX_UTTERANCE_S - 5) * 16000 <= cut <= MAX_UTTERANCE_S * 16000
    assert not any(pcm[cut * 2 - 400:cut * 2 + 400])  # inside a pause


@pytest.mark.slow
def test_threads_share_the_engine() -> None:
    engine = get_asr_engine("pocketsphinx")
    pcm = speech(FIRST)
    expected = engine.transcribe(pcm, 16000, language=None)
    results: list[object] = []
    threads = [threading.Thread(target=lambda: results.append(
        engine.transcribe(pcm, 16000, language=None))) for _ in range(3)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    print(f"3 concurrent transcriptions in {time.monotonic() - started:.1f} s")
    assert results == [expected] * 3
