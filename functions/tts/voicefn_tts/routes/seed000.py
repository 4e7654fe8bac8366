"""seed 000's routes, in its own request and error formats."""

from __future__ import annotations

from typing import Any

from voicefn.auth.principal import Principal
from voicefn.limits.deps import RateLimited
from voicefn.web.deps import PrincipalDep, ServicesDep
from voicefn.web.routing import plain_router
from voicefn_tts.schemas import Seed000TtsRequest

router = plain_router(tags=["tts (seed 000)"])


@router.post("/api/tts", summary="Start a Qwen TTS task (seed 000)")
async def create_tts_task(body: Seed000TtsRequest, services: ServicesDep,
                          principal: Principal = RateLimited("tts", with_hold=True)) -> dict[str, Any]:
    from voicefn.tasks import create_task, principal_record
    from voicefn_tts.jobs import TTS_SEED000, submit_job
    from voicefn_tts.seed000 import check_request, seed000_model
    from voicefn.apikeys import resolve_api_key

    check_request(body.text, body.voice, body.language_type)
    from voicefn.billing import billable_characters, tts_bill
    from voicefn.limits.ledger import hold

    api_key = await resolve_api_key(principal, services)  # fail now (InvalidApiKey), not in the background
    model = seed000_model(services.settings)
    await hold(services, principal, tts_bill(model, billable_characters(body.text)), api_key=api_key)
    task = await create_task(services.state, owner=principal.user_id, kind=TTS_SEED000,
                             request={**body.model_dump(), "model": model,
                                      "principal": principal_record(principal)})
    await submit_job(services, TTS_SEED000, task["task_id"])
    return {"taskId": task["task_id"], "model": model, "voice": body.voice,
            "language_type": body.language_type, "text_length": len(body.text)}


@router.get("/api/tts/audio/{task_id}", summary="Status and audio URL of a TTS task (seed 000)")
async def get_tts_audio(task_id: str, principal: PrincipalDep, services: ServicesDep) -> dict[str, Any]:
    from voicefn.tasks import owned_task
    from voicefn_tts.jobs import TTS_SEED000
    from voicefn_tts.seed000 import public_status

    task = await owned_task(services.state, task_id, principal.user_id, kind_prefix=TTS_SEED000)
    return public_status(task, services)
