"""The deferred web app: /health answers while the function's app is built; the rest waits for it."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import pytest

from voicefn.web.deferred import DeferredApp


class TinyApp:
    """An ASGI app that records its lifespan and answers every request with its path."""

    def __init__(self) -> None:
        self.started = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    self.started += 1
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": f"app:{scope['path']}".encode()})


async def call(app: DeferredApp, path: str,
               headers: list[tuple[bytes, bytes]] | None = None) -> tuple[int, dict, bytes]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app({"type": "http", "method": "GET", "path": path, "headers": headers or []}, receive, send)
    return sent[0]["status"], dict(sent[0]["headers"]), b"".join(m.get("body", b"") for m in sent[1:])


def test_health_answers_before_the_app_is_built_and_the_rest_waits_for_it() -> None:
    release = threading.Event()
    tiny = TinyApp()

    def build() -> TinyApp:
        release.wait(10)
        return tiny

    async def run() -> None:
        app = DeferredApp(build)
        app.start_building()
        status, headers, body = await call(app, "/health", [(b"x-request-id", b"rid-1")])
        assert status == 200 and json.loads(body)["status"] == "ok" and headers[b"x-request-id"] == b"rid-1"
        waiting = asyncio.ensure_future(call(app, "/api/x"))
        await asyncio.sleep(0.1)
        assert not waiting.done()  # the app is not built yet
        release.set()
        assert await asyncio.wait_for(waiting, 10) == (201, {}, b"app:/api/x")
        assert tiny.started == 1  # its lifespan started once, before its first request
        assert (await call(app, "/health"))[2] == b"app:/health"  # from now on the app answers everything
        assert tiny.started == 1

    asyncio.run(run())


def test_a_failed_build_fails_every_request_that_needs_the_app() -> None:
    def build() -> TinyApp:
        raise ImportError("no such module")

    async def run() -> None:
        app = DeferredApp(build)
        for _ in range(2):
            with pytest.raises(RuntimeError, match="could not be built"):
                await call(app, "/api/x")
        assert (await call(app, "/health"))[0] == 503  # not healthy: the platform replaces the instance

    asyncio.run(run())
