"""CosyVoice streaming synthesis over DashScope's duplex WebSocket (reference §1), async.

A :class:`CosyVoiceSession` is one task on one connection: connect (Bearer on the handshake),
run-task, wait for task-started, then any number of continue-tasks while :meth:`audio` yields
the binary frames as they arrive, until task-finished. Nothing reads ahead of the consumer:
frames are pulled from the socket only when :meth:`audio` is iterated, so websockets' own
``max_queue`` (a few frames) is the only buffer and TCP flow control slows the server down when
the consumer is slow. Leaving the session before task-finished sends finish-task with
``directive: cancel`` and closes the socket, so DashScope stops synthesising (and billing).

``websockets`` is imported on first connect, so HTTP-only users never load it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any

from voicefn.dashscope.errors import CONNECTION_ERROR, REQUEST_TIMEOUT, UNKNOWN, UpstreamError
from voicefn.dashscope.results import SynthesisResult
from voicefn.dashscope.retry import retry_until_first
from voicefn.dashscope.tts_ws_messages import (
    AudioFrame,
    CosyVoiceParams,
    SentenceBegin,
    SentenceEnd,
    SessionEvent,
    build_continue_task,
    build_finish_task,
    build_flush_task,
    build_run_task,
    encode,
    sentence_of,
)
from voicefn.dashscope.useragent import USER_AGENT
from voicefn.dashscope.ws_pool import ConnectionPool, pool_key

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection

__all__ = [
    "CosyVoiceSession", "SynthesisStream", "synthesize", "synthesize_to_bytes",
    "AudioFrame", "SentenceBegin", "SentenceEnd", "CosyVoiceParams",
    "build_run_task", "build_continue_task", "build_finish_task", "build_flush_task",
]

# One sentence of 48 kHz WAV can pass websockets' 1 MiB default; DashScope frames stay far below.
MAX_FRAME_BYTES = 16 * 1024 * 1024
# websockets logs every handshake header (the Bearer key too) and frame at DEBUG. Its logger
# here is pinned above DEBUG, so no global debug setting can put a key or audio in the logs.
_WS_LOG = logging.getLogger("voicefn.dashscope.websocket")
_WS_LOG.setLevel(logging.INFO)
# Close codes that mean "your message was wrong": retrying the same message cannot help.
_PROTOCOL_CLOSE_CODES = (1003, 1007, 1008, 1009)
# Every binary frame comes after a ``sentence-synthesis`` event that carries only the sentence's
# index (reference §1: no usage, no text). Long synthesis reads thousands of them, so they are
# recognised by their type and index instead of being parsed as JSON (issue 13). Inside a JSON
# string a quote is escaped, so the quoted type cannot come from a sentence's text.
_SYNTHESIS_TYPE = '"sentence-synthesis"'
_SENTENCE_INDEX = re.compile(r'"index"\s*:\s*(\d+)')
# While the whole audio is being collected anyway, websockets may hold this many frames before
# it pauses reading: with its streaming mark (max_queue, a few frames) it paused and resumed the
# socket every dozen frames, two epoll calls each time.
COLLECT_QUEUE_FRAMES = 256


@contextlib.contextmanager
def _wider_queue(ws: Any, frames: int) -> Iterator[None]:
    """Raise websockets' flow-control marks for a while (no-op if its assembler changes)."""
    assembler = getattr(ws, "recv_messages", None)
    high, low = getattr(assembler, "high", None), getattr(assembler, "low", None)
    if assembler is None or not isinstance(high, int) or not isinstance(low, int) or high >= frames:
        yield
        return
    assembler.high, assembler.low = frames, frames // 4
    try:
        yield
    finally:
        assembler.high, assembler.low = high, low


_closed_class: type[Exception] | None = None


def _connection_closed() -> type[Exception]:
    """websockets' ConnectionClosed, imported once (it is needed on every frame)."""
    global _closed_class
    if _closed_class is None:
        from websockets.exceptions import ConnectionClosed

        _closed_class = ConnectionClosed
    return _closed_class


