"""Compatible-mode chat under injected faults, and a gone client stopping the generation."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import openai
import pytest

from tests.voicefn_local.dashscope.chat_helpers import (CHAT_URL, HELLO, KEY, chat_calls, client, post_chat,
                                                        script_header, set_scripts, sse_events, stats, wait_for)
from tests.voicefn_local.dashscope.ds_helpers import set_faults
from voicefn_local.dashscope import EmulatorConfig, create_dashscope_app
from voicefn_local.servers import ServerHandle, run_in_thread

LONG = script_header(tokens=[f" word{i}" for i in range(400)], token_delay_ms=10)  # 4 s


@pytest.fixture(scope="module")
def emulator() -> Iterator[ServerHandle]:
    with run_in_thread(create_dashscope_app(EmulatorConfig(engine="deterministic", data_dir=None))) as server:
        yield server


@pytest.fixture(autouse=True)
def _clean(emulator: ServerHandle) -> None:
    set_faults(emulator, [])
    set_scripts(emulator, [])


def chat_rule(kind: str, **fault: object) -> dict:
    return {"match": {"api": "chat"}, "fault": {"kind": kind, **fault}}


async def test_throttle_and_error_answer_429_and_500(emulator) -> None:
    set_faults(emulator, [chat_rule("throttle", times=1), chat_rule("error", times=1)])
    chat = client(emulator).chat.completions
    with pytest.raises(openai.RateLimitError) as throttled:
        await chat.create(model="qwen-plus", messages=HELLO)
    assert throttled.value.code == "limit_requests"
    with pytest.raises(openai.InternalServerError) as failed:
        await chat.create(model="qwen-plus", messages=HELLO, stream=True)
    assert failed.value.code == "internal_error"
    assert (await chat.create(model="qwen-plus", messages=HELLO)).choices[0].message.content  # used up


def test_header_fault_and_model_match(emulator) -> None:
    set_faults(emulator, [{"match": {"api": "chat", "model": "qwen-max"}, "fault": {"kind": "throttle"}}])
    assert post_chat(emulator, {"model": "qwen-max", "messages": HELLO}).status_code == 429
    assert post_chat(emulator, {"model": "qwen-plus", "messages": HELLO}).status_code == 200
    assert post_chat(emulator, {"model": "qwen-plus", "messages": HELLO}, {"X-Fake-Fault": "error"}).status_code == 500


async def test_latency_delays_the_first_token(emulator) -> None:
    set_faults(emulator, [chat_rule("latency", latency_ms=400, times=1)])
    start = time.monotonic()
    stream = await client(emulator).chat.completions.create(
        model="qwen-plus", messages=HELLO, stream=True, extra_headers=script_header(reply="Hi.", token_delay_ms=0))
    first = None
    async for chunk in stream:
        if first is None and chunk.choices and chunk.choices[0].delta.content:
            first = time.monotonic() - start
    assert first is not None and first >= 0.4


def test_slow_frames_space_out_the_tokens(emulator) -> None:
    header = {**script_header(tokens=["a", "b", "c", "d"], token_delay_ms=0),
              "X-Fake-Fault": "slow_frames; frame_delay_ms=100"}
    start = time.monotonic()
    response = post_chat(emulator, {"model": "qwen-plus", "messages": HELLO}, header)
    assert response.json()["choices"][0]["message"]["content"] == "abcd"
    assert time.monotonic() - start >= 0.4


def test_task_failed_breaks_the_stream_visibly_and_fails_a_plain_call(emulator) -> None:
    header = {**script_header(reply="One two three.", token_delay_ms=0), "X-Fake-Fault": "task_failed"}
    events = sse_events(post_chat(emulator, {"model": "qwen-plus", "messages": HELLO, "stream": True}, header).text)
    assert events[-1]["error"]["code"] == "internal_error" and "[DONE]" not in events
    assert events[-2]["choices"][0]["delta"]["content"] == "One"
    plain = post_chat(emulator, {"model": "qwen-plus", "messages": HELLO}, header)
    assert plain.status_code == 500 and plain.json()["error"]["code"] == "internal_error"


async def test_drop_cuts_the_connection(emulator) -> None:
    set_faults(emulator, [chat_rule("drop", times=2)])
    chat = client(emulator).chat.completions
    with pytest.raises(openai.APIError):  # the body ends mid-way: the stream cannot be finished
        stream = await chat.create(model="qwen-plus", messages=HELLO, stream=True)
        async for _ in stream:
            pass
    with pytest.raises((openai.APIConnectionError, openai.APIError)):
        await chat.create(model="qwen-plus", messages=HELLO)


def _generation_stopped(emulator: ServerHandle, before: dict) -> None:
    wait_for(lambda: stats(emulator)["chat_cancelled"] == before["chat_cancelled"] + 1)
    after = stats(emulator)
    assert after["chat_active"] == 0
    time.sleep(0.3)  # nothing generated after the stop
    assert stats(emulator)["chat_tokens"] == after["chat_tokens"]
    assert after["chat_tokens"] - before["chat_tokens"] < 100  # of 400
    assert chat_calls(emulator)[-1]["finish"] == "cancelled"


def test_a_disconnect_stops_a_streamed_generation(emulator) -> None:
    before = stats(emulator)
    body = {"model": "qwen-plus", "messages": HELLO, "stream": True}
    with httpx.Client(timeout=10) as http:
        with http.stream("POST", f"{emulator.base_url}{CHAT_URL}", json=body, headers={**KEY, **LONG}) as response:
            lines = response.iter_lines()
            got = [line for _, line in zip(range(10), lines)]
            assert any('"word2"' in line or "word2" in line for line in got)
    _generation_stopped(emulator, before)


def test_a_disconnect_stops_a_plain_generation(emulator) -> None:
    before = stats(emulator)
    body = {"model": "qwen-plus", "messages": HELLO}

    def impatient() -> None:
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(f"{emulator.base_url}{CHAT_URL}", json=body, headers={**KEY, **LONG}, timeout=0.3)

    thread = threading.Thread(target=impatient)
    thread.start()
    thread.join()
    _generation_stopped(emulator, before)
