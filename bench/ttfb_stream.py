"""Streaming time-to-first-byte: through voicefn versus talking to the embedded DashScope directly.

All variants hit the same `voicefn serve` process (deterministic engine) and are interleaved:
- direct: a bare WebSocket client sends run-task / continue-task / finish-task to the embedded
  DashScope and waits for the first binary audio frame;
- voicefn: `POST /api/audio/tts/synthesize` with `stream: true`, timed to the first body byte,
  from a bare HTTP/1.1 client (asyncio streams, a new connection each time, as the direct
  client opens a new WebSocket each time);
- voicefn with httpx as the client, for reference: httpx itself costs about a millisecond per
  request (measured here on `/health` beside the bare client), which is not voicefn's time.
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


async def voicefn_bare_once(host: str, port: int, text: str) -> float:
    """The same request over a plain socket: no client library between the timer and the bytes."""
    body = json.dumps({"model": "cosyvoice-v3-flash", "voice": "longanyang", "text": text, "stream": True},
                      ensure_ascii=False).encode()
    head = "".join(f"{k}: {v}\r\n" for k, v in auth_headers().items())
    request = (f"POST /api/audio/tts/synthesize HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\n{head}Connection: close\r\n\r\n").encode() + body
    start = time.perf_counter()
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(request)
        status = await reader.readline()
        if b" 200 " not in status:
            raise RuntimeError(f"voicefn answered {status!r}")
        await reader.readuntil(b"\r\n\r\n")
        await reader.readline()  # the first chunk's size
        await reader.readexactly(1)  # its first byte
        first = time.perf_counter() - start
        while await reader.read(65536):  # read it all, like a player would
            pass
    finally:
        writer.close()
    return first


async def health_cost(client: httpx.AsyncClient, host: str, port: int) -> tuple[float, float]:
    """Median seconds of ``GET /health``: through httpx, and over a new plain socket."""
    through_httpx, bare = [], []
    for _ in range(40):
        start = time.perf_counter()
        (await client.get("/health")).raise_for_status()
        through_httpx.append(time.perf_counter() - start)
        start = time.perf_counter()
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(f"GET /health HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        await reader.readuntil(b"\r\n\r\n")
        bare.append(time.perf_counter() - start)
        writer.close()
    return statistics.median(through_httpx), statistics.median(bare)


async def main() -> None:
    with local_server() as base:
        ws_url = base.replace("http://", "ws://") + "/dashscope/api-ws/v1/inference"
        host, port = base.removeprefix("http://").split(":")
        direct, through, through_httpx = [], [], []
        async with httpx.AsyncClient(base_url=base, headers=auth_headers(), timeout=30) as client:
            for warm in range(3):
                await direct_once(ws_url, f"{TEXT}{warm}w")
                await voicefn_bare_once(host, int(port), f"{TEXT}{warm}v")
                await voicefn_once(client, f"{TEXT}{warm}h")
            for i in range(ROUNDS):
                text = f"{TEXT}{uuid.uuid4().hex[:6]}"
                runs = [lambda: direct_once(ws_url, text + "d"), lambda: voicefn_bare_once(host, int(port), text + "v"),
                        lambda: voicefn_once(client, text + "h")]
                got = {}
                for k in ((0, 1, 2) if i % 2 else (2, 1, 0)):
                    got[k] = await runs[k]()
                direct.append(got[0])
                through.append(got[1])
                through_httpx.append(got[2])
            httpx_health, bare_health = await health_cost(client, host, int(port))
    print(summary("direct to DashScope", direct))
    print(summary("through voicefn", through))
    print(summary("through voicefn, httpx", through_httpx))
    overhead = [t - d for t, d in zip(through, direct)]
    print(f"overhead (paired)            median {median_ms(overhead):8.1f} ms   "
          f"ratio of medians {statistics.median(through) / statistics.median(direct):.2f}x   goal <= 1.25x")
    print(f"with httpx as the client: ratio {statistics.median(through_httpx) / statistics.median(direct):.2f}x; "
          f"httpx's own cost: GET /health {httpx_health * 1000:.2f} ms through httpx (kept-alive connection) "
          f"vs {bare_health * 1000:.2f} ms over a new bare socket")


if __name__ == "__main__":
    asyncio.run(main())
