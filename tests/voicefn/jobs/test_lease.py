"""Task rows as idempotency records: PENDING, IN_PROGRESS (live lease), EXPIRED, COMPLETED."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from voicefn.jobs import lease as leases
from voicefn.jobs.lease import JobState, job_state
from voicefn.services import Services

from tests.voicefn.jobs.conftest import new_task


def ago(seconds: float) -> str:
    return leases.stamp(leases.now() - timedelta(seconds=seconds))


def test_states_from_the_row() -> None:
    assert job_state({"status": "PENDING"}) is JobState.PENDING
    assert job_state({"status": "SUCCEEDED", "lease_token": "x", "lease_until": ago(-60)}) is JobState.COMPLETED
    assert job_state({"status": "FAILED"}) is JobState.COMPLETED
    assert job_state({"status": "RUNNING", "lease_token": "x", "lease_until": ago(-60)}) is JobState.IN_PROGRESS
    assert job_state({"status": "RUNNING", "lease_token": "x", "lease_until": ago(1)}) is JobState.EXPIRED
    # released between attempts, or set RUNNING by a process that never leased it
    assert job_state({"status": "RUNNING"}) is JobState.EXPIRED
    assert job_state({"status": "RUNNING", "lease_token": "x", "lease_until": "garbage"}) is JobState.EXPIRED


async def test_racing_deliveries_claim_once(services: Services) -> None:
    task_id = await new_task(services, "k")
    task = await services.state.get_task(task_id)
    results = await asyncio.gather(*[leases.claim(services.state, dict(task), 30) for _ in range(8)])
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    row = await services.state.get_task(task_id)
    assert row["status"] == "RUNNING" and row["attempts"] == 1 and row["scheduled_time"]
    assert row["lease_token"] == winners[0][0].token
    assert job_state(row) is JobState.IN_PROGRESS
    # while it is held, nobody else claims it
    assert await leases.claim(services.state, row, 30) is None


async def test_an_expired_lease_is_taken_over_once(services: Services) -> None:
    task_id = await new_task(services, "k", status="RUNNING", attempts=1, lease_token="dead.1",
                             lease_until=ago(5))
    task = await services.state.get_task(task_id)
    results = await asyncio.gather(*[leases.claim(services.state, dict(task), 30) for _ in range(5)])
    assert sum(r is not None for r in results) == 1
    row = await services.state.get_task(task_id)
    assert row["attempts"] == 2 and row["lease_token"] != "dead.1"


async def test_renew_and_release_only_by_the_holder(services: Services) -> None:
    task_id = await new_task(services, "k")
    lease, row = await leases.claim(services.state, await services.state.get_task(task_id), 0.5)
    before = leases.parse_time(row["lease_until"])
    await asyncio.sleep(0.01)
    assert await leases.renew(services.state, lease)
    assert leases.parse_time((await services.state.get_task(task_id))["lease_until"]) > before
    impostor = leases.Lease(task_id, "someone.else", 30)
    assert not await leases.renew(services.state, impostor)
    assert not await leases.release(services.state, impostor)
    assert await leases.release(services.state, lease, {"job_round": 1})
    row = await services.state.get_task(task_id)
    assert "lease_token" not in row and row["job_round"] == 1 and job_state(row) is JobState.EXPIRED
    assert not await leases.renew(services.state, lease)  # released: no longer ours


async def test_a_dead_process_lease_is_dropped_but_not_our_own(services: Services) -> None:
    theirs = await new_task(services, "k", status="RUNNING", lease_token="deadbeef0000.1", lease_until=ago(-60))
    ours_id = await new_task(services, "k")
    await leases.claim(services.state, await services.state.get_task(ours_id), 60)
    assert await leases.drop_dead_lease(services.state, await services.state.get_task(theirs))
    assert job_state(await services.state.get_task(theirs)) is JobState.EXPIRED
    assert not await leases.drop_dead_lease(services.state, await services.state.get_task(ours_id))
    assert job_state(await services.state.get_task(ours_id)) is JobState.IN_PROGRESS
