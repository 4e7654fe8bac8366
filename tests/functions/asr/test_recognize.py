"""POST /api/audio/asr/recognize and GET /api/audio/asr/models (seed 003 §2.0–2.1)."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest

from tests.functions.asr.audio_samples import b64, script, wav
from tests.stack import Stack


def recognize(client: httpx.Client, **body: object) -> httpx.Response:
    return client.post("/api/audio/asr/recognize", json={"model": "qwen3-asr-flash", **body})


def test_models_are_seed_003s(stack: Stack) -> None:
    data = httpx.get(f"{stack.base_url}/api/audio/asr/models").json()["data"]
    assert [m["model_id"] for m in data] == ["qwen3-asr-flash", "qwen-audio-asr", "qwen3-asr-flash-filetrans"]
    assert {m["call_type"] for m in data} == {"sync", "async"}
    assert set(data[0]) == {"model_id", "model_name", "description", "call_type", "features"}


@pytest.mark.usefixtures("no_faults")
def test_base64_audio_is_recognized_billed_and_recorded(stack: Stack) -> None:
    audio = wav(3.2)
    script(stack, audio, "欢迎使用语音识别服务。")
    with stack.client("asr-user") as client:
        response = recognize(client, audio_base64=b64(audio), language="zh", enable_itn=True)
        history = client.get("/api/audio/history", params={"type": "asr"}).json()["data"]
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert set(data) == {"text", "language", "emotion", "duration", "usage", "bill", "record_id"}
    assert data["text"] == "欢迎使用语音识别服务。"
    assert data["language"] == "zh" and data["emotion"] == "neutral"
    assert data["duration"] == 4 and data["usage"]["seconds"] == 4
    assert Decimal(data["bill"]) == Decimal("0.000035") * 4
    item = history["items"][0]
    assert item["id"] == data["record_id"] and item["output_text"] == data["text"] and item["type"] == "asr"
    assert "audio_base64" in json.loads(item["input_data"])


@pytest.mark.usefixtures("no_faults")
def test_multipart_upload_is_recognized(stack: Stack) -> None:
    audio = wav(1.5, freq=500)
    script(stack, audio, "hello from a file")
    with stack.client("asr-user") as client:
        response = client.post("/api/audio/asr/recognize", data={"model": "qwen-audio-asr", "enable_itn": "false"},
                               files={"file": ("clip.wav", audio, "audio/wav")})
    assert response.status_code == 200, response.text
    assert response.json()["data"]["text"] == "hello from a file"


@pytest.mark.usefixtures("no_faults")
def test_audio_url_of_our_own_storage_is_read_as_an_object(stack: Stack) -> None:
    with stack.client("asr-user") as client:
        made = client.post("/api/audio/tts/synthesize", json={
            "model": "cosyvoice-v3-flash", "voice": "longanyang", "text": "自己的音频。", "format": "wav",
            "sample_rate": 16000}).json()["data"]
        script(stack, stack.fetch(made["audio_url"]), "自己的音频。")
        response = recognize(client, audio_url=made["audio_url"])
    assert response.status_code == 200, response.text
    assert response.json()["data"]["text"] == "自己的音频。"


@pytest.mark.parametrize("body, code", [
    ({"audio_base64": b64(b"this is not audio, just text pretending" * 20)}, "INVALID_AUDIO"),
    ({"audio_base64": "%%%not base64%%%"}, "INVALID_AUDIO"),
    ({"audio_base64": b64(wav(61))}, "AUDIO_TOO_LONG"),
    ({"model": "qwen3-asr-flash-filetrans", "audio_base64": b64(wav(1))}, "INVALID_MODEL"),
    ({"audio_base64": b64(wav(1)), "audio_url": "https://example.com/a.wav"}, "INVALID_PARAMETER"),
    ({}, "INVALID_PARAMETER"),
    ({"audio_base64": b64(wav(1)), "context": "x" * 10001}, "INVALID_PARAMETER"),
])
def test_bad_audio_and_parameters(stack: Stack, body: dict, code: str) -> None:
    with stack.client("asr-errors") as client:
        response = recognize(client, **body)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == code


def test_multipart_with_a_fake_wav_is_refused_by_its_bytes(stack: Stack) -> None:
    with stack.client("asr-errors") as client:
        response = client.post("/api/audio/asr/recognize", data={"model": "qwen3-asr-flash"},
                               files={"file": ("song.wav", b"RIFF-but-not-really" * 50, "audio/wav")})
    assert response.status_code == 400 and response.json()["error"] == "INVALID_AUDIO"


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8000/x.wav",
    "http://10.0.0.1/x.wav",
    "http://172.16.5.4/x.wav",
    "http://192.168.1.1/x.wav",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.100.100.200/latest/meta-data/",
    "http://localhost/x.wav",           # a name that resolves to loopback
    "http://[::1]/x.wav",
    "http://2130706433/x.wav",           # 127.0.0.1 in decimal
    "file:///etc/passwd",
    "ftp://example.com/a.wav",
])
def test_audio_urls_into_the_network_are_refused(stack: Stack, url: str) -> None:
    with stack.client("ssrf-user") as client:
        response = recognize(client, audio_url=url)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == 400 and body["error"] == "INVALID_PARAMETER" and body["data"] is None


def test_someone_elses_upload_cannot_be_read_by_url(stack: Stack) -> None:
    from voicefn.services import get_services

    services = get_services()
    key = "uploads/asr/victim/0123456789abcdef0123456789abcdef.wav"
    import asyncio

    asyncio.run(services.objects.put(key, wav(1), "audio/wav"))
    # unsigned: a valid signed URL is a capability (issue 7), the bare key is not
    url = services.objects.signed_get_url(key, 600).split("?", 1)[0]
    with stack.client("attacker") as client:
        response = recognize(client, audio_url=url)
    assert response.status_code == 400 and response.json()["error"] == "INVALID_PARAMETER"
