"""The steps of a realtime turn both sockets share: store what the client sent, recognize the
question on a signed URL of the stored audio, speak the reply through the chat function's
:class:`~voicefn_chat.turn.ReplyTurn`, and record the turn (one ``chat`` record, one bill)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from voicefn.apikeys import resolve_api_key
from voicefn.asr.intake import Audio, inspect
from voicefn.billing import asr_bill, billable_seconds
from voicefn.dashscope.errors import UpstreamError, to_api_error
from voicefn.llm import ChatTarget, Usage, resolve_target
from voicefn.pipeline import AudioChunk, TextDelta
from voicefn.storage.owners import grant
from voicefn.tts.params import VoiceSettings
from voicefn_chat.realtime.session import RealtimeSession
from voicefn_chat.turn import ReplyEnd, ReplyTurn, SpeechStart

MAX_AUDIO_BYTES = 10 * 1024 * 1024  # DashScope's sync recognition takes files up to 10 MB
MAX_AUDIO_SECONDS = 60.0            # ... and speech up to 60 s (qwen3-asr-flash)
SIGNED_URL_S = 3600


@dataclass(frozen=True)
class Stored:
    key: str
    url: str  # signed GET URL, one hour
    size: int


async def store(session: RealtimeSession, data: bytes, name: str, content_type: str) -> Stored:
    """Keep ``data`` as this user's object ``realtime/<session>/<name>``."""
    services = session.services
    key = f"realtime/{session.session_id}/{name}"
    # the object and its owner row are independent writes: side by side, both done before the URL is used
    await asyncio.gather(services.objects.put(key, data, content_type),
                         grant(services.state, key, session.principal.user_id))
    return Stored(key, services.objects.signed_get_url(key, SIGNED_URL_S), len(data))


class Prepared:
    """The DashScope key and the LLM's endpoint, looked up while the audio is stored and
    recognized (off the critical path), and the reply's voice (its check, key and spend hold)
    once there is a question to answer, while ``chat_started`` is sent. A lookup's error
    surfaces where the turn awaits it, as before."""

    def __init__(self, session: RealtimeSession, llm_model: str) -> None:
        self._session = session
        principal, services = session.principal, session.services
        self._key = asyncio.ensure_future(resolve_api_key(principal, services))
        self._target = asyncio.ensure_future(resolve_target(principal, services, llm_model))
        self._voice: asyncio.Future[tuple[VoiceSettings, str]] | None = None

    def start_voice(self) -> None:
        from voicefn_chat.plan import _voice

        self._voice = asyncio.ensure_future(_voice(self._session.principal, self._session.services, None, None,
                                                   "mp3"))

    async def api_key(self) -> str:
        return await self._key

    async def reply(self) -> tuple[ChatTarget, tuple[VoiceSettings, str]]:
        if self._voice is None:
            self.start_voice()
        assert self._voice is not None
        return await self._target, await self._voice

    def close(self) -> None:
        """Cancel what was not needed; a failure nobody awaited is dropped quietly."""
        for task in (self._key, self._target, self._voice):
            if task is None:
                continue
            if not task.done():
                task.cancel()
            else:
                with contextlib.suppress(BaseException):
                    task.exception()


def audio_mime(fmt: str) -> str:
    return {"mp3": "audio/mpeg", "opus": "audio/ogg", "ogg": "audio/ogg", "m4a": "audio/mp4"}.get(fmt, f"audio/{fmt}")


def check_audio(data: bytes) -> Audio:
    return inspect(data, max_seconds=MAX_AUDIO_SECONDS, max_bytes=MAX_AUDIO_BYTES, param="audio")


@dataclass(frozen=True)
class Heard:
    text: str
    seconds: int
    bill: Decimal
    elapsed_s: float


