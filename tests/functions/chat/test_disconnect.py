"""A client that goes away in the middle of a spoken reply stops the LLM stream and every
synthesis of the turn (the embedded DashScope's counters show the upstream calls stop)."""

from __future__ import annotations

import time
import uuid

import pytest

from tests.functions.chat.helpers import chat_calls, leave_mid_stream, script
from tests.stack import Stack

pytestmark = pytest.mark.usefixtures("no_faults")


def wait_until(check, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


@pytest.mark.parametrize("mode", ["audio", "tts"])
def test_disconnect_stops_llm_and_tts(stack: Stack, mode: str) -> None:
    tag = uuid.uuid4().hex[:6]
    reply = " ".join(f"Sentence {n} of {tag} goes on for a little while." for n in range(1, 21))
    script(stack, {"reply": reply, "when_contains": tag, "tokens_per_s": 25})
    stack.set_faults([{"match": {"api": "tts_ws", "text_contains": tag},
                       "fault": {"kind": "slow_frames", "frame_delay_ms": 150}}])
    spoken = ({"modalities": ["text", "audio"], "audio": {"voice": "alloy", "format": "mp3"}} if mode == "audio"
              else {"tts_enabled": True})
    body = {"model": "qwen-plus", "messages": [{"role": "user", "content": tag}], "stream": True, **spoken}
    before = stack.stats()
    with stack.client(f"disconnect-{mode}") as client:
        # a synthesis has started and the reply is far from done: leave
        leave_mid_stream(client, body, events=3,
                         ready=lambda: stack.stats()["tts_ws_tasks"] > before["tts_ws_tasks"])
    # the LLM generation was cancelled, not finished
    wait_until(lambda: stack.stats()["chat_active"] == 0)
    call = [c for c in chat_calls(stack) if c["scripted"]][-1]
    assert call["finish"] == "cancelled"
    assert call["tokens"] < len(reply.split())
    after = stack.stats()
    assert after["chat_cancelled"] - before["chat_cancelled"] == 1
    # no synthesis starts after the disconnect, and the ones running were stopped
    time.sleep(1.5)
    later = stack.stats()
    assert later["tts_ws_tasks"] == after["tts_ws_tasks"]
    assert later["tts_ws_tasks"] - before["tts_ws_tasks"] < 20
    import httpx

    wait_until(lambda: httpx.get(f"{stack.base_url}/cache/stats").json()["in_flight"] == 0)
