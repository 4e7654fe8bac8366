"""The asr function as FC runs it: index.handler with the reference OSS event and its own jobs."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.functions.asr.audio_samples import script, wav
from tests.functions.asr.test_transcribe import wait_task
from tests.stack import Stack, function_handler

ROOT = Path(__file__).resolve().parents[3]
SAMPLE_OSS = ROOT / "tests" / "voicefn" / "web" / "fc3_events" / "event-oss.json"


def load_handler():
    return function_handler("asr")


def test_the_reference_sample_event_is_not_an_upload_and_is_skipped(stack: Stack) -> None:
    result = load_handler()(SAMPLE_OSS.read_bytes(), None)
    assert result == {"handled": [{"skipped": "image/a.jpg is not an asr upload"}]}


@pytest.mark.usefixtures("no_faults")
def test_the_sample_event_for_an_upload_starts_its_transcription(stack: Stack) -> None:
    from voicefn.services import get_services

    audio = wav(1.2, freq=777)
    script(stack, audio, "函数计算的事件。")
    with stack.client("fc-asr-user") as client:
        ticket = client.post("/api/audio/uploads", json={"purpose": "asr", "filename": "a.wav",
                                                         "content_type": "audio/wav",
                                                         "size": len(audio)}).json()["data"]
        # the object lands in the bucket without the local event (as if OSS's notification came later)
        services = get_services()
        info = asyncio.run(services.objects.put(ticket["key"], audio, "audio/wav"))
        event = json.loads(SAMPLE_OSS.read_text())
        record = event["events"][0]
        record["oss"]["bucket"]["name"] = services.objects.bucket
        record["oss"]["object"].update({"key": ticket["key"], "size": info.size, "deltaSize": info.size,
                                        "eTag": info.etag})
        result = load_handler()(json.dumps(event).encode(), None)
        task_id = result["handled"][0]["task_id"]
        task = wait_task(client, task_id)
        seen = client.get(f"/api/audio/uploads/{ticket['ticket_id']}").json()["data"]
    assert task["task_status"] == "SUCCEEDED"
    assert task["result"]["transcripts"][0]["text"] == "函数计算的事件。"
    assert seen["task_id"] == task_id


def test_a_forged_job_is_refused_by_the_fc_entry(stack: Stack) -> None:
    from voicefn.errors import ApiError

    with pytest.raises(ApiError) as refused:
        load_handler()(json.dumps({"job": "asr_advance", "task_id": "x", "sig": "0" * 64}).encode(), None)
    assert refused.value.code == "FORBIDDEN"


def test_http_events_reach_the_app(stack: Stack) -> None:
    sample = json.loads((SAMPLE_OSS.parent / "event-http.json").read_text())
    sample["rawPath"] = "/api/audio/asr/models"
    sample["requestContext"]["http"].update({"method": "GET", "path": "/api/audio/asr/models"})
    sample["body"] = ""
    response = load_handler()(json.dumps(sample).encode(), None)
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["data"][0]["model_id"] == "qwen3-asr-flash"
