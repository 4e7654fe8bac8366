"""A row of the tasks table: long synthesis, seed 000 TTS, transcriptions (DESIGN.md §6)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Mapping

from voicefn import clock
from voicefn.records._rows import compact, enum_value, extra_fields, optional_str, required_str

__all__ = ["Task", "TaskError", "TaskStatus", "FINAL_TASK_STATUSES"]


class TaskStatus(str, Enum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"

    @property
    def final(self) -> bool:
        return self in FINAL_TASK_STATUSES


FINAL_TASK_STATUSES = frozenset({TaskStatus.SUCCEEDED, TaskStatus.FAILED})


@dataclass(frozen=True)
class TaskError:
    code: str
    message: str

    def to_row(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}

    @classmethod
    def from_row(cls, value: Any) -> TaskError | None:
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise ValueError(f"task error must be an object, not {value!r}")
        return cls(str(value.get("code") or "UPSTREAM_ERROR"), str(value.get("message") or ""))


_FIELDS = ("task_id", "owner", "kind", "status", "request", "progress", "attempts", "result", "error",
           "submit_time", "scheduled_time", "end_time", "created_at", "updated_at")


@dataclass
class Task:
    task_id: str
    owner: str
    kind: str
    status: TaskStatus = TaskStatus.PENDING
    request: dict[str, Any] = field(default_factory=dict)
    progress: dict[str, Any] | None = None
    attempts: int = 0
    result: dict[str, Any] | None = None
    error: TaskError | None = None
    submit_time: str | None = None
    scheduled_time: str | None = None
    end_time: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    # what this type does not name (upstream_task_id, record_id, bill, usage, leases…), kept as is
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def new(cls, *, owner: str, kind: str, request: dict[str, Any], task_id: str | None = None,
            total: int | None = None) -> Task:
        """A PENDING task as ``voicefn.tasks.create_task`` stores it."""
        now = clock.utc_now()
        return cls(task_id=task_id or str(uuid.uuid4()), owner=owner, kind=kind, request=request,
                   progress={"done": 0, "total": total}, submit_time=now, updated_at=now)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Task:
        request = row.get("request") or {}
        if not isinstance(request, Mapping):
            raise ValueError("task request must be an object")
        return cls(
            task_id=required_str(row, "task_id", "task"), owner=required_str(row, "owner", "task"),
            kind=required_str(row, "kind", "task"),
            status=enum_value(TaskStatus, row.get("status"), "task status"),
            request=dict(request), progress=row.get("progress"), attempts=int(row.get("attempts") or 0),
            result=row.get("result"), error=TaskError.from_row(row.get("error")),
            submit_time=optional_str(row, "submit_time"), scheduled_time=optional_str(row, "scheduled_time"),
            end_time=optional_str(row, "end_time"), created_at=optional_str(row, "created_at"),
            updated_at=optional_str(row, "updated_at"), extra=extra_fields(row, _FIELDS))

    def to_row(self) -> dict[str, Any]:
        return compact({
            "task_id": self.task_id, "owner": self.owner, "kind": self.kind, "status": self.status,
            "request": self.request, "progress": self.progress, "attempts": self.attempts,
            "result": self.result, "error": self.error.to_row() if self.error else None,
            "submit_time": self.submit_time, "scheduled_time": self.scheduled_time,
            "end_time": self.end_time, "created_at": self.created_at, "updated_at": self.updated_at,
        }, self.extra)

    @property
    def finished(self) -> bool:
        return self.status.final
