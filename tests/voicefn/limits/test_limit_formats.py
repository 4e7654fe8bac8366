"""Each route family's 429, what limits never block, own-key calls, streams and /api/audio/usage."""

from __future__ import annotations

import base64
import json
import time
import uuid
from decimal import Decimal

import httpx
import pytest
from websockets.sync.client import connect

from tests.stack import Stack

pytestmark = pytest.mark.usefixtures("no_faults")

TTS = {"model": "cosyvoice-v3-flash", "voice": "longanyang", "text": "格式测试。"}


def _wav(seconds: float = 1.0, rate: int = 16000) -> bytes:
    """A real mono 16-bit WAV (a tone): audio the ASR routes accept, so requests reach their hold."""
    import io
    import math
    import struct
    import wave

    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate)))
                               for i in range(int(seconds * rate))))
    return out.getvalue()


def _user(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


def _twice(client: httpx.Client, method: str, path: str, **kw: object) -> httpx.Response:
    first = client.request(method, path, **kw)  # the one request the bucket holds
    assert first.status_code == 200, first.text
    return client.request(method, path, **kw)


def test_each_family_answers_429_in_its_own_format(stack: Stack, settings_override) -> None:
    settings_override(rate_limits={"tts": (1, 1), "asr": (1, 1)})
    wav64 = base64.b64encode(_wav()).decode()
    calls = {
        "envelope": ("POST", "/api/audio/tts/synthesize", {"json": TTS}),
        "openai": ("POST", "/v1/audio/speech", {"json": {"model": "tts-1", "voice": "longanyang", "input": "格式。"}}),
        "seed000": ("POST", "/api/tts", {"json": {"text": "格式测试。", "voice": "Cherry"}}),
        "asr": ("POST", "/api/audio/asr/recognize", {"json": {"model": "qwen3-asr-flash", "audio_base64": wav64}}),
        "asr_openai": ("POST", "/v1/audio/transcriptions", {"files": {"file": ("a.wav", _wav())},
                                                            "data": {"model": "whisper-1"}}),
    }
    got = {}
    for name, (method, path, kw) in calls.items():
        with stack.client(_user(f"formats-{name}")) as client:  # one bucket per caller and family
            got[name] = _twice(client, method, path, **kw)
    envelope, openai, seed000, asr, asr_openai = (got[n] for n in calls)
    for r in (envelope, openai, seed000, asr, asr_openai):
        assert r.status_code == 429, r.text
        assert int(r.headers["Retry-After"]) >= 1
    assert envelope.json()["error"] == "RATE_LIMITED" and envelope.json()["code"] == 429
    assert envelope.json()["data"] is None
    assert asr.json()["error"] == "RATE_LIMITED"
    for r in (openai, asr_openai):
        error = r.json()["error"]
        assert error["code"] == "rate_limit_exceeded" and error["type"] == "rate_limit_error"
        assert "per minute" in error["message"]
    assert seed000.json()["code"] == "QuotaExceeded" and seed000.json()["error"] == "RATE_LIMITED"


def test_limits_never_block_health_docs_catalogs_history_tasks_or_usage(stack: Stack, settings_override) -> None:
    settings_override(rate_limits={"tts": (1, 1), "asr": (1, 1), "voice": (1, 1), "chat": (1, 1)},
                      spend_cap_daily="0.000001")
    with stack.client(_user("exempt")) as client:
        for _ in range(2):
            client.post("/api/audio/tts/synthesize", json=TTS)
        assert client.post("/api/audio/tts/synthesize", json=TTS).status_code == 429
        for path in ["/health", "/docs", "/openapi.json", "/api/audio/tts/models", "/api/audio/asr/models",
                     "/api/audio/voice/system", "/api/audio/history", "/api/audio/usage", "/v1/models"] * 3:
            response = client.get(path)
            assert response.status_code != 429, path
        assert client.get("/api/audio/tts/task/nope").status_code == 404  # reading tasks: not limited


def test_a_cap_refusal_names_the_reset_and_bills_nothing(stack: Stack, settings_override) -> None:
    settings_override(spend_cap_daily="0", spend_cap_monthly="0.000001", spend_cap_timezone="Asia/Shanghai")
    with stack.client(_user("monthly")) as client:
        refused = client.post("/api/audio/tts/synthesize", json=TTS)
        seed000 = client.post("/api/tts", json={"text": "格式测试。", "voice": "Cherry"})
        history = client.get("/api/audio/history").json()["data"]
        usage = client.get("/api/audio/usage").json()["data"]
    assert refused.status_code == 429 and refused.json()["error"] == "SPEND_CAP_EXCEEDED"
    assert "monthly spend cap of 0.000001" in refused.json()["message"]
    assert "01T00:00:00+08:00 (Asia/Shanghai)" in refused.json()["message"]
    assert seed000.status_code == 429 and seed000.json()["code"] == "QuotaExceeded"
    assert history["total"] == 0
    assert usage["timezone"] == "Asia/Shanghai" and usage["today"]["cap"] is None
    assert usage["this_month"]["cap"] == "0.000001" and usage["this_month"]["spent"] == "0"


def test_the_users_own_key_is_limited_by_rate_only(stack: Stack, settings_override) -> None:
    settings_override(spend_cap_daily="0.000001")
    with stack.client(_user("own-key")) as client:
        assert client.post("/api/audio/tts/synthesize", json=TTS).status_code == 429  # platform key: capped
        client.put("/api/audio/settings/api-key", json={"api_key": "sk-own-key-5678"})
        own = client.post("/api/audio/tts/synthesize", json={**TTS, "text": f"自己的钱{uuid.uuid4().hex[:6]}。"})
        usage = client.get("/api/audio/usage").json()["data"]
    assert own.status_code == 200, own.text
    assert Decimal(own.json()["data"]["bill"]) > 0
    assert usage["today"]["spent"] == "0"  # their money: not counted against the platform's cap
    settings_override(spend_cap_daily="0.000001", spend_cap_own_key=True)
    with stack.client(_user("own-key-capped")) as client:
        client.put("/api/audio/settings/api-key", json={"api_key": "sk-own-key-5678"})
        assert client.post("/api/audio/tts/synthesize", json=TTS).json()["error"] == "SPEND_CAP_EXCEEDED"


def test_a_stream_holds_before_it_starts_and_settles_when_it_ends(stack: Stack, settings_override) -> None:
    settings_override(spend_cap_daily="5")
    user = _user("stream")
    with stack.client(user) as client:
        body = {**TTS, "text": "流式合成的花费在结束时结算。", "stream": True, "format": "pcm"}
        with client.stream("POST", "/api/audio/tts/synthesize", json=body) as response:
            audio = b"".join(response.iter_bytes())
        done = client.get("/api/audio/usage").json()["data"]["today"]
        bills = [item["bill"] for item in client.get("/api/audio/history").json()["data"]["items"]]
        # a client that leaves after the first chunk: the hold is released, nothing stays in flight
        gone = {**body, "text": "这个客户端在第一块音频之后就离开了,服务端应当释放预留的花费。" * 4}
        with client.stream("POST", "/api/audio/tts/synthesize", json=gone) as left_early:
            next(left_early.iter_bytes())
    assert response.status_code == 200 and len(audio) > 1000
    assert done["in_flight"] == "0" and done["spent"] == bills[0] and Decimal(bills[0]) > 0
    with stack.client(user) as client:
        for _ in range(100):
            after = client.get("/api/audio/usage").json()["data"]["today"]
            if after["in_flight"] == "0":
                break
            time.sleep(0.1)
    assert after["in_flight"] == "0"


def test_websocket_streams_are_rate_limited_with_an_error_frame(stack: Stack, settings_override) -> None:
    settings_override(rate_limits={"tts": (1, 1)})
    user = _user("ws")
    url = (f"{stack.ws_url}/api/audio/tts/stream?model=cosyvoice-v3-flash&voice=longanyang&format=pcm"
           f"&token={stack.token(user)}")
    with connect(url, open_timeout=10) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "started"
        ws.send(json.dumps({"type": "text", "content": "你好。"}))
        ws.send(json.dumps({"type": "end"}))
        while not isinstance(message := ws.recv(timeout=20), str) or json.loads(message)["type"] != "complete":
            pass
    with connect(url, open_timeout=10) as ws:
        frame = json.loads(ws.recv(timeout=10))
    assert frame["type"] == "error" and frame["code"] == "RATE_LIMITED"


def test_usage_reports_spend_caps_and_the_rate_budget(stack: Stack, settings_override) -> None:
    settings_override(rate_limits={"tts": (30, 10)}, spend_cap_daily="1", spend_cap_monthly="20")
    with stack.client(_user("usage")) as client:
        bill = client.post("/api/audio/tts/synthesize", json={**TTS, "text": "用量查询。"}).json()["data"]["bill"]
        usage = client.get("/api/audio/usage").json()
    assert usage["code"] == 200
    data = usage["data"]
    assert data["today"]["spent"] == bill and data["this_month"]["spent"] == bill
    assert data["today"]["cap"] == "1" and data["this_month"]["cap"] == "20"
    assert Decimal(data["today"]["remaining"]) == 1 - Decimal(bill)
    assert data["today"]["resets_at"].endswith("T00:00:00+00:00")
    assert data["rate_limits"]["tts"] == {"per_minute": 30, "burst": 10, "remaining": 9,
                                          "full_in_s": pytest.approx(2.0, abs=0.5)}
    assert data["rate_limits"]["asr"]["per_minute"] is None  # off in this test


def test_a_service_key_carries_its_own_limit(stack: Stack, settings_override) -> None:
    settings_override(service_keys={"sk-crm-service-key": "crm"}, service_rate_limits={"crm": (1, 1)},
                      rate_limits={"tts": (100, 100)})
    user = _user("served")
    service = {"Authorization": "Bearer sk-crm-service-key", "X-Voicefn-User": user}
    with httpx.Client(base_url=stack.base_url, headers=service, timeout=60) as crm:
        first = crm.post("/api/audio/tts/synthesize", json={**TTS, "text": "服务密钥一。"})
        second = crm.post("/api/audio/tts/synthesize", json={**TTS, "text": "服务密钥二。"})
    with stack.client(user) as own:  # the user's own calls count apart, under the family's limit
        mine = own.post("/api/audio/tts/synthesize", json={**TTS, "text": "自己的调用。"})
    assert first.status_code == 200, first.text
    assert second.status_code == 429 and "at most 1 tts requests per minute" in second.json()["message"]
    assert mine.status_code == 200