def _handshake_error(status: int, body: bytes | None) -> UpstreamError:
    """A refused upgrade. DashScope checks the key here: 401/403 mean a bad or missing key."""
    code, message = None, ""
    try:
        data = json.loads(body or b"")
        if isinstance(data, dict):
            code, message = data.get("code"), str(data.get("message") or "")
    except ValueError:
        pass
    if not code:
        code = "InvalidApiKey" if status in (401, 403) else UNKNOWN
    return UpstreamError(str(code), message or f"WebSocket handshake refused with HTTP {status}",
                         http_status=status)


def _closed_error(exc: BaseException) -> UpstreamError:
    rcvd = getattr(exc, "rcvd", None)
    close_code = getattr(rcvd, "code", None)
    reason = getattr(rcvd, "reason", "") or ""
    if close_code in _PROTOCOL_CLOSE_CODES:
        return UpstreamError("InvalidParameter",
                             f"DashScope closed the connection ({close_code} {reason})".strip(),
                             retryable=False)
    return UpstreamError(CONNECTION_ERROR,
                         f"DashScope closed the connection before the task finished"
                         f" ({close_code or 'no close frame'})", retryable=True)


class CosyVoiceSession:
    """One CosyVoice duplex task. Use as ``async with``; see the module docstring."""

    def __init__(self, ws_url: str, api_key: str, *, model: str, voice: str, format: str,
                 sample_rate: int, volume: int = 50, rate: float = 1.0, pitch: float = 1.0,
                 instruction: str | None = None, language_hints: list[str] | None = None,
                 enable_ssml: bool = False, bit_rate: int | None = None,
                 extra: dict[str, Any] | None = None, connect_timeout_s: float = 10.0,
                 idle_timeout_s: float = 30.0, max_queue: int = 16,
                 task_id: str | None = None, pool: ConnectionPool | None = None) -> None:
        self.ws_url = ws_url
        self._pool = pool
        self._pool_key = pool_key(ws_url, api_key) if pool is not None else ""
        self._clean_finish = False
        self.reused_connection = False
        self._api_key = api_key
        self.model = model
        self.enable_ssml = enable_ssml
        self.task_id = task_id or uuid.uuid4().hex
        self.connect_timeout_s = connect_timeout_s
        self.idle_timeout_s = idle_timeout_s
        self._max_queue = max_queue
        self._run_task = build_run_task(
            self.task_id, model=model, voice=voice, format=format, sample_rate=sample_rate,
            volume=volume, rate=rate, pitch=pitch, instruction=instruction,
            language_hints=language_hints, enable_ssml=enable_ssml, bit_rate=bit_rate, extra=extra)
        self._ws: ClientConnection | None = None
        self._texts_sent = 0
        self._finish_sent = False
        self._cancel_sent = False
        self._done = False
        self._closed = False
        self.characters = 0
        self.sentence = 0  # index of the sentence the next audio frame belongs to
        self._pending: list[SessionEvent] = []
        self._receiving = False
        self._recv_task: asyncio.Task[Any] | None = None
        self._recv_deadline = 0.0
        self._watchdog: asyncio.TimerHandle | None = None
        self._timed_out = False
        self._iterating = False
        self.request_uuid: str | None = None
        self.started_at: float | None = None
        self.first_audio_at: float | None = None

    @classmethod
    def from_params(cls, ws_url: str, api_key: str, params: CosyVoiceParams, *,
                    connect_timeout_s: float = 10.0, idle_timeout_s: float = 30.0,
                    max_queue: int = 16, task_id: str | None = None,
                    pool: ConnectionPool | None = None) -> CosyVoiceSession:
        return cls(ws_url, api_key, model=params.model, voice=params.voice, format=params.format,
                   sample_rate=params.sample_rate, volume=params.volume, rate=params.rate,
                   pitch=params.pitch, instruction=params.instruction,
                   language_hints=params.language_hints, enable_ssml=params.enable_ssml,
                   bit_rate=params.bit_rate, extra=params.extra or None,
                   connect_timeout_s=connect_timeout_s, idle_timeout_s=idle_timeout_s,
                   max_queue=max_queue, task_id=task_id, pool=pool)

    def __repr__(self) -> str:  # never shows the key
        return f"CosyVoiceSession(model={self.model!r}, task_id={self.task_id!r})"

    @property
    def finished(self) -> bool:
        return self._done

    @property
    def first_audio_delay_s(self) -> float | None:
        """Seconds from connecting to the first audio frame."""
        if self.started_at is None or self.first_audio_at is None:
            return None
        return self.first_audio_at - self.started_at

    async def __aenter__(self) -> CosyVoiceSession:
        try:
            await self.open()
        except BaseException:
            await self.aclose()
            raise
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def open(self) -> None:
        """Connect, send run-task and wait for task-started (each bounded by connect_timeout_s)."""
        from websockets.asyncio.client import connect
        from websockets.exceptions import InvalidHandshake, InvalidStatus

        if self._ws is not None:
            raise RuntimeError("the CosyVoice session is already open")
        self.started_at = time.monotonic()
        if self._pool is not None and await self._open_pooled():
            return
        try:
            self._ws = await connect(
                self.ws_url,
                additional_headers={"Authorization": f"Bearer {self._api_key}"},
                user_agent_header=USER_AGENT, open_timeout=self.connect_timeout_s,
                max_queue=self._max_queue, max_size=MAX_FRAME_BYTES,
                compression=None,  # the SDK does not negotiate it; audio does not deflate anyway
                close_timeout=2.0, logger=_WS_LOG)
        except InvalidStatus as e:
            raise _handshake_error(e.response.status_code, bytes(e.response.body or b"")) from None
        except (TimeoutError, asyncio.TimeoutError):
            raise UpstreamError(REQUEST_TIMEOUT, "timed out connecting to DashScope") from None
        except (OSError, InvalidHandshake) as e:
            raise UpstreamError(CONNECTION_ERROR,
                                f"could not connect to DashScope ({type(e).__name__})") from None
        await self._send(self._run_task)
        await self._wait_started()

    async def _open_pooled(self) -> bool:
        """Start the task on a warm connection. False when none is left that still works."""
        from websockets.exceptions import ConnectionClosed

        assert self._pool is not None
        while (ws := self._pool.take(self._pool_key)) is not None:
            try:
                await ws.send(encode(self._run_task))
            except ConnectionClosed:
                continue  # closed by the server while idle: try the next one
            self._ws, self.reused_connection = ws, True
            await self._wait_started()
            return True
        return False

    async def _wait_started(self) -> None:
        deadline = time.monotonic() + self.connect_timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise UpstreamError(REQUEST_TIMEOUT, "DashScope did not start the task in time")
            message = await self._recv(remaining, "DashScope did not start the task in time")
            if isinstance(message, str) and self._handle_event(message) == "task-started":
                return

    async def _recv(self, timeout: float, timeout_message: str) -> str | bytes:
        assert self._ws is not None
        self._receiving = True
        try:
            # Cancelling recv() is safe in websockets: no frame is lost. This runs for every
            # frame, so the timeout is one watchdog timer per session (re-armed only when it
            # fires), not a timer or task per call (issue 13).
            if not hasattr(asyncio.Task, "uncancel"):  # pragma: no cover - Python 3.10
                return await asyncio.wait_for(self._ws.recv(), timeout)
            return await self._recv_watched(timeout)
        except (TimeoutError, asyncio.TimeoutError):
            raise UpstreamError(REQUEST_TIMEOUT, timeout_message) from None
        except _connection_closed() as e:
            self._done = True
            raise _closed_error(e) from None
        finally:
            self._receiving = False

    async def _recv_watched(self, timeout: float) -> str | bytes:
        assert self._ws is not None
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        self._recv_task, self._recv_deadline = task, loop.time() + timeout
        cancelling = task.cancelling()
        if self._watchdog is None:
            self._watchdog = loop.call_at(self._recv_deadline, self._watch)
        try:
            return await self._ws.recv()
        except asyncio.CancelledError:
            if self._timed_out:
                self._timed_out = False
                if task.uncancel() <= cancelling:  # our cancellation, and no one else's
                    raise TimeoutError from None
            raise
        finally:
            self._recv_task = None

    def _watch(self) -> None:
        """The watchdog: cancel a receive that has waited past its deadline, else re-arm."""
        self._watchdog = None
        task = self._recv_task
        if task is None or self._closed:
            return  # nobody waits: the next receive arms it again
        now = asyncio.get_running_loop().time()
        if now >= self._recv_deadline:
            self._timed_out = True
            task.cancel()
        else:
            self._watchdog = asyncio.get_running_loop().call_at(self._recv_deadline, self._watch)

    def _handle_event(self, text: str) -> str | None:
        """Apply one server event; returns its name. task-failed raises."""
        if _SYNTHESIS_TYPE in text and '"usage"' not in text:
            found = _SENTENCE_INDEX.search(text)
            if found is not None:
                self.sentence = int(found.group(1))
                return "result-generated"
        try:
            message = json.loads(text)
            header = message.get("header") or {}
            payload = message.get("payload") or {}
        except (ValueError, AttributeError):
            return None  # not a protocol event; nothing to act on
        event = header.get("event")
        usage = payload.get("usage") if isinstance(payload, dict) else None
        if isinstance(usage, dict) and isinstance(usage.get("characters"), int):
            self.characters = usage["characters"]  # cumulative: the last value is the total
        if event == "result-generated":
            self._sentence_event(payload.get("output") if isinstance(payload, dict) else None)
        elif event == "task-finished":
            self._done = True
            self._clean_finish = not self._cancel_sent
            self.request_uuid = (header.get("attributes") or {}).get("request_uuid")
        elif event == "task-failed":
            self._done = True
            raise UpstreamError(str(header.get("error_code") or UNKNOWN),
                                str(header.get("error_message") or "task failed"),
                                request_id=header.get("task_id") or self.task_id)
        return event

    def _sentence_event(self, output: Any) -> None:
        """Which sentence the next frames speak; begin/end are reported to :meth:`events`."""
        found = sentence_of(output)
        if found is None:
            return
        kind, index, text = found
        self.sentence = index
        if kind == "sentence-begin":
            self._pending.append(SentenceBegin(index, text))
        elif kind == "sentence-end":
            self._pending.append(SentenceEnd(index, text, self.characters))

    async def _send(self, message: dict[str, Any]) -> None:
        from websockets.exceptions import ConnectionClosed

        if self._ws is None or self._closed:
            raise RuntimeError("the CosyVoice session is not open")
        try:
            await self._ws.send(encode(message))
        except ConnectionClosed as e:
            if self._receiving or self._iterating:
                # The reader is draining the socket: it sees the task-failed, if any, and the
                # audio still queued (reading here would take that audio from it).
                raise _closed_error(e) from None
            raise await self._error_after_close(e) from None

    async def _error_after_close(self, exc: BaseException) -> UpstreamError:
        """Why the socket closed: a task-failed still queued says more than the close itself."""
        from websockets.exceptions import ConcurrencyError, ConnectionClosed

        assert self._ws is not None
        try:
            while True:
                message = await asyncio.wait_for(self._ws.recv(), 1.0)
                if isinstance(message, str):
                    self._handle_event(message)
        except UpstreamError as failed:
            return failed
        except (ConnectionClosed, ConcurrencyError, TimeoutError, asyncio.TimeoutError):
            pass
        self._done = True
        return _closed_error(exc)

    async def send_text(self, text: str) -> None:
        """continue-task with ``text`` (with enable_ssml, DashScope accepts only one)."""
        if self._finish_sent:
            raise RuntimeError("finish-task was already sent")
        if self.enable_ssml and self._texts_sent:
            raise ValueError("with enable_ssml DashScope accepts one text per task")
        self._texts_sent += 1
        await self._send(build_continue_task(self.task_id, self.model, text))

    async def flush(self) -> None:
        """Ask DashScope to synthesise the text it has buffered so far."""
        await self._send(build_flush_task(self.task_id, self.model))

    async def finish(self) -> None:
        """finish-task: no more text; :meth:`audio` ends at task-finished."""
        if not self._finish_sent and not self._done:
            self._finish_sent = True
            await self._send(build_finish_task(self.task_id))

    async def cancel(self) -> None:
        """finish-task with directive cancel: DashScope stops and discards what is left."""
        if not self._cancel_sent and not self._done:
            self._cancel_sent = self._finish_sent = True
            await self._send(build_finish_task(self.task_id, cancel=True))

    async def events(self) -> AsyncIterator[SessionEvent]:
        """Sentence begin/end and audio frames in arrival order, until task-finished.

        Raises :class:`UpstreamError` on task-failed, a dropped connection or an idle timeout.
        """
        if self._ws is None:
            raise RuntimeError("the CosyVoice session is not open")
        self._iterating = True
        try:
            async for event in self._events():
                yield event
        finally:
            self._iterating = False

    async def _events(self) -> AsyncGenerator[SessionEvent, None]:
        assert self._ws is not None
        while not self._done or self._pending:
            while self._pending:
                yield self._pending.pop(0)
            if self._done:
                break
            message = await self._recv(self.idle_timeout_s,
                                       f"no data from DashScope for {self.idle_timeout_s:g} s")
            if isinstance(message, bytes):
                if self._cancel_sent:
                    continue  # cancelled: what is still in flight is not wanted
                if self.first_audio_at is None:
                    self.first_audio_at = time.monotonic()
                yield AudioFrame(message, self.sentence)
            else:
                self._handle_event(message)

    async def read_audio(self) -> bytes:
        """All the task's audio, until task-finished; raises on failure or timeout.

        :meth:`events` collected without its two generators per frame (long synthesis reads
        thousands of frames); sentence events are dropped."""
        if self._ws is None:
            raise RuntimeError("the CosyVoice session is not open")
        chunks: list[bytes] = []
        timeout_message = f"no data from DashScope for {self.idle_timeout_s:g} s"
        self._iterating = True
        try:
            with _wider_queue(self._ws, COLLECT_QUEUE_FRAMES):
                while not self._done:
                    message = await self._recv(self.idle_timeout_s, timeout_message)
                    if isinstance(message, bytes):
                        if not self._cancel_sent:
                            if not chunks and self.first_audio_at is None:
                                self.first_audio_at = time.monotonic()
                            chunks.append(message)
                    else:
                        self._handle_event(message)
        finally:
            self._iterating = False
            self._pending.clear()
        return b"".join(chunks)

    async def audio(self) -> AsyncIterator[bytes]:
        """Audio frames in arrival order, until task-finished; raises on failure or timeout."""
        async for item in self.events():
            if isinstance(item, AudioFrame):
                yield item.data

    async def aclose(self) -> None:
        """Cancel an unfinished task (best effort) and close the socket. Idempotent."""
        ws = self._ws
        if ws is None or self._closed:
            return
        self._closed = True
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        if self._pool is not None and self._clean_finish and self._pool.give(self._pool_key, ws):
            return  # warm for the next task
        if not self._done and not self._cancel_sent:
            self._cancel_sent = True
            cancel = encode(build_finish_task(self.task_id, cancel=True))
            # Best effort: the socket may already be gone, and then closing is enough.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.send(cancel), 1.0)
        with contextlib.suppress(Exception):
            await ws.close()


