"""seed 003 §2.2–2.3: submit a file transcription task and read it back."""

from __future__ import annotations

from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field

from voicefn.asr.transcription import check_file_url, check_model, create_transcription, public_transcription, refresh
from decimal import Decimal

from voicefn.auth.principal import Principal
from voicefn.limits.deps import RateLimited
from voicefn.errors import ApiError
from voicefn.limits.ledger import hold
from voicefn.tasks import owned_task
from voicefn.web.app import ok
from voicefn.web.deps import PrincipalDep, ServicesDep
from voicefn_asr.jobs import submit_transcription_job
from voicefn.web.routing import plain_router

router = plain_router(prefix="/api/audio/asr", tags=["asr (seed 003)"])


class TranscribeRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: str = Field(description="qwen3-asr-flash-filetrans")
    file_url: str = Field(description="a public http(s) URL, or a URL of this service's own storage")
    language: Optional[str] = None
    enable_itn: bool = False
    context: Optional[str] = None
    channel_id: list[int] = Field(default_factory=lambda: [0])
    callback_url: Optional[str] = Field(None, description="receives the finished task, signed (X-Voicefn-Signature)")


@router.post("/transcribe", summary="Transcribe a long audio file asynchronously")
async def transcribe(body: TranscribeRequest, services: ServicesDep,
                     principal: Principal = RateLimited("asr", with_hold=True)) -> dict[str, Any]:
    from voicefn.apikeys import resolve_api_key
    from voicefn.net.ssrf import require_public_url

    check_model(body.model)
    if not body.channel_id or any(c < 0 or c > 15 for c in body.channel_id):
        raise ApiError("INVALID_PARAMETER", "channel_id must list track indexes 0–15", param="channel_id")
    source = await check_file_url(services, body.file_url, principal.user_id)
    if body.callback_url is not None:
        await require_public_url(body.callback_url, param="callback_url")
    api_key = await resolve_api_key(principal, services)  # NO_API_KEY now, not in the background
    # the duration is unknown until transcribed: refused only once a cap is reached
    await hold(services, principal, Decimal(0), api_key=api_key)
    task = await create_transcription(services, principal, model=body.model, source=source, language=body.language,
                                      enable_itn=body.enable_itn, channel_id=body.channel_id,
                                      callback_url=body.callback_url)
    await submit_transcription_job(services, task["task_id"])
    return ok({"task_id": task["task_id"], "task_status": task["status"], "record_id": task["record_id"]})


@router.get("/task/{task_id}", summary="Status and result of a transcription task")
async def get_task(task_id: str, principal: PrincipalDep, services: ServicesDep) -> dict[str, Any]:
    task = await owned_task(services.state, task_id, principal.user_id, kind_prefix="asr")
    return ok(public_transcription(await refresh(services, task)))
