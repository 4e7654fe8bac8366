"""The job runner: one dispatch entry, a redelivery while running does nothing, expired leases are
taken over, the last attempt ends the task FAILED with the reason, deadlines end it FAILED."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import pytest

from voicefn import jobs
from voicefn.dashscope.errors import UpstreamError
from voicefn.errors import ApiError
from voicefn.jobs import JobContext, lease as leases
from voicefn.services import Services
from voicefn.tasks import on_task_failed, owned_task, succeed_task

from tests.voicefn.jobs.conftest import new_task


def declare(name: str, handler: Any, **options: Any) -> None:
    options.setdefault("deadline_s", 60)
    options.setdefault("backoff_s", 0)
    jobs.job(name, function="testfn", **options)(handler)


async def wait_final(services: Services, task_id: str, timeout_s: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        task = await services.state.get_task(task_id)
        if task["status"] in ("SUCCEEDED", "FAILED"):
            await services.invoker.drain()
            return task
        assert time.monotonic() < deadline, task
        await asyncio.sleep(0.02)


async def test_submit_runs_the_declared_job_through_the_in_process_invoker(
        services: Services, job_name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from voicefn.invoke.inprocess import InProcessInvoker

    def no_registering(self: InProcessInvoker, function: str, handler: Any) -> None:
        raise AssertionError("handlers are registered once, when the invoker is built")

    monkeypatch.setattr(InProcessInvoker, "register", no_registering)
    seen: list[tuple[str, int, int]] = []

    async def handler(ctx: JobContext) -> None:
        seen.append((ctx.task_id, ctx.attempt, ctx.round))
        await succeed_task(ctx.services.state, ctx.task_id, {"ok": True})

    declare(job_name, handler, deadline_s=120)
    task_id = await new_task(services, job_name)
    await jobs.submit(services, job_name, task_id=task_id)
    task = await wait_final(services, task_id)
    assert task["status"] == "SUCCEEDED" and task["result"] == {"ok": True}
    assert seen == [(task_id, 1, 0)]
    assert task["deadline_s"] == 120 and leases.parse_time(task["deadline_at"]) > leases.now()


async def test_a_delivery_while_it_runs_does_nothing(services: Services, job_name: str) -> None:
    runs = 0
    release = asyncio.Event()

    async def handler(ctx: JobContext) -> None:
        nonlocal runs
        runs += 1
        await release.wait()
        await succeed_task(ctx.services.state, ctx.task_id, {"runs": runs})

    declare(job_name, handler)
    task_id = await new_task(services, job_name)
    payload = jobs.sign_job(services, job_name, task_id=task_id, round=0)
    first = asyncio.create_task(jobs.handle(payload))
    while runs == 0:
        await asyncio.sleep(0.01)
    # three more deliveries of the same job (FC redelivers), each returns at once
    await asyncio.wait_for(asyncio.gather(*[jobs.handle(payload) for _ in range(3)]), 2)
    assert (await services.state.get_task(task_id))["status"] == "RUNNING"
    release.set()
    await first
    for _ in range(2):  # and after it finished
        await jobs.handle(payload)
    task = await services.state.get_task(task_id)
    assert runs == 1 and task["result"] == {"runs": 1} and task["attempts"] == 1


async def test_a_long_handler_keeps_its_lease_by_heartbeat(services: Services, job_name: str) -> None:
    runs = 0

    async def handler(ctx: JobContext) -> None:
        nonlocal runs
        runs += 1
        await asyncio.sleep(1.0)  # five lease lengths
        await succeed_task(ctx.services.state, ctx.task_id, {})

    declare(job_name, handler, lease_s=0.2)
    task_id = await new_task(services, job_name)
    payload = jobs.sign_job(services, job_name, task_id=task_id, round=0)
    first = asyncio.create_task(jobs.handle(payload))
    for _ in range(4):
        await asyncio.sleep(0.2)
        await jobs.handle(payload)  # the lease was renewed: still IN_PROGRESS
    await first
    assert runs == 1 and (await services.state.get_task(task_id))["status"] == "SUCCEEDED"


async def test_an_expired_lease_is_taken_over(services: Services, job_name: str) -> None:
    """Its holder died (its instance was killed): the next delivery runs the task."""
    async def handler(ctx: JobContext) -> None:
        await succeed_task(ctx.services.state, ctx.task_id, {"attempt": ctx.attempt})

    declare(job_name, handler)
    stale = leases.stamp(leases.now() - timedelta(seconds=1))
    task_id = await new_task(services, job_name, status="RUNNING", attempts=1, lease_token="dead0.x",
                             lease_until=stale)
    await jobs.handle(jobs.sign_job(services, job_name, task_id=task_id, round=0))
    task = await services.state.get_task(task_id)
    assert task["status"] == "SUCCEEDED" and task["result"] == {"attempt": 2}


async def test_a_live_lease_of_another_instance_is_left_alone(services: Services, job_name: str) -> None:
    runs = 0

    async def handler(ctx: JobContext) -> None:
        nonlocal runs
        runs += 1

    declare(job_name, handler)
    live = leases.stamp(leases.now() + timedelta(seconds=60))
    task_id = await new_task(services, job_name, status="RUNNING", attempts=1, lease_token="other.x",
                             lease_until=live)
    await jobs.handle(jobs.sign_job(services, job_name, task_id=task_id, round=0))
    assert runs == 0 and (await services.state.get_task(task_id))["lease_token"] == "other.x"


async def test_a_holder_that_lost_its_lease_stops(services: Services, job_name: str) -> None:
    finished = False

    async def handler(ctx: JobContext) -> None:
        nonlocal finished
        # someone took over while we stalled
        await ctx.services.state.update_task(ctx.task_id, {"lease_token": "thief.x"})
        await asyncio.sleep(2)
        finished = True

    declare(job_name, handler, lease_s=0.15)
    task_id = await new_task(services, job_name)
    started = time.monotonic()
    await jobs.handle(jobs.sign_job(services, job_name, task_id=task_id, round=0))
    task = await services.state.get_task(task_id)
    assert not finished and time.monotonic() - started < 1.5
    assert task["status"] == "RUNNING" and task["lease_token"] == "thief.x"  # untouched: the thief's now


async def test_the_upstream_failing_every_attempt_ends_the_task_failed_with_the_reason(
        services: Services, job_name: str) -> None:
    attempts: list[int] = []

    async def handler(ctx: JobContext) -> None:
        attempts.append(ctx.attempt)
        raise UpstreamError("Throttling.RateQuota", "Requests rate limit exceeded", http_status=429)

    declare(job_name, handler, max_attempts=3)
    task_id = await new_task(services, job_name)
    await jobs.submit(services, job_name, task_id=task_id)
    task = await wait_final(services, task_id)
    assert attempts == [1, 2, 3]
    assert task["status"] == "FAILED" and task["error"]["code"] == "RATE_LIMITED"
    assert "rate limit" in task["error"]["message"] and "3 attempts" in task["error"]["message"]
    assert task["end_time"]


async def test_a_final_failure_ends_the_task_at_once(services: Services, job_name: str) -> None:
    attempts = 0

    async def handler(ctx: JobContext) -> None:
        nonlocal attempts
        attempts += 1
        raise ApiError("INVALID_VOICE", "voice not found")

    declare(job_name, handler)
    task_id = await new_task(services, job_name)
    await jobs.submit(services, job_name, task_id=task_id)
    task = await wait_final(services, task_id)
    assert attempts == 1
    assert task["error"] == {"code": "INVALID_VOICE", "message": "voice not found"}


async def test_a_transient_failure_is_retried_and_succeeds(services: Services, job_name: str) -> None:
    async def handler(ctx: JobContext) -> None:
        if ctx.attempt == 1:
            raise ConnectionResetError("dropped")
        await succeed_task(ctx.services.state, ctx.task_id, {"attempt": ctx.attempt})

    declare(job_name, handler)
    task_id = await new_task(services, job_name)
    await jobs.submit(services, job_name, task_id=task_id)
    task = await wait_final(services, task_id)
    assert task["status"] == "SUCCEEDED" and task["result"] == {"attempt": 2}


async def test_the_deadline_ends_a_running_task_failed(services: Services, job_name: str) -> None:
    async def handler(ctx: JobContext) -> None:
        await asyncio.sleep(30)  # the upstream never answers

    declare(job_name, handler, deadline_s=0.5)
    task_id = await new_task(services, job_name)
    started = time.monotonic()
    await jobs.submit(services, job_name, task_id=task_id)
    task = await wait_final(services, task_id)
    assert time.monotonic() - started < 3
    assert task["status"] == "FAILED" and task["error"]["code"] == "TIMEOUT"
    assert "0.5 s" in task["error"]["message"]
    assert task["end_time"] and leases.parse_time(task["end_time"]) is not None


async def test_a_delivery_after_the_deadline_fails_the_task_without_running_it(
        services: Services, job_name: str) -> None:
    runs = 0

    async def handler(ctx: JobContext) -> None:
        nonlocal runs
        runs += 1

    declare(job_name, handler)
    past = leases.stamp(leases.now() - timedelta(seconds=1))
    task_id = await new_task(services, job_name, deadline_at=past, deadline_s=60)
    await jobs.handle(jobs.sign_job(services, job_name, task_id=task_id, round=0))
    task = await services.state.get_task(task_id)
    assert runs == 0 and task["status"] == "FAILED" and task["error"]["code"] == "TIMEOUT"


async def test_a_clients_read_enforces_the_deadline(services: Services, job_name: str) -> None:
    """Every job was lost (the invoker gave up, the instance died): the GET ends the task."""
    past = leases.stamp(leases.now() - timedelta(seconds=1))
    lost = await new_task(services, job_name, status="RUNNING", deadline_at=past, deadline_s=60,
                          lease_token="dead.x", lease_until=past)
    held = await new_task(services, job_name, status="RUNNING", deadline_at=past, deadline_s=60,
                          lease_token="live.x", lease_until=leases.stamp(leases.now() + timedelta(seconds=30)))
    future = await new_task(services, job_name, deadline_at=leases.stamp(leases.now() + timedelta(seconds=30)))
    task = await owned_task(services.state, lost, "u1")
    assert task["status"] == "FAILED" and task["error"]["code"] == "TIMEOUT" and "60 s" in task["error"]["message"]
    assert (await owned_task(services.state, held, "u1"))["status"] == "RUNNING"  # its holder ends it
    assert (await owned_task(services.state, future, "u1"))["status"] == "PENDING"


async def test_the_failed_hook_of_a_kind_runs_once_whichever_path_fails_it(services: Services, job_name: str) -> None:
    failed: list[str] = []

    async def hook(task: dict[str, Any]) -> None:
        failed.append(task["error"]["code"])

    async def handler(ctx: JobContext) -> None:
        raise ApiError("INVALID_PARAMETER", "no")

    on_task_failed(job_name, hook)
    declare(job_name, handler)
    task_id = await new_task(services, job_name)
    payload = jobs.sign_job(services, job_name, task_id=task_id, round=0)
    await asyncio.gather(*[jobs.handle(payload) for _ in range(3)])
    await jobs.handle(payload)
    assert failed == ["INVALID_PARAMETER"]


async def test_again_runs_the_next_round_with_fresh_attempts(services: Services, job_name: str) -> None:
    rounds: list[tuple[int, int]] = []

    async def handler(ctx: JobContext) -> Any:
        rounds.append((ctx.round, ctx.attempt))
        if ctx.round == 1 and ctx.attempt == 1:
            raise UpstreamError("InternalError", "blip", http_status=500)
        if ctx.round < 2:
            return jobs.AGAIN
        await succeed_task(ctx.services.state, ctx.task_id, {})
        return jobs.DONE

    declare(job_name, handler, max_attempts=2)
    task_id = await new_task(services, job_name)
    await jobs.submit(services, job_name, task_id=task_id)
    task = await wait_final(services, task_id)
    # round 1 failed once and was retried; round 2 started with fresh attempts again
    assert rounds == [(0, 1), (1, 1), (1, 2), (2, 1)]
    assert task["status"] == "SUCCEEDED" and task["job_round"] == 2
    # a late copy of round 0 finds nothing to do
    await jobs.handle(jobs.sign_job(services, job_name, task_id=task_id, round=0))
    assert len(rounds) == 4


async def test_a_stale_round_is_ignored_while_the_task_waits_for_the_next(services: Services, job_name: str) -> None:
    runs = 0

    async def handler(ctx: JobContext) -> None:
        nonlocal runs
        runs += 1

    declare(job_name, handler)
    task_id = await new_task(services, job_name, status="RUNNING", job_round=3)
    await jobs.handle(jobs.sign_job(services, job_name, task_id=task_id, round=2))
    assert runs == 0
    await jobs.handle(jobs.sign_job(services, job_name, task_id=task_id, round=3))
    assert runs == 1


async def test_forged_unknown_and_foreign_jobs_are_refused(services: Services, job_name: str) -> None:
    async def handler(ctx: JobContext) -> None:
        raise AssertionError("must not run")

    declare(job_name, handler)
    task_id = await new_task(services, job_name)
    forged = {**jobs.sign_job(services, job_name, task_id=task_id, round=0), "task_id": "someone-else"}
    with pytest.raises(ApiError) as caught:
        await jobs.handle(forged)
    assert caught.value.code == "FORBIDDEN"
    with pytest.raises(ApiError, match="unknown job"):
        await jobs.handle(jobs.sign_job(services, "no_such_job", task_id=task_id, round=0))
    with pytest.raises(ApiError, match="unknown job"):  # delivered to the wrong function
        await jobs.dispatcher("otherfn")(jobs.sign_job(services, job_name, task_id=task_id, round=0))
    with pytest.raises(ApiError, match="task_id"):
        await jobs.handle(jobs.sign_job(services, job_name, task_id=7, round=0))
    assert (await services.state.get_task(task_id))["status"] == "PENDING"


async def test_resume_queues_unfinished_tasks_of_a_dead_process(services: Services, job_name: str) -> None:
    ran: list[str] = []

    async def handler(ctx: JobContext) -> None:
        ran.append(ctx.task_id)
        await succeed_task(ctx.services.state, ctx.task_id, {})

    declare(job_name, handler)
    live = leases.stamp(leases.now() + timedelta(seconds=60))
    pending = await new_task(services, job_name)
    orphan = await new_task(services, job_name, status="RUNNING", attempts=1, lease_token="deadproc0000.x",
                            lease_until=live)  # its process was killed a moment ago
    await new_task(services, job_name, status="SUCCEEDED")
    assert await jobs.resume(services, kinds=(job_name,)) == 2
    await wait_final(services, pending)
    await wait_final(services, orphan)
    assert sorted(ran) == sorted([pending, orphan])


async def test_resume_leaves_fc_queues_to_fc(services: Services, job_name: str) -> None:
    class FcLike:
        keeps_jobs_across_restarts = True

        async def invoke_async(self, function: str, payload: dict[str, Any],
                               idempotency_key: str | None = None) -> str:
            raise AssertionError("FC retries its own queue")

    declare(job_name, lambda ctx: None)
    await new_task(services, job_name)
    services.__dict__["invoker"] = FcLike()
    assert await jobs.resume(services, kinds=(job_name,)) == 0


async def test_submit_goes_to_the_declared_function_with_a_signed_payload(services: Services, job_name: str) -> None:
    sent: list[tuple[str, dict[str, Any], str | None]] = []

    class Recorder:
        keeps_jobs_across_restarts = True

        async def invoke_async(self, function: str, payload: dict[str, Any],
                               idempotency_key: str | None = None) -> str:
            sent.append((function, payload, idempotency_key))
            return "inv-1"

    declare(job_name, lambda ctx: None)
    task_id = await new_task(services, job_name)
    services.__dict__["invoker"] = Recorder()
    assert await jobs.submit(services, job_name, task_id=task_id, round=2) == "inv-1"
    function, payload, key = sent[0]
    assert function == "testfn" and key == f"{job_name}:{task_id}:r2:a1"
    assert jobs.verify_job(services, payload) == {"job": job_name, "task_id": task_id, "round": 2, "attempt": 1}
    with pytest.raises(LookupError, match="not declared"):
        await jobs.submit(services, "undeclared_job", task_id=task_id)


class FcLikeInvoker:
    """Queues outlive the process, as on FC; records what is submitted."""

    keeps_jobs_across_restarts = True

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def invoke_async(self, function: str, payload: dict[str, Any],
                           idempotency_key: str | None = None) -> str:
        self.sent.append(payload)
        return "inv"


async def test_on_fc_a_retry_outwaits_the_lease_of_a_dead_instance_and_takes_over(
        services: Services, job_name: str) -> None:
    """FC retries the invocation whose instance died, often before the dead lease runs out."""
    ran: list[int] = []

    async def handler(ctx: JobContext) -> None:
        ran.append(ctx.attempt)
        await succeed_task(ctx.services.state, ctx.task_id, {})

    declare(job_name, handler, lease_s=0.4)
    services.__dict__["invoker"] = FcLikeInvoker()
    task_id = await new_task(services, job_name, status="RUNNING", attempts=1, lease_token="dead.x",
                             lease_until=leases.stamp(leases.now() + timedelta(seconds=0.3)))
    started = time.monotonic()
    await jobs.handle(jobs.sign_job(services, job_name, task_id=task_id, round=0))
    assert ran == [2] and time.monotonic() - started < 1.5
    assert (await services.state.get_task(task_id))["status"] == "SUCCEEDED"


async def test_on_fc_a_duplicate_leaves_a_live_holder_alone(services: Services, job_name: str) -> None:
    runs = 0

    async def handler(ctx: JobContext) -> None:
        nonlocal runs
        runs += 1
        await asyncio.sleep(1.2)
        await succeed_task(ctx.services.state, ctx.task_id, {})

    declare(job_name, handler, lease_s=0.3)
    services.__dict__["invoker"] = FcLikeInvoker()
    task_id = await new_task(services, job_name)
    payload = jobs.sign_job(services, job_name, task_id=task_id, round=0)
    first = asyncio.create_task(jobs.handle(payload))
    await asyncio.sleep(0.1)
    started = time.monotonic()
    await jobs.handle(payload)  # watches the renewed lease, then leaves
    assert time.monotonic() - started < 1.0 and runs == 1
    assert (await services.state.get_task(task_id))["status"] == "RUNNING"
    await first
    assert runs == 1 and (await services.state.get_task(task_id))["status"] == "SUCCEEDED"
