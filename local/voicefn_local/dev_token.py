"""``/_local/*``: what the playground's "use a local dev token" button calls (local mode only).

``GET /_local/mode`` says this is `voicefn serve` (the page shows the button only then);
``POST /_local/dev-token`` mints the JWT `voicefn token` would print. This module lives in the
local runtime: no function app and no deployed zip has it (``voicefn package`` leaves
``voicefn_local`` out), so a cloud deployment answers both with its gateway's 404.

It answers only loopback clients, and only same-origin browser requests (a page on another site
must not fetch a token from a developer's running server), with a JSON body or none.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.types import Receive, Scope, Send

from voicefn.auth.jwt import issue_token, local_jwt_secret
from voicefn.errors import ApiError, render_error
from voicefn.settings import Settings

__all__ = ["PREFIX", "DEFAULT_USER", "serve_local_route"]

PREFIX = "/_local"
DEFAULT_USER = "demo"      # the README's `voicefn token --user demo`
TOKEN_TTL_S = 86400
_USER = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
_MAX_BODY = 4096


async def serve_local_route(path: str, settings: Settings, scope: Scope, receive: Receive, send: Send) -> None:
    try:
        status, body = await _answer(path, settings, scope, receive)
    except ApiError as exc:
        status, body = exc.status, render_error(exc, path)
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()),
                            (b"cache-control", b"no-store")]})
    await send({"type": "http.response.body", "body": data})


async def _answer(path: str, settings: Settings, scope: Scope, receive: Receive) -> tuple[int, dict[str, Any]]:
    method = scope.get("method", "GET")
    if not _from_loopback(scope):
        raise ApiError("FORBIDDEN", "local dev routes answer this machine only")
    if path == f"{PREFIX}/mode" and method == "GET":
        return 200, {"code": 200, "message": "success",
                     "data": {"runtime": "local", "dev_token": True, "default_user": DEFAULT_USER}}
    if path == f"{PREFIX}/dev-token" and method == "POST":
        if not _same_origin(scope):
            raise ApiError("FORBIDDEN", "a dev token is given to this server's own page only")
        user = _user(await _read_body(receive))
        token = issue_token(user, local_jwt_secret(settings), ttl_s=TOKEN_TTL_S)
        return 200, {"code": 200, "message": "success",
                     "data": {"token": token, "user_id": user, "expires_in": TOKEN_TTL_S}}
    raise ApiError("NOT_FOUND", f"not found: {path}")


def _from_loopback(scope: Scope) -> bool:
    client = scope.get("client") or ("", 0)
    host = str(client[0])
    return host.startswith("127.") or host in ("::1", "localhost")


def _same_origin(scope: Scope) -> bool:
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    origin = headers.get("origin")
    if origin is None:  # not a browser's cross-site request (curl, a test)
        return headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none")
    return origin.split("://", 1)[-1] == headers.get("host", "")


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > _MAX_BODY:
            raise ApiError("INVALID_PARAMETER", "body too large")
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _user(body: bytes) -> str:
    if not body.strip():
        return DEFAULT_USER
    try:
        data = json.loads(body)
    except ValueError:
        raise ApiError("INVALID_PARAMETER", "body must be JSON: {\"user\": \"<id>\"}") from None
    user = data.get("user", DEFAULT_USER) if isinstance(data, dict) else None
    if not isinstance(user, str) or not _USER.fullmatch(user):
        raise ApiError("INVALID_PARAMETER", "user must be 1-64 letters, digits or _.@-", param="user")
    return user
