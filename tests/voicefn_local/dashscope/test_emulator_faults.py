"""Fault injection: every kind observable, by rule table and by per-request header."""

from __future__ import annotations

import time

import httpx
import pytest
import websockets
from dashscope import MultiModalConversation
from dashscope.audio.tts_v2 import SpeechSynthesizer
from dashscope.common.error import RequestFailure

from tests.voicefn_local.dashscope.ds_helpers import (WsSession, continue_task, event_kind,
                                                      admin, finish_task, run_task, set_faults, stats)

COSY_URL = "/api/v1/services/audio/tts/SpeechSynthesizer"
QWEN_URL = "/api/v1/services/aigc/multimodal-generation/generation"
KEY = {"Authorization": "Bearer sk-test"}
COSY_BODY = {"model": "cosyvoice-v3-flash",
             "input": {"text": "你好。世界。", "voice": "longanyang", "format": "wav",
                       "sample_rate": 24000}}


def rule(kind: str, **match_and_fault: object) -> dict:
    match = {k: v for k, v in match_and_fault.items()
             if k in ("api", "model", "voice", "text_contains")}
    fault = {k: v for k, v in match_and_fault.items() if k not in match}
    return {"match": match, "fault": {"kind": kind, **fault}}


# ---- WebSocket --------------------------------------------------------------------------

def test_ws_throttle_and_error_fail_the_task(sdk, emulator) -> None:
    set_faults(emulator, [rule("throttle", api="tts_ws", times=1),
                          rule("error", api="tts_ws", times=1)])
    for expected in ("Throttling.RateQuota", "InternalError"):
        with pytest.raises(RequestFailure) as failure:
            SpeechSynthesizer(model="cosyvoice-v3-flash", voice="longanyang").call("你好")
        assert failure.value.name == expected
    assert SpeechSynthesizer(model="cosyvoice-v3-flash", voice="longanyang").call("你好")
    assert stats(emulator)["faults_applied"] == 2


def test_ws_latency_delays_the_start(sdk, emulator) -> None:
    set_faults(emulator, [rule("latency", api="tts_ws", latency_ms=400)])
    synthesizer = SpeechSynthesizer(model="cosyvoice-v3-flash", voice="longanyang")
    started = time.monotonic()
    assert synthesizer.call("你好")
    assert time.monotonic() - started >= 0.4
    assert synthesizer.get_first_package_delay() >= 400


async def test_ws_first_audio_latency_counts_from_the_text_not_the_start(emulator) -> None:
    """A task started long before its text still waits the latency after the text."""
    import asyncio

    set_faults(emulator, [rule("first_audio_latency", api="tts_ws", latency_ms=400)])
    async with WsSession(emulator) as session:
        started = time.monotonic()
        await session.send(run_task("t"))
        assert event_kind(await session.recv()) == "task-started"
        assert time.monotonic() - started < 0.3  # the start is not delayed
        await asyncio.sleep(0.5)  # longer than the latency, before any text
        texted = time.monotonic()
        await session.send(continue_task("t", "你好。"))
        await session.send(finish_task("t"))
        while event_kind(await session.recv()) != "audio":
            pass
        assert time.monotonic() - texted >= 0.4
        await session.until("task-finished")


def test_ws_fault_from_the_handshake_header(sdk) -> None:
    synthesizer = SpeechSynthesizer(model="cosyvoice-v3-flash", voice="longanyang",
                                    headers={"X-Fake-Fault": "throttle"})
    with pytest.raises(RequestFailure) as failure:
        synthesizer.call("你好")
    assert failure.value.name == "Throttling.RateQuota"


def test_ws_slow_frames(sdk, emulator) -> None:
    set_faults(emulator, [rule("slow_frames", api="tts_ws", frame_delay_ms=100)])
    started = time.monotonic()
    SpeechSynthesizer(model="cosyvoice-v3-flash", voice="longanyang").call("你好。")  # 1 s: 7 frames
    assert time.monotonic() - started >= 0.6


async def test_ws_task_failed_after_some_audio(emulator) -> None:
    set_faults(emulator, [rule("task_failed", api="tts_ws", model="cosyvoice-v3-flash")])
    async with WsSession(emulator) as session:
        await session.send(run_task("t"))
        await session.recv()
        await session.send(continue_task("t", "你好，世界。"))
        messages = await session.until("task-failed")
    assert "audio" in [event_kind(m) for m in messages]
    assert messages[-1]["header"]["error_code"] == "InternalError.Algo"


async def test_ws_drop_closes_without_a_close_frame(emulator) -> None:
    set_faults(emulator, [rule("drop", api="tts_ws", voice="longanyang")])
    async with WsSession(emulator) as session:
        await session.send(run_task("t"))
        await session.recv()
        await session.send(continue_task("t", "你好，世界。"))
        await session.send(finish_task("t"))
        received = []
        with pytest.raises(websockets.ConnectionClosedError) as closed:
            while True:
                received.append(await session.recv())
    assert any(isinstance(m, bytes) for m in received)
    assert closed.value.rcvd is None  # abrupt: no close frame from the server


