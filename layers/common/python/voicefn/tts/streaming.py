"""Streaming synthesis: audio flows to the client as the upstream produces it.

Backpressure is end to end: the response pulls one chunk at a time, the server awaits the
client's socket before asking for the next, and the upstream WebSocket's bounded receive queue
stops the upstream when we stop reading. The stream is teed into a spooled temporary file (memory
bounded, spills to disk) so that a completed stream is stored, cached and billed like a
non-streamed one. When the client goes away the generator is cancelled and the upstream task is
cancelled with it.
"""

from __future__ import annotations

import contextlib
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, AsyncIterator, Sequence

from voicefn.audio.formats import content_type
from voicefn.auth.principal import Principal
from voicefn.dashscope.errors import UpstreamError, to_api_error
from voicefn.logging import get_logger
from voicefn.services import Services
from voicefn.tts.params import TtsParams
from voicefn.tts.service import CachedAudio, TtsService, upstream_args, uses_ssml

log = get_logger(__name__)

SPOOL_MEMORY_BYTES = 1024 * 1024
CACHED_CHUNK_BYTES = 64 * 1024
# A stream longer than this is delivered and billed but not stored: storing it would mean holding
# it whole, and memory must stay bounded however long the stream (8 MiB ≈ 8 min of 128 kb/s mp3).
STORE_MAX_BYTES = 8 * 1024 * 1024


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
    def __init__(self, service: TtsService, principal: Principal, params: TtsParams,
                 session: Any, audio: AsyncIterator[bytes], first: bytes, exits: contextlib.AsyncExitStack) -> None:
        super().__init__(media_type=content_type(params.format, params.sample_rate),
                         headers={"X-Voicefn-Cache": "miss", "X-Accel-Buffering": "no",
                                  "Cache-Control": "no-store"})
        self._service, self._principal, self._params = service, principal, params
        self._session, self._audio, self._first, self._exits = session, audio, first, exits
        self.characters = 0
        self.record_id: int | None = None

    async def chunks(self) -> AsyncIterator[bytes]:
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES)
        completed, size = False, 0
        try:
            spool.write(self._first)
            size = len(self._first)
            yield self._first
            async for chunk in self._audio:
                size += len(chunk)
                if size <= STORE_MAX_BYTES:
                    spool.write(chunk)
                yield chunk
            completed = True
            self.characters = int(getattr(self._session, "characters", 0) or 0)
        except UpstreamError as err:
            # Headers are gone already: the client sees a truncated stream; we log why.
            log.warning("upstream failed mid-stream", extra={"code": err.code})
        finally:
            if not completed:
                with contextlib.suppress(Exception):
                    await self._session.cancel()
            await self._exits.aclose()
        if completed and size <= STORE_MAX_BYTES:
            spool.seek(0)
            audio = spool.read()
            spool.close()
            result = await self._service.finish_synthesis(self._principal, self._params, audio, self.characters)
            self.record_id = result.record_id
        else:
            spool.close()
            if completed:
                self.record_id = await self._service.bill_unstored(self._principal, self._params, self.characters,
                                                                   size)


async def start_upstream(services: Services, api_key: str, params: TtsParams,
                         texts: Sequence[str]) -> tuple[Any, AsyncIterator[bytes], bytes, contextlib.AsyncExitStack]:
    """Open the upstream task and wait for its first audio, retrying while nothing was sent."""
    from voicefn.dashscope.retry import with_retries

    settings = services.settings

    async def attempt() -> tuple[Any, AsyncIterator[bytes], bytes, contextlib.AsyncExitStack]:
        exits = contextlib.AsyncExitStack()
        try:
            session = await exits.enter_async_context(services.dashscope.tts_session(
                api_key=api_key, **_session_args(params)))
            for text in texts:
                await session.send_text(text)
            await session.finish()
            audio = session.audio()
            first = await audio.__anext__()
            return session, audio, first, exits
        except StopAsyncIteration:
            await exits.aclose()
            raise UpstreamError("InternalError", "upstream finished without audio", retryable=True)
        except BaseException:
            await exits.aclose()
            raise

    try:
        return await with_retries(attempt, retries=settings.upstream_retries,
                                  budget_s=settings.upstream_retry_budget_s)
    except UpstreamError as err:
        raise to_api_error(err) from err


def _session_args(params: TtsParams) -> dict[str, Any]:
    args = upstream_args(params)
    args.pop("text")
    return args


async def open_stream(services: Services, principal: Principal, params: TtsParams, *,
                      texts: Sequence[str] | None = None, max_chars: int | None = None) -> AudioStream:
    """Validate, then serve from the cache or start the upstream. Errors raise before any byte."""
    service = TtsService(services)
    api_key = await service.prepare(principal, params, max_chars=max_chars)
    hit = await service.cached(params)
    if hit is not None:
        await service.record_result(principal, params, hit, bill=Decimal(0), cached=True, idempotency_key=None)
        return CachedAudioStream(services, params, hit)
    pieces = list(texts) if texts is not None else [params.text]
    if uses_ssml(params.text):
        pieces = [params.text]  # SSML allows exactly one continue-task
    session, audio, first, exits = await start_upstream(services, api_key, params, pieces)
    return LiveAudioStream(service, principal, params, session, audio, first, exits)
