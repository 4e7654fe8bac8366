"""GET /api/audio/history (seed 003 §5) and the API-key settings routes."""

from __future__ import annotations

from typing import Any, Literal, Optional

from fastapi import Query
from pydantic import BaseModel, ConfigDict

from voicefn.apikeys import delete_user_key, key_status, store_user_key
from voicefn.history import public_item
from voicefn.web.app import ok
from voicefn.web.deps import PrincipalDep, ServicesDep
from voicefn.web.routing import plain_router

router = plain_router(prefix="/api/audio", tags=["account"])

# Bounded so that the offset ((page - 1) * page_size) stays a small integer in every store
# (SQLite's is 64-bit: page=2**63 was a 500).
MAX_PAGE = 1_000_000


class ApiKeyBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    api_key: str


@router.get("/history", summary="Your voice operations, newest first")
async def history(principal: PrincipalDep, services: ServicesDep,
                  page: int = Query(1, ge=1, le=MAX_PAGE), page_size: int = Query(20, ge=1, le=100),
                  type: Optional[Literal["tts", "asr", "voice", "chat"]] = Query(None)) -> dict[str, Any]:
    rows, total = await services.state.list_history(principal.user_id, type=type, page=page, page_size=page_size)
    return ok({"items": [public_item(r, services.objects) for r in rows], "total": total, "page": page,
               "page_size": page_size})


@router.get("/settings/api-key", summary="Whether you have a DashScope API key configured (never the key)")
async def get_api_key(principal: PrincipalDep, services: ServicesDep) -> dict[str, Any]:
    return ok(await key_status(principal, services))


@router.put("/settings/api-key", summary="Set or replace your DashScope API key (stored encrypted)")
async def put_api_key(body: ApiKeyBody, principal: PrincipalDep, services: ServicesDep) -> dict[str, Any]:
    return ok(await store_user_key(principal, services, body.api_key))


@router.delete("/settings/api-key", summary="Delete your DashScope API key")
async def delete_api_key(principal: PrincipalDep, services: ServicesDep) -> dict[str, Any]:
    await delete_user_key(principal, services)
    return ok(await key_status(principal, services))
