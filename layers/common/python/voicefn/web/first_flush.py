"""A streamed response whose first chunk leaves in the call that starts it (issue 13).

Starlette's ``StreamingResponse`` sends the start and the body from a task it spawns, one loop
turn after the route returned; with the first audio already in hand that turn is pure delay
(and on a busy loop it is the longest wait of a stream's first byte). Here the start and the
first chunk are sent at once; the rest streams as before, disconnects watched as before.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

__all__ = ["FirstChunkResponse"]


class FirstChunkResponse(StreamingResponse):
    body_iterator: AsyncIterator[bytes]

    def __init__(self, content: AsyncIterator[bytes], **kwargs: object) -> None:
        super().__init__(content, **kwargs)  # type: ignore[arg-type]
        self._head_sent = False
        self._ended = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._send_head(send)
        await super().__call__(scope, receive, send)

    async def _send_head(self, send: Send) -> None:
        try:
            first: bytes | None = await self.body_iterator.__anext__()
        except StopAsyncIteration:
            first = None
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        self._head_sent = True
        if first is None:
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            self._ended = True
        elif first:
            await send({"type": "http.response.body", "body": first, "more_body": True})

    async def stream_response(self, send: Send) -> None:
        if self._ended:
            return
        if not self._head_sent:
            await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
            self._head_sent = True
        async for chunk in self.body_iterator:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
