"""Test-control routes for the deterministic ASR engine (the admin token, like ``admin``):

- ``POST /_admin/asr-scripts`` ``{"<sha256 of the PCM>": "transcript", ...}`` adds scripts
  (see :mod:`voicefn_local.engines.asr_deterministic` for the key); answers all of them.
- ``GET /_admin/asr-scripts`` lists them; ``DELETE /_admin/asr-scripts`` removes them all.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import JSONResponse

from voicefn_local.dashscope.admin_auth import require_admin
from voicefn_local.dashscope.state import get_state

router = APIRouter(prefix="/_admin", dependencies=[Depends(require_admin)])


@router.get("/asr-scripts")
async def list_scripts(request: Request) -> dict[str, Any]:
    return {"scripts": get_state(request).asr.scripts.snapshot()}


@router.post("/asr-scripts")
async def add_scripts(request: Request) -> JSONResponse:
    scripts = get_state(request).asr.scripts
    try:
        body = await request.json()
        if not isinstance(body, dict):
            raise ValueError("post an object {sha256: text, ...}")
        scripts.update(body)
    except ValueError as exc:  # includes JSONDecodeError
        return JSONResponse({"code": "InvalidParameter", "message": str(exc)}, status_code=400)
    return JSONResponse({"scripts": scripts.snapshot()})


@router.delete("/asr-scripts")
async def clear_scripts(request: Request) -> dict[str, Any]:
    get_state(request).asr.scripts.clear()
    return {"scripts": {}}
