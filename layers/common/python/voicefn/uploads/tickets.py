"""Upload tickets: a signed way to put one audio file straight into OSS (DESIGN.md §7).

A client asks for a ticket (``create_ticket``), uploads with its PostObject form (what
``wx.uploadFile`` sends) or its presigned PUT URL to ``uploads/{purpose}/{user}/{ticket}.{ext}``,
and the OSS ``ObjectCreated`` event on that prefix reaches the purpose's function, whose intake
(``voicefn.uploads.intake``) uses the helpers below to find the ticket and move it on.

A ticket is a row of the tasks table (``kind = "upload:{purpose}"``). The store only knows the
task statuses PENDING/RUNNING/SUCCEEDED/FAILED, so the ticket's own status lives in ``phase`` and
maps onto them; the store status makes every move a single conditional write and keeps tickets
from moving backwards:

    phase       WAITING   UPLOADED   PROCESSING   DONE        REJECTED
    status      PENDING   PENDING    RUNNING      SUCCEEDED   FAILED

One ticket is one upload: the first upload event to reach the ticket claims it (``claim_ticket``:
PENDING → RUNNING with ``claimed_by`` = that event, one conditional write). Any other object
written to the same key later finds the ticket claimed and is not processed.
"""

from __future__ import annotations

import re
import time
import uuid
from datetime import datetime, timezone
from typing import Any

from voicefn.auth.principal import Principal
from voicefn.errors import ApiError
from voicefn.records.task import TaskStatus
from voicefn.records.ticket import TICKET_KIND_PREFIX, TicketPhase, UploadTicket
from voicefn.services import Services
from voicefn.storage.state import StateStore
from voicefn.uploads.keys import content_type_extension, upload_key
from voicefn.uploads.limits import ACCEPTED_TYPES, MAX_SIZE, PURPOSES, TICKET_TTL_S, MiB

__all__ = ["TICKET_STATUSES", "Ticket", "attach_task", "claim_ticket", "create_ticket", "get_ticket_public",
           "load_ticket", "mark_ticket", "reject_ticket"]

TICKET_STATUSES = tuple(phase.value for phase in TicketPhase)

_KIND_PREFIX = TICKET_KIND_PREFIX
# the store statuses a ticket may move from into each phase: never backwards, never out of a final one
_MOVES_FROM = {"UPLOADED": ("PENDING",), "PROCESSING": ("PENDING", "RUNNING"),
               "DONE": ("PENDING", "RUNNING"), "REJECTED": ("PENDING", "RUNNING")}

# a declared Content-Type: type/subtype (RFC 6838 names), optional parameters, printable ASCII
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*")
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]+")
_TICKET_ID = re.compile(r"[0-9a-f]{32}")
_MAX_FILENAME = 255


# The typed ticket is the one record type every port shares (voicefn.records); the rows stay the
# stored form (``load_ticket`` returns them).
Ticket = UploadTicket


# -- tickets -------------------------------------------------------------------------------------

async def create_ticket(services: Services, principal: Principal, *, purpose: str, filename: str,
                        content_type: str, size: int, callback_url: str | None = None,
                        voice: dict[str, Any] | None = None) -> dict[str, Any]:
    """Record a WAITING ticket and return what the client uploads with:
    ``{ticket_id, key, post: {url, fields}, put_url, put_headers, expires_at}``.

    The PUT must send exactly ``put_headers`` (the Content-Type is part of the signature); the
    POST form carries it as a field. Both allow only ``key`` and at most ``size`` bytes.
    """
    purpose, content_type = _check_purpose(purpose), _check_content_type(content_type)
    ext = content_type_extension(purpose, content_type)
    if ext is None:
        allowed = ", ".join(sorted(ACCEPTED_TYPES[purpose]))
        raise ApiError("INVALID_AUDIO", f"content_type {content_type!r} is not accepted for {purpose} "
                       f"uploads (accepted: {allowed})", param="content_type")
    _check_size(purpose, size)
    filename = _check_filename(filename)
    if voice is not None:  # what a voice upload enrolls once it lands (voicefn_voice.events)
        if purpose != "voice":
            raise ApiError("INVALID_PARAMETER", "voice is only for uploads of purpose voice", param="voice")
        from voicefn.voice.rules import check_upload_spec

        voice = check_upload_spec(voice)
    if callback_url is not None:
        await _check_callback_url(callback_url)

    ticket_id = uuid.uuid4().hex
    key = upload_key(purpose, principal.user_id, ticket_id, ext)
    expires_at = int(time.time()) + TICKET_TTL_S
    objects = services.objects
    post = objects.post_policy(key, TICKET_TTL_S, max_size=size, content_type=content_type)
    # the declared size is signed into the PUT URL too (the local store enforces it; OSS cannot, so the
    # intake refuses an object larger than its ticket)
    put_url = objects.signed_put_url(key, TICKET_TTL_S, content_type=content_type, max_size=size)
    request: dict[str, Any] = {"key": key, "content_type": content_type, "size": size, "filename": filename}
    if callback_url is not None:
        request["callback_url"] = callback_url
    if voice is not None:
        request["voice"] = voice
    row = {"task_id": ticket_id, "owner": principal.user_id, "kind": _KIND_PREFIX + purpose,
           "status": "PENDING", "phase": "WAITING", "request": request, "expires_at": _iso(expires_at)}
    if not await services.state.create_task(row):
        raise ApiError("INTERNAL_ERROR", "upload ticket could not be recorded")  # a uuid4 clash
    return {"ticket_id": ticket_id, "key": key, "post": {"url": post.url, "fields": dict(post.fields)},
            "put_url": put_url, "put_headers": {"Content-Type": content_type},
            "expires_at": _iso(expires_at)}


