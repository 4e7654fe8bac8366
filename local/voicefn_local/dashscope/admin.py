"""Test-control routes (they need the local admin token: :mod:`.admin_token`):

- ``GET /_admin/faults`` the active rules; ``POST /_admin/faults`` replaces them with the posted
  list (or ``{"rules": [...]}``); ``DELETE /_admin/faults`` removes them all.
- ``GET /_admin/stats`` counters (see :mod:`.stats`); ``POST /_admin/stats/reset`` zeroes them.
- ``GET /_admin/call-times`` when each API was busy (:mod:`.call_times`); ``DELETE`` empties it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import JSONResponse

from voicefn_local.dashscope.admin_auth import require_admin
from voicefn_local.dashscope.state import get_state

router = APIRouter(prefix="/_admin", dependencies=[Depends(require_admin)])


@router.get("/faults")
async def list_faults(request: Request) -> dict[str, Any]:
    return {"rules": get_state(request).faults.rules()}


@router.post("/faults")
async def replace_faults(request: Request) -> JSONResponse:
    try:
        raw = _rules_from(await request.json())
        get_state(request).faults.replace(raw)
    except ValueError as exc:  # includes JSONDecodeError
        return JSONResponse({"code": "InvalidParameter", "message": str(exc)}, status_code=400)
    return JSONResponse({"rules": get_state(request).faults.rules()})


def _rules_from(body: Any) -> list[Any]:
    if isinstance(body, dict) and isinstance(body.get("rules"), list):
        return list(body["rules"])
    if isinstance(body, list):
        return body
    raise ValueError("post a list of fault rules, or {'rules': [...]}")


@router.delete("/faults")
async def clear_faults(request: Request) -> dict[str, Any]:
    get_state(request).faults.clear()
    return {"rules": []}


@router.get("/stats")
async def get_stats(request: Request) -> dict[str, int]:
    return get_state(request).stats.snapshot()


@router.post("/stats/reset")
async def reset_stats(request: Request) -> dict[str, int]:
    state = get_state(request)
    state.stats.reset()
    return state.stats.snapshot()


@router.get("/call-times")
async def get_call_times(request: Request) -> dict[str, Any]:
    """When each API was busy answering (:mod:`.call_times`), oldest first."""
    return {"calls": get_state(request).call_times.snapshot()}


@router.delete("/call-times")
async def clear_call_times(request: Request) -> dict[str, Any]:
    get_state(request).call_times.clear()
    return {"calls": []}
