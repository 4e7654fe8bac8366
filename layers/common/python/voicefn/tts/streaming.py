"""Streaming synthesis over HTTP: served from the cache, or live (:mod:`voicefn.tts.live`).

Everything that can fail before the first byte fails here, while the route can still answer
with an error status: validation, the API key, the upstream task's start and its first audio
(retried while nothing was sent). What fails after that ends the stream with an
:class:`~voicefn.errors.ApiError` raised from :meth:`AudioStream.chunks`: the route aborts the
transfer (or, on SSE, sends an error event) so that the client can tell.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from voicefn.audio.formats import content_type
from voicefn.auth.principal import Principal
from voicefn.pipeline.events import AudioChunk
from voicefn.services import Services
from voicefn.tts.live import LiveEvent, LiveSynthesis, texts_of
from voicefn.tts.params import TtsParams, uses_ssml
from voicefn.tts.recorder import SPOOL_MEMORY_BYTES, STORE_MAX_BYTES
from voicefn.tts.service import CachedAudio, TtsService

__all__ = ["AudioStream", "CachedAudioStream", "LiveAudioStream", "StreamAborted", "abort_on_failure",
           "open_stream",
           "SPOOL_MEMORY_BYTES", "STORE_MAX_BYTES"]

CACHED_CHUNK_BYTES = 64 * 1024


@dataclass
class AudioStream:
    """A started synthesis: iterate :meth:`chunks` exactly once."""

    media_type: str
    headers: dict[str, str] = field(default_factory=dict)

    async def chunks(self) -> AsyncIterator[bytes]:  # pragma: no cover - overridden
        raise NotImplementedError
        yield b""


class CachedAudioStream(AudioStream):
    def __init__(self, services: Services, params: TtsParams, audio: CachedAudio) -> None:
        super().__init__(media_type=content_type(params.format, params.sample_rate),
                         headers={"X-Voicefn-Cache": "hit"})
        self._services, self._audio = services, audio

    async def chunks(self) -> AsyncIterator[bytes]:
        data = await self._services.objects.get(self._audio.object_key)
        for start in range(0, len(data), CACHED_CHUNK_BYTES):
            yield data[start:start + CACHED_CHUNK_BYTES]


class LiveAudioStream(AudioStream):
    def __init__(self, params: TtsParams, live: LiveSynthesis, events: AsyncGenerator[LiveEvent, None],
                 first: bytes) -> None:
        super().__init__(media_type=content_type(params.format, params.sample_rate),
                         headers={"X-Voicefn-Cache": "miss", "X-Accel-Buffering": "no",
                                  "Cache-Control": "no-store"})
        self.live, self._events, self._first = live, events, first

    @property
    def record_id(self) -> int | None:
        return self.live.recorded.record_id if self.live.recorded else None

    async def chunks(self) -> AsyncIterator[bytes]:
        async with contextlib.aclosing(self._events) as events:
            yield self._first
            async for event in events:
                if isinstance(event, AudioChunk):
                    yield event.data


async def open_stream(services: Services, principal: Principal, params: TtsParams, *,
                      texts: Sequence[str] | None = None, max_chars: int | None = None) -> AudioStream:
    """Validate, then serve from the cache or start the upstream. Errors raise before any byte.

    Three waits overlap (issue 13): the cache lookup runs beside the checks; on a miss, the
    upstream task starts beside the limits' round trip when :func:`~voicefn.limits.early.
    may_start_early` allows, and its text goes up only once the limits said yes."""
    from voicefn.limits import early

    service = TtsService(services)
    lookup = asyncio.ensure_future(service.cached(params))
    try:
        api_key = await service.check(principal, params, max_chars=max_chars)
    except BaseException:
        lookup.cancel()
        raise
    start_early = early.may_start_early(principal.user_id)
    limits = asyncio.ensure_future(early.decided(principal.user_id,
                                                 service.hold_limits(principal, params, api_key)))
    try:
        hit = await lookup
        if hit is not None or not start_early:
            await limits
    except BaseException:
        limits.cancel()  # a hold it made is released with the request (the meter tracks it)
        raise
    if hit is not None:
        await service.record_result(principal, params, hit, bill=Decimal(0), cached=True, idempotency_key=None)
        return CachedAudioStream(services, params, hit)
    ssml = uses_ssml(params.text)
    pieces = [params.text] if ssml or texts is None else list(texts)  # SSML: one continue-task
    source = _after(limits, pieces) if start_early else texts_of(pieces)
    live = LiveSynthesis(services, principal, params.settings, api_key, source, ssml=ssml)
    events = live.events()
    try:
        async for event in events:  # up to the first audio: failures here are still a status
            if isinstance(event, AudioChunk):
                return LiveAudioStream(params, live, events, event.data)
    except BaseException:
        limits.cancel()
        await events.aclose()
        raise
    await events.aclose()
    raise _no_audio()


async def _after(limits: asyncio.Future[None], pieces: list[str]) -> AsyncIterator[str]:
    """``pieces``, once the limits have admitted the request (a refusal raises here, before any
    text went upstream: the task started early ends with nothing to bill)."""
    await limits
    for piece in pieces:
        yield piece


class StreamAborted(Exception):
    """Raised from a response body that failed after it started: the server then aborts the
    transfer (no final chunk), so the client sees a broken stream instead of a short one."""


async def abort_on_failure(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """``chunks``, with a failure turned into :class:`StreamAborted` (no error handler may catch
    it: after the first byte there is no status left to send)."""
    from voicefn.errors import ApiError

    try:
        async for chunk in chunks:
            yield chunk
    except ApiError as err:
        raise StreamAborted(f"stream aborted: {err.code} {err.message}") from err


def _no_audio() -> Exception:
    from voicefn.errors import ApiError

    return ApiError("UPSTREAM_ERROR", "the upstream finished without audio")
