"""OpenAI's chat-completion objects (seed 002's shapes), built from a turn's events."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from voicefn.llm import Usage


class Wire:
    """The ids and model name one response repeats in every chunk."""

    def __init__(self, model: str) -> None:
        self.id = "chatcmpl-" + secrets.token_hex(12)
        self.audio_id = "audio_" + secrets.token_hex(12)
        self.created = int(time.time())
        self.model = model

    def chunk(self, delta: dict[str, Any] | None = None, finish_reason: str | None = None,
              **extra: Any) -> bytes:
        choices = [] if delta is None else [{"index": 0, "delta": delta, "logprobs": None,
                                             "finish_reason": finish_reason}]
        body = {"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
                "system_fingerprint": None, "choices": choices, **extra}
        return sse(body)

    def completion(self, message: dict[str, Any], finish_reason: str, usage: Usage) -> dict[str, Any]:
        return {"id": self.id, "object": "chat.completion", "created": self.created, "model": self.model,
                "system_fingerprint": None,
                "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}],
                "usage": usage.public()}


def sse(body: Any) -> bytes:
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n".encode()


DONE = b"data: [DONE]\n\n"
