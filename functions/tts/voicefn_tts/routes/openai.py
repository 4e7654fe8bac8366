"""OpenAI-compatible speech: POST /v1/audio/speech and GET /v1/audio/models."""

from __future__ import annotations

import base64
import json
import time
from typing import Any, AsyncIterator

from fastapi.responses import Response, StreamingResponse

from voicefn.auth.principal import Principal
from voicefn.limits.deps import RateLimited
from voicefn.web.deps import ServicesDep
from voicefn.web.first_flush import FirstChunkResponse
from voicefn.web.routing import plain_router
from voicefn_tts.schemas import OpenAISpeechRequest

router = plain_router(prefix="/v1/audio", tags=["OpenAI-compatible"])

MEDIA_TYPES = {"mp3": "audio/mpeg", "opus": "audio/ogg", "wav": "audio/wav", "pcm": "audio/pcm",
               "flac": "audio/flac"}


@router.post("/speech", summary="OpenAI-compatible text to speech (streams the audio)")
async def speech(body: OpenAISpeechRequest, services: ServicesDep,
                 principal: Principal = RateLimited("tts", with_hold=True)) -> Any:
    from voicefn.tts.streaming import abort_on_failure, open_stream
    from voicefn_tts.openai_speech import MAX_INPUT_CHARS, SAMPLE_RATE, to_params

    params, pieces = to_params(body)
    audio = await open_stream(services, principal, params, texts=pieces, max_chars=MAX_INPUT_CHARS)
    if body.response_format == "flac":
        # FLAC needs the whole signal to write its header: transcode once the wav is complete.
        from voicefn.audio.encode import transcode

        wav = b"".join([chunk async for chunk in audio.chunks()])
        return Response(transcode(wav, "flac", SAMPLE_RATE), media_type=MEDIA_TYPES["flac"])
    if body.stream_format == "sse":
        return StreamingResponse(_sse(audio.chunks(), params.text), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
    return FirstChunkResponse(abort_on_failure(audio.chunks()), media_type=MEDIA_TYPES[body.response_format],
                              headers=audio.headers)


async def _sse(chunks: AsyncIterator[bytes], text: str) -> AsyncIterator[bytes]:
    """OpenAI's stream_format=sse: speech.audio.delta events, then speech.audio.done; a failure
    after the first event is an ``error`` event (in OpenAI's error shape) that ends the stream."""
    from voicefn.errors import ApiError, openai_body

    try:
        async for chunk in chunks:
            event = {"type": "speech.audio.delta", "audio": base64.b64encode(chunk).decode()}
            yield f"data: {json.dumps(event)}\n\n".encode()
    except ApiError as err:
        yield f"data: {json.dumps({'type': 'error', **openai_body(err)})}\n\n".encode()
        return
    usage = {"input_tokens": len(text), "output_tokens": 0, "total_tokens": len(text)}
    yield f"data: {json.dumps({'type': 'speech.audio.done', 'usage': usage})}\n\n".encode()


@router.get("/models", summary="TTS models (OpenAI list format; public)")
async def models() -> dict[str, Any]:
    from voicefn.catalog.models import tts_models

    created = int(time.time())
    return {"object": "list", "data": [
        {"id": m.model_id, "object": "model", "created": created, "owned_by": "voicefn"}
        for m in tts_models(family="cosyvoice")]}
