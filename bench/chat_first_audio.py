"""Spoken chat: time to the first audio byte of a streamed reply, three ways, in one run.

One `voicefn serve` (deterministic TTS, scripted LLM). The embedded DashScope streams a scripted
10-sentence reply (new words every run, so no cache
answers) at 30 tokens/s and adds the same fixed latency to every synthesis (a fault rule
on the TTS APIs). Interleaved, every round:

- (a) voicefn: `POST /v1/chat/completions` with seed 004's `tts_enabled`; each announced
  sentence's `audio_url` is fetched as soon as it is announced (it waits on its synthesis);
- (b) seed 000's way, done here: the whole reply (non-streamed), then seed 000's ≤600-character
  segments synthesized one after another;
- (c) whole sentences only, done here: the reply streamed, each complete sentence synthesized
  (3 at a time, as voicefn) and none sent early as a first clause.

(b) and (c) talk to the embedded DashScope directly (chat in compatible mode, CosyVoice over its
WebSocket), so they pay no voicefn overhead. Goals: (a) at least 5x sooner than (b) and sooner
than (c); (a)'s last audio byte at most one TTS latency after the LLM's last token.

The latency is the emulator's ``latency`` fault: each task's start (run-task until task-started)
waits it, so voicefn, which starts the next sentence's task ahead, hides it for every sentence
but the first. A second pass puts the same latency after each task's first text instead
(``first_audio_latency``), which no task started ahead can hide: real CosyVoice spends part of
its latency on each side, and the two passes bound what to expect from it.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import uuid
from dataclasses import dataclass

import httpx

from _harness import admin_headers, auth_headers, local_server, summary
from voicefn.text.split import SentenceStream, pack_segments

TTS_LATENCY_MS = 500   # CosyVoice's first packet is typically 300-500 ms after a request
TOKENS_PER_S = 30
ROUNDS = 3
WARMUP = 1
MODEL, VOICE, TTS_MODEL = "qwen-plus", "longanyang", "cosyvoice-v3-flash"
CONCURRENCY = 3
SEGMENT_CHARS = 600    # seed 000
KEY = {"Authorization": "Bearer sk-bench"}


@dataclass
class Timing:
    first_audio: float
    last_audio: float
    last_token: float


def _question() -> list[dict[str, str]]:
    # unique text every time: neither voicefn's cache nor anything else can answer from memory
    return [{"role": "user", "content": f"Tell me ten things ({uuid.uuid4().hex[:8]})."}]


async def synthesize(ws_url: str, text: str, start: float) -> tuple[float, float]:
    """One CosyVoice WebSocket task; (first audio byte, last audio byte) since ``start``."""
    from websockets.asyncio.client import connect

    task_id = uuid.uuid4().hex
    header = {"task_id": task_id, "streaming": "duplex"}
    payload = {"model": TTS_MODEL, "task_group": "audio", "task": "tts", "function": "SpeechSynthesizer"}
    first = last = None
    async with connect(ws_url, additional_headers=KEY) as ws:
        await ws.send(json.dumps({"header": {"action": "run-task", **header}, "payload": {
            **payload, "input": {}, "parameters": {"voice": VOICE, "volume": 50, "text_type": "PlainText",
                                                   "sample_rate": 22050, "rate": 1.0, "format": "mp3",
                                                   "pitch": 1.0, "seed": 0, "type": 0}}}))
        await ws.send(json.dumps({"header": {"action": "continue-task", **header},
                                  "payload": {**payload, "input": {"text": text}}}))
        await ws.send(json.dumps({"header": {"action": "finish-task", **header}, "payload": {"input": {}}}))
        while True:
            message = await ws.recv()
            if isinstance(message, bytes):
                last = time.perf_counter() - start
                first = first or last
            elif json.loads(message)["header"]["event"] in ("task-finished", "task-failed"):
                break
    if first is None or last is None:
        raise RuntimeError("no audio")
    return first, last


async def chat_stream(client: httpx.AsyncClient, url: str, body: dict, headers: dict):  # type: ignore[no-untyped-def]
    """Yield each parsed SSE ``data:`` object of a chat completion stream."""
    async with client.stream("POST", url, json={**body, "stream": True}, headers=headers) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if line.startswith("data: ") and line != "data: [DONE]":
                yield json.loads(line[6:])


def _content(event: dict) -> str:
    return "".join((c.get("delta") or {}).get("content") or "" for c in event.get("choices") or [])


async def seed000_way(client: httpx.AsyncClient, base: str, ws_url: str) -> Timing:
    start = time.perf_counter()
    response = await client.post(f"{base}/dashscope/compatible-mode/v1/chat/completions", headers=KEY,
                                 json={"model": MODEL, "messages": _question()})
    response.raise_for_status()
    last_token = time.perf_counter() - start
    text = response.json()["choices"][0]["message"]["content"]
    spans = [await synthesize(ws_url, segment, start) for segment in pack_segments(text, SEGMENT_CHARS)]
    return Timing(spans[0][0], spans[-1][1], last_token)


async def whole_sentences(client: httpx.AsyncClient, base: str, ws_url: str) -> Timing:
    start = time.perf_counter()
    splitter = SentenceStream(first_fragment_min_chars=10**9)  # never a first clause early
    bound = asyncio.Semaphore(CONCURRENCY)

    async def speak(sentence: str) -> tuple[float, float]:
        async with bound:
            return await synthesize(ws_url, sentence, start)

    jobs: list[asyncio.Task[tuple[float, float]]] = []
    last_token = 0.0
    async for event in chat_stream(client, f"{base}/dashscope/compatible-mode/v1/chat/completions",
                                   {"model": MODEL, "messages": _question()}, KEY):
        delta = _content(event)
        if delta:
            last_token = time.perf_counter() - start
            jobs += [asyncio.create_task(speak(s)) for s in splitter.feed(delta)]
    jobs += [asyncio.create_task(speak(s)) for s in splitter.flush()]
    spans = await asyncio.gather(*jobs)
    return Timing(spans[0][0], max(end for _, end in spans), last_token)


async def voicefn_way(client: httpx.AsyncClient, base: str) -> Timing:
    start = time.perf_counter()

    async def fetch(url: str) -> tuple[float, float]:
        first = last = None
        async with client.stream("GET", url, headers=auth_headers()) as response:
            response.raise_for_status()
            async for chunk in response.aiter_raw():
                if chunk:
                    last = time.perf_counter() - start
                    first = first or last
        if first is None or last is None:
            raise RuntimeError(f"no audio at {url}")
        return first, last

    fetches: dict[int, asyncio.Task[tuple[float, float]]] = {}
    last_token = 0.0
    body = {"model": MODEL, "messages": _question(), "tts_enabled": True, "tts_model": TTS_MODEL, "voice": VOICE}
    async for event in chat_stream(client, f"{base}/v1/chat/completions", body, auth_headers()):
        if _content(event):
            last_token = time.perf_counter() - start
        tts = event.get("tts")
        if isinstance(tts, dict) and tts.get("audio_url"):
            url = tts["audio_url"]
            url = url if url.startswith("http") else f"{base}{url}"
            fetches[int(tts["index"])] = asyncio.create_task(fetch(url))
    if not fetches:
        raise RuntimeError("voicefn announced no sentence audio (is tts_enabled supported?)")
    spans = [await fetches[i] for i in sorted(fetches)]
    return Timing(spans[0][0], max(end for _, end in spans), last_token)


NUMBERS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def _script_reply(base: str) -> None:
    """A new 10-sentence reply for the next run: every sentence unique, so no TTS cache answers."""
    tag = "".join(chr(ord("a") + int(c, 16)) for c in uuid.uuid4().hex[:6])  # one word: one token
    # the tag in every clause: voicefn speaks a long sentence as clauses, each must be new too
    reply = " ".join(f"This is sentence number {n} of reply {tag}, and {n} has a few words in {tag}." for n in NUMBERS)
    script = [{"reply": reply, "tokens_per_s": TOKENS_PER_S}]
    httpx.post(f"{base}/dashscope/_admin/chat-scripts", json=script, headers=admin_headers(base)).raise_for_status()


def _configure(base: str, ws_kind: str = "latency") -> None:
    """The TTS latency as a fault rule: ``latency`` delays each task's start (before
    task-started), ``first_audio_latency`` each task's first audio after its first text."""
    faults = [{"match": {"api": api}, "fault": {"kind": ws_kind if api == "tts_ws" else "latency",
                                                "latency_ms": TTS_LATENCY_MS}}
              for api in ("tts_ws", "tts_http", "qwen_tts")]
    httpx.post(f"{base}/dashscope/_admin/faults", json=faults, headers=admin_headers(base)).raise_for_status()


