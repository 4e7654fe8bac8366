"""How an emulator instance behaves: engine, accepted keys, faults, framing."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from voicefn_local.dashscope.auth import KeyPolicy
from voicefn_local.dashscope.faults import FaultRule

ENGINE_ENV = "VOICEFN_FAKE_ENGINE"


def _default_engine() -> str:
    return os.environ.get(ENGINE_ENV) or "espeak"


@dataclass
class EmulatorConfig:
    # TTS engine: "espeak" (real speech) or "deterministic" (exact-duration tone for tests).
    engine: str = field(default_factory=_default_engine)
    # Accepted API keys: None = any "sk-..." except "sk-invalid"; a collection = exactly those;
    # a callable = your own rule.
    api_keys: KeyPolicy = None
    # Initial fault rules, as FaultRule or {"match": {...}, "fault": {...}} dicts.
    faults: list[FaultRule | dict[str, Any]] = field(default_factory=list)
    # Base of the result-file URLs; None = the base URL each request came in on.
    public_base_url: str | None = None
    # Audio per WebSocket binary frame / SSE chunk, in milliseconds (DashScope sends ~100-200).
    frame_ms: int = 160
    # Result files: how long they live and how many bytes are kept at most.
    file_ttl_s: int = 86400
    max_file_bytes: int = 256 * 1024 * 1024
