"""Upload with a ticket (purpose voice) → OSS event on uploads/voice/ → one enrolled voice, once."""

from __future__ import annotations

import asyncio

import pytest

from tests.functions.voice.helpers import MODEL, speechlike_wav, upload_sample, wait_for_voice_ready, wait_ticket
from tests.stack import Stack

pytestmark = pytest.mark.usefixtures("no_faults")


def upstream_voices(stack: Stack, prefix: str) -> list:
    """What DashScope (the embedded one) holds for the platform key under ``prefix``."""
    from voicefn.dashscope.enrollment import list_voices

    services = stack.services
    return asyncio.run(list_voices(services.dashscope.http, api_key=services.settings.platform_api_key,
                                   prefix=prefix, page_size=100))


def test_an_upload_with_voice_enrolls_it_and_the_ticket_shows_the_voice_id(stack: Stack) -> None:
    spec = {"target_model": MODEL, "prefix": "upl", "name": "上传的声音", "gender": "male"}
    with stack.client("upload-voice") as client:
        ticket = upload_sample(client, speechlike_wav(130.0, 12.0), voice=spec)
        seen = wait_ticket(client, ticket["ticket_id"])
        assert seen["status"] == "DONE" and seen["voice_id"].startswith(f"{MODEL}-upl-"), seen
        ready = wait_for_voice_ready(client, seen["voice_id"])
        history = client.get("/api/audio/history", params={"type": "voice"}).json()["data"]
    assert ready["status"] == "OK"
    assert history["total"] == 1 and history["items"][0]["voice_id"] == seen["voice_id"]
    assert history["items"][0]["id"] == seen["record_id"] and history["items"][0]["bill"] == "0"


def test_the_same_event_three_times_is_one_voice_and_one_record(stack: Stack) -> None:
    from voicefn_local.oss_events import build_oss_event
    from voicefn_voice.events import on_oss_event

    with stack.client("triple-voice") as client:
        ticket = upload_sample(client, speechlike_wav(160.0, 12.0), voice={"target_model": MODEL, "prefix": "trip"})
        first = wait_ticket(client, ticket["ticket_id"])
        objects = stack.services.objects
        info = asyncio.run(objects.head(ticket["key"]))
        event = build_oss_event(bucket=objects.bucket, key=ticket["key"], size=info.size, etag=info.etag)
        outcomes = [asyncio.run(on_oss_event(event)) for _ in range(3)]
        again = wait_ticket(client, ticket["ticket_id"])
        voices = client.get("/api/audio/voice/list", params={"prefix": "trip"}).json()["data"]
        history = client.get("/api/audio/history", params={"type": "voice"}).json()["data"]
    assert first["status"] == "DONE" and first["voice_id"]
    assert all(o["handled"][0] == {"done": True, "duplicate": True} for o in outcomes)
    assert again["voice_id"] == first["voice_id"]
    assert voices["total"] == 1 and history["total"] == 1
    assert [v.voice_id for v in upstream_voices(stack, "trip")] == [first["voice_id"]]


def test_a_redelivery_after_a_crash_mid_hook_enrolls_nothing_twice(stack: Stack) -> None:
    """The hook ran (voice enrolled) but the delivery died before the ticket moved on: the retry
    finds the enrollment recorded under the ticket and reuses it."""
    from voicefn.uploads import hooks
    from voicefn_local.oss_events import build_oss_event
    from voicefn_voice.events import on_oss_event

    real = hooks.get_purpose("voice")
    assert real is not None
    calls = []

    async def dies_after_enrolling(ctx):  # type: ignore[no-untyped-def]
        calls.append(await real.start(ctx))
        raise RuntimeError("instance died")

    with stack.client("crash-voice") as client:
        objects = stack.services.objects
        hooks._REGISTRY["voice"] = hooks.Purpose("voice", dies_after_enrolling)
        try:
            ticket = upload_sample(client, speechlike_wav(175.0, 12.0), voice={"target_model": MODEL,
                                                                               "prefix": "crash"})
            info = asyncio.run(objects.head(ticket["key"]))
            event = build_oss_event(bucket=objects.bucket, key=ticket["key"], size=info.size, etag=info.etag)
            with pytest.raises(RuntimeError):
                asyncio.run(on_oss_event(event))
        finally:
            hooks._REGISTRY["voice"] = real
        retried = asyncio.run(on_oss_event(event))
        seen = wait_ticket(client, ticket["ticket_id"])
        history = client.get("/api/audio/history", params={"type": "voice"}).json()["data"]
    assert calls and retried["handled"][0] == {"done": True}
    assert seen["voice_id"] == calls[0].detail["voice_id"]
    assert len(upstream_voices(stack, "crash")) == 1 and history["total"] == 1


@pytest.mark.parametrize("sample, why", [
    (b"RIFF this is not really a wave file " * 40, "not a supported audio file"),
    ("silent", "silent"),
    ("short", "at least 10 s"),
])
def test_a_fake_silent_or_short_sample_is_invalid_audio_with_nothing_enrolled(stack: Stack, sample, why) -> None:
    from voicefn.audio.encode import encode_pcm
    from voicefn.audio.pcm import silence

    if sample == "silent":
        sample = encode_pcm(silence(12.0, 16000), "wav", 16000)
    elif sample == "short":
        sample = speechlike_wav(150.0, 4.0)
    prefix = f"bad{len(sample) % 1000}"
    with stack.client("bad-sample") as client:
        ticket = upload_sample(client, sample, voice={"target_model": MODEL, "prefix": prefix})
        seen = wait_ticket(client, ticket["ticket_id"])
        direct = client.post("/api/audio/voice/create", data={"prefix": prefix, "target_model": MODEL},
                             files={"file": ("s.wav", sample, "audio/wav")})
        listed = client.get("/api/audio/voice/list").json()["data"]
    assert seen["status"] == "REJECTED" and seen["error"]["code"] == "INVALID_AUDIO" and why in seen["error"]["message"]
    assert "voice_id" not in seen
    assert direct.status_code == 400 and direct.json()["error"] == "INVALID_AUDIO" and why in direct.json()["message"]
    assert listed["total"] == 0 and upstream_voices(stack, prefix) == []


def test_a_ticket_refuses_a_bad_voice_spec_before_the_upload(stack: Stack) -> None:
    with stack.client("bad-spec") as client:
        bad = client.post("/api/audio/uploads", json={"purpose": "voice", "content_type": "audio/wav", "size": 100,
                                                      "voice": {"target_model": "qwen-tts", "prefix": "x"}})
        asr = client.post("/api/audio/uploads", json={"purpose": "asr", "content_type": "audio/wav", "size": 100,
                                                      "voice": {"target_model": MODEL, "prefix": "x"}})
    assert bad.status_code == 400 and bad.json()["error"] == "INVALID_MODEL"
    assert asr.status_code == 400 and asr.json()["error"] == "INVALID_PARAMETER"
