"""Background jobs of the tts function, declared on the layer's job runner (``voicefn.jobs``):
long synthesis and seed 000's TTS tasks.

The runner gives them at-least-once safety (a redelivery while one runs does nothing; a finished
task is never run again), attempts, a deadline and one failure classifier. The history record
carries the task id as idempotency key, so even a taken-over attempt never bills twice.
"""

from __future__ import annotations

from typing import Any

from voicefn import jobs
from voicefn.voice.access import check_voice, synthesis_key
from voicefn.jobs import JobContext
from voicefn.services import Services
from voicefn.tasks import report_progress, succeed_task, task_principal
from voicefn.tts.long import synthesize_long
from voicefn.tts.params import TtsParams, VoiceSettings

FUNCTION = "tts"
TTS_LONG = "tts_long"
TTS_SEED000 = "tts_seed000"
# Under the function's FC timeout (600 s, s.yaml): the runner ends an overlong task FAILED with
# TIMEOUT itself, before FC would kill the invocation and leave the task to its lease's expiry.
LONG_DEADLINE_S = 540
SEED000_DEADLINE_S = 540

# the entry for every delivery of this function's jobs (POST /invoke, the FC event entry)
handle_job = jobs.dispatcher(FUNCTION)


async def submit_job(services: Services, job: str, task_id: str) -> None:
    await jobs.submit(services, job, task_id=task_id)


def _params(req: dict[str, Any]) -> TtsParams:
    """The stored request as synthesis parameters (the one place that knows TtsParams' shape)."""
    settings = VoiceSettings(model=req["model"], voice=req["voice"], format=req["format"],
                             sample_rate=req["sample_rate"], volume=req["volume"], speech_rate=req["speech_rate"],
                             pitch_rate=req["pitch_rate"], instruction=req.get("instruction"))
    return TtsParams(settings, req["text"])


@jobs.job(TTS_LONG, function=FUNCTION, deadline_s=LONG_DEADLINE_S)
async def run_long(ctx: JobContext) -> None:
    services, task = ctx.services, ctx.task
    principal = task_principal(task)
    params = _params(task["request"])
    # a cloned voice synthesizes on the key of the account that holds it (voicefn.voice.access)
    voice = await check_voice(services.state, principal, params.model, params.voice, instruction=params.instruction)
    api_key = await synthesis_key(principal, services, voice)

    async def progress(done: int, total: int) -> None:
        await report_progress(services.state, ctx.task_id, done, total)

    result = await synthesize_long(services, principal, params, api_key, on_progress=progress,
                                   idempotency_key=f"task:{ctx.task_id}")
    await succeed_task(services.state, ctx.task_id, result.public())


@jobs.job(TTS_SEED000, function=FUNCTION, deadline_s=SEED000_DEADLINE_S)
async def run_seed000(ctx: JobContext) -> None:
    from voicefn_tts.seed000 import run_seed000_task

    await run_seed000_task(ctx.services, task_principal(ctx.task), ctx.task)