class SynthesisStream:
    """Audio chunks of one text, as an async iterator; billing facts readable when it ends.

    Failures before the first chunk is handed out are retried (``retries``/``retry_budget_s``):
    the caller has seen nothing yet, so a fresh task is invisible to it. After that, errors
    propagate. :meth:`aclose` (or leaving ``async for`` early and closing) cancels upstream.
    """

    def __init__(self, new_session: Callable[[], CosyVoiceSession], text: str, *,
                 retries: int = 0, retry_budget_s: float = 0.0) -> None:
        self._new_session = new_session
        self._text = text
        self._retries = retries
        self._budget = retry_budget_s
        self.session: CosyVoiceSession | None = None
        self._gen = self._run()

    def __aiter__(self) -> SynthesisStream:
        return self

    async def __anext__(self) -> bytes:
        return await self._gen.__anext__()

    async def aclose(self) -> None:
        await self._gen.aclose()
        if self.session is not None:
            await self.session.aclose()

    @property
    def characters(self) -> int:
        return self.session.characters if self.session else 0

    @property
    def request_id(self) -> str:
        return self.session.task_id if self.session else ""

    @property
    def first_audio_delay_s(self) -> float | None:
        return self.session.first_audio_delay_s if self.session else None

    async def _attempt(self) -> AsyncGenerator[bytes, None]:
        session = self._new_session()
        self.session = session
        try:
            await session.open()
            await session.send_text(self._text)
            await session.finish()
            async for chunk in session.audio():
                yield chunk
        finally:
            await session.aclose()

    async def _run(self) -> AsyncGenerator[bytes, None]:
        async for chunk in retry_until_first(self._attempt, retries=self._retries,
                                             budget_s=self._budget):
            yield chunk


