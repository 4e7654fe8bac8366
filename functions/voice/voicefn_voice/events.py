"""OSS ``ObjectCreated`` on ``uploads/voice/…``: the voice purpose of the upload intake.

The intake (``voicefn.uploads.intake``) matches the ticket, claims it once, checks the object with
ranged reads and calls the hook below, which checks the sample by its bytes (10–60 s, 16 kHz,
not silent…) and, if the ticket named a voice (``voice: {target_model, prefix, ...}``), enrolls
it and starts the job that watches it deploy. The ticket ends DONE showing ``voice_id``; without
``voice`` the sample is only kept, for seed 001's ``create_voice`` (``audio_file_id`` = ticket id).

Redelivered events find the ticket DONE and do nothing. For a delivery that died between
DashScope's answer and the ticket's update, the enrollment is recorded in the events table under
the ticket (``voice-upload:{ticket}``) right after the voice row: a retry finds it there and
enrolls nothing twice.
"""

from __future__ import annotations

from typing import Any

from voicefn import uploads
from voicefn.records.voice import Voice
from voicefn.voice.enroll import VoiceDetails, enroll
from voicefn.voice.sample import sample_from_object
from voicefn_voice.jobs import watch_voice


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
    seen = await services.state.get_event(marker)
    done = (seen or {}).get("outcome") or {}
    row = await services.state.get_voice(str(done["voice_id"])) if done.get("voice_id") else None
    if row is not None:  # an earlier delivery enrolled it already
        voice, record_id = Voice.from_row(row), done.get("record_id")
    else:
        await services.state.claim_event(marker, owner=ctx.principal.user_id)
        details = VoiceDetails(name=spec.get("name"), gender=spec.get("gender"),
                               description=spec.get("description"), public=bool(spec.get("is_public")))
        voice, record_id = await enroll(services, ctx.principal, sample, target_model=str(spec["target_model"]),
                                        prefix=str(spec["prefix"]), language_hints=spec.get("language_hints"),
                                        details=details, origin={"upload": ctx.ticket.ticket_id})
        await services.state.set_event_outcome(marker, {"voice_id": voice.voice_id, "record_id": record_id})
    await watch_voice(services, voice)
    detail.update({"voice_id": voice.voice_id, "voice_status": voice.status.value, "target_model": voice.target_model,
                   "record_id": record_id})
    return uploads.UploadOutcome(detail=detail)


on_oss_event = uploads.oss_event_handler("voice")
