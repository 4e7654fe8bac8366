"""seed 003 §1.1 and §1.2: synthesize (stream or not) and the model list."""

from __future__ import annotations

from typing import Any

from fastapi import Header

from voicefn.auth.principal import Principal
from voicefn.limits.deps import RateLimited
from voicefn.web.app import ok
from voicefn.web.deps import ServicesDep
from voicefn.web.first_flush import FirstChunkResponse
from voicefn.web.routing import plain_router
from voicefn_tts.schemas import SynthesizeRequest

router = plain_router(prefix="/api/audio/tts", tags=["tts (seed 003)"])


@router.post("/synthesize", summary="Synthesize text (stream=false stores the audio; stream=true streams it)")
async def synthesize(body: SynthesizeRequest, principal: Principal = RateLimited("tts", with_hold=True), *,
                     services: ServicesDep,
                     idempotency_key: str | None = Header(None, alias="Idempotency-Key")) -> Any:
    from voicefn.tts.service import TtsService

    params = body.params()
    if body.stream:
        from voicefn.tts.streaming import abort_on_failure, open_stream  # not on a cold start's first plain call

        audio = await open_stream(services, principal, params)
        return FirstChunkResponse(abort_on_failure(audio.chunks()), media_type=audio.media_type,
                                  headers=audio.headers)
    key = f"tts:{principal.user_id}:{idempotency_key}" if idempotency_key else None
    result = await TtsService(services).synthesize(principal, params, idempotency_key=key)
    return ok(result.public())


@router.get("/models", summary="TTS models with prices (public catalog)")
async def list_models() -> dict[str, Any]:
    from voicefn.catalog.models import tts_models

    return ok([m.to_public() for m in tts_models(family="cosyvoice")])
