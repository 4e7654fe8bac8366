"""FC delivers async invocations of a web function as POST /invoke; the asr function is an
event function (its jobs arrive through index.handler), but serving /invoke too keeps the app
deployable either way. Only jobs signed with the instance's key run."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from voicefn.errors import ApiError
from voicefn_asr.jobs import handle_job

router = APIRouter(include_in_schema=False)


@router.post("/invoke")
async def invoke(request: Request) -> dict[str, Any]:
    try:
        payload = await request.json()
    except ValueError as exc:
        raise ApiError("INVALID_PARAMETER", "job payload is not JSON") from exc
    if not isinstance(payload, dict):
        raise ApiError("INVALID_PARAMETER", "job payload must be an object")
    await handle_job(payload)
    return {"status": "done"}
