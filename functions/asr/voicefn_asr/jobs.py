"""Background jobs of the asr function: moving transcription tasks on.

Delivered at least once (FC async invocation, or the in-process invoker); `advance` is safe to
run any number of times. A run polls for a bounded slice, then queues the next run, so a long
transcription never needs one invocation longer than FC's timeout.
"""

from __future__ import annotations

from typing import Any

from voicefn.asr.transcription import advance
from voicefn.errors import ApiError
from voicefn.jobs import sign_job, verify_job
from voicefn.services import Services, get_services

FUNCTION = "asr"
ADVANCE = "asr_advance"


async def submit_transcription_job(services: Services, task_id: str, round_: int = 0) -> None:
    register = getattr(services.invoker, "register", None)
    if register is not None:  # in-process invoker: the job runs in this process
        register(FUNCTION, handle_job)
    await services.invoker.invoke_async(FUNCTION, sign_job(services, ADVANCE, task_id=task_id, round=round_),
                                        idempotency_key=f"{ADVANCE}:{task_id}:{round_}")


async def handle_job(payload: dict[str, Any]) -> None:
    services = get_services()
    body = verify_job(services, payload)
    if body.get("job") != ADVANCE:
        raise ApiError("INVALID_PARAMETER", f"unknown job {body.get('job')!r}")
    task = await advance(services, body["task_id"])
    if task is not None and task["status"] not in ("SUCCEEDED", "FAILED"):
        await submit_transcription_job(services, body["task_id"], int(body.get("round", 0)) + 1)
