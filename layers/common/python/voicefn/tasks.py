"""Background tasks (tasks table): create, move through statuses, and show to their owner."""

from __future__ import annotations

import uuid
from typing import Any, Awaitable, Callable

from voicefn.auth.principal import Principal
from voicefn.errors import ApiError
from voicefn.history import utc_now
from voicefn.storage.state import StateStore

FINAL_STATUSES = ("SUCCEEDED", "FAILED")


def new_task_id() -> str:
    return str(uuid.uuid4())


async def create_task(state: StateStore, *, owner: str, kind: str, request: dict[str, Any],
                      task_id: str | None = None, total: int | None = None) -> dict[str, Any]:
    now = utc_now()
    task: dict[str, Any] = {"task_id": task_id or new_task_id(), "owner": owner, "kind": kind,
                            "status": "PENDING", "request": request, "progress": {"done": 0, "total": total},
                            "attempts": 0, "submit_time": now, "updated_at": now}
    if not await state.create_task(task):
        existing = await state.get_task(task["task_id"])
        if existing is None:
            raise ApiError("INTERNAL_ERROR", "task could not be created")
        return existing
    return task


async def owned_task(state: StateStore, task_id: str, owner: str, kind_prefix: str = "") -> dict[str, Any]:
    """The task, or 404 TASK_NOT_FOUND: someone else's task looks exactly like a missing one.
    A task past its deadline that nobody is running ends FAILED here (a client's read enforces
    the deadline even when every job was lost)."""
    from voicefn.jobs import end_if_overdue

    task = await state.get_task(task_id)
    if task is None or task.get("owner") != owner or not str(task.get("kind", "")).startswith(kind_prefix):
        raise ApiError("TASK_NOT_FOUND", f"task {task_id} not found")
    return await end_if_overdue(state, task)


async def report_progress(state: StateStore, task_id: str, done: int, total: int) -> None:
    await state.update_task(task_id, {"progress": {"done": done, "total": total}, "updated_at": utc_now()},
                            expect_status="RUNNING")


async def succeed_task(state: StateStore, task_id: str, result: dict[str, Any]) -> None:
    now = utc_now()
    await state.update_task(task_id, {"status": "SUCCEEDED", "result": result, "end_time": now,
                                      "updated_at": now}, expect_status=("PENDING", "RUNNING"))


async def fail_task(state: StateStore, task_id: str, error: str, code: str = "UPSTREAM_ERROR") -> bool:
    """End the task FAILED with the reason; True if this call ended it (then the hook of its kind,
    see :func:`on_task_failed`, runs once)."""
    now = utc_now()
    won = await state.update_task(task_id, {"status": "FAILED", "error": {"code": code, "message": error},
                                            "end_time": now, "updated_at": now},
                                  expect_status=("PENDING", "RUNNING"))
    if won:
        task = await state.get_task(task_id)
        hook = _FAILED_HOOKS.get(str((task or {}).get("kind")))
        if task is not None and hook is not None:
            await hook(task)
    return won


TaskHook = Callable[[dict[str, Any]], Awaitable[None]]
_FAILED_HOOKS: dict[str, TaskHook] = {}


def on_task_failed(kind: str, hook: TaskHook) -> None:
    """What else must happen when a task of ``kind`` ends FAILED, by whichever path (a job's last
    attempt, its deadline, a client's read): e.g. its history record and callback."""
    _FAILED_HOOKS[kind] = hook


def public_task(task: dict[str, Any]) -> dict[str, Any]:
    """seed 003 §2.3's shape (task_id, task_status, times, result), plus progress and error."""
    out: dict[str, Any] = {"task_id": task["task_id"], "task_status": task["status"],
                           "submit_time": task.get("submit_time")}
    for name in ("scheduled_time", "end_time"):
        if task.get(name):
            out[name] = task[name]
    if task.get("progress"):
        out["progress"] = task["progress"]
    if task["status"] == "SUCCEEDED" and task.get("result") is not None:
        out["result"] = task["result"]
    if task["status"] == "FAILED" and task.get("error"):
        out["error"] = task["error"]
    return out


def principal_record(principal: Principal) -> dict[str, Any]:
    """Who a background task runs for, kept in its request (jobs run without the HTTP request)."""
    return {"user_id": principal.user_id, "kind": principal.kind, "service": principal.service}


def task_principal(task: dict[str, Any]) -> Principal:
    fields = task["request"].get("principal") or {"user_id": task["owner"]}
    return Principal(user_id=fields["user_id"], kind=fields.get("kind", "user"), service=fields.get("service"))
