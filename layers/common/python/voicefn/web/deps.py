"""FastAPI dependencies: this instance's adapters and who is calling.

Both work for HTTP and WebSocket alike (``HTTPConnection``). Routes declare them with the aliases::

    async def route(services: ServicesDep, principal: PrincipalDep) -> ...

Tests swap either with ``app.dependency_overrides[services_dep] = lambda: my_services``.
Browsers and mini-programs cannot set headers on a WebSocket handshake, so there the token may
also come as ``?token=``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection
from starlette.websockets import WebSocket

from voicefn.auth.principal import ACTING_USER_HEADER, Principal, authenticate
from voicefn.services import Services, get_services

__all__ = ["ServicesDep", "PrincipalDep", "services_dep", "services_of", "current_principal",
           "principal_from_connection", "principal_from_websocket"]


def services_of(conn: HTTPConnection) -> Services:
    """The Services the app was built with (``build_app`` stores them on ``app.state``)."""
    app = conn.scope.get("app")
    services = getattr(getattr(app, "state", None), "services", None)
    return services if isinstance(services, Services) else get_services()


async def services_dep(conn: HTTPConnection) -> Services:
    """Dependency: the instance's adapters (``services: ServicesDep``)."""
    return services_of(conn)


def principal_from_connection(conn: HTTPConnection, services: Services | None = None) -> Principal:
    authorization = conn.headers.get("authorization")
    if not authorization and conn.scope.get("type") == "websocket":
        token = conn.query_params.get("token")
        if token:
            authorization = f"Bearer {token}"
    settings = (services or services_of(conn)).settings
    return authenticate(authorization, conn.headers.get(ACTING_USER_HEADER), settings)


async def current_principal(conn: HTTPConnection, services: Services = Depends(services_dep)) -> Principal:
    """Dependency: ``principal: PrincipalDep``; raises UNAUTHORIZED."""
    return principal_from_connection(conn, services)


def principal_from_websocket(ws: WebSocket) -> Principal:
    """For WebSocket handlers that authenticate themselves (e.g. after accept, to send an error frame)."""
    return principal_from_connection(ws)


ServicesDep = Annotated[Services, Depends(services_dep)]
PrincipalDep = Annotated[Principal, Depends(current_principal)]
