"""``/_admin/call-times``: when each API was busy answering, on the machine's monotonic clock
(what ``bench/realtime_v2v.py`` takes out of a turn to leave voicefn's own share)."""

from __future__ import annotations

import time

import httpx
from dashscope.audio.tts_v2 import SpeechSynthesizer

from tests.voicefn_local.dashscope.chat_helpers import post_chat, script_header
from tests.voicefn_local.dashscope.ds_helpers import admin, set_faults


def call_times(emulator) -> list[dict]:  # type: ignore[no-untyped-def]
    return httpx.get(f"{emulator.base_url}/_admin/call-times", headers=admin(emulator)).json()["calls"]


def test_tts_task_start_and_first_frame_on_the_callers_clock(sdk, emulator) -> None:
    set_faults(emulator, [{"match": {"api": "tts_ws"}, "fault": {"kind": "latency", "latency_ms": 200}}])
    before = time.monotonic()
    audio = SpeechSynthesizer(model="cosyvoice-v3-flash", voice="longanyang").call("你好。世界。")
    after = time.monotonic()
    assert audio
    started, first_frame = [c for c in call_times(emulator) if c["api"] == "tts_ws"]
    assert before <= started["start"] < started["end"] <= first_frame["start"] < first_frame["end"] <= after
    assert started["end"] - started["start"] >= 0.2  # the injected wait is the emulator's time


def test_chat_marks_each_token(emulator) -> None:
    before = time.monotonic()
    response = post_chat(emulator, {"model": "qwen-plus", "stream": True,
                                    "messages": [{"role": "user", "content": "hi"}]},
                         headers=script_header(tokens=["One", " two", " three."], first_token_ms=150,
                                               token_delay_ms=20))
    after = time.monotonic()
    assert response.status_code == 200
    (call,) = [c for c in call_times(emulator) if c["api"] == "chat"]
    marks = call["marks"]
    assert len(marks) == 3 and marks == sorted(marks)
    assert before <= call["start"] and marks[0] - call["start"] >= 0.15 and call["end"] == marks[-1] <= after


def test_clear(sdk, emulator) -> None:
    SpeechSynthesizer(model="cosyvoice-v3-flash", voice="longanyang").call("你好。")
    assert call_times(emulator)
    assert httpx.delete(f"{emulator.base_url}/_admin/call-times", headers=admin(emulator)).json() == {"calls": []}
    assert call_times(emulator) == []
