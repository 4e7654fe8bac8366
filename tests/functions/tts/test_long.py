"""POST /api/audio/tts/synthesize-long (seed 003 §1.3), waiting and as a task."""

from __future__ import annotations

import time

import pytest

from tests.stack import Stack
from voicefn.audio.probe import audio_info
from voicefn.billing import billable_characters

SENTENCE = "这是长文本合成中的一句话，用来测试切分与合并。"


def long_text(sentences: int) -> str:
    return "".join(f"第{i}段。{SENTENCE}" for i in range(sentences))


@pytest.mark.usefixtures("no_faults")
def test_long_text_is_split_synthesized_and_merged_in_order(stack: Stack) -> None:
    text = long_text(80)  # > 2000 characters
    assert len(text) > 2000
    with stack.client("long-user") as client:
        response = client.post("/api/audio/tts/synthesize-long",
                               json={"model": "cosyvoice-v3-flash", "voice": "longanyang", "text": text})
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert set(data) >= {"audio_url", "duration", "format", "total_characters", "segments", "bill", "record_id"}
    assert data["segments"] >= 4
    assert data["total_characters"] == billable_characters(text)
    audio = stack.fetch(data["audio_url"])
    info = audio_info(audio)
    assert info.format == "mp3"
    assert info.duration == pytest.approx(0.2 * billable_characters(text), rel=0.01)


@pytest.mark.usefixtures("no_faults")
def test_async_form_reports_progress_and_result(stack: Stack) -> None:
    text = long_text(30)
    with stack.client("long-async-user") as client:
        started = client.post("/api/audio/tts/synthesize-long",
                              json={"model": "cosyvoice-v3-flash", "voice": "longanyang", "text": text,
                                    "format": "wav", "async": True}).json()["data"]
        assert started["task_status"] == "PENDING"
        deadline = time.time() + 60
        while True:
            task = client.get(f"/api/audio/tts/task/{started['task_id']}").json()["data"]
            if task["task_status"] in ("SUCCEEDED", "FAILED") or time.time() > deadline:
                break
            time.sleep(0.2)
        other = stack.client("someone-else").get(f"/api/audio/tts/task/{started['task_id']}")
    assert task["task_status"] == "SUCCEEDED", task
    assert task["progress"]["done"] == task["progress"]["total"] == task["result"]["segments"]
    assert audio_info(stack.fetch(task["result"]["audio_url"])).format == "wav"
    assert other.status_code == 404 and other.json()["error"] == "TASK_NOT_FOUND"


@pytest.mark.usefixtures("no_faults")
def test_a_failing_segment_fails_the_request_cleanly(stack: Stack) -> None:
    stack.set_faults([{"match": {"api": "tts_ws", "text_contains": "第3段"}, "fault": {"kind": "task_failed"}}])
    with stack.client("long-fail-user") as client:
        response = client.post("/api/audio/tts/synthesize-long",
                               json={"model": "cosyvoice-v3-flash", "voice": "longanyang", "text": long_text(8)})
        history = client.get("/api/audio/history").json()["data"]
    assert response.status_code == 502
    assert history["total"] == 0  # nothing billed
