"""seed 001: ``POST /api/voice/create_voice`` and ``POST /api/voice/get_voices`` (shapes in the app's docs)."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from voicefn.auth.principal import Principal
from voicefn.errors import ApiError
from voicefn.records.voice import Voice, VoiceStatus
from voicefn.services import Services
from voicefn.uploads import load_ticket
from voicefn.voice.enroll import VoiceDetails, enroll, refresh
from voicefn.voice.preview import make_preview, preview_url, want_preview
from voicefn.voice.rules import CLONE_MODELS, check_prefix, check_target_model
from voicefn.voice.sample import sample_from_object
from voicefn.web.app import ok
from voicefn.web.deps import PrincipalDep, ServicesDep
from voicefn.web.routing import plain_router
from voicefn_voice.jobs import watch_voice

router = plain_router(prefix="/api/voice", tags=["voice (seed 001)"])

MAX_PAGE = 1_000_000
_POLL_S = 0.5

# seed 001 documents no responses: these are voicefn's, shown in /docs
VOICE_SHAPE = """**Voice**: `{"voice_id", "voice_name", "voice_gender" ("male"|"female"|null), "voice_description",
"is_public", "status" ("DEPLOYING"|"OK"|"UNDEPLOYED"), "target_model", "preview_audio_url" (a signed URL valid
24 h; null if there is none or the voice is not yours), "created_by_current_user", "created_at", "updated_at"}`.
Envelope as seed 003's: `{"code": 200, "message": "success", "data": ...}`; errors `{"code": <http status>,
"message", "error": <seed 003 error code>, "data": null}`.

Only voices cloned under the platform's DashScope key can be public: a voice cloned with your own API key
lives in your DashScope account and works only with that key, for you."""

CREATE_DESCRIPTION = f"""Clones a voice from `audio_file_id` (the `ticket_id` of your own finished upload of purpose
`voice`; uploads are private, so anyone else's is 404 `NOT_FOUND`), waits until DashScope has deployed it
(at most `VOICEFN_VOICE_CREATE_WAIT_S`), speaks a short preview with it, stores the preview privately and
records the enrollment (history type `voice`, bill `"0"`).

`data`: a Voice plus `record_id`. If deployment takes longer than the wait, `status` is `DEPLOYING` and
`preview_audio_url` null; the preview is made as soon as the voice is OK (see `get_voices`). A sample
DashScope cannot use is `INVALID_AUDIO`.

{VOICE_SHAPE}"""

GET_DESCRIPTION = f"""`created_by_current_user: false`: your voices and everyone's public ones; `true`: only yours.
`gender`: all, male or female. `page` from 1, oldest first.

`data`: `{{"voices": [Voice, ...], "total": n, "page": p, "page_size": s}}`.

{VOICE_SHAPE}"""

_EXAMPLE_VOICE = {"voice_id": "cosyvoice-v3-flash-voice-2a931489c3d841ae9539c2e63e77c5af", "voice_name": "我的音色",
                  "voice_gender": "female", "voice_description": "温柔的女声", "is_public": False, "status": "OK",
                  "target_model": "cosyvoice-v3-flash", "preview_audio_url": "https://.../audio/tts/20251230/x.mp3",
                  "created_by_current_user": True, "created_at": "2025-12-30T10:30:00.000Z",
                  "updated_at": "2025-12-30T10:30:04.000Z"}


def _example(data: Any) -> dict[Any, Any]:
    return {200: {"content": {"application/json": {"example": {"code": 200, "message": "success", "data": data}}}}}


class CreateVoiceBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    audio_file_id: str = Field(description="ticket_id of your finished upload of purpose voice")
    voice_name: str = Field(min_length=1, max_length=64)
    voice_gender: Optional[Literal["male", "female"]] = None
    voice_description: Optional[str] = Field(None, max_length=500)
    is_public: bool = Field(False, description="only for voices cloned under the platform's DashScope key")
    target_model: str = Field("cosyvoice-v3-flash", description=" / ".join(CLONE_MODELS))
    prefix: str = Field("voice", description="1–10 lowercase letters or digits; part of the voice id")


class GetVoicesBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    page: int = Field(1, ge=1, le=MAX_PAGE)
    page_size: int = Field(10, ge=1, le=100)
    gender: Literal["all", "male", "female"] = "all"
    created_by_current_user: bool = False


def voice_view(services: Services, voice: Voice, viewer: str) -> dict[str, Any]:
    mine = voice.owner == viewer
    return {"voice_id": voice.voice_id, "voice_name": voice.name, "voice_gender": voice.gender,
            "voice_description": voice.description, "is_public": voice.public, "status": voice.status.value,
            "target_model": voice.target_model, "preview_audio_url": preview_url(services, voice) if mine else None,
            "created_by_current_user": mine, "created_at": voice.created_at, "updated_at": voice.updated_at}


async def _sample_key(services: Services, principal: Principal, ticket_id: str) -> str:
    """The object of the caller's own finished voice upload; uploads are private, so anyone
    else's (and one that is missing, unfinished or refused) is 404."""
    row = await load_ticket(services.state, ticket_id) if ticket_id else None
    if row is None or row.get("owner") != principal.user_id or row.get("kind") != "upload:voice":
        raise ApiError("NOT_FOUND", f"audio file {ticket_id} not found", param="audio_file_id")
    if row.get("status") != "SUCCEEDED":
        raise ApiError("NOT_FOUND", f"audio file {ticket_id} is not uploaded (or was refused: "
                       f"{(row.get('error') or {}).get('message', 'not checked yet')})", param="audio_file_id")
    return str(row["request"]["key"])


async def _wait_deployed(services: Services, voice: Voice) -> Voice:
    give_up = time.monotonic() + services.settings.voice_create_wait_s
    while voice.status is VoiceStatus.DEPLOYING and time.monotonic() < give_up:
        await asyncio.sleep(_POLL_S)
        voice = await refresh(services, voice)
    return voice


@router.post("/create_voice", summary="Clone a voice from your uploaded file, wait for it, and make a preview",
             description=CREATE_DESCRIPTION, responses=_example({**_EXAMPLE_VOICE, "record_id": 7}))
async def create_voice(body: CreateVoiceBody, principal: PrincipalDep, services: ServicesDep) -> dict[str, Any]:
    target_model, prefix = check_target_model(body.target_model), check_prefix(body.prefix)
    key = await _sample_key(services, principal, body.audio_file_id)
    sample = await sample_from_object(services, key)
    details = VoiceDetails(name=body.voice_name, gender=body.voice_gender, description=body.voice_description,
                           public=body.is_public)
    voice, record_id = await enroll(services, principal, sample, target_model=target_model, prefix=prefix,
                                    details=details, origin={"upload": body.audio_file_id, "route": "create_voice"})
    await watch_voice(services, voice)
    voice = await _wait_deployed(services, voice)
    if voice.status is VoiceStatus.DEPLOYING:  # waited long enough: the watch job makes the preview
        voice = await want_preview(services, voice)
    if voice.status is VoiceStatus.UNDEPLOYED:
        raise ApiError("INVALID_AUDIO", f"DashScope could not clone a voice from this sample "
                       f"({voice.extra.get('reason') or 'UNDEPLOYED'}); voice {voice.voice_id} is listed as UNDEPLOYED",
                       param="audio_file_id")
    if voice.status is VoiceStatus.OK and not voice.preview_key:
        voice = await make_preview(services, voice)
    return ok({**voice_view(services, voice, principal.user_id), "record_id": record_id})


@router.post("/get_voices", summary="Your voices and everyone's public ones (or only yours)",
             description=GET_DESCRIPTION,
             responses=_example({"voices": [_EXAMPLE_VOICE], "total": 1, "page": 1, "page_size": 10}))
async def get_voices(body: GetVoicesBody, principal: PrincipalDep, services: ServicesDep) -> dict[str, Any]:
    rows, total = await services.state.list_visible_voices(
        principal.user_id, include_public=not body.created_by_current_user,
        gender=None if body.gender == "all" else body.gender, page=body.page - 1, page_size=body.page_size)
    voices = [Voice.from_row(r) for r in rows]
    voices = [await refresh(services, v) if v.status is VoiceStatus.DEPLOYING and v.owner == principal.user_id
              else v for v in voices]
    return ok({"voices": [voice_view(services, v, principal.user_id) for v in voices], "total": total,
               "page": body.page, "page_size": body.page_size})
