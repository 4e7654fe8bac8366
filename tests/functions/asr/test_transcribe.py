"""POST /api/audio/asr/transcribe and GET /api/audio/asr/task/{id} (seed 003 §2.2–2.3)."""

from __future__ import annotations

import time
from decimal import Decimal

import httpx
import pytest

from tests.functions.asr.audio_samples import script
from tests.stack import Stack


def wait_task(client: httpx.Client, task_id: str, timeout_s: float = 30) -> dict:
    deadline = time.time() + timeout_s
    while True:
        task = client.get(f"/api/audio/asr/task/{task_id}").json()["data"]
        if task["task_status"] in ("SUCCEEDED", "FAILED") or time.time() > deadline:
            return task
        time.sleep(0.2)


def stored_audio(stack: Stack, client: httpx.Client, text: str) -> str:
    """A wav in our own storage (made by the tts function), scripted to be heard as ``text``."""
    made = client.post("/api/audio/tts/synthesize", json={
        "model": "cosyvoice-v3-flash", "voice": "longanyang", "text": text, "format": "wav",
        "sample_rate": 16000}).json()["data"]
    script(stack, stack.fetch(made["audio_url"]), text)
    return made["audio_url"]


@pytest.mark.usefixtures("no_faults")
def test_transcription_task_succeeds_with_sentences_inline_and_bills_once(stack: Stack) -> None:
    with stack.client("filetrans-user") as client:
        url = stored_audio(stack, client, "今天天气还行吧。我们出去走走。")
        submitted = client.post("/api/audio/asr/transcribe", json={
            "model": "qwen3-asr-flash-filetrans", "file_url": url, "language": "zh"}).json()["data"]
        assert submitted["task_status"] == "PENDING" and isinstance(submitted["record_id"], int)
        task = wait_task(client, submitted["task_id"])
        again = client.get(f"/api/audio/asr/task/{submitted['task_id']}").json()["data"]
        history = client.get("/api/audio/history", params={"type": "asr"}).json()["data"]
    assert task["task_status"] == "SUCCEEDED", task
    transcript = task["result"]["transcripts"][0]
    assert transcript["channel_id"] == 0 and transcript["text"] == "今天天气还行吧。我们出去走走。"
    sentences = transcript["sentences"]
    assert [s["text"] for s in sentences] == ["今天天气还行吧。", "我们出去走走。"]
    assert sentences[0]["begin_time"] < sentences[0]["end_time"] <= sentences[1]["begin_time"]
    assert task["result"]["transcription_url"].startswith("http")
    assert task["usage"]["seconds"] > 0
    assert Decimal(task["bill"]) == Decimal("0.000035") * task["usage"]["seconds"]
    assert {"submit_time", "scheduled_time", "end_time"} <= set(task)
    assert again == task
    assert history["total"] == 1
    record = history["items"][0]
    assert record["id"] == submitted["record_id"] and record["bill"] == task["bill"]
    assert record["status"] == "SUCCEEDED" and record["output_text"] == transcript["text"]


@pytest.mark.usefixtures("no_faults")
def test_upstream_failure_ends_failed_with_the_reason_and_no_bill(stack: Stack) -> None:
    stack.set_faults([{"match": {"api": "asr_filetrans"}, "fault": {"kind": "task_failed"}}])
    with stack.client("filetrans-fail") as client:
        url = stored_audio(stack, client, "会失败的任务。")
        submitted = client.post("/api/audio/asr/transcribe", json={
            "model": "qwen3-asr-flash-filetrans", "file_url": url}).json()["data"]
        task = wait_task(client, submitted["task_id"])
        record = client.get("/api/audio/history", params={"type": "asr"}).json()["data"]["items"][0]
    assert task["task_status"] == "FAILED"
    assert task["error"]["message"]
    assert record["status"] == "FAILED" and record["bill"] == "0"


@pytest.mark.usefixtures("no_faults")
def test_other_users_and_unknown_tasks_are_not_found(stack: Stack) -> None:
    with stack.client("task-owner") as client:
        url = stored_audio(stack, client, "只有我能看。")
        task_id = client.post("/api/audio/asr/transcribe", json={
            "model": "qwen3-asr-flash-filetrans", "file_url": url}).json()["data"]["task_id"]
    with stack.client("intruder") as other:
        for tid in (task_id, "00000000-0000-0000-0000-000000000000"):
            response = other.get(f"/api/audio/asr/task/{tid}")
            assert response.status_code == 404 and response.json()["error"] == "TASK_NOT_FOUND"


@pytest.mark.usefixtures("no_faults")
@pytest.mark.parametrize("body, code", [
    ({"model": "qwen3-asr-flash"}, "INVALID_MODEL"),
    ({"file_url": "http://10.1.2.3/a.wav"}, "INVALID_PARAMETER"),
    ({"file_url": "http://100.100.100.200/a.wav"}, "INVALID_PARAMETER"),
    ({"file_url": "http://localhost:8000/a.wav"}, "INVALID_PARAMETER"),
    ({"callback_url": "http://127.0.0.1:9/hook"}, "INVALID_PARAMETER"),
    ({"callback_url": "http://169.254.169.254/hook"}, "INVALID_PARAMETER"),
    ({"channel_id": []}, "INVALID_PARAMETER"),
])
def test_transcribe_refuses_bad_input(stack: Stack, body: dict, code: str) -> None:
    with stack.client("filetrans-errors") as client:
        # a valid file_url of our own storage, so each case fails for its own reason
        payload = {"model": "qwen3-asr-flash-filetrans", "file_url": stored_audio(stack, client, "好。"), **body}
        response = client.post("/api/audio/asr/transcribe", json=payload)
    assert response.status_code == 400, response.text
    body_ = response.json()
    assert body_["error"] == code
    assert next(iter(body)) in body_["message"] or code == "INVALID_MODEL"


@pytest.mark.usefixtures("no_faults")
def test_a_task_stuck_upstream_ends_failed_at_its_deadline(stack: Stack, settings_override) -> None:

    settings_override(asr_task_deadline_s=3)
    stack.set_faults([{"match": {"api": "asr_filetrans"}, "fault": {"kind": "stuck"}}])
    with stack.client("stuck-user") as client:
        url = stored_audio(stack, client, "永远不结束。")
        submitted = client.post("/api/audio/asr/transcribe", json={
            "model": "qwen3-asr-flash-filetrans", "file_url": url}).json()["data"]
        task = wait_task(client, submitted["task_id"], timeout_s=20)
        record = client.get("/api/audio/history", params={"type": "asr"}).json()["data"]["items"][0]
    assert task["task_status"] == "FAILED"
    assert task["error"]["code"] == "TIMEOUT" and "3 s" in task["error"]["message"]
    assert record["status"] == "FAILED" and record["bill"] == "0"
