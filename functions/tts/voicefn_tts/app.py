"""The tts function's ASGI app (web function: it streams and serves a WebSocket)."""

from __future__ import annotations

from fastapi import FastAPI

from voicefn.services import Services
from voicefn.web.app import build_app

DESCRIPTION = """Text to speech: seed 003's `/api/audio/tts/*` (JSON envelope), seed 000's `/api/tts`
task API, and OpenAI's `/v1/audio/speech`. Authenticate with `Authorization: Bearer <JWT>`.

**WebSocket `/api/audio/tts/stream`** (seed 003 §1.4; not listed below, OpenAPI has no WebSockets):
connect with query `model`, `voice`, optional `format` (default pcm), `sample_rate` (default 22050),
`volume`, `speech_rate`, `pitch_rate`, and `token` (the JWT; browsers cannot set headers on a
WebSocket). Send `{"type": "text", "content": "..."}` as often as you like, then `{"type": "end"}`.
You receive `{"type": "started"}`, binary audio frames as they are synthesized, and finally
`{"type": "complete", "characters", "duration", "bill", "record_id", "audio_url"}` — or
`{"type": "error", "code", "message"}` and a close (also when the upstream fails mid-stream, when
you send nothing for `VOICEFN_TTS_WS_IDLE_TIMEOUT_S` seconds (`TIMEOUT`), or for a message over
64 KiB or nested deeper than 8 levels (`INVALID_PARAMETER`)). `audio_url` is null for a stream too
long to store (it is still billed).

**Streams that fail after their first byte** are aborted (the chunked body ends without its last
chunk, so clients see an error); with `stream_format=sse` on `/v1/audio/speech` the stream ends
with an `error` event instead."""


def create_app(services: Services | None = None) -> FastAPI:
    """The app, on ``services`` (default: the instance's, ``get_services()``)."""
    from voicefn.web.invoke import invoke_router
    from voicefn_tts.routes import long, openai, seed000, stream_ws, synthesize

    async def handle_job(payload: dict) -> None:  # the jobs module loads when a job arrives
        from voicefn_tts.jobs import handle_job as run

        await run(payload)

    return build_app(title="voicefn tts", description=DESCRIPTION,
                     routers=[synthesize.router, long.router, stream_ws.router, seed000.router,
                              openai.router, invoke_router(handle_job)], services=services)
