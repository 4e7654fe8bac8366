"""The voice function as FC runs it: index.handler with the reference OSS event, HTTP events, its jobs."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.functions.voice.helpers import MODEL, speechlike_wav, wait_for_voice_ready
from tests.stack import Stack, function_handler

ROOT = Path(__file__).resolve().parents[3]
SAMPLE_OSS = ROOT / "tests" / "voicefn" / "web" / "fc3_events" / "event-oss.json"


def load_handler():
    return function_handler("voice")


def test_the_reference_sample_event_is_not_a_voice_upload_and_is_skipped(stack: Stack) -> None:
    result = load_handler()(SAMPLE_OSS.read_bytes(), None)
    assert result == {"handled": [{"skipped": "image/a.jpg is not a voice upload"}]}


@pytest.mark.usefixtures("no_faults")
def test_the_sample_event_for_a_voice_upload_enrolls_it(stack: Stack) -> None:
    sample = speechlike_wav(145.0, 12.0)
    with stack.client("fc-voice-user") as client:
        ticket = client.post("/api/audio/uploads", json={
            "purpose": "voice", "filename": "me.wav", "content_type": "audio/wav", "size": len(sample),
            "voice": {"target_model": MODEL, "prefix": "fcentry"}}).json()["data"]
        # the object lands without the local event (as if OSS's notification came later)
        services = stack.services
        info = asyncio.run(services.objects.put(ticket["key"], sample, "audio/wav"))
        event = json.loads(SAMPLE_OSS.read_text())
        record = event["events"][0]
        record["oss"]["bucket"]["name"] = services.objects.bucket
        record["oss"]["object"].update({"key": ticket["key"], "size": info.size, "deltaSize": info.size,
                                        "eTag": info.etag})
        result = load_handler()(json.dumps(event).encode(), None)
        seen = client.get(f"/api/audio/uploads/{ticket['ticket_id']}").json()["data"]
        ready = wait_for_voice_ready(client, seen["voice_id"])
    assert result == {"handled": [{"done": True}]}
    assert seen["status"] == "DONE" and seen["voice_id"].startswith(f"{MODEL}-fcentry-")
    assert ready["status"] == "OK"


def test_a_forged_job_is_refused_by_the_fc_entry(stack: Stack) -> None:
    from voicefn.errors import ApiError

    with pytest.raises(ApiError) as refused:
        load_handler()(json.dumps({"job": "voice_watch", "task_id": "x", "sig": "0" * 64}).encode(), None)
    assert refused.value.code == "FORBIDDEN"


def test_http_events_reach_the_app(stack: Stack) -> None:
    sample = json.loads((SAMPLE_OSS.parent / "event-http.json").read_text())
    sample["rawPath"] = "/api/audio/voice/system"
    sample["requestContext"]["http"].update({"method": "GET", "path": "/api/audio/voice/system"})
    sample["body"] = ""
    sample["rawQueryString"] = "model=cosyvoice-v3-plus"
    sample["queryStringParameters"] = {"model": "cosyvoice-v3-plus"}
    response = load_handler()(json.dumps(sample).encode(), None)
    assert response["statusCode"] == 200
    voices = json.loads(response["body"])["data"]
    assert voices and all("cosyvoice-v3-plus" in v["models"] for v in voices)
