"""A tiny app built with build_app, with one route per error family and per middleware concern."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from fastapi import APIRouter, Depends, FastAPI, Request, WebSocket
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field

from voicefn.auth.principal import Principal
from voicefn.errors import ApiError
from voicefn.settings import Settings, get_settings, reset_settings
from voicefn.web.app import build_app, ok
from voicefn.web.deps import current_principal

JWT_SECRET = "test-secret-for-hs256-0123456789abcdef"
SERVICE_KEY = "svc-key-0123456789"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator[Settings]:
    """A clean local-runtime environment with a JWT secret and one service key."""
    for name in list(os.environ):
        if name.startswith(("VOICEFN_", "FC_")) or name == "DASHSCOPE_API_KEY":
            monkeypatch.delenv(name)
    monkeypatch.setenv("VOICEFN_RUNTIME", "local")
    monkeypatch.setenv("VOICEFN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("VOICEFN_JWT_SECRET", JWT_SECRET)
    monkeypatch.setenv("VOICEFN_SERVICE_KEYS", f"billing:{SERVICE_KEY}")
    reset_settings()
    yield get_settings()
    reset_settings()


class Item(BaseModel):
    text: str = Field(min_length=1)
    count: int = 1


def _router() -> APIRouter:
    r = APIRouter()

    # one route per error format
    @r.post("/api/audio/x")
    async def audio_x(item: Item) -> dict:
        return ok(item.model_dump())

    @r.get("/api/audio/x")
    async def audio_x_get(page: int = 0) -> dict:
        return ok({"page": page})

    @r.post("/v1/x")
    async def v1_x(item: Item) -> dict:
        return {"object": "x", "text": item.text}

    @r.post("/api/tts")
    async def seed000_tts(item: Item) -> dict:
        return {"taskId": "t1", "text_length": len(item.text)}

    @r.get("/api/audio/raise/{code}")
    @r.get("/v1/raise/{code}")
    @r.get("/api/tts/raise/{code}")
    async def raise_api_error(code: str) -> dict:
        raise ApiError(code, f"raised {code}", retry_after=2.5 if code == "RATE_LIMITED" else None)

    @r.get("/api/audio/upstream/{status}")
    @r.get("/v1/upstream/{status}")
    async def upstream(status: int) -> dict:
        from voicefn.dashscope.errors import UpstreamError

        code = {429: "Throttling.RateQuota", 500: "InternalError", 408: "RequestTimeOut"}[status]
        raise UpstreamError(code, "upstream said no", http_status=status, request_id="ds-req-1", retry_after=1)

    @r.get("/api/audio/boom")
    @r.get("/v1/boom")
    @r.get("/api/tts/boom")
    async def boom() -> dict:
        raise RuntimeError("kaboom with secret sk-abcdefghijklmnop")

    # body handling
    @r.post("/api/audio/echo")
    async def echo(request: Request) -> dict:
        body = await request.body()
        return ok({"size": len(body), "sha256": hashlib.sha256(body).hexdigest()})

    @r.post("/api/audio/stream-read")
    async def stream_read(request: Request) -> dict:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
        return ok({"size": size})

    @r.get("/api/audio/query")
    async def query(request: Request) -> dict:
        return ok({k: request.query_params.getlist(k) for k in request.query_params})

    @r.get("/api/audio/path/{name}")
    async def path_param(name: str) -> dict:
        return ok({"name": name})

    @r.get("/api/audio/binary")
    async def binary() -> Response:
        return Response(bytes(range(256)), media_type="audio/mpeg")

    @r.get("/api/audio/cookies")
    async def cookies() -> Response:
        resp = Response(b"{}", media_type="application/json")
        resp.set_cookie("a", "1")
        resp.set_cookie("b", "2")
        return resp

    # streaming: the generator blocks until the test releases it
    @r.get("/api/audio/stream")
    async def stream(request: Request) -> StreamingResponse:
        gate: Callable[[], object] = request.app.state.stream_gate

        async def gen():
            yield b"first"
            waited = gate()
            if asyncio.iscoroutine(waited):
                await waited
            else:
                await asyncio.to_thread(waited.wait, 10)  # threading.Event
            yield b"second"

        return StreamingResponse(gen(), media_type="audio/mpeg")

    @r.get("/api/audio/stream-fails")
    async def stream_fails() -> StreamingResponse:
        async def gen():
            yield b"first"
            raise RuntimeError("upstream died")

        return StreamingResponse(gen(), media_type="audio/mpeg")

    # auth
    @r.get("/api/audio/me")
    async def me(principal: Principal = Depends(current_principal)) -> dict:
        return ok({"user_id": principal.user_id, "kind": principal.kind, "service": principal.service})

    @r.websocket("/api/audio/ws")
    async def ws(websocket: WebSocket, principal: Principal = Depends(current_principal)) -> None:
        await websocket.accept()
        await websocket.send_json({"user_id": principal.user_id, "kind": principal.kind})
        await websocket.close()

    @r.websocket("/v1/ws-boom")
    async def ws_boom(websocket: WebSocket) -> None:
        await websocket.accept()
        raise RuntimeError("socket handler bug")

    return r


def make_app(settings: Settings | None = None, **kw) -> FastAPI:
    return build_app(title="test", description="tiny test app", routers=[_router()], settings=settings, **kw)


@pytest.fixture
def app_factory(env: Settings) -> Callable[..., FastAPI]:
    def factory(**kw) -> FastAPI:
        settings = kw.pop("settings", None) or env
        if "cors_origins" in kw:
            settings = replace(settings, cors_origins=kw.pop("cors_origins"))
        return make_app(settings, **kw)
    return factory


@pytest.fixture
def app(app_factory) -> FastAPI:
    return app_factory()
