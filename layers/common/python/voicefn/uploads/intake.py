"""The upload intake: an OSS ``ObjectCreated`` event → its ticket → one checked upload → its purpose.

For each record of the event:

1. parse: only ``ObjectCreated`` on an upload key (``uploads/{purpose}/{user}/{ticket}.{ext}``)
   of a purpose this function serves;
2. match the ticket: it must exist, be the key's owner's, and name exactly this key;
3. claim the ticket once (:func:`~voicefn.uploads.tickets.claim_ticket`). One ticket is one
   upload: another object written to the same key later (other bytes, other eTag) finds the
   ticket taken and is not processed, so it starts nothing and bills nothing; the ticket keeps the
   outcome of the first. The same event delivered again finds its own claim and resumes;
4. check the object: it is still the one the event names (eTag), no larger than its ticket
   allows, and its bytes are audio of an accepted format, read with ranged reads
   (:mod:`voicefn.uploads.check`); otherwise the ticket is REJECTED with the reason;
5. hand it to the purpose's hook (:mod:`voicefn.uploads.hooks`), and point the ticket at the task
   the hook started (or mark it DONE when the hook's work needed none). A hook that refuses the
   upload (an ApiError with a 4xx status) rejects the ticket like a failed check.

FC delivers OSS events at least once and retries a handler that raised: every step above is safe
to repeat, and an error that a retry may cure (the store, the state) propagates.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from voicefn.auth.principal import Principal
from voicefn.errors import ApiError
from voicefn.logging import get_logger
from voicefn.services import Services
from voicefn.uploads.check import CheckedAudio, check_object
from voicefn.uploads.event import OssEvent, OssEventRecord
from voicefn.uploads.hooks import UploadContext, get_purpose
from voicefn.uploads.keys import parse_upload_key
from voicefn.uploads.limits import ACCEPTED_FORMATS, MAX_SIZE
from voicefn.uploads.tickets import Ticket, attach_task, claim_ticket, load_ticket, mark_ticket, reject_ticket

__all__ = ["OssHandler", "handle_event", "handle_record", "oss_event_handler"]

log = get_logger(__name__)

OssHandler = Callable[[Any, Any], Awaitable[dict[str, Any]]]


def oss_event_handler(*purposes: str) -> OssHandler:
    """The ``on_oss_event(event, context)`` of a function that serves uploads of ``purposes``
    (``voicefn_asr.events.on_oss_event = oss_event_handler("asr")``)."""
    if not purposes:
        raise ValueError("name the purposes this handler serves")
    served = tuple(purposes)

    async def on_oss_event(event: Any, context: Any = None) -> dict[str, Any]:
        from voicefn.services import get_services

        return await handle_event(get_services(), event, purposes=served)

    on_oss_event.__qualname__ = f"on_oss_event[{','.join(served)}]"
    return on_oss_event


async def handle_event(services: Services, event: Any, *, purposes: tuple[str, ...]) -> dict[str, Any]:
    """Every record of ``event`` (an :class:`OssEvent` or its JSON): ``{"handled": [outcome, ...]}``."""
    parsed = OssEvent.parse(event)
    return {"handled": [await handle_record(services, record, purposes=purposes) for record in parsed.records]}


async def handle_record(services: Services, record: OssEventRecord, *,
                        purposes: tuple[str, ...]) -> dict[str, Any]:
    """One record, to its outcome: ``{"task_id"}`` (started), ``{"done": True}`` (finished without a
    task), either with ``"duplicate": True`` (by an earlier delivery), ``{"rejected": reason}``, or
    ``{"skipped": why}``."""
    if not record.is_object_created:
        return {"skipped": "not an ObjectCreated event"}
    key = record.key
    upload = parse_upload_key(key)
    if upload is None or upload.purpose not in purposes:
        served = "/".join(purposes)
        return {"skipped": f"{key} is not {'an' if served[0] in 'aeiou' else 'a'} {served} upload"}
    hook = get_purpose(upload.purpose)
    if hook is None:
        log.error("no hook registered for upload purpose", extra={"purpose": upload.purpose})
        return {"skipped": f"no hook is registered for {upload.purpose} uploads"}
    row = await load_ticket(services.state, upload.ticket_id)
    if row is None or row.get("owner") != upload.user_id or (row.get("request") or {}).get("key") != key:
        log.warning("upload without a matching ticket", extra={"key": key})
        return {"skipped": "no ticket for this upload"}

    event_key = record.dedupe_key
    await services.state.claim_event(event_key, owner=upload.user_id)  # the events table logs every upload
    ticket = await claim_ticket(services.state, upload.ticket_id, event_key)
    if ticket is None:
        return {"skipped": "no ticket for this upload"}
    if ticket.claimed_by != event_key:
        # one ticket, one upload: a later object at the same key starts nothing and bills nothing
        log.warning("upload to a ticket that is used already", extra={"key": key, "ticket_id": ticket.ticket_id})
        out: dict[str, Any] = {"skipped": "the ticket was used by an earlier upload"}
        if ticket.attached_task_id:
            out["task_id"] = ticket.attached_task_id
        return out
    if ticket.status == "FAILED":
        return {"rejected": ticket.error.message if ticket.error else "rejected", "duplicate": True}
    if ticket.attached_task_id:  # a redelivery: the first delivery started the work
        if hook.resume is not None:
            await hook.resume(services, ticket.attached_task_id)
        return {"task_id": ticket.attached_task_id, "duplicate": True}
    if ticket.status == "SUCCEEDED":  # a redelivery of an upload whose work needed no task
        return {"done": True, "duplicate": True}

    try:
        audio = await _check(services, ticket, record)
        context = UploadContext(services=services, principal=Principal(user_id=upload.user_id), ticket=ticket,
                                upload=upload, key=key, audio=audio, event_key=event_key, record=record)
        outcome = await hook.start(context)
    except ApiError as err:
        if err.status >= 500 or err.status == 429:
            raise  # the purpose's backend is in trouble: FC retries the delivery
        await reject_ticket(services.state, ticket.ticket_id, err.message, code=err.code)
        await services.state.set_event_outcome(event_key, {"rejected": err.message})
        return {"rejected": err.message}

    if outcome.detail:
        await services.state.update_task(ticket.ticket_id, {"outcome": outcome.detail})
    if outcome.task_id is None:
        await mark_ticket(services.state, ticket.ticket_id, "DONE")
        await services.state.set_event_outcome(event_key, {"done": True})
        return {"done": True}
    await attach_task(services.state, ticket.ticket_id, outcome.task_id)
    await services.state.set_event_outcome(event_key, {"task_id": outcome.task_id})
    return {"task_id": outcome.task_id}


async def _check(services: Services, ticket: Ticket, record: OssEventRecord) -> CheckedAudio:
    """The object is the one the event names, within its ticket's size, and audio."""
    info = await services.objects.head(ticket.key)
    if info is None:
        raise ApiError("INVALID_AUDIO", "the uploaded object no longer exists")
    if record.etag and info.etag.strip('"').upper() != record.etag:
        # another object replaced it before it was checked: what the event announced is gone
        raise ApiError("INVALID_AUDIO", "the upload was overwritten before it could be checked")
    limit = min(ticket.size or MAX_SIZE[ticket.purpose], MAX_SIZE[ticket.purpose])
    if info.size > limit:
        raise ApiError("INVALID_AUDIO", f"upload is {info.size} bytes; its ticket allows at most {limit}")
    return await check_object(services.objects, ticket.key, size=info.size,
                              formats=ACCEPTED_FORMATS[ticket.purpose])
