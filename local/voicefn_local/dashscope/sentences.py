"""Turns streamed text (many small continue-task messages) into whole sentences to speak.

CosyVoice buffers streamed text and speaks a sentence once it is complete, so an LLM's token
stream is not read out fragment by fragment; a flush (``input.flush``) or the end of the task
speaks whatever is left.
"""

from __future__ import annotations

from voicefn.text.split import split_sentences

# A piece ending in one of these is a finished sentence or clause.
_ENDINGS = frozenset("。！？；.!?;…\n，、,：:")


def _is_complete(piece: str) -> bool:
    tail = piece.rstrip(" \t\r")
    if not tail or tail[-1] not in _ENDINGS:
        return False
    # "3." may be the start of "3.5": wait for what follows.
    return not (tail[-1] in ".:," and len(tail) > 1 and tail[-2].isdigit())


class SentenceBuffer:
    def __init__(self) -> None:
        self._pending = ""

    @property
    def pending(self) -> str:
        return self._pending

    def push(self, text: str) -> list[str]:
        """Add text; return the sentences it completed (in order), keeping the unfinished rest."""
        pieces = [p for p in split_sentences(self._pending + text) if p]
        if pieces and not _is_complete(pieces[-1]):
            self._pending = pieces.pop()
        else:
            self._pending = ""
        return [p for p in pieces if p.strip()]

    def flush(self) -> list[str]:
        """Everything still buffered, as sentences."""
        rest, self._pending = self._pending, ""
        return [p for p in split_sentences(rest) if p.strip()] if rest.strip() else []
