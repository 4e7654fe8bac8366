"""The chat function's ASGI app (web function: it streams SSE)."""

from __future__ import annotations

from fastapi import FastAPI

from voicefn.services import Services
from voicefn.web.app import build_app

DESCRIPTION = """Spoken chat: OpenAI's `/v1/chat/completions` (streamed as SSE, with OpenAI's
`modalities: ["text", "audio"]` and seed 004's `tts_enabled` / `tts_model` / `voice`), seed 004's
`/cache/stats`, `/cache/clear`, `/v1/models` and `/`, and seed 000's `/api/ai-chat`.
Authenticate with `Authorization: Bearer <JWT>` (a service key for `/cache/clear`).

With `tts_enabled`, every sentence is announced while the text streams as a chunk
`{"choices": [], "tts": {"index", "text", "audio_url"}}`; the `audio_url` (signed, one hour)
answers with that sentence's mp3, waiting while it is still being synthesized, and
`POST /v1/audio/speech` with the same `input`, `model` and `voice` is served from the same cache.
A stream that fails after it started ends with `data: {"error": {...}}`.

**WebSockets `/v1/chat/audio` and `/v1/chat/vlm`** (seed 002; not listed below, OpenAPI has no
WebSockets): authenticate with the Bearer header or `?token=`. Send `{seq, total, data}` packets of
base64 audio (≤ 8 KB each; on /v1/chat/vlm `{seq, total, type: "audio"|"image", data}` ≤ 50 KB
each, then `{"type": "end"}`); every server message is `{"<event>": {...}}` with seed 002's events
(`connected`, `packet_ack`, `transcription_started`, `chat_started`/`vlm_chat_started`,
`chat_chunk`/`vlm_chat_chunk`, `tts_started`, `audio_stream`, `chat_tts_complete`/
`vlm_chat_tts_complete`, `audio_complete`/`vlm_complete`, `error`). A new question while an answer
plays cancels it. The socket ends itself with an `error` event at `VOICEFN_REALTIME_MAX_S`
(590 s), before Function Compute's 600 s timeout would cut it."""


def create_app(services: Services | None = None) -> FastAPI:
    """The app, on ``services`` (default: the instance's, ``get_services()``)."""
    from voicefn_chat.realtime import audio_ws, vlm_ws
    from voicefn_chat.routes import completions, seed000, sentence_audio, service

    return build_app(title="voicefn chat", description=DESCRIPTION,
                     routers=[completions.router, sentence_audio.router, service.router, seed000.router,
                              audio_ws.router, vlm_ws.router],
                     services=services)
