"""seed 000's Qwen TTS request rules, shared by its two routes (``/api/tts`` in tts,
``/api/ai-chat`` in chat): its voices, its language types, its 600-character segments."""

from __future__ import annotations

from voicefn.catalog.voices import get_voice
from voicefn.errors import ApiError

SEGMENT_CHARS = 600  # seed 000: long text is cut at sentence ends into pieces of at most 600
LANGUAGE_TYPES = ("Auto", "Chinese", "English", "German", "Italian", "Portuguese", "Spanish",
                  "Japanese", "Korean", "French", "Russian")


def check_qwen_voice(voice: str, language_type: str) -> None:
    system = get_voice(voice)
    if system is None or not any(m.startswith("qwen") for m in system.models):
        raise ApiError("INVALID_PARAMETER", f"unknown voice {voice!r}; try Cherry, Amy, Wendy, Eric or Andy",
                       param="voice")
    if language_type not in LANGUAGE_TYPES:
        raise ApiError("INVALID_PARAMETER", f"language_type must be one of {', '.join(LANGUAGE_TYPES)}",
                       param="language_type")
