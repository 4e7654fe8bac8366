"""The interface every text-to-speech engine of the embedded DashScope implements."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from voicefn_local.engines.clone import CloneProfile


@runtime_checkable
class TtsEngine(Protocol):
    """Turns text into speech.

    ``language`` is "zh", "yue" or "en" (the voice's primary language), ``gender`` "female" or
    "male". ``rate`` and ``pitch`` are DashScope multipliers (0.5-2.0, 1.0 = normal) and
    ``volume`` is DashScope's 0-100 scale (50 = normal). ``clone`` is a cloned voice's measured
    pitch and pace, which the engine imitates (its language and gender then win). Returns
    16-bit little-endian mono PCM at ``sample_rate``. Implementations must be safe to call from several threads at once.
    """

    name: str

    def synthesize(self, text: str, *, language: str, gender: str, sample_rate: int,
                   rate: float = 1.0, pitch: float = 1.0, volume: int = 50,
                   clone: CloneProfile | None = None) -> bytes: ...
