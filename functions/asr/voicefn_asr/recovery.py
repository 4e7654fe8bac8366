"""After a restart of a local server, unfinished transcriptions are queued again.

In-process jobs die with the process; the tasks table does not. (FC keeps its queue and retries
it itself: the invoker says so, ``keeps_jobs_across_restarts``. A client's GET also moves a task
on, see ``transcription.refresh``.)
"""

from __future__ import annotations

from voicefn import jobs
from voicefn.asr.transcription import KIND

import voicefn_asr.jobs  # noqa: F401 - declares the job that resume() queues


from voicefn.services import Services, get_services


async def resume_unfinished(limit: int = 500, services: Services | None = None) -> int:
    return await jobs.resume(services or get_services(), kinds=(KIND,), limit=limit)
