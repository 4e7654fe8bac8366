"""An upload ticket: one signed upload, kept as a row of the tasks table (``kind = upload:{purpose}``).

The store knows only task statuses, so the ticket's phase maps onto them (``voicefn.uploads``):

    phase       WAITING   UPLOADED   PROCESSING   DONE        REJECTED
    status      PENDING   PENDING    RUNNING      SUCCEEDED   FAILED
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Mapping

from voicefn.records._rows import compact, enum_value, extra_fields, optional_str, required_str
from voicefn.records.task import TaskError, TaskStatus

__all__ = ["TicketPhase", "UploadTicket", "TICKET_KIND_PREFIX"]

TICKET_KIND_PREFIX = "upload:"


class TicketPhase(str, Enum):
    WAITING = "WAITING"
    UPLOADED = "UPLOADED"
    PROCESSING = "PROCESSING"
    DONE = "DONE"
    REJECTED = "REJECTED"

    @property
    def store_status(self) -> TaskStatus:
        return _STORE_STATUS[self]

    @classmethod
    def of(cls, status: TaskStatus, phase: str | None) -> TicketPhase:
        """The phase a row is in: the store status decides, ``phase`` tells WAITING from UPLOADED."""
        if status is TaskStatus.SUCCEEDED:
            return cls.DONE
        if status is TaskStatus.FAILED:
            return cls.REJECTED
        if status is TaskStatus.RUNNING:
            return cls.PROCESSING
        return cls.UPLOADED if phase == cls.UPLOADED.value else cls.WAITING


_STORE_STATUS = {TicketPhase.WAITING: TaskStatus.PENDING, TicketPhase.UPLOADED: TaskStatus.PENDING,
                 TicketPhase.PROCESSING: TaskStatus.RUNNING, TicketPhase.DONE: TaskStatus.SUCCEEDED,
                 TicketPhase.REJECTED: TaskStatus.FAILED}

_FIELDS = ("task_id", "owner", "kind", "status", "phase", "request", "expires_at", "attached_task_id",
           "claimed_by", "outcome", "error", "created_at", "updated_at")


@dataclass
class UploadTicket:
    ticket_id: str
    owner: str
    purpose: str
    key: str
    content_type: str
    size: int
    filename: str | None = None
    callback_url: str | None = None
    phase: TicketPhase = TicketPhase.WAITING
    expires_at: str | None = None
    attached_task_id: str | None = None
    claimed_by: str | None = None           # the event key of the upload that took the ticket
    outcome: dict[str, Any] | None = None   # what the purpose's hook reported (shown to the owner)
    error: TaskError | None = None
    created_at: str | None = None
    updated_at: str | None = None
    # other request fields and row fields this type does not name, kept as they are
    extra_request: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> TaskStatus:
        """The store status the phase maps onto (what conditional writes test)."""
        return self.phase.store_status

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> UploadTicket:
        kind = required_str(row, "kind", "ticket")
        if not kind.startswith(TICKET_KIND_PREFIX):
            raise ValueError(f"row of kind {kind!r} is not an upload ticket")
        request = row.get("request")
        if not isinstance(request, Mapping):
            raise ValueError("ticket request must be an object")
        status = enum_value(TaskStatus, row.get("status"), "ticket status")
        return cls(
            ticket_id=required_str(row, "task_id", "ticket"), owner=required_str(row, "owner", "ticket"),
            purpose=kind[len(TICKET_KIND_PREFIX):], key=required_str(request, "key", "ticket request"),
            content_type=str(request.get("content_type") or ""), size=int(request.get("size") or 0),
            filename=optional_str(request, "filename"), callback_url=optional_str(request, "callback_url"),
            phase=TicketPhase.of(status, optional_str(row, "phase")), expires_at=optional_str(row, "expires_at"),
            attached_task_id=optional_str(row, "attached_task_id"), claimed_by=optional_str(row, "claimed_by"),
            outcome=dict(row["outcome"]) if isinstance(row.get("outcome"), Mapping) else None,
            error=TaskError.from_row(row.get("error")),
            created_at=optional_str(row, "created_at"), updated_at=optional_str(row, "updated_at"),
            extra_request=extra_fields(request, ("key", "content_type", "size", "filename", "callback_url")),
            extra=extra_fields(row, _FIELDS))

    def to_row(self) -> dict[str, Any]:
        request = compact({"key": self.key, "content_type": self.content_type, "size": self.size,
                           "filename": self.filename, "callback_url": self.callback_url}, self.extra_request)
        return compact({
            "task_id": self.ticket_id, "owner": self.owner, "kind": TICKET_KIND_PREFIX + self.purpose,
            "status": self.phase.store_status, "phase": self.phase, "request": request,
            "expires_at": self.expires_at, "attached_task_id": self.attached_task_id,
            "claimed_by": self.claimed_by, "outcome": self.outcome,
            "error": self.error.to_row() if self.error else None,
            "created_at": self.created_at, "updated_at": self.updated_at,
        }, self.extra)