async def _rounds(base: str, names: list[str], warmup: int) -> tuple[dict[str, list[Timing]], str | None]:
    results: dict[str, list[Timing]] = {name: [] for name in names}
    a_error = None
    ws_url = base.replace("http://", "ws://") + "/dashscope/api-ws/v1/inference"
    async with httpx.AsyncClient(timeout=60) as client:
        variants = {"a": lambda: voicefn_way(client, base), "b": lambda: seed000_way(client, base, ws_url),
                    "c": lambda: whole_sentences(client, base, ws_url)}
        for i in range(warmup + ROUNDS):
            for name in (names if i % 2 == 0 else names[::-1]):
                if name == "a" and a_error is not None:
                    continue
                _script_reply(base)
                try:
                    timing = await variants[name]()
                    if i >= warmup:  # the first round opens connections and loads modules
                        results[name].append(timing)
                except (httpx.HTTPError, RuntimeError) as exc:
                    if name != "a":
                        raise
                    a_error = f"{type(exc).__name__}: {exc}"
    return results, a_error


def _tail_ms(timings: list[Timing]) -> float:
    return statistics.median(t.last_audio - t.last_token for t in timings) * 1000


async def main() -> None:
    with local_server() as base:
        _configure(base)
        results, a_error = await _rounds(base, ["a", "b", "c"], WARMUP)
        # the same latency, all of it after each task's text: what starting tasks ahead cannot hide
        _configure(base, "first_audio_latency")
        after_text, after_text_error = await _rounds(base, ["a", "c"], 0)
    print(f"scripted reply: 10 sentences at {TOKENS_PER_S} tokens/s; TTS latency {TTS_LATENCY_MS} ms per synthesis")
    labels = {"a": "(a) voicefn", "b": "(b) seed 000", "c": "(c) sentences"}
    for name, timings in results.items():
        if timings:
            print(summary(f"{labels[name]}: first audio", [t.first_audio for t in timings]))
    for name, timings in results.items():
        if timings:
            print(summary(f"{labels[name]}: last audio", [t.last_audio for t in timings]))
    first = {n: statistics.median(t.first_audio for t in ts) for n, ts in results.items() if ts}
    print(f"(b) / (c) first audio     {first['b'] / first['c']:.2f}x")
    if a_error is not None or "a" not in first:
        print(f"(a) not measured: {a_error}")
        return
    print(f"(b) / (a) first audio     {first['b'] / first['a']:.2f}x   goal >= 5x")
    print(f"(c) / (a) first audio     {first['c'] / first['a']:.2f}x   goal > 1x")
    print(f"(a) last audio after the LLM's last token: median {_tail_ms(results['a']):.0f} ms   "
          f"goal <= {TTS_LATENCY_MS} ms (one TTS latency)")
    print(f"(c) the same, for comparison: median {_tail_ms(results['c']):.0f} ms")
    print("the latency modelled after each task's text instead of at its start "
          "(first_audio_latency): a task started ahead hides none of it")
    if after_text_error is not None or not after_text["a"]:
        print(f"(a) not measured: {after_text_error}")
        return
    print(f"(a) last audio after the LLM's last token: median {_tail_ms(after_text['a']):.0f} ms;"
          f" (c) {_tail_ms(after_text['c']):.0f} ms")
    first_after = {n: statistics.median(t.first_audio for t in ts) for n, ts in after_text.items()}
    print(f"(c) / (a) first audio     {first_after['c'] / first_after['a']:.2f}x")


if __name__ == "__main__":
    asyncio.run(main())
