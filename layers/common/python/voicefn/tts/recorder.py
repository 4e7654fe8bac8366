"""The copy of a live stream that is stored, cached and billed once the stream completes.

Memory is bounded however long the stream: the copy is spooled (in memory up to
``SPOOL_MEMORY_BYTES``, then on disk), and a stream longer than ``STORE_MAX_BYTES`` is not kept
at all (storing it would mean holding it whole): it is delivered and billed, with a history
record that has no output. Only a stream that completed is recorded; an abandoned or failed
one is discarded and not billed.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from typing import IO, Any

from voicefn.auth.principal import Principal
from voicefn.tts.params import TtsParams
from voicefn.tts.service import TtsService

SPOOL_MEMORY_BYTES = 1024 * 1024
# 8 MiB ≈ 8 min of 128 kb/s mp3: longer streams are delivered and billed but not stored.
STORE_MAX_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class Recorded:
    """What a completed stream became: seed 003's TTSResponse fields."""

    characters: int
    bill: str
    record_id: int | None  # None: recorded without a bill (the caller bills the whole turn)
    duration: float | None
    audio_url: str | None  # None: too long to store
    object_key: str | None = None

    def public(self) -> dict[str, Any]:
        return {"characters": self.characters, "duration": self.duration, "bill": self.bill,
                "record_id": self.record_id, "audio_url": self.audio_url}


def streamed_duration(fmt: str, sample_rate: int, size: int) -> float | None:
    """Seconds of a stream known only by its size (16-bit mono PCM, possibly in WAV)."""
    if fmt == "pcm":
        return round(size / (2 * sample_rate), 3)
    if fmt == "wav":
        return round(max(0, size - 44) / (2 * sample_rate), 3)
    return None  # compressed: the size does not say


class StreamRecorder:
    def __init__(self, *, memory_bytes: int | None = None, store_max_bytes: int | None = None) -> None:
        self._spool: IO[bytes] = tempfile.SpooledTemporaryFile(
            max_size=SPOOL_MEMORY_BYTES if memory_bytes is None else memory_bytes)
        self._store_max = STORE_MAX_BYTES if store_max_bytes is None else store_max_bytes
        self.size = 0

    @property
    def storable(self) -> bool:
        return self.size <= self._store_max

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.storable:
            self._spool.write(data)

    def discard(self) -> None:
        self._spool.close()

    async def finish(self, service: TtsService, principal: Principal, params: TtsParams,
                     characters: int, *, bill: bool = True) -> Recorded:
        """Store (if it fits), cache and bill the completed stream; write its history record.

        ``bill=False`` stores and caches only: a chat turn bills its sentences once, together."""
        try:
            if self.storable:
                self._spool.seek(0)
                audio = self._spool.read()
                self._spool.close()
                if not bill:
                    stored = await service.store_and_remember(params, audio, characters)
                    return Recorded(characters, "0", None, stored.duration,
                                    service.url_of(stored.object_key), stored.object_key)
                done = await service.finish_synthesis(principal, params, audio, characters)
                return Recorded(done.characters, done.bill, done.record_id, done.duration,
                                done.audio_url, done.object_key)
            if not bill:
                return Recorded(characters, "0", None,
                                streamed_duration(params.format, params.sample_rate, self.size), None)
            duration = streamed_duration(params.format, params.sample_rate, self.size)
            record_id, money = await service.bill_unstored(principal, params, characters, self.size,
                                                           duration=duration)
            return Recorded(characters, money, record_id, duration, None)
        finally:
            self._spool.close()
