"""Background jobs of the asr function, declared on the layer's job runner (``voicefn.jobs``):
moving transcription tasks on.

A run polls for a bounded slice and then asks to be run again (``AGAIN``), so a long
transcription never needs one invocation longer than FC's timeout. The runner's lease makes a
redelivery while a slice runs a no-op; only the lease holder submits to DashScope.
"""

from __future__ import annotations

from voicefn import jobs
from voicefn.asr.transcription import KIND, advance
from voicefn.jobs import JobContext, JobOutcome
from voicefn.services import Services
from voicefn.settings import Settings

FUNCTION = "asr"
ADVANCE = "asr_advance"

handle_job = jobs.dispatcher(FUNCTION)


def _deadline_s(settings: Settings) -> float:
    return float(settings.asr_task_deadline_s)


async def submit_transcription_job(services: Services, task_id: str, round_: int = 0) -> None:
    await jobs.submit(services, ADVANCE, task_id=task_id, round=round_)


@jobs.job(ADVANCE, function=FUNCTION, task_kind=KIND, deadline_s=_deadline_s)
async def run_advance(ctx: JobContext) -> JobOutcome:
    task = await advance(ctx.services, ctx.task_id, holds_lease=True)
    if task is not None and task["status"] not in ("SUCCEEDED", "FAILED"):
        return jobs.AGAIN
    return jobs.DONE
