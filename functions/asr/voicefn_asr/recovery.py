"""After a restart of a local server, unfinished transcriptions are queued again.

In-process jobs die with the process; the tasks table does not. (On FC the queue is FC's own and
survives; a client's GET also moves a task on, see ``transcription.refresh``.)
"""

from __future__ import annotations

from voicefn.asr.transcription import KIND
from voicefn.logging import get_logger
from voicefn.services import Services, get_services
from voicefn_asr.jobs import submit_transcription_job

log = get_logger(__name__)


async def resume_unfinished(limit: int = 500, services: Services | None = None) -> int:
    services = services or get_services()
    if getattr(services.invoker, "register", None) is None:
        return 0  # FC invoker: FC keeps and retries the queued invocations itself
    tasks = await services.state.list_tasks(kind=KIND, statuses=("PENDING", "RUNNING"), limit=limit)
    for task in tasks:
        if task["status"] == "RUNNING" and not task.get("upstream_task_id"):
            # its submitter died with the old process (in-process jobs have no other home): submit again
            await services.state.update_task(task["task_id"], {"status": "PENDING"}, expect_status="RUNNING")
        await submit_transcription_job(services, task["task_id"])
    if tasks:
        log.info("resumed unfinished transcriptions", extra={"count": len(tasks)})
    return len(tasks)
