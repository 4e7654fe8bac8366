"""DashScope's native error: ``{"request_id", "code", "message"}`` with its HTTP status."""

from __future__ import annotations

import uuid

from fastapi.responses import JSONResponse

# The codes the emulator produces, with the status DashScope answers them with (reference §6).
STATUS_BY_CODE: dict[str, int] = {
    "InvalidParameter": 400,
    "BadRequest.EmptyInput": 400,
    "BadRequest.EmptyModel": 400,
    "InvalidURL": 400,
    "InvalidLanguageHints": 400,
    "VoiceLimitExceeded": 400,
    "VoiceNotFound": 404,
    "InvalidApiKey": 401,
    "AccessDenied": 403,
    "ModelNotFound": 404,
    "Throttling": 429,
    "Throttling.RateQuota": 429,
    "InternalError": 500,
    "InternalError.Algo": 500,
    "ModelUnavailable": 503,
}


class DashScopeError(Exception):
    """A failure rendered in DashScope's format: HTTP error body, or a WS ``task-failed``."""

    def __init__(self, code: str, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or STATUS_BY_CODE.get(code, 400)

    def __repr__(self) -> str:
        return f"DashScopeError({self.code!r}, {self.message!r}, status={self.status})"


def new_request_id() -> str:
    return str(uuid.uuid4())


def error_body(err: DashScopeError, request_id: str | None = None) -> dict[str, str]:
    return {"request_id": request_id or new_request_id(), "code": err.code, "message": err.message}


def error_response(err: DashScopeError, request_id: str | None = None) -> JSONResponse:
    return JSONResponse(error_body(err, request_id), status_code=err.status)


# Messages DashScope uses, so clients matching on them behave the same against the emulator.
def invalid_api_key() -> DashScopeError:
    return DashScopeError("InvalidApiKey", "Invalid API-key provided.")


def missing_api_key() -> DashScopeError:
    return DashScopeError("InvalidApiKey", "No API-key provided.")


def throttled() -> DashScopeError:
    return DashScopeError("Throttling.RateQuota",
                          "Requests rate limit exceeded, please try again later.")


def internal_error() -> DashScopeError:
    return DashScopeError("InternalError", "An internal error has occured, please try again later.")


def model_not_found(model: str) -> DashScopeError:
    return DashScopeError("ModelNotFound", f"Model not found ({model})!")
