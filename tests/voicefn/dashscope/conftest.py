"""Small in-test fakes that play DashScope's protocols on loopback, failures included.

``FakeCosyVoice`` plays the CosyVoice duplex WebSocket (reference §1) closely enough for
voicefn's client: task-started, result-generated events around one binary frame per chunk,
cumulative ``usage.characters``, task-finished / task-failed, and the faults the tests ask for.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

# A copy of shared/reference's capture, kept with the tests so a bare checkout can run them.
CAPTURE = Path(__file__).resolve().parents[2] / "data/reference/dashscope_sdk_capture.jsonl"


def load_capture() -> list[dict[str, Any]]:
    return [json.loads(line) for line in CAPTURE.read_text(encoding="utf-8").splitlines() if line]


def captured_ws_sessions() -> list[dict[str, Any]]:
    """Each captured WebSocket connection: its handshake headers and its text frames."""
    sessions: list[dict[str, Any]] = []
    for record in load_capture():
        if record["kind"] == "ws-open":
            sessions.append({"headers": record["headers"], "frames": []})
        elif record["kind"] == "ws-text":
            sessions[-1]["frames"].append(record["data"])
    return sessions


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``captured_ws`` / ``captured_http`` parametrize a test over every captured SDK exchange.

    (Helpers reach tests as fixtures, not imports: that works whatever pytest's import mode.)
    """
    if "captured_ws" in metafunc.fixturenames:
        sessions = captured_ws_sessions()
        assert len(sessions) >= 8, "the capture should hold the SDK's WebSocket sessions"
        metafunc.parametrize("captured_ws", sessions, ids=[
            f"ws{i}-{s['frames'][0]['payload']['model']}" for i, s in enumerate(sessions)])
    if "captured_http" in metafunc.fixturenames:
        records = [r for r in load_capture() if r["kind"] == "http"]
        assert records, "the capture should hold the SDK's HTTP requests"
        metafunc.parametrize("captured_http", records, ids=[
            f"{i}-{r['method']} {r['path'][:44]}" for i, r in enumerate(records)])


@pytest.fixture
def capture() -> list[dict[str, Any]]:
    """The SDK 2.0.2 capture, one dict per recorded request or frame."""
    return load_capture()


def billed_characters(text: str) -> int:
    """DashScope's rule: CJK ideographs count 2, everything else 1."""
    return sum(2 if "\u3400" <= ch <= "\u9fff" else 1 for ch in text)


def chunk_bytes(text: str, index: int, size: int = 0) -> bytes:
    """Deterministic audio stand-in, so order and completeness can be checked."""
    head = f"<{text}|{index}>".encode()
    return head + b"\x00" * max(0, size - len(head))


def event(task_id: str, name: str, payload: dict | None = None, **header: Any) -> str:
    return json.dumps({"header": {"task_id": task_id, "event": name, "attributes": {},
                                  **header}, "payload": payload or {}})


@dataclass
class FakeCosyVoice:
    api_key: str = "sk-test"
    chunks_per_text: int = 2
    chunk_size: int = 0
    # Faults: "fail_start" (task-failed on run-task), "no_start" (never answers run-task),
    # "fail_after_audio" (task-failed after the first chunk), "drop" (TCP abort after the first
    # chunk), "stall" (silence after the first chunk).
    fault: str | None = None
    frame_delay_s: float = 0.0  # a pause after every audio frame (a slow but steady stream)
    fail_code: str = "InvalidParameter"
    fail_message: str = "[tts:]Engine return error code: 418"
    # Faults only for the first N connections (then behave), to test retries.
    fault_connections: int | None = None
    port: int = 0
    handshakes: list[Headers] = field(default_factory=list)
    received: list[list[str]] = field(default_factory=list)  # raw text frames, per connection
    frames_sent: int = 0
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)
    closed: asyncio.Event = field(default_factory=asyncio.Event)

    # Helpers for the tests, reachable from the fixture.
    chunk = staticmethod(chunk_bytes)
    billed = staticmethod(billed_characters)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/api-ws/v1/inference"

    def messages(self, connection: int = -1) -> list[dict]:
        return [json.loads(m) for m in self.received[connection]]

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        self.handshakes.append(request.headers)
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return connection.respond(HTTPStatus.UNAUTHORIZED, "Unauthorized\n")
        return None

    def _fault_now(self) -> str | None:
        if self.fault_connections is not None and len(self.received) > self.fault_connections:
            return None
        return self.fault

    async def _handler(self, ws: ServerConnection) -> None:
        frames: list[str] = []
        self.received.append(frames)
        fault = self._fault_now()
        characters = 0
        try:
            async for raw in ws:
                assert isinstance(raw, str), "the client only sends text frames"
                frames.append(raw)
                msg = json.loads(raw)
                action, tid = msg["header"]["action"], msg["header"]["task_id"]
                if action == "run-task":
                    if fault == "no_start":
                        continue
                    voice = msg["payload"]["parameters"]["voice"]
                    if fault == "fail_start" or voice == "fail":
                        await ws.send(event(tid, "task-failed", error_code=self.fail_code,
                                            error_message=self.fail_message))
                        await ws.close()
                        return
                    await ws.send(event(tid, "task-started"))
                elif action == "continue-task":
                    text = msg["payload"]["input"].get("text", "")
                    sentence = {"index": 0, "words": []}
                    await ws.send(event(tid, "result-generated", {"output": {
                        "sentence": sentence, "type": "sentence-begin", "original_text": text}}))
                    for i in range(self.chunks_per_text):
                        await ws.send(event(tid, "result-generated", {"output": {
                            "sentence": sentence, "type": "sentence-synthesis"}}))
                        await ws.send(chunk_bytes(text, i, self.chunk_size))
                        self.frames_sent += 1
                        if self.frame_delay_s:
                            await asyncio.sleep(self.frame_delay_s)
                        if i == 0 and fault == "drop":
                            ws.transport.abort()
                            return
                        if i == 0 and fault == "stall":
                            await ws.wait_closed()  # silent until the client gives up
                            return
                        if i == 0 and fault == "fail_after_audio":
                            await ws.send(event(tid, "task-failed", error_code=self.fail_code,
                                                error_message=self.fail_message))
                            await ws.close()
                            return
                    characters += billed_characters(text)
                    await ws.send(event(tid, "result-generated", {
                        "output": {"sentence": sentence, "type": "sentence-end",
                                   "original_text": text},
                        "usage": {"characters": characters}}))
                elif action == "finish-task":
                    if msg["payload"]["input"].get("directive") == "cancel":
                        self.cancelled.set()
                    await ws.send(event(tid, "task-finished",
                                        {"output": {"sentence": {"words": []}},
                                         "usage": {"characters": characters}},
                                        attributes={"request_uuid": "req-" + tid[:8]}))
        finally:
            self.closed.set()


@pytest.fixture
async def cosyvoice() -> AsyncIterator[FakeCosyVoice]:
    fake = FakeCosyVoice()
    async with serve(fake._handler, "127.0.0.1", 0, process_request=fake._process_request,
                     compression=None) as server:
        fake.port = next(iter(server.sockets)).getsockname()[1]
        yield fake
