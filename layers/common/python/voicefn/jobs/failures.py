"""One failure classifier for every job kind: may another attempt work, and what does the task say?

Retryable: throttling (429), server faults (5xx), timeouts, dropped or refused connections, and
unexplained crashes (the attempt limit bounds them). Final: the request itself is wrong (4xx,
validation): trying again cannot help, so the task ends FAILED at once with the reason.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass

from voicefn.dashscope.errors import UpstreamError, to_api_error
from voicefn.errors import ApiError

_RETRYABLE_STATUSES = (408, 429)


@dataclass(frozen=True)
class Failure:
    retryable: bool
    code: str          # the layer's error code, shown on the task
    message: str       # the reason, shown on the task (no secrets: it is built from our own texts)
    retry_after: float | None = None


def classify(exc: BaseException) -> Failure:
    """What ``exc``, raised by a job's handler, means for its task."""
    upstream = exc if isinstance(exc, UpstreamError) else exc.__cause__
    if isinstance(upstream, UpstreamError):
        # DashScope's own code decides, even when it was already turned into an ApiError:
        # AccessDenied is a 403 upstream that the client sees as a 502
        api = exc if isinstance(exc, ApiError) else to_api_error(upstream)
        return Failure(upstream.retryable, api.code, api.message, upstream.retry_after)
    if isinstance(exc, ApiError):
        retryable = exc.status >= 500 or exc.status in _RETRYABLE_STATUSES
        return Failure(retryable, exc.code, exc.message, exc.retry_after)
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)) or _is_httpx(exc, "TimeoutException"):
        return Failure(True, "TIMEOUT", "an upstream call timed out")
    if isinstance(exc, (ConnectionError, EOFError)) or _is_httpx(exc, "TransportError"):
        return Failure(True, "UPSTREAM_ERROR", f"the connection to an upstream failed ({type(exc).__name__})")
    if isinstance(exc, ValueError):  # pydantic's ValidationError too: the stored request is invalid
        return Failure(False, "INVALID_PARAMETER", f"the task's request is invalid ({type(exc).__name__})")
    return Failure(True, "INTERNAL_ERROR", f"internal error ({type(exc).__name__})")


def _is_httpx(exc: BaseException, name: str) -> bool:
    # only if httpx is loaded at all: the classifier must not import it (cold start)
    httpx = sys.modules.get("httpx")
    cls = getattr(httpx, name, None) if httpx is not None else None
    return isinstance(cls, type) and isinstance(exc, cls)
