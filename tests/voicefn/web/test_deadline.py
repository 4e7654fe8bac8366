"""Every HTTP request has an overall deadline: 504 TIMEOUT in the route's format (issue 7)."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from voicefn.web.deadline import DeadlineMiddleware
from voicefn.web.unhandled import UnhandledErrorMiddleware


def app_with_deadline(seconds: float) -> FastAPI:
    app = FastAPI()

    @app.get("/api/audio/slow")
    async def slow() -> dict:
        await asyncio.sleep(30)
        return {"never": True}

    @app.get("/v1/slow")
    async def slow_openai() -> dict:
        await asyncio.sleep(30)
        return {"never": True}

    @app.get("/api/audio/stream")
    async def stream() -> StreamingResponse:
        async def body():
            for _ in range(4):
                yield b"x" * 10
                await asyncio.sleep(seconds)  # the whole stream outlives the deadline
        return StreamingResponse(body())

    app.add_middleware(UnhandledErrorMiddleware)
    app.add_middleware(DeadlineMiddleware, deadline_s=lambda: seconds)
    return app


async def test_a_request_past_its_deadline_is_a_504_in_its_routes_format() -> None:
    transport = httpx.ASGITransport(app=app_with_deadline(0.3))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        started = time.monotonic()
        envelope = await client.get("/api/audio/slow")
        openai = await client.get("/v1/slow")
        elapsed = time.monotonic() - started
    assert envelope.status_code == 504
    assert envelope.json() == {"code": 504, "message": "the request did not finish within 0.3 s",
                               "error": "TIMEOUT", "data": None}
    assert openai.status_code == 504 and openai.json()["error"]["code"] == "timeout"
    assert elapsed < 3


async def test_a_stream_that_started_in_time_is_not_cut() -> None:
    transport = httpx.ASGITransport(app=app_with_deadline(0.2))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/api/audio/stream")
    assert response.status_code == 200 and response.content == b"x" * 40


@pytest.mark.usefixtures("no_faults")
def test_non_streamed_synthesis_with_a_dripping_upstream_answers_504(stack, monkeypatch) -> None:
    from tests.stack import reload_settings

    monkeypatch.setenv("VOICEFN_REQUEST_DEADLINE_S", "2")
    reload_settings()
    try:
        stack.set_faults([{"match": {"text_contains": "drip"},
                           "fault": {"kind": "slow_frames", "frame_delay_ms": 4000}}])
        with stack.client("deadline-user") as client:
            started = time.monotonic()
            response = client.post("/api/audio/tts/synthesize", json={
                "model": "cosyvoice-v3-flash", "voice": "longanyang",
                "text": "drip drip drip. A long sentence that takes many frames to say."})
            elapsed = time.monotonic() - started
    finally:
        monkeypatch.delenv("VOICEFN_REQUEST_DEADLINE_S")
        reload_settings()
    assert response.status_code == 504, response.text
    assert response.json()["error"] == "TIMEOUT"
    assert elapsed < 6
