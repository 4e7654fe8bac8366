"""The voice function's ASGI app (event function: HTTP trigger, OSS trigger, async jobs)."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import AsyncIterator

from fastapi import FastAPI

from voicefn.services import Services
from voicefn.web.app import build_app

DESCRIPTION = """Voice cloning and the voice catalog: seed 003's `/api/audio/voice/*` (clone from a sample,
list, read, replace the sample, delete; the system voices) and seed 001's `/api/voice/create_voice` and
`/api/voice/get_voices` (named, public or private voices with a preview). Uploads made with a ticket
(`POST /api/audio/uploads`, purpose `voice`, with `voice: {target_model, prefix, ...}`) are enrolled when
they land.
Seed 001's response shapes are in its routes' descriptions; only voices cloned under the platform's key can be
public."""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    from voicefn_voice.jobs import resume_unfinished

    await resume_unfinished(services=app.state.services)
    yield


def create_app(services: Services | None = None) -> FastAPI:
    """The app, on ``services`` (default: the instance's, ``get_services()``)."""
    from voicefn.web.invoke import invoke_router
    from voicefn_voice.jobs import handle_job
    from voicefn_voice.routes import clone, seed001

    app = build_app(title="voicefn voice", description=DESCRIPTION,
                    routers=[clone.router, seed001.router, invoke_router(handle_job)], services=services)
    app.router.lifespan_context = lifespan
    return app
