"""Async jobs are delivered at least once: a redelivery bills nothing twice; forged jobs are refused."""

from __future__ import annotations

import asyncio
import time

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
