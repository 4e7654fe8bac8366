"""Speech engines of the embedded DashScope: real (espeak-ng) and deterministic (tests)."""

from __future__ import annotations

import threading

from voicefn_local.engines.base import TtsEngine

ENGINE_NAMES = ("espeak", "deterministic")

_engines: dict[str, TtsEngine] = {}
_lock = threading.Lock()


def _make(name: str) -> TtsEngine:
    # Imported on demand: only the engine asked for is loaded (espeak pulls in its library).
    if name == "espeak":
        from voicefn_local.engines.espeak import EspeakEngine
        return EspeakEngine()
    if name == "deterministic":
        from voicefn_local.engines.deterministic import DeterministicEngine
        return DeterministicEngine()
    raise ValueError(f"unknown TTS engine {name!r}; choose one of {', '.join(ENGINE_NAMES)}")


def get_engine(name: str) -> TtsEngine:
    """The shared engine instance called ``name`` ("espeak" or "deterministic")."""
    with _lock:
        engine = _engines.get(name)
        if engine is None:
            engine = _engines[name] = _make(name)
        return engine


__all__ = ["ENGINE_NAMES", "TtsEngine", "get_engine"]
