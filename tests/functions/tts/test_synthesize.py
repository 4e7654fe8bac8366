"""POST /api/audio/tts/synthesize (seed 003 §1.1) end to end on the local stack."""

from __future__ import annotations

import re
import time
from decimal import Decimal

import httpx
import pytest

from tests.stack import Stack
from voicefn.audio.formats import extension
from voicefn.audio.probe import audio_info
from voicefn.billing import billable_characters

SECONDS_PER_CHARACTER = 0.2  # the deterministic engine's documented rate


def synth(client: httpx.Client, **body: object) -> httpx.Response:
    payload = {"model": "cosyvoice-v3-flash", "voice": "longanyang", "text": "你好，欢迎使用语音合成服务！"}
    payload.update(body)
    return client.post("/api/audio/tts/synthesize", json=payload)


@pytest.mark.usefixtures("no_faults")
@pytest.mark.parametrize("fmt", ["mp3", "wav", "pcm", "opus"])
def test_non_stream_stores_real_audio_and_answers_the_envelope(stack: Stack, fmt: str) -> None:
    text = f"格式{fmt}的测试。Hello {fmt} world."
    sample_rate = 24000 if fmt == "opus" else 22050
    with stack.client("synth-user") as client:
        response = synth(client, text=text, format=fmt, sample_rate=sample_rate)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["code"] == 200 and body["message"] == "success"
    data = body["data"]
    assert set(data) == {"audio_url", "duration", "format", "sample_rate", "characters", "bill", "record_id"}
    assert data["format"] == fmt and data["sample_rate"] == sample_rate
    assert data["characters"] == billable_characters(text)
    assert Decimal(data["bill"]) == (Decimal("0.14335") * data["characters"] / 10000).quantize(Decimal("0.000001"))
    assert isinstance(data["record_id"], int)
    assert re.search(rf"/audio/tts/\d{{8}}/[0-9a-f]{{32}}\.{extension(fmt)}\?", data["audio_url"])
    audio = stack.fetch(data["audio_url"])
    expected = SECONDS_PER_CHARACTER * data["characters"]
    assert data["duration"] == pytest.approx(expected, abs=0.15)
    if fmt == "pcm":
        assert len(audio) == pytest.approx(expected * sample_rate * 2, rel=0.02)
    else:
        info = audio_info(audio)
        assert info.format == ("opus" if fmt == "opus" else fmt)
        assert info.duration == pytest.approx(expected, abs=0.15)


@pytest.mark.usefixtures("no_faults")
def test_identical_request_is_served_from_the_cache_without_upstream_call(stack: Stack) -> None:
    text = "缓存测试：同样的请求只合成一次。"
    with stack.client("cache-user") as client:
        first = synth(client, text=text).json()["data"]
        calls = stack.stats()
        second = synth(client, text=text).json()["data"]
        assert stack.stats() == calls  # not one upstream call
        history = client.get("/api/audio/history", params={"type": "tts"}).json()["data"]
    assert Decimal(first["bill"]) > 0 and second["bill"] == "0"
    assert second["duration"] == first["duration"] and second["characters"] == first["characters"]
    assert second["record_id"] != first["record_id"]
    assert stack.fetch(second["audio_url"]) == stack.fetch(first["audio_url"])
    assert [item["bill"] for item in history["items"][:2]] == ["0", first["bill"]]


@pytest.mark.usefixtures("no_faults")
def test_stream_sends_audio_before_synthesis_ends(stack: Stack) -> None:
    text = "第一句话。第二句话。第三句话。第四句话。"
    stack.set_faults([{"match": {"api": "tts_ws"}, "fault": {"kind": "slow_frames", "frame_delay_ms": 150}}])
    chunks: list[tuple[float, int]] = []
    with stack.client("stream-user") as client:
        start = time.perf_counter()
        with client.stream("POST", "/api/audio/tts/synthesize",
                           json={"model": "cosyvoice-v3-flash", "voice": "longanyang", "text": text,
                                 "stream": True}) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("audio/mpeg")
            assert "content-length" not in response.headers
            body = b""
            for chunk in response.iter_bytes():
                chunks.append((time.perf_counter() - start, len(chunk)))
                body += chunk
    total = chunks[-1][0]
    assert chunks[0][0] < total / 2  # the first bytes came long before the last
    info = audio_info(body)
    assert info.format == "mp3"
    assert info.duration == pytest.approx(SECONDS_PER_CHARACTER * billable_characters(text), abs=0.2)


