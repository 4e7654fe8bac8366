"""The events that flow between pipeline stages. Immutable: a stage never changes what it got."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union


@dataclass(frozen=True)
class TextDelta:
    """A piece of text as it arrives (an LLM token run, a WebSocket text message)."""

    text: str


@dataclass(frozen=True)
class Sentence:
    """A piece of text complete enough to be spoken; ``index`` counts from 0 within a turn."""

    index: int
    text: str


@dataclass(frozen=True)
class AudioChunk:
    """Encoded audio in delivery order; ``sentence`` is the index of the sentence it speaks."""

    data: bytes
    sentence: int = 0


@dataclass(frozen=True)
class Transcript:
    """Recognized speech; ``final`` is False for a partial result that may still change."""

    text: str
    final: bool = True


@dataclass(frozen=True)
class Interruption:
    """The user spoke (or the client asked) while a reply was playing: stop the reply."""

    reason: str = ""


@dataclass(frozen=True)
class EndOfTurn:
    """Nothing more follows in this turn; ``characters`` is what the turn's synthesis billed."""

    characters: int = 0


Event = Union[TextDelta, Sentence, AudioChunk, Transcript, Interruption, EndOfTurn]
