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

**Seed 001's responses** use the same envelope as seed 003: `{"code": 200, "message": "success", "data": ...}`,
and errors `{"code": <http status>, "message": ..., "data": null}` with seed 003's error codes.

- `POST /api/voice/create_voice` → `data`: one **Voice** (below) with `record_id` (its history record) and
  `preview_audio_url` (a signed URL, valid 24 h, of the preview spoken with the new voice; stored privately,
  readable by its owner only). It waits until DashScope has deployed the voice (at most
  `VOICEFN_VOICE_CREATE_WAIT_S`); if that takes longer, the voice comes back with `status: "DEPLOYING"` and
  `preview_audio_url: null`, and the preview is made as soon as it is OK (read it with `get_voices`).
  A sample DashScope cannot use is `INVALID_AUDIO` (the voice is then listed as `UNDEPLOYED`).
- `POST /api/voice/get_voices` → `data`: `{"voices": [Voice, ...], "total": n, "page": p, "page_size": s}`,
  oldest first, `page` from 1.
- **Voice**: `{"voice_id", "voice_name", "voice_gender" ("male"|"female"|null), "voice_description",
  "is_public", "status" ("DEPLOYING"|"OK"|"UNDEPLOYED"), "target_model", "preview_audio_url" (null if
  none or not yours), "created_by_current_user", "created_at", "updated_at"}`.

**Public voices.** A DashScope voice belongs to the account whose key cloned it. Only voices cloned under the
platform's key can be public (everyone may synthesize with them); a voice cloned with your own API key works
only with that key, for you.
"""


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