async def recognize(session: RealtimeSession, stored: Stored, audio: Audio, api_key: str | None = None) -> Heard:
    """qwen3-asr-flash on the stored object's signed URL (our own object: DashScope fetches it)."""
    services = session.services
    model = services.settings.realtime_asr_model
    if api_key is None:
        api_key = await resolve_api_key(session.principal, services)
    started = time.monotonic()
    try:
        result = await services.dashscope.recognize(api_key=api_key, model=model, audio=stored.url)
    except UpstreamError as err:
        raise to_api_error(err) from err
    seconds = int(result.seconds or billable_seconds(audio.duration))
    return Heard((result.text or "").strip(), seconds, asr_bill(model, seconds), time.monotonic() - started)


@dataclass
class Spoken:
    """What a reply turned into: its text, usage, TTS characters, audio messages sent."""

    text: str = ""
    usage: Usage = field(default_factory=Usage)
    characters: int = 0
    sentences: int = 0
    audio_chunks: int = 0
    audio_bytes: int = 0
    first_audio_s: float | None = None  # after the reply started


async def speak_reply(session: RealtimeSession, target: ChatTarget, body: dict[str, Any], *,
                      chunk_event: str, voice: tuple[VoiceSettings, str] | None = None,
                      on_abandon: Callable[[Spoken], Awaitable[object]] | None = None) -> Spoken:
    """Stream the reply: ``chunk_event`` {chunk, full_response} per LLM delta, ``tts_started``
    before the first audio, ``audio_stream`` {event: data} per piece of the one MP3 stream (the
    turn's sentences in order) and ``audio_stream`` {event: finished}. The socket's own send is
    the backpressure: ReplyTurn's bounded queue stops the syntheses while the client reads slowly.
    A reply cancelled (barge-in, the socket closing) hands what it used so far to ``on_abandon``
    (its bill) before the cancellation goes on."""
    from voicefn_chat.plan import _voice

    services = session.services
    settings, tts_key = voice or await _voice(session.principal, services, None, None, "mp3")
    turn = ReplyTurn(services, session.principal, target, body, voice=settings, tts_api_key=tts_key,
                     deliver_audio=True)
    out, started, tts_started = Spoken(), time.monotonic(), False
    try:
        async with contextlib.aclosing(turn.events()) as events:  # a cancelled turn closes its LLM stream and TTS
            async for event in events:
                await _deliver(session, event, out, chunk_event, started, tts_started)
                tts_started = tts_started or isinstance(event, (SpeechStart, AudioChunk))
        if out.audio_chunks:
            await session.send("audio_stream", {"event": "finished"})
    except asyncio.CancelledError:
        if on_abandon is not None:
            await on_abandon(_used(turn, out))
        raise
    return out


def _used(turn: ReplyTurn, out: Spoken) -> Spoken:
    """What a cancelled reply used: its text so far, tokens and TTS characters (ReplyTurn.used)."""
    end = turn.used()
    return Spoken(text=turn.text, usage=end.usage, characters=end.characters, sentences=end.sentences,
                  audio_chunks=out.audio_chunks, audio_bytes=out.audio_bytes, first_audio_s=out.first_audio_s)


async def _deliver(session: RealtimeSession, event: object, out: Spoken, chunk_event: str, started: float,
                   tts_started: bool) -> None:
    """One event of the reply turn, as seed 002's messages."""
    if isinstance(event, TextDelta):
        out.text += event.text
        await session.send(chunk_event, {"chunk": event.text, "full_response": out.text})
    elif isinstance(event, (SpeechStart, AudioChunk)) and not tts_started:
        await session.send("tts_started", {"message": "开始语音合成..."})
    if isinstance(event, AudioChunk) and event.data:
        if out.first_audio_s is None:
            out.first_audio_s = time.monotonic() - started
        out.audio_chunks += 1
        out.audio_bytes += len(event.data)
        await session.send("audio_stream", {"event": "data", "data": base64.b64encode(event.data).decode()})
    elif isinstance(event, ReplyEnd):
        out.usage, out.characters, out.sentences = event.usage, event.characters, event.sentences
