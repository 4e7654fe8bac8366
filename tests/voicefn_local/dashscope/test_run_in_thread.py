"""``run_in_thread``: a real uvicorn server in a daemon thread (HTTP, WebSocket, lifespan)."""

from __future__ import annotations

import contextlib
import socket

import httpx
import pytest
import websockets
from fastapi import FastAPI, WebSocket

from voicefn_local.servers import run_in_thread


def _app(events: list[str]) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):  # type: ignore[no-untyped-def]
        events.append("startup")
        yield
        events.append("shutdown")

    app = FastAPI(lifespan=lifespan)

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"pong": "yes"}

    @app.websocket("/echo")
    async def echo(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text(await websocket.receive_text())
        await websocket.close()

    return app


async def test_serves_http_and_websocket_with_lifespan() -> None:
    events: list[str] = []
    with run_in_thread(_app(events)) as server:
        assert events == ["startup"]
        assert server.base_url == f"http://127.0.0.1:{server.port}"
        assert server.ws_base_url == f"ws://127.0.0.1:{server.port}"
        assert httpx.get(f"{server.base_url}/ping").json() == {"pong": "yes"}
        async with websockets.connect(f"{server.ws_base_url}/echo") as ws:
            await ws.send("hi")
            assert await ws.recv() == "hi"
    assert events == ["startup", "shutdown"]
    assert not server.running
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=1).close()


def test_failed_startup_raises() -> None:
    @contextlib.asynccontextmanager
    async def broken(app: FastAPI):  # type: ignore[no-untyped-def]
        raise RuntimeError("no database")
        yield

    with pytest.raises(RuntimeError, match="startup"):
        run_in_thread(FastAPI(lifespan=broken))
