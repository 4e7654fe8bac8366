"""``/_admin/stats``: what tests elsewhere use to prove a cached result made no upstream call."""

from __future__ import annotations

import httpx
from dashscope import MultiModalConversation
from dashscope.audio.http_tts import HttpSpeechSynthesizer
from dashscope.audio.tts_v2 import SpeechSynthesizer

from tests.voicefn_local.dashscope.ds_helpers import admin, stats
from voicefn.billing import billable_characters


def test_counts_calls_per_api_and_characters(sdk, emulator) -> None:
    assert stats(emulator) == {"tts_ws_tasks": 0, "tts_ws_syntheses": 0, "tts_http": 0, "qwen_tts": 0,
                               "voice_enrollment": 0,
                               "characters": 0, "engine_calls": 0, "faults_applied": 0, "auth_failures": 0,
                               "chat_calls": 0, "chat_generations": 0, "chat_completed": 0, "chat_cancelled": 0,
                               "chat_failed": 0, "chat_active": 0, "chat_tokens": 0}
    SpeechSynthesizer(model="cosyvoice-v3-flash", voice="longanyang").call("你好。世界。")
    HttpSpeechSynthesizer.call(model="cosyvoice-v3-flash", text="Hello.", voice="longanyang")
    MultiModalConversation.call(model="qwen3-tts-flash", text="你好", voice="Cherry")
    MultiModalConversation.call(model="qwen3-tts-flash", text="再见", voice="Cherry")
    counts = stats(emulator)
    assert counts["tts_ws_tasks"] == 1 and counts["tts_ws_syntheses"] == 1
    assert counts["tts_http"] == 1
    assert counts["qwen_tts"] == 2
    assert counts["engine_calls"] == 2 + 1 + 1 + 1  # one per sentence
    assert counts["characters"] == sum(billable_characters(t)
                                       for t in ("你好。世界。", "Hello.", "你好", "再见"))


def test_reset(sdk, emulator) -> None:
    HttpSpeechSynthesizer.call(model="cosyvoice-v3-flash", text="你好", voice="longanyang")
    assert stats(emulator)["tts_http"] == 1
    reset = httpx.post(f"{emulator.base_url}/_admin/stats/reset", headers=admin(emulator)).json()
    assert reset["tts_http"] == 0 and reset["characters"] == 0
    assert stats(emulator)["engine_calls"] == 0


def test_each_app_has_its_own_counters(sdk, emulator, espeak_emulator) -> None:
    HttpSpeechSynthesizer.call(model="cosyvoice-v3-flash", text="你好", voice="longanyang")
    assert stats(emulator)["tts_http"] == 1
    assert stats(espeak_emulator)["tts_http"] == 0
