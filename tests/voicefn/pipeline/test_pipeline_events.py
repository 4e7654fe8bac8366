"""The events between pipeline stages are values: frozen, comparable."""

from __future__ import annotations

import dataclasses

import pytest

from voicefn.pipeline import AudioChunk, EndOfTurn, Interruption, Sentence, TextDelta, Transcript


@pytest.mark.parametrize("event", [TextDelta("hi"), Sentence(0, "Hi."), AudioChunk(b"\x00", 2),
                                   Transcript("hello", final=False), Interruption("barge-in"),
                                   EndOfTurn(12)])
def test_events_are_frozen_values(event: object) -> None:
    field = dataclasses.fields(event)[0].name  # type: ignore[arg-type]
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(event, field, None)
    assert event == dataclasses.replace(event)  # type: ignore[type-var]


def test_audio_chunk_says_which_sentence_it_speaks() -> None:
    assert AudioChunk(b"ab", sentence=3).sentence == 3
    assert AudioChunk(b"ab") != AudioChunk(b"ab", sentence=1)
