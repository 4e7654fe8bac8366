"""What a chat engine of the embedded DashScope is given and what it yields.

An engine turns a :class:`ChatPrompt` into an async stream of :class:`Piece` (one token's text
each) ending with one :class:`Finish`. Closing the stream early (the client went away) must stop
the generation itself, not just its delivery: the ``chat_cancelled`` counter proves it in tests.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol

from voicefn.text.charclass import is_cjk


@dataclass(frozen=True)
class ChatMessage:
    role: str        # system, user, assistant
    content: str


@dataclass(frozen=True)
class ChatPrompt:
    messages: tuple[ChatMessage, ...]
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()
    seed: int | None = None

    @property
    def last_user_text(self) -> str:
        return next((m.content for m in reversed(self.messages) if m.role == "user"), "")


@dataclass(frozen=True)
class Piece:
    text: str


@dataclass(frozen=True)
class Finish:
    reason: str               # "stop" or "length"
    prompt_tokens: int
    completion_tokens: int
    extra: dict[str, int] = field(default_factory=dict)


ChatEvent = Piece | Finish


class EngineError(Exception):
    """The engine refused the prompt (``status`` 400: too long for its context) or failed (500)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class ChatEngine(Protocol):
    name: str

    def generate(self, prompt: ChatPrompt) -> AsyncIterator[ChatEvent]: ...


# Words, numbers, single CJK characters and single symbols (emoji, punctuation), each with the
# whitespace before it; joined they give the text back exactly.
_TOKEN = re.compile(r"\s*(?:[^\W\d_]+|\d+|\S)|\s+$")


def split_tokens(text: str) -> list[str]:
    """The scripted engine's tokens of ``text`` (also its usage count)."""
    tokens: list[str] = []
    for token in _TOKEN.findall(text):
        if not any(is_cjk(ch) for ch in token):
            tokens.append(token)
            continue
        current = ""  # a run of letters may hold CJK characters: those are one token each
        for ch in token:
            if is_cjk(ch):
                if current.strip():
                    tokens.append(current)
                    current = ""
                tokens.append(current + ch)
                current = ""
            else:
                current += ch
        if current:
            tokens.append(current)
    return tokens


def count_prompt_tokens(prompt: ChatPrompt) -> int:
    """Prompt size by the scripted engine's tokens, plus 4 per message for the chat template."""
    return sum(len(split_tokens(m.content)) + 4 for m in prompt.messages)
