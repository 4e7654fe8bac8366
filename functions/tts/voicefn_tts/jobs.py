"""Background jobs of the tts function: long synthesis and seed 000's TTS tasks.

Jobs arrive at least once (FC async invocation retries; the in-process invoker retries too):
each run claims its task first and does nothing when the task is already finished, and its
history record carries the task id as idempotency key, so a retry never bills twice.
"""

from __future__ import annotations

from typing import Any

from voicefn.apikeys import resolve_api_key
from voicefn.errors import ApiError
from voicefn.jobs import sign_job, verify_job
from voicefn.logging import get_logger
from voicefn.services import Services, get_services
from voicefn.tasks import fail_task, report_progress, start_task, succeed_task, task_principal
from voicefn.tts.long import synthesize_long
from voicefn.tts.params import TtsParams, VoiceSettings

FUNCTION = "tts"
TTS_LONG = "tts_long"
TTS_SEED000 = "tts_seed000"

log = get_logger(__name__)


async def submit_job(services: Services, job: str, task_id: str) -> None:
    register = getattr(services.invoker, "register", None)
    if register is not None:  # in-process invoker: the job runs in this process
        register(FUNCTION, handle_job)
    await services.invoker.invoke_async(FUNCTION, sign_job(services, job, task_id=task_id),
                                        idempotency_key=f"{job}:{task_id}")


async def handle_job(payload: dict[str, Any]) -> None:
    """Entry for every async invocation of this function (in-process or FC ``POST /invoke``)."""
    services = get_services()
    body = verify_job(services, payload)
    runner = _RUNNERS.get(body.get("job", ""))
    if runner is None:
        raise ApiError("INVALID_PARAMETER", f"unknown job {body.get('job')!r}")
    task = await start_task(services.state, body["task_id"])
    if task is None:
        return  # finished already: a redelivery
    try:
        await runner(services, task)
    except ApiError as err:
        log.warning("job failed", extra={"job": body["job"], "task_id": task["task_id"], "code": err.code})
        await fail_task(services.state, task["task_id"], err.message, err.code)
    except Exception:
        # Unexpected: let the invoker retry (at-least-once); start_task gives up after max attempts.
        log.exception("job crashed", extra={"job": body["job"], "task_id": task["task_id"]})
        raise


async def _run_long(services: Services, task: dict[str, Any]) -> None:
    req = task["request"]
    params = TtsParams(VoiceSettings(model=req["model"], voice=req["voice"], format=req["format"],
                                     sample_rate=req["sample_rate"], volume=req["volume"],
                                     speech_rate=req["speech_rate"], pitch_rate=req["pitch_rate"],
                                     instruction=req.get("instruction")), req["text"])
    principal = task_principal(task)
    api_key = await resolve_api_key(principal, services)

    async def progress(done: int, total: int) -> None:
        await report_progress(services.state, task["task_id"], done, total)

    result = await synthesize_long(services, principal, params, api_key, on_progress=progress,
                                   idempotency_key=f"task:{task['task_id']}")
    await succeed_task(services.state, task["task_id"], result.public())


async def _run_seed000(services: Services, task: dict[str, Any]) -> None:
    from voicefn_tts.seed000 import run_seed000_task

    await run_seed000_task(services, task_principal(task), task)


_RUNNERS = {TTS_LONG: _run_long, TTS_SEED000: _run_seed000}
