"""Synthesis with the content cache, storage, billing and history around the upstream call."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Awaitable, Callable

from voicefn.auth.principal import Principal
from voicefn.billing import billable_characters, format_money, tts_bill
from voicefn.history import record_history
from voicefn.limits.ledger import hold
from voicefn.services import Services
from voicefn.text.clean import normalize_for_cache
from voicefn.tts.params import TtsParams, VoiceSettings, check_ranges, check_settings, uses_ssml
from voicefn.tts.storage import audio_url, store_audio
from voicefn.voice.access import check_voice, synthesis_key

ProgressCallback = Callable[[int, int], Awaitable[None]]


@dataclass(frozen=True)
class SynthesisResult:
    """What a client gets back: seed 003's TTSResponse, plus what callers need internally."""

    audio_url: str
    object_key: str
    duration: float
    format: str
    sample_rate: int
    characters: int
    bill: str
    record_id: int
    cached: bool
    segments: int = 1

    def public(self) -> dict[str, Any]:
        return {"audio_url": self.audio_url, "duration": self.duration, "format": self.format,
                "sample_rate": self.sample_rate, "characters": self.characters, "bill": self.bill,
                "record_id": self.record_id}


@dataclass(frozen=True)
class CachedAudio:
    object_key: str
    duration: float
    characters: int
    segments: int = 1


