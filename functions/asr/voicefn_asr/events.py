"""OSS ``ObjectCreated`` on ``uploads/asr/…``: the asr purpose of the upload intake.

The intake (``voicefn.uploads.intake``) matches the ticket, claims it once, checks the object
with ranged reads and then calls the hook below, which starts the transcription. The event key
names the task (``task_id_for_event``), so a delivery repeated after a crash finds the task the
first one created: one DashScope task, one history record, one bill.
"""

from __future__ import annotations

from voicefn import uploads
from voicefn.asr.transcription import create_transcription, task_id_for_event
from voicefn.services import Services
from voicefn_asr.jobs import submit_transcription_job


async def resume_transcription(services: Services, task_id: str) -> None:
    task = await services.state.get_task(task_id)
    if task is not None and task["status"] == "PENDING" and not task.get("upstream_task_id"):
        await submit_transcription_job(services, task_id)  # the first delivery may have died before queueing


@uploads.purpose("asr", resume=resume_transcription)
async def start_transcription(ctx: uploads.UploadContext) -> uploads.UploadOutcome:
    task = await create_transcription(
        ctx.services, ctx.principal, model=uploads.FILETRANS_MODEL, source={"object_key": ctx.key},
        task_id=task_id_for_event(ctx.event_key), callback_url=ctx.ticket.callback_url,
        origin={"upload": ctx.ticket.ticket_id, "format": ctx.audio.format, "duration": round(ctx.audio.duration, 3)})
    await submit_transcription_job(ctx.services, task["task_id"])
    return uploads.UploadOutcome(task_id=task["task_id"])


on_oss_event = uploads.oss_event_handler("asr")
