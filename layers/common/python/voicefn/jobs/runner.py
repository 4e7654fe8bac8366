"""Submit declared jobs and run their deliveries: leases, heartbeats, attempts, deadlines.

Deliveries are at least once (FC async invocation, the in-process invoker). Each one:

1. verifies the payload's signature and finds the declared job;
2. ends the task FAILED (TIMEOUT) if its deadline has passed;
3. claims the task's lease; a task that is finished, or IN_PROGRESS under someone else's live
   lease, is left alone: a redelivery while it runs does nothing (on FC it first watches the
   lease for a while: a retry after its holder's instance died takes the task over);
4. runs the handler, renewing the lease every third of its length, cancelled at the deadline;
5. on failure, classifies it once for every job kind: a final failure, or the last attempt, ends
   the task FAILED with the reason; otherwise it releases the lease and submits the next attempt
   itself after a backoff, so no task depends on how often an invoker retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import timedelta
from collections.abc import Awaitable, Callable
from typing import Any

from voicefn.errors import ApiError
from voicefn.jobs import lease as leases
from voicefn.jobs.failures import Failure, classify
from voicefn.jobs.registry import AGAIN, JobContext, JobSpec, declared_jobs, get_job
from voicefn.jobs.signing import sign_job, verify_job
from voicefn.logging import get_logger
from voicefn.services import Services, get_services
from voicefn.storage.state import StateStore
from voicefn.tasks import fail_task

log = get_logger(__name__)

MAX_BACKOFF_S = 60.0
PayloadHandler = Callable[[dict[str, Any]], Awaitable[None]]


class _LeaseLost(Exception):
    """Our lease was taken over (we stalled past its expiry): the new holder carries on."""


class _DeadlinePassed(Exception):
    pass


# -- submitting ---------------------------------------------------------------------------------

async def submit(services: Services, name: str, *, task_id: str, round: int = 0, attempt: int = 1) -> str:
    """Queue job ``name`` for ``task_id`` on its function; returns the invocation id. A task
    without a deadline gets one (``deadline_at``) from the job's declaration."""
    spec = _spec(name)
    await _stamp_deadline(services, spec, task_id)
    payload = sign_job(services, name, task_id=task_id, round=round, attempt=attempt)
    return await services.invoker.invoke_async(spec.function, payload,
                                               idempotency_key=f"{name}:{task_id}:r{round}:a{attempt}")


async def _stamp_deadline(services: Services, spec: JobSpec, task_id: str) -> None:
    task = await services.state.get_task(task_id)
    if task is None or task.get("deadline_at"):
        return
    deadline_s = spec.deadline_s(services.settings)
    start = leases.parse_time(task.get("submit_time")) or leases.now()
    await services.state.update_task(
        task_id, {"deadline_at": leases.stamp(start + timedelta(seconds=deadline_s)), "deadline_s": deadline_s},
        expect_status=("PENDING", "RUNNING"), expect_fields={"deadline_at": None})


# -- delivering ---------------------------------------------------------------------------------

async def handle(payload: dict[str, Any], *, function: str | None = None) -> None:
    """The one entry for every delivery (``POST /invoke``, the FC event entry, in-process)."""
    services = get_services()
    body = verify_job(services, payload)
    spec = get_job(str(body.get("job", "")))
    if spec is None or (function is not None and spec.function != function):
        raise ApiError("INVALID_PARAMETER", f"unknown job {body.get('job')!r}")
    task_id = body.get("task_id")
    round_ = body.get("round", 0)
    if not isinstance(task_id, str) or not isinstance(round_, int):
        raise ApiError("INVALID_PARAMETER", "a job needs a task_id and an integer round")
    await run(services, spec, task_id, round_)


def dispatcher(function: str) -> PayloadHandler:
    """``handle`` for the jobs of one function: its ``POST /invoke`` and FC ``on_job``."""
    async def handle_job(payload: dict[str, Any]) -> None:
        await handle(payload, function=function)

    return handle_job


