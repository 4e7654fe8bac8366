"""Seed 004's service routes: GET /cache/stats, POST /cache/clear, GET /v1/models, GET /."""

from __future__ import annotations

import time
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse

import voicefn
from voicefn.errors import ApiError
from voicefn.web.deps import PrincipalDep, ServicesDep
from voicefn.web.routing import plain_router

router = plain_router(tags=["service (seed 004)"])


@router.get("/cache/stats", summary="TTS content cache: entries, bytes, hits, misses, in flight (public)")
async def cache_stats(services: ServicesDep) -> dict[str, Any]:
    from voicefn.tts import inflight

    entries = [(k, v) for k, v in await services.state.cache_entries() if not inflight.is_marker(k)]
    now = time.time()
    markers = sum(1 for k, v in await services.state.cache_entries()
                  if inflight.is_marker(k) and float(v.get("until", 0)) > now)
    c = inflight.counters
    lookups = c.hits + c.misses
    return {"entries": len(entries), "bytes": sum(int(v.get("bytes", 0)) for _, v in entries),
            "hits": c.hits, "misses": c.misses, "hit_rate": round(c.hits / lookups, 4) if lookups else 0.0,
            "waits": c.waits, "in_flight": max(inflight.in_flight(), markers),
            "counters_since": "this instance's start"}


@router.post("/cache/clear", summary="Forget every cached synthesis (needs a service key)")
async def cache_clear(principal: PrincipalDep, services: ServicesDep) -> dict[str, Any]:
    if principal.kind != "service":
        raise ApiError("FORBIDDEN", "clearing the cache needs a service API key (VOICEFN_SERVICE_KEYS)")
    removed = await services.state.clear_cache()
    return {"status": "ok", "cleared": removed}


@router.get("/v1/models", summary="Chat and TTS models (OpenAI list format; public)")
async def models(services: ServicesDep) -> dict[str, Any]:
    from voicefn.catalog.models import tts_models
    from voicefn.llm import known_chat_models

    created = int(time.time())
    chat = [{"id": name, "object": "model", "created": created, "owned_by": "voicefn", "type": "chat"}
            for name in known_chat_models(services.settings)]
    tts = [{"id": m.model_id, "object": "model", "created": created, "owned_by": "voicefn", "type": "tts"}
           for m in tts_models()]
    return {"object": "list", "data": chat + tts}


PLAYGROUND_PATH = "/playground/"  # the web playground (account function, issue 11)


@router.get("/", summary="Service information (public); a browser opening it is sent to the playground")
async def info(request: Request, services: ServicesDep) -> Any:
    if "text/html" in request.headers.get("accept", ""):  # a page load, not an API client
        return RedirectResponse(request.scope.get("root_path", "").rstrip("/") + PLAYGROUND_PATH, status_code=307)
    s = services.settings
    return {"name": "voicefn", "description": "AI voice backend: TTS, ASR, voice cloning, spoken chat",
            "version": voicefn.__version__,
            "llm": "DashScope compatible mode" if not s.llm_base_url else "an OpenAI-compatible endpoint",
            "tts_enabled_default": s.chat_tts_enabled, "tts_model_default": s.chat_tts_model,
            "endpoints": {"chat": "/v1/chat/completions", "speech": "/v1/audio/speech", "models": "/v1/models",
                          "cache_stats": "/cache/stats", "health": "/health", "docs": "/docs"}}
