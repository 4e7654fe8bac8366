"""Async jobs are delivered at least once: a redelivery bills nothing twice; forged jobs are refused."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest

from tests.stack import Stack
from voicefn.jobs import sign_job
from voicefn.services import get_services
from voicefn_tts.jobs import TTS_LONG, handle_job


def wait_task(client: httpx.Client, task_id: str) -> dict:
    deadline = time.time() + 60
    while time.time() < deadline:
        task = client.get(f"/api/audio/tts/task/{task_id}").json()["data"]
        if task["task_status"] in ("SUCCEEDED", "FAILED"):
            return task
        time.sleep(0.1)
    raise AssertionError("task did not finish")


@pytest.mark.usefixtures("no_faults")
def test_redelivered_job_runs_once_and_bills_once(stack: Stack) -> None:
    with stack.client("jobs-user") as client:
        started = client.post("/api/audio/tts/synthesize-long", json={
            "model": "cosyvoice-v3-flash", "voice": "longanyang", "text": "重复投递的任务。" * 20,
            "async": True}).json()["data"]
        first = wait_task(client, started["task_id"])
        calls = stack.stats()["tts_ws_tasks"]
        payload = sign_job(get_services(), TTS_LONG, task_id=started["task_id"])
        for _ in range(3):  # FC redelivers the same event
            asyncio.run(handle_job(payload))
        again = client.get(f"/api/audio/tts/task/{started['task_id']}").json()["data"]
        history = client.get("/api/audio/history").json()["data"]
    assert first["task_status"] == "SUCCEEDED"
    assert again == first
    assert stack.stats()["tts_ws_tasks"] == calls
    assert history["total"] == 1


async def test_invoke_refuses_an_unsigned_or_forged_job(stack: Stack) -> None:
    """FC delivers async invocations to the web function's POST /invoke, which its HTTP trigger
    also exposes: only payloads signed with the instance's key run."""
    from voicefn_tts.app import create_app

    forged = {"job": TTS_LONG, "task_id": "whatever", "sig": "0" * 64}
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://tts") as client:
        for payload in ({"job": TTS_LONG, "task_id": "x"}, forged):
            response = await client.post("/invoke", json=payload)
            assert response.status_code == 403
            assert response.json()["error"] == "FORBIDDEN"


def wait_status(client: httpx.Client, task_id: str, wanted: str, timeout_s: float = 20) -> dict:
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        task = client.get(f"/api/audio/tts/task/{task_id}").json()["data"]
        if task["task_status"] == wanted:
            return task
        time.sleep(0.05)
    raise AssertionError(f"task never became {wanted}")


@pytest.mark.usefixtures("no_faults")
def test_a_job_delivered_three_times_while_it_runs_makes_one_upstream_task_one_record_one_bill(
        stack: Stack) -> None:
    """FC redelivers while the first delivery is still synthesizing (through every entry a
    delivery can take): the redeliveries find the task IN_PROGRESS and do nothing."""
    from tests.stack import function_handler
    from voicefn_tts.app import create_app

    marker = f"运行中重投{uuid.uuid4().hex[:6]}"
    # the upstream holds the synthesis for 2 s: the task is RUNNING while the copies arrive
    stack.set_faults([{"match": {"api": "tts_ws", "text_contains": marker},
                       "fault": {"kind": "latency", "latency_ms": 2000}}])
    before = stack.stats()["tts_ws_tasks"]
    user = f"inflight-{uuid.uuid4().hex[:6]}"
    with stack.client(user) as client:
        started = client.post("/api/audio/tts/synthesize-long", json={
            "model": "cosyvoice-v3-flash", "voice": "longanyang", "text": f"{marker}，只合成一次。",
            "async": True}).json()["data"]
        wait_status(client, started["task_id"], "RUNNING")
        payload = sign_job(get_services(), TTS_LONG, task_id=started["task_id"], round=0, attempt=1)

        async def via_invoke_route() -> int:
            transport = httpx.ASGITransport(app=create_app())
            async with httpx.AsyncClient(transport=transport, base_url="http://tts") as fc:
                return (await fc.post("/invoke", json=payload)).status_code

        asyncio.run(handle_job(payload))                     # the in-process dispatch entry
        assert asyncio.run(via_invoke_route()) == 200        # FC's delivery to a web function
        fc_entry = function_handler("tts")                   # FC's delivery to an event function
        try:
            assert fc_entry(json.dumps(payload).encode(), None) == {"status": "done"}
        finally:
            fc_entry.close()
        assert client.get(f"/api/audio/tts/task/{started['task_id']}").json()["data"]["task_status"] == "RUNNING"
        task = wait_task(client, started["task_id"])
        history = client.get("/api/audio/history").json()["data"]
    assert task["task_status"] == "SUCCEEDED", task
    assert stack.stats()["tts_ws_tasks"] - before == 1
    assert history["total"] == 1
    assert history["items"][0]["bill"] == task["result"]["bill"] and Decimal(task["result"]["bill"]) > 0