def handler_for(function: str) -> PayloadHandler | None:
    """What the in-process invoker runs for ``function``: None if it declares no jobs."""
    return dispatcher(function) if declared_jobs(function) else None


async def run(services: Services, spec: JobSpec, task_id: str, round_: int = 0) -> None:
    state = services.state
    task = await state.get_task(task_id)
    if task is None:
        log.warning("job for a missing task", extra={"job": spec.name, "task_id": task_id})
        return
    if leases.job_state(task) is leases.JobState.COMPLETED or round_ < int(task.get("job_round") or 0):
        return  # finished, or a late copy of an earlier round: nothing to do
    if _remaining_s(task) <= 0:
        if leases.job_state(task) is not leases.JobState.IN_PROGRESS:  # a live holder ends it itself
            await _fail_overdue(state, task)
        return
    claimed = await leases.claim(state, task, spec.lease_s)
    if claimed is None and services.invoker.keeps_jobs_across_restarts \
            and leases.job_state(task) is leases.JobState.IN_PROGRESS:
        claimed = await _outwait(services, spec, task)
    if claimed is None:
        return  # IN_PROGRESS elsewhere (a redelivery while it runs), or another delivery won
    lease, task = claimed
    ctx = JobContext(services=services, spec=spec, task=task, lease=lease, attempt=int(task["attempts"]),
                     round=round_)
    try:
        outcome = await _hold(ctx)
    except _LeaseLost:
        log.warning("job lost its lease", extra={"job": spec.name, "task_id": task_id})
        return
    except _DeadlinePassed:
        await _fail_overdue(state, await state.get_task(task_id) or task)
        return
    except Exception as exc:  # noqa: BLE001 - every failure is classified, none escapes unhandled
        await _after_failure(ctx, classify(exc))
        return
    if outcome is AGAIN:
        # a slice of work done without error: the next round starts with fresh attempts
        if await leases.release(state, lease, {"attempts": 0, "job_round": round_ + 1}):
            await submit(services, spec.name, task_id=task_id, round=round_ + 1)
        return
    await leases.release(state, lease)  # finished rows keep it harmlessly; unfinished ones free it


async def _outwait(services: Services, spec: JobSpec,
                   task: dict[str, Any]) -> tuple[leases.Lease, dict[str, Any]] | None:
    """On FC a retry is how a task whose instance died goes on, and it often comes before that
    instance's lease has run out: watch the lease for up to one and a half lease lengths. A
    holder that is alive renews it (we leave, having done nothing); a dead one's expires (we take
    over); a finished task needs nothing."""
    give_up = time.monotonic() + spec.lease_s * 1.5
    while time.monotonic() < give_up:
        await asyncio.sleep(spec.lease_s / 4)
        current = await services.state.get_task(task["task_id"])
        if current is None or leases.job_state(current) is leases.JobState.COMPLETED:
            return None
        if leases.job_state(current) is leases.JobState.EXPIRED:
            return await leases.claim(services.state, current, spec.lease_s)
    return None


async def _hold(ctx: JobContext) -> Any:
    """Run the handler under the lease: renew it while running, stop at the deadline."""
    work = asyncio.ensure_future(ctx.spec.handler(ctx))
    lost = asyncio.Event()
    beat = asyncio.create_task(_heartbeat(ctx, work, lost))
    try:
        remaining = _remaining_s(ctx.task)
        done, _ = await asyncio.wait({work}, timeout=None if remaining == float("inf") else max(0.0, remaining))
        if not done:
            work.cancel()
            await asyncio.gather(work, return_exceptions=True)
            raise _DeadlinePassed()
        if lost.is_set():
            raise _LeaseLost()
        return work.result()
    except asyncio.CancelledError:
        work.cancel()
        raise
    finally:
        beat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beat


