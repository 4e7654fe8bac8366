"""Leases on task rows: who runs a task right now, until when (powertools' idempotency states).

A task row is its job's idempotency record. Its state is read from the row:

- ``PENDING``: nobody has started it (status PENDING).
- ``IN_PROGRESS``: status RUNNING with a lease (``lease_token``, ``lease_until``) that has not
  expired: a delivery arriving now does nothing.
- ``EXPIRED``: status RUNNING without a live lease (its holder died, or released it between
  attempts): the next delivery takes it over.
- ``COMPLETED``: SUCCEEDED or FAILED: every delivery does nothing.

Every claim writes a new token with a compare-and-swap on the token it read, so of two deliveries
racing for one task exactly one wins; renewing (the heartbeat) and releasing are conditional on
holding the token, so a holder that lost its lease cannot extend or clear someone else's.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Any

from voicefn.history import utc_now
from voicefn.storage.state import StateStore

# This process. A lease token starts with it, so a restarted local server can tell the leases of
# its dead predecessor (whose in-process jobs died with it) from its own.
INSTANCE_ID = uuid.uuid4().hex[:12]
FINAL_STATUSES = ("SUCCEEDED", "FAILED")


class JobState(str, Enum):
    PENDING = "PENDING"
    IN_PROGRESS = "IN_PROGRESS"
    EXPIRED = "EXPIRED"
    COMPLETED = "COMPLETED"


@dataclass(frozen=True)
class Lease:
    task_id: str
    token: str
    duration_s: float


def now() -> datetime:
    return datetime.now(timezone.utc)


def stamp(when: datetime) -> str:
    """UTC ISO-8601 with milliseconds and ``Z`` (sorts as text in time order)."""
    return when.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(value: Any) -> datetime | None:
    """A stored time (with or without ``Z``/offset: rows hold both), or None if unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


def job_state(task: dict[str, Any], at: datetime | None = None) -> JobState:
    status = task.get("status")
    if status in FINAL_STATUSES:
        return JobState.COMPLETED
    if status == "PENDING":
        return JobState.PENDING
    until = parse_time(task.get("lease_until"))
    if task.get("lease_token") and until is not None and until > (at or now()):
        return JobState.IN_PROGRESS
    return JobState.EXPIRED


def held_by_this_process(task: dict[str, Any]) -> bool:
    return str(task.get("lease_token") or "").startswith(INSTANCE_ID + ".")


async def claim(state: StateStore, task: dict[str, Any], lease_s: float) -> tuple[Lease, dict[str, Any]] | None:
    """Start an attempt on ``task`` (as read just now): the lease and the updated row, or None
    if the task is finished, someone holds a live lease, or another delivery won the race."""
    current = job_state(task)
    if current in (JobState.COMPLETED, JobState.IN_PROGRESS):
        return None
    lease = Lease(task["task_id"], f"{INSTANCE_ID}.{uuid.uuid4().hex[:16]}", lease_s)
    changes: dict[str, Any] = {"status": "RUNNING", "lease_token": lease.token,
                               "lease_until": stamp(now() + timedelta(seconds=lease_s)),
                               "attempts": int(task.get("attempts") or 0) + 1}
    if not task.get("scheduled_time"):
        changes["scheduled_time"] = utc_now()
    won = await state.update_task(task["task_id"], changes, expect_status=task["status"],
                                  expect_fields={"lease_token": task.get("lease_token")})
    if not won:
        return None
    return lease, {**task, **changes}


async def renew(state: StateStore, lease: Lease) -> bool:
    """Push the lease's expiry on (the heartbeat); False if it is no longer ours."""
    return await state.update_task(lease.task_id,
                                   {"lease_until": stamp(now() + timedelta(seconds=lease.duration_s))},
                                   expect_status="RUNNING", expect_fields={"lease_token": lease.token})


async def release(state: StateStore, lease: Lease, changes: dict[str, Any] | None = None) -> bool:
    """Give the lease up (the task stays RUNNING, EXPIRED: the next delivery takes it over),
    applying ``changes`` in the same write. False if it was no longer ours."""
    return await state.update_task(lease.task_id, {"lease_token": None, "lease_until": None, **(changes or {})},
                                   expect_status="RUNNING", expect_fields={"lease_token": lease.token})


async def drop_dead_lease(state: StateStore, task: dict[str, Any]) -> bool:
    """Clear the lease of an earlier process of this instance (in-process jobs die with their
    process: after a restart its leases are known dead before they expire)."""
    token = task.get("lease_token")
    if task.get("status") != "RUNNING" or not token or held_by_this_process(task):
        return False
    return await state.update_task(task["task_id"], {"lease_token": None, "lease_until": None},
                                   expect_status="RUNNING", expect_fields={"lease_token": token})
