"""seed 000's POST /api/tts and GET /api/tts/audio/{task_id} on Qwen TTS."""

from __future__ import annotations

import time

import pytest

from tests.stack import Stack
from voicefn.audio.probe import audio_info


@pytest.mark.usefixtures("no_faults")
def test_task_api_produces_a_wav(stack: Stack) -> None:
    text = "欢迎来到湖南旅游。" * 3
    with stack.client("seed000-user") as client:
        created = client.post("/api/tts", json={"text": text, "voice": "Cherry", "language_type": "Chinese"})
        assert created.status_code == 200, created.text
        body = created.json()
        assert body["voice"] == "Cherry" and body["language_type"] == "Chinese"
        assert body["text_length"] == len(text) and body["model"].startswith("qwen")
        deadline = time.time() + 30
        while True:
            status = client.get(f"/api/tts/audio/{body['taskId']}").json()
            if status["status"] != "processing" or time.time() > deadline:
                break
            time.sleep(0.2)
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
