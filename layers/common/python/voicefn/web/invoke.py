"""``POST /invoke``: where FC delivers async invocations of a web function.

The route is reachable through the function's HTTP trigger too, so the job handler verifies the
payload's signature: pass the function's ``voicefn.jobs.dispatcher(...)``, which does, then runs
the declared job (leases, attempts, deadlines). A non-2xx answer makes FC retry.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from fastapi import APIRouter, Request

from voicefn.errors import ApiError
from voicefn.web.routing import plain_router

JobHandler = Callable[[dict[str, Any]], Awaitable[None]]


def invoke_router(handle_job: JobHandler) -> APIRouter:
    router = plain_router(include_in_schema=False)

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

    return router
