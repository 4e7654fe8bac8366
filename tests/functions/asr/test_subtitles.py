"""voicefn_asr.subtitles: cues from sentences, one whole-clip cue when upstream gave none."""

from __future__ import annotations

from voicefn.asr.timed import TimedSentence, TimedTranscript, TimedWord
from voicefn_asr import subtitles


def transcript(*sentences: TimedSentence, text: str = "x") -> TimedTranscript:
    return TimedTranscript(text=text, language=None, sentences=sentences, duration=2, bill="0",
                           record_id=1, object_key="audio/asr/20260101/k.wav")


def test_without_sentences_one_cue_spans_the_clip() -> None:
    empty = transcript(text="words without times")
    assert subtitles.srt(empty, 1.5) == "1\n00:00:00,000 --> 00:00:01,500\nwords without times\n"
    assert subtitles.vtt(empty, 1.5) == "WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nwords without times\n"
    verbose = subtitles.verbose_json(empty, 1.5, ("segment", "word"))
    assert [(s["start"], s["end"]) for s in verbose["segments"]] == [(0.0, 1.5)]
    assert verbose["words"] == [] and verbose["language"] == "unknown"


def test_long_times_and_empty_sentences() -> None:
    late = TimedSentence(3723.004, 3725.5, "late", (TimedWord(3723.004, 3725.5, "late", ""),))
    blank = TimedSentence(0.0, 1.0, "", ())
    timed = transcript(blank, late, text="late")
    assert subtitles.srt(timed, 3726.0) == "1\n01:02:03,004 --> 01:02:05,500\nlate\n"
    assert subtitles.verbose_json(timed, 3726.0, ("word",)).get("segments") is None
