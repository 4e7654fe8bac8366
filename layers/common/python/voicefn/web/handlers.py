"""Exception handlers: every error a route raises is rendered in that route's format.

``ApiError`` as is; validation errors and malformed JSON as INVALID_PARAMETER naming the field;
Starlette's HTTP errors (404, 405, 413...) mapped to seed 003 codes; DashScope ``UpstreamError``
through ``to_api_error``. On a WebSocket the error is
a denial response before accept, or an error frame and a close after it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError, WebSocketRequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.websockets import WebSocket, WebSocketState

from voicefn.errors import ApiError, render_error
from voicefn.logging import get_logger
from voicefn.web.responses import error_response

__all__ = ["install_error_handlers", "validation_error", "http_error"]

_CODE_BY_STATUS = {
    400: "INVALID_PARAMETER", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE", 429: "RATE_LIMITED",
    500: "INTERNAL_ERROR", 502: "UPSTREAM_ERROR", 503: "SERVICE_UNAVAILABLE", 504: "TIMEOUT",
}
_SOURCES = ("body", "query", "path", "header", "cookie")
_MAX_CLOSE_REASON = 123  # bytes, RFC 6455

_log = get_logger("voicefn.web")


def _param_name(parts: Sequence[Any]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def validation_error(errors: Sequence[Any]) -> ApiError:
    """FastAPI/pydantic errors -> INVALID_PARAMETER naming the first offending field and why."""
    if not errors:
        return ApiError("INVALID_PARAMETER", "invalid request")
    first: dict[str, Any] = errors[0] if isinstance(errors[0], dict) else {"msg": str(errors[0])}
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    if first.get("type") == "json_invalid":
        why = (first.get("ctx") or {}).get("error") or "JSON decode error"
        return ApiError("INVALID_PARAMETER", f"request body is not valid JSON: {why}", param="body")
    loc = list(first.get("loc") or ())
    source = loc[0] if loc and loc[0] in _SOURCES else None
    fields = loc[1:] if source else loc
    param = _param_name(fields) or source or None
    msg = str(first.get("msg") or "invalid value")
    where = f"{source} " if source and source != "body" else ""
    if first.get("type") == "missing":
        text = f"missing required {where}parameter '{param}'" if fields else f"missing request {source or 'body'}"
    else:
        text = f"invalid {where}parameter '{param}': {msg}" if param else f"invalid request: {msg}"
    return ApiError("INVALID_PARAMETER", text + more, param=param)


def http_error(exc: HTTPException, method: str, path: str) -> ApiError:
    status = exc.status_code
    code = _CODE_BY_STATUS.get(status) or ("INTERNAL_ERROR" if status >= 500 else "INVALID_PARAMETER")
    detail = exc.detail if isinstance(exc.detail, str) else json.dumps(exc.detail, default=str)
    try:
        generic = detail == HTTPStatus(status).phrase
    except ValueError:
        generic = False
    if generic or not detail:
        if status == 404:
            detail = f"not found: {path}"
        elif status == 405:
            detail = f"method {method} is not allowed for {path}"
    return ApiError(code, detail, status=status)


async def _websocket_error(ws: WebSocket, err: ApiError) -> Response | None:
    body = render_error(err, ws.scope.get("path", "/"))
    if ws.application_state == WebSocketState.CONNECTING:
        if "websocket.http.response" in ws.scope.get("extensions", {}):
            return error_response(err, ws.scope.get("path", "/"))  # sent as the denial response
        reason = err.message.encode()[:_MAX_CLOSE_REASON].decode(errors="ignore")
        await ws.close(code=1008 if err.status < 500 else 1011, reason=reason)
        return None
    if ws.application_state == WebSocketState.CONNECTED:
        await ws.send_text(json.dumps(body, ensure_ascii=False))
        await ws.close(code=1008 if err.status < 500 else 1011)
    return None


async def _render(conn: HTTPConnection, err: ApiError, headers: Mapping[str, str] | None = None) -> Response | None:
    if isinstance(conn, WebSocket):
        return await _websocket_error(conn, err)
    return error_response(err, conn.scope.get("path", "/"), dict(headers) if headers else None)


async def _on_api_error(conn: HTTPConnection, exc: Exception) -> Response | None:
    assert isinstance(exc, ApiError)
    return await _render(conn, exc)


async def _on_validation_error(conn: HTTPConnection, exc: Exception) -> Response | None:
    assert isinstance(exc, (RequestValidationError, WebSocketRequestValidationError))
    return await _render(conn, validation_error(exc.errors()))


async def _on_http_error(conn: HTTPConnection, exc: Exception) -> Response | None:
    assert isinstance(exc, HTTPException)
    if exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=exc.headers)
    method = conn.scope.get("method", "GET")
    headers = dict(exc.headers) if exc.headers else None
    return await _render(conn, http_error(exc, method, conn.scope.get("path", "/")), headers)


def _install_upstream_handler(app: FastAPI) -> None:
    """A DashScope failure that escapes a route is a 429/502/504 in the route's format, not a 500:
    this is the edge where ``voicefn.dashscope.errors.to_api_error`` applies."""
    try:
        from voicefn.dashscope.errors import UpstreamError, to_api_error
    except ImportError:  # pragma: no cover - layer built without the DashScope client
        return

    async def _on_upstream_error(conn: HTTPConnection, exc: Exception) -> Response | None:
        assert isinstance(exc, UpstreamError)
        _log.warning("upstream error", extra={"upstream_code": exc.code, "upstream_status": exc.http_status,
                                              "upstream_request_id": exc.request_id})
        return await _render(conn, to_api_error(exc))

    app.add_exception_handler(UpstreamError, _any_connection(_on_upstream_error))


def _any_connection(handler: Callable[[HTTPConnection, Exception], Any]) -> Any:
    """Our handlers serve HTTP and WebSocket connections alike; starlette's types name them apart."""
    return handler


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _any_connection(_on_api_error))
    app.add_exception_handler(RequestValidationError, _any_connection(_on_validation_error))
    app.add_exception_handler(WebSocketRequestValidationError, _any_connection(_on_validation_error))
    app.add_exception_handler(HTTPException, _any_connection(_on_http_error))
    _install_upstream_handler(app)
