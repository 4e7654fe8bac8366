"""FastAPI dependencies: who is calling.

Works for HTTP and WebSocket alike (``HTTPConnection``). Browsers and mini-programs cannot set
headers on a WebSocket handshake, so there the token may also come as ``?token=``.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection
from starlette.websockets import WebSocket

from voicefn.auth.principal import ACTING_USER_HEADER, Principal, authenticate
from voicefn.settings import get_settings

__all__ = ["current_principal", "principal_from_connection", "principal_from_websocket"]


def principal_from_connection(conn: HTTPConnection) -> Principal:
    authorization = conn.headers.get("authorization")
    if not authorization and conn.scope.get("type") == "websocket":
        token = conn.query_params.get("token")
        if token:
            authorization = f"Bearer {token}"
    return authenticate(authorization, conn.headers.get(ACTING_USER_HEADER), get_settings())


async def current_principal(conn: HTTPConnection) -> Principal:
    """Dependency: ``principal: Principal = Depends(current_principal)``; raises UNAUTHORIZED."""
    return principal_from_connection(conn)


def principal_from_websocket(ws: WebSocket) -> Principal:
    """For WebSocket handlers that authenticate themselves (e.g. after accept, to send an error frame)."""
    return principal_from_connection(ws)
