"""Barge-in on /v1/chat/audio: a new question mid-reply stops the first reply's upstream work."""

from __future__ import annotations

import json
import time

import pytest

from tests.functions.chat.helpers import chat_calls, script
from tests.functions.chat.realtime.helpers import open_socket, packets, recv, send_all, until
from tests.stack import Stack
from tests.voicefn.asr.conftest import wav

pytestmark = pytest.mark.usefixtures("no_faults")
LONG = " ".join(f"Sentence number {n} of a very long answer." for n in range(200))


def test_a_second_question_cancels_the_first_reply_and_is_answered(stack: Stack) -> None:
    script(stack, {"reply": LONG, "token_delay_ms": 20, "when_contains": "audio of 1.3 seconds"},
           {"reply": "Short second answer.", "when_contains": "audio of 1.6 seconds"})
    before = stack.stats()
    with open_socket(stack, "/v1/chat/audio", "rt-barge") as ws:
        assert recv(ws)[0] == "connected"
        send_all(ws, packets(wav(1.3)))
        while True:  # the first reply is speaking
            name, data = recv(ws)
            if name == "audio_stream":
                break
        second = packets(wav(1.6))
        ws.send(json.dumps(second[0]))
        late = []
        while (event := recv(ws))[0] != "packet_ack":  # what the first reply had sent already
            late.append(event[0])
        assert "chat_tts_complete" not in late and "audio_complete" not in late
        send_all(ws, second[1:])
        events = until(ws, "audio_complete")
    assert dict(events)["audio_complete"]["assistant_response"] == "Short second answer."
    assert "chat_tts_complete" in [n for n, _ in events]
    calls = chat_calls(stack)
    first = [c for c in calls if c["finish"] == "cancelled"]
    assert len(first) == 1 and calls[-1]["finish"] == "stop"  # the first LLM stream was closed upstream
    assert 0 < first[0]["tokens"] < len(LONG.split()) / 2
    deadline = time.monotonic() + 5
    while stack.stats()["chat_active"] and time.monotonic() < deadline:
        time.sleep(0.05)
    after = stack.stats()
    assert after["chat_active"] == 0 and after["chat_cancelled"] == before["chat_cancelled"] + 1
    # the first reply's syntheses stopped too: far fewer sentences were spoken than it had
    assert after["tts_ws_tasks"] - before["tts_ws_tasks"] < 30
