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

voicefn's own share = the time in that window during which no upstream was working on the
answer. The embedded DashScope logs when each API was busy (``/_admin/call-times``, on the
machine's monotonic clock, which this process shares): the recognition call (its fetch of the
stored audio, decoding, engine and injected wait: a remote DashScope's side), the LLM from its
start to the token that completes the first clause, the TTS task's start and its first text →
first audio frame. Their union is subtracted from each stage (``own`` columns) and from the
total. The previous figure (``share_given``: the total minus only the injected waits) is kept
beside it: it counts the embedded engines' work as voicefn's. Goal: ≤ 50 ms at p50.
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
            start = time.monotonic()
        ws.send(json.dumps({"seq": seq, "total": len(pieces), "data": base64.b64encode(piece).decode()}))
        assert "packet_ack" in json.loads(ws.recv(timeout=30))
    marks: dict[str, float] = {}
    splitter = SentenceStream(first_fragment_min_chars=8)
    while True:
        (name, data), = json.loads(ws.recv(timeout=60)).items()
        now = time.monotonic() - start
        if name == "error":
            raise RuntimeError(data)
        marks.setdefault(name, now)
        if name == "chat_chunk" and "clause" not in marks and splitter.feed(data["chunk"]):
            marks["clause"] = now
        if name == "audio_stream" and data.get("event") == "data":
            marks.setdefault("audio", now)
        if name == "audio_complete":
            marks["start"] = start
            return marks


def upstream_busy(base: str, clause_tokens: int) -> list[tuple[float, float]]:
    """The intervals the embedded DashScope worked on this turn's answer (then its log is emptied)."""
    calls = httpx.get(f"{base}/dashscope/_admin/call-times", headers=admin_headers(base)).json()["calls"]
    httpx.delete(f"{base}/dashscope/_admin/call-times", headers=admin_headers(base)).raise_for_status()
    spans = []
    for call in calls:
        if call["api"] == "chat":  # up to the token that completes the first clause
            marks = call.get("marks") or []
            spans.append((call["start"], marks[min(clause_tokens, len(marks)) - 1] if marks else call["end"]))
        else:
            spans.append((call["start"], call["end"]))
    return spans


def covered(spans: list[tuple[float, float]], a: float, b: float) -> float:
    """How long within [a, b] at least one span was running."""
    total, reach = 0.0, a
    for lo, hi in sorted((max(lo, a), min(hi, b)) for lo, hi in spans):
        if hi > lo and hi > reach:
            total += hi - max(lo, reach)
            reach = hi
    return total


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def main() -> None:
    from websockets.sync.client import connect

    stages = ("intake", "recognition", "llm_first_token", "first_clause", "tts_first_byte")
    rows: dict[str, list[float]] = {k: [] for k in (*stages, *(f"{k} own" for k in stages), "voice_to_voice",
                                                    "upstream_busy", "share_given", "voicefn_share")}
    with local_server() as base:
        clause_tokens = _configure(base)
        upstream = (ASR_MS + FIRST_TOKEN_MS + (clause_tokens - 1) * 1000 / TOKENS_PER_S + TTS_MS) / 1000
        token = auth_headers("bench-rt")["Authorization"].split()[1]
        with connect(f"{base.replace('http', 'ws')}/v1/chat/audio?token={token}", max_size=None) as ws:
            json.loads(ws.recv(timeout=10))
            one_turn(ws, 1.0)  # warm-up
            upstream_busy(base, clause_tokens)
            for n in range(TURNS):
                m = one_turn(ws, 1.0 + n / 100)  # a different question each time
                spans = upstream_busy(base, clause_tokens)
                edges = [0.0, m["transcription_started"], m["chat_started"], m["chat_chunk"], m["clause"], m["audio"]]
                for stage, a, b in zip(stages, edges, edges[1:]):
                    rows[stage].append(b - a)
                    rows[f"{stage} own"].append(b - a - covered(spans, m["start"] + a, m["start"] + b))
                busy = covered(spans, m["start"], m["start"] + m["audio"])
                rows["voice_to_voice"].append(m["audio"])
                rows["upstream_busy"].append(busy)
                rows["share_given"].append(m["audio"] - upstream)
                rows["voicefn_share"].append(m["audio"] - busy)
    print(f"realtime voice-to-voice over {TURNS} turns (upstream waits given: ASR {ASR_MS} ms, LLM first token "
          f"{FIRST_TOKEN_MS} ms + {clause_tokens - 1} tokens at {TOKENS_PER_S}/s to the first clause, TTS {TTS_MS} ms)")
    for name, samples in rows.items():
        print(f"  {name:<20} p50 {pct(samples, 0.5):7.1f} ms   p95 {pct(samples, 0.95):7.1f} ms")
    share = pct(rows["voicefn_share"], 0.5)
    print(f"voicefn's own share at p50: {share:.1f} ms (goal <= 50 ms): {'met' if share <= 50 else 'NOT met'}")


if __name__ == "__main__":
    main()
