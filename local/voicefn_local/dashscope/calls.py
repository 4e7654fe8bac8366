"""What every HTTP API call goes through first: API key, body, counting, fault injection."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from starlette.requests import Request

from voicefn_local.dashscope.auth import check_key
from voicefn_local.dashscope.errors import DashScopeError, internal_error, throttled
from voicefn_local.dashscope.faults import Fault, parse_fault_header
from voicefn_local.dashscope.state import EmulatorState, get_state

FAULT_HEADER = "x-fake-fault"


def authorize(request: Request) -> EmulatorState:
    """The emulator state, once the caller's API key is accepted (else 401 InvalidApiKey)."""
    state = get_state(request)
    try:
        check_key(state.config.api_keys, request.headers)
    except DashScopeError:
        state.stats.incr("auth_failures")
        raise
    return state


async def json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"null")
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise DashScopeError("InvalidParameter", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise DashScopeError("InvalidParameter", "The request body must be a JSON object.")
    return body


def header_fault(headers: Any) -> Fault | None:
    try:
        return parse_fault_header(headers.get(FAULT_HEADER))
    except ValueError as exc:
        raise DashScopeError("InvalidParameter", f"X-Fake-Fault: {exc}") from None


async def admit(state: EmulatorState, request: Request, *, api: str, counter: str,
                model: str | None, voice: str | None, text: str | None) -> Fault | None:
    """Count the call, pick its fault (header first, then the table) and apply the faults that
    act before any work: ``latency`` waits, ``throttle``/``error`` raise. Returns the fault so the
    handler can apply the streaming ones (``task_failed``, ``drop``, ``slow_frames``)."""
    state.stats.incr(counter)
    fault = header_fault(request.headers) or state.faults.take(api, model=model, voice=voice,
                                                                text=text)
    if fault is None:
        return None
    state.stats.incr("faults_applied")
    if fault.kind == "latency":
        await asyncio.sleep(fault.latency_s)
    elif fault.kind == "throttle":
        raise throttled()
    elif fault.kind == "error":
        raise internal_error()
    return fault


def algo_failure() -> DashScopeError:
    """What the ``task_failed`` fault reports: the model failing mid-synthesis."""
    return DashScopeError("InternalError.Algo",
                          "[tts:]Engine return error code: 500 (injected task_failed fault)")
