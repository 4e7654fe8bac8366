"""A voice's life: a new sample (back to DEPLOYING), deletion everywhere, deadlines, limits."""

from __future__ import annotations

import asyncio

import pytest

from tests.functions.voice.helpers import MODEL, create_voice, speechlike_wav, wait_for_voice_ready
from tests.functions.voice.test_upload_enrollment import upstream_voices
from tests.stack import Stack

pytestmark = pytest.mark.usefixtures("no_faults")


def test_put_replaces_the_sample_and_goes_back_to_deploying(stack: Stack) -> None:
    with stack.client("updater") as client:
        voice_id = create_voice(client, speechlike_wav(120.0, 12.0), prefix="upd")["data"]["voice_id"]
        first = wait_for_voice_ready(client, voice_id)
        old_key = asyncio.run(stack.services.state.get_voice(voice_id))["sample_key"]
        put = client.put(f"/api/audio/voice/{voice_id}", files={"file": ("n.wav", speechlike_wav(210.0, 14.0),
                                                                          "audio/wav")}).json()
        assert put == {"code": 200, "message": "success", "data": {"voice_id": voice_id, "status": "DEPLOYING"}}
        again = wait_for_voice_ready(client, voice_id)
        history = client.get("/api/audio/history", params={"type": "voice"}).json()["data"]["items"]
    new_key = asyncio.run(stack.services.state.get_voice(voice_id))["sample_key"]
    assert new_key != old_key and asyncio.run(stack.services.objects.head(old_key)) is None
    assert again["status"] == "OK" and first["resource_link"] != again["resource_link"]
    assert [h["voice_id"] for h in history] == [voice_id, voice_id] and all(h["bill"] == "0" for h in history)


def test_delete_removes_it_at_dashscope_in_the_table_and_its_objects(stack: Stack) -> None:
    with stack.client("deleter") as client:
        voice_id = create_voice(client, speechlike_wav(150.0, 12.0), prefix="del")["data"]["voice_id"]
        wait_for_voice_ready(client, voice_id)
        sample_key = asyncio.run(stack.services.state.get_voice(voice_id))["sample_key"]
        deleted = client.delete(f"/api/audio/voice/{voice_id}").json()
        gone = client.get(f"/api/audio/voice/{voice_id}")
        spoken = client.post("/api/audio/tts/synthesize", json={"model": MODEL, "voice": voice_id, "text": "还在吗？"})
        history = client.get("/api/audio/history", params={"type": "voice"}).json()["data"]["items"]
    assert deleted == {"code": 200, "message": "success", "data": None}
    assert gone.status_code == 404 and gone.json()["error"] == "VOICE_NOT_FOUND"
    assert spoken.status_code == 400 and spoken.json()["error"] == "INVALID_VOICE"
    assert asyncio.run(stack.services.objects.head(sample_key)) is None
    assert upstream_voices(stack, "del") == []
    assert [h.get("status") for h in history] == ["DELETED", "DEPLOYING"]


def test_a_voice_dashscope_never_deploys_ends_undeployed_with_the_reason(stack: Stack, settings_override) -> None:
    settings_override(voice_deploy_deadline_s=1.5)
    stack.set_faults([{"match": {"api": "voice_enrollment"}, "fault": {"kind": "stuck", "times": 1}}])
    with stack.client("stuck-voice") as client:
        voice_id = create_voice(client, speechlike_wav(150.0, 12.0), prefix="stuck")["data"]["voice_id"]
        seen = client.get(f"/api/audio/voice/{voice_id}").json()["data"]
        with pytest.raises(AssertionError, match="审核未通过"):
            wait_for_voice_ready(client, voice_id, max_attempts=50, interval_s=0.1)
        final = client.get(f"/api/audio/voice/{voice_id}").json()["data"]
        spoken = client.post("/api/audio/tts/synthesize", json={"model": MODEL, "voice": voice_id, "text": "你好。"})
    assert seen["status"] == "DEPLOYING"
    assert final["status"] == "UNDEPLOYED" and "within 1.5 s" in final["reason"]
    assert spoken.status_code == 400 and spoken.json()["error"] == "INVALID_VOICE"


