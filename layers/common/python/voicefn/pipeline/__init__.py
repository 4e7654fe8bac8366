"""Parts a live voice pipeline is built from (DESIGN §3a): typed events between stages,
bounded ordered concurrency, and one cancel scope per turn.

A turn is composed from these, e.g. LLM deltas → sentences → ordered, bounded, concurrent TTS →
sink (issue 9), inside one :class:`TurnScope`: when the client leaves, every stage stops.
"""

from __future__ import annotations

from voicefn.pipeline.events import (AudioChunk, EndOfTurn, Event, Interruption, Sentence,
                                     TextDelta, Transcript)
from voicefn.pipeline.ordered import ordered_map, ordered_streams
from voicefn.pipeline.scope import TurnScope

__all__ = ["AudioChunk", "EndOfTurn", "Event", "Interruption", "Sentence", "TextDelta",
           "Transcript", "TurnScope", "ordered_map", "ordered_streams"]
