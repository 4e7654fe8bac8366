"""POST /v1/chat/completions: OpenAI's contract, spoken three ways from one pipeline (turn.py).

- text only (the default: a client that never asks for audio pays for none);
- OpenAI's ``modalities: ["text", "audio"]``: ``message.audio`` (non-streamed) or ``delta.audio``
  pieces, each sentence's transcript with its audio (pcm16 at 24 kHz, or one encoder per stream);
- seed 004's ``tts_enabled``: the text streams as usual and each sentence is announced in a
  chunk ``{"choices": [], "tts": {index, text, audio_url}}`` while it is being synthesized.

Everything that can be refused is refused before the first byte, with its status (400 bad
request or voice, 401, 403 no key, 404 unknown model, 429, 502, 504): the turn is started and
its first event awaited before the response begins. A failure after that ends the stream with an
``error`` event in OpenAI's shape.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import time
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from fastapi.responses import StreamingResponse

from voicefn.audio.encode import encode_pcm, make_stream_encoder
from voicefn.auth.principal import Principal
from voicefn.errors import ApiError, openai_body
from voicefn.logging import get_logger
from voicefn.pipeline import AudioChunk, TextDelta
from voicefn.services import Services
from voicefn.limits import RateLimited, hold
from voicefn.web.deps import ServicesDep
from voicefn.web.routing import plain_router
from voicefn_chat.audio_links import audio_link
from voicefn_chat.billing import estimate_turn_bill, record_turn
from voicefn_chat.once import OnceRecord
from voicefn_chat.plan import ChatPlan, plan_request
from voicefn_chat.schemas import ChatCompletionRequest
from voicefn_chat.turn import ReplyEnd, ReplyTurn, SpeechStart, Spoken, TurnEvent
from voicefn_chat.wire import DONE, Wire, sse

router = plain_router(prefix="/v1", tags=["OpenAI-compatible chat"])
log = get_logger(__name__)

ENCODED = {"pcm16": "pcm", "mp3": "mp3", "wav": "wav", "flac": "flac", "opus": "opus"}
SAMPLE_RATE = 24000
AUDIO_TTL_S = 3600


@router.post("/chat/completions", summary="OpenAI-compatible chat completions (SSE with stream: true)")
async def completions(body: ChatCompletionRequest, services: ServicesDep,
                      principal: Principal = RateLimited("chat")) -> Any:
    plan = await plan_request(body, principal, services)
    await hold(services, principal, estimate_turn_bill(plan.target, plan.body["messages"], plan.body.get("max_tokens")),
               api_key=plan.target.api_key)  # the spend caps: the turn's bill settles it
    turn = ReplyTurn(services, principal, plan.target, plan.body, voice=plan.voice, tts_api_key=plan.tts_api_key,
                     deliver_audio=plan.mode == "audio")
    events = turn.events()
    try:
        first = await events.__anext__()  # the upstream accepted the request: now the stream may start
    except BaseException:
        await events.aclose()
        raise
    wire = Wire(body.model)
    if not body.stream:
        once: OnceRecord[None] = OnceRecord()
        try:
            async with contextlib.aclosing(events):
                return await _whole(services, principal, body, plan, turn, wire, _chain(first, events), once)
        except asyncio.CancelledError:  # the request was cut while the reply was generated
            await _record_abandoned(services, principal, body, plan, turn, once)
            raise
    include_usage = bool(body.stream_options and body.stream_options.include_usage)
    stream = _streamed(services, principal, body, plan, turn, wire, _chain(first, events), include_usage)
    return StreamingResponse(stream, media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


async def _chain(first: TurnEvent, events: AsyncGenerator[TurnEvent, None]) -> AsyncGenerator[TurnEvent, None]:
    async with contextlib.aclosing(events):
        yield first
        async for event in events:
            yield event


async def _record(services: Services, principal: Principal, body: ChatCompletionRequest, plan: ChatPlan,
                  turn: ReplyTurn, end: ReplyEnd, abandoned: bool = False) -> None:
    await record_turn(services, principal, target=plan.target, messages=plan.body["messages"], reply=turn.text,
                      usage=end.usage, mode=plan.mode, voice=plan.voice.voice if plan.voice else None,
                      tts_model=plan.tts_model, characters=end.characters, abandoned=abandoned)


async def _record_abandoned(services: Services, principal: Principal, body: ChatCompletionRequest, plan: ChatPlan,
                            turn: ReplyTurn, once: OnceRecord[None]) -> None:
    """A turn torn down before its record (the client went away): bill what it used. Called
    while being cancelled: the write goes on in its own task even if this await is cut."""
    if not once.started:
        end = turn.used()
        await once.write(lambda: _record(services, principal, body, plan, turn, end, abandoned=True))


async def _whole(services: Services, principal: Principal, body: ChatCompletionRequest, plan: ChatPlan,
                 turn: ReplyTurn, wire: Wire, events: AsyncIterator[TurnEvent],
                 once: OnceRecord[None]) -> dict[str, Any]:
    pcm: list[bytes] = []
    end = ReplyEnd()
    async for event in events:
        if isinstance(event, AudioChunk):
            pcm.append(event.data)
        elif isinstance(event, ReplyEnd):
            end = event
    await once.write(lambda: _record(services, principal, body, plan, turn, end))
    message: dict[str, Any] = {"role": "assistant", "content": turn.text, "refusal": None}
    if plan.mode == "audio":
        fmt = ENCODED[plan.audio_format or "pcm16"]
        data = encode_pcm(b"".join(pcm), fmt, SAMPLE_RATE) if pcm else b""
        message["content"] = None  # as OpenAI: the text of a spoken reply is its transcript
        message["audio"] = {"id": wire.audio_id, "data": base64.b64encode(data).decode(),
                            "transcript": turn.text, "expires_at": int(time.time()) + AUDIO_TTL_S}
    return wire.completion(message, end.finish_reason, end.usage)


async def _streamed(services: Services, principal: Principal, body: ChatCompletionRequest, plan: ChatPlan,
                    turn: ReplyTurn, wire: Wire, events: AsyncGenerator[TurnEvent, None],
                    include_usage: bool) -> AsyncIterator[bytes]:
    encoder = make_stream_encoder(ENCODED[plan.audio_format or "pcm16"], SAMPLE_RATE) if plan.mode == "audio" else None
    once: OnceRecord[None] = OnceRecord()
    try:
        async with contextlib.aclosing(events):
            yield wire.chunk({"role": "assistant", "content": ""})
            async for event in events:
                if isinstance(event, TextDelta) and plan.mode != "audio":
                    yield wire.chunk({"content": event.text})
                elif isinstance(event, Spoken) and plan.mode == "tts":
                    yield wire.chunk(None, tts={"index": event.index, "text": event.spoken,
                                                "audio_url": audio_link(services, event.cache_key)})
                elif isinstance(event, SpeechStart):
                    yield wire.chunk({"audio": {"id": wire.audio_id, "transcript": event.sentence.text}})
                elif isinstance(event, AudioChunk) and encoder is not None:
                    data = encoder.feed(event.data)
                    if data:
                        yield wire.chunk({"audio": {"id": wire.audio_id, "data": base64.b64encode(data).decode()}})
                elif isinstance(event, ReplyEnd):
                    if encoder is not None:
                        tail = encoder.finish()
                        audio: dict[str, Any] = {"id": wire.audio_id, "expires_at": int(time.time()) + AUDIO_TTL_S}
                        if tail:
                            audio["data"] = base64.b64encode(tail).decode()
                        if event.tail:
                            audio["transcript"] = event.tail
                        yield wire.chunk({"audio": audio})
                    # recorded before the last chunks: a client gone now still gets the full bill
                    await once.write(lambda: _record(services, principal, body, plan, turn, event))
                    yield wire.chunk({}, event.finish_reason)
                    if include_usage:
                        yield wire.chunk(None, usage=event.usage.public())
    except ApiError as err:
        log.warning("chat stream failed", extra={"code": err.code})
        yield sse(openai_body(err))
        return
    except (asyncio.CancelledError, GeneratorExit):  # the client went away mid-reply
        await _record_abandoned(services, principal, body, plan, turn, once)
        raise
    yield DONE