def synthesize(ws_url: str, api_key: str, *, text: str, model: str, voice: str, format: str,
               sample_rate: int, volume: int = 50, rate: float = 1.0, pitch: float = 1.0,
               instruction: str | None = None, language_hints: list[str] | None = None,
               enable_ssml: bool = False, bit_rate: int | None = None,
               extra: dict[str, Any] | None = None, timeout_s: float = 30.0,
               connect_timeout_s: float | None = None, retries: int = 0,
               retry_budget_s: float = 0.0, pool: ConnectionPool | None = None) -> SynthesisStream:
    """One text, one task (run-task, one continue-task, finish-task); iterate the result.

    ``timeout_s`` bounds every wait for upstream data (connecting and task start are bounded by
    ``connect_timeout_s``, default ``min(timeout_s, 10)``).
    """
    def new_session() -> CosyVoiceSession:
        return CosyVoiceSession(
            ws_url, api_key, model=model, voice=voice, format=format, sample_rate=sample_rate,
            volume=volume, rate=rate, pitch=pitch, instruction=instruction,
            language_hints=language_hints, enable_ssml=enable_ssml, bit_rate=bit_rate,
            extra=extra, idle_timeout_s=timeout_s, pool=pool,
            connect_timeout_s=connect_timeout_s if connect_timeout_s is not None
            else min(timeout_s, 10.0))

    return SynthesisStream(new_session, text, retries=retries, retry_budget_s=retry_budget_s)


async def synthesize_to_bytes(ws_url: str, api_key: str, **kwargs: Any) -> SynthesisResult:
    """:func:`synthesize`, collected: the whole audio, the billed characters, the task id."""
    return await collect(synthesize(ws_url, api_key, **kwargs))


async def collect(stream: SynthesisStream) -> SynthesisResult:
    """All of ``stream``'s audio, its billed characters and its task id."""
    chunks: list[bytes] = []
    try:
        async for chunk in stream:
            chunks.append(chunk)
    finally:
        await stream.aclose()
    return SynthesisResult(audio=b"".join(chunks), characters=stream.characters,
                           request_id=stream.request_id)
