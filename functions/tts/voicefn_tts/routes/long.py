"""seed 003 §1.3: long-text synthesis, waiting for the result or as a background task."""

from __future__ import annotations

from typing import Any


from voicefn.auth.principal import Principal
from voicefn.limits.deps import RateLimited
from voicefn.web.app import ok
from voicefn.web.deps import PrincipalDep, ServicesDep
from voicefn.web.routing import plain_router
from voicefn_tts.schemas import SynthesizeLongRequest

router = plain_router(prefix="/api/audio/tts", tags=["tts (seed 003)"])


@router.post("/synthesize-long",
             summary="Synthesize long text (split, concurrent, merged); async=true returns a task id")
async def synthesize_long_route(body: SynthesizeLongRequest, services: ServicesDep,
                                principal: Principal = RateLimited("tts", with_hold=True)) -> dict[str, Any]:
    from voicefn.tasks import create_task, principal_record
    from voicefn.tts.long import prepare_long, synthesize_long
    from voicefn_tts.jobs import TTS_LONG, submit_job

    params = body.params()
    api_key = await prepare_long(services, principal, params)
    if not body.run_async:
        return ok((await synthesize_long(services, principal, params, api_key)).public())
    task = await create_task(services.state, owner=principal.user_id, kind=TTS_LONG,
                             request={**body.model_dump(exclude={"run_async", "stream"}),
                                      "principal": principal_record(principal)})
    await submit_job(services, TTS_LONG, task["task_id"])
    return ok({"task_id": task["task_id"], "task_status": task["status"]})


@router.get("/task/{task_id}", summary="Progress and result of a long-synthesis task")
async def get_task(task_id: str, principal: PrincipalDep, services: ServicesDep) -> dict[str, Any]:
    from voicefn.tasks import owned_task, public_task

    task = await owned_task(services.state, task_id, principal.user_id, kind_prefix="tts")
    return ok(public_task(task))
