"""Compatible-mode chat with the scripted engine, through the official openai client."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import openai
import pytest

from tests.voicefn_local.dashscope.chat_helpers import (HELLO, chat_calls, client, post_chat, script_header,
                                                        set_scripts, sse_events, stats)
from tests.voicefn_local.dashscope.ds_helpers import admin
from voicefn_local.dashscope import EmulatorConfig, create_dashscope_app
from voicefn_local.engines.llm_scripted import PRESETS
from voicefn_local.servers import ServerHandle, run_in_thread


@pytest.fixture(scope="module")
def emulator() -> Iterator[ServerHandle]:
    config = EmulatorConfig(engine="deterministic", data_dir=None)
    assert config.llm_engine == "scripted"  # a deterministic emulator scripts its chat too
    with run_in_thread(create_dashscope_app(config)) as server:
        yield server


@pytest.fixture(autouse=True)
def _clean(emulator: ServerHandle) -> None:
    set_scripts(emulator, [])


async def test_plain_completion_echoes_the_question_with_usage(emulator) -> None:
    reply = await client(emulator).chat.completions.create(
        model="qwen-plus", messages=[{"role": "system", "content": "Be brief."},
                                     {"role": "user", "content": "What is the weather in Changsha?"}])
    assert reply.object == "chat.completion" and reply.model == "qwen-plus"
    assert reply.id.startswith("chatcmpl-")
    choice = reply.choices[0]
    assert choice.finish_reason == "stop" and choice.message.role == "assistant"
    assert choice.message.content.startswith("You said: What is the weather in Changsha?")
    usage = reply.usage
    assert usage.completion_tokens > 5 and usage.prompt_tokens > 5
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


async def test_streamed_markdown_emoji_and_code_arrive_token_by_token_with_usage(emulator) -> None:
    stream = await client(emulator).chat.completions.create(
        model="qwen3-max", messages=HELLO, stream=True, stream_options={"include_usage": True},
        extra_headers=script_header(preset="markdown", token_delay_ms=2))
    chunks = [chunk async for chunk in stream]
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == PRESETS["markdown"]  # markdown, emoji and a code block, unchanged
    pieces = [c for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(pieces) > 30  # streamed, not one blob
    finals = [c for c in chunks if c.choices and c.choices[0].finish_reason]
    assert [c.choices[0].finish_reason for c in finals] == ["stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == len(pieces)
    assert all(c.usage is None for c in chunks[:-1])


def test_raw_stream_ends_with_done_and_omits_usage_unless_asked(emulator) -> None:
    response = post_chat(emulator, {"model": "qwen-turbo", "messages": HELLO, "stream": True},
                         script_header(reply="One. Two.", token_delay_ms=0))
    assert response.headers["content-type"].startswith("text/event-stream")
    events = sse_events(response.text)
    assert events[-1] == "[DONE]"
    assert all(e["choices"] for e in events[:-1])  # no usage chunk
    assert "".join(e["choices"][0]["delta"].get("content", "") for e in events[:-1]) == "One. Two."


async def test_tokens_follow_the_scripted_pace(emulator) -> None:
    tokens = [f" t{i}" for i in range(10)]
    start = time.monotonic()
    stream = await client(emulator).chat.completions.create(
        model="qwen-plus", messages=HELLO, stream=True,
        extra_headers=script_header(tokens=tokens, tokens_per_s=40, first_token_ms=200))
    arrivals = []
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            arrivals.append(time.monotonic() - start)
    assert len(arrivals) == 10
    assert arrivals[0] >= 0.2
    assert arrivals[-1] - arrivals[0] >= 9 / 40 * 0.9  # 25 ms apart


async def test_admin_scripts_match_by_question_and_are_used_up(emulator) -> None:
    set_scripts(emulator, [{"reply": "你好！长沙欢迎你。", "when_contains": "Chinese", "times": 1},
                           {"preset": "ten_sentences", "token_delay_ms": 0}])
    chat = client(emulator).chat.completions
    first = await chat.create(model="qwen-max", messages=[{"role": "user", "content": "Chinese please"}])
    assert first.choices[0].message.content == "你好！长沙欢迎你。"
    assert first.usage.completion_tokens == 9  # one per CJK character and mark
    second = await chat.create(model="qwen-max", messages=[{"role": "user", "content": "Chinese please"}])
    assert second.choices[0].message.content == PRESETS["ten_sentences"]
    listed = httpx.get(f"{emulator.base_url}/_admin/chat-scripts", headers=admin(emulator)).json()["scripts"]
    assert [s["remaining"] for s in listed] == [0, None]


async def test_max_tokens_and_stop(emulator) -> None:
    chat = client(emulator).chat.completions
    header = script_header(reply="Alpha beta gamma delta epsilon.", token_delay_ms=0)
    short = await chat.create(model="qwen-plus", messages=HELLO, max_tokens=3, extra_headers=header)
    assert short.choices[0].message.content == "Alpha beta gamma"
    assert short.choices[0].finish_reason == "length" and short.usage.completion_tokens == 3
    stopped = await chat.create(model="qwen-plus", messages=HELLO, stop=["ma del"], extra_headers=header)
    assert stopped.choices[0].message.content == "Alpha beta gam"
    assert stopped.choices[0].finish_reason == "stop"
    stream = await chat.create(model="qwen-plus", messages=HELLO, stop="delta", stream=True, extra_headers=header)
    text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text == "Alpha beta gamma "


async def test_sampling_parameters_are_accepted_and_content_parts_read(emulator) -> None:
    reply = await client(emulator).chat.completions.create(
        model="qwen3-32b", temperature=0.7, top_p=0.8, seed=3, user="u1",
        messages=[{"role": "user", "content": [{"type": "text", "text": "Parts "}, {"type": "text", "text": "work"}]}])
    assert reply.choices[0].message.content.startswith("You said: Parts work")


async def test_errors_in_openai_shape(emulator) -> None:
    chat = client(emulator).chat.completions
    with pytest.raises(openai.AuthenticationError) as bad_key:
        await client(emulator, key="sk-invalid").chat.completions.create(model="qwen-plus", messages=HELLO)
    assert bad_key.value.status_code == 401 and bad_key.value.code == "invalid_api_key"
    with pytest.raises(openai.NotFoundError) as unknown:
        await chat.create(model="gpt-4o", messages=HELLO)
    assert unknown.value.code == "model_not_found"
    bad_bodies = [dict(messages=[]), dict(messages=HELLO, temperature=2.5), dict(messages=HELLO, top_p=0),
                  dict(messages=HELLO, max_tokens=0), dict(messages=[{"role": "wizard", "content": "x"}]),
                  dict(messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]),
                  dict(messages=HELLO, stop=["a", "b", "c", "d", "e"])]
    for body in bad_bodies:
        with pytest.raises(openai.BadRequestError) as bad:
            await chat.create(model="qwen-plus", **body)
        assert bad.value.code == "invalid_parameter_error", body
        assert bad.value.body["message"]
    raw = post_chat(emulator, {"model": "qwen-plus", "messages": HELLO},
                    {"X-Fake-Chat-Script": "{not json"})
    assert raw.status_code == 400 and "X-Fake-Chat-Script" in raw.json()["error"]["message"]


def test_every_call_is_counted_and_logged(emulator) -> None:
    before = stats(emulator)
    post_chat(emulator, {"model": "qwen-plus", "messages": HELLO}, script_header(reply="Hi.", token_delay_ms=0))
    post_chat(emulator, {"model": "qwen-plus", "messages": []})
    after = stats(emulator)
    assert after["chat_calls"] - before["chat_calls"] == 2
    assert after["chat_generations"] - before["chat_generations"] == 1
    assert after["chat_completed"] - before["chat_completed"] == 1
    assert after["chat_active"] == 0
    last = chat_calls(emulator)[-1]
    assert last["finish"] == "stop" and last["tokens"] == 2 and last["scripted"] is True
    assert last["engine"] == "scripted" and last["ended_at"] >= last["started_at"]


def test_admin_routes_need_the_token_and_check_scripts(emulator) -> None:
    url = f"{emulator.base_url}/_admin/chat-scripts"
    assert httpx.post(url, json=[]).status_code == 401
    for bad in ([{"preset": "nope"}], [{"reply": "x", "colour": "red"}], {"scripts": 3}, [{"tokens_per_s": 0}]):
        response = httpx.post(url, json=bad, headers=admin(emulator))
        assert response.status_code == 400, bad
