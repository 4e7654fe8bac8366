"""The chat and voice families: their routes are rate limited in their own formats, and a chat
turn is held against the spend cap before the LLM runs (nothing billed when refused)."""

from __future__ import annotations

import uuid

import pytest

from tests.stack import Stack

pytestmark = pytest.mark.usefixtures("no_faults")

CHAT = {"model": "qwen-plus", "messages": [{"role": "user", "content": "Say hello."}]}


def _user(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


def test_chat_and_voice_routes_answer_429_in_their_formats(stack: Stack, settings_override) -> None:
    settings_override(rate_limits={"chat": (1, 1), "voice": (1, 1)})
    with stack.client(_user("chat-rate")) as client:
        assert client.post("/v1/chat/completions", json=CHAT).status_code == 200
        openai = client.post("/v1/chat/completions", json=CHAT)
    with stack.client(_user("ai-chat-rate")) as client:
        first = client.post("/api/ai-chat", json={"message": "hello", "include_audio": False})
        assert first.status_code == 200, first.text
        seed000 = client.post("/api/ai-chat", json={"message": "hello", "include_audio": False})
    with stack.client(_user("voice-rate")) as client:
        client.delete("/api/audio/voice/cosyvoice-v3-flash-nope-0")  # the one request the bucket holds
        voice = client.delete("/api/audio/voice/cosyvoice-v3-flash-nope-0")
        listed = client.get("/api/audio/voice/list")  # reading one's own voices: never limited
    assert openai.status_code == 429 and int(openai.headers["Retry-After"]) >= 1
    assert openai.json()["error"]["code"] == "rate_limit_exceeded"
    assert seed000.status_code == 429 and seed000.json()["code"] == "QuotaExceeded"
    assert voice.status_code == 429 and voice.json()["error"] == "RATE_LIMITED"
    assert listed.status_code == 200


def test_a_chat_turn_over_the_cap_is_refused_before_the_llm_and_bills_nothing(stack: Stack,
                                                                               settings_override) -> None:
    settings_override(spend_cap_daily="0.000001")
    with stack.client(_user("chat-cap")) as client:
        refused = client.post("/v1/chat/completions", json={**CHAT, "max_tokens": 50})
        streamed = client.post("/v1/chat/completions", json={**CHAT, "stream": True})
        history = client.get("/api/audio/history", params={"type": "chat"}).json()["data"]
    assert refused.status_code == 429, refused.text
    assert refused.json()["error"]["code"] == "insufficient_quota"
    assert "daily spend cap" in refused.json()["error"]["message"]
    assert streamed.status_code == 429  # refused before the stream starts
    assert history["total"] == 0


def test_a_chat_turn_within_the_cap_settles_its_real_bill(stack: Stack, settings_override) -> None:
    settings_override(spend_cap_daily="5")
    with stack.client(_user("chat-settle")) as client:
        done = client.post("/v1/chat/completions", json={**CHAT, "max_tokens": 64})
        usage = client.get("/api/audio/usage").json()["data"]
        bills = [h["bill"] for h in client.get("/api/audio/history", params={"type": "chat"}).json()["data"]["items"]]
    assert done.status_code == 200, done.text
    assert bills and usage["today"]["spent"] == bills[0]
    assert usage["today"]["in_flight"] == "0"  # the hold was settled, nothing left held