@pytest.mark.usefixtures("no_faults")
@pytest.mark.parametrize("body, status, code", [
    ({"model": "cosyvoice-v9"}, 400, "INVALID_MODEL"),
    ({"voice": "nobody"}, 400, "INVALID_VOICE"),
    ({"text": "长" * 2001}, 400, "TEXT_TOO_LONG"),
    ({"model": "cosyvoice-v2", "voice": "longanyang"}, 400, "MODEL_VOICE_MISMATCH"),
    ({"volume": 101}, 400, "INVALID_PARAMETER"),
    ({"speech_rate": 3}, 400, "INVALID_PARAMETER"),
    ({"format": "aiff"}, 400, "INVALID_PARAMETER"),
    ({"sample_rate": 12345}, 400, "INVALID_PARAMETER"),
    ({"text": "   "}, 400, "INVALID_PARAMETER"),
    ({"volume": "loud"}, 400, "INVALID_PARAMETER"),
])
def test_bad_input_gets_its_error_code(stack: Stack, body: dict, status: int, code: str) -> None:
    with stack.client("errors-user") as client:
        response = synth(client, **body)
    assert response.status_code == status
    data = response.json()
    assert data["code"] == status and data["error"] == code and data["data"] is None and data["message"]


def test_malformed_json_and_missing_fields_are_400_not_500(stack: Stack) -> None:
    with stack.client("errors-user") as client:
        broken = client.post("/api/audio/tts/synthesize", content=b"{not json",
                             headers={"Content-Type": "application/json"})
        missing = client.post("/api/audio/tts/synthesize", json={"model": "cosyvoice-v3-flash"})
    for response in (broken, missing):
        assert response.status_code == 400
        assert response.json()["error"] == "INVALID_PARAMETER"


def test_unauthorized_without_or_with_a_bad_token(stack: Stack) -> None:
    with httpx.Client(base_url=stack.base_url) as client:
        none = synth(client)
        bad = client.post("/api/audio/tts/synthesize", json={}, headers={"Authorization": "Bearer x.y.z"})
    for response in (none, bad):
        assert response.status_code == 401
        assert response.json()["error"] == "UNAUTHORIZED"


def test_no_api_key_when_the_platform_key_is_not_allowed(stack: Stack, settings_override) -> None:
    settings_override(platform_key_users=("someone-else",))
    with stack.client("keyless-user") as client:
        response = synth(client)
    assert response.status_code == 403
    assert response.json() == {"code": 403, "message": response.json()["message"], "error": "NO_API_KEY",
                               "data": None}


@pytest.mark.usefixtures("no_faults")
def test_upstream_throttling_is_retried_within_the_budget(stack: Stack) -> None:
    stack.set_faults([{"match": {"api": "tts_ws"}, "fault": {"kind": "throttle", "times": 1}}])
    with stack.client("retry-user") as client:
        response = synth(client, text="重试一次就好。")
    assert response.status_code == 200, response.text


@pytest.mark.usefixtures("no_faults")
@pytest.mark.parametrize("fault, status, code", [
    ({"kind": "throttle"}, 429, "RATE_LIMITED"),
    ({"kind": "error"}, 502, "UPSTREAM_ERROR"),
    ({"kind": "task_failed"}, 502, "UPSTREAM_ERROR"),
])
def test_persistent_upstream_faults_are_reported(stack: Stack, fault: dict, status: int, code: str) -> None:
    stack.set_faults([{"match": {"api": "tts_ws"}, "fault": fault}])
    with stack.client("fault-user") as client:
        start = time.perf_counter()
        response = synth(client, text=f"故障{fault['kind']}。")
    assert time.perf_counter() - start < 15
    assert response.status_code == status, response.text
    assert response.json()["error"] == code


@pytest.mark.usefixtures("no_faults")
def test_an_upstream_that_hangs_times_out(stack: Stack, settings_override) -> None:
    settings_override(upstream_timeout_s=1.0, upstream_retries=0)
    stack.set_faults([{"match": {"api": "tts_ws"}, "fault": {"kind": "latency", "latency_ms": 5000}}])
    with stack.client("timeout-user") as client:
        start = time.perf_counter()
        response = synth(client, text="超时。")
    assert time.perf_counter() - start < 5
    assert response.status_code == 504
    assert response.json()["error"] == "TIMEOUT"


def test_models_list_is_seed_003s(stack: Stack) -> None:
    response = httpx.get(f"{stack.base_url}/api/audio/tts/models")
    assert response.status_code == 200
    models = {m["model_id"]: m for m in response.json()["data"]}
    assert set(models) == {"cosyvoice-v3-flash", "cosyvoice-v3-plus", "cosyvoice-v2"}
    assert models["cosyvoice-v3-flash"]["price_per_10k_chars"] == "0.14335"
    assert set(models["cosyvoice-v2"]) == {"model_id", "model_name", "description", "price_per_10k_chars", "features"}
