"""The account function's ASGI app (event function behind the FC3 HTTP trigger)."""

from __future__ import annotations

from fastapi import FastAPI

from voicefn.services import Services
from voicefn.web.app import build_app


def create_app(services: Services | None = None) -> FastAPI:
    """The app, on ``services`` (default: the instance's, ``get_services()``)."""
    from voicefn_account.routes import router
    from voicefn_account.playground_route import router as playground_router
    from voicefn_account.routes_uploads import router as uploads_router

    return build_app(title="voicefn account", description="History, API-key settings and upload tickets.",
                     routers=[router, uploads_router, playground_router], services=services)
