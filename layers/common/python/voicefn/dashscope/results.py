"""What the DashScope TTS calls return (plain data, no behaviour)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SynthesisResult:
    """A whole CosyVoice synthesis: the audio in the requested format and what it was billed."""

    audio: bytes
    characters: int
    request_id: str


@dataclass(frozen=True)
class QwenTtsResult:
    """Qwen TTS replies with a URL (valid 24 h) to a WAV file, not with the audio itself."""

    audio_url: str
    characters: int
    request_id: str
    audio_id: str | None = None
    expires_at: int | None = None


@dataclass(frozen=True)
class CosyVoiceHttpResult:
    """HTTP CosyVoice (non-realtime) also answers with a URL valid for 24 h."""

    audio_url: str
    characters: int
    request_id: str
    audio_id: str | None = None
    expires_at: int | None = None
