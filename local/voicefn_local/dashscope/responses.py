"""HTTP responses the emulator needs beyond Starlette's: streams that stop when the client goes
away, and connections cut mid-body (the ``drop`` fault)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

# Yielded by a stream body to cut the connection there: the response is never completed, so
# uvicorn closes the socket and the client sees a truncated body.
DROP = object()


class EventStream(Response):
    """``text/event-stream`` from an async iterator of byte chunks (or :data:`DROP`).

    The body stops being produced as soon as the client disconnects (uvicorn's ASGI 2.3 ``send``
    does not raise on a closed socket, so the disconnect is watched on ``receive``).
    """

    def __init__(self, chunks: AsyncIterator[Any], *, request_id: str) -> None:
        super().__init__(media_type="text/event-stream")  # a Response, so FastAPI passes it through
        self._chunks = chunks
        self._headers = [
            (b"content-type", b"text/event-stream; charset=utf-8"),
            (b"cache-control", b"no-cache"),
            (b"x-accel-buffering", b"no"),
            (b"x-dashscope-request-id", request_id.encode()),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        stream = asyncio.ensure_future(self._stream(send))
        watcher = asyncio.ensure_future(_wait_disconnect(receive))
        try:
            await asyncio.wait({stream, watcher}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (stream, watcher):
                task.cancel()
            await asyncio.gather(stream, watcher, return_exceptions=True)
        if stream.done() and not stream.cancelled() and stream.exception() is not None:
            raise stream.exception()  # type: ignore[misc]

    async def _stream(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self._headers})
        try:
            async for chunk in self._chunks:
                if chunk is DROP:
                    return
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        finally:
            aclose = getattr(self._chunks, "aclose", None)
            if aclose is not None:
                await aclose()  # stop the producer (no more engine calls) however we got here
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _wait_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


class TruncatedJSON(Response):
    """A JSON response whose connection is cut after half of the body (the ``drop`` fault)."""

    def __init__(self, content: dict[str, Any], status_code: int = 200) -> None:
        super().__init__(media_type="application/json")
        self._body = json.dumps(content, ensure_ascii=False).encode()
        self._status = status_code

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"application/json"),
                   (b"content-length", str(len(self._body)).encode())]
        await send({"type": "http.response.start", "status": self._status, "headers": headers})
        await send({"type": "http.response.body", "body": self._body[: len(self._body) // 2],
                    "more_body": True})
        # Returning without the final body message makes uvicorn close the socket.
