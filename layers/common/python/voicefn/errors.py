"""One error type for the whole layer, and the three wire formats it is rendered in.

Code raises :class:`ApiError` with a seed-003 error code; the web layer renders it in the format
of the route that failed (seed 003 envelope on ``/api/audio/*``, OpenAI on ``/v1/*``, seed 000 on
``/api/tts`` and ``/api/ai-chat``).
"""

from __future__ import annotations

from typing import Any

# seed 003's error-code table, plus the few generic codes every API needs.
STATUS_BY_CODE: dict[str, int] = {
    "INVALID_PARAMETER": 400,
    "NO_API_KEY": 403,
    "INVALID_MODEL": 400,
    "INVALID_VOICE": 400,
    "INVALID_AUDIO": 400,
    "TEXT_TOO_LONG": 400,
    "AUDIO_TOO_LONG": 400,
    "VOICE_LIMIT_EXCEEDED": 400,
    "MODEL_VOICE_MISMATCH": 400,
    "UNSUPPORTED_FORMAT": 400,  # no longer raised (README "Error codes"): kept for old clients
    "UNAUTHORIZED": 401,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "TASK_NOT_FOUND": 404,
    "VOICE_NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "PAYLOAD_TOO_LARGE": 413,
    "RATE_LIMITED": 429,
    "INTERNAL_ERROR": 500,
    "UPSTREAM_ERROR": 502,
    "SERVICE_UNAVAILABLE": 503,
    "TIMEOUT": 504,
}

# OpenAI's error "type" for each HTTP status family.
_OPENAI_TYPE = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                404: "not_found_error", 413: "invalid_request_error", 429: "rate_limit_error"}

# seed 000's codes (InvalidParameter, InvalidApiKey, QuotaExceeded, TextTooLong).
_SEED000_CODE = {
    "TEXT_TOO_LONG": "TextTooLong",
    "UNAUTHORIZED": "InvalidApiKey",
    "NO_API_KEY": "InvalidApiKey",
    "RATE_LIMITED": "QuotaExceeded",
}


class ApiError(Exception):
    """A failure a client should see, with a seed-003 code and an HTTP status."""

    def __init__(self, code: str, message: str, *, status: int | None = None,
                 param: str | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or STATUS_BY_CODE.get(code, 500)
        self.param = param
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return f"ApiError({self.code!r}, {self.message!r}, status={self.status})"


def envelope_body(err: ApiError) -> dict[str, Any]:
    """seed 003: ``{code, message, data}``; ``error`` carries the machine-readable code."""
    return {"code": err.status, "message": err.message, "error": err.code, "data": None}


def openai_body(err: ApiError) -> dict[str, Any]:
    """OpenAI: ``{"error": {message, type, param, code}}``."""
    etype = _OPENAI_TYPE.get(err.status, "server_error" if err.status >= 500 else "invalid_request_error")
    return {"error": {"message": err.message, "type": etype, "param": err.param, "code": err.code.lower()}}


def seed000_body(err: ApiError) -> dict[str, Any]:
    """seed 000: ``{error, message, code}``."""
    code = _SEED000_CODE.get(err.code, "InvalidParameter" if err.status < 500 else "InternalError")
    return {"error": err.code, "message": err.message, "code": code}


def error_format_for_path(path: str) -> str:
    """Which of the three formats a route speaks."""
    if path.startswith("/v1/") or path.startswith("/cache/"):  # /cache/*: seed 004's OpenAI-style proxy
        return "openai"
    if path.startswith("/api/tts") or path.startswith("/api/ai-chat"):
        return "seed000"
    return "envelope"


def render_error(err: ApiError, path: str) -> dict[str, Any]:
    fmt = error_format_for_path(path)
    if fmt == "openai":
        return openai_body(err)
    if fmt == "seed000":
        return seed000_body(err)
    return envelope_body(err)
