"""API docs that tell the truth and work offline (issue 7).

- :func:`describe_app` rewrites a function app's OpenAPI document: a bearer ``securitySchemes``
  (so Swagger UI's "Authorize" works) on the routes that need a token; the error answers each
  route really gives, in its family's format (seed 003 envelope, OpenAI, seed 000), instead of
  FastAPI's 422 that voicefn never sends; and its WebSocket routes, which OpenAPI cannot
  describe, as ``x-websockets`` and a section of the description.
- :func:`swagger_page` / :func:`redoc_page` load Swagger UI and ReDoc from the project when the
  ``docs`` extra (fastapi-offline's copies of the assets) is installed, else from the CDN as
  FastAPI does; :func:`asset_response` serves those files.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.responses import FileResponse, HTMLResponse, Response

from voicefn.errors import error_format_for_path

__all__ = ["ASSETS_PATH", "asset_response", "describe_app", "redoc_page", "swagger_page"]

ASSETS_PATH = "/docs/assets"
_ASSETS = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css",
           "redoc.standalone.js": "text/javascript", "favicon.png": "image/png"}
BEARER = "bearerAuth"

_ERROR_SCHEMAS: dict[str, dict[str, Any]] = {
    "envelope": {"title": "ErrorEnvelope", "type": "object", "required": ["code", "message", "data"],
                 "description": "seed 003: `code` is the HTTP status, `error` the machine-readable code",
                 "properties": {"code": {"type": "integer", "example": 400},
                                "message": {"type": "string"},
                                "error": {"type": "string", "example": "INVALID_PARAMETER"},
                                "data": {"type": "null"}}},
    "openai": {"title": "OpenAIError", "type": "object", "required": ["error"],
               "properties": {"error": {"type": "object", "properties": {
                   "message": {"type": "string"},
                   "type": {"type": "string", "example": "invalid_request_error"},
                   "param": {"type": ["string", "null"]},
                   "code": {"type": "string", "example": "invalid_parameter"}}}}},
    "seed000": {"title": "Seed000Error", "type": "object", "required": ["error", "message", "code"],
                "properties": {"error": {"type": "string", "example": "INVALID_PARAMETER"},
                               "message": {"type": "string"},
                               "code": {"type": "string", "example": "InvalidParameter"}}},
}
_SUCCESS_ENVELOPE = {"title": "Envelope", "type": "object", "required": ["code", "message", "data"],
                     "properties": {"code": {"type": "integer", "example": 200},
                                    "message": {"type": "string", "example": "success"},
                                    "data": {"description": "the route's result (see its description)"}}}
_WHY = {
    "400": "bad input (INVALID_PARAMETER, INVALID_MODEL, INVALID_VOICE, INVALID_AUDIO, TEXT_TOO_LONG, ...)",
    "401": "missing or invalid bearer token (UNAUTHORIZED)",
    "403": "no DashScope API key configured for you (NO_API_KEY)",
    "404": "no such resource, or not yours (TASK_NOT_FOUND, VOICE_NOT_FOUND, NOT_FOUND)",
    "413": "request body too large (PAYLOAD_TOO_LARGE)",
    "429": "throttled (RATE_LIMITED) or over your spend cap (SPEND_CAP_EXCEEDED); see Retry-After",
    "502": "DashScope failed (UPSTREAM_ERROR)",
    "504": "the request or DashScope ran past its deadline (TIMEOUT)",
}


def _routes(app: FastAPI) -> Iterator[tuple[str, Any, set[str]]]:
    """(full path, route, methods) of every route, through FastAPI 0.165's lazily included
    routers (older FastAPI lists them flat in ``app.routes``)."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # pragma: no cover - FastAPI < 0.165
        for route in app.routes:
            yield getattr(route, "path", ""), route, set(getattr(route, "methods", None) or ())
        return
    for context in iter_route_contexts(app.routes):
        yield context.path or "", context.original_route, set(context.methods or ())


def _dependency_calls(route: APIRoute) -> set[Any]:
    calls: set[Any] = set()
    pending = list(route.dependant.dependencies)
    while pending:
        dep = pending.pop()
        calls.add(dep.call)
        pending.extend(dep.dependencies)
    return calls


def _statuses(route: APIRoute, method: str, authenticated: bool) -> list[str]:
    """What this route can answer besides success (every route has a deadline: 504)."""
    out = ["504"]
    if authenticated:
        out.append("401")
    if method in ("post", "put", "patch") or route.dependant.query_params:
        out.append("400")
    if method in ("post", "put", "patch"):
        out.append("413")
    if route.dependant.path_params or method == "delete":
        out.append("404")
    if authenticated and (method == "post" or route.dependant.path_params):
        out += ["403", "429", "502"]  # the routes that call DashScope with your key
    return sorted(set(out))


