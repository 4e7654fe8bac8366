"""Request id, CORS, body-size guard, and streaming through the middleware stack."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from voicefn.logging import get_request_id
from voicefn.web.body_limit import BodySizeLimitMiddleware
from voicefn.web.request_id import RequestIdMiddleware


def _log_lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


# ---------------------------------------------------------------------------------------------
# request id

def test_request_id_generated_and_echoed(app, capsys) -> None:
    client = TestClient(app)
    resp = client.get("/health")
    rid = resp.headers["x-request-id"]
    assert len(rid) == 32 and int(rid, 16) >= 0
    access = [line for line in _log_lines(capsys.readouterr().out) if line["logger"] == "voicefn.access"]
    assert access[-1]["request_id"] == rid
    assert access[-1]["path"] == "/health" and access[-1]["status"] == 200 and access[-1]["method"] == "GET"


def test_request_id_from_fc_header_wins(app) -> None:
    client = TestClient(app)
    resp = client.get("/health", headers={"x-fc-request-id": "1-64f6cd87-abc", "x-request-id": "client-1"})
    assert resp.headers["x-request-id"] == "1-64f6cd87-abc"
    resp = client.get("/health", headers={"x-request-id": "client-1"})
    assert resp.headers["x-request-id"] == "client-1"


def test_unsafe_request_id_is_replaced(app) -> None:
    resp = TestClient(app).get("/health", headers={"x-request-id": 'x"\n{"forged": 1}'})
    assert resp.headers["x-request-id"] != 'x"\n{"forged": 1}'
    assert len(resp.headers["x-request-id"]) == 32


async def test_request_id_bound_for_http_and_websocket_and_reset() -> None:
    seen: list[str | None] = []

    async def inner(scope, receive, send) -> None:
        seen.append(get_request_id())
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b""})
        else:
            await send({"type": "websocket.accept"})

    sent: list[dict] = []

    async def send(message) -> None:
        sent.append(message)

    async def receive() -> dict:
        return {"type": "http.request", "body": b""}

    mw = RequestIdMiddleware(inner)
    await mw({"type": "http", "method": "GET", "path": "/", "headers": [(b"x-request-id", b"h-1")]}, receive, send)
    await mw({"type": "websocket", "path": "/ws", "headers": [(b"x-fc-request-id", b"ws-1")]}, receive, send)
    assert seen == ["h-1", "ws-1"]
    assert (b"x-request-id", b"h-1") in sent[0]["headers"]
    assert sent[2]["type"] == "websocket.accept" and (b"x-request-id", b"ws-1") in sent[2]["headers"]
    assert get_request_id() is None  # reset after the request


# ---------------------------------------------------------------------------------------------
# CORS

def test_cors_preflight_with_configured_origins(app_factory) -> None:
    client = TestClient(app_factory(cors_origins=("https://app.example", "https://admin.example")))
    resp = client.options("/api/audio/x", headers={
        "Origin": "https://app.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert resp.status_code == 200
    assert resp.headers["access-control-allow-origin"] == "https://app.example"
    assert resp.headers["access-control-allow-credentials"] == "true"
    assert "POST" in resp.headers["access-control-allow-methods"]
    assert "authorization" in resp.headers["access-control-allow-headers"].lower()

    resp = client.options("/api/audio/x", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert resp.status_code == 400
    assert "access-control-allow-origin" not in resp.headers

    # simple request: error responses carry CORS headers and expose the request id
    resp = client.get("/api/audio/nope", headers={"Origin": "https://admin.example"})
    assert resp.status_code == 404
    assert resp.headers["access-control-allow-origin"] == "https://admin.example"
    assert "x-request-id" in resp.headers["access-control-expose-headers"].lower()


def test_cors_wildcard_has_no_credentials(app_factory) -> None:
    client = TestClient(app_factory(cors_origins=("*",)))
    resp = client.options("/api/audio/x", headers={"Origin": "https://any.example",
                                                     "Access-Control-Request-Method": "POST"})
    assert resp.status_code == 200
    assert resp.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in resp.headers


# ---------------------------------------------------------------------------------------------
# body-size guard

def test_content_length_over_limit_is_413_in_route_format(app_factory) -> None:
    client = TestClient(app_factory(max_body_bytes=1024))
    big = b"x" * 2048
    resp = client.post("/api/audio/echo", content=big)
    assert resp.status_code == 413
    assert resp.json()["error"] == "PAYLOAD_TOO_LARGE" and resp.json()["code"] == 413
    assert resp.headers["x-request-id"]
    resp = client.post("/v1/x", content=big, headers={"content-type": "application/json"})
    assert resp.status_code == 413 and resp.json()["error"]["code"] == "payload_too_large"
    resp = client.post("/api/tts", content=big, headers={"content-type": "application/json"})
    assert resp.status_code == 413 and resp.json()["error"] == "PAYLOAD_TOO_LARGE"
    assert client.post("/api/audio/echo", content=b"x" * 1024).json()["data"]["size"] == 1024


def _chunks(total: int, size: int = 256):
    sent = 0
    while sent < total:
        n = min(size, total - sent)
        sent += n
        yield b"x" * n


@pytest.mark.parametrize("path", ["/api/audio/echo", "/api/audio/stream-read", "/api/audio/x", "/v1/x"])
def test_streamed_body_without_content_length_is_limited(app_factory, path: str) -> None:
    client = TestClient(app_factory(max_body_bytes=1024), raise_server_exceptions=False)
    resp = client.post(path, content=_chunks(4096), headers={"content-type": "application/json"})
    assert resp.status_code == 413, resp.text
    if path.startswith("/v1/"):
        assert resp.json()["error"]["code"] == "payload_too_large"
    else:
        assert resp.json()["error"] == "PAYLOAD_TOO_LARGE"


def test_streamed_body_under_limit_passes(app_factory) -> None:
    client = TestClient(app_factory(max_body_bytes=1024))
    resp = client.post("/api/audio/stream-read", content=_chunks(1000))
    assert resp.status_code == 200 and resp.json()["data"]["size"] == 1000


async def test_body_limit_answers_even_when_the_app_swallows_the_error() -> None:
    async def sloppy_app(scope, receive, send) -> None:
        try:
            while (await receive()).get("more_body"):
                pass
        except Exception:
            pass  # pretends nothing happened and answers 200
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    chunks = [{"type": "http.request", "body": b"x" * 600, "more_body": True}] * 3
    sent: list[dict] = []

    async def receive() -> dict:
        return chunks.pop(0)

    async def send(message) -> None:
        sent.append(message)

    await BodySizeLimitMiddleware(sloppy_app, max_bytes=1000)(
        {"type": "http", "method": "POST", "path": "/v1/x", "headers": []}, receive, send)
    assert sent[0]["status"] == 413
    assert json.loads(sent[1]["body"])["error"]["code"] == "payload_too_large"
    assert len(sent) == 2


# ---------------------------------------------------------------------------------------------
# streaming through every middleware (ASGI level: no buffering anywhere in the stack)

async def test_streaming_response_is_not_buffered(app) -> None:
    release = asyncio.Event()
    app.state.stream_gate = release.wait
    first_chunk = asyncio.Event()
    messages: list[dict] = []

    async def send(message) -> None:
        messages.append(message)
        if message["type"] == "http.response.body" and message.get("body") == b"first":
            first_chunk.set()

    disconnected = asyncio.Event()

    async def receive() -> dict:
        if not hasattr(receive, "done"):
            receive.done = True  # type: ignore[attr-defined]
            return {"type": "http.request", "body": b"", "more_body": False}
        await disconnected.wait()
        return {"type": "http.disconnect"}

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
             "scheme": "http", "path": "/api/audio/stream", "raw_path": b"/api/audio/stream",
             "query_string": b"", "root_path": "", "headers": [(b"host", b"test")],
             "client": ("127.0.0.1", 1), "server": ("test", 80)}
    task = asyncio.create_task(app(scope, receive, send))
    # the generator is blocked on `release`: the first chunk must already be out
    await asyncio.wait_for(first_chunk.wait(), timeout=5)
    assert not task.done()
    start = messages[0]
    assert start["type"] == "http.response.start" and start["status"] == 200
    assert any(k == b"x-request-id" for k, _ in start["headers"])
    release.set()
    await asyncio.wait_for(task, timeout=5)
    disconnected.set()
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    assert body == b"firstsecond"


async def test_failure_mid_stream_aborts_instead_of_ending_cleanly(app) -> None:
    messages: list[dict] = []

    async def send(message) -> None:
        messages.append(message)

    async def receive() -> dict:
        await asyncio.sleep(10)
        return {"type": "http.disconnect"}

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
             "scheme": "http", "path": "/api/audio/stream-fails", "raw_path": b"/api/audio/stream-fails",
             "query_string": b"", "root_path": "", "headers": [], "client": ("127.0.0.1", 1),
             "server": ("test", 80)}
    with pytest.raises(Exception):
        await app(scope, receive, send)
    assert messages[0]["status"] == 200
    # no final `more_body: False` message: the server will drop the connection
    assert not any(m["type"] == "http.response.body" and not m.get("more_body", False) for m in messages)
