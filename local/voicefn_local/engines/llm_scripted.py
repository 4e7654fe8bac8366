"""The scripted chat engine: set replies streamed token by token with set delays (for tests and
benches). A script says what to answer and how fast; without one the engine echoes the question.

A script (``POST /_admin/chat-scripts`` or, for one request, the ``X-Fake-Chat-Script`` header)::

    {"reply": "text" | null, "preset": "markdown" | "ten_sentences" | "chinese" | "echo" | null,
     "tokens": ["Hel", "lo"] | null, "token_delay_ms": 20, "tokens_per_s": null,
     "first_token_ms": 0, "when_contains": null, "times": null}

``tokens`` (exact pieces) beat ``reply`` (split into words, symbols and CJK characters), which
beats ``preset``; ``tokens_per_s`` beats ``token_delay_ms``; ``when_contains`` limits the script to
requests whose last user message contains it; ``times`` uses it up after that many requests.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from typing import Any

from voicefn_local.engines.llm_base import (ChatEvent, ChatPrompt, Finish, Piece, count_prompt_tokens,
                                            split_tokens)

PRESETS: dict[str, str] = {
    "markdown": (
        "# Two days in Changsha\n\n"
        "Here is a **short** plan with *three* stops 😀:\n\n"
        "1. Walk up `Yuelu Mountain` in the morning.\n"
        "2. See https://example.com/changsha-food for the best stinky tofu.\n\n"
        "```python\nprint('pack an umbrella')\n```\n\n"
        "Enjoy the trip! 🎉"
    ),
    "ten_sentences": " ".join(
        f"This is sentence number {n}, and it has a few words in it." for n in
        ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")),
    "chinese": "你好！我是本地的脚本助手。长沙的岳麓山很美，橘子洲也值得一去。祝你旅途愉快！",
}
DEFAULT_TOKEN_DELAY_MS = 20.0


def echo_reply(prompt: ChatPrompt) -> str:
    question = " ".join(prompt.last_user_text.split()) or "nothing"
    return f"You said: {question} This is the scripted engine of the embedded DashScope."


@dataclass(frozen=True)
class ChatScript:
    reply: str | None = None
    preset: str | None = None
    tokens: tuple[str, ...] | None = None
    token_delay_ms: float = DEFAULT_TOKEN_DELAY_MS
    tokens_per_s: float | None = None
    first_token_ms: float = 0.0
    when_contains: str | None = None
    times: int | None = None

    def __post_init__(self) -> None:
        if self.preset is not None and self.preset != "echo" and self.preset not in PRESETS:
            raise ValueError(f"unknown preset {self.preset!r}; one of echo, {', '.join(PRESETS)}")
        if self.tokens is not None and not all(isinstance(t, str) for t in self.tokens):
            raise ValueError("tokens must be strings")
        if self.reply is not None and not isinstance(self.reply, str):
            raise ValueError("reply must be a string")
        if self.token_delay_ms < 0 or self.first_token_ms < 0:
            raise ValueError("delays must be >= 0")
        if self.tokens_per_s is not None and self.tokens_per_s <= 0:
            raise ValueError("tokens_per_s must be > 0")
        if self.times is not None and self.times < 0:
            raise ValueError("times must be >= 0 or null")

    @classmethod
    def from_dict(cls, data: Any) -> "ChatScript":
        if not isinstance(data, dict):
            raise ValueError("a chat script is an object: {'reply': ..., 'token_delay_ms': ...}")
        data = dict(data)
        if isinstance(data.get("tokens"), list):
            data["tokens"] = tuple(data["tokens"])
        try:
            return cls(**data)
        except TypeError as exc:  # unknown keys, wrong types
            raise ValueError(str(exc)) from None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        if self.tokens is not None:
            out["tokens"] = list(self.tokens)
        return out

    @property
    def delay_s(self) -> float:
        return 1 / self.tokens_per_s if self.tokens_per_s else self.token_delay_ms / 1000

    def pieces(self, prompt: ChatPrompt) -> list[str]:
        if self.tokens is not None:
            return list(self.tokens)
        if self.reply is not None:
            return split_tokens(self.reply)
        if self.preset in PRESETS:
            return split_tokens(PRESETS[self.preset])
        return split_tokens(echo_reply(prompt))


def script_from_header(value: str | None) -> ChatScript | None:
    """``X-Fake-Chat-Script: <JSON of one script>`` (ASCII: escape other characters as \\uXXXX)."""
    if not value or not value.strip():
        return None
    try:
        return ChatScript.from_dict(json.loads(value))
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from None


class ChatScripts:
    """The scripts posted to the admin API, tried in order; safe from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scripts: list[list[Any]] = []  # [script, remaining]

    def replace(self, scripts: list[ChatScript]) -> None:
        with self._lock:
            self._scripts = [[s, s.times] for s in scripts]

    def clear(self) -> None:
        self.replace([])

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return [{**s.to_dict(), "remaining": left} for s, left in self._scripts]

    def take(self, question: str) -> ChatScript | None:
        with self._lock:
            for entry in self._scripts:
                script, left = entry
                if left == 0 or (script.when_contains is not None and script.when_contains not in question):
                    continue
                if left is not None:
                    entry[1] = left - 1
                return script  # type: ignore[no-any-return]
        return None


class ScriptedEngine:
    name = "scripted"

    def generate(self, prompt: ChatPrompt, script: ChatScript | None = None) -> AsyncIterator[ChatEvent]:
        return self._run(prompt, script or ChatScript())

    async def _run(self, prompt: ChatPrompt, script: ChatScript) -> AsyncIterator[ChatEvent]:
        pieces = script.pieces(prompt)
        if script.first_token_ms:
            await asyncio.sleep(script.first_token_ms / 1000)
        for index, piece in enumerate(pieces):
            if index:
                await asyncio.sleep(script.delay_s)
            yield Piece(piece)
        yield Finish("stop", count_prompt_tokens(prompt), len(pieces))
