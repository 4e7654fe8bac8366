"""``build_app``: one FastAPI app per function, with the shared error formats and middlewares."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.middleware.cors import CORSMiddleware

import voicefn
from voicefn.limits.meter import MeterMiddleware
from voicefn.logging import configure_logging
from voicefn.services import Services, get_services
from voicefn.settings import Settings
from voicefn.web.deferred import health_body
from voicefn.web.body_limit import DEFAULT_MAX_BODY_BYTES, BodySizeLimitMiddleware
from voicefn.web.deadline import DeadlineMiddleware
from voicefn.web.handlers import install_error_handlers
from voicefn.web.openapi_docs import ASSETS_PATH, asset_response, install_openapi, redoc_page, swagger_page
from voicefn.web.request_id import REQUEST_ID_HEADER, RequestIdMiddleware
from voicefn.web.responses import ok
from voicefn.web.routing import plain_router
from voicefn.web.text_guard import TextGuardMiddleware
from voicefn.web.unhandled import UnhandledErrorMiddleware

__all__ = ["build_app", "health_body", "ok"]

_health = plain_router()


@_health.get("/health", tags=["meta"], summary="Liveness check (no auth)")
async def health() -> dict[str, str]:
    return health_body()


_docs = plain_router(include_in_schema=False)


@_docs.get("/docs")
async def swagger(request: Request) -> Response:
    root = request.scope.get("root_path", "").rstrip("/")
    return swagger_page(root + "/openapi.json", request.app.title, root + ASSETS_PATH)


@_docs.get("/redoc")
async def redoc(request: Request) -> Response:
    root = request.scope.get("root_path", "").rstrip("/")
    return redoc_page(root + "/openapi.json", request.app.title, root + ASSETS_PATH)


@_docs.get(ASSETS_PATH + "/{name}")
async def docs_asset(name: str) -> Response:
    return asset_response(name)


def build_app(*, title: str, description: str = "", routers: Sequence[APIRouter] = (),
              version: str = voicefn.__version__, services: Services | None = None,
              settings: Settings | None = None, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> FastAPI:
    """A function's ASGI app: its routers, ``GET /health``, docs, error formats, middlewares.

    ``services`` are the instance's adapters, kept on ``app.state.services`` for ``ServicesDep``
    (default: ``Services(settings)`` when only settings are given, else the instance's).

    Middleware order, outermost first: request id (so every line and response carries it),
    CORS (so error responses are readable cross-origin too), body-size guard, last-resort 500.
    """
    if services is None:
        services = Services(settings) if settings is not None else get_services()
    settings = services.settings
    configure_logging(settings.log_level)

    # docs pages of our own: assets from the project when installed (no CDN), real error answers
    app = FastAPI(title=title, description=description, version=version, docs_url=None, redoc_url=None)
    app.state.services = services
    app.include_router(_health)
    app.include_router(_docs)
    for router in routers:
        app.include_router(router)
    install_error_handlers(app)
    install_openapi(app)

    # add_middleware wraps: the last added is the outermost
    app.add_middleware(MeterMiddleware)  # spend holds released when the response (or stream) ends
    app.add_middleware(UnhandledErrorMiddleware)
    app.add_middleware(DeadlineMiddleware)  # its 504 still passes the request id and CORS layers
    app.add_middleware(TextGuardMiddleware)  # inside the size guard: it reads bounded bodies only
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=max_body_bytes)
    origins = list(settings.cors_origins) or ["*"]
    wildcard = "*" in origins
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"] if wildcard else origins,
        allow_credentials=not wildcard,  # browsers refuse credentials with "*"
        allow_methods=["*"],
        allow_headers=["*"],
        expose_headers=[REQUEST_ID_HEADER, "Retry-After", "Content-Disposition"],
        max_age=600,
    )
    app.add_middleware(RequestIdMiddleware)
    return app
