"""seed 000's POST /api/ai-chat: the travel assistant's reply and its Qwen TTS speech."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.functions.chat.helpers import chat_calls, script
from tests.stack import Stack
from voicefn.audio.probe import audio_info

pytestmark = pytest.mark.usefixtures("no_faults")


def test_short_reply_has_one_audio_url(stack: Stack) -> None:
    tag = uuid.uuid4().hex[:6]
    reply = f"岳麓山{tag}值得一去。橘子洲也很美！"
    script(stack, {"reply": reply, "when_contains": tag})
    before = stack.stats()["qwen_tts"]
    with stack.client("ai-chat-user") as client:
        response = client.post("/api/ai-chat", json={"message": f"长沙有什么好玩的 {tag}"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["user_message"] == f"长沙有什么好玩的 {tag}"
    assert body["ai_response"] == reply
    assert (body["voice"], body["language_type"]) == ("Cherry", "Chinese")
    assert "audio_urls" not in body
    audio = httpx.get(body["audio_url"]).content
    assert audio_info(audio).format == "wav" and audio_info(audio).duration > 0.5
    assert stack.stats()["qwen_tts"] - before == 1
    # the system prompt is the configured travel assistant's
    call = [c for c in chat_calls(stack) if c["scripted"]][-1]
    assert call["finish"] == "stop"
    with stack.client("ai-chat-user") as client:
        history = client.get("/api/audio/history", params={"type": "chat"}).json()["data"]
    item = history["items"][0]
    assert item["type"] == "chat" and float(item["bill"]) > 0


def test_long_reply_is_spoken_in_segments_of_at_most_600(stack: Stack) -> None:
    tag = uuid.uuid4().hex[:6]
    sentence = "湖南的山水很美，张家界的奇峰和凤凰古城的夜景都让人难忘。"
    reply = sentence * 30 + tag  # ~900 characters
    script(stack, {"reply": reply, "when_contains": tag, "tokens_per_s": 2000})
    before = stack.stats()["qwen_tts"]
    with stack.client("ai-chat-long") as client:
        body = client.post("/api/ai-chat", json={"message": f"介绍湖南 {tag}", "voice": "Eric"}).json()
    urls = body["audio_urls"]
    assert len(urls) == 2 and "audio_url" not in body
    assert stack.stats()["qwen_tts"] - before == 2
    assert all(audio_info(httpx.get(u).content).duration > 1 for u in urls)


def test_without_audio_and_seed000_errors(stack: Stack) -> None:
    tag = uuid.uuid4().hex[:6]
    script(stack, {"reply": f"Hello {tag}.", "when_contains": tag})
    with stack.client("ai-chat-errors") as client:
        quiet = client.post("/api/ai-chat", json={"message": tag, "include_audio": False}).json()
        assert quiet["ai_response"] == f"Hello {tag}." and "audio_url" not in quiet
        bad_voice = client.post("/api/ai-chat", json={"message": "hi", "voice": "Nobody"})
        assert bad_voice.status_code == 400
        assert bad_voice.json()["code"] == "InvalidParameter" and "error" in bad_voice.json()
        empty = client.post("/api/ai-chat", json={"message": "  "})
        assert empty.status_code == 400 and empty.json()["code"] == "InvalidParameter"
        too_long = client.post("/api/ai-chat", json={"message": "长" * 5000})
        assert too_long.status_code == 400 and too_long.json()["code"] == "TextTooLong"
    unauthenticated = httpx.post(f"{stack.base_url}/api/ai-chat", json={"message": "hi"})
    assert unauthenticated.status_code == 401 and unauthenticated.json()["code"] == "InvalidApiKey"


def test_a_slow_long_reply_is_not_cut_by_the_llm_timeout(stack: Stack, settings_override) -> None:
    # the timeout bounds each wait for a piece of the reply, not the whole generation
    settings_override(llm_timeout_s=1.0)
    tag = uuid.uuid4().hex[:6]
    reply = f"慢慢说{tag}。" + "橘子洲很美。" * 8
    script(stack, {"reply": reply, "when_contains": tag, "token_delay_ms": 150})
    with stack.client("ai-chat-slow") as client:
        response = client.post("/api/ai-chat", json={"message": f"慢一点 {tag}", "include_audio": False})
    assert response.status_code == 200, response.text
    assert response.json()["ai_response"] == reply
    call = [c for c in chat_calls(stack) if c["scripted"]][-1]
    assert call["finish"] == "stop"
