"""OpenAI's speech names (``tts-1``, ``alloy``, ``response_format``) as our voice settings.

One mapping for ``/v1/audio/speech`` (tts function) and the chat function's spoken replies: a
sentence the chat synthesized and a later ``/v1/audio/speech`` of the same text, model and voice
must make the same settings, hence the same cache key (seed 004's pre-generation).
"""

from __future__ import annotations

from voicefn.catalog.models import resolve_openai_tts_model
from voicefn.catalog.voices import default_voice, resolve_openai_voice
from voicefn.tts.params import VoiceSettings

# what an unknown model name means here (seed 004's proxy sends any model name to its
# TTS_DEFAULT_MODEL)
DEFAULT_MODEL = "cosyvoice-v3-flash"
SAMPLE_RATE = 24000  # OpenAI's pcm is 24 kHz 16-bit mono; we use 24 kHz for every format
UPSTREAM_FORMAT = {"mp3": "mp3", "opus": "opus", "wav": "wav", "pcm": "pcm", "flac": "wav"}


def speech_model(name: str | None) -> str:
    return resolve_openai_tts_model(name or "") or DEFAULT_MODEL


def speech_voice(name: str | None, model: str) -> str:
    """Our voice id for ``name`` (an OpenAI voice, ours, or a cloned one); the model's default
    voice when none is given; "" when the model has none (the caller refuses it)."""
    if not name:
        return default_voice(model) or ""
    return resolve_openai_voice(name) or name


def speech_settings(model: str, voice: str, response_format: str = "mp3", *, speed: float = 1.0,
                    instruction: str | None = None) -> VoiceSettings:
    """Settings for already-resolved ``model`` and ``voice`` (see :func:`speech_model`)."""
    return VoiceSettings(model=model, voice=voice, format=UPSTREAM_FORMAT[response_format],
                         sample_rate=SAMPLE_RATE, speech_rate=min(2.0, max(0.5, speed)),
                         instruction=instruction)
