"""OSS ``ObjectCreated`` on ``uploads/asr/…``: check the upload, then start its transcription.

FC delivers OSS events at least once and retries failures. Each event (bucket/key/eTag) is
recorded in the events table with its outcome, and it names the task (``task_id_for_event``), so
a second delivery finds the task the first one created — even if the first died half-way — and
starts nothing new: one DashScope task, one history record, one bill.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from voicefn.asr.intake import inspect
from voicefn.asr.transcription import create_transcription, task_id_for_event
from voicefn.auth.principal import Principal
from voicefn.errors import ApiError
from voicefn.logging import get_logger
from voicefn.services import Services, get_services
from voicefn_asr.jobs import submit_transcription_job

MAX_UPLOAD_BYTES = 200 * 1024 * 1024
FILETRANS_MODEL = "qwen3-asr-flash-filetrans"
log = get_logger(__name__)


async def on_oss_event(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    services = get_services()
    outcomes = []
    for record in event.get("events") or []:
        outcomes.append(await handle_record(services, record))
    return {"handled": outcomes}


def _object_key(record: dict[str, Any]) -> str:
    key = str(((record.get("oss") or {}).get("object") or {}).get("key") or "")
    # OSS may URL-encode special characters in event keys; ours never contain '%'
    return unquote(key) if "%" in key else key


async def handle_record(services: Services, record: dict[str, Any]) -> dict[str, Any]:
    from voicefn.uploads import attach_task, load_ticket, mark_ticket, parse_upload_key, reject_ticket

    if not str(record.get("eventName", "")).startswith("ObjectCreated"):
        return {"skipped": "not an ObjectCreated event"}
    oss = record.get("oss") or {}
    bucket = (oss.get("bucket") or {}).get("name", "")
    key = _object_key(record)
    etag = str((oss.get("object") or {}).get("eTag", ""))
    upload = parse_upload_key(key)
    if upload is None or upload.purpose != "asr":
        return {"skipped": f"{key} is not an asr upload"}
    ticket = await load_ticket(services.state, upload.ticket_id)
    if ticket is None or ticket.get("owner") != upload.user_id or ticket["request"].get("key") != key:
        log.warning("upload without a matching ticket", extra={"key": key})
        return {"skipped": "no ticket for this upload"}

    event_key = f"oss:{bucket}/{key}/{etag}"
    if not await services.state.claim_event(event_key, owner=upload.user_id):
        seen = await services.state.get_event(event_key) or {}
        if (seen.get("outcome") or {}).get("rejected"):
            return {"rejected": seen["outcome"]["rejected"], "duplicate": True}
    task_id = task_id_for_event(event_key)
    existing = await services.state.get_task(task_id)
    if existing is not None:  # a redelivery: the first delivery made the task
        if existing["status"] == "PENDING" and not existing.get("upstream_task_id"):
            await submit_transcription_job(services, task_id)  # it may have died before queueing
        return {"task_id": task_id, "duplicate": True}

    info = await services.objects.head(key)
    if info is None:
        return {"skipped": "the object is gone"}
    try:
        if info.size > MAX_UPLOAD_BYTES:
            raise ApiError("INVALID_AUDIO", f"upload is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
        audio = inspect(await services.objects.get(key), max_seconds=None, max_bytes=MAX_UPLOAD_BYTES)
    except ApiError as err:
        await reject_ticket(services.state, upload.ticket_id, err.message)
        await services.state.set_event_outcome(event_key, {"rejected": err.message})
        return {"rejected": err.message}

    await mark_ticket(services.state, upload.ticket_id, "PROCESSING")
    principal = Principal(user_id=upload.user_id)
    request = ticket["request"]
    task = await create_transcription(
        services, principal, model=FILETRANS_MODEL, source={"object_key": key}, task_id=task_id,
        callback_url=request.get("callback_url"),
        origin={"upload": upload.ticket_id, "format": audio.format, "duration": round(audio.duration, 3)})
    await attach_task(services.state, upload.ticket_id, task["task_id"])
    await services.state.set_event_outcome(event_key, {"task_id": task["task_id"]})
    await submit_transcription_job(services, task["task_id"])
    return {"task_id": task["task_id"]}
