"""Pure-ASGI last resort: any exception the app did not handle becomes a 500 in the route's format.

Starlette's own 500 handler sits outside every user middleware, so its response would lack the
request id and CORS headers; this one sits inside them. The traceback goes to the (redacted)
log, never to the client, who gets the request id to quote instead.
"""

from __future__ import annotations

import contextlib
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from voicefn.errors import ApiError, render_error
from voicefn.logging import get_logger, get_request_id
from voicefn.web.responses import error_response

__all__ = ["UnhandledErrorMiddleware", "internal_error"]

_log = get_logger("voicefn.web")


def internal_error() -> ApiError:
    rid = get_request_id()
    suffix = f" (request id {rid})" if rid else ""
    return ApiError("INTERNAL_ERROR", f"internal server error{suffix}")


class UnhandledErrorMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            if started:
                # too late for an error body; re-raise so the server aborts the response and
                # the client sees a broken stream rather than a short "complete" one
                _log.exception("response failed after it started", extra={"path": scope.get("path")})
                raise
            _log.exception("unhandled error", extra={"path": scope.get("path")})
            await error_response(internal_error(), scope.get("path", "/"))(scope, receive, send)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = "connecting"

        async def tracking_send(message: Message) -> None:
            nonlocal state
            if message["type"] == "websocket.accept":
                state = "open"
            elif message["type"] in ("websocket.close", "websocket.http.response.start"):
                state = "closed"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            _log.exception("unhandled websocket error", extra={"path": scope.get("path")})
            if state == "closed":
                return
            err = internal_error()
            with contextlib.suppress(Exception):  # the peer may already be gone
                if state == "open":
                    body = json.dumps(render_error(err, scope.get("path", "/")), ensure_ascii=False)
                    await send({"type": "websocket.send", "text": body})
                await send({"type": "websocket.close", "code": 1011, "reason": "internal error"})
