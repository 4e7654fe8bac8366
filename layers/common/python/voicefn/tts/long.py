"""Long text: split at sentence ends, synthesize segments concurrently, merge in order."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from voicefn.auth.principal import Principal
from voicefn.services import Services
from voicefn.billing import billable_characters
from voicefn.text.split import pack_segments
from voicefn.tts.params import TtsParams
from voicefn.tts.service import ProgressCallback, SynthesisResult, TtsService, gather_bounded

# Segments well under the 2000-character upstream limit: more of them run in parallel, and a
# failed segment costs less to retry.
DEFAULT_SEGMENT_CHARS = 600


@dataclass(frozen=True)
class LongResult:
    result: SynthesisResult

    def public(self) -> dict[str, Any]:
        r = self.result
        return {"audio_url": r.audio_url, "duration": r.duration, "format": r.format,
                "sample_rate": r.sample_rate, "total_characters": r.characters, "segments": r.segments,
                "bill": r.bill, "record_id": r.record_id}


async def prepare_long(services: Services, principal: Principal, params: TtsParams) -> str:
    return await TtsService(services).prepare(principal, params, max_chars=services.settings.tts_long_max_chars)


async def synthesize_long(services: Services, principal: Principal, params: TtsParams, api_key: str, *,
                          on_progress: ProgressCallback | None = None,
                          idempotency_key: str | None = None,
                          segment_chars: int = DEFAULT_SEGMENT_CHARS) -> LongResult:
    """Run after :func:`prepare_long` (which validates and resolves ``api_key``)."""
    from voicefn.audio.join import join_segments

    service = TtsService(services)
    hit = await service.cached(params)
    if hit is not None:
        result = await service.record_result(principal, params, hit, bill=Decimal(0), cached=True,
                                        idempotency_key=idempotency_key)
        if on_progress:
            await on_progress(hit.segments, hit.segments)
        return LongResult(result)

    segments = pack_segments(params.text, min(segment_chars, services.settings.tts_max_chars),
                             measure=billable_characters)  # DashScope's per-request limit, its count
    total, done = len(segments), 0

    def job(text: str) -> Any:
        async def run() -> Any:
            nonlocal done
            out = await services.dashscope.tts_bytes(api_key=api_key, text=text,
                                                     params=params.cosyvoice(text))
            done += 1
            if on_progress:
                await on_progress(done, total)
            return out
        return run

    outputs = await gather_bounded([job(text) for text in segments], services.settings.tts_long_concurrency)
    audio = join_segments([o.audio for o in outputs], params.format, params.sample_rate)
    characters = sum(o.characters for o in outputs)
    result = await service.finish_synthesis(principal, params, audio, characters, segments=total,
                                            idempotency_key=idempotency_key)
    return LongResult(result)
