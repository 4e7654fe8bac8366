"""Background jobs of the voice function, declared on the layer's job runner (``voicefn.jobs``):
watching a new voice until DashScope deploys it.

A run polls ``query_voice`` for a bounded slice (:func:`voicefn.voice.watch.poll_slice`) and
asks to be run again (``AGAIN``) while the voice is DEPLOYING; the voice's own deadline
(``voice_deploy_deadline_s``) ends it UNDEPLOYED, the job's a little later as a backstop.
"""

from __future__ import annotations

from voicefn import jobs
from voicefn.jobs import JobContext, JobOutcome
from voicefn.records.voice import Voice, VoiceStatus
from voicefn.services import Services, get_services
from voicefn.settings import Settings
from voicefn.tasks import succeed_task
from voicefn.voice.watch import WATCH_KIND, poll_slice, watch_task

FUNCTION = "voice"
WATCH = "voice_watch"
SLICE_S = 20.0

handle_job = jobs.dispatcher(FUNCTION)


def _deadline_s(settings: Settings) -> float:
    return float(settings.voice_deploy_deadline_s) + 120.0


async def watch_voice(services: Services, voice: Voice, *, preview: bool = False) -> str:
    """Start (once) the job that moves ``voice`` from DEPLOYING on; its task id."""
    task_id = await watch_task(services, voice, preview=preview)
    await jobs.submit(services, WATCH, task_id=task_id)
    return task_id


@jobs.job(WATCH, function=FUNCTION, task_kind=WATCH_KIND, deadline_s=_deadline_s)
async def run_watch(ctx: JobContext) -> JobOutcome:
    request = ctx.task.get("request") or {}
    voice = await poll_slice(ctx.services, str(request.get("voice_id")), request.get("generation"),
                             budget_s=SLICE_S, preview=bool(request.get("preview")))
    if voice is not None and voice.status is VoiceStatus.DEPLOYING:
        return jobs.AGAIN
    await succeed_task(ctx.services.state, ctx.task_id,
                       {"voice_id": request.get("voice_id"), "status": voice.status.value if voice else "GONE"})
    return jobs.DONE


async def resume_unfinished(limit: int = 500, services: Services | None = None) -> int:
    """After a local restart, watches that were running are queued again (FC keeps its own queue)."""
    return await jobs.resume(services or get_services(), kinds=(WATCH_KIND,), limit=limit)
