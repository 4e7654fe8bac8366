"""seed 003 §1.4: WS /api/audio/tts/stream, text in pieces, audio back as it is made.

Client → server: ``{"type": "text", "content": "..."}`` any number of times, then
``{"type": "end"}``. Server → client: ``{"type": "started"}``, binary audio frames, and finally
``{"type": "complete", "characters", "duration", "bill", "record_id", "audio_url"}``; or
``{"type": "error", "code", "message"}`` and a close. Pieces are regrouped into sentences before
they go upstream (better prosody than fragments); audio is relayed as it arrives, with the
client's socket as backpressure. A client that leaves cancels the upstream task.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
from typing import TYPE_CHECKING, Any

from fastapi import WebSocket, WebSocketDisconnect

from voicefn.errors import ApiError
from voicefn.logging import get_logger
from voicefn.web.deps import ServicesDep, principal_from_websocket
from voicefn.web.routing import plain_router

if TYPE_CHECKING:
    from voicefn.tts.params import TtsParams

router = plain_router(tags=["tts (seed 003)"])
log = get_logger(__name__)

MAX_TOTAL_CHARS = 200_000
MAX_MESSAGE_CHARS = 20_000
POLICY_VIOLATION = 1008


def _params_from_query(ws: WebSocket) -> TtsParams:
    from voicefn.tts.params import TtsParams

    q = ws.query_params
    try:
        # text: a speakable placeholder for the checks; the real text comes in pieces
        return TtsParams(model=q.get("model", ""), voice=q.get("voice", ""), text="text",
                         format=q.get("format", "pcm"), sample_rate=int(q.get("sample_rate", 22050)),
                         volume=int(q.get("volume", 50)), speech_rate=float(q.get("speech_rate", 1.0)),
                         pitch_rate=float(q.get("pitch_rate", 1.0)), instruction=q.get("instruction"))
    except ValueError as exc:
        raise ApiError("INVALID_PARAMETER", f"bad connection parameter: {exc}") from exc


async def _send_error(ws: WebSocket, err: ApiError) -> None:
    with contextlib.suppress(Exception):
        await ws.send_json({"type": "error", "code": err.code, "message": err.message})
        await ws.close(POLICY_VIOLATION if err.status < 500 else 1011)


@router.websocket("/api/audio/tts/stream")
async def tts_stream(ws: WebSocket, services: ServicesDep) -> None:
    from voicefn.dashscope.errors import UpstreamError, to_api_error
    from voicefn.tts.service import TtsService
    from voicefn.tts.streaming import _session_args

    await ws.accept()
    try:
        principal = principal_from_websocket(ws)
        params = _params_from_query(ws)
        service = TtsService(services)
        api_key = await service.prepare(principal, params)
    except ApiError as err:
        await _send_error(ws, err)
        return
    try:
        async with services.dashscope.tts_session(api_key=api_key, **_session_args(params)) as session:
            await ws.send_json({"type": "started"})
            relayed = await _relay(ws, session)
            if relayed is None:
                return  # client gone: leaving the block cancels the upstream task
            text, audio = relayed
            characters = int(getattr(session, "characters", 0) or 0)
        done = await service.finish_synthesis(principal, params.with_text(text or " "), audio, characters)
        await ws.send_json({"type": "complete", "characters": done.characters, "duration": done.duration,
                            "bill": done.bill, "record_id": done.record_id, "audio_url": done.audio_url})
        await ws.close()
    except UpstreamError as err:
        await _send_error(ws, to_api_error(err))
    except ApiError as err:
        await _send_error(ws, err)


async def _relay(ws: WebSocket, session: Any) -> tuple[str, bytes] | None:
    """Pump text up and audio down until the task finishes: (full text, all audio), or None if
    the client left. The audio copy is spooled (memory-bounded) for storage and billing."""
    from voicefn.text.split import SentenceStream
    from voicefn.tts.streaming import SPOOL_MEMORY_BYTES

    received: list[str] = []
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES)

    async def pump_text() -> None:
        sentences = SentenceStream()
        total = 0
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(message.get("code", 1000))
            kind, content = _parse(message)
            if kind == "end":
                for sentence in sentences.flush():
                    await session.send_text(sentence)
                await session.finish()
                return
            total += len(content)
            if total > MAX_TOTAL_CHARS:
                raise ApiError("TEXT_TOO_LONG", f"more than {MAX_TOTAL_CHARS} characters in one stream")
            received.append(content)
            for sentence in sentences.feed(content):
                await session.send_text(sentence)

    async def pump_audio() -> None:
        async for chunk in session.audio():
            spool.write(chunk)
            await ws.send_bytes(chunk)

    text_task = asyncio.ensure_future(pump_text())
    audio_task = asyncio.ensure_future(pump_audio())
    try:
        await text_task          # errors in the client's messages surface here
        await audio_task         # then wait for the last audio
    except WebSocketDisconnect:
        audio_task.cancel()
        with contextlib.suppress(Exception):
            await session.cancel()
        spool.close()
        return None
    finally:
        for task in (text_task, audio_task):
            if not task.done():
                task.cancel()
        await asyncio.gather(text_task, audio_task, return_exceptions=True)
    spool.seek(0)
    audio = spool.read()
    spool.close()
    return "".join(received), audio


def _parse(message: dict[str, Any]) -> tuple[str, str]:
    raw = message.get("text")
    if raw is None:
        raise ApiError("INVALID_PARAMETER", "send JSON text messages: {\"type\": \"text\", \"content\": ...}")
    try:
        data = json.loads(raw)
    except ValueError as exc:
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