def describe_app(app: FastAPI, spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` (the app's generated OpenAPI) with security, real error answers and WebSockets."""
    from voicefn.web.deps import current_principal

    components = spec.setdefault("components", {})
    components.setdefault("securitySchemes", {})[BEARER] = {
        "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
        "description": "a JWT whose `sub` is your user id (locally: `voicefn token --user you`)"}
    schemas = components.setdefault("schemas", {})
    for fmt, schema in _ERROR_SCHEMAS.items():
        schemas[schema["title"]] = schema
    schemas["Envelope"] = _SUCCESS_ENVELOPE
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    paths = spec.get("paths") or {}
    sockets: list[dict[str, str]] = []
    for path, route, methods in _routes(app):
        if isinstance(route, APIWebSocketRoute):
            sockets.append(_websocket(path, route))
            continue
        if not isinstance(route, APIRoute) or path not in paths:
            continue
        authenticated = current_principal in _dependency_calls(route)
        error_ref = {"$ref": f"#/components/schemas/{_ERROR_SCHEMAS[error_format_for_path(path)]['title']}"}
        for method in methods:
            operation = paths[path].get(method.lower())
            if not isinstance(operation, dict):
                continue
            if authenticated:
                operation["security"] = [{BEARER: []}]
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)
            ok = responses.get("200")
            if ok is not None and error_format_for_path(path) == "envelope":
                content = ok.setdefault("content", {}).setdefault("application/json", {})
                if not content.get("schema"):
                    content["schema"] = {"$ref": "#/components/schemas/Envelope"}
            for status in _statuses(route, method.lower(), authenticated):
                responses.setdefault(status, {"description": _WHY[status],
                                              "content": {"application/json": {"schema": error_ref}}})
    if sockets:
        spec["x-websockets"] = sockets
        info = spec.setdefault("info", {})
        info["description"] = (info.get("description") or "") + websocket_markdown(sockets)
    return spec


def _websocket(path: str, route: APIWebSocketRoute) -> dict[str, str]:
    doc = inspect.getdoc(route.endpoint) or inspect.getdoc(inspect.getmodule(route.endpoint)) or ""
    return {"path": path, "protocol": doc}


def websocket_markdown(sockets: list[dict[str, str]]) -> str:
    parts = ["\n\n## WebSocket routes\n\nOpenAPI cannot describe WebSockets; their protocols:\n"]
    for socket in sockets:
        parts.append(f"\n### WS `{socket['path']}`\n\n{socket['protocol']}\n")
    return "".join(parts)


def install_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` answer the described document (built once, as FastAPI does)."""
    generate = app.openapi

    def described() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = describe_app(app, generate())
        return app.openapi_schema

    app.openapi = described  # type: ignore[method-assign]


# -- pages --------------------------------------------------------------------------------------

def assets_dir() -> Path | None:
    """fastapi-offline's copies of the Swagger UI and ReDoc assets, if the docs extra is installed."""
    try:
        import fastapi_offline
    except ImportError:
        return None
    folder = Path(fastapi_offline.__file__).parent / "static"
    return folder if (folder / "swagger-ui-bundle.js").is_file() else None


def swagger_page(openapi_url: str, title: str, assets_url: str = ASSETS_PATH) -> HTMLResponse:
    if assets_dir() is None:
        return get_swagger_ui_html(openapi_url=openapi_url, title=f"{title} - Swagger UI")
    return get_swagger_ui_html(openapi_url=openapi_url, title=f"{title} - Swagger UI",
                               swagger_js_url=f"{assets_url}/swagger-ui-bundle.js",
                               swagger_css_url=f"{assets_url}/swagger-ui.css",
                               swagger_favicon_url=f"{assets_url}/favicon.png",
                               swagger_ui_parameters={"persistAuthorization": True})


def redoc_page(openapi_url: str, title: str, assets_url: str = ASSETS_PATH) -> HTMLResponse:
    if assets_dir() is None:
        return get_redoc_html(openapi_url=openapi_url, title=f"{title} - ReDoc")
    return get_redoc_html(openapi_url=openapi_url, title=f"{title} - ReDoc",
                          redoc_js_url=f"{assets_url}/redoc.standalone.js",
                          redoc_favicon_url=f"{assets_url}/favicon.png", with_google_fonts=False)


def asset_response(name: str) -> Response:
    """One of the known asset files (404 for anything else: no path is taken from the URL)."""
    folder = assets_dir()
    if folder is None or name not in _ASSETS:
        return Response(status_code=404)
    return FileResponse(folder / name, media_type=_ASSETS[name],
                        headers={"Cache-Control": "public, max-age=86400"})
