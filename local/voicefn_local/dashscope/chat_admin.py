"""Test-control routes for compatible-mode chat (the admin token, like ``admin``):

- ``POST /_admin/chat-scripts`` replaces the scripted replies with the posted list (or
  ``{"scripts": [...]}``; each as in :mod:`voicefn_local.engines.llm_scripted`); they answer
  whatever the engine. ``GET`` lists them (with ``remaining``); ``DELETE`` removes them all.
- ``GET /_admin/chat-calls`` the last 200 generations: ``{id, model, stream, engine, scripted,
  started_at, ended_at, tokens, finish}``, ``finish`` being ``running``, ``stop``, ``length``,
  ``cancelled`` (the client went away and the generation stopped) or ``failed``;
  ``DELETE /_admin/chat-calls`` empties the log.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import JSONResponse

from voicefn_local.dashscope.admin_auth import require_admin
from voicefn_local.dashscope.state import get_state
from voicefn_local.engines.llm_scripted import ChatScript

router = APIRouter(prefix="/_admin", dependencies=[Depends(require_admin)])


@router.get("/chat-scripts")
async def list_chat_scripts(request: Request) -> dict[str, Any]:
    return {"scripts": get_state(request).chat.scripts.snapshot()}


@router.post("/chat-scripts")
async def replace_chat_scripts(request: Request) -> JSONResponse:
    scripts = get_state(request).chat.scripts
    try:
        body = await request.json()
        if isinstance(body, dict) and isinstance(body.get("scripts"), list):
            body = body["scripts"]
        if not isinstance(body, list):
            raise ValueError("post a list of chat scripts, or {'scripts': [...]}")
        scripts.replace([ChatScript.from_dict(item) for item in body])
    except ValueError as exc:  # includes JSONDecodeError
        return JSONResponse({"code": "InvalidParameter", "message": str(exc)}, status_code=400)
    return JSONResponse({"scripts": scripts.snapshot()})


@router.delete("/chat-scripts")
async def clear_chat_scripts(request: Request) -> dict[str, Any]:
    get_state(request).chat.scripts.clear()
    return {"scripts": []}


@router.get("/chat-calls")
async def list_chat_calls(request: Request) -> dict[str, Any]:
    return {"calls": get_state(request).chat.calls()}


@router.delete("/chat-calls")
async def clear_chat_calls(request: Request) -> dict[str, Any]:
    get_state(request).chat.clear_calls()
    return {"calls": []}
