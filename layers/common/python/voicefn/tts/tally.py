"""The TTS characters of a turn's sentences, for the turn's one bill: what each finished
synthesis reported and, for a turn cut short, the sentences whose audio had started."""

from __future__ import annotations

from dataclasses import dataclass, field

from voicefn.billing import billable_characters

__all__ = ["CharacterTally"]


@dataclass
class CharacterTally:
    """Filled by :func:`voicefn.tts.live.speak_sentences`, keyed by the turn's sentence index."""

    finished: dict[int, int] = field(default_factory=dict)  # characters DashScope reported
    started: dict[int, str] = field(default_factory=dict)  # the text of a sentence whose audio began

    def total(self) -> int:
        """The characters of the syntheses that finished (a completed turn's bill)."""
        return sum(self.finished.values())

    def so_far(self) -> int:
        """:meth:`total` plus, for each synthesis cut before its end, its sentence's characters
        counted as DashScope counts them: a cancelled task's own count comes on a task-finished
        nobody waits for, and a sentence whose audio had started was synthesized upstream."""
        cut = sum(billable_characters(text) for index, text in self.started.items() if index not in self.finished)
        return self.total() + cut