async def get_ticket_public(services: Services, principal: Principal, ticket_id: str) -> dict[str, Any]:
    """The caller's ticket: ``{ticket_id, purpose, key, status, expires_at, created_at}`` plus
    ``task_id`` (and ``task_status``) once the upload has a task, ``error`` when rejected, and
    what the purpose's hook reported (``outcome``, e.g. ``voice_id``).
    Someone else's ticket answers 404 exactly like a missing one."""
    ticket = await load_ticket(services.state, ticket_id) if _TICKET_ID.fullmatch(ticket_id or "") else None
    if ticket is None or ticket.get("owner") != principal.user_id:
        raise ApiError("NOT_FOUND", f"upload ticket {ticket_id} not found")
    out: dict[str, Any] = {"ticket_id": ticket["task_id"], "purpose": ticket["kind"][len(_KIND_PREFIX):],
                           "key": ticket["request"]["key"], "status": _phase(ticket),
                           "expires_at": ticket.get("expires_at"), "created_at": ticket.get("created_at")}
    if ticket.get("attached_task_id"):
        out["task_id"] = ticket["attached_task_id"]
        task = await services.state.get_task(ticket["attached_task_id"])
        if task is not None:
            out["task_status"] = task["status"]
            if out["status"] == "PROCESSING" and task["status"] in ("SUCCEEDED", "FAILED"):
                out["status"] = "DONE"  # the upload's work is over; the task tells how it went
    if out["status"] == "REJECTED" and ticket.get("error"):
        out["error"] = ticket["error"]
    for name, value in (ticket.get("outcome") or {}).items():  # what the purpose made (a voice_id…)
        out.setdefault(name, value)
    return out


# -- helpers for the event handlers --------------------------------------------------------------

async def load_ticket(state: StateStore, ticket_id: str) -> dict[str, Any] | None:
    """The ticket row (``owner``, ``kind``, ``phase``, ``request`` {key, content_type, size,
    filename, callback_url?}, ``expires_at``, ``attached_task_id``…), None if there is no such ticket."""
    row = await state.get_task(ticket_id)
    if row is None or not str(row.get("kind", "")).startswith(_KIND_PREFIX):
        return None
    return row


async def claim_ticket(state: StateStore, ticket_id: str, event_key: str) -> Ticket | None:
    """Take the ticket for the upload that ``event_key`` names, once: the first event moves it
    PENDING → RUNNING (PROCESSING) with ``claimed_by = event_key`` in one conditional write.

    Returns the ticket as it is afterwards (None if there is no such ticket): the caller owns the
    upload only if ``claimed_by`` is its own event key. A redelivered event finds its own claim;
    another object written to the same key later finds someone else's (or a ticket that is over).
    """
    for _ in range(2):  # the second round sees what a racing writer did
        row = await load_ticket(state, ticket_id)
        if row is None:
            return None
        if row.get("claimed_by") or row["status"] != "PENDING":
            return UploadTicket.from_row(row)
        changes = {"status": "RUNNING", "phase": "PROCESSING", "claimed_by": event_key,
                   "claimed_at": _iso(int(time.time()))}
        if await state.update_task(ticket_id, changes, expect_status="PENDING"):
            claimed = await load_ticket(state, ticket_id)
            return UploadTicket.from_row(claimed) if claimed is not None else None
    row = await load_ticket(state, ticket_id)
    return UploadTicket.from_row(row) if row is not None else None


