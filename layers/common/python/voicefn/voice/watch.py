"""Watching a DEPLOYING voice until DashScope says OK or UNDEPLOYED (or its deadline passes).

One task row per enrollment (and per new sample: ``generation``) is the job's idempotency
record: a function's status job (``voicefn_voice.jobs``) runs :func:`poll_slice` for it, a
bounded slice at a time, and is run again while the voice is DEPLOYING.
"""

from __future__ import annotations

import asyncio
import hashlib
import time

from voicefn.records.voice import Voice, VoiceStatus
from voicefn.services import Services
from voicefn.tasks import create_task
from voicefn.voice.enroll import refresh

__all__ = ["WATCH_KIND", "poll_slice", "watch_task", "watch_task_id"]

WATCH_KIND = "voice_deploy"
_FIRST_WAIT_S = 0.5
_MAX_WAIT_S = 5.0


def watch_task_id(voice: Voice) -> str:
    digest = hashlib.sha256(f"{voice.voice_id}\x00{voice.extra.get('generation')}".encode()).hexdigest()[:32]
    return f"voice-{digest}"


async def watch_task(services: Services, voice: Voice, *, preview: bool = False) -> str:
    """The task row that watches this enrollment (created once); its id."""
    task = await create_task(services.state, owner=voice.owner, kind=WATCH_KIND, task_id=watch_task_id(voice),
                             request={"voice_id": voice.voice_id, "generation": voice.extra.get("generation"),
                                      "preview": preview})
    return str(task["task_id"])


async def poll_slice(services: Services, voice_id: str, generation: object, *, budget_s: float,
                     preview: bool = False) -> Voice | None:
    """Refresh the voice until its status is final or ``budget_s`` has passed; on OK, make the
    preview if asked and missing. The voice (None if it is gone or has a newer sample)."""
    from voicefn.voice.preview import make_preview

    give_up = time.monotonic() + budget_s
    wait = _FIRST_WAIT_S
    while True:
        row = await services.state.get_voice(voice_id)
        if row is None or row.get("generation") != generation:
            return None
        voice = await refresh(services, Voice.from_row(row))
        if voice.status is not VoiceStatus.DEPLOYING:
            wanted = preview or bool(voice.extra.get("preview_wanted"))
            if voice.status is VoiceStatus.OK and wanted and not voice.preview_key:
                voice = await make_preview(services, voice)
            return voice
        if time.monotonic() + wait > give_up:
            return voice
        await asyncio.sleep(wait)
        wait = min(wait * 2, _MAX_WAIT_S)
