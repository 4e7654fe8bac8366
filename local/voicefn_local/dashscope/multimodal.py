"""``POST /api/v1/services/aigc/multimodal-generation/generation``: one path, many model families.

Qwen TTS, Qwen ASR and the VL models all share this endpoint, so the route only parses the
body and hands it to the handler registered for the model's family.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

# handler(request, body, stream) -> response; ``stream`` is True when X-DashScope-SSE: enable.
MultimodalHandler = Callable[[Request, dict[str, Any], bool], Awaitable[Response]]


@dataclass(frozen=True)
class _Family:
    name: str
    matches: Callable[[str], bool]
    handler: MultimodalHandler


class MultimodalRegistry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._families: list[_Family] = []

    def register(self, family: str, matches: Callable[[str], bool],
                 handler: MultimodalHandler) -> None:
        """Route models for which ``matches(model)`` is true to ``handler`` (replaces ``family``)."""
        with self._lock:
            self._families = [f for f in self._families if f.name != family]
            self._families.append(_Family(family, matches, handler))

    def families(self) -> list[str]:
        with self._lock:
            return [f.name for f in self._families]

    def find(self, model: str) -> MultimodalHandler | None:
        with self._lock:
            for family in self._families:
                if family.matches(model):
                    return family.handler
        return None
