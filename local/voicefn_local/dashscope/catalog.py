"""What the emulator knows: its models, and the voices each model can speak with."""

from __future__ import annotations

import threading
from dataclasses import dataclass

COSYVOICE_MODELS = frozenset({
    "cosyvoice-v1", "cosyvoice-v2", "cosyvoice-v3-flash", "cosyvoice-v3-plus",
    "cosyvoice-v3.5-flash", "cosyvoice-v3.5-plus",
})


def is_cosyvoice_model(model: str | None) -> bool:
    return model in COSYVOICE_MODELS


def is_qwen_tts_model(model: str | None) -> bool:
    """qwen3-tts-flash, qwen-tts, qwen3-tts-instruct-flash and their dated snapshots (HTTP only)."""
    if not model or model.endswith("-realtime"):
        return False
    return model.startswith("qwen3-tts") or model.startswith("qwen-tts")


@dataclass(frozen=True)
class EmulatedVoice:
    voice_id: str
    models: tuple[str, ...]
    gender: str             # "female" | "male"
    language: str           # "zh" | "yue" | "en"


class VoiceDirectory:
    """Voices the emulator accepts: the layer's system catalog plus voices registered at run time.
    Cloned voices are not here: they belong to one account (see :mod:`.cloned_voices`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._extra: dict[str, EmulatedVoice] = {}

    def register(self, voice: EmulatedVoice) -> None:
        with self._lock:
            self._extra[voice.voice_id] = voice

    def unregister(self, voice_id: str) -> None:
        with self._lock:
            self._extra.pop(voice_id, None)

    def lookup(self, voice_id: str | None) -> EmulatedVoice | None:
        if not voice_id:
            return None
        with self._lock:
            extra = self._extra.get(voice_id)
        if extra is not None:
            return extra
        from voicefn.catalog.voices import get_voice  # the layer's catalog is the source of truth

        voice = get_voice(voice_id)
        if voice is None:
            return None
        return EmulatedVoice(voice.voice_id, tuple(voice.models), voice.gender,
                             voice.primary_language)
