"""seed 003 §3 on the local stack, as its frontend drives it: createVoice → waitForVoiceReady → synthesis."""

from __future__ import annotations

import httpx
import pytest

from tests.functions.voice.helpers import MODEL, create_voice, speechlike_wav, wait_for_voice_ready
from tests.stack import Stack

pytestmark = pytest.mark.usefixtures("no_faults")


def _history(client: httpx.Client) -> list[dict]:
    return client.get("/api/audio/history", params={"type": "voice"}).json()["data"]["items"]


def test_create_wait_and_synthesize_with_the_new_voice(stack: Stack) -> None:
    from voicefn.audio.decode import decode_to_pcm
    from voicefn.audio.pcm import rms

    with stack.client("cloner") as client:
        made = create_voice(client, speechlike_wav(140.0, 12.0), prefix="flow")
        assert made["code"] == 200, made
        data = made["data"]
        assert data["status"] == "DEPLOYING" and data["target_model"] == MODEL
        assert data["voice_id"].startswith(f"{MODEL}-flow-") and isinstance(data["record_id"], int)
        ready = wait_for_voice_ready(client, data["voice_id"])
        assert ready["resource_link"].startswith(stack.base_url)  # a signed URL of our copy, not the user's
        assert httpx.get(ready["resource_link"]).content[:4] == b"RIFF"
        assert ready["gmt_create"] and ready["gmt_modified"]

        spoken = client.post("/api/audio/tts/synthesize", json={
            "model": MODEL, "voice": data["voice_id"], "text": "你好，这是复刻的声音。", "format": "wav"}).json()
        assert spoken["code"] == 200, spoken
        pcm, _rate = decode_to_pcm(httpx.get(spoken["data"]["audio_url"]).content)
        assert spoken["data"]["duration"] > 0.5 and rms(pcm) > 0.01
        assert spoken["data"]["bill"] != "0"  # synthesis with a cloned voice is billed as usual

        other = client.post("/api/audio/tts/synthesize", json={"model": "cosyvoice-v3-plus", "voice": data["voice_id"],
                                                               "text": "换个模型。"})
        assert other.status_code == 400 and other.json()["error"] == "MODEL_VOICE_MISMATCH", other.text

        listed = client.get("/api/audio/voice/list", params={"model": MODEL, "page": 0, "page_size": 10}).json()
        assert listed["data"]["total"] == 1 and listed["data"]["voices"][0]["voice_id"] == data["voice_id"]
        assert listed["data"]["voices"][0]["status"] == "OK"
        history = _history(client)
    assert [h["voice_id"] for h in history] == [data["voice_id"]]
    assert history[0]["bill"] == "0" and history[0]["id"] == data["record_id"]


def test_model_voice_mismatch_is_its_own_error_code(stack: Stack) -> None:
    with stack.client("mismatch") as client:
        voice_id = create_voice(client, speechlike_wav(200.0, 11.0), prefix="mm")["data"]["voice_id"]
        wait_for_voice_ready(client, voice_id)
        other = client.post("/api/audio/tts/synthesize", json={"model": "cosyvoice-v2", "voice": voice_id,
                                                               "text": "换个模型。"})
    assert other.status_code == 400 and other.json()["error"] == "MODEL_VOICE_MISMATCH"
    assert "cosyvoice-v3-flash" in other.json()["message"]  # says which model the voice works with


def test_every_tts_route_speaks_with_a_cloned_voice(stack: Stack) -> None:
    with stack.client("every-route") as client:
        voice_id = create_voice(client, speechlike_wav(120.0, 12.0), prefix="routes")["data"]["voice_id"]
        wait_for_voice_ready(client, voice_id)
        streamed = client.post("/api/audio/tts/synthesize", json={"model": MODEL, "voice": voice_id, "stream": True,
                                                                  "text": "流式合成。"})
        openai = client.post("/v1/audio/speech", json={"model": MODEL, "voice": voice_id, "input": "Hello there."})
        wrong = client.post("/v1/audio/speech", json={"model": "cosyvoice-v2", "voice": voice_id, "input": "Hi."})
    assert streamed.status_code == 200 and len(streamed.content) > 1000
    assert openai.status_code == 200 and len(openai.content) > 1000, openai.text
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "model_voice_mismatch"


