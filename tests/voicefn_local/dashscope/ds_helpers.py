"""Helpers for the embedded-DashScope tests: decoding audio, reading stats, setting faults."""

from __future__ import annotations

import io
from typing import Any

import httpx
import numpy as np

from voicefn_local.servers import ServerHandle


def decode_audio(data: bytes, fmt: str, sample_rate: int | None = None) -> tuple[np.ndarray, int]:
    """Samples (float, -1..1) and rate of an audio file; ``pcm`` needs ``sample_rate``."""
    if fmt == "pcm":
        assert sample_rate is not None
        return np.frombuffer(data, dtype="<i2").astype(np.float64) / 32768.0, sample_rate
    import soundfile

    samples, rate = soundfile.read(io.BytesIO(data), dtype="float64")
    return samples, rate


def audio_seconds(data: bytes, fmt: str, sample_rate: int | None = None) -> float:
    samples, rate = decode_audio(data, fmt, sample_rate)
    return len(samples) / rate


def level(samples: np.ndarray) -> float:
    """RMS level as a fraction of full scale."""
    return float(np.sqrt(np.mean(np.square(samples)))) if len(samples) else 0.0


def admin(server: ServerHandle) -> dict[str, str]:
    """Headers carrying a test emulator's admin token (its /_admin routes need it)."""
    from voicefn_local.dashscope.admin_token import admin_headers

    return admin_headers(server.app.state.emulator.config.admin_token)


def stats(server: ServerHandle) -> dict[str, int]:
    return httpx.get(f"{server.base_url}/_admin/stats", headers=admin(server)).json()


def set_faults(server: ServerHandle, rules: list[dict[str, Any]]) -> None:
    response = httpx.post(f"{server.base_url}/_admin/faults", json=rules, headers=admin(server))
    assert response.status_code == 200, response.text


# ---- CosyVoice WebSocket messages, as SDK 2.0.2 sends them (reference capture) ---------------

def run_task(task_id: str, model: str = "cosyvoice-v3-flash", **parameters: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"voice": "longanyang", "volume": 50, "text_type": "PlainText",
                              "sample_rate": 22050, "rate": 1.0, "format": "pcm", "pitch": 1.0,
                              "seed": 0, "type": 0}
    params.update(parameters)
    return {"header": {"action": "run-task", "task_id": task_id, "streaming": "duplex"},
            "payload": {"model": model, "task_group": "audio", "task": "tts",
                        "function": "SpeechSynthesizer", "input": {}, "parameters": params}}


def continue_task(task_id: str, text: str | None = None, *, flush: bool = False,
                  model: str = "cosyvoice-v3-flash") -> dict[str, Any]:
    data: dict[str, Any] = {"flush": True} if flush else {"text": text}
    return {"header": {"action": "continue-task", "task_id": task_id, "streaming": "duplex"},
            "payload": {"model": model, "task_group": "audio", "task": "tts",
                        "function": "SpeechSynthesizer", "input": data}}


def finish_task(task_id: str, directive: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"directive": directive} if directive else {}
    return {"header": {"action": "finish-task", "task_id": task_id, "streaming": "duplex"},
            "payload": {"input": data}}


class WsSession:
    """A raw ``websockets`` client speaking the protocol, for what the SDK cannot show."""

    def __init__(self, server: ServerHandle, key: str = "sk-test", path: str = "/api-ws/v1/inference",
                 headers: dict[str, str] | None = None) -> None:
        self.url = f"{server.ws_base_url}{path}"
        self.headers = {"Authorization": f"Bearer {key}", **(headers or {})}
        self.ws: Any = None

    async def __aenter__(self) -> "WsSession":
        import websockets

        self.ws = await websockets.connect(self.url, additional_headers=self.headers)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.ws.close()

    async def send(self, message: dict[str, Any]) -> None:
        import json

        await self.ws.send(json.dumps(message, ensure_ascii=False))

    async def recv(self, timeout: float = 10.0) -> Any:
        """The next message: a dict for JSON events, bytes for audio frames."""
        import asyncio
        import json

        message = await asyncio.wait_for(self.ws.recv(), timeout)
        return json.loads(message) if isinstance(message, str) else message

    async def until(self, event: str, timeout: float = 10.0) -> list[Any]:
        """Every message up to and including the first of kind ``event`` (see :func:`event_kind`)."""
        seen: list[Any] = []
        while True:
            message = await self.recv(timeout)
            seen.append(message)
            if event_kind(message) == event:
                return seen


def event_kind(message: Any) -> str:
    """'audio' for a binary frame, else the event or the result type (sentence-begin, ...)."""
    if isinstance(message, bytes):
        return "audio"
    header = message["header"]
    if header["event"] == "result-generated":
        return message["payload"]["output"]["type"]
    return header["event"]
