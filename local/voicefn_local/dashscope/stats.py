"""Counters of what the emulator was asked to do, read by tests through ``GET /_admin/stats``.

Tests elsewhere use them to prove a cached result made no upstream call, so every API handler
counts each call it receives (after the API key is accepted), even one that then fails.
"""

from __future__ import annotations

import threading

# Keys always present in a snapshot (0 until used); handlers may add their own.
KNOWN_COUNTERS = (
    "tts_ws_tasks",      # CosyVoice WebSocket run-task messages
    "tts_ws_syntheses",  # ... of which given text (a task started ahead and cancelled is not)
    "tts_http",          # CosyVoice HTTP SpeechSynthesizer calls
    "qwen_tts",          # Qwen TTS calls on multimodal-generation
    "voice_enrollment",  # voice-enrollment (customization) calls, every action
    "characters",        # billable characters synthesized, all APIs
    "engine_calls",      # calls into the TTS engine (one per sentence)
    "faults_applied",    # calls a fault was applied to
    "auth_failures",     # calls rejected for their API key
    # compatible-mode chat (chat_service): calls, generations started / ended each way, running
    "chat_calls", "chat_generations", "chat_completed", "chat_cancelled", "chat_failed", "chat_active",
    "chat_tokens",
)


class Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def incr(self, key: str, amount: int = 1) -> None:
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + amount

    def get(self, key: str) -> int:
        with self._lock:
            return self._counts.get(key, 0)

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            counts = {key: 0 for key in KNOWN_COUNTERS}
            counts.update(self._counts)
            return counts

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