def test_json_create_fetches_the_url_and_enrolls_a_copy_of_it(stack: Stack) -> None:
    """A user's URL never reaches DashScope: the sample is fetched, stored under audio/voice/, and
    DashScope gets a signed URL of that copy."""
    from tests.functions.voice.helpers import upload_sample

    with stack.client("json-create") as client:
        ticket = upload_sample(client, speechlike_wav(160.0, 12.0))
        url = stack.services.objects.signed_get_url(ticket["key"], 600)
        made = client.post("/api/audio/voice/create", json={"target_model": "cosyvoice-v2", "prefix": "byurl",
                                                            "audio_url": url, "language_hints": ["en"]}).json()
        assert made["code"] == 200, made
        ready = wait_for_voice_ready(client, made["data"]["voice_id"])
    row = stack.services.state  # the stored voice, as the table has it
    import asyncio

    stored = asyncio.run(row.get_voice(made["data"]["voice_id"]))
    assert stored["sample_key"].startswith("audio/voice/") and stored["sample_key"].endswith(".wav")
    assert stored["language_hints"] == ["en"] and stored["enrolled_by"] == "platform"
    assert ready["status"] == "OK"


@pytest.mark.parametrize("body, code", [
    ({"target_model": "cosyvoice-v9", "prefix": "x"}, "INVALID_MODEL"),
    ({"target_model": MODEL, "prefix": "has_underscore"}, "INVALID_PARAMETER"),
    ({"target_model": MODEL, "prefix": "Capital"}, "INVALID_PARAMETER"),
    ({"target_model": MODEL, "prefix": "elevenchars"}, "INVALID_PARAMETER"),
    ({"target_model": MODEL, "prefix": "ok"}, "INVALID_PARAMETER"),  # neither audio_url nor file
    ({"target_model": MODEL, "prefix": "ok", "audio_url": "http://127.0.0.1:1/x.wav"}, "INVALID_PARAMETER"),
])
def test_bad_create_requests_are_refused_before_anything_is_enrolled(stack: Stack, body: dict, code: str) -> None:
    with stack.client("bad-create") as client:
        answer = client.post("/api/audio/voice/create", json=body)
        listed = client.get("/api/audio/voice/list").json()["data"]
    assert answer.status_code == 400 and answer.json()["error"] == code, answer.text
    assert listed["total"] == 0


def test_system_voices_with_every_field_and_the_filters(stack: Stack) -> None:
    with httpx.Client(base_url=stack.base_url) as client:
        every = client.get("/api/audio/voice/system").json()["data"]
        plus = client.get("/api/audio/voice/system", params={"model": "cosyvoice-v3-plus"}).json()["data"]
        social = client.get("/api/audio/voice/system", params={"category": "社交陪伴"}).json()["data"]
    assert {"longanyang", "longanhuan", "longyingjing_v3"} <= {v["voice_id"] for v in every}
    assert set(every[0]) == {"voice_id", "name", "trait", "age", "category", "languages", "models", "features"}
    assert plus and all("cosyvoice-v3-plus" in v["models"] for v in plus) and len(plus) <= len(every)
    assert social and all(v["category"] == "社交陪伴" for v in social)


def test_docs_describe_seed_001_s_response_shapes(stack: Stack) -> None:
    spec = httpx.get(f"{stack.base_url}/openapi.json", timeout=30).json()
    create = spec["paths"]["/api/voice/create_voice"]["post"]
    listed = spec["paths"]["/api/voice/get_voices"]["post"]
    for operation in (create, listed):
        assert "preview_audio_url" in operation["description"] and "platform" in operation["description"]
    assert create["responses"]["200"]["content"]["application/json"]["example"]["data"]["record_id"]
    assert "total" in listed["responses"]["200"]["content"]["application/json"]["example"]["data"]
    assert {"/api/audio/voice/create", "/api/audio/voice/list", "/api/audio/voice/{voice_id}",
            "/api/audio/voice/system"} <= set(spec["paths"])


def test_long_synthesis_in_the_background_uses_the_cloned_voice(stack: Stack) -> None:
    import time

    text = "这是一段很长的文本，用复刻的声音分段合成。" * 12
    with stack.client("long-cloner") as client:
        voice_id = create_voice(client, speechlike_wav(150.0, 12.0), prefix="long")["data"]["voice_id"]
        wait_for_voice_ready(client, voice_id)
        started = client.post("/api/audio/tts/synthesize-long", json={
            "model": MODEL, "voice": voice_id, "text": text, "format": "wav", "async": True}).json()
        assert started["code"] == 200, started
        deadline = time.time() + 60
        while (task := client.get(f"/api/audio/tts/task/{started['data']['task_id']}").json()["data"])[
                "task_status"] not in ("SUCCEEDED", "FAILED"):
            assert time.time() < deadline
            time.sleep(0.2)
        history = client.get("/api/audio/history", params={"type": "tts"}).json()["data"]["items"]
    assert task["task_status"] == "SUCCEEDED", task
    assert task["result"]["segments"] >= 1 and history[0]["voice_id"] == voice_id
