"""FC delivers async invocations of a web function as ``POST /invoke``: run the signed job.

A non-2xx answer makes FC retry (at-least-once), which is what a crashed job needs.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from voicefn.errors import ApiError
from voicefn_tts.jobs import handle_job

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