def test_a_sample_dashscope_refuses_ends_undeployed(stack: Stack) -> None:
    stack.set_faults([{"match": {"api": "voice_enrollment"}, "fault": {"kind": "task_failed", "times": 1}}])
    with stack.client("refused-voice") as client:
        voice_id = create_voice(client, speechlike_wav(150.0, 12.0), prefix="refused")["data"]["voice_id"]
        with pytest.raises(AssertionError, match="审核未通过"):
            wait_for_voice_ready(client, voice_id)
        listed = client.get("/api/audio/voice/list").json()["data"]["voices"]
    assert listed[0]["status"] == "UNDEPLOYED" and listed[0]["reason"]


def test_the_watch_job_moves_a_voice_on_without_any_client_reading_it(stack: Stack) -> None:
    import time

    with stack.client("unwatched") as client:
        voice_id = create_voice(client, speechlike_wav(150.0, 12.0), prefix="job")["data"]["voice_id"]
    deadline = time.time() + 20
    while (row := asyncio.run(stack.services.state.get_voice(voice_id)))["status"] == "DEPLOYING":
        assert time.time() < deadline
        time.sleep(0.2)
    assert row["status"] == "OK"


def test_per_user_limit_and_no_api_key(stack: Stack, settings_override) -> None:
    settings_override(voice_user_limit=1)
    with stack.client("limited") as client:
        first = create_voice(client, speechlike_wav(150.0, 12.0), prefix="one")
        second = create_voice(client, speechlike_wav(150.0, 12.0), prefix="two")
    assert first["code"] == 200
    assert second["code"] == 400 and second["error"] == "VOICE_LIMIT_EXCEEDED"
    settings_override(platform_key_users=("somebody-else",))
    with stack.client("keyless") as client:
        keyless = create_voice(client, speechlike_wav(150.0, 12.0), prefix="nokey")
    assert keyless["code"] == 403 and keyless["error"] == "NO_API_KEY"


def test_the_account_limit_is_dashscope_s_1000_voices(stack: Stack) -> None:
    from voicefn.voice import rules

    state = stack.services.state
    saved = rules.ACCOUNT_VOICE_LIMIT
    import voicefn.voice.enroll as enroll_module

    count = asyncio.run(state.count_voices(enrolled_by="platform"))
    enroll_module.ACCOUNT_VOICE_LIMIT = count  # the account is full (1000 in production)
    try:
        with stack.client("account-full") as client:
            full = create_voice(client, speechlike_wav(150.0, 12.0), prefix="full")
    finally:
        enroll_module.ACCOUNT_VOICE_LIMIT = saved
    assert full["code"] == 400 and full["error"] == "VOICE_LIMIT_EXCEEDED" and "1000" in full["message"]


def test_after_a_new_sample_the_tts_cache_does_not_answer_with_the_old_voice(stack: Stack) -> None:
    body = {"model": MODEL, "text": "缓存里的旧声音。", "format": "wav"}
    with stack.client("cache-updater") as client:
        voice_id = create_voice(client, speechlike_wav(120.0, 12.0), prefix="cache")["data"]["voice_id"]
        wait_for_voice_ready(client, voice_id)
        first = client.post("/api/audio/tts/synthesize", json={**body, "voice": voice_id}).json()["data"]
        hit = client.post("/api/audio/tts/synthesize", json={**body, "voice": voice_id}).json()["data"]
        client.put(f"/api/audio/voice/{voice_id}", files={"file": ("n.wav", speechlike_wav(230.0, 12.0), "audio/wav")})
        wait_for_voice_ready(client, voice_id)
        after = client.post("/api/audio/tts/synthesize", json={**body, "voice": voice_id}).json()["data"]
    assert hit["bill"] == "0" and first["bill"] != "0"  # the cache works for an unchanged voice
    assert after["bill"] != "0" and stack.fetch(after["audio_url"]) != stack.fetch(first["audio_url"])
