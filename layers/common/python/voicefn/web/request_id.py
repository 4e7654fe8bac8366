"""Pure-ASGI middleware: one request id per HTTP request / WebSocket, plus one access-log line.

The id comes from FC (``x-fc-request-id``) or the client (``x-request-id``), else a new uuid4;
it is bound into the logging contextvar while the app runs and echoed as ``X-Request-Id``.
Messages pass straight through, so streaming bodies are never buffered.
"""

from __future__ import annotations

import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from voicefn.logging import bind_request_id, get_logger, reset_request_id

__all__ = ["RequestIdMiddleware", "REQUEST_ID_HEADER"]

REQUEST_ID_HEADER = "X-Request-Id"
_INCOMING = (b"x-fc-request-id", b"x-request-id")
_SAFE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")  # anything else could forge log lines
_START_TYPES = frozenset({"http.response.start", "websocket.accept", "websocket.http.response.start"})

_access = get_logger("voicefn.access")


def _incoming_id(scope: Scope) -> str | None:
    found: dict[bytes, bytes] = {}
    for key, value in scope.get("headers") or ():
        name = key.lower()
        if name in _INCOMING and name not in found:
            found[name] = value
    for name in _INCOMING:
        raw = found.get(name)
        if raw:
            rid = raw.decode("latin-1").strip()
            if _SAFE_ID.fullmatch(rid):
                return rid
    return None


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp, *, access_log: bool = True) -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        rid = _incoming_id(scope) or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        header = (REQUEST_ID_HEADER.lower().encode(), rid.encode())
        status: int | None = None
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] in _START_TYPES:
                status = message.get("status", 101)
                headers = list(message.get("headers") or ())
                if not any(k.lower() == header[0] for k, _ in headers):
                    headers.append(header)
                message = {**message, "headers": headers}
            await send(message)

        token = bind_request_id(rid)
        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            status = status or 500
            raise
        finally:
            if self.access_log:
                _access.info("request", extra={
                    "method": scope.get("method", "WEBSOCKET"), "path": scope.get("path"),
                    "status": status, "duration_ms": round((time.perf_counter() - started) * 1000, 1)})
            reset_request_id(token)