@pytest.mark.usefixtures("no_faults")
def test_long_synthesis_failing_upstream_every_attempt_ends_failed_with_the_reason(
        stack: Stack, env_override: dict) -> None:
    from tests.stack import apply_env

    apply_env({"VOICEFN_UPSTREAM_RETRIES": "0"})  # one upstream call per job attempt
    marker = f"总是限流{uuid.uuid4().hex[:6]}"
    stack.set_faults([{"match": {"api": "tts_ws", "text_contains": marker}, "fault": {"kind": "throttle"}}])
    before = stack.stats()["tts_ws_tasks"]
    with stack.client(f"always-throttled-{uuid.uuid4().hex[:6]}") as client:
        started = client.post("/api/audio/tts/synthesize-long", json={
            "model": "cosyvoice-v3-flash", "voice": "longanyang", "text": f"{marker}。", "async": True}).json()["data"]
        task = wait_task(client, started["task_id"])
        history = client.get("/api/audio/history").json()["data"]
    row = asyncio.run(get_services().state.get_task(started["task_id"]))
    assert task["task_status"] == "FAILED", task
    assert task["error"]["code"] == "RATE_LIMITED"
    assert "rate limit" in task["error"]["message"] and "after 3 attempts" in task["error"]["message"]
    assert row["attempts"] == 3 and stack.stats()["tts_ws_tasks"] - before == 3
    assert task["end_time"] and task["end_time"] <= row["deadline_at"]  # within its deadline
    assert history["total"] == 0  # nothing billed


def test_a_long_synthesis_task_past_its_deadline_ends_failed_when_read(stack: Stack) -> None:
    """Its job is gone (the instance died, the invoker gave up): the client's GET ends it."""
    task_id = lost_task(TTS_LONG, "deadline-reader")
    with stack.client("deadline-reader") as client:
        task = client.get(f"/api/audio/tts/task/{task_id}").json()["data"]
        again = client.get(f"/api/audio/tts/task/{task_id}").json()["data"]
    assert task["task_status"] == "FAILED" and task["error"]["code"] == "TIMEOUT"
    assert "1800 s" in task["error"]["message"] and again == task


def lost_task(kind: str, owner: str) -> str:
    """A RUNNING task whose holder died and whose deadline has passed."""
    from voicefn.jobs import lease as leases
    from voicefn.tasks import create_task

    async def make() -> str:
        state = get_services().state
        task = await create_task(state, owner=owner, kind=kind, request={"text": "lost"})
        past = leases.stamp(leases.now() - timedelta(seconds=1))
        await state.update_task(task["task_id"], {"status": "RUNNING", "attempts": 1, "lease_token": "dead.x",
                                                  "lease_until": past, "deadline_at": past, "deadline_s": 1800})
        return str(task["task_id"])

    return asyncio.run(make())


@pytest.mark.slow
def test_a_long_synthesis_whose_server_was_killed_is_taken_over_after_a_restart(tmp_path) -> None:
    """The killed process held the task's lease: the restarted one knows that lease is dead,
    takes the task over and finishes it, billing once."""
    from tests.stack import ServeProcess, admin_headers

    server = ServeProcess(tmp_path / "data").start()
    try:
        with server.client("killed-mid-job") as client:
            httpx.post(f"{server.base_url}/dashscope/_admin/faults", json=[
                {"match": {"api": "tts_ws"}, "fault": {"kind": "latency", "latency_ms": 30000}}],
                headers=admin_headers(tmp_path / "data")).raise_for_status()
            started = client.post("/api/audio/tts/synthesize-long", json={
                "model": "cosyvoice-v3-flash", "voice": "longanyang", "text": "进程被杀也能完成。",
                "async": True}).json()["data"]
            wait_status(client, started["task_id"], "RUNNING")
        server.stop(kill=True)
        server.start()  # the embedded DashScope comes back without the fault
        with server.client("killed-mid-job") as client:
            task = wait_task(client, started["task_id"])
            history = client.get("/api/audio/history").json()["data"]
    finally:
        server.stop()
    assert task["task_status"] == "SUCCEEDED", task
    assert history["total"] == 1 and history["items"][0]["bill"] == task["result"]["bill"]
