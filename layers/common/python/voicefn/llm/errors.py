"""An upstream chat failure as the error a chat client should see (OpenAI's statuses).

401 a bad key, 400 a refused request, 404 an unknown model, 429 throttling, 504 a timeout, and
502 for everything else that went wrong upstream (5xx, dropped connections, garbage).
"""

from __future__ import annotations

from voicefn.dashscope.errors import UpstreamError, to_api_error
from voicefn.errors import ApiError

MODEL_NOT_FOUND = "MODEL_NOT_FOUND"


def model_not_found(model: str) -> ApiError:
    return ApiError(MODEL_NOT_FOUND, f"The model {model!r} does not exist or you do not have access to it.",
                    status=404, param="model")


def to_chat_error(err: UpstreamError, model: str) -> ApiError:
    code = err.code.lower().replace(".", "_")
    if code in ("modelnotfound", "model_not_found") or err.http_status == 404:
        return model_not_found(model)
    mapped = to_api_error(err)
    if mapped.code == "UNAUTHORIZED":
        return ApiError("UNAUTHORIZED", "The LLM endpoint refused the API key (missing or invalid).")
    if mapped.code in ("INVALID_PARAMETER", "INVALID_MODEL", "INVALID_VOICE", "TEXT_TOO_LONG",
                       "MODEL_VOICE_MISMATCH", "PAYLOAD_TOO_LARGE"):
        return ApiError("INVALID_PARAMETER", err.message or "The LLM endpoint refused the request.")
    if mapped.code in ("RATE_LIMITED", "TIMEOUT"):
        return mapped
    return ApiError("UPSTREAM_ERROR", f"The LLM endpoint failed ({err.code}: {err.message})"
                    + (f" (request_id {err.request_id})" if err.request_id else ""))
