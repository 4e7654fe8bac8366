"""After a restart of a local server, unfinished transcriptions are queued again.

In-process jobs die with the process; the tasks table does not. (FC keeps its queue and retries
it itself: the invoker says so, ``keeps_jobs_across_restarts``. A client's GET also moves a task
on, see ``transcription.refresh``.)
"""

from __future__ import annotations

from voicefn import jobs
from voicefn.asr.transcription import KIND
from voicefn.services import get_services

import voicefn_asr.jobs  # noqa: F401 - declares the job that resume() queues


async def resume_unfinished(limit: int = 500) -> int:
    return await jobs.resume(get_services(), kinds=(KIND,), limit=limit)
