"""Speech-recognition engines of the embedded DashScope: real (Whisper tiny.en) and deterministic."""

from __future__ import annotations

import threading

from voicefn_local.engines.asr_base import AsrEngine
from voicefn_local.engines.asr_deterministic import AsrScripts

ASR_ENGINE_NAMES = ("whisper", "deterministic")

_engines: dict[str, AsrEngine] = {}
_lock = threading.Lock()


def new_asr_engine(name: str, *, scripts: AsrScripts | None = None) -> AsrEngine:
    """A new engine called ``name``; the deterministic one reads its scripts from ``scripts``.

    Whisper is imported only when asked for (and its model loaded only on first use)."""
    if name == "whisper":
        from voicefn_local.engines.asr_whisper import WhisperEngine
        return WhisperEngine()
    if name == "deterministic":
        from voicefn_local.engines.asr_deterministic import DeterministicAsrEngine
        return DeterministicAsrEngine(scripts)
    raise ValueError(f"unknown ASR engine {name!r}; choose one of {', '.join(ASR_ENGINE_NAMES)}")


def get_asr_engine(name: str) -> AsrEngine:
    """The shared, process-wide engine called ``name`` ("whisper" or "deterministic")."""
    with _lock:
        engine = _engines.get(name)
        if engine is None:
            engine = _engines[name] = new_asr_engine(name)
        return engine
