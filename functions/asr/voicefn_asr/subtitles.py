"""OpenAI transcription response formats: json, text, srt, vtt, verbose_json.

Sync recognition returns text without timestamps, so the timed formats carry one cue spanning
the whole audio (honest, and what a player needs to show the text).
"""

from __future__ import annotations

from typing import Any

FORMATS = ("json", "text", "srt", "vtt", "verbose_json")


def _clock(seconds: float, sep: str) -> str:
    ms = int(round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def srt(text: str, duration: float) -> str:
    return f"1\n{_clock(0, ',')} --> {_clock(duration, ',')}\n{text}\n"


def vtt(text: str, duration: float) -> str:
    return f"WEBVTT\n\n{_clock(0, '.')} --> {_clock(duration, '.')}\n{text}\n"


def verbose_json(text: str, duration: float, language: str | None) -> dict[str, Any]:
    return {"task": "transcribe", "language": language or "unknown", "duration": duration, "text": text,
            "segments": [{"id": 0, "seek": 0, "start": 0.0, "end": duration, "text": text, "tokens": [],
                          "temperature": 0.0, "avg_logprob": 0.0, "compression_ratio": 0.0,
                          "no_speech_prob": 0.0}]}
