"""Streaming time-to-first-byte: through voicefn versus talking to the embedded DashScope directly.

Both variants hit the same `voicefn serve` process (deterministic engine) and are interleaved:
- direct: a bare WebSocket client sends run-task / continue-task / finish-task to the embedded
  DashScope and waits for the first binary audio frame;
- voicefn: `POST /api/audio/tts/synthesize` with `stream: true`, timed to the first body byte.
Each request has unique text, so the TTS cache never answers. Goal (issue 13): through voicefn at
most 1.25x the bare client's median.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
import uuid

import httpx

from _harness import auth_headers, local_server, median_ms, summary

ROUNDS = 40
TEXT = "你好，这是首字节延迟的测试。"


async def direct_once(ws_url: str, text: str) -> float:
    from websockets.asyncio.client import connect

    task_id = uuid.uuid4().hex
    header = {"task_id": task_id, "streaming": "duplex"}
    start = time.perf_counter()
    async with connect(ws_url, additional_headers={"Authorization": "Bearer sk-bench"}) as ws:
        await ws.send(json.dumps({"header": {"action": "run-task", **header}, "payload": {
            "model": "cosyvoice-v3-flash", "task_group": "audio", "task": "tts", "function": "SpeechSynthesizer",
            "input": {}, "parameters": {"voice": "longanyang", "volume": 50, "text_type": "PlainText",
                                        "sample_rate": 22050, "rate": 1.0, "format": "mp3", "pitch": 1.0,
                                        "seed": 0, "type": 0}}}))
        while json.loads(await ws.recv())["header"]["event"] != "task-started":
            pass
        await ws.send(json.dumps({"header": {"action": "continue-task", **header}, "payload": {
            "model": "cosyvoice-v3-flash", "task_group": "audio", "task": "tts", "function": "SpeechSynthesizer",
            "input": {"text": text}}}))
        await ws.send(json.dumps({"header": {"action": "finish-task", **header}, "payload": {"input": {}}}))
        first = None
        while True:  # read to task-finished so the connection closes cleanly
            message = await ws.recv()
            if isinstance(message, bytes):
                first = first or time.perf_counter() - start
            elif json.loads(message)["header"]["event"] in ("task-finished", "task-failed"):
                break
    if first is None:
        raise RuntimeError("no audio")
    return first


async def voicefn_once(client: httpx.AsyncClient, text: str) -> float:
    start = time.perf_counter()
    async with client.stream("POST", "/api/audio/tts/synthesize", json={
            "model": "cosyvoice-v3-flash", "voice": "longanyang", "text": text, "stream": True}) as response:
        response.raise_for_status()
        first = None
        async for _ in response.aiter_raw():  # read it all, like a player would
            first = first or time.perf_counter() - start
    if first is None:
        raise RuntimeError("empty stream")
    return first


async def main() -> None:
    with local_server() as base:
        ws_url = base.replace("http://", "ws://") + "/dashscope/api-ws/v1/inference"
        direct, through = [], []
        async with httpx.AsyncClient(base_url=base, headers=auth_headers(), timeout=30) as client:
            for warm in range(3):
                await direct_once(ws_url, f"{TEXT}{warm}w")
                await voicefn_once(client, f"{TEXT}{warm}v")
            for i in range(ROUNDS):
                text = f"{TEXT}{uuid.uuid4().hex[:6]}"
                if i % 2:
                    direct.append(await direct_once(ws_url, text + "d"))
                    through.append(await voicefn_once(client, text + "v"))
                else:
                    through.append(await voicefn_once(client, text + "v"))
                    direct.append(await direct_once(ws_url, text + "d"))
    print(summary("direct to DashScope", direct))
    print(summary("through voicefn", through))
    overhead = [t - d for t, d in zip(through, direct)]
    print(f"overhead (paired)            median {median_ms(overhead):8.1f} ms   "
          f"ratio of medians {statistics.median(through) / statistics.median(direct):.2f}x   goal <= 1.25x")


if __name__ == "__main__":
    asyncio.run(main())