async def test_ws_text_contains_rule_strikes_on_matching_text_only(emulator) -> None:
    set_faults(emulator, [rule("error", api="tts_ws", text_contains="坏")])
    async with WsSession(emulator) as session:
        await session.send(run_task("ok"))
        await session.recv()
        await session.send(continue_task("ok", "好的。"))
        await session.send(finish_task("ok"))
        assert event_kind((await session.until("task-finished"))[-1]) == "task-finished"
        await session.send(run_task("bad"))
        await session.recv()
        await session.send(continue_task("bad", "坏的。"))
        failed = (await session.until("task-failed"))[-1]
    assert failed["header"]["error_code"] == "InternalError"


# ---- HTTP -------------------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "status", "code"),
                         [("throttle", 429, "Throttling.RateQuota"), ("error", 500, "InternalError"),
                          ("task_failed", 500, "InternalError.Algo")])
def test_http_header_faults(emulator, kind: str, status: int, code: str) -> None:
    response = httpx.post(f"{emulator.base_url}{COSY_URL}", json=COSY_BODY,
                          headers={**KEY, "X-Fake-Fault": kind})
    assert response.status_code == status
    assert response.json()["code"] == code


def test_http_latency(emulator) -> None:
    started = time.monotonic()
    response = httpx.post(f"{emulator.base_url}{COSY_URL}", json=COSY_BODY,
                          headers={**KEY, "X-Fake-Fault": "latency; latency_ms=300"})
    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3


def test_http_drop_truncates_the_response(emulator) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(f"{emulator.base_url}{COSY_URL}", json=COSY_BODY,
                   headers={**KEY, "X-Fake-Fault": "drop"})


def _sse(emulator, body: dict, fault: str) -> httpx.Response:
    return httpx.post(f"{emulator.base_url}{COSY_URL}", json=body,
                      headers={**KEY, "X-DashScope-SSE": "enable", "X-Fake-Fault": fault})


def test_sse_task_failed_sends_an_error_event_after_audio(emulator) -> None:
    text = _sse(emulator, COSY_BODY, "task_failed").text
    assert text.count("event:result") == 1
    assert "event:error" in text and "InternalError.Algo" in text


def test_sse_drop_cuts_the_stream(emulator) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        _sse(emulator, COSY_BODY, "drop")


def test_sse_slow_frames(emulator) -> None:
    started = time.monotonic()
    text = _sse(emulator, COSY_BODY, "slow_frames; frame_delay_ms=50").text
    chunks = text.count("event:result")
    assert chunks >= 10 and time.monotonic() - started >= 0.05 * (chunks - 1)


def test_qwen_rule_reaches_the_sdk(sdk, emulator) -> None:
    set_faults(emulator, [rule("throttle", api="qwen_tts", voice="Cherry", times=2)])
    for _ in range(2):
        response = MultiModalConversation.call(model="qwen3-tts-flash", text="你好", voice="Cherry")
        assert response.status_code == 429 and response.code == "Throttling.RateQuota"
    response = MultiModalConversation.call(model="qwen3-tts-flash", text="你好", voice="Cherry")
    assert response.status_code == 200
    assert stats(emulator)["qwen_tts"] == 3


def test_http_client_disconnect_stops_sse_synthesis(emulator) -> None:
    body = {**COSY_BODY, "input": {**COSY_BODY["input"], "text": "这是一个句子。" * 40}}
    with httpx.stream("POST", f"{emulator.base_url}{COSY_URL}", json=body,
                      headers={**KEY, "X-DashScope-SSE": "enable",
                               "X-Fake-Fault": "slow_frames; frame_delay_ms=10"}) as response:
        next(response.iter_lines())
    time.sleep(0.3)
    calls = stats(emulator)["engine_calls"]
    time.sleep(0.5)
    assert stats(emulator)["engine_calls"] == calls <= 2


# ---- admin ------------------------------------------------------------------------------

def test_admin_fault_routes(emulator) -> None:
    base = f"{emulator.base_url}/_admin/faults"
    token = admin(emulator)
    assert httpx.post(base, json=[{"fault": {"kind": "meteor"}}], headers=token).status_code == 400
    assert httpx.post(base, json={"fault": {"kind": "error"}}, headers=token).status_code == 400  # not a list
    response = httpx.post(base, json={"rules": [rule("error", api="tts_http", times=3)]}, headers=token)
    assert response.status_code == 200
    listed = httpx.get(base, headers=token).json()["rules"]
    assert listed == [{"match": {"api": "tts_http"},
                       "fault": {"kind": "error", "latency_ms": 1000, "frame_delay_ms": 200,
                                 "times": 3},
                       "remaining": 3}]
    httpx.post(f"{emulator.base_url}{COSY_URL}", json=COSY_BODY, headers=KEY)
    assert httpx.get(base, headers=token).json()["rules"][0]["remaining"] == 2
    assert httpx.delete(base, headers=token).json() == {"rules": []}
    assert httpx.post(f"{emulator.base_url}{COSY_URL}", json=COSY_BODY,
                      headers=KEY).status_code == 200


def test_bad_fault_header_is_a_400(emulator) -> None:
    response = httpx.post(f"{emulator.base_url}{COSY_URL}", json=COSY_BODY,
                          headers={**KEY, "X-Fake-Fault": "meteor"})
    assert response.status_code == 400 and response.json()["code"] == "InvalidParameter"