async def _heartbeat(ctx: JobContext, work: asyncio.Future[Any], lost: asyncio.Event) -> None:
    interval = ctx.lease.duration_s / 3
    while not work.done():
        await asyncio.sleep(interval)
        try:
            if not await leases.renew(ctx.services.state, ctx.lease):
                lost.set()
                work.cancel()  # someone took over: stop doing their work twice
                return
        except Exception:  # noqa: BLE001 - a store hiccup: the lease has two more intervals
            log.warning("lease renewal failed", extra={"task_id": ctx.task_id}, exc_info=True)


async def _after_failure(ctx: JobContext, failure: Failure) -> None:
    spec, state = ctx.spec, ctx.services.state
    extra = {"job": spec.name, "task_id": ctx.task_id, "attempt": ctx.attempt, "code": failure.code}
    if not failure.retryable or ctx.attempt >= spec.max_attempts:
        log.warning("job failed", extra=extra, exc_info=failure.code == "INTERNAL_ERROR")
        reason = failure.message if not failure.retryable else \
            f"{failure.message} (gave up after {ctx.attempt} attempts)"
        await fail_task(state, ctx.task_id, reason, failure.code)
        return
    log.warning("job attempt failed; trying again", extra=extra, exc_info=failure.code == "INTERNAL_ERROR")
    if not await leases.release(state, ctx.lease):
        return  # no longer ours: whoever holds it carries on
    delay = failure.retry_after if failure.retry_after is not None else spec.backoff_s * 2 ** (ctx.attempt - 1)
    await asyncio.sleep(min(max(0.0, delay), MAX_BACKOFF_S, max(0.0, _remaining_s(ctx.task))))
    await submit(ctx.services, spec.name, task_id=ctx.task_id, round=ctx.round, attempt=ctx.attempt + 1)


# -- deadlines ----------------------------------------------------------------------------------

def _remaining_s(task: dict[str, Any]) -> float:
    deadline = leases.parse_time(task.get("deadline_at"))
    return float("inf") if deadline is None else (deadline - leases.now()).total_seconds()


async def _fail_overdue(state: StateStore, task: dict[str, Any]) -> None:
    await fail_task(state, task["task_id"], overdue_message(task), "TIMEOUT")


def overdue_message(task: dict[str, Any]) -> str:
    seconds = task.get("deadline_s")
    within = f"within {seconds:g} s" if isinstance(seconds, (int, float)) else "by its deadline"
    return f"the task did not finish {within}"


async def end_if_overdue(state: StateStore, task: dict[str, Any]) -> dict[str, Any]:
    """For a client's read of ``task``: past its deadline with no live holder, it ends FAILED
    now (a live holder's own timer ends it; a dead one's lease runs out)."""
    if leases.job_state(task) in (leases.JobState.COMPLETED, leases.JobState.IN_PROGRESS) or _remaining_s(task) > 0:
        return task
    await _fail_overdue(state, task)
    return await state.get_task(task["task_id"]) or task


# -- restarts -----------------------------------------------------------------------------------

async def resume(services: Services, *, kinds: tuple[str, ...] | None = None, limit: int = 500) -> int:
    """After a restart, queue every unfinished task of the declared jobs again (of ``kinds``).
    Only for invokers whose queue died with the process; FC keeps and retries its own."""
    if services.invoker.keeps_jobs_across_restarts:
        return 0
    count = 0
    for spec in declared_jobs():
        if kinds is not None and spec.task_kind not in kinds:
            continue
        for task in await services.state.list_tasks(kind=spec.task_kind, statuses=("PENDING", "RUNNING"),
                                                    limit=limit):
            await leases.drop_dead_lease(services.state, task)
            await submit(services, spec.name, task_id=task["task_id"], round=int(task.get("job_round") or 0),
                         attempt=int(task.get("attempts") or 0) + 1)
            count += 1
    if count:
        log.info("resumed unfinished jobs", extra={"count": count})
    return count


def _spec(name: str) -> JobSpec:
    spec = get_job(name)
    if spec is None:
        raise LookupError(f"job {name!r} is not declared (import the module that declares it)")
    return spec
