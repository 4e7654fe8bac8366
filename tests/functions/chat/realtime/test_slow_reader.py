"""A 10-minute spoken reply to a client that reads slowly: every byte arrives, as one MP3 of the
right length, and the server waits for the reader instead of piling the audio up (seed 002's
open problem: a fast TTS overflowed its queue and audio was lost)."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.functions.chat.helpers import script
from tests.functions.chat.realtime.helpers import audio_of, open_socket, packets, recv, send_all
from tests.stack import Stack
from tests.voicefn.asr.conftest import wav
from voicefn.audio.probe import audio_info

pytestmark = [pytest.mark.usefixtures("no_faults"), pytest.mark.timeout(300)]
SENTENCE = "This is sentence {n:03d} of a reply that goes on for ten whole minutes."  # 71 characters
# 86 x 71 x 0.2 s (the deterministic voice) = 20 min: twice the 10 minutes asked for, so that the
# part synthesized ahead of a stalled reader (bounded queues plus the kernel's socket buffers, about
# MB of MP3 on localhost) is visibly a bounded amount, not "everything"
COUNT = 86


def test_ten_minutes_to_a_slow_reader_arrive_whole(stack: Stack) -> None:
    reply = " ".join(SENTENCE.format(n=n) for n in range(COUNT))
    script(stack, {"reply": reply, "token_delay_ms": 0, "when_contains": "audio of 1.9 seconds"})
    events: list = []
    with open_socket(stack, "/v1/chat/audio", "rt-slow", receive_buffer=64 * 1024) as ws:
        assert recv(ws)[0] == "connected"
        send_all(ws, packets(wav(1.9)))
        while recv(ws)[0] != "tts_started":
            pass
        before = stack.stats()["characters"]
        # the reader stalls: the server must stop once its bounded queues and the socket's buffers
        # are full, not synthesize the rest into memory
        readings = [-1]
        for _ in range(20):
            time.sleep(1.0)
            readings.append(stack.stats()["characters"] - before)
            if readings[-1] == readings[-2]:
                break
        ahead, still = readings[-2], readings[-1]
        while True:
            events.append(recv(ws, timeout=60))
            if len(events) % 20 == 0:
                time.sleep(0.05)  # and then reads slowly
            if events[-1][0] == "audio_complete":
                break
    # what the bounded queues and the socket buffers hold, then nothing more until the reader reads
    # (measured: about 3,800 characters, 13 minutes of MP3, are synthesized ahead on localhost, in
    # kernel socket buffers, voicefn's own queues being a few sentences; the rest waits for the reader)
    assert still == ahead and ahead < len(reply) * 0.8, f"{ahead}, then {still} characters synthesized unread"
    mp3 = audio_of(events)
    info = audio_info(mp3)
    items, _ = asyncio.run(stack.services.state.list_history("rt-slow", type="chat"))
    characters = items[0]["characters"]
    assert characters == len(reply) - (COUNT - 1)  # every sentence spoken (the spaces between are not)
    assert info.format == "mp3" and info.duration == pytest.approx(0.2 * characters, rel=0.01)
    assert info.duration > 1100  # over 18 minutes
    done = dict(events)["chat_tts_complete"]
    assert done["segments_count"] >= COUNT and done["assistant_response"] == reply
