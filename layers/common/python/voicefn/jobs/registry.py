"""Declared jobs: a function says once what each of its jobs runs, where and within what bounds.

.. code-block:: python

    @jobs.job("tts_long", function="tts", deadline_s=1800)
    async def run_long(ctx: JobContext) -> None: ...

A job runs for one task row (``ctx.task``): the row is its idempotency record, lease and attempt
counter (:mod:`voicefn.jobs.lease`). A handler ends its task SUCCEEDED (or FAILED for a reason
of its own) and returns; it returns :data:`AGAIN` to be run again in a fresh invocation (a poll
that outlives one invocation); it raises to fail the attempt (:mod:`voicefn.jobs.failures`
decides whether another attempt follows).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from voicefn.jobs.lease import Lease
    from voicefn.services import Services
    from voicefn.settings import Settings


class JobOutcome(Enum):
    DONE = "done"
    AGAIN = "again"


AGAIN = JobOutcome.AGAIN
DONE = JobOutcome.DONE


@dataclass
class JobContext:
    services: Services
    spec: JobSpec
    task: dict[str, Any]   # the row as claimed (status RUNNING, this attempt's lease)
    lease: Lease
    attempt: int           # 1 for the first attempt, up to spec.max_attempts
    round: int             # how many times this job said AGAIN before

    @property
    def task_id(self) -> str:
        return str(self.task["task_id"])


JobHandler = Callable[[JobContext], Awaitable[JobOutcome | None]]
Deadline = float | Callable[["Settings"], float]


@dataclass(frozen=True)
class JobSpec:
    name: str
    function: str           # the function whose invocations run it ("tts", "asr")
    handler: JobHandler
    deadline: Deadline      # seconds from the task's submission until it ends FAILED (TIMEOUT)
    task_kind: str          # the kind of the task rows it runs (resumed after a local restart)
    max_attempts: int = 3   # the last one ends the task FAILED with the reason
    lease_s: float = 60.0   # a holder that stops renewing for this long is taken over
    backoff_s: float = 1.0  # before attempt n+1: backoff_s * 2**(n-1), or the upstream's retry-after

    def deadline_s(self, settings: Settings) -> float:
        return float(self.deadline(settings) if callable(self.deadline) else self.deadline)


_JOBS: dict[str, JobSpec] = {}


def job(name: str, *, function: str, deadline_s: Deadline, task_kind: str | None = None,
        max_attempts: int = 3, lease_s: float = 60.0, backoff_s: float = 1.0) -> Callable[[JobHandler], JobHandler]:
    """Declare the decorated coroutine as job ``name`` of ``function``."""
    if max_attempts < 1 or lease_s <= 0 or backoff_s < 0:
        raise ValueError("max_attempts must be >= 1, lease_s > 0 and backoff_s >= 0")

    def declare(handler: JobHandler) -> JobHandler:
        spec = JobSpec(name=name, function=function, handler=handler, deadline=deadline_s,
                       task_kind=task_kind or name, max_attempts=max_attempts, lease_s=lease_s,
                       backoff_s=backoff_s)
        known = _JOBS.get(name)
        if known is not None and known.function != function:
            raise ValueError(f"job {name!r} is declared by function {known.function!r} already")
        _JOBS[name] = spec  # a module imported again (tests, reloads) replaces its own declaration
        return handler

    return declare


def get_job(name: str) -> JobSpec | None:
    return _JOBS.get(name)


def declared_jobs(function: str | None = None) -> list[JobSpec]:
    return [spec for spec in _JOBS.values() if function is None or spec.function == function]
