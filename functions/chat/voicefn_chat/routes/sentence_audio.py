"""GET /v1/chat/audio/{key}.mp3: one announced sentence's audio (seed 004's ``tts.audio_url``),
waiting while it is still being synthesized."""

from __future__ import annotations

from fastapi import Query
from fastapi.responses import Response

from voicefn.errors import ApiError
from voicefn.tts.service import TtsService
from voicefn.web.deps import ServicesDep
from voicefn.web.routing import plain_router
from voicefn_chat.audio_links import PATH, check_link

router = plain_router(tags=["OpenAI-compatible chat"])


@router.get(PATH + "/{name}", summary="A spoken sentence's audio (signed link from a tts chunk)")
async def sentence_audio(name: str, services: ServicesDep, expires: str | None = Query(None),
                         signature: str | None = Query(None)) -> Response:
    key = check_link(services, name, expires, signature)
    hit = await TtsService(services).cached_key(key)
    if hit is None:
        raise ApiError("NOT_FOUND", "this sentence's audio is not available (its synthesis failed or was "
                       "cancelled, or the cache was cleared)")
    data = await services.objects.get(hit.object_key)
    return Response(data, media_type="audio/mpeg", headers={"X-Voicefn-Cache": "hit"})
