"""Success and error bodies, in the format of the route that answers."""

from __future__ import annotations

import math
from typing import Any

from starlette.responses import JSONResponse

from voicefn.errors import ApiError, render_error

__all__ = ["ok", "error_response"]

DEFAULT_RETRY_AFTER_S = 1  # when upstream gave no hint: DashScope's rate windows are ~1 s


def ok(data: Any = None) -> dict[str, Any]:
    """seed 003's success envelope."""
    return {"code": 200, "message": "success", "data": data}


def error_response(err: ApiError, path: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """``err`` rendered for ``path`` (003 envelope, OpenAI or seed 000), with its status."""
    out = dict(headers or {})
    if err.retry_after is not None:
        out["Retry-After"] = str(max(0, math.ceil(err.retry_after)))
    elif err.status in (429, 503):  # every throttled answer says when to come back (RFC 9110)
        out.setdefault("Retry-After", str(DEFAULT_RETRY_AFTER_S))
    return JSONResponse(render_error(err, path), status_code=err.status, headers=out)
