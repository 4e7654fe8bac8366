"""What DashScope said went wrong, and what voicefn's clients are told.

:class:`UpstreamError` keeps DashScope's own code (``Throttling.RateQuota``, ``InvalidApiKey``…)
so retry decisions and logs see the truth; :func:`to_api_error` turns it into the layer's
:class:`~voicefn.errors.ApiError` at the edge. Failures that never reached DashScope get codes of
our own: ``ConnectionError`` (refused, reset, dropped mid-stream) and ``RequestTimeOut`` (the
same code DashScope uses for its 408, so one rule covers both).
"""

from __future__ import annotations

import re

from voicefn.errors import ApiError

# Codes voicefn itself assigns to failures below the DashScope protocol.
CONNECTION_ERROR = "ConnectionError"
REQUEST_TIMEOUT = "RequestTimeOut"
UNKNOWN = "Unknown"

_SERVER_CODES = ("InternalError", "SystemError", "ModelUnavailable", "ServiceUnavailable")
# Codes that blame the request even when they arrive without an HTTP status (WS task-failed).
_INPUT_CODES = ("BadRequest", "DataInspectionFailed", "InvalidURL", "InvalidLanguageHints",
                "UnsupportedOperation", "InvalidFile")


def is_throttling(code: str, http_status: int | None) -> bool:
    return code.startswith("Throttling") or code == "LimitRequests" or http_status == 429


def is_retryable(code: str, http_status: int | None) -> bool:
    """Throttling, server faults, timeouts and broken connections: trying again may work."""
    if is_throttling(code, http_status):
        return True
    if code in (CONNECTION_ERROR, REQUEST_TIMEOUT) or code.startswith(_SERVER_CODES):
        return True
    return http_status is not None and (http_status >= 500 or http_status == 408)


class UpstreamError(Exception):
    """A DashScope call that failed, in DashScope's own terms."""

    def __init__(self, code: str, message: str, *, http_status: int | None = None,
                 request_id: str | None = None, retryable: bool | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code or UNKNOWN
        self.message = message
        self.http_status = http_status
        self.request_id = request_id
        self.retryable = is_retryable(self.code, http_status) if retryable is None else retryable
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return (f"UpstreamError({self.code!r}, {self.message!r}, http_status={self.http_status}, "
                f"request_id={self.request_id!r}, retryable={self.retryable})")


_TEXT_TOO_LONG = re.compile(r"text.*(too long|exceed|length)", re.IGNORECASE)
_MISMATCH = re.compile(r"(not|doesn't|does not|un)\s*match|mismatch", re.IGNORECASE)


def _suffix(e: UpstreamError) -> str:
    # The request id is what Alibaba support asks for; it is not a secret.
    return f" (request_id {e.request_id})" if e.request_id else ""


def _invalid_parameter(e: UpstreamError) -> ApiError:
    msg = e.message or "DashScope rejected a parameter."
    lowered = msg.lower()
    if "voice" in lowered:
        if _MISMATCH.search(msg):
            return ApiError("MODEL_VOICE_MISMATCH", msg, param="voice")
        return ApiError("INVALID_VOICE", msg, param="voice")
    if _TEXT_TOO_LONG.search(msg):
        return ApiError("TEXT_TOO_LONG", msg, param="text")
    return ApiError("INVALID_PARAMETER", msg)


def to_api_error(e: UpstreamError) -> ApiError:
    """Map DashScope's code and HTTP status to the layer's error codes (see module docstring)."""
    code, status = e.code, e.http_status
    if code == "InvalidApiKey" or status == 401:
        return ApiError("UNAUTHORIZED", "The DashScope API key is missing or invalid.")
    if is_throttling(code, status):
        return ApiError("RATE_LIMITED", "DashScope rate limit reached; try again shortly."
                        + _suffix(e), retry_after=e.retry_after)
    if code.startswith("AccessDenied") or code.endswith(".AccessDenied") or code == "Arrearage" \
            or status == 403:
        return ApiError("UPSTREAM_ERROR",
                        "DashScope refused the request: the account has no access to this model, "
                        "its free quota is used up, or it is in arrears"
                        f" ({code}: {e.message}){_suffix(e)}")
    if code == "ModelNotFound":
        return ApiError("INVALID_MODEL", e.message or "Unknown model.", param="model")
    if code == REQUEST_TIMEOUT or code.endswith(".Timeout") or status in (408, 504):
        return ApiError("TIMEOUT", "DashScope did not answer in time." + _suffix(e))
    if code == "BadRequest.TooLarge" or status == 413:
        return ApiError("PAYLOAD_TOO_LARGE", e.message or "Request too large for DashScope.")
    if code == "InvalidParameter":
        return _invalid_parameter(e)
    if code.startswith(_INPUT_CODES) or (not e.retryable and status is not None and status < 500):
        # BadRequest.*, DataInspectionFailed, InvalidURL…, or any other 4xx: about the input.
        return ApiError("INVALID_PARAMETER", e.message or code)
    # Connection failures, 5xx, InternalError, ModelUnavailable, and anything unexplained.
    return ApiError("UPSTREAM_ERROR", f"DashScope failed ({code}: {e.message}){_suffix(e)}")
