"""The account function's ASGI app (event function behind the FC3 HTTP trigger)."""

from __future__ import annotations

from fastapi import FastAPI

from voicefn.web.app import build_app


def create_app() -> FastAPI:
    from voicefn_account.routes import router
    from voicefn_account.routes_uploads import router as uploads_router

    return build_app(title="voicefn account", description="History, API-key settings and upload tickets.",
                     routers=[router, uploads_router])
