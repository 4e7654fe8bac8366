"""Driving the voice function as its clients do: samples, seed 003's polling loop, uploads."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.voicefn_local.dashscope.voice_helpers import speechlike_wav

MODEL = "cosyvoice-v3-flash"

__all__ = ["MODEL", "create_voice", "speechlike_wav", "upload_sample", "wait_for_voice_ready", "wait_ticket"]


def create_voice(client: httpx.Client, sample: bytes, prefix: str = "myvoice", model: str = MODEL,
                 filename: str = "sample.wav", content_type: str = "audio/wav") -> dict[str, Any]:
    """seed 003's ``createVoice``: a multipart form with file, prefix and target_model."""
    response = client.post("/api/audio/voice/create", data={"prefix": prefix, "target_model": model},
                           files={"file": (filename, sample, content_type)})
    return response.json()  # type: ignore[no-any-return]


def wait_for_voice_ready(client: httpx.Client, voice_id: str, max_attempts: int = 100,
                         interval_s: float = 0.2) -> dict[str, Any]:
    """seed 003's ``waitForVoiceReady`` (its 10 s interval shortened): GET until OK; UNDEPLOYED raises."""
    for _ in range(max_attempts):
        data = client.get(f"/api/audio/voice/{voice_id}").json()["data"]
        if data["status"] == "OK":
            return data  # type: ignore[no-any-return]
        if data["status"] == "UNDEPLOYED":
            raise AssertionError(f"音色审核未通过: {data}")
        time.sleep(interval_s)
    raise AssertionError("等待超时")


def upload_sample(client: httpx.Client, sample: bytes, voice: dict[str, Any] | None = None,
                  content_type: str = "audio/wav") -> dict[str, Any]:
    body: dict[str, Any] = {"purpose": "voice", "filename": "sample.wav", "content_type": content_type,
                            "size": len(sample)}
    if voice is not None:
        body["voice"] = voice
    ticket = client.post("/api/audio/uploads", json=body).json()
    assert ticket["code"] == 200, ticket
    data: dict[str, Any] = ticket["data"]
    httpx.put(data["put_url"], content=sample, headers=data["put_headers"]).raise_for_status()
    return data


def wait_ticket(client: httpx.Client, ticket_id: str, timeout_s: float = 30) -> dict[str, Any]:
    deadline = time.time() + timeout_s
    while True:
        ticket: dict[str, Any] = client.get(f"/api/audio/uploads/{ticket_id}").json()["data"]
        if ticket["status"] in ("REJECTED", "DONE") or time.time() > deadline:
            return ticket
        time.sleep(0.1)
