"""seed 000's POST /api/tts and GET /api/tts/audio/{task_id} on Qwen TTS."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.stack import Stack
from voicefn.audio.probe import audio_info


@pytest.mark.usefixtures("no_faults")
def wait_status(client: httpx.Client, task_id: str, timeout_s: float = 30) -> dict:
    """Poll seed 000's task until it is no longer "processing" (or the time is up)."""
    deadline = time.time() + timeout_s
    while True:
        status = client.get(f"/api/tts/audio/{task_id}").json()
        if status["status"] != "processing" or time.time() > deadline:
            return status
        time.sleep(0.2)


def test_task_api_produces_a_wav(stack: Stack) -> None:
    text = "欢迎来到湖南旅游。" * 3
    with stack.client("seed000-user") as client:
        created = client.post("/api/tts", json={"text": text, "voice": "Cherry", "language_type": "Chinese"})
        assert created.status_code == 200, created.text
        body = created.json()
        assert body["voice"] == "Cherry" and body["language_type"] == "Chinese"
        assert body["text_length"] == len(text) and body["model"].startswith("qwen")
        status = wait_status(client, body["taskId"])
    assert status["status"] == "completed", status
    assert status["task_id"] == body["taskId"]
    info = audio_info(stack.fetch(status["audio_url"]))
    assert info.format == "wav" and info.duration > 1


def test_errors_use_seed_000s_format(stack: Stack) -> None:
    with stack.client("seed000-user") as client:
        too_long = client.post("/api/tts", json={"text": "长" * 20001})
        bad_voice = client.post("/api/tts", json={"text": "hi", "voice": "Nobody"})
        missing = client.get("/api/tts/audio/not-a-task")
    assert too_long.status_code == 400 and too_long.json()["code"] == "TextTooLong"
    assert bad_voice.status_code == 400 and bad_voice.json()["code"] == "InvalidParameter"
    assert set(bad_voice.json()) == {"error", "message", "code"}
    assert missing.status_code == 404


@pytest.mark.usefixtures("no_faults")
def test_upstream_failing_every_attempt_ends_the_task_failed_with_the_reason(
        stack: Stack, env_override: dict) -> None:
    """Not "processing" forever: the job's last attempt ends it failed, and says why."""
    import asyncio
    import uuid

    from tests.stack import apply_env
    from voicefn.services import get_services

    apply_env({"VOICEFN_UPSTREAM_RETRIES": "0"})
    marker = f"一直出错{uuid.uuid4().hex[:6]}"
    stack.set_faults([{"match": {"api": "qwen_tts", "text_contains": marker}, "fault": {"kind": "error"}}])
    with stack.client(f"seed000-failing-{uuid.uuid4().hex[:6]}") as client:
        body = client.post("/api/tts", json={"text": f"{marker}。", "voice": "Cherry"}).json()
        status = wait_status(client, body["taskId"])
        history = client.get("/api/audio/history").json()["data"]
    row = asyncio.run(get_services().state.get_task(body["taskId"]))
    assert status["status"] == "failed", status
    assert "InternalError" in status["error"] and "after 3 attempts" in status["error"]
    assert row["attempts"] == 3 and row["end_time"] <= row["deadline_at"]
    assert history["total"] == 0


def test_a_task_past_its_deadline_reads_failed(stack: Stack) -> None:
    from tests.functions.tts.test_jobs import lost_task
    from voicefn_tts.jobs import TTS_SEED000

    task_id = lost_task(TTS_SEED000, "seed000-deadline")
    with stack.client("seed000-deadline") as client:
        status = client.get(f"/api/tts/audio/{task_id}").json()
    assert status["status"] == "failed" and "did not finish" in status["error"]
