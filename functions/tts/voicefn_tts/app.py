"""The tts function's ASGI app (web function: it streams and serves a WebSocket)."""

from __future__ import annotations

from fastapi import FastAPI

from voicefn.web.app import build_app

DESCRIPTION = """Text to speech: seed 003's `/api/audio/tts/*` (JSON envelope), seed 000's `/api/tts`
task API, and OpenAI's `/v1/audio/speech`. Authenticate with `Authorization: Bearer <JWT>`."""


def create_app() -> FastAPI:
    from voicefn.web.invoke import invoke_router
    from voicefn_tts.routes import long, openai, seed000, stream_ws, synthesize

    async def handle_job(payload: dict) -> None:  # the jobs module loads when a job arrives
        from voicefn_tts.jobs import handle_job as run

        await run(payload)

    return build_app(title="voicefn tts", description=DESCRIPTION,
                     routers=[synthesize.router, long.router, stream_ws.router, seed000.router,
                              openai.router, invoke_router(handle_job)])
