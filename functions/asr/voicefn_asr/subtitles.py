"""OpenAI transcription response formats: json, text, srt, vtt, verbose_json.

The timed formats are built from file transcription's sentences (voicefn.asr.timed): one cue per
sentence, at its own times. If upstream returned no sentences (silence, or text without times),
one cue spans the whole audio: honest, and what a player needs to show the text.
"""

from __future__ import annotations

from typing import Any

from voicefn.asr.timed import TimedSentence, TimedTranscript

FORMATS = ("json", "text", "srt", "vtt", "verbose_json")
TIMED_FORMATS = ("srt", "vtt", "verbose_json")
GRANULARITIES = ("segment", "word")


def _clock(seconds: float, sep: str) -> str:
    ms = int(round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def cues(transcript: TimedTranscript, duration: float) -> list[TimedSentence]:
    """The sentences that carry text, or one cue for the whole audio when there are none."""
    timed = [s for s in transcript.sentences if s.text]
    return timed or [TimedSentence(start=0.0, end=duration, text=transcript.text, words=())]


def srt(transcript: TimedTranscript, duration: float) -> str:
    return "\n".join(f"{i}\n{_clock(c.start, ',')} --> {_clock(c.end, ',')}\n{c.text}\n"
                     for i, c in enumerate(cues(transcript, duration), start=1))


def vtt(transcript: TimedTranscript, duration: float) -> str:
    body = "\n".join(f"{_clock(c.start, '.')} --> {_clock(c.end, '.')}\n{c.text}\n"
                     for c in cues(transcript, duration))
    return f"WEBVTT\n\n{body}"


def verbose_json(transcript: TimedTranscript, duration: float,
                 granularities: tuple[str, ...] = ("segment",)) -> dict[str, Any]:
    """OpenAI's verbose transcription: ``segments`` unless only words were asked, ``words`` if asked."""
    out: dict[str, Any] = {"task": "transcribe", "language": transcript.language or "unknown",
                           "duration": duration, "text": transcript.text}
    if "segment" in granularities or not granularities:
        out["segments"] = [{"id": i, "seek": 0, "start": c.start, "end": c.end, "text": c.text, "tokens": [],
                            "temperature": 0.0, "avg_logprob": 0.0, "compression_ratio": 0.0,
                            "no_speech_prob": 0.0} for i, c in enumerate(cues(transcript, duration))]
    if "word" in granularities:
        out["words"] = [{"word": w.text, "start": w.start, "end": w.end}
                        for s in transcript.sentences for w in s.words if w.text]
    out["usage"] = {"type": "duration", "seconds": transcript.duration}
    return out
