"""Whose voice is whose: another user's private voice is 404 and unusable; public ones are shared (seed 001)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.functions.voice.helpers import MODEL, create_voice, speechlike_wav, upload_sample, wait_for_voice_ready, \
    wait_ticket
from tests.stack import Stack

pytestmark = pytest.mark.usefixtures("no_faults")


def _seed001_voice(client: httpx.Client, *, name: str, gender: str, public: bool, f0: float) -> dict:
    ticket = upload_sample(client, speechlike_wav(f0, 12.0))
    assert wait_ticket(client, ticket["ticket_id"])["status"] == "DONE"
    made = client.post("/api/voice/create_voice", json={
        "audio_file_id": ticket["ticket_id"], "voice_name": name, "voice_gender": gender,
        "voice_description": f"{name} 的声音", "is_public": public}).json()
    assert made["code"] == 200, made
    return made["data"]


def test_another_user_gets_404_on_get_put_delete_and_cannot_synthesize(stack: Stack) -> None:
    with stack.client("owner-a") as owner, stack.client("stranger-b") as stranger:
        voice_id = create_voice(owner, speechlike_wav(150.0, 12.0), prefix="private")["data"]["voice_id"]
        wait_for_voice_ready(owner, voice_id)
        got = stranger.get(f"/api/audio/voice/{voice_id}")
        put = stranger.put(f"/api/audio/voice/{voice_id}", files={"file": ("s.wav", speechlike_wav(), "audio/wav")})
        deleted = stranger.delete(f"/api/audio/voice/{voice_id}")
        missing = stranger.get("/api/audio/voice/cosyvoice-v3-flash-nobody-0123456789abcdef0123456789abcdef")
        spoken = stranger.post("/api/audio/tts/synthesize", json={"model": MODEL, "voice": voice_id,
                                                                  "text": "试一下。"})
        still = owner.get(f"/api/audio/voice/{voice_id}").json()["data"]
    for answer in (got, put, deleted):
        assert answer.status_code == 404 and answer.json()["error"] == "VOICE_NOT_FOUND", answer.text
    assert missing.json() == got.json() | {"message": missing.json()["message"]}  # the same answer as a missing one
    assert spoken.status_code == 400 and spoken.json()["error"] == "INVALID_VOICE"
    assert still["status"] == "OK"  # the stranger changed nothing


def test_seed001_create_voice_waits_and_answers_with_a_private_preview(stack: Stack) -> None:
    from voicefn.audio.decode import decode_to_pcm
    from voicefn.audio.pcm import rms

    with stack.client("seed001-a") as owner:
        voice = _seed001_voice(owner, name="温柔女声", gender="female", public=False, f0=220.0)
    assert voice["status"] == "OK" and voice["voice_name"] == "温柔女声" and voice["voice_gender"] == "female"
    assert voice["is_public"] is False and voice["created_by_current_user"] is True
    preview = httpx.get(voice["preview_audio_url"])
    pcm, _ = decode_to_pcm(preview.content)
    assert preview.status_code == 200 and rms(pcm) > 0.01
    stored = asyncio.run(stack.services.state.get_voice(voice["voice_id"]))
    from voicefn.storage.owners import is_granted

    assert asyncio.run(is_granted(stack.services.state, stored["preview_key"], "seed001-a"))
    assert not asyncio.run(is_granted(stack.services.state, stored["preview_key"], "seed001-b"))


def test_a_public_voice_shows_up_for_others_a_private_one_does_not(stack: Stack) -> None:
    with stack.client("pub-owner") as owner, stack.client("pub-viewer") as viewer:
        public = _seed001_voice(owner, name="公开男声", gender="male", public=True, f0=110.0)
        private = _seed001_voice(owner, name="私有女声", gender="female", public=False, f0=230.0)
        seen = viewer.post("/api/voice/get_voices", json={"page": 1, "page_size": 50, "gender": "all",
                                                          "created_by_current_user": False}).json()["data"]
        own_only = viewer.post("/api/voice/get_voices", json={"created_by_current_user": True}).json()["data"]
        males = viewer.post("/api/voice/get_voices", json={"gender": "male"}).json()["data"]
        females = viewer.post("/api/voice/get_voices", json={"gender": "female"}).json()["data"]
        mine = owner.post("/api/voice/get_voices", json={"created_by_current_user": True}).json()["data"]
        spoken = viewer.post("/api/audio/tts/synthesize", json={"model": MODEL, "voice": public["voice_id"],
                                                                "text": "公开的声音大家都能用。"}).json()
    ids = {v["voice_id"] for v in seen["voices"]}
    assert public["voice_id"] in ids and private["voice_id"] not in ids
    shown = next(v for v in seen["voices"] if v["voice_id"] == public["voice_id"])
    assert shown["created_by_current_user"] is False and shown["preview_audio_url"] is None  # a preview is private
    assert own_only["voices"] == [] and own_only["total"] == 0
    assert public["voice_id"] in {v["voice_id"] for v in males["voices"]}
    assert public["voice_id"] not in {v["voice_id"] for v in females["voices"]}
    assert {v["voice_id"] for v in mine["voices"]} == {public["voice_id"], private["voice_id"]}
    assert spoken["code"] == 200, spoken  # a public voice is usable by everyone


def test_someone_elses_upload_is_not_an_audio_file_id_for_you(stack: Stack) -> None:
    with stack.client("file-owner") as owner, stack.client("file-thief") as thief:
        ticket = upload_sample(owner, speechlike_wav(180.0, 12.0))
        wait_ticket(owner, ticket["ticket_id"])
        answer = thief.post("/api/voice/create_voice", json={"audio_file_id": ticket["ticket_id"],
                                                             "voice_name": "偷来的", "is_public": False})
    assert answer.status_code == 404 and answer.json()["error"] == "NOT_FOUND"


def test_only_platform_key_voices_can_be_public(stack: Stack) -> None:
    from voicefn.apikeys import store_user_key
    from voicefn.auth.principal import Principal

    user = "own-key-voice-cloner"
    with stack.client(user) as client:
        ticket = upload_sample(client, speechlike_wav(170.0, 12.0))
        wait_ticket(client, ticket["ticket_id"])
        asyncio.run(store_user_key(Principal(user_id=user), stack.services, stack.settings.platform_api_key))
        answer = client.post("/api/voice/create_voice", json={"audio_file_id": ticket["ticket_id"],
                                                              "voice_name": "自己的", "is_public": True})
    assert answer.status_code == 400 and answer.json()["error"] == "INVALID_PARAMETER"
    assert "platform" in answer.json()["message"]
