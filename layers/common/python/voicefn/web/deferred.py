"""The web function's outer ASGI app: ``/health`` at once, the function's app once it is built.

A cold instance spent most of its time to the first ``/health`` importing FastAPI and building
routes that ``/health`` does not need (issue 13). Here the server listens first and answers
``GET /health`` from this module (nothing but the standard library and ``voicefn.clock``), while
the function's app is imported and built in a worker thread started with the server. Any other
request waits for that build (the first real request pays what is left of it, no more), then
the app's own lifespan startup, run once; from then on every request, ``/health`` too, goes
straight to the app, with all its middlewares. A build that fails is raised to the server at
every request that needs the app (no half-built app serves), and ``/health`` then answers 503.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from collections.abc import Callable
from typing import Any

__all__ = ["DeferredApp", "health_body"]

Scope = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]
_START_TIMEOUT_S = 120.0


def health_body() -> dict[str, str]:
    """seed 000's ``{"status": "ok"}`` plus seed 002's ``timestamp`` (UTC, ISO-8601)."""
    from voicefn.clock import utc_now

    return {"status": "ok", "timestamp": utc_now()}


class DeferredApp:
    def __init__(self, build: Callable[[], Any]) -> None:
        self._build = build
        self._app: Any = None
        self._error: BaseException | None = None
        self._built = threading.Event()
        self._thread: threading.Thread | None = None
        self._ready: asyncio.Future[None] | None = None  # the app's lifespan has started
        self._lifespan: _AppLifespan | None = None

    def start_building(self) -> None:
        """Build the app in a worker thread (idempotent)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run_build, name="voicefn-app-build", daemon=True)
            self._thread.start()

    def _run_build(self) -> None:
        try:
            self._app = self._build()
        except BaseException as exc:  # noqa: BLE001 - reported to the requests that need the app
            self._error = exc
        finally:
            self._built.set()

    async def app(self) -> Any:
        """The built app, its lifespan started (waits for both)."""
        self.start_building()
        if not self._built.is_set():
            await asyncio.get_running_loop().run_in_executor(None, self._built.wait)
        if self._error is not None:
            raise RuntimeError(f"the function's app could not be built: {self._error!r}") from self._error
        if self._ready is None:
            self._ready = asyncio.get_running_loop().create_future()
            self._lifespan = _AppLifespan(self._app)
            try:
                await self._lifespan.startup()
            except BaseException as exc:
                self._ready.set_exception(exc)
                self._ready.exception()  # retrieved: later callers re-raise it themselves
                raise
            self._ready.set_result(None)
        else:
            await asyncio.shield(self._ready)
        return self._app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self._serve_lifespan(receive, send)
            return
        if (self._ready is None or not self._ready.done()) and kind == "http" and _is_health(scope):
            await _send_health(scope, send, failed=self._error is not None)
            return
        app = await self.app()
        await app(scope, receive, send)

    async def _serve_lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.start_building()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._lifespan is not None:
                    await self._lifespan.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return


def _is_health(scope: Scope) -> bool:
    return scope.get("method") in ("GET", "HEAD") and scope.get("path") == "/health"


async def _send_health(scope: Scope, send: Send, *, failed: bool) -> None:
    # what the app's /health answers, with the request id its middleware would echo; an instance
    # whose app failed to build is not healthy (503), so the platform does not keep it
    from voicefn.web.request_id import REQUEST_ID_HEADER, _incoming_id

    rid = _incoming_id(scope) or uuid.uuid4().hex
    status = 503 if failed else 200
    body = json.dumps({"status": "unavailable", "error": "the function's app could not be built"}
                      if failed else health_body()).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               (REQUEST_ID_HEADER.lower().encode(), rid.encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if scope.get("method") == "HEAD" else body})
    from voicefn.logging import bind_request_id, get_logger, reset_request_id

    token = bind_request_id(rid)  # the access line the app's middleware would write
    try:
        get_logger("voicefn.access").info("request", extra={
            "method": scope.get("method"), "path": scope.get("path"), "status": status, "duration_ms": 0.0})
    finally:
        reset_request_id(token)


class _AppLifespan:
    """Runs the built app's lifespan protocol as a task (an app without one is fine too)."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self._to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._supported = True

    async def startup(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}
        self._task = asyncio.get_running_loop().create_task(self._run(scope))
        await self._to_app.put({"type": "lifespan.startup"})
        message = await asyncio.wait_for(self._from_app.get(), _START_TIMEOUT_S)
        if message["type"] == "lifespan.startup.failed":
            raise RuntimeError(f"the function's lifespan startup failed: {message.get('message', '')}")
        if message["type"] == "_exited":
            self._supported = False

    async def shutdown(self) -> None:
        if self._task is None or not self._supported or self._task.done():
            return
        await self._to_app.put({"type": "lifespan.shutdown"})
        try:
            await asyncio.wait_for(self._from_app.get(), 10.0)
            await asyncio.wait_for(self._task, 10.0)
        except asyncio.TimeoutError:
            self._task.cancel()

    async def _run(self, scope: Scope) -> None:
        try:
            await self._app(scope, self._to_app.get, self._from_app.put)
        except Exception:  # noqa: BLE001 - an app that raises on lifespan does not support it (ASGI)
            pass
        await self._from_app.put({"type": "_exited"})
