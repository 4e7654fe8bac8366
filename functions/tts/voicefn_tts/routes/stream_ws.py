"""seed 003 §1.4: WS /api/audio/tts/stream, text in pieces, audio back as it is made.

Client → server: ``{"type": "text", "content": "..."}`` any number of times, then
``{"type": "end"}``. Server → client: ``{"type": "started"}``, binary audio frames, and finally
``{"type": "complete", "characters", "duration", "bill", "record_id", "audio_url"}``; or
``{"type": "error", "code", "message"}`` and a close. This module is only the wire format: the
synthesis (regrouping into sentences, retry, backpressure, the recording that is stored and
billed, cancellation when the client leaves) is :class:`voicefn.tts.live.LiveSynthesis`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from fastapi import WebSocket, WebSocketDisconnect

from voicefn.errors import ApiError
from voicefn.logging import get_logger
from voicefn.web.deps import ServicesDep, principal_from_websocket
from voicefn.web.routing import plain_router

if TYPE_CHECKING:
    from voicefn.tts.params import VoiceSettings

router = plain_router(tags=["tts (seed 003)"])
log = get_logger(__name__)

MAX_TOTAL_CHARS = 200_000
MAX_MESSAGE_CHARS = 20_000
MAX_MESSAGE_BYTES = 64 * 1024   # a text message of 20,000 CJK characters fits, with room
MAX_JSON_DEPTH = 8              # our messages are flat objects
POLICY_VIOLATION = 1008


def _settings_from_query(ws: WebSocket) -> VoiceSettings:
    from voicefn.tts.params import VoiceSettings

    q = ws.query_params
    try:
        return VoiceSettings(model=q.get("model", ""), voice=q.get("voice", ""),
                             format=q.get("format", "pcm"), sample_rate=int(q.get("sample_rate", 22050)),
                             volume=int(q.get("volume", 50)), speech_rate=float(q.get("speech_rate", 1.0)),
                             pitch_rate=float(q.get("pitch_rate", 1.0)), instruction=q.get("instruction"))
    except ValueError as exc:
        raise ApiError("INVALID_PARAMETER", f"bad connection parameter: {exc}") from exc


async def _send_error(ws: WebSocket, err: ApiError) -> None:
    with contextlib.suppress(Exception):  # the client may be gone already
        await ws.send_json({"type": "error", "code": err.code, "message": err.message})
        await ws.close(POLICY_VIOLATION if err.status < 500 else 1011)


@router.websocket("/api/audio/tts/stream")
async def tts_stream(ws: WebSocket, services: ServicesDep) -> None:
    from voicefn.tts.live import LiveSynthesis
    from voicefn.tts.service import TtsService

    await ws.accept()
    live: LiveSynthesis | None = None
    try:
        principal = principal_from_websocket(ws)
        from voicefn.limits.rate import check_rate

        await check_rate(services, principal, "tts")  # after accept: refused with an error frame
        settings = _settings_from_query(ws)
        api_key = await TtsService(services).prepare_live(principal, settings)
        live = LiveSynthesis(services, principal, settings, api_key,
                             client_texts(ws, services.settings.tts_ws_idle_timeout_s), regroup=True)
        await live.open()
        await ws.send_json({"type": "started"})
        async for chunk in live.audio():
            await ws.send_bytes(chunk)
        assert live.recorded is not None  # set when the audio completed
        await ws.send_json({"type": "complete", **live.recorded.public()})
        await ws.close()
    except (WebSocketDisconnect, OSError):
        return  # client gone: closing the live synthesis below cancels the upstream task
    except ApiError as err:
        log.info("tts websocket ended with an error", extra={"code": err.code})
        await _send_error(ws, err)
    finally:
        if live is not None:
            await live.aclose()


async def client_texts(ws: WebSocket, idle_timeout_s: float) -> AsyncIterator[str]:
    """The client's text pieces until ``end``; a client silent for ``idle_timeout_s`` is an error."""
    total = 0
    while True:
        try:
            message = await asyncio.wait_for(ws.receive(), idle_timeout_s)
        except (TimeoutError, asyncio.TimeoutError):
            raise ApiError("TIMEOUT", f"no message from the client for {idle_timeout_s:g} s") from None
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        kind, content = parse_message(message)
        if kind == "end":
            return
        total += len(content)
        if total > MAX_TOTAL_CHARS:
            raise ApiError("TEXT_TOO_LONG", f"more than {MAX_TOTAL_CHARS} characters in one stream")
        yield content


def parse_message(message: dict[str, Any]) -> tuple[str, str]:
    """("text", content) or ("end", ""); anything else is INVALID_PARAMETER, never a crash."""
    raw = message.get("text")
    if raw is None:
        raise ApiError("INVALID_PARAMETER", "send JSON text messages: {\"type\": \"text\", \"content\": ...}")
    if len(raw) > MAX_MESSAGE_BYTES or len(raw.encode("utf-8", "surrogatepass")) > MAX_MESSAGE_BYTES:
        raise ApiError("INVALID_PARAMETER", f"a message is at most {MAX_MESSAGE_BYTES} bytes")
    if json_too_deep(raw, MAX_JSON_DEPTH):
        raise ApiError("INVALID_PARAMETER", f"a message nests at most {MAX_JSON_DEPTH} levels deep")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ApiError("INVALID_PARAMETER", "message is not JSON") from exc
    kind = data.get("type") if isinstance(data, dict) else None
    if kind == "end":
        return "end", ""
    content = data.get("content") if isinstance(data, dict) else None
    if kind != "text" or not isinstance(content, str):
        raise ApiError("INVALID_PARAMETER", "expected {\"type\": \"text\", \"content\": str} or {\"type\": \"end\"}")
    if len(content) > MAX_MESSAGE_CHARS:
        raise ApiError("TEXT_TOO_LONG", f"one message carries at most {MAX_MESSAGE_CHARS} characters")
    return "text", content


def json_too_deep(raw: str, max_depth: int) -> bool:
    """Whether ``raw`` nests arrays/objects deeper than ``max_depth`` (checked before parsing:
    the parser recurses, and deep nesting would exhaust the stack)."""
    depth, in_string, escaped = 0, False, False
    for ch in raw:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > max_depth:
                return True
        elif ch in "]}":
            depth -= 1
    return False
