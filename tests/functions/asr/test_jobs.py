"""The asr function's transcription job on the layer's runner: redelivered while it runs it
submits once; an upstream failing every attempt ends the task FAILED with the reason."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import httpx
import pytest

from tests.functions.asr.test_transcribe import stored_audio, wait_task
from tests.stack import Stack, function_handler


def wait_running(client: httpx.Client, task_id: str, timeout_s: float = 20) -> None:
    deadline = time.time() + timeout_s
    while client.get(f"/api/audio/asr/task/{task_id}").json()["data"]["task_status"] != "RUNNING":
        assert time.time() < deadline, "the task never started"
        time.sleep(0.05)


@pytest.mark.usefixtures("no_faults")
def test_an_advance_job_delivered_again_while_it_runs_submits_once_and_bills_once(stack: Stack) -> None:
    from voicefn.jobs import sign_job
    from voicefn.services import get_services
    from voicefn_asr.jobs import ADVANCE, handle_job

    user = f"asr-inflight-{uuid.uuid4().hex[:6]}"
    with stack.client(user) as client:
        url = stored_audio(stack, client, "正在运行的转写。")
        # the upstream task takes 2 s: the job is polling it while the copies arrive
        stack.set_faults([{"match": {"api": "asr_filetrans"}, "fault": {"kind": "latency", "latency_ms": 2000}}])
        before = stack.stats().get("asr_filetrans_tasks", 0)
        submitted = client.post("/api/audio/asr/transcribe", json={
            "model": "qwen3-asr-flash-filetrans", "file_url": url}).json()["data"]
        wait_running(client, submitted["task_id"])
        payload = sign_job(get_services(), ADVANCE, task_id=submitted["task_id"], round=0, attempt=1)
        asyncio.run(handle_job(payload))
        fc_entry = function_handler("asr")
        try:
            for _ in range(2):
                assert fc_entry(json.dumps(payload).encode(), None) == {"status": "done"}
        finally:
            fc_entry.close()
        task = wait_task(client, submitted["task_id"])
        history = client.get("/api/audio/history", params={"type": "asr"}).json()["data"]
    assert task["task_status"] == "SUCCEEDED", task
    assert stack.stats().get("asr_filetrans_tasks", 0) - before == 1
    assert history["total"] == 1 and history["items"][0]["bill"] == task["bill"]


@pytest.mark.usefixtures("no_faults")
@pytest.mark.parametrize("kind, code", [("error", "UPSTREAM_ERROR"), ("throttle", "RATE_LIMITED")])
def test_an_upstream_failing_every_attempt_ends_the_transcription_failed_with_the_reason(
        stack: Stack, env_override: dict, kind: str, code: str) -> None:
    from tests.stack import apply_env
    from voicefn.services import get_services

    apply_env({"VOICEFN_UPSTREAM_RETRIES": "0"})
    with stack.client(f"asr-failing-{uuid.uuid4().hex[:6]}") as client:
        url = stored_audio(stack, client, "一直失败的转写。")
        stack.set_faults([{"match": {"api": "asr_filetrans"}, "fault": {"kind": kind}}])
        before = stack.stats().get("asr_filetrans_tasks", 0)
        submitted = client.post("/api/audio/asr/transcribe", json={
            "model": "qwen3-asr-flash-filetrans", "file_url": url}).json()["data"]
        task = wait_task(client, submitted["task_id"], timeout_s=30)
        record = client.get("/api/audio/history", params={"type": "asr"}).json()["data"]["items"][0]
    row = asyncio.run(get_services().state.get_task(submitted["task_id"]))
    assert task["task_status"] == "FAILED", task
    assert task["error"]["code"] == code and "after 3 attempts" in task["error"]["message"]
    assert row["attempts"] == 3 and stack.stats().get("asr_filetrans_tasks", 0) - before == 3
    assert task["end_time"] <= row["deadline_at"]  # its last attempt ended it, well within the deadline
    assert record["status"] == "FAILED" and record["bill"] == "0"
