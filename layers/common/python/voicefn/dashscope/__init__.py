"""DashScope's wire protocols, spoken by voicefn itself (no ``import dashscope`` at run time).

Submodules: ``errors`` (UpstreamError → ApiError), ``retry``, ``http`` (native HTTP + SSE),
``tts_ws`` (CosyVoice duplex WebSocket), ``tts_http`` (HTTP CosyVoice, Qwen TTS), ``client``
(the process-wide client). Names below are loaded on first use, so importing this package costs
nothing until something is used.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "UpstreamError": "errors", "to_api_error": "errors",
    "with_retries": "retry",
    "DashScopeHttp": "http",
    "CosyVoiceSession": "tts_ws", "SynthesisStream": "tts_ws", "synthesize": "tts_ws",
    "synthesize_to_bytes": "tts_ws",
    "qwen_tts": "tts_http", "qwen_tts_stream": "tts_http", "cosyvoice_http_tts": "tts_http",
    "cosyvoice_http_tts_stream": "tts_http",
    "SynthesisResult": "results", "QwenTtsResult": "results", "CosyVoiceHttpResult": "results",
    "DashScopeClient": "client",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