def history_input(params: TtsParams, **extra: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {"text": params.text, "voice": params.voice, "format": params.format,
                              "sample_rate": params.sample_rate}
    if params.instruction:
        fields["instruction"] = params.instruction
    fields.update(extra)
    return fields


__all__ = ["CachedAudio", "ProgressCallback", "SynthesisResult", "TtsService", "gather_bounded",
           "history_input", "uses_ssml"]


class TtsService:
    """One per request is fine: it only holds a reference to the process's adapters."""

    def __init__(self, services: Services) -> None:
        self.services = services

    # -- checks -----------------------------------------------------------------------------
    async def prepare(self, principal: Principal, params: TtsParams, *, max_chars: int | None = None) -> str:
        """Validate everything and resolve the API key, before any upstream call or byte sent."""
        api_key = await self.check(principal, params, max_chars=max_chars)
        await self.hold_limits(principal, params, api_key)
        return api_key

    async def check(self, principal: Principal, params: TtsParams, *, max_chars: int | None = None) -> str:
        """:meth:`prepare` without the limits: validate and resolve the API key."""
        check_ranges(params, max_chars=max_chars or self.services.settings.tts_max_chars)
        voice = await check_voice(self.services.state, principal, params.model, params.voice,
                                  instruction=params.instruction)
        return await synthesis_key(principal, self.services, voice)  # a cloned voice: its account's key

    async def hold_limits(self, principal: Principal, params: TtsParams, api_key: str) -> None:
        """The rate check (when deferred to here) and the spend hold; the bill settles it."""
        await hold(self.services, principal, tts_bill(params.model, billable_characters(params.text)),
                   api_key=api_key)

    async def prepare_live(self, principal: Principal, settings: VoiceSettings) -> str:
        """:meth:`prepare` for a stream whose text is not known yet (it is checked as it comes)."""
        check_settings(settings)
        voice = await check_voice(self.services.state, principal, settings.model, settings.voice,
                                  instruction=settings.instruction)
        api_key = await synthesis_key(principal, self.services, voice)
        # the text is not known yet: hold one request's worth (a stream may pass a cap by its own bill)
        await hold(self.services, principal, tts_bill(settings.model, self.services.settings.tts_max_chars),
                   api_key=api_key)
        return api_key

    # -- cache ------------------------------------------------------------------------------
    async def cached(self, params: TtsParams, *, wait: bool = True) -> CachedAudio | None:
        """The cached audio of ``params``; if it is being synthesized right now (here or on
        another instance), after waiting for that synthesis (``wait``). Counted for /cache/stats."""
        return await self.cached_key(params.cache_key(normalize_for_cache(params.text)), wait=wait)

    async def cached_key(self, key: str, *, wait: bool = True) -> CachedAudio | None:
        """:meth:`cached` by cache key (a URL that names a sentence's audio by its key)."""
        from voicefn.tts import inflight

        # On a miss (every new text) the in-flight marker is read too: beside the cache entry,
        # so that a miss costs one state-store round trip, not two (issue 13)
        marker = None
        if wait and not inflight.announced_here(key):
            marker = asyncio.ensure_future(inflight.read_marker(self.services, key))
        try:
            hit = await self._lookup(key)
        except BaseException:
            if marker is not None:
                marker.cancel()
            raise
        if hit is not None and marker is not None:
            marker.cancel()
        if hit is None and wait and await inflight.wait(self.services, key, self.services.settings.chat_audio_wait_s,
                                                        prefetched=marker):
            hit = await self._lookup(key)
        if hit is None:
            inflight.counters.misses += 1
        else:
            inflight.counters.hits += 1
        return hit

    async def _lookup(self, key: str) -> CachedAudio | None:
        entry = await self.services.state.get_cache(key)
        if not entry:
            return None
        # The object may have been deleted by a lifecycle rule: then it is a miss.
        if await self.services.objects.head(entry["object_key"]) is None:
            return None
        # a cloned voice given a new sample (PUT /api/audio/voice/{id}) speaks differently: a miss
        voice = entry.get("voice")
        if entry.get("voice_sample") and (not voice or entry["voice_sample"] != await self._voice_sample(voice)):
            return None
        return CachedAudio(entry["object_key"], float(entry["duration"]), int(entry["characters"]),
                           int(entry.get("segments", 1)))

    async def remember(self, params: TtsParams, object_key: str, duration: float, characters: int,
                       segments: int = 1, size: int | None = None) -> None:
        entry: dict[str, Any] = {"object_key": object_key, "duration": duration, "characters": characters,
                                 "segments": segments}
        sample = await self._voice_sample(params.voice)
        if sample is not None:  # a cloned voice: remember which sample it spoke from
            entry.update(voice=params.voice, voice_sample=sample)
        if size is not None:
            entry["bytes"] = size
        await self.services.state.put_cache(params.cache_key(normalize_for_cache(params.text)), entry)

    async def _voice_sample(self, voice_id: str) -> str | None:
        """The sample a cloned voice speaks from now (None for system voices)."""
        from voicefn.catalog.voices import get_voice

        if get_voice(voice_id) is not None:
            return None
        row = await self.services.state.get_voice(voice_id)
        return None if row is None else row.get("sample_key")

    # -- one-shot synthesis -----------------------------------------------------------------
    async def synthesize(self, principal: Principal, params: TtsParams, *,
                         idempotency_key: str | None = None) -> SynthesisResult:
        api_key = await self.prepare(principal, params)
        hit = await self.cached(params)
        if hit is not None:
            return await self.record_result(principal, params, hit, bill=Decimal(0), cached=True,
                                      idempotency_key=idempotency_key)
        result = await self.services.dashscope.tts_bytes(api_key=api_key, text=params.text,
                                                         params=params.cosyvoice())
        return await self.finish_synthesis(principal, params, result.audio, result.characters,
                                           idempotency_key=idempotency_key)

    async def finish_synthesis(self, principal: Principal, params: TtsParams, audio: bytes,
                               characters: int, *, segments: int = 1,
                               idempotency_key: str | None = None) -> SynthesisResult:
        """Store new audio, remember it in the cache, bill it and write the history record."""
        audio_ref = await self.store_and_remember(params, audio, characters, segments)
        return await self.record_result(principal, params, audio_ref, bill=tts_bill(params.model, characters),
                                  cached=False, idempotency_key=idempotency_key)

    async def store_and_remember(self, params: TtsParams, audio: bytes, characters: int,
                                 segments: int = 1) -> CachedAudio:
        """Store new audio and remember it in the cache (no bill, no history record)."""
        from voicefn.audio.probe import duration_seconds

        if params.format == "pcm":  # its length says it
            seconds = duration_seconds(audio, params.format, params.sample_rate)
        else:
            # a frame scan (mp3: milliseconds per minute of audio) in a worker thread, not on the
            # loop that carries other users' streams (issue 13); bad audio is still never stored
            seconds = await asyncio.to_thread(duration_seconds, audio, params.format, params.sample_rate)
        duration = round(seconds, 3)
        info = await store_audio(self.services.objects, audio, params.format, params.sample_rate)
        await self.remember(params, info.key, duration, characters, segments, size=len(audio))
        return CachedAudio(info.key, duration, characters, segments)

    def url_of(self, object_key: str) -> str:
        return audio_url(self.services.objects, object_key)

    async def bill_unstored(self, principal: Principal, params: TtsParams, characters: int,
                            size: int, *, duration: float | None = None) -> tuple[int, str]:
        """Bill a delivered stream too large to keep: a history record without an output URL.

        Returns (record id, bill)."""
        bill = format_money(tts_bill(params.model, characters))
        record_id = await record_history(
            self.services.state, principal.user_id, type="tts", model=params.model,
            input=history_input(params, stored=False, bytes=size), bill=bill,
            voice_id=params.voice, duration=duration, extra={"characters": characters})
        return record_id, bill

    async def record_result(self, principal: Principal, params: TtsParams, audio: CachedAudio, *,
                      bill: Decimal, cached: bool, idempotency_key: str | None) -> SynthesisResult:
        extra: dict[str, Any] = {"cached": True} if cached else {}
        if audio.segments > 1:
            extra["segments"] = audio.segments
        record_id = await record_history(
            self.services.state, principal.user_id, type="tts", model=params.model,
            input=history_input(params, **extra), bill=format_money(bill), output_key=audio.object_key,
            voice_id=params.voice, duration=audio.duration,
            extra={"characters": audio.characters}, idempotency_key=idempotency_key)
        return SynthesisResult(
            audio_url=audio_url(self.services.objects, audio.object_key), object_key=audio.object_key,
            duration=audio.duration, format=params.format, sample_rate=params.sample_rate,
            characters=audio.characters, bill=format_money(bill), record_id=record_id, cached=cached,
            segments=audio.segments)


async def gather_bounded(jobs: list[Callable[[], Awaitable[Any]]], limit: int) -> list[Any]:
    """Run ``jobs`` at most ``limit`` at a time, results in order; the first failure cancels the rest."""
    from voicefn.pipeline.ordered import ordered_map

    async def run(job: Callable[[], Awaitable[Any]]) -> Any:
        return await job()

    return [result async for result in ordered_map(jobs, run, limit=limit)]
