"""seed 002's WS /v1/chat/audio on the local stack (deterministic engines, scripted LLM)."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest

from tests.functions.chat.helpers import script
from tests.functions.chat.realtime.helpers import audio_of, names, open_socket, packets, recv, send_all, until
from tests.stack import Stack
from tests.voicefn.asr.conftest import wav
from voicefn.audio.probe import audio_info

pytestmark = pytest.mark.usefixtures("no_faults")
REPLY = "Hello from Changsha. The weather is mild today, and the food is spicy."


def test_a_spoken_question_gets_every_seed_002_event_and_one_mp3(stack: Stack) -> None:
    script(stack, {"reply": REPLY, "when_contains": "audio of 2.5 seconds"})
    question = wav(2.5)
    with open_socket(stack, "/v1/chat/audio", "rt-flow") as ws:
        name, connected = recv(ws)
        assert name == "connected" and connected["message"] and connected["session_id"]
        acks = send_all(ws, packets(question))
        assert [a["received"] for a in acks] == list(range(1, len(acks) + 1))
        assert all(a["total"] == len(acks) for a in acks) and len(acks) > 1
        events = until(ws, "audio_complete")
    assert names(events) == ["transcription_started", "chat_started", "chat_chunk", "tts_started"] + \
        names(events)[4:] and names(events)[-4:] == ["audio_stream:data", "audio_stream:finished",
                                                     "chat_tts_complete", "audio_complete"]
    started = dict(events)["chat_started"]
    assert started["user_message"] == "audio of 2.5 seconds"
    chunks = [d for n, d in events if n == "chat_chunk"]
    assert len(chunks) > 3 and "".join(c["chunk"] for c in chunks) == REPLY == chunks[-1]["full_response"]
    mp3 = audio_of(events)
    info = audio_info(mp3)
    assert info.format == "mp3" and info.duration > 2
    done = dict(events)["chat_tts_complete"]
    assert done["assistant_response"] == REPLY and done["tts_success"] is True and done["db_saved"] is True
    assert done["segments_count"] == done["total_segments"] >= 2
    complete = dict(events)["audio_complete"]
    assert set(complete) == {"message", "filename", "filepath", "size", "packets", "duration", "oss_uploaded",
                             "oss_url", "transcription_success", "transcription_text", "chat_success",
                             "assistant_response", "tts_success"}
    assert complete["size"] == len(question) and complete["packets"] == len(acks)
    assert complete["duration"] == pytest.approx(2.5, abs=0.05)
    assert complete["transcription_text"] == "audio of 2.5 seconds" and complete["assistant_response"] == REPLY
    assert stack.fetch(complete["oss_url"]) == question
    assert dict(events)["transcription_started"]["oss_url"] == complete["oss_url"]
    items, _ = asyncio.run(stack.services.state.list_history("rt-flow", type="chat"))
    assert len(items) == 1 and items[0]["output_text"] == REPLY and float(items[0]["bill"]) > 0
    assert items[0]["output_key"] == complete["filepath"] and items[0]["completion_tokens"] > 0
    assert items[0]["characters"] > 0 and "audio of 2.5 seconds" in items[0]["input_data"]


def test_two_turns_on_one_connection_and_duplicates_are_not_counted(stack: Stack) -> None:
    script(stack, {"reply": "First answer.", "when_contains": "audio of 1.2 seconds"},
           {"reply": "Second answer.", "when_contains": "audio of 1.4 seconds"})
    with open_socket(stack, "/v1/chat/audio", "rt-turns", header=True) as ws:
        assert recv(ws)[0] == "connected"
        first = packets(wav(1.2))
        send_all(ws, first[:1])
        assert send_all(ws, first[:1]) == [{"seq": 1, "received": 1, "total": len(first)}]  # a resend
        send_all(ws, first[1:])
        one = until(ws, "audio_complete")
        send_all(ws, packets(wav(1.4)))
        two = until(ws, "audio_complete")
    assert dict(one)["audio_complete"]["assistant_response"] == "First answer."
    assert dict(one)["audio_complete"]["packets"] == len(first)
    assert dict(two)["audio_complete"]["assistant_response"] == "Second answer."


def test_no_token_is_refused_before_connected(stack: Stack) -> None:
    with open_socket(stack, "/v1/chat/audio", None) as ws:
        name, data = recv(ws)
        assert name == "error" and data["message"]
        with pytest.raises(Exception):
            ws.recv(timeout=5)
    assert ws.close_code == 1008


def test_bad_packets_get_error_events_and_the_socket_lives_on(stack: Stack) -> None:
    script(stack, {"reply": "Still here.", "when_contains": "audio of 1.1 seconds"})
    good = packets(wav(1.1))
    with open_socket(stack, "/v1/chat/audio", "rt-bad") as ws:
        assert recv(ws)[0] == "connected"
        for bad in ["not json", json.dumps([1]), json.dumps({"seq": 1, "total": 2, "data": "@@@"}),
                    json.dumps({"seq": 1, "total": 2, "data": base64.b64encode(b"x" * 9000).decode()}),
                    json.dumps({"seq": 0, "total": 2, "data": "AAAA"})]:
            ws.send(bad)
            name, data = recv(ws)
            assert name == "error" and data["message"], bad
        ws.send(json.dumps(good[1])) if len(good) > 1 else None
        if len(good) > 1:
            name, data = recv(ws)
            assert name == "error" and "before packet 1" in data["message"]  # a gap
        send_all(ws, good)
        assert dict(until(ws, "audio_complete"))["audio_complete"]["assistant_response"] == "Still here."
        send_all(ws, packets(b"this is not audio at all" * 10))
        name, data = recv(ws)
        assert name == "error" and "audio" in data["message"]


def test_the_time_limit_is_an_error_event_then_a_clean_close(stack: Stack, settings_override) -> None:
    settings_override(realtime_max_s=1.5)
    with open_socket(stack, "/v1/chat/audio", "rt-limit") as ws:
        assert recv(ws)[0] == "connected"
        name, data = recv(ws, timeout=10)
        assert name == "error" and "time limit (1.5 s)" in data["message"]
        with pytest.raises(Exception):
            ws.recv(timeout=5)
    assert ws.close_code == 1000


def test_an_upstream_failure_is_an_error_event_and_the_next_question_is_answered(stack: Stack) -> None:
    script(stack, {"reply": "Back again.", "when_contains": "audio of 1.8 seconds"})
    stack.set_faults([{"match": {"api": "asr_sync"}, "fault": {"kind": "error"}}])  # retries fail too
    with open_socket(stack, "/v1/chat/audio", "rt-upstream") as ws:
        assert recv(ws)[0] == "connected"
        send_all(ws, packets(wav(1.7)))
        assert recv(ws)[0] == "transcription_started"
        name, data = recv(ws)
        assert name == "error" and data["message"]
        stack.clear_faults()
        send_all(ws, packets(wav(1.8)))
        assert dict(until(ws, "audio_complete"))["audio_complete"]["assistant_response"] == "Back again."
    items, _ = asyncio.run(stack.services.state.list_history("rt-upstream", type="chat"))
    assert len(items) == 1  # the failed turn is neither recorded nor billed
