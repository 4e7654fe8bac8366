"""The asr function's ASGI app (event function: HTTP trigger, OSS trigger, async jobs)."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import AsyncIterator

from fastapi import FastAPI

from voicefn.web.app import build_app

DESCRIPTION = """Speech recognition: seed 003's `/api/audio/asr/*` (sync recognition, file transcription
tasks) and OpenAI's `/v1/audio/transcriptions`. Uploads made with an upload ticket
(`POST /api/audio/uploads`, purpose `asr`) are transcribed automatically when they land."""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    from voicefn_asr.recovery import resume_unfinished

    await resume_unfinished()
    yield


def create_app() -> FastAPI:
    from voicefn_asr.routes import invoke, openai, recognize, transcribe

    app = build_app(title="voicefn asr", description=DESCRIPTION,
                    routers=[recognize.router, transcribe.router, openai.router, invoke.router])
    app.router.lifespan_context = lifespan
    return app
