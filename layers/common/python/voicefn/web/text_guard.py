"""Pure-ASGI guard: a JSON request body must be UTF-8 with no lone surrogate (issue 7).

Python's JSON decoder accepts both a ``"\\ud800"`` escape and the raw bytes ``ED A0 80``
(surrogatepass), and the string then fails wherever it is encoded: a 500 deep in a route. Here
the body is checked once before any route runs and refused as a 400 INVALID_PARAMETER in the
route's format, naming the field. Bodies with neither a surrogate escape nor invalid UTF-8 (all
ordinary ones) are only scanned, never parsed twice.
"""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from voicefn.errors import ApiError
from voicefn.text.validate import first_invalid_text
from voicefn.web.responses import error_response

__all__ = ["TextGuardMiddleware"]

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_METHODS = ("POST", "PUT", "PATCH")


def _is_json(scope: Scope) -> bool:
    for key, value in scope.get("headers") or ():
        if key.lower() == b"content-type":
            media = bytes(value).split(b";", 1)[0].strip().lower()
            return media == b"application/json" or media.endswith(b"+json")
    return False


def body_problem(body: bytes) -> ApiError | None:
    """Why ``body`` (a JSON request body) carries invalid text, or None."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and not _SURROGATE_ESCAPE.search(body):
        return None
    try:
        # as FastAPI will read it (surrogatepass), to find the field that holds the bad text
        value = json.loads(body.decode("utf-8", "surrogatepass")) if text is None else json.loads(text)
    except (ValueError, UnicodeDecodeError):
        if text is None:
            return ApiError("INVALID_PARAMETER", "request body is not valid UTF-8", param="body")
        return None  # malformed JSON: the route's own parser says so
    where = first_invalid_text(value)
    if where is None:
        return None
    return ApiError("INVALID_PARAMETER", f"invalid parameter '{where}': the text is not valid Unicode "
                    "(a lone surrogate or invalid UTF-8)", param=where)


class TextGuardMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in _METHODS or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left: let the app see it
                await self.app(scope, _replay([message], receive), send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        problem = body_problem(body)
        if problem is not None:
            await error_response(problem, scope.get("path", "/"))(scope, receive, send)
            return
        await self.app(scope, _replay([{"type": "http.request", "body": body, "more_body": False}], receive), send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()
    return replayed
