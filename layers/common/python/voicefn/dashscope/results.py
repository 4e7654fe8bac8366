"""What the DashScope TTS and ASR calls return (plain data, no behaviour)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SynthesisResult:
    """A whole CosyVoice synthesis: the audio in the requested format and what it was billed."""

    audio: bytes
    characters: int
    request_id: str


@dataclass(frozen=True)
class AudioUrlResult:
    """A synthesis answered with a URL (valid 24 h) to the audio, not with the audio itself:
    Qwen TTS (a WAV file) and HTTP CosyVoice."""

    audio_url: str
    characters: int
    request_id: str
    audio_id: str | None = None
    expires_at: int | None = None


QwenTtsResult = AudioUrlResult
CosyVoiceHttpResult = AudioUrlResult


@dataclass(frozen=True)
class AsrResult:
    """One synchronous recognition (qwen3-asr-flash): the text and what DashScope detected.

    ``seconds`` is the billed audio duration (``usage.seconds``), None if DashScope sent none;
    ``usage`` is DashScope's usage object as sent.
    """

    text: str
    language: str | None
    emotion: str | None
    seconds: float | None
    usage: dict[str, Any]
    request_id: str


@dataclass(frozen=True)
class TranscriptionTask:
    """A file transcription task as ``GET /tasks/{id}`` reports it.

    ``status``: PENDING, RUNNING, SUCCEEDED, FAILED, CANCELED or UNKNOWN (no such task, or
    older than 24 h). ``transcription_url`` (SUCCEEDED only) is valid for 24 h.
    """

    task_id: str
    status: str
    submit_time: str | None = None
    scheduled_time: str | None = None
    end_time: str | None = None
    transcription_url: str | None = None
    code: str | None = None
    message: str | None = None
    usage_seconds: float | None = None
    request_id: str = ""

    @property
    def done(self) -> bool:
        """True once the status will not change any more."""
        return self.status in ("SUCCEEDED", "FAILED", "CANCELED", "UNKNOWN")