async def mark_ticket(state: StateStore, ticket_id: str, status: str) -> bool:
    """Move the ticket to ``status`` (UPLOADED, PROCESSING, DONE or REJECTED). False if there is
    no such ticket or the move would go backwards (e.g. a redelivered event after DONE)."""
    if status not in _MOVES_FROM:
        raise ValueError(f"a ticket cannot be moved to {status!r}")
    if await load_ticket(state, ticket_id) is None:
        return False
    return await state.update_task(ticket_id, {"status": TicketPhase(status).store_status.value, "phase": status},
                                   expect_status=_MOVES_FROM[status])


async def attach_task(state: StateStore, ticket_id: str, task_id: str) -> bool:
    """Record the task the upload started (PROCESSING). Idempotent for the same ``task_id``; False
    if the ticket is missing, finished without one, or already has another task."""
    for _ in range(2):  # the second round sees what a racing writer did
        ticket = await load_ticket(state, ticket_id)
        if ticket is None:
            return False
        current = ticket.get("attached_task_id")
        if current:
            return bool(current == task_id)
        if ticket["status"] not in ("PENDING", "RUNNING"):
            return False
        # conditional on the status just read: a ticket rejected or finished meanwhile is left alone
        # (racing deliveries of one event carry the same task id: the event key names the task)
        changes = {"status": "RUNNING", "phase": "PROCESSING", "attached_task_id": task_id}
        if await state.update_task(ticket_id, changes, expect_status=ticket["status"]):
            return True
    return False


async def reject_ticket(state: StateStore, ticket_id: str, reason: str, code: str = "INVALID_AUDIO") -> bool:
    """The upload was refused (not audio, too long, …): REJECTED with ``error = {code, message}``."""
    if await load_ticket(state, ticket_id) is None:
        return False
    return await state.update_task(
        ticket_id, {"status": "FAILED", "phase": "REJECTED", "error": {"code": code, "message": reason}},
        expect_status=_MOVES_FROM["REJECTED"])


# -- checks --------------------------------------------------------------------------------------

def _phase(ticket: dict[str, Any]) -> str:
    return TicketPhase.of(TaskStatus(ticket.get("status")), ticket.get("phase")).value


def _check_purpose(purpose: Any) -> str:
    if purpose not in PURPOSES:
        raise ApiError("INVALID_PARAMETER", f"purpose must be one of {', '.join(PURPOSES)}", param="purpose")
    return str(purpose)


def _check_content_type(content_type: Any) -> str:
    value = content_type.strip() if isinstance(content_type, str) else ""
    if (not value or len(value) > 128 or not _PRINTABLE_ASCII.fullmatch(value)
            or not _MEDIA_TYPE.fullmatch(value.split(";", 1)[0].strip())):
        raise ApiError("INVALID_PARAMETER", "content_type must be a media type such as audio/wav",
                       param="content_type")
    return value


def _check_size(purpose: str, size: Any) -> None:
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ApiError("INVALID_PARAMETER", "size must be the file's size in bytes (> 0)", param="size")
    limit = MAX_SIZE[purpose]
    if size > limit:
        raise ApiError("INVALID_PARAMETER", f"size {size} exceeds the {limit // MiB} MiB limit for {purpose} uploads",
                       param="size")


def _check_filename(filename: Any) -> str:
    if filename is None:
        return ""
    if not isinstance(filename, str):
        raise ApiError("INVALID_PARAMETER", "filename must be a string", param="filename")
    # only a label for the user: keep the last path component, without control characters
    name = re.split(r"[/\\]", filename)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    if len(name) > _MAX_FILENAME:
        raise ApiError("INVALID_PARAMETER", f"filename longer than {_MAX_FILENAME} characters", param="filename")
    return name


async def _check_callback_url(url: Any) -> None:
    from voicefn.net.ssrf import require_public_url

    if not isinstance(url, str) or not url:
        raise ApiError("INVALID_PARAMETER", "callback_url must be an http(s) URL", param="callback_url")
    await require_public_url(url, param="callback_url")


def _iso(unix_s: int) -> str:
    return datetime.fromtimestamp(unix_s, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
