"""Streaming under pressure: a slow reader loses nothing with bounded memory; a gone client
stops the synthesis."""

from __future__ import annotations

import hashlib
import time
import tracemalloc

import pytest

from tests.stack import Stack
from voicefn.billing import billable_characters

SAMPLE_RATE = 48000  # pcm at 48 kHz: 96 kB per second of audio, a big stream from little text


def long_text(sentences: int) -> str:
    return "".join(f"这是第{i}句比较长的测试文本，用来产生很多音频。" for i in range(sentences))


class PeakMemory:
    """Peak memory allocated in this process (the server runs in it) while a test streams.

    tracemalloc counts what is actually held (numpy buffers included), not what the allocator
    keeps in reserve, so it shows whether anything accumulates the stream."""

    def __enter__(self) -> "PeakMemory":
        tracemalloc.start()
        self.baseline = tracemalloc.get_traced_memory()[0]
        return self

    def __exit__(self, *exc: object) -> None:
        self.peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()

    @property
    def growth(self) -> int:
        return self.peak - self.baseline


@pytest.mark.usefixtures("no_faults")
def test_slow_reader_gets_every_byte_and_server_memory_stays_bounded(stack: Stack) -> None:
    text = long_text(40)
    expected_bytes = round(0.2 * billable_characters(text) * SAMPLE_RATE) * 2
    digest, received = hashlib.sha256(), 0
    body = {"model": "cosyvoice-v3-flash", "voice": "longanyang", "format": "pcm", "sample_rate": SAMPLE_RATE,
            "stream": True}
    with stack.client("slow-reader") as client:  # warm-up: lazy imports are not the stream's memory
        client.post("/api/audio/tts/synthesize", json={**body, "text": "预热。"}).raise_for_status()
    with stack.client("slow-reader") as client, PeakMemory() as memory:
        with client.stream("POST", "/api/audio/tts/synthesize",
                           json={"model": "cosyvoice-v3-flash", "voice": "longanyang", "text": text,
                                 "format": "pcm", "sample_rate": SAMPLE_RATE, "stream": True}) as response:
            assert response.status_code == 200
            for chunk in response.iter_raw(32 * 1024):
                digest.update(chunk)
                received += len(chunk)
                time.sleep(0.004)  # a slow client
    assert expected_bytes > 30 * 1024 * 1024
    assert received == pytest.approx(expected_bytes, abs=SAMPLE_RATE * 2 * 0.01 * 60)
    # nothing in the server holds the whole stream: far less than its size was ever resident
    assert memory.growth < expected_bytes / 6, memory.growth
    # too big to keep (STORE_MAX_BYTES), but delivered, so billed
    record = stack.client("slow-reader").get("/api/audio/history").json()["data"]["items"][0]
    assert "output_url" not in record and float(record["bill"]) > 0


@pytest.mark.usefixtures("no_faults")
def test_a_streamed_result_is_stored_byte_identical(stack: Stack) -> None:
    text = long_text(3)
    with stack.client("tee-user") as client:
        with client.stream("POST", "/api/audio/tts/synthesize",
                           json={"model": "cosyvoice-v3-flash", "voice": "longanyang", "text": text,
                                 "format": "wav", "stream": True}) as response:
            received = b"".join(response.iter_bytes())
        record = client.get("/api/audio/history").json()["data"]["items"][0]
    from voicefn.audio.wav import with_true_sizes

    # the same bytes, except that the stored file's header has its true sizes (issue 7): the
    # stream's 0xFFFFFFFF is only for a stream whose length is unknown
    stored = stack.fetch(record["output_url"])
    assert stored == with_true_sizes(received) and stored[44:] == received[44:]


@pytest.mark.usefixtures("no_faults")
def test_a_client_that_disconnects_stops_the_synthesis(stack: Stack) -> None:
    text = long_text(60)
    stack.set_faults([{"match": {"api": "tts_ws"}, "fault": {"kind": "slow_frames", "frame_delay_ms": 30}}])
    before = stack.stats()["engine_calls"]  # one per sentence
    with stack.client("quitter") as client:
        with client.stream("POST", "/api/audio/tts/synthesize",
                           json={"model": "cosyvoice-v3-flash", "voice": "longanyang", "text": text,
                                 "format": "pcm", "stream": True}) as response:
            next(response.iter_raw(4096))
        # leaving the block closes the connection mid-stream
    time.sleep(1.5)
    after_stop = stack.stats()["engine_calls"]
    time.sleep(1.0)
    assert stack.stats()["engine_calls"] == after_stop  # nothing more is being synthesized
    assert after_stop - before < 60 / 2
    history = stack.client("quitter").get("/api/audio/history").json()["data"]
    assert history["total"] == 0  # an abandoned stream is not recorded as delivered


@pytest.mark.usefixtures("no_faults")
def test_websocket_streams_30_minutes_to_a_slow_reader_with_bounded_memory(stack: Stack) -> None:
    """The same bound as the HTTP stream: the WebSocket keeps no copy of what it relays beyond
    the recorder's bounded spool, and a slow reader slows the upstream instead of piling up."""
    import json

    from websockets.sync.client import connect

    from tests.functions.tts.test_stream_ws import ws_url

    rate = 8000  # deterministic engine: 0.2 s per billed character, 16-bit mono pcm
    pieces, billed = [], 0
    while billed * 0.2 < 30 * 60:
        piece = long_text(1).replace("0", str(len(pieces)))
        pieces.append(piece)
        billed += billable_characters(piece)
    expected_bytes = round(0.2 * billed * rate) * 2
    digest, received, final = hashlib.sha256(), 0, None
    with connect(ws_url(stack, "ws-warmup", format="pcm", sample_rate=str(rate)), open_timeout=10) as ws:
        ws.recv(timeout=10)  # warm-up: lazy imports are not the stream's memory
        ws.send(json.dumps({"type": "text", "content": "预热。"}))
        ws.send(json.dumps({"type": "end"}))
        while not isinstance(ws.recv(timeout=30), str):
            pass
    with PeakMemory() as memory:
        # compression=None: this process is also the client, and a deflated socket buffer of
        # this very compressible test tone inflates into megabytes on the client's side
        with connect(ws_url(stack, "ws-slow-reader", format="pcm", sample_rate=str(rate)),
                     open_timeout=10, max_queue=4, compression=None) as ws:
            assert json.loads(ws.recv(timeout=10))["type"] == "started"
            for start in range(0, len(pieces), 40):
                ws.send(json.dumps({"type": "text", "content": "".join(pieces[start:start + 40])}))
            ws.send(json.dumps({"type": "end"}))
            while True:
                message = ws.recv(timeout=60)
                if isinstance(message, str):
                    final = json.loads(message)
                    break
                digest.update(message)
                received += len(message)
                if received % (64 * 1024) < len(message):
                    time.sleep(0.02)  # a slow client: ~3 MB/s
    assert final is not None and final["type"] == "complete", final
    assert expected_bytes > 25 * 1024 * 1024
    assert received == pytest.approx(expected_bytes, abs=rate * 2 * 0.01 * len(pieces))
    assert final["duration"] == pytest.approx(received / (2 * rate), abs=0.01)
    assert final["duration"] >= 30 * 60 - 1
    # nothing in the server holds the whole stream (the HTTP stream's bound)
    assert memory.growth < expected_bytes / 6, memory.growth
    # too long to keep, but delivered, so billed
    assert final["audio_url"] is None and float(final["bill"]) > 0
    record = stack.client("ws-slow-reader").get("/api/audio/history").json()["data"]["items"][0]
    assert record["id"] == final["record_id"] and "output_url" not in record
