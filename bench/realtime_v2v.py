"""Realtime voice (seed 002's WS /v1/chat/audio): voice-to-voice time, from the last packet of a
question to the first `audio_stream` data of its answer, p50/p95 over 20 turns on one socket.

One `voicefn serve` (deterministic TTS and ASR, scripted LLM). The embedded DashScope is given
fixed upstream waits (fault rules and the script): recognition ASR_MS, the LLM's first token
FIRST_TOKEN_MS then TOKENS_PER_S, the TTS's first byte TTS_MS. The split, from the socket's events:

- intake: last packet → `transcription_started` (packet, store, signed URL);
- recognition: → `chat_started`;
- LLM first token: → first `chat_chunk`;
- first clause: → the chunk that completes the first clause (cut at ≥ 8 characters);
- TTS first byte: → first `audio_stream` data.

voicefn's own share = the total minus the upstream waits it was given (ASR_MS, FIRST_TOKEN_MS, the
first clause's tokens at TOKENS_PER_S, TTS_MS). The embedded engines' own compute counts as
voicefn's here, so the share is an upper bound. Goal: ≤ 50 ms at p50.
"""

from __future__ import annotations

import base64
import io
import json
import math
import time
import wave

import httpx

from _harness import admin_headers, auth_headers, local_server
from voicefn.text.split import SentenceStream

TURNS = 20
ASR_MS, FIRST_TOKEN_MS, TOKENS_PER_S, TTS_MS = 200, 300, 30, 300
REPLY = "Sure, here is what I know. The station is near the river, and the walk takes ten minutes."
PACKET = 8 * 1024


def wav(seconds: float, rate: int = 16000) -> bytes:
    """A tone (the deterministic recognizer only measures its length)."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(int(8000 * math.sin(2 * math.pi * 330 * i / rate)).to_bytes(2, "little", signed=True)
                               for i in range(int(seconds * rate))))
    return out.getvalue()


def _configure(base: str) -> int:
    script = [{"reply": REPLY, "first_token_ms": FIRST_TOKEN_MS, "tokens_per_s": TOKENS_PER_S}]
    httpx.post(f"{base}/dashscope/_admin/chat-scripts", json=script, headers=admin_headers(base)).raise_for_status()
    faults = [{"match": {"api": "asr_sync"}, "fault": {"kind": "latency", "latency_ms": ASR_MS}},
              {"match": {"api": "tts_ws"}, "fault": {"kind": "latency", "latency_ms": TTS_MS}}]
    httpx.post(f"{base}/dashscope/_admin/faults", json=faults, headers=admin_headers(base)).raise_for_status()
    from voicefn_local.engines.llm_base import split_tokens

    first = SentenceStream(first_fragment_min_chars=8).feed(REPLY)[0]
    return len(split_tokens(first))  # tokens the LLM must send before the first clause is cut


def one_turn(ws, seconds: float) -> dict[str, float]:
    audio = wav(seconds)
    pieces = [audio[i:i + PACKET] for i in range(0, len(audio), PACKET)]
    for seq, piece in enumerate(pieces, 1):
        if seq == len(pieces):
            start = time.perf_counter()
        ws.send(json.dumps({"seq": seq, "total": len(pieces), "data": base64.b64encode(piece).decode()}))
        assert "packet_ack" in json.loads(ws.recv(timeout=30))
    marks: dict[str, float] = {}
    splitter = SentenceStream(first_fragment_min_chars=8)
    while True:
        (name, data), = json.loads(ws.recv(timeout=60)).items()
        now = time.perf_counter() - start
        if name == "error":
            raise RuntimeError(data)
        marks.setdefault(name, now)
        if name == "chat_chunk" and "clause" not in marks and splitter.feed(data["chunk"]):
            marks["clause"] = now
        if name == "audio_stream" and data.get("event") == "data":
            marks.setdefault("audio", now)
        if name == "audio_complete":
            return marks


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def main() -> None:
    from websockets.sync.client import connect

    rows: dict[str, list[float]] = {k: [] for k in ("intake", "recognition", "llm_first_token", "first_clause",
                                                    "tts_first_byte", "voice_to_voice", "voicefn_share")}
    with local_server() as base:
        clause_tokens = _configure(base)
        upstream = (ASR_MS + FIRST_TOKEN_MS + (clause_tokens - 1) * 1000 / TOKENS_PER_S + TTS_MS) / 1000
        token = auth_headers("bench-rt")["Authorization"].split()[1]
        with connect(f"{base.replace('http', 'ws')}/v1/chat/audio?token={token}", max_size=None) as ws:
            json.loads(ws.recv(timeout=10))
            one_turn(ws, 1.0)  # warm-up
            for n in range(TURNS):
                m = one_turn(ws, 1.0 + n / 100)  # a different question each time
                rows["intake"].append(m["transcription_started"])
                rows["recognition"].append(m["chat_started"] - m["transcription_started"])
                rows["llm_first_token"].append(m["chat_chunk"] - m["chat_started"])
                rows["first_clause"].append(m["clause"] - m["chat_chunk"])
                rows["tts_first_byte"].append(m["audio"] - m["clause"])
                rows["voice_to_voice"].append(m["audio"])
                rows["voicefn_share"].append(m["audio"] - upstream)
    print(f"realtime voice-to-voice over {TURNS} turns (upstream waits given: ASR {ASR_MS} ms, LLM first token "
          f"{FIRST_TOKEN_MS} ms + {clause_tokens - 1} tokens at {TOKENS_PER_S}/s to the first clause, TTS {TTS_MS} ms)")
    for name, samples in rows.items():
        print(f"  {name:<16} p50 {pct(samples, 0.5):7.1f} ms   p95 {pct(samples, 0.95):7.1f} ms")
    share = pct(rows["voicefn_share"], 0.5)
    print(f"voicefn's own share at p50: {share:.1f} ms (goal <= 50 ms): {'met' if share <= 50 else 'NOT met'}")


if __name__ == "__main__":
    main()
