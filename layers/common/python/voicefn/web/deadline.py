"""Pure-ASGI request deadline: no HTTP request waits longer than ``request_deadline_s`` for the
start of its answer (issue 7: a non-streamed synthesis whose upstream dripped one frame every
4 s had not answered after 200 s).

Past the deadline the route is cancelled and the client gets 504 TIMEOUT in the route's format.
Once a response has started (a stream), the deadline no longer applies: a stream that stalls is
the streaming code's to end, visibly. WebSockets are not HTTP requests and are left alone.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from voicefn.errors import ApiError
from voicefn.logging import get_logger
from voicefn.web.responses import error_response

__all__ = ["DeadlineMiddleware"]

_log = get_logger("voicefn.web")


def _configured_deadline() -> float:
    from voicefn.settings import get_settings

    return float(get_settings().request_deadline_s)


class DeadlineMiddleware:
    def __init__(self, app: ASGIApp, deadline_s: Callable[[], float] = _configured_deadline) -> None:
        self.app = app
        self.deadline_s = deadline_s  # read per request: settings may change (tests, reloads)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        deadline = self.deadline_s() if scope["type"] == "http" else 0.0
        if deadline <= 0:
            await self.app(scope, receive, send)
            return
        started = asyncio.Event()

        async def tracking_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                started.set()
            await send(message)

        route = asyncio.ensure_future(self.app(scope, receive, tracking_send))
        began = asyncio.ensure_future(started.wait())
        try:
            await asyncio.wait({route, began}, timeout=deadline, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:  # the server cancelled us (client gone, shutdown): stop the route too
            route.cancel()
            began.cancel()
            raise
        began.cancel()
        if route.done() or started.is_set():
            await route  # finished, or streaming: no deadline for the rest of the body
            return
        route.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await route
        if started.is_set():  # it started while being cancelled: too late for an error body
            return
        _log.warning("request deadline passed", extra={"path": scope.get("path"), "deadline_s": deadline})
        err = ApiError("TIMEOUT", f"the request did not finish within {deadline:g} s")
        await error_response(err, scope.get("path", "/"))(scope, receive, send)
