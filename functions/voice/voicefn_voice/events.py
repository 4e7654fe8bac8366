"""OSS ``ObjectCreated`` on ``uploads/voice/…``: the voice purpose of the upload intake.

The intake (``voicefn.uploads.intake``) matches the ticket, claims it once, checks the object with
ranged reads and calls the hook below, which checks the sample by its bytes (10–60 s, 16 kHz,
not silent…) and, if the ticket named a voice (``voice: {target_model, prefix, ...}``), enrolls
it and starts the job that watches it deploy. The ticket ends DONE showing ``voice_id``; without
``voice`` the sample is only kept, for seed 001's ``create_voice`` (``audio_file_id`` = ticket id).

Redelivered events find the ticket DONE and do nothing. For a delivery that died between
DashScope's answer and the ticket's update, the enrollment is recorded in the events table under
the ticket (``voice-upload:{ticket}``) right after the voice row: a retry finds it there and
enrolls nothing twice. Concurrent deliveries claim that entry first (one conditional write):
the others wait for its outcome.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from voicefn import clock, uploads
from voicefn.records.voice import Voice
from voicefn.services import Services
from voicefn.voice.enroll import VoiceDetails, enroll
from voicefn.voice.sample import sample_from_object
from voicefn_voice.jobs import watch_voice


_CONCURRENT_WAIT_S = 30.0   # a concurrent delivery's enrollment takes a DashScope call or two
_TAKE_OVER_AFTER_S = 120.0  # a delivery silent this long has died: enrolling again is the lesser harm


def _marker(ticket_id: str) -> str:
    return f"voice-upload:{ticket_id}"


@uploads.purpose("voice")
async def enroll_upload(ctx: uploads.UploadContext) -> uploads.UploadOutcome:
    services = ctx.services
    sample = await sample_from_object(services, ctx.key, param="file")
    detail: dict[str, Any] = {"sample": {"format": sample.format, "duration": round(sample.duration, 3)}}
    spec = ctx.ticket.extra_request.get("voice")
    if not isinstance(spec, dict):
        return uploads.UploadOutcome(detail=detail)  # kept for create_voice (seed 001)
    marker = _marker(ctx.ticket.ticket_id)
    earlier = None if await services.state.claim_event(marker, owner=ctx.principal.user_id) \
        else await _earlier_enrollment(services, marker)
    if earlier is not None:  # an earlier (or concurrent) delivery enrolled it
        voice, record_id = earlier
    else:
        details = VoiceDetails(name=spec.get("name"), gender=spec.get("gender"),
                               description=spec.get("description"), public=bool(spec.get("is_public")))
        try:
            voice, record_id = await enroll(services, ctx.principal, sample, target_model=str(spec["target_model"]),
                                            prefix=str(spec["prefix"]), language_hints=spec.get("language_hints"),
                                            details=details, origin={"upload": ctx.ticket.ticket_id})
        except BaseException:
            await services.state.set_event_outcome(marker, {"failed": True})  # nothing made: a retry enrolls
            raise
        await services.state.set_event_outcome(marker, {"voice_id": voice.voice_id, "record_id": record_id})
    await watch_voice(services, voice)
    detail.update({"voice_id": voice.voice_id, "voice_status": voice.status.value, "target_model": voice.target_model,
                   "record_id": record_id})
    return uploads.UploadOutcome(detail=detail)


async def _earlier_enrollment(services: Services, marker: str) -> tuple[Voice, Any] | None:
    """The voice another delivery of this upload enrolled: waited for while that delivery may still
    be enrolling; None once it has plainly died without (then this one enrolls)."""
    give_up = time.monotonic() + _CONCURRENT_WAIT_S
    while True:
        seen = await services.state.get_event(marker) or {}
        done = seen.get("outcome") or {}
        if done.get("voice_id"):
            row = await services.state.get_voice(str(done["voice_id"]))
            return (Voice.from_row(row), done.get("record_id")) if row is not None else None
        if done.get("failed") or clock.seconds_since(seen.get("first_seen")) > _TAKE_OVER_AFTER_S:
            return None
        if time.monotonic() > give_up:
            raise RuntimeError("another delivery of this upload is enrolling it; retry later")  # FC retries
        await asyncio.sleep(0.2)


on_oss_event = uploads.oss_event_handler("voice")
