"""The asr function's ASGI app (event function: HTTP trigger, OSS trigger, async jobs)."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import AsyncIterator

from fastapi import FastAPI

from voicefn.services import Services
from voicefn.web.app import build_app

DESCRIPTION = """Speech recognition: seed 003's `/api/audio/asr/*` (sync recognition, file transcription
tasks) and OpenAI's `/v1/audio/transcriptions`. Uploads made with an upload ticket
(`POST /api/audio/uploads`, purpose `asr`) are transcribed automatically when they land."""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    from voicefn_asr.recovery import resume_unfinished

    await resume_unfinished(services=app.state.services)
    yield


def create_app(services: Services | None = None) -> FastAPI:
    """The app, on ``services`` (default: the instance's, ``get_services()``)."""
    from voicefn.web.invoke import invoke_router
    from voicefn_asr.jobs import handle_job
    from voicefn_asr.routes import openai, recognize, transcribe

    # an event function: jobs arrive through index.handler; /invoke keeps it deployable as a web one
    app = build_app(title="voicefn asr", description=DESCRIPTION,
                    routers=[recognize.router, transcribe.router, openai.router, invoke_router(handle_job)],
                    services=services)
    app.router.lifespan_context = lifespan
    return app
